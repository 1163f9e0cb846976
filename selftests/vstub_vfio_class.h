/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_vfio_class.h - what the device-class tests (vstub_vfio_vga_test,
 * vstub_vfio_devclass_test) share: a fixture that takes one device from
 * its host driver to vstub or, as the reference, to the in-kernel vfio-pci
 * (variant vfio_pci; skipped where vfio-pci cannot attach), opens it and
 * gives it back; region and register access.  Include after
 * kselftest_harness.h.
 */
#ifndef _VSTUB_VFIO_CLASS_H
#define _VSTUB_VFIO_CLASS_H

#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define REGION(i)	((uint64_t)(i) << 40)

/* pread/pwrite of a region: bytes moved, or -errno. */
static inline ssize_t region_rw(int device, int index, uint64_t off,
				void *buf, size_t len, bool write)
{
	ssize_t n = write ? pwrite(device, buf, len, REGION(index) + off) :
			    pread(device, buf, len, REGION(index) + off);

	return n < 0 ? -errno : n;
}

static inline int region_info(int device, int index,
			      struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	return ioctl(device, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

/* vstub loaded with @extra, interrupt remapping or not. */
static inline int load_vstub(const char *extra)
{
	char params[128];
	int ret = vstub_unload_if_loaded();

	if (ret)
		return ret;
	snprintf(params, sizeof(params), "%s %s",
		 vstub_no_intremap() ? "allow_unsafe_interrupts=1" : "",
		 extra ? extra : "");
	return vstub_load(params);
}

/* ---- the fixture: one provider (vstub or vfio-pci), one device ------------ */

FIXTURE(cls)
{
	char bdf[BDF_LEN];	/* the device the test took, or "" */
	const char *host_drv;	/* its host driver */
	struct vfio_ctx v;
};

FIXTURE_VARIANT(cls)
{
	bool vfio_pci;		/* the in-kernel reference instead of vstub */
};

FIXTURE_VARIANT_ADD(cls, vstub)
{
	.vfio_pci = false,
};

FIXTURE_VARIANT_ADD(cls, vfio_pci)
{
	.vfio_pci = true,
};

FIXTURE_SETUP(cls)
{
	vfio_ctx_init(&self->v);
	self->bdf[0] = '\0';
	if (variant->vfio_pci) {
		if (vstub_no_intremap())
			SKIP(return, "vfio-pci refuses groups without interrupt remapping");
		if (!path_exists("/sys/bus/pci/drivers/vfio-pci"))
			SKIP(return, "vfio-pci is not loaded");
		ASSERT_EQ(0, vstub_unload_if_loaded());
	} else {
		ASSERT_EQ(0, load_vstub(NULL));
	}
}

/* Give the device back (release / unbind) and wait for its host driver. */
static inline bool give_back(FIXTURE_DATA(cls) *self,
			     const FIXTURE_VARIANT(cls) *variant)
{
	vfio_ctx_close(&self->v);
	if (variant->vfio_pci)
		pci_unbind_override(self->bdf);
	else if (vstub_write("release", self->bdf))
		return false;
	return pci_wait_driver(self->bdf, self->host_drv, 10000);
}

FIXTURE_TEARDOWN(cls)
{
	if (self->bdf[0] && !give_back(self, variant))
		pci_probe(self->bdf);
	vstub_unload_if_loaded();
}

/*
 * Take @bdf from its host driver @drv to the variant's provider and open
 * it (no BAR mapped yet, memory decode and bus mastering on).
 */
static inline int take(FIXTURE_DATA(cls) *self,
		       const FIXTURE_VARIANT(cls) *variant, const char *bdf,
		       const char *drv)
{
	int ret;

	if (!pci_wait_driver(bdf, drv, 10000))
		return -ENOENT;
	vstub_strlcpy(self->bdf, bdf, BDF_LEN);
	self->host_drv = drv;
	if (variant->vfio_pci)
		ret = pci_bind_override(bdf, "vfio-pci");
	else
		ret = vstub_capture_wait(bdf);
	if (ret)
		return ret;
	ret = vfio_open_device_fd(&self->v, variant->vfio_pci ? VFIO_NODE_DIR :
				  VSTUB_NODE_DIR, bdf, VFIO_TYPE1v2_IOMMU);
	return ret ? ret : vfio_enable_dma(self->v.device);
}

static inline uint32_t rd32(volatile uint8_t *bar, unsigned int off)
{
	return __atomic_load_n((volatile uint32_t *)(bar + off),
			       __ATOMIC_SEQ_CST);
}

static inline void wr32(volatile uint8_t *bar, unsigned int off,
			uint32_t val)
{
	__atomic_store_n((volatile uint32_t *)(bar + off), val,
			 __ATOMIC_SEQ_CST);
}

static inline void wr64(volatile uint8_t *bar, unsigned int off,
			uint64_t val)
{
	wr32(bar, off, (uint32_t)val);
	wr32(bar, off + 4, (uint32_t)(val >> 32));
}

static inline bool wait32(volatile uint8_t *bar, unsigned int off,
			  uint32_t mask, uint32_t want, int ms)
{
	for (; ms > 0; ms--) {
		if ((rd32(bar, off) & mask) == want)
			return true;
		usleep(1000);
	}
	return (rd32(bar, off) & mask) == want;
}

#endif /* _VSTUB_VFIO_CLASS_H */
