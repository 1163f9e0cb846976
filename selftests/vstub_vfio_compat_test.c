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
 *   config     config space writes register by register: for a list of
 *              offsets (header, PM, MSI, MSI-X, PCI Express, AER, ...) a
 *              pattern is written through the config region, read back
 *              and the original written back
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

/* ---- providers ---------------------------------------------------------- */

/* Bind @bdf to vfio-pci through driver_override. */
static int bind_vfio_pci(const char *bdf)
{
	int ret;

	if (pci_driver_is(bdf, "vfio-pci"))
		return 0;
	if (!pci_driver_is(bdf, ""))
		pci_unbind(bdf);
	ret = pci_write_attr(bdf, "driver_override", "vfio-pci");
	if (ret)
		return ret;
	pci_probe(bdf);
	return pci_wait_driver(bdf, "vfio-pci", 5000) ? 0 : -ENODEV;
}

/* Take @bdf from vfio-pci, no driver left. */
static void unbind_vfio_pci(const char *bdf)
{
	if (pci_driver_is(bdf, "vfio-pci"))
		pci_unbind(bdf);
	pci_write_attr(bdf, "driver_override", "\n");
}

/* Capture @bdf by address into vstub (loaded) and wait for it. */
static int capture(const char *bdf)
{
	int i, ret;

	if (pci_driver_is(bdf, "vstub"))
		return 0;
	if (!pci_driver_is(bdf, ""))
		pci_unbind(bdf);
	ret = vstub_write("capture", bdf);
	if (ret)
		return ret;
	for (i = 0; i < 100 && !pci_driver_is(bdf, "vstub"); i++)
		vstub_msleep(50);
	return pci_driver_is(bdf, "vstub") ? 0 : -ETIMEDOUT;
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
	ret = vfio_pci ? bind_vfio_pci(bdf) : capture(bdf);
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
		unbind_vfio_pci(bdf);
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
		unbind_vfio_pci(self->bdf[i]);
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

TEST_HARNESS_MAIN
