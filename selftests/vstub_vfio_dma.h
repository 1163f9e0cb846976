/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_vfio_dma.h - what the DMA tests (vstub_vfio_dma_test: the ABI and
 * its errnos; vstub_vfio_pin_test: pinning and accounting) share: test
 * IOVAs, buffers, an edu round trip, and the fixture with edu open through
 * vstub.  Include after kselftest_harness.h.
 */
#ifndef _VSTUB_VFIO_DMA_H
#define _VSTUB_VFIO_DMA_H

#include <sys/syscall.h>

#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define PG		4096UL
/* Test IOVAs: below edu's 28-bit DMA limit, clear of reserved regions. */
#define IOVA_A		0x100000ULL
#define IOVA_B		0x200000ULL
#define IOVA_C		0x300000ULL
#define IOVA_MSI	0xfee00000ULL
#define DMA_LEN		4000
#define DMA_MS		10000

/* Wait up to 3 s for the pin count to come back to @want. */
static inline long pins_settle(long want)
{
	return vstub_pins_settle(want, 3000);
}

static inline void *alloc_buf(size_t size, int fill)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, fill, size);
	return p;
}

static inline void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* RAM(@src_iova) -> edu buffer -> RAM(@dst_iova), @len bytes. */
static inline int edu_roundtrip(uint8_t *bar, uint64_t src_iova,
			 uint64_t dst_iova, uint32_t len)
{
	int ret = edu_dma(bar, src_iova, EDU_DEV_BUF, len, 0, DMA_MS);

	return ret ? ret : edu_dma(bar, EDU_DEV_BUF, dst_iova, len, 1, DMA_MS);
}

/* Walk GET_INFO's capability chain for @id. */
static inline struct vfio_info_cap_header *find_cap(void *info, uint32_t argsz,
					     uint32_t off, uint16_t id)
{
	while (off && off + sizeof(struct vfio_info_cap_header) <= argsz) {
		struct vfio_info_cap_header *h = info + off;

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

/* ---- the common fixture: edu open through vstub, two buffers ------------ */

FIXTURE(dma)
{
	char edu[BDF_LEN];
	char mark[128];
	struct vfio_ctx v;
	uint8_t *a, *b;
	long pins0, lck0;
};

FIXTURE_SETUP(dma)
{
	vfio_ctx_init(&self->v);
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu, BDF_LEN));
	ASSERT_EQ(0, vstub_load_edu(NULL, false, self->edu));
	ASSERT_EQ(0, kmsg_mark(self->mark, sizeof(self->mark)));
	self->pins0 = vstub_pins_held();
	self->lck0 = vstub_vmlck_kb(getpid());
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_enable_dma(self->v.device));
	self->a = alloc_buf(2 * PG, 0);
	self->b = alloc_buf(2 * PG, 0);
	ASSERT_NE(NULL, self->a);
	ASSERT_NE(NULL, self->b);
}

FIXTURE_TEARDOWN(dma)
{
	vfio_ctx_close(&self->v);
	vstub_unload_if_loaded();
}
/* The standalone tests: each loads vstub itself. */
FIXTURE(solo)
{
	int unused;
};

FIXTURE_SETUP(solo)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(solo)
{
	vstub_unload_if_loaded();
}

#endif /* _VSTUB_VFIO_DMA_H */
