// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_irq_test - interrupts, reset and interrupt isolation on
 * vstub's VFIO device fd: GET_IRQ_INFO and SET_IRQS (argument checks,
 * MSI from a real edu DMA completion, loopback triggers on MSI and on
 * e1000e's MSI-X, automasked INTx with MASK/UNMASK), the REQ eventfd when
 * vstub takes a device back, VFIO_DEVICE_RESET and
 * GET_PCI_HOT_RESET_INFO.  Lifetimes and isolation: vstub_vfio_irq_life_test.
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_vfio_irq.h"

/* ---- GET_IRQ_INFO ------------------------------------------------------- */

TEST_F_TIMEOUT(irq, irq_info, 120)
{
	struct vfio_irq_info info;
	struct vfio_ctx w;
	char nic[BDF_LEN];
	unsigned int i;

	/* edu: conventional PCI, INTx pin A, one MSI vector, no MSI-X. */
	ASSERT_EQ(0, get_irq_info(self->v.device, VFIO_PCI_INTX_IRQ_INDEX,
				  &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, info.flags);
	ASSERT_EQ(0, get_irq_info(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				  &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, info.flags);
	ASSERT_EQ(0, get_irq_info(self->v.device, VFIO_PCI_MSIX_IRQ_INDEX,
				  &info));
	EXPECT_EQ(0, info.count);
	/* Not PCI Express: no ERR index (as vfio-pci). */
	EXPECT_EQ(-EINVAL, get_irq_info(self->v.device,
					VFIO_PCI_ERR_IRQ_INDEX, &info));
	ASSERT_EQ(0, get_irq_info(self->v.device, VFIO_PCI_REQ_IRQ_INDEX,
				  &info));
	EXPECT_EQ(1, info.count);
	EXPECT_TRUE(info.flags & VFIO_IRQ_INFO_EVENTFD);

	/* Bad index, short argsz. */
	EXPECT_EQ(-EINVAL, get_irq_info(self->v.device, VFIO_PCI_NUM_IRQS,
					&info));
	EXPECT_EQ(-EINVAL, get_irq_info(self->v.device, 0xffffffff, &info));
	memset(&info, 0, sizeof(info));
	info.argsz = offsetof(struct vfio_irq_info, count);
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	/* e1000e: PCI Express, MSI-X. */
	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, nic, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	ASSERT_EQ(0, vstub_capture_wait(nic));
	vfio_ctx_init(&w);
	ASSERT_EQ(0, vfio_open_device(&w, VSTUB_NODE_DIR, nic,
				      VFIO_TYPE1v2_IOMMU));
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		ASSERT_EQ(0, get_irq_info(w.device, i, &info));
		TH_LOG("e1000e index %u: count %u flags 0x%x", i, info.count,
		       info.flags);
	}
	ASSERT_EQ(0, get_irq_info(w.device, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	EXPECT_GE(info.count, 3);
	/* NORESIZE unless MSI-X can grow (vstub_vfio_compat_test compares). */
	EXPECT_TRUE(info.flags & VFIO_IRQ_INFO_EVENTFD);
	ASSERT_EQ(0, get_irq_info(w.device, VFIO_PCI_ERR_IRQ_INDEX, &info));
	EXPECT_EQ(1, info.count);
	vfio_ctx_close(&w);
}

/* ---- SET_IRQS argument checks ------------------------------------------- */

TEST_F_TIMEOUT(irq, set_irqs_errors, 120)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd[2];
	} s;
	int32_t fds[2] = { self->efd[0], self->efd[1] };
	int dev = self->v.device, nullfd;

#define SET(flags_, index_, start_, count_, argsz_) do {		\
		memset(&s, 0, sizeof(s));				\
		s.set.argsz = (argsz_);					\
		s.set.flags = (flags_);					\
		s.set.index = (index_);					\
		s.set.start = (start_);					\
		s.set.count = (count_);					\
		s.fd[0] = self->efd[0];					\
		s.fd[1] = self->efd[1];					\
	} while (0)
#define EVT	(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)

	/* Two data types, two actions, no data type, unknown flag. */
	SET(EVT | VFIO_IRQ_SET_DATA_BOOL, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
	    sizeof(s));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	SET(EVT | VFIO_IRQ_SET_ACTION_MASK, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
	    sizeof(s));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	SET(VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
	    sizeof(s));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	SET(EVT | (1u << 6), VFIO_PCI_MSI_IRQ_INDEX, 0, 1, sizeof(s));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	/* Index 5, vectors past the end, start + count overflowing. */
	SET(EVT, VFIO_PCI_NUM_IRQS, 0, 1, sizeof(s));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	SET(EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 2, sizeof(s));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	SET(EVT, VFIO_PCI_MSI_IRQ_INDEX, 0xffffffffu, 2, sizeof(s));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	SET(EVT, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, sizeof(s));	/* edu: none */
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	/* argsz short of the header, and of the payload. */
	SET(EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
	    offsetof(struct vfio_irq_set, count));
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	SET(EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, sizeof(s.set) + 3);
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	/* Bad eventfds: a closed fd, a file that is no eventfd, -2. */
	SET(EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, sizeof(s));
	s.fd[0] = 999;
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EBADF, errno);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(nullfd, 0);
	s.fd[0] = nullfd;
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	close(nullfd);
	s.fd[0] = -2;
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EINVAL, errno);
	/* MASK on MSI; loopback on a disabled index. */
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(dev, VFIO_PCI_MSI_IRQ_INDEX,
					     VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(dev, VFIO_PCI_MSI_IRQ_INDEX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0,
					     1));

	/* Nothing changed: no handler, and MSI can still be enabled. */
	EXPECT_EQ(0, irq_lines("vstub-"));
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds));
	EXPECT_EQ(1, irq_lines("vstub-msi[0]"));
	/* A failed re-assignment leaves the vector as it was. */
	SET(EVT, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, sizeof(s));
	s.fd[0] = 999;
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_SET_IRQS, &s));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(1, irq_lines("vstub-msi[0]"));
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, eventfd_wait(self->efd[0], IRQ_MS));
	/* Only one of INTx/MSI/MSI-X at a time; no MASK on MSI. */
	EXPECT_EQ(-EINVAL, vfio_irq_set_fds(dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1,
					    fds));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(dev, VFIO_PCI_MSI_IRQ_INDEX,
					     VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	/* count 0 disables. */
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	EXPECT_EQ(0, irq_lines("vstub-"));
#undef SET
#undef EVT
}

/* ---- MSI from a real DMA completion, and loopback ----------------------- */

TEST_F_TIMEOUT(irq, msi_dma, 120)
{
	int32_t fd = self->efd[0];
	uint8_t *buf;
	uint32_t cmd;
	int i;

	buf = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x5a, PG);
	ASSERT_EQ(0, vfio_map(self->v.container, buf, IOVA_A, PG, VFIO_RW));
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				      0, 1, &fd));
	EXPECT_EQ(1, irq_lines("vstub-msi[0]"));

	/* RAM -> device, interrupt when done. */
	edu_write(self->v.bar0, EDU_REG_DMA_SRC, IOVA_A);
	edu_write(self->v.bar0, EDU_REG_DMA_DST, EDU_DEV_BUF);
	edu_write(self->v.bar0, EDU_REG_DMA_COUNT, 64);
	edu_write(self->v.bar0, EDU_REG_DMA_CMD, EDU_DMA_START | EDU_DMA_IRQ);
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	cmd = edu_read(self->v.bar0, EDU_REG_DMA_CMD);
	EXPECT_EQ(0, cmd & EDU_DMA_START);
	EXPECT_EQ(EDU_IRQ_DMA,
		  edu_read(self->v.bar0, EDU_REG_IRQ_STATUS) & EDU_IRQ_DMA);
	edu_write(self->v.bar0, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);

	/* Raised by hand, a few times. */
	for (i = 0; i < 3; i++) {
		edu_write(self->v.bar0, EDU_REG_IRQ_RAISE, 1);
		EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
		edu_write(self->v.bar0, EDU_REG_IRQ_ACK, 1);
	}
	EXPECT_EQ(0, eventfd_wait(fd, 100));

	/* Loopback: DATA_NONE, DATA_BOOL set and clear. */
	EXPECT_EQ(0, vfio_irq_set_none(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	EXPECT_EQ(0, vfio_irq_set_bools(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
					VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					(uint8_t[]){ 1 }));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	EXPECT_EQ(0, vfio_irq_set_bools(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
					VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					(uint8_t[]){ 0 }));
	EXPECT_EQ(0, eventfd_wait(fd, 100));

	/* A new eventfd in place of the old one. */
	fd = self->efd[1];
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				      0, 1, &fd));
	edu_write(self->v.bar0, EDU_REG_IRQ_RAISE, 1);
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	EXPECT_EQ(0, eventfd_wait(self->efd[0], 100));
	edu_write(self->v.bar0, EDU_REG_IRQ_ACK, 1);

	/* Disabled: no handler left. */
	EXPECT_EQ(0, vfio_irq_set_none(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	EXPECT_EQ(0, irq_lines("vstub-"));
	munmap(buf, PG);
}

/* ---- MSI-X on e1000e: several vectors, de-assign, count change --------- */

TEST_F_TIMEOUT(irq, msix_e1000e, 120)
{
	struct vfio_irq_info info;
	int32_t fds[5];
	struct vfio_ctx w;
	char nic[BDF_LEN];
	int i, dev, irq0;
	bool resize;

	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, nic, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	ASSERT_EQ(0, vstub_capture_wait(nic));
	vfio_ctx_init(&w);
	ASSERT_EQ(0, vfio_open_device(&w, VSTUB_NODE_DIR, nic,
				      VFIO_TYPE1v2_IOMMU));
	dev = w.device;
	for (i = 0; i < 5; i++)
		fds[i] = self->efd[i];

	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 3,
				      fds));
	EXPECT_EQ(3, irq_lines("vstub-msix["));
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 3));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, eventfd_wait(fds[i], IRQ_MS));

	/* De-assign vector 1. */
	fds[1] = -1;
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 1, 1,
				      &fds[1]));
	EXPECT_EQ(2, irq_lines("vstub-msix["));
	EXPECT_EQ(0, vfio_irq_set_bools(dev, VFIO_PCI_MSIX_IRQ_INDEX,
					VFIO_IRQ_SET_ACTION_TRIGGER, 0, 3,
					(uint8_t[]){ 1, 1, 0 }));
	EXPECT_EQ(1, eventfd_wait(self->efd[0], IRQ_MS));
	EXPECT_EQ(0, eventfd_wait(self->efd[1], 100));
	EXPECT_EQ(0, eventfd_wait(self->efd[2], 100));

	/* MSI while MSI-X is on: refused. */
	EXPECT_EQ(-EINVAL, vfio_irq_set_fds(dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
					    fds));

	/*
	 * More vectors: NORESIZE (the kernel cannot add MSI-X vectors while
	 * enabled, as on 6.1): the index is re-enabled with 5, two of them
	 * set.  Without NORESIZE (6.12, as vfio-pci): the two are added and
	 * vector 0 keeps its interrupt and eventfd.
	 */
	ASSERT_EQ(0, get_irq_info(dev, VFIO_PCI_MSIX_IRQ_INDEX, &info));
	resize = !(info.flags & VFIO_IRQ_INFO_NORESIZE);
	TH_LOG("MSI-X %s", resize ? "grows in place" : "is NORESIZE");
	ASSERT_LT(0, irq_of("vstub-msix[0]"));
	irq0 = irq_of("vstub-msix[0]");
	fds[3] = self->efd[3];
	fds[4] = self->efd[4];
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 3, 2,
				      &fds[3]));
	/* Vectors 0 and 2 (1 de-assigned above) stay when it grows. */
	EXPECT_EQ(resize ? 4 : 2, irq_lines("vstub-msix["));
	if (resize)
		EXPECT_EQ(irq0, irq_of("vstub-msix[0]"));
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 5));
	EXPECT_EQ(resize ? 1 : 0,
		  eventfd_wait(self->efd[0], resize ? IRQ_MS : 100));
	EXPECT_EQ(1, eventfd_wait(self->efd[3], IRQ_MS));
	EXPECT_EQ(1, eventfd_wait(self->efd[4], IRQ_MS));
	/* Loopback past the enabled vectors is refused. */
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(dev, VFIO_PCI_MSIX_IRQ_INDEX,
					     VFIO_IRQ_SET_ACTION_TRIGGER, 0,
					     6));

	/* ERR (PCI Express): an eventfd, its loopback, de-assigned. */
	fds[0] = self->efd[5];
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_ERR_IRQ_INDEX, 0, 1,
				      fds));
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_ERR_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, eventfd_wait(self->efd[5], IRQ_MS));
	EXPECT_EQ(0, vfio_irq_set_bools(dev, VFIO_PCI_ERR_IRQ_INDEX,
					VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1,
					(uint8_t[]){ 0 }));
	EXPECT_EQ(0, eventfd_wait(self->efd[5], 100));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(dev, VFIO_PCI_ERR_IRQ_INDEX,
					     VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	fds[0] = -1;
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_ERR_IRQ_INDEX, 0, 1,
				      fds));
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_ERR_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(0, eventfd_wait(self->efd[5], 100));
	/* ERR and REQ do not count as vectors of /proc/interrupts. */
	EXPECT_EQ(resize ? 4 : 2, irq_lines("vstub-"));

	/* Closing the device frees everything. */
	vfio_ctx_close(&w);
	EXPECT_EQ(0, irq_lines("vstub-"));
}

/* ---- INTx on edu: automask, MASK/UNMASK, virtual INTx disable bit ----- */

TEST_F_TIMEOUT(irq, intx, 120)
{
	int32_t fd = self->efd[0];
	int dev = self->v.device;
	uint16_t cmd;

	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd));
	EXPECT_EQ(1, irq_lines("vstub-intx[0]"));
	EXPECT_EQ(0, pci_cmd_phys(self->edu) & PCI_COMMAND_INTX_DISABLE);

	/* Raised: one event, then the line is masked (no storm). */
	edu_write(self->v.bar0, EDU_REG_IRQ_RAISE, 1);
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	EXPECT_EQ(0, eventfd_wait(fd, QUIET_MS));
	EXPECT_TRUE(pci_cmd_phys(self->edu) & PCI_COMMAND_INTX_DISABLE);
	/* Userspace sees its own INTx disable bit, not vstub's. */
	EXPECT_EQ(0, cmd_virt(dev) & PCI_COMMAND_INTX_DISABLE);
	/* ... and cannot unmask behind vstub's back. */
	cmd = cmd_virt(dev) | PCI_COMMAND_INTX_DISABLE;
	EXPECT_EQ(0, cfg_write16(dev, PCI_COMMAND, cmd));
	EXPECT_TRUE(cmd_virt(dev) & PCI_COMMAND_INTX_DISABLE);
	cmd &= ~PCI_COMMAND_INTX_DISABLE;
	EXPECT_EQ(0, cfg_write16(dev, PCI_COMMAND, cmd));
	EXPECT_EQ(0, cmd_virt(dev) & PCI_COMMAND_INTX_DISABLE);
	EXPECT_TRUE(pci_cmd_phys(self->edu) & PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(0, eventfd_wait(fd, QUIET_MS));
	/* Other command bits still reach the device. */
	EXPECT_TRUE(pci_cmd_phys(self->edu) & PCI_COMMAND_MASTER);

	/* Acked, unmasked: quiet; raised again: one more event. */
	edu_write(self->v.bar0, EDU_REG_IRQ_ACK, 1);
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(0, pci_cmd_phys(self->edu) & PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(0, eventfd_wait(fd, QUIET_MS));
	edu_write(self->v.bar0, EDU_REG_IRQ_RAISE, 1);
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	edu_write(self->v.bar0, EDU_REG_IRQ_ACK, 1);
	EXPECT_EQ(0, vfio_irq_set_bools(dev, VFIO_PCI_INTX_IRQ_INDEX,
					VFIO_IRQ_SET_ACTION_UNMASK, 0, 1,
					(uint8_t[]){ 1 }));

	/* Masked by userspace: nothing until unmasked, then it is reported. */
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_MASK, 0, 1));
	edu_write(self->v.bar0, EDU_REG_IRQ_RAISE, 1);
	EXPECT_EQ(0, eventfd_wait(fd, QUIET_MS));
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	EXPECT_EQ(0, eventfd_wait(fd, QUIET_MS));
	edu_write(self->v.bar0, EDU_REG_IRQ_ACK, 1);
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
	EXPECT_EQ(0, eventfd_wait(fd, QUIET_MS));

	/* Loopback, and errors: MASK with count 2, UNMASK as eventfd. */
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
					     VFIO_IRQ_SET_ACTION_MASK, 0, 2));
	EXPECT_EQ(-EINVAL, vfio_irq_set_fds(dev, VFIO_PCI_MSI_IRQ_INDEX, 0, 1,
					    &fd));

	/* Disabled: the handler is gone and the line left masked. */
	EXPECT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	EXPECT_EQ(0, irq_lines("vstub-"));
	EXPECT_TRUE(pci_cmd_phys(self->edu) & PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(-EINVAL, vfio_irq_set_none(dev, VFIO_PCI_INTX_IRQ_INDEX,
					     VFIO_IRQ_SET_ACTION_UNMASK, 0, 1));
}

/* ---- reset --------------------------------------------------------------- */

static int reset_methods(const char *bdf, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/reset_method", PCI_DEVICES_DIR,
		 bdf);
	buf[0] = '\0';
	return sysfs_read(path, buf, len);
}

/* GET_PCI_HOT_RESET_INFO: sane answers whatever the topology. */
static void check_hot_reset_info(struct __test_metadata *_metadata, int dev,
				 const char *bdf)
{
	struct vfio_pci_hot_reset_info *info;
	struct vfio_pci_hot_reset_info hdr = { .argsz = sizeof(hdr) };
	unsigned int i, seg, bus, slot, fn;
	size_t sz;
	bool self_found = false;

	ASSERT_EQ(4, sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &slot, &fn));
	hdr.argsz = offsetof(struct vfio_pci_hot_reset_info, count);
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hdr));
	EXPECT_EQ(EINVAL, errno);
	hdr.argsz = sizeof(hdr);
	if (!ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hdr)) {
		TH_LOG("hot reset info: count %u with no room", hdr.count);
		EXPECT_EQ(0, hdr.count);	/* impossible: itself */
		return;
	}
	if (errno == ENODEV) {
		/* A root bus function: neither slot nor bus reset. */
		TH_LOG("%s: no slot or bus reset (ENODEV)", bdf);
		EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_PCI_HOT_RESET, &hdr));
		return;
	}
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_GE(hdr.count, 1);
	sz = sizeof(*info) + hdr.count * sizeof(info->devices[0]);
	info = calloc(1, sz);
	ASSERT_NE(NULL, info);
	info->argsz = sz;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info));
	for (i = 0; i < info->count; i++)
		if (info->devices[i].segment == seg &&
		    info->devices[i].bus == bus &&
		    info->devices[i].devfn == ((slot << 3) | fn))
			self_found = true;
	EXPECT_TRUE(self_found);
	free(info);
}

TEST_F_TIMEOUT(irq, reset, 120)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	char methods[128], nvme[BDF_LEN];
	struct vfio_ctx w;
	uint32_t cap0, cc;
	int32_t fd = self->efd[0];
	int ret;

	/* edu: QEMU gives it no reset method; vstub must not offer one. */
	reset_methods(self->edu, methods, sizeof(methods));
	TH_LOG("edu reset methods: '%s'", methods);
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_INFO, &di));
	if (!methods[0]) {
		EXPECT_EQ(0, di.flags & VFIO_DEVICE_FLAGS_RESET);
		EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_RESET));
		EXPECT_EQ(EINVAL, errno);
	} else {
		EXPECT_TRUE(di.flags & VFIO_DEVICE_FLAGS_RESET);
	}
	check_hot_reset_info(_metadata, self->v.device, self->edu);

	/* NVMe (FLR): a register the reset clears, and the BAR refaults. */
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, nvme, BDF_LEN))
		SKIP(return, "no NVMe in this guest");
	reset_methods(nvme, methods, sizeof(methods));
	TH_LOG("nvme reset methods: '%s'", methods);
	if (!strstr(methods, "flr"))
		SKIP(return, "NVMe without FLR");
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	vfio_ctx_init(&w);
	ret = vfio_open_device(&w, VSTUB_NODE_DIR, nvme, VFIO_TYPE1v2_IOMMU);
	if (ret == -EINVAL && w.device >= 0 && vstub_no_intremap()) {
		/* MSIs not isolated: BAR0's MSI-X table page is not mappable. */
		w.bar0 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			      w.device, 0);
		ASSERT_NE(MAP_FAILED, w.bar0);
		w.bar0_size = PG;
		ret = 0;
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, vfio_enable_dma(w.device));
	memset(&di, 0, sizeof(di));
	di.argsz = sizeof(di);
	ASSERT_EQ(0, ioctl(w.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_TRUE(di.flags & VFIO_DEVICE_FLAGS_RESET);
	check_hot_reset_info(_metadata, w.device, nvme);

	/* MSI-X stays usable across the reset (state restored after it). */
	ASSERT_EQ(0, vfio_irq_set_fds(w.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
				      &fd));

	/* CC (0x14): queue entry sizes, controller left disabled. */
	cap0 = edu_read(w.bar0, 0x0);
	edu_write(w.bar0, 0x14, 0x00460000);
	cc = edu_read(w.bar0, 0x14);
	EXPECT_EQ(0x00460000, cc);
	ASSERT_EQ(0, ioctl(w.device, VFIO_DEVICE_RESET));
	/* The mapping was zapped: these accesses fault it back in. */
	EXPECT_EQ(0, edu_read(w.bar0, 0x14));
	EXPECT_EQ(cap0, edu_read(w.bar0, 0x0));
	EXPECT_TRUE(cmd_virt(w.device) & PCI_COMMAND_MEMORY);
	EXPECT_TRUE(pci_cmd_phys(nvme) & PCI_COMMAND_MASTER);
	edu_write(w.bar0, 0x14, 0x00460000);
	EXPECT_EQ(0x00460000, edu_read(w.bar0, 0x14));
	EXPECT_EQ(1, irq_lines("vstub-msix[0]"));
	EXPECT_EQ(0, vfio_irq_set_none(w.device, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	vfio_ctx_close(&w);
	EXPECT_EQ(0, irq_lines("vstub-"));
}

/* ---- REQ: vstub asks for the device back -------------------------------- */

struct releaser {
	char bdf[BDF_LEN];
	int ret;
	struct timespec done;
};

static void *release_thread(void *arg)
{
	struct releaser *r = arg;

	r->ret = vstub_write("release", r->bdf);
	clock_gettime(CLOCK_MONOTONIC, &r->done);
	return NULL;
}

TEST_F_TIMEOUT(irq, req, 120)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct releaser r = { 0 };
	struct timespec t0, t1;
	int32_t fd = self->efd[0], msi = self->efd[1];
	int status;
	pthread_t th;
	pid_t pid;

	/* 0. Loopback on REQ. */
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_REQ_IRQ_INDEX,
				      0, 1, &fd));
	EXPECT_EQ(0, vfio_irq_set_none(self->v.device, VFIO_PCI_REQ_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));

	/* 1. The user closes the device when asked: release goes on. */
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				      0, 1, &msi));
	vstub_strlcpy(r.bdf, self->edu, sizeof(r.bdf));
	ASSERT_EQ(0, pthread_create(&th, NULL, release_thread, &r));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	EXPECT_EQ(1, irq_lines("vstub-msi[0]"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	vfio_ctx_close(&self->v);
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_EQ(0, r.ret);
	EXPECT_LT(ms_since(&t0, &r.done), 3000);
	EXPECT_TRUE(pci_driver_is(self->edu, ""));
	EXPECT_EQ(0, irq_lines("vstub-"));
	EXPECT_TRUE(dmesg_since(self->mark, "released by userspace on request"));

	/* 2. The user ignores it: revoked after release_timeout_ms. */
	ASSERT_EQ(0, vstub_load_edu("release_timeout_ms=1500", false, self->edu));
	ASSERT_EQ(0, kmsg_mark(self->mark, sizeof(self->mark)));
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_REQ_IRQ_INDEX,
				      0, 1, &fd));
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_MSI_IRQ_INDEX,
				      0, 1, &msi));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, pthread_create(&th, NULL, release_thread, &r));
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	ASSERT_EQ(0, pthread_join(th, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_EQ(0, r.ret);
	EXPECT_GE(ms_since(&t0, &t1), 1400);
	EXPECT_LT(ms_since(&t0, &t1), 10000);
	EXPECT_TRUE(dmesg_since(self->mark, "not released by userspace within 1500 ms"));
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(0, irq_lines("vstub-"));
	vfio_ctx_close(&self->v);

	/* 3. The releasing task is killed while it waits: revoked at once. */
	ASSERT_EQ(0, vstub_load_edu("release_timeout_ms=60000", false, self->edu));
	ASSERT_EQ(0, kmsg_mark(self->mark, sizeof(self->mark)));
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device, VFIO_PCI_REQ_IRQ_INDEX,
				      0, 1, &fd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid)
		_exit(vstub_write("release", self->edu) ? 1 : 0);
	EXPECT_EQ(1, eventfd_wait(fd, IRQ_MS));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_LT(ms_since(&t0, &t1), 5000);
	EXPECT_TRUE(dmesg_since(self->mark, "interrupted: revoking access"));
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(ENODEV, errno);
	vfio_ctx_close(&self->v);

	/* 4. No REQ eventfd: nobody to ask, released at once. */
	if (!pci_driver_is(self->edu, "vstub"))
		ASSERT_EQ(0, vstub_capture_wait(self->edu));
	ASSERT_EQ(0, kmsg_mark(self->mark, sizeof(self->mark)));
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, vstub_write("release", self->edu));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	EXPECT_LT(ms_since(&t0, &t1), 1400 * vstub_time_scale());
	EXPECT_FALSE(dmesg_since(self->mark, "asking userspace to release"));
}

TEST_HARNESS_MAIN
