// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_irq_life_test - the lifetime of vstub's interrupt handlers:
 * torn down on every exit path (close, exit, SIGKILL), set up and torn
 * down again and again with interrupts in flight (none lost, none left
 * behind), and the allow_unsafe_interrupts checks at SET_CONTAINER and
 * SET_IOMMU.
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_vfio_irq.h"

/* ---- teardown on every exit path ----------------------------------------- */

/* A child opens edu, sets up @index and reports readiness, then waits. */
static pid_t child_with_irq(const char *edu, unsigned int index, int *ready)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		struct vfio_ctx v;
		int32_t fd = new_efd(), req = new_efd();

		vfio_ctx_init(&v);
		if (vfio_open_device(&v, VSTUB_NODE_DIR, edu,
				     VFIO_TYPE1v2_IOMMU) ||
		    vfio_irq_set_fds(v.device, index, 0, 1, &fd) ||
		    vfio_irq_set_fds(v.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
				     &req))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	*ready = read(p[0], &c, 1) == 1;
	close(p[0]);
	return pid;
}

TEST_F_TIMEOUT(irq, exit_paths, 180)
{
	int32_t fd = self->efd[0];
	int status, ready, i;
	pid_t pid;

	/* Last close. */
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				      0, 1, &fd));
	EXPECT_EQ(1, irq_lines("vstub-"));
	vfio_ctx_close(&self->v);
	EXPECT_EQ(0, irq_lines("vstub-"));

	/* SIGKILL of a process holding MSI, then one holding INTx. */
	for (i = 0; i < 2; i++) {
		unsigned int index = i ? VFIO_PCI_INTX_IRQ_INDEX :
				     VFIO_PCI_MSI_IRQ_INDEX;

		pid = child_with_irq(self->edu, index, &ready);
		ASSERT_GT(pid, 0);
		EXPECT_TRUE(ready);
		EXPECT_EQ(1, irq_lines(i ? "vstub-intx[0]" : "vstub-msi[0]"));
		kill(pid, SIGKILL);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, irq_lines_settle("vstub-", 0, 2000));
	}

	/* Hot-remove while MSI is set up: handlers go with the device. */
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				      0, 1, &fd));
	EXPECT_EQ(1, irq_lines("vstub-msi[0]"));
	ASSERT_EQ(0, pci_write_attr(self->edu, "remove", "1"));
	EXPECT_EQ(0, irq_lines("vstub-"));
	EXPECT_EQ(-ENODEV, vfio_irq_set_fds(self->v.device,
					    VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &fd));
	vfio_ctx_close(&self->v);
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
	for (i = 0; i < 100 && !pci_driver_is(self->edu, "vstub"); i++)
		vstub_msleep(50);
	ASSERT_TRUE(pci_driver_is(self->edu, "vstub"));

	/* INTx, closed, then unload: nothing left (checked in teardown). */
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_INTX_IRQ_INDEX,
				      0, 1, &fd));
	EXPECT_EQ(1, irq_lines("vstub-intx[0]"));
	vfio_ctx_close(&self->v);
	EXPECT_EQ(0, vstub_unload());
	EXPECT_EQ(0, irq_lines("vstub-"));
}

/* ---- churn: set-up and teardown with interrupts in flight ---------------- */

/*
 * Many rounds of enable, raise, disable on MSI and INTx: every other round
 * the interrupt is still on its way when the vectors are torn down, the
 * others wait for it, and it must come.  (A variant with a second thread raising interrupts
 * flat out killed two guests out of about sixteen, inside QEMU 7.2's TCG:
 * both oopses show impossible CPU flags -- VM, NT, DF or reserved bits set
 * in kernel mode -- so interrupts come from this thread only.)
 */
/*
 * Debian's 6.1 on QEMU 7.2's AMD-Vi now and then delivers an MSI raised
 * right after a vector was set up again to a vector that has no handler
 * any more ("No irq handler for vector" in the kernel log, below any
 * VFIO provider: the interrupt never reaches vstub); 6.12 and VT-d never
 * do.  Such a loss, with that log line, is reported but not counted.
 */
static bool lost_below_vfio(const char *mark)
{
	struct utsname u;

	return vstub_env_is("VSTUB_IOMMU", "amd") && !uname(&u) &&
	       !strncmp(u.release, "6.1.", 4) &&
	       dmesg_since(mark, "No irq handler for vector");
}

TEST_F_TIMEOUT(irq, churn, 120)
{
	int32_t fd = self->efd[0];
	int dev = self->v.device, i, bad = 0, missed = 0, lost = 0;
	struct timespec t0, t1;
	char mark[96];
	int64_t got;
	unsigned int index;

	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0;; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (ms_since(&t0, &t1) > 1500)
			break;
		index = i % 4 < 2 ? VFIO_PCI_MSI_IRQ_INDEX :
			VFIO_PCI_INTX_IRQ_INDEX;
		if (vfio_irq_set_fds(dev, index, 0, 1, &fd))
			bad++;
		edu_write(self->v.bar0, EDU_REG_IRQ_RAISE, 1);
		/*
		 * At least one event: an MSI still posted when the previous
		 * round tore its vector down may land on the new one, and
		 * VFIO users must take spurious interrupts anyway.
		 */
		if (i % 2 && (got = eventfd_wait(fd, IRQ_MS)) < 1) {
			TH_LOG("round %d: %s eventfd count %lld (status 0x%x, cmd 0x%x/0x%x)",
			       i, index ? "MSI" : "INTx", (long long)got,
			       edu_read(self->v.bar0, EDU_REG_IRQ_STATUS),
			       cmd_virt(dev), pci_cmd_phys(self->edu));
			if (index == VFIO_PCI_MSI_IRQ_INDEX && lost < 2 &&
			    lost_below_vfio(mark)) {
				TH_LOG("round %d: the kernel had no handler for the vector (6.1 on AMD-Vi): not counted",
				       i);
				lost++;
				kmsg_mark(mark, sizeof(mark));
			} else {
				missed++;
			}
		}
		if (vfio_irq_set_none(dev, index, VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 0))
			bad++;
		edu_write(self->v.bar0, EDU_REG_IRQ_ACK, 1);
		eventfd_wait(fd, 0);
	}
	TH_LOG("%d set-up/teardown rounds", i);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, missed);
	EXPECT_EQ(0, irq_lines("vstub-"));

	/* Closed with an interrupt pending and the line automasked. */
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd));
	edu_write(self->v.bar0, EDU_REG_IRQ_RAISE, 1);
	EXPECT_LE(1, eventfd_wait(fd, IRQ_MS));
	vfio_ctx_close(&self->v);
	EXPECT_EQ(0, irq_lines("vstub-"));
}

/* ---- interrupt isolation at SET_CONTAINER and SET_IOMMU ----------------- */

TEST_F_TIMEOUT(irq, isolation, 120)
{
	struct vfio_ctx w;
	char mark[128];

	vfio_ctx_close(&self->v);
	vfio_ctx_init(&w);
	ASSERT_EQ(0, vstub_load_edu(NULL, true, self->edu));
	ASSERT_EQ(0, vfio_open_container(&w, VSTUB_NODE_DIR));
	ASSERT_EQ(0, vfio_open_group(&w, VSTUB_NODE_DIR, self->edu));
	if (!vstub_no_intremap()) {
		EXPECT_EQ(0, ioctl(w.group, VFIO_GROUP_SET_CONTAINER,
				   &w.container));
		EXPECT_EQ(0, ioctl(w.container, VFIO_SET_IOMMU,
				   VFIO_TYPE1v2_IOMMU));
		vfio_ctx_close(&w);
		return;
	}
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-1, ioctl(w.group, VFIO_GROUP_SET_CONTAINER, &w.container));
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(dmesg_line_since(mark, "interrupt remapping is missing",
				     "allow_unsafe_interrupts=1"));
	ASSERT_EQ(0, sysfs_write(UNSAFE_PARAM, "1"));
	ASSERT_EQ(0, ioctl(w.group, VFIO_GROUP_SET_CONTAINER, &w.container));

	/* The administrator changed their mind before SET_IOMMU. */
	ASSERT_EQ(0, sysfs_write(UNSAFE_PARAM, "0"));
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-1, ioctl(w.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(dmesg_line_since(mark, "interrupt remapping is missing",
				     "allow_unsafe_interrupts=1"));
	ASSERT_EQ(0, sysfs_write(UNSAFE_PARAM, "1"));
	EXPECT_EQ(0, ioctl(w.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	vfio_ctx_close(&w);
}

TEST_HARNESS_MAIN
