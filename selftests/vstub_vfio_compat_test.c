// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_compat_test - vstub answers as vfio-pci does, checked side by
 * side: the same device of the same guest is opened once through the
 * in-kernel vfio-pci (the reference) and once through vstub, the same
 * requests are made through both, and the answers must be equal:
 *
 *   irq_info   VFIO_DEVICE_GET_IRQ_INFO of every index (errno, count,
 *              flags) on edu (conventional PCI, MSI), e1000e (PCI Express,
 *              MSI-X), pci-testdev and qemu-xhci
 *   config_writes  config space writes register by register: for a list
 *              of offsets (header, PM with D3hot, MSI, MSI-X, PCI Express,
 *              AER, other capabilities, bytes in no capability) a pattern
 *              is written through the config region, read back and the
 *              original written back; the read-backs must be equal
 *   p2p_bar    MAP_DMA of e1000e's BAR0 mmap into edu's container, edu
 *              DMA reading an e1000e register through the IOMMU (the value
 *              the CPU reads, as on vfio-pci), EFAULT past the mmap; decode
 *              off and the last close revoke the mapping (the DMA faults)
 *              while the IOVA range stays taken until unmapped
 *   d3hot_bar  a function userspace put in D3hot through PMCSR gives EIO
 *              on BAR read/write, and works again back in D0
 *
 * Skipped where vfio-pci cannot attach (no interrupt remapping).
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <stddef.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define E1000E_VEN	0x8086
#define E1000E_DEV	0x10d3
#define MAX_DEVS	4
#define PG_SIZE		4096UL

/* ---- providers ---------------------------------------------------------- */

/* Capture @bdf by address into vstub (loaded) and wait for it. */
static int capture(const char *bdf)
{
	if (pci_driver_is(bdf, "vstub"))
		return 0;
	if (!pci_driver_is(bdf, ""))
		pci_unbind(bdf);
	return vstub_capture_wait(bdf);
}

/*
 * Open @bdf through vfio-pci (@vfio_pci) or vstub into @w: container,
 * group, Type1v2, device fd (no BAR mmap).
 */
static int open_on(bool vfio_pci, const char *bdf, struct vfio_ctx *w)
{
	const char *dir = vfio_pci ? VFIO_NODE_DIR : VSTUB_NODE_DIR;
	int ret;

	vfio_ctx_init(w);
	ret = vfio_pci ? pci_bind_override(bdf, "vfio-pci") : capture(bdf);
	if (ret)
		return ret;
	ret = vfio_open_container(w, dir);
	if (!ret)
		ret = vfio_open_group(w, dir, bdf);
	if (!ret && ioctl(w->group, VFIO_GROUP_SET_CONTAINER, &w->container))
		ret = -errno;
	if (!ret && ioctl(w->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		ret = -errno;
	if (!ret) {
		w->device = ioctl(w->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (w->device < 0)
			ret = -errno;
	}
	if (ret)
		vfio_ctx_close(w);
	return ret;
}

static void close_on(bool vfio_pci, const char *bdf, struct vfio_ctx *w)
{
	vfio_ctx_close(w);
	if (vfio_pci)
		pci_drop_override(bdf);
}

FIXTURE(compat)
{
	char bdf[MAX_DEVS][BDF_LEN];
	const char *name[MAX_DEVS];
	int n;
};

FIXTURE_SETUP(compat)
{
	static const struct {
		unsigned int vendor, device;
		const char *name;
	} devs[] = {
		{ EDU_VENDOR, EDU_DEVICE, "edu" },
		{ E1000E_VEN, E1000E_DEV, "e1000e" },
		{ TESTDEV_VENDOR, TESTDEV_DEVICE, "pci-testdev" },
		{ XHCI_VENDOR, XHCI_DEVICE, "qemu-xhci" },
	};
	char params[64];
	unsigned int i;

	self->n = 0;
	if (vstub_no_intremap())
		SKIP(return, "vfio-pci refuses groups without interrupt remapping");
	if (!path_exists("/sys/bus/pci/drivers/vfio-pci"))
		SKIP(return, "vfio-pci is not loaded");
	for (i = 0; i < ARRAY_SIZE(devs) && self->n < MAX_DEVS; i++) {
		if (pci_find(devs[i].vendor, devs[i].device, 0,
			     self->bdf[self->n], BDF_LEN))
			continue;
		self->name[self->n++] = devs[i].name;
	}
	ASSERT_GE(self->n, 1);
	snprintf(params, sizeof(params), "%s", "");
	ASSERT_EQ(0, vstub_unload_if_loaded());
	ASSERT_EQ(0, vstub_load(params));
}

FIXTURE_TEARDOWN(compat)
{
	int i;

	vstub_unload_if_loaded();
	for (i = 0; i < self->n; i++) {
		pci_drop_override(self->bdf[i]);
		if (strcmp(self->name[i], "edu"))
			pci_probe(self->bdf[i]);	/* back to its driver */
	}
}

/* ---- GET_IRQ_INFO --------------------------------------------------------- */

struct irq_answer {
	int ret;
	uint32_t count;
	uint32_t flags;
};

static int irq_answers(bool vfio_pci, const char *bdf,
		       struct irq_answer ans[VFIO_PCI_NUM_IRQS])
{
	struct vfio_irq_info info;
	struct vfio_ctx w;
	unsigned int i;
	int ret;

	ret = open_on(vfio_pci, bdf, &w);
	if (ret)
		return ret;
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		info.index = i;
		ans[i].ret = ioctl(w.device, VFIO_DEVICE_GET_IRQ_INFO, &info) ?
			     -errno : 0;
		ans[i].count = ans[i].ret ? 0 : info.count;
		ans[i].flags = ans[i].ret ? 0 : info.flags;
	}
	close_on(vfio_pci, bdf, &w);
	return 0;
}

TEST_F_TIMEOUT(compat, irq_info, 200)
{
	struct irq_answer ref[VFIO_PCI_NUM_IRQS], got[VFIO_PCI_NUM_IRQS];
	int d, i;

	for (d = 0; d < self->n; d++) {
		ASSERT_EQ(0, irq_answers(true, self->bdf[d], ref));
		ASSERT_EQ(0, irq_answers(false, self->bdf[d], got));
		for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
			TH_LOG("%s index %d: vfio-pci %d/%u/0x%x vstub %d/%u/0x%x",
			       self->name[d], i, ref[i].ret, ref[i].count,
			       ref[i].flags, got[i].ret, got[i].count,
			       got[i].flags);
			EXPECT_EQ(ref[i].ret, got[i].ret);
			EXPECT_EQ(ref[i].count, got[i].count);
			EXPECT_EQ(ref[i].flags, got[i].flags);
		}
	}
}

/* ---- config space writes ------------------------------------------------ */

struct cfg_case {
	uint16_t off;
	uint8_t len;		/* 1, 2 or 4 */
	uint32_t pattern;
	const char *what;
};

#define MAX_CASES	160

static void add_case(struct cfg_case *c, int *n, unsigned int off,
		     unsigned int len, uint32_t pattern, const char *what)
{
	if (*n >= MAX_CASES)
		return;
	c[*n].off = off;
	c[*n].len = len;
	c[*n].pattern = pattern;
	c[*n].what = what;
	(*n)++;
}

static uint32_t cfg_get(int dev, unsigned int off, unsigned int len)
{
	uint32_t v = 0;

	if (vfio_cfg_read(dev, off, &v, len))
		return 0xdeadbeef;
	return v;
}

/*
 * The registers to try on the device open as @dev: the header, every
 * capability vfio-pci has rules for (and a byte in no capability), and
 * the extended capabilities.  Power states and FLR are tried too.
 */
static int cfg_cases(int dev, unsigned int cfg_size, struct cfg_case *c)
{
	uint8_t used[4096] = { 0 };
	unsigned int pos, loops, i, len;
	int n = 0;

	add_case(c, &n, PCI_COMMAND, 2, 0x0006, "command 0x0006");
	add_case(c, &n, PCI_COMMAND, 2, 0x0106, "command SERR");
	add_case(c, &n, PCI_COMMAND, 2, 0x0546, "command parity/SERR/INTx");
	add_case(c, &n, PCI_COMMAND, 2, 0x0000, "command 0");
	add_case(c, &n, PCI_COMMAND, 4, 0xffff0006, "command+status");
	add_case(c, &n, PCI_STATUS, 2, 0xffff, "status W1C");
	add_case(c, &n, PCI_CACHE_LINE_SIZE, 1, 0x10, "cache line");
	add_case(c, &n, PCI_LATENCY_TIMER, 1, 0x40, "latency");
	add_case(c, &n, PCI_BIST, 1, 0x40, "BIST");
	add_case(c, &n, PCI_INTERRUPT_LINE, 1, 0x0b, "interrupt line");
	add_case(c, &n, PCI_INTERRUPT_PIN, 1, 0x00, "interrupt pin");
	add_case(c, &n, PCI_VENDOR_ID, 4, 0, "IDs");
	add_case(c, &n, PCI_CLASS_REVISION, 4, 0, "class");
	add_case(c, &n, PCI_SUBSYSTEM_VENDOR_ID, 4, 0, "subsystem");
	add_case(c, &n, PCI_CAPABILITY_LIST, 1, 0, "cap pointer");

	pos = cfg_get(dev, PCI_CAPABILITY_LIST, 1) & ~3;
	for (loops = 0; pos >= 0x40 && pos < 0x100 && loops < 48; loops++) {
		unsigned int id = cfg_get(dev, pos, 1);
		unsigned int next = cfg_get(dev, pos + 1, 1) & ~3;
		uint16_t flags = cfg_get(dev, pos + 2, 2);

		len = 8;
		if (id == PCI_CAP_ID_MSIX)
			len = 12;
		else if (id == PCI_CAP_ID_MSI)
			len = 10 + (flags & PCI_MSI_FLAGS_64BIT ? 4 : 0) +
			      (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
		else if (id == PCI_CAP_ID_EXP)
			len = (flags & PCI_EXP_FLAGS_VERS) > 1 ? 0x3c : 0x14;
		for (i = 0; i < len && pos + i < 0x100; i++)
			used[pos + i] = 1;
		add_case(c, &n, pos, 2, 0, "cap id/next");
		switch (id) {
		case PCI_CAP_ID_PM:
			add_case(c, &n, pos + PCI_PM_CTRL, 2, 0x0100, "PM PME_En");
			add_case(c, &n, pos + PCI_PM_CTRL, 2, 0x8000, "PM PME_Status");
			add_case(c, &n, pos + PCI_PM_CTRL, 2, 0x1e08, "PM data select");
			add_case(c, &n, pos + PCI_PM_CTRL, 2, 0x0003, "PM D3hot");
			add_case(c, &n, pos + PCI_PM_CTRL, 4, 0xffff0000, "PM bridge/data");
			break;
		case PCI_CAP_ID_MSI:
			add_case(c, &n, pos + PCI_MSI_FLAGS, 2, 0x0001, "MSI enable");
			add_case(c, &n, pos + PCI_MSI_FLAGS, 2, 0x0070, "MSI qsize");
			add_case(c, &n, pos + PCI_MSI_FLAGS, 2, 0xff00, "MSI flags hi");
			add_case(c, &n, pos + PCI_MSI_ADDRESS_LO, 4, 0xfee0f00c, "MSI addr");
			if (flags & PCI_MSI_FLAGS_64BIT) {
				add_case(c, &n, pos + PCI_MSI_ADDRESS_HI, 4, 1, "MSI addr hi");
				add_case(c, &n, pos + PCI_MSI_DATA_64, 2, 0x4321, "MSI data");
				if (flags & PCI_MSI_FLAGS_MASKBIT)
					add_case(c, &n, pos + PCI_MSI_MASK_64, 4, 1, "MSI mask");
			} else {
				add_case(c, &n, pos + PCI_MSI_DATA_32, 2, 0x4321, "MSI data");
				if (flags & PCI_MSI_FLAGS_MASKBIT)
					add_case(c, &n, pos + PCI_MSI_MASK_32, 4, 1, "MSI mask");
			}
			break;
		case PCI_CAP_ID_MSIX:
			add_case(c, &n, pos + PCI_MSIX_FLAGS, 2, 0xc000, "MSI-X enable/maskall");
			add_case(c, &n, pos + PCI_MSIX_TABLE, 4, 0xffffffff, "MSI-X table");
			add_case(c, &n, pos + PCI_MSIX_PBA, 4, 0xffffffff, "MSI-X PBA");
			break;
		case PCI_CAP_ID_EXP:
			add_case(c, &n, pos + PCI_EXP_DEVCTL, 2, 0x000f, "devctl reporting");
			add_case(c, &n, pos + PCI_EXP_DEVCTL, 2, 0x0010, "devctl relaxed");
			add_case(c, &n, pos + PCI_EXP_DEVCTL, 2, 0x00e0, "devctl MPS");
			add_case(c, &n, pos + PCI_EXP_DEVCTL, 2, 0x7000, "devctl MRRS");
			add_case(c, &n, pos + PCI_EXP_DEVCTL, 2, 0x0b00, "devctl tag/aux/nosnoop");
			add_case(c, &n, pos + PCI_EXP_DEVCTL, 2, 0x0200, "devctl phantom");
			add_case(c, &n, pos + PCI_EXP_DEVSTA, 2, 0x000f, "devsta");
			add_case(c, &n, pos + PCI_EXP_LNKCTL, 2, 0x0003, "lnkctl ASPM");
			add_case(c, &n, pos + PCI_EXP_LNKCTL, 2, 0x0040, "lnkctl CCC");
			add_case(c, &n, pos + PCI_EXP_LNKCTL, 2, 0x0c00, "lnkctl BW irq");
			if (len < 0x3c || pos + len > 0x100)
				break;	/* version 1: no device control 2 */
			add_case(c, &n, pos + PCI_EXP_DEVCTL2, 2, 0x0010, "devctl2 timeout");
			add_case(c, &n, pos + PCI_EXP_DEVCTL2, 2, 0x0020, "devctl2 ARI");
			add_case(c, &n, pos + PCI_EXP_DEVCTL2, 2, 0x0400, "devctl2 LTR");
			add_case(c, &n, pos + PCI_EXP_LNKCTL2, 2, 0x0001, "lnkctl2");
			break;
		default:
			add_case(c, &n, pos + 4, 4, 0x5a5a5a5a, "other cap");
			break;
		}
		pos = next;
	}
	/* A few dwords in no capability. */
	for (i = 0x40; i < 0x100; i += 4)
		if (!used[i] && !used[i + 3])
			add_case(c, &n, i, 4, 0xa5a5a5a5, "no capability");

	if (cfg_size <= 0x100)
		return n;
	pos = 0x100;
	for (loops = 0; pos >= 0x100 && pos < cfg_size && loops < 64; loops++) {
		uint32_t hdr = cfg_get(dev, pos, 4);

		if (!hdr || hdr == 0xffffffff)
			break;
		add_case(c, &n, pos, 4, 0xffffffff, "ecap header");
		switch (hdr & 0xffff) {
		case PCI_EXT_CAP_ID_ERR:
			add_case(c, &n, pos + PCI_ERR_UNCOR_STATUS, 4, 0xffffffff, "AER unc status");
			add_case(c, &n, pos + PCI_ERR_UNCOR_MASK, 4, 0xffffffff, "AER unc mask");
			add_case(c, &n, pos + PCI_ERR_UNCOR_SEVER, 4, 0xffffffff, "AER unc sever");
			add_case(c, &n, pos + PCI_ERR_COR_STATUS, 4, 0xffffffff, "AER cor status");
			add_case(c, &n, pos + PCI_ERR_COR_MASK, 4, 0xffffffff, "AER cor mask");
			add_case(c, &n, pos + PCI_ERR_CAP, 4, 0xffffffff, "AER cap/ctl");
			add_case(c, &n, pos + PCI_ERR_HEADER_LOG, 4, 0xffffffff, "AER log");
			break;
		case PCI_EXT_CAP_ID_SRIOV:
			break;	/* never write VF Enable, even by mistake */
		default:
			add_case(c, &n, pos + 4, 4, 0xffffffff, "ecap body");
			break;
		}
		pos = (hdr >> 20) & ~3;
	}
	add_case(c, &n, cfg_size - 4, 4, 0xa5a5a5a5, "last dword");
	return n;
}

struct cfg_answer {
	uint32_t before;
	uint32_t after;
	int ret;
};

/* Write each case's pattern, read it back, write the original back. */
static int cfg_answers(bool vfio_pci, const char *bdf, struct cfg_case *c,
		       int *n, struct cfg_answer *a)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_ctx w;
	int i, ret;

	ret = open_on(vfio_pci, bdf, &w);
	if (ret)
		return ret;
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(w.device, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		close_on(vfio_pci, bdf, &w);
		return -errno;
	}
	if (*n < 0)
		*n = cfg_cases(w.device, ri.size, c);
	for (i = 0; i < *n; i++) {
		uint32_t v = c[i].pattern;

		a[i].before = cfg_get(w.device, c[i].off, c[i].len);
		a[i].ret = vfio_cfg_write(w.device, c[i].off, &v, c[i].len);
		if (c[i].len == 2 && c[i].pattern == 0x0003)
			vstub_msleep(20);	/* D3hot */
		a[i].after = cfg_get(w.device, c[i].off, c[i].len);
		v = a[i].before;
		vfio_cfg_write(w.device, c[i].off, &v, c[i].len);
		if (c[i].len == 2 && c[i].pattern == 0x0003)
			vstub_msleep(20);
	}
	close_on(vfio_pci, bdf, &w);
	return 0;
}

TEST_F_TIMEOUT(compat, config_writes, 300)
{
	static struct cfg_case cases[MAX_CASES];
	static struct cfg_answer ref[MAX_CASES], got[MAX_CASES];
	int d, i, n, bad;

	for (d = 0; d < self->n; d++) {
		n = -1;
		ASSERT_EQ(0, cfg_answers(true, self->bdf[d], cases, &n, ref));
		ASSERT_EQ(0, cfg_answers(false, self->bdf[d], cases, &n, got));
		bad = 0;
		for (i = 0; i < n; i++) {
			bool same = ref[i].after == got[i].after &&
				    ref[i].ret == got[i].ret;

			if (!same)
				bad++;
			TH_LOG("%s %s 0x%03x/%u <- 0x%x: vfio-pci 0x%x->0x%x (%d), vstub 0x%x->0x%x (%d)%s",
			       self->name[d], cases[i].what, cases[i].off,
			       cases[i].len, cases[i].pattern, ref[i].before,
			       ref[i].after, ref[i].ret, got[i].before,
			       got[i].after, got[i].ret, same ? "" : "  DIFFERENT");
		}
		EXPECT_EQ(0, bad);
	}
}

/* ---- D3hot: no BAR access, as with memory decode off --------------------- */

struct d3_answer {
	int d0_read, d3_read, d3_write, back_read;
};

static int region_read32(int dev, unsigned int index, uint64_t off,
			 uint32_t *val, bool write)
{
	uint64_t base = (uint64_t)index << 40;
	ssize_t n = write ? pwrite(dev, val, 4, base + off) :
			    pread(dev, val, 4, base + off);

	return n < 0 ? -errno : n == 4 ? 0 : -EIO;
}

static int d3_answers(bool vfio_pci, const char *bdf, struct d3_answer *a)
{
	unsigned int pos, loops;
	struct vfio_ctx w;
	uint16_t pmcsr;
	uint32_t v = 0;
	int ret;

	ret = open_on(vfio_pci, bdf, &w);
	if (ret)
		return ret;
	pos = cfg_get(w.device, PCI_CAPABILITY_LIST, 1) & ~3;
	for (loops = 0; pos >= 0x40 && loops < 48; loops++) {
		if (cfg_get(w.device, pos, 1) == PCI_CAP_ID_PM)
			break;
		pos = cfg_get(w.device, pos + 1, 1) & ~3;
	}
	if (pos < 0x40 || loops == 48) {
		close_on(vfio_pci, bdf, &w);
		return -ENOENT;
	}
	ret = vfio_enable_dma(w.device);
	a->d0_read = region_read32(w.device, 0, 0, &v, false);
	pmcsr = 3;
	if (!ret)
		ret = vfio_cfg_write(w.device, pos + PCI_PM_CTRL, &pmcsr, 2);
	vstub_msleep(20);
	a->d3_read = region_read32(w.device, 0, 0, &v, false);
	a->d3_write = region_read32(w.device, 0, 0x8, &v, true);
	pmcsr = 0;
	if (!ret)
		ret = vfio_cfg_write(w.device, pos + PCI_PM_CTRL, &pmcsr, 2);
	vstub_msleep(20);
	a->back_read = region_read32(w.device, 0, 0, &v, false);
	close_on(vfio_pci, bdf, &w);
	return ret;
}

TEST_F_TIMEOUT(compat, d3hot_bar, 120)
{
	struct d3_answer ref, got;
	int d;

	for (d = 0; d < self->n && strcmp(self->name[d], "e1000e"); d++)
		;
	if (d == self->n)
		SKIP(return, "no e1000e in this guest");
	ASSERT_EQ(0, d3_answers(true, self->bdf[d], &ref));
	ASSERT_EQ(0, d3_answers(false, self->bdf[d], &got));
	TH_LOG("BAR0 read D0/D3hot, write D3hot, read D0: vfio-pci %d/%d/%d/%d vstub %d/%d/%d/%d",
	       ref.d0_read, ref.d3_read, ref.d3_write, ref.back_read,
	       got.d0_read, got.d3_read, got.d3_write, got.back_read);
	EXPECT_EQ(0, got.d0_read);
	EXPECT_EQ(-EIO, got.d3_read);
	EXPECT_EQ(-EIO, got.d3_write);
	EXPECT_EQ(0, got.back_read);
	EXPECT_EQ(ref.d0_read, got.d0_read);
	EXPECT_EQ(ref.d3_read, got.d3_read);
	EXPECT_EQ(ref.d3_write, got.d3_write);
	EXPECT_EQ(ref.back_read, got.back_read);
}

/* ---- peer-to-peer: MAP_DMA of a BAR mmap ---------------------------------- */

#define IOVA_BAR	0x8000000ULL	/* below edu's 28-bit DMA mask */
#define P2P_SENTINEL	0x5e5e5e5e
#define P2P_SLOT	(EDU_DEV_BUF + 0x100)
#define E1000E_CTRL	0x0

#define IOVA_RAM	0x100000ULL

/*
 * edu DMAs 4 bytes from IOVA_BAR + @reg (the peer's BAR, mapped there)
 * into its buffer (which first gets the sentinel from RAM), then the
 * buffer to RAM: what it read.  (edu's buffer is not visible in its BAR,
 * and edu cannot read its own BAR by DMA: QEMU's re-entrancy guard.)
 */
static uint32_t p2p_dma(struct vfio_ctx *edu, uint32_t *ram, unsigned int reg)
{
	ram[0] = P2P_SENTINEL;
	ram[1] = 0;
	if (edu_dma(edu->bar0, IOVA_RAM, P2P_SLOT, 4, 0, 3000) ||
	    edu_dma(edu->bar0, IOVA_BAR + reg, P2P_SLOT, 4, 0, 3000) ||
	    edu_dma(edu->bar0, P2P_SLOT, IOVA_RAM + 4, 4, 1, 3000))
		return 0xdead;
	return __atomic_load_n(&ram[1], __ATOMIC_SEQ_CST);
}

/* Open @bdf's group into @first's container and its device, BAR0 mmapped. */
static int open_peer(bool vfio_pci, const char *bdf, struct vfio_ctx *first,
		     struct vfio_ctx *w)
{
	const char *dir = vfio_pci ? VFIO_NODE_DIR : VSTUB_NODE_DIR;
	int ret;

	vfio_ctx_init(w);
	ret = vfio_pci ? pci_bind_override(bdf, "vfio-pci") : capture(bdf);
	if (!ret)
		ret = vfio_open_group(w, dir, bdf);
	if (!ret && ioctl(w->group, VFIO_GROUP_SET_CONTAINER,
			  &first->container))
		ret = -errno;
	if (!ret) {
		w->device = ioctl(w->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (w->device < 0)
			ret = -errno;
	}
	if (!ret)
		ret = vfio_mmap_bar(w->device, 0, &w->bar0, &w->bar0_size);
	if (!ret)
		ret = vfio_enable_dma(w->device);
	return ret;
}

static int p2p_open(bool vfio_pci, const char *bdf, struct vfio_ctx *w)
{
	int ret = open_on(vfio_pci, bdf, w);

	if (!ret)
		ret = vfio_mmap_bar(w->device, 0, &w->bar0, &w->bar0_size);
	if (!ret)
		ret = vfio_enable_dma(w->device);
	return ret;
}

static int p2p_find(FIXTURE_DATA(compat) *self, const char *name)
{
	int d;

	for (d = 0; d < self->n && strcmp(self->name[d], name); d++)
		;
	return d < self->n ? d : -1;
}

TEST_F_TIMEOUT(compat, p2p_bar, 200)
{
	struct vfio_ctx e, n;
	uint32_t ref_val, ref_cpu, val, cpu, *ram;
	int ref_map, ret, de, dn;
	char mark[64];
	uint16_t cmd;

	de = p2p_find(self, "edu");
	dn = p2p_find(self, "e1000e");
	if (de < 0 || dn < 0)
		SKIP(return, "needs edu and e1000e");
	ram = mmap(NULL, PG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ram);

	/* vfio-pci: the reference answer. */
	ASSERT_EQ(0, p2p_open(true, self->bdf[de], &e));
	ASSERT_EQ(0, open_peer(true, self->bdf[dn], &e, &n));
	ASSERT_EQ(0, vfio_map(e.container, ram, IOVA_RAM, PG_SIZE, VFIO_RW));
	ref_map = vfio_map(e.container, n.bar0, IOVA_BAR, n.bar0_size,
			   VFIO_RW);
	ref_cpu = edu_read(n.bar0, E1000E_CTRL);
	ref_val = ref_map ? 0 : p2p_dma(&e, ram, E1000E_CTRL);
	close_on(true, self->bdf[dn], &n);
	close_on(true, self->bdf[de], &e);
	ASSERT_NE(P2P_SENTINEL, ref_cpu);
	TH_LOG("vfio-pci: MAP_DMA of e1000e's BAR0 %d, edu DMA read 0x%x (CPU 0x%x)",
	       ref_map, ref_val, ref_cpu);

	ASSERT_EQ(0, p2p_open(false, self->bdf[de], &e));
	ASSERT_EQ(0, open_peer(false, self->bdf[dn], &e, &n));
	ASSERT_EQ(0, vfio_map(e.container, ram, IOVA_RAM, PG_SIZE, VFIO_RW));
	/* Past the end of the BAR mmap: EFAULT. */
	EXPECT_EQ(-EFAULT, vfio_map(e.container, n.bar0 + PG_SIZE, IOVA_BAR,
				    n.bar0_size, VFIO_RW));
	ret = vfio_map(e.container, n.bar0, IOVA_BAR, n.bar0_size, VFIO_RW);
	EXPECT_EQ(ref_map, ret);
	ASSERT_EQ(0, ret);
	cpu = edu_read(n.bar0, E1000E_CTRL);
	val = p2p_dma(&e, ram, E1000E_CTRL);
	TH_LOG("vstub: edu DMA read 0x%x (CPU 0x%x)", val, cpu);
	EXPECT_EQ(cpu, val);
	EXPECT_EQ(ref_val, val);
	EXPECT_NE(P2P_SENTINEL, val);

	/* Decode off revokes it: the DMA faults, the slot keeps its value. */
	ASSERT_EQ(0, vfio_cfg_read(n.device, PCI_COMMAND, &cmd, 2));
	cmd &= ~PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, vfio_cfg_write(n.device, PCI_COMMAND, &cmd, 2));
	cmd |= PCI_COMMAND_MEMORY;
	ASSERT_EQ(0, vfio_cfg_write(n.device, PCI_COMMAND, &cmd, 2));
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_NE(cpu, p2p_dma(&e, ram, E1000E_CTRL));
	if (vstub_env_is("VSTUB_IOMMU", "vtd"))
		EXPECT_TRUE(dmesg_since(mark, "fault addr 0x8000000"));
	/* The IOVA range stays taken until unmapped. */
	EXPECT_EQ(-EEXIST, vfio_map(e.container, n.bar0, IOVA_BAR, PG_SIZE,
				    VFIO_RW));
	EXPECT_EQ((int64_t)n.bar0_size, vfio_unmap(e.container, IOVA_BAR,
						   n.bar0_size, 0));

	/* Mapped again, then revoked by the last close of e1000e. */
	ASSERT_EQ(0, vfio_map(e.container, n.bar0, IOVA_BAR, n.bar0_size,
			      VFIO_RW));
	EXPECT_EQ(cpu, p2p_dma(&e, ram, E1000E_CTRL));
	munmap(n.bar0, n.bar0_size);
	n.bar0 = NULL;
	close(n.device);
	n.device = -1;
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_NE(cpu, p2p_dma(&e, ram, E1000E_CTRL));
	if (vstub_env_is("VSTUB_IOMMU", "vtd"))
		EXPECT_TRUE(dmesg_since(mark, "fault addr 0x8000000"));
	EXPECT_EQ((int64_t)n.bar0_size, vfio_unmap(e.container, IOVA_BAR,
						   n.bar0_size, 0));
	/* Unmapped while e1000e is open: gone, no revoke needed after. */
	n.device = ioctl(n.group, VFIO_GROUP_GET_DEVICE_FD, self->bdf[dn]);
	ASSERT_LE(0, n.device);
	ASSERT_EQ(0, vfio_mmap_bar(n.device, 0, &n.bar0, &n.bar0_size));
	ASSERT_EQ(0, vfio_enable_dma(n.device));
	ASSERT_EQ(0, vfio_map(e.container, n.bar0, IOVA_BAR, n.bar0_size,
			      VFIO_RW));
	EXPECT_EQ((int64_t)n.bar0_size, vfio_unmap(e.container, IOVA_BAR,
						   n.bar0_size, 0));
	EXPECT_NE(cpu, p2p_dma(&e, ram, E1000E_CTRL));
	close_on(false, self->bdf[dn], &n);
	close_on(false, self->bdf[de], &e);
	munmap(ram, PG_SIZE);
}

TEST_HARNESS_MAIN
