// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_qemu_test - QEMU's own vfio-pci as the VFIO client: the guest's
 * copy of the host's qemu-system-x86_64 (selftests/lib/mkinitramfs puts it
 * in the initramfs) runs with "-device vfio-pci,host=EDU" behind a
 * pcie-root-port, against vstub (vfio_compat=1, nodes in /dev/vfio) and, as
 * the reference, against the in-kernel vfio-pci (variant vfio_pci; skipped
 * where vfio-pci cannot attach).  No inner kernel boots: the inner BIOS is a
 * "hlt; jmp" at the reset vector, and this program plays the inner guest
 * over QEMU's qtest protocol (PCI config through 0xcf8/0xcfc, MMIO, guest
 * RAM, the I/O APIC's input lines intercepted) and QMP:
 *
 *   passthrough  edu's ID and liveness registers through the inner BAR;
 *                a DMA RAM -> edu -> RAM between inner guest RAM pages
 *                (IOVA = inner guest address); edu's DMA from its own BAR
 *                (peer-to-peer through QEMU's MAP_DMA of the BAR mmap) reads
 *                its ID register; INTx raised, EOI by the
 *                acknowledging BAR write, raised again (unmask); MSI aimed
 *                at inner guest RAM (QEMU writes the message there);
 *                system_reset (the inner config is reset, QEMU resets the
 *                device), then all of it again
 *   unplug       device_del, the inner "guest" powers the slot off, QEMU
 *                deletes the device and closes it: the group is free
 *   release      the host takes the device back while QEMU holds it
 *                (vstub: vstubctl release; vfio-pci: driver unbind): the
 *                REQ interrupt makes QEMU request the unplug, the inner
 *                "guest" acknowledges, the release completes well within
 *                release_timeout_ms (on vfio-pci only with
 *                VSTUB_QEMU_REF_RELEASE=1: the in-kernel vfio frees type1's
 *                data under QEMU's concurrent UNMAP_DMA, a use-after-free
 *                KASAN reports on the debug kernel)
 *
 * Every case fails if QEMU wrote anything at all to stderr (every failing
 * VFIO call makes QEMU warn there); the output is printed.
 *
 * VSTUB_QEMU_DRYRUN=1 runs the vstub variant on any machine with an
 * emulated edu in place of vfio-pci (to develop the inner-guest driving).
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_qemu_inner.h"

#define BDF_LEN		32

/* ---- fixture ------------------------------------------------------------ */

FIXTURE(qemu)
{
	char edu[BDF_LEN];
	char device[64];
	bool dry;
	long t0;		/* the case's start */
	struct iq q;
};

FIXTURE_VARIANT(qemu)
{
	bool vfio_pci;		/* the in-kernel reference instead of vstub */
};

FIXTURE_VARIANT_ADD(qemu, vstub)
{
	.vfio_pci = false,
};

FIXTURE_VARIANT_ADD(qemu, vfio_pci)
{
	.vfio_pci = true,
};

FIXTURE_SETUP(qemu)
{
	iq_init(&self->q);
	self->t0 = vstub_now_ms();
	self->dry = vstub_env_is("VSTUB_QEMU_DRYRUN", "1");
	debug = vstub_env_is("VSTUB_QEMU_DEBUG", "1");
	if (access(QEMU_BIN, X_OK))
		SKIP(return, "no %s in this guest (VSTUB_GUEST_QEMU=0?)",
		     QEMU_BIN);
	if (self->dry) {
		if (variant->vfio_pci)
			SKIP(return, "dry run: no vfio-pci");
		snprintf(self->device, sizeof(self->device), "edu");
		return;
	}
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu, BDF_LEN));
	snprintf(self->device, sizeof(self->device), "vfio-pci,host=%s",
		 self->edu);
	if (variant->vfio_pci) {
		if (vstub_no_intremap())
			SKIP(return, "vfio-pci refuses groups without interrupt remapping");
		ASSERT_EQ(0, vstub_unload_if_loaded());
		vstub_reload_boot_modules();
		if (!path_exists("/sys/bus/pci/drivers/vfio-pci"))
			SKIP(return, "vfio-pci is not loaded");
		ASSERT_EQ(0, pci_bind_override(self->edu, "vfio-pci"));
	} else {
		ASSERT_EQ(0, vstub_unload_if_loaded());
		ASSERT_EQ(0, vstub_unload_vfio());
		ASSERT_EQ(0, vstub_load_edu("vfio_compat=1", false, self->edu));
	}
}

FIXTURE_TEARDOWN(qemu)
{
	iq_cleanup(&self->q);
	if (self->dry)
		return;
	if (variant->vfio_pci) {
		pci_drop_override(self->edu);
	} else {
		vstub_unload_if_loaded();
		vstub_reload_boot_modules();
	}
}

/* Start QEMU and set the inner machine up. */
#define START(self) do {						\
	long _t0 = vstub_now_ms();						\
	ASSERT_EQ(0, iq_start(&(self)->q, (self)->device)) {		\
		print_stderr(&(self)->q);				\
	}								\
	ASSERT_EQ(0, inner_setup(&(self)->q)) {				\
		print_stderr(&(self)->q);				\
	}								\
	TH_LOG("inner QEMU up in %ld ms", vstub_now_ms() - _t0);		\
} while (0)

static void print_stderr(struct iq *q)
{
	char *err = iq_stderr(q);

	if (err)
		fprintf(stderr, "# QEMU's stderr:\n%s\n", err);
	free(err);
}

/* Does @line contain one of the '|'-separated @pats (NULL: none)? */
static bool has_any(const char *line, const char *pats)
{
	char pat[128];
	size_t n;

	while (pats && *pats) {
		n = strcspn(pats, "|");
		vstub_strlcpy(pat, pats, n + 1 < sizeof(pat) ? n + 1 : sizeof(pat));
		if (strstr(line, pat))
			return true;
		pats += n + (pats[n] == '|');
	}
	return false;
}

/*
 * QEMU's stderr without the lines this guest's topology forces on every
 * VFIO provider: "no available reset mechanism" while the host device has
 * no reset method at all (no FLR/PM reset, on a bus that cannot be reset:
 * no reset_method in sysfs), since vfio-pci then fails the hot-reset info
 * too; and lines with one of the '|'-separated patterns @also (or NULL).  NULL when nothing else is left.
 * Free it.
 */
static char *unexpected_stderr(struct iq *q, const char *bdf, int *tolerated,
			       const char *also)
{
	char *err = iq_stderr(q), *out, *line, *save = NULL, rm[256];
	bool no_reset = true;
	size_t len = 0;

	*tolerated = 0;
	if (!err)
		return NULL;
	if (bdf && !pci_attr_path(rm, sizeof(rm), bdf, "reset_method") &&
	    sysfs_read(rm, rm, sizeof(rm)) > 1)
		no_reset = false;	/* sysfs_read: "flr\n", "bus\n"... */
	out = calloc(1, strlen(err) + 1);
	for (line = strtok_r(err, "\n", &save); line && out;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((no_reset &&
		     strstr(line, "no available reset mechanism")) ||
		    has_any(line, also)) {
			(*tolerated)++;
			continue;
		}
		len += sprintf(out + len, "%s\n", line);
	}
	free(err);
	if (out && !len) {
		free(out);
		out = NULL;
	}
	return out;
}

/*
 * Quit QEMU; it must end cleanly.  @also: a warning to tolerate.  On vstub it must have written nothing
 * to stderr; on the reference (vfio-pci) its stderr is only shown.
 */
#define STOP_CLEAN(self, variant, also) do {				\
	int _st = iq_stop(&(self)->q), _tol;				\
	char *_err = unexpected_stderr(&(self)->q,			\
			(self)->dry ? NULL : (self)->edu, &_tol, also);	\
	EXPECT_TRUE(WIFEXITED(_st) && WEXITSTATUS(_st) == 0) {		\
		TH_LOG("QEMU status %#x", _st);				\
	}								\
	if (_tol)							\
		TH_LOG("%d tolerated warnings", _tol);		\
	if ((variant)->vfio_pci) {					\
		if (_err)						\
			TH_LOG("reference vfio-pci: QEMU's stderr:\n%s", _err); \
	} else {							\
		EXPECT_EQ(NULL, _err) {					\
			TH_LOG("QEMU wrote to stderr:\n%s", _err);	\
		}							\
	}								\
	free(_err);							\
	TH_LOG("case done in %ld ms", vstub_now_ms() - (self)->t0);		\
} while (0)

/* ---- cases -------------------------------------------------------------- */

/*
 * Peer-to-peer: QEMU maps the BAR's mmap into the container at the inner
 * BAR address, so edu's DMA from that IOVA reads its own ID register.
 */
static void check_p2p(struct __test_metadata *_metadata, struct iq *q)
{
	in_writel(q, IN_DST, 0);
	ASSERT_EQ(0, inner_dma(q, IN_BAR + EDU_REG_ID, EDU_DEV_BUF, 4, false));
	ASSERT_EQ(0, inner_dma(q, EDU_DEV_BUF, IN_DST, 4, true));
	EXPECT_EQ(EDU_ID, in_readl(q, IN_DST)) {
		TH_LOG("edu's DMA from its own BAR's IOVA did not read it");
	}
}

/* INTx: raised, EOI'd by the acknowledging BAR write, raised again. */
static void check_intx(struct __test_metadata *_metadata, struct iq *q)
{
	int irq, n;

	ASSERT_EQ(0, cfg_rd(q, 1, 0, PCI_COMMAND, 2) &
		  PCI_COMMAND_INTX_DISABLE);
	EXPECT_NE(0, cfg_rd(q, 1, 0, PCI_INTERRUPT_PIN, 1));
	in_writel(q, IN_BAR + EDU_REG_IRQ_RAISE, 1);
	ASSERT_TRUE(wait_irq_raises(q, 1, vstub_scaled(5000))) {
		TH_LOG("no INTx reached the inner I/O APIC");
	}
	irq = irq_with(q, 1);
	TH_LOG("INTx arrives at inner GSI %d", irq);
	EXPECT_EQ(1, in_readl(q, IN_BAR + EDU_REG_IRQ_STATUS));
	in_writel(q, IN_BAR + EDU_REG_IRQ_ACK, 1);
	EXPECT_TRUE(wait_irq_low(q, irq, vstub_scaled(5000)));
	n = q->irq_raises[irq];
	/* Unmasked again: a second interrupt comes through. */
	in_writel(q, IN_BAR + EDU_REG_IRQ_RAISE, 2);
	EXPECT_TRUE(wait_irq_raises(q, n + 1, vstub_scaled(5000))) {
		TH_LOG("the second INTx did not come: not unmasked?");
	}
	in_writel(q, IN_BAR + EDU_REG_IRQ_ACK, 2);
	EXPECT_TRUE(wait_irq_low(q, irq, vstub_scaled(5000)));
}

/* MSI aimed at inner guest RAM: QEMU's vfio-pci writes the message there. */
static void check_msi(struct __test_metadata *_metadata, struct iq *q)
{
	int msi = cfg_cap(q, 1, 0, PCI_CAP_ID_MSI), raises, i;
	uint32_t ctl;
	long end;

	ASSERT_NE(0, msi);
	ctl = cfg_rd(q, 1, 0, msi + PCI_MSI_FLAGS, 2);
	cfg_wr(q, 1, 0, msi + PCI_MSI_ADDRESS_LO, 4, IN_MSI);
	if (ctl & PCI_MSI_FLAGS_64BIT) {
		cfg_wr(q, 1, 0, msi + PCI_MSI_ADDRESS_HI, 4, 0);
		cfg_wr(q, 1, 0, msi + PCI_MSI_DATA_64, 2, MSI_DATA);
	} else {
		cfg_wr(q, 1, 0, msi + PCI_MSI_DATA_32, 2, MSI_DATA);
	}
	in_writel(q, IN_MSI, 0);
	cfg_wr(q, 1, 0, msi + PCI_MSI_FLAGS, 2, ctl | PCI_MSI_FLAGS_ENABLE);
	raises = total_raises(q);
	for (i = 1; i <= 2; i++) {
		in_writel(q, IN_BAR + EDU_REG_IRQ_RAISE, 4);
		end = vstub_now_ms() + vstub_scaled(5000);
		while (in_readl(q, IN_MSI) != MSI_DATA && vstub_now_ms() < end)
			vstub_msleep(20);
		EXPECT_EQ(MSI_DATA, in_readl(q, IN_MSI)) {
			TH_LOG("MSI %d did not write inner RAM", i);
		}
		in_writel(q, IN_BAR + EDU_REG_IRQ_ACK, 4);
		in_writel(q, IN_MSI, 0);
	}
	qt_pump(q, 100);
	EXPECT_EQ(raises, total_raises(q));	/* no INTx meanwhile */
	cfg_wr(q, 1, 0, msi + PCI_MSI_FLAGS, 2, ctl & ~PCI_MSI_FLAGS_ENABLE);
}

TEST_F_TIMEOUT(qemu, passthrough, 300)
{
	struct iq *q = &self->q;
	long t0;

	START(self);
	EXPECT_EQ(EDU_ID, in_readl(q, IN_BAR + EDU_REG_ID));
	in_writel(q, IN_BAR + EDU_REG_LIVENESS, 0x12345678);
	EXPECT_EQ(~0x12345678U, in_readl(q, IN_BAR + EDU_REG_LIVENESS));
	EXPECT_EQ(0, inner_roundtrip(q, 1));
	check_p2p(_metadata, q);
	check_intx(_metadata, q);
	check_msi(_metadata, q);

	/* system_reset: the inner machine starts over; QEMU resets edu. */
	t0 = vstub_now_ms();
	ASSERT_EQ(0, qmp_cmd(q, "{\"execute\": \"system_reset\"}\n"));
	while (!q->resets && vstub_now_ms() < t0 + vstub_scaled(10000)) {
		char line[4096];

		qmp_line(q, line, sizeof(line), 200);
	}
	EXPECT_EQ(1, q->resets);
	EXPECT_EQ(0, cfg_rd(q, 0, RP_DEV, PCI_SECONDARY_BUS, 1));
	ASSERT_EQ(0, inner_setup(q));
	EXPECT_EQ(EDU_ID, in_readl(q, IN_BAR + EDU_REG_ID));
	EXPECT_EQ(0, inner_roundtrip(q, 2));
	check_intx(_metadata, q);
	check_msi(_metadata, q);
	STOP_CLEAN(self, variant, NULL);
}

TEST_F_TIMEOUT(qemu, unplug, 300)
{
	struct iq *q = &self->q;
	struct vfio_ctx w;

	START(self);
	EXPECT_EQ(0, inner_roundtrip(q, 3));
	ASSERT_EQ(0, qmp_cmd(q, "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"dev0\"}}\n"));
	ASSERT_EQ(0, inner_ack_unplug(q, vstub_scaled(10000)));
	ASSERT_TRUE(qmp_wait_deleted(q, 1, vstub_scaled(10000)));
	EXPECT_EQ(0xffffffffU, cfg_rd(q, 1, 0, PCI_VENDOR_ID, 4));
	/* QEMU let go of the device: its group opens again. */
	if (!self->dry) {
		vfio_ctx_init(&w);
		EXPECT_EQ(0, vfio_open_device(&w, VFIO_NODE_DIR, self->edu,
					      VFIO_TYPE1v2_IOMMU));
		vfio_ctx_close(&w);
	}
	STOP_CLEAN(self, variant, NULL);
}

struct release_arg {
	const char *bdf;
	bool vfio_pci;
	int ret;
	long ms;
};

static void *release_thread(void *p)
{
	struct release_arg *a = p;
	long t0 = vstub_now_ms();
	char cmd[128];

	if (a->vfio_pci) {
		a->ret = pci_unbind(a->bdf);
	} else if (!access("/usr/bin/vstubctl", X_OK)) {
		snprintf(cmd, sizeof(cmd), "vstubctl release %s >&2", a->bdf);
		a->ret = system(cmd);
	} else {
		a->ret = vstub_write("release", a->bdf);
	}
	a->ms = vstub_now_ms() - t0;
	return NULL;
}

TEST_F_TIMEOUT(qemu, release, 300)
{
	struct iq *q = &self->q;
	struct release_arg a = { .bdf = self->edu, .vfio_pci = variant->vfio_pci };
	unsigned long limit = 10000;
	pthread_t th;

	if (self->dry)
		SKIP(return, "dry run: nothing to release");
	/*
	 * The in-kernel vfio's container ioctl passes MAP/UNMAP_DMA to type1
	 * without a lock, while removing the last device detaches the group
	 * and frees type1's data: QEMU's UNMAP_DMA racing the unbind is a
	 * KASAN use-after-free on the debug kernel (vstub serialises both),
	 * and a silent write to freed memory elsewhere that could upset the
	 * tests after this one.  VSTUB_QEMU_REF_RELEASE=1 runs it anyway
	 * (never on the debug kernel).
	 */
	if (variant->vfio_pci && (vstub_env_is("VSTUB_DEBUG", "1") ||
				  !vstub_env_is("VSTUB_QEMU_REF_RELEASE", "1")))
		SKIP(return, "in-kernel vfio: use-after-free when QEMU's UNMAP_DMA races the unbind (KASAN on the debug kernel); VSTUB_QEMU_REF_RELEASE=1 runs it");
	if (!variant->vfio_pci)
		ASSERT_EQ(0, sysfs_read_ulong("/sys/module/vstub/parameters/release_timeout_ms", &limit));
	START(self);
	EXPECT_EQ(EDU_ID, in_readl(q, IN_BAR + EDU_REG_ID));
	ASSERT_EQ(0, pthread_create(&th, NULL, release_thread, &a));
	/* QEMU gets REQ and asks the inner "guest" to let the slot go. */
	EXPECT_EQ(0, inner_ack_unplug(q, vstub_scaled(limit)));
	EXPECT_TRUE(qmp_wait_deleted(q, 1, vstub_scaled(limit)));
	pthread_join(th, NULL);
	EXPECT_EQ(0, a.ret);
	TH_LOG("release took %ld ms (limit %lu ms)", a.ms, limit);
	EXPECT_LT(a.ms, (long)limit);
	EXPECT_TRUE(pci_driver_is(self->edu, ""));
	/*
	 * The host finishes removing the device as soon as QEMU has closed
	 * it, which detaches the group from QEMU's container; QEMU's
	 * UNMAP_DMA calls and UNSET_CONTAINER that come after that fail
	 * (EINVAL) on vfio-pci exactly as on vstub.
	 */
	STOP_CLEAN(self, variant, "error disconnecting group|"
		   "VFIO_UNMAP_DMA failed: Invalid argument|"
		   ") = -22 (Invalid argument)");
}

TEST_HARNESS_MAIN
