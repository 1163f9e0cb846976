// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_pin_test - the memory behind vstub's DMA mappings: pinned
 * pages and locked_vm accounted exactly and given back on every exit path
 * (unmap, close, SIGKILL), RLIMIT_MEMLOCK, the entry limit, and mappings
 * of every shape (THP-contiguous, fragmented into hundreds of runs, a THP
 * with one page out of place, hugetlb folios entered mid-folio) that the
 * device reaches at the right physical page, proven with edu's DMA.
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_vfio_dma.h"

/* Closing everything with mappings in place gives every page back. */
TEST_F_TIMEOUT(dma, close_releases, 120)
{
	void *big = alloc_buf(64 * PG, 1);

	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, vfio_map(self->v.container, big, IOVA_C, 64 * PG,
			      VFIO_RW));
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG, VFIO_RW));
	EXPECT_EQ(self->lck0 + 65 * 4, vstub_vmlck_kb(getpid()));
	EXPECT_EQ(self->pins0 + 65, vstub_pins_held());
	vfio_ctx_close(&self->v);
	EXPECT_EQ(self->lck0, vstub_vmlck_kb(getpid()));
	EXPECT_EQ(self->pins0, pins_settle(self->pins0));
}

/*
 * @len bytes aligned to @len, advised MADV_HUGEPAGE and filled with @fill,
 * inside a fresh mapping of 2 * @len that *@raw gets (to munmap); or NULL.
 */
static uint8_t *thp_region(size_t len, int fill, uint8_t **raw)
{
	uint8_t *region;

	*raw = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*raw == MAP_FAILED)
		return NULL;
	region = (uint8_t *)(((uintptr_t)*raw + len - 1) & ~(len - 1));
	madvise(region, len, MADV_HUGEPAGE);
	memset(region, fill, len);
	return region;
}

/*
 * A 2 MiB-aligned, THP-backed region maps as physically contiguous runs;
 * DMA into and out of it at several offsets.
 */
TEST_F_TIMEOUT(dma, large_contiguous_mapping, 120)
{
	const size_t len = 4UL << 20;
	const uint64_t iova = 0x800000;
	uint8_t *raw, *region;
	size_t off[] = { 0, PG, (2UL << 20) - PG, (2UL << 20) + 3 * PG };
	unsigned int i;

	region = thp_region(len, 0, &raw);
	ASSERT_NE(NULL, region);
	ASSERT_EQ(0, vfio_map(self->v.container, region, iova, len, VFIO_RW));
	EXPECT_EQ(self->pins0 + (long)(len / PG), vstub_pins_held());

	for (i = 0; i < ARRAY_SIZE(off); i++) {
		uint8_t *src = region + off[i];
		uint8_t *dst = region + len - PG - off[i] / 2;

		dst = (uint8_t *)((uintptr_t)dst & ~(PG - 1));
		fill_pattern(src, DMA_LEN, 50 + i);
		memset(dst, 0, DMA_LEN);
		ASSERT_EQ(0, edu_roundtrip(self->v.bar0, iova + off[i],
					   iova + (dst - region), DMA_LEN));
		EXPECT_EQ(0, memcmp(src, dst, DMA_LEN))
			TH_LOG("offset 0x%zx", off[i]);
	}
	EXPECT_EQ((int64_t)len, vfio_unmap(self->v.container, iova, len, 0));
	EXPECT_EQ(self->pins0, vstub_pins_held());
	munmap(raw, 2 * len);
}

/* The pfn behind @va (this process is root: pagemap shows pfns), or 0. */
static uint64_t va_pfn(int pagemap, const void *va)
{
	uint64_t ent;

	if (pread(pagemap, &ent, sizeof(ent),
		  (uintptr_t)va / PG * sizeof(ent)) != sizeof(ent))
		return 0;
	return (ent & (1ULL << 63)) ? ent & ((1ULL << 55) - 1) : 0;
}

/*
 * A mapping of NPAGES pages none of which is physically next to the one
 * before (each page moved in from every other page of a populated
 * region): as many runs as pages, more than two of MAP_DMA's
 * scatterlist-sized steps, each reached by the device at the right page.
 */
#define FRAG_PAGES	512
TEST_F_TIMEOUT(dma, fragmented_mapping, 180)
{
	const size_t len = FRAG_PAGES * PG;
	const uint64_t iova = 0x800000;
	const unsigned int at[] = { 0, 1, 101, 102, 127, 128, 129, 255, 256,
				    257, 383, 384, 510, 511 };
	uint8_t *src_region, *region;
	unsigned int i, runs = 1;
	uint64_t prev = 0, pfn;
	int pagemap;

	src_region = alloc_buf(2 * len, 0x5a);
	region = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(NULL, src_region);
	ASSERT_NE(MAP_FAILED, region);
	for (i = 0; i < FRAG_PAGES; i++)
		ASSERT_NE(MAP_FAILED, mremap(src_region + 2 * i * PG, PG, PG,
					     MREMAP_MAYMOVE | MREMAP_FIXED,
					     region + i * PG));
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_LE(0, pagemap);
	for (i = 0; i < FRAG_PAGES; i++) {
		pfn = va_pfn(pagemap, region + i * PG);
		ASSERT_NE(0, pfn);
		if (i && pfn != prev + 1)
			runs++;
		prev = pfn;
	}
	close(pagemap);
	TH_LOG("%u pages in %u physically contiguous runs", FRAG_PAGES, runs);
	ASSERT_LT(300, runs);

	ASSERT_EQ(0, vfio_map(self->v.container, region, iova, len, VFIO_RW));
	EXPECT_EQ(self->pins0 + FRAG_PAGES, vstub_pins_held());
	EXPECT_EQ(self->lck0 + (long)(len / 1024), vstub_vmlck_kb(getpid()));
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		unsigned int to = FRAG_PAGES - 1 - at[i];
		uint8_t *src = region + at[i] * PG, *dst = region + to * PG;

		fill_pattern(src, DMA_LEN, 70 + i);
		memset(dst, 0, DMA_LEN);
		ASSERT_EQ(0, edu_roundtrip(self->v.bar0, iova + at[i] * PG,
					   iova + to * PG, DMA_LEN));
		EXPECT_EQ(0, memcmp(src, dst, DMA_LEN))
			TH_LOG("page %u -> page %u", at[i], to);
	}
	EXPECT_EQ((int64_t)len, vfio_unmap(self->v.container, iova, len, 0));
	EXPECT_EQ(self->pins0, pins_settle(self->pins0));
	EXPECT_EQ(self->lck0, vstub_vmlck_kb(getpid()));
	munmap(region, len);
	munmap(src_region, 2 * len);
}

/*
 * Contiguity is checked page by page (pages 1-16 as one group, 17-24 as
 * one, then one by one): a mapping of a THP's pages in order except one,
 * at each place that starts, ends or follows a group, maps that one page
 * where the process has it, not where the THP would have it.
 */
#define EDGE_PAGES	32
#define EDGE_ODD	48	/* the THP page put in place of another */

/*
 * Move the THP @s's pages 0..EDGE_PAGES-1 to @r, EDGE_ODD in place of
 * @odd_at, or (@back) every page of @r back to where it came from.
 */
static int edge_move(uint8_t *s, uint8_t *r, unsigned int odd_at, bool back)
{
	unsigned int k, from;
	void *src, *dst;

	for (k = 0; k < EDGE_PAGES; k++) {
		from = k == odd_at ? EDGE_ODD : k;
		src = back ? r + k * PG : s + from * PG;
		dst = back ? s + from * PG : r + k * PG;
		if (mremap(src, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED,
			   dst) == MAP_FAILED)
			return -errno;
	}
	return 0;
}
TEST_F_TIMEOUT(dma, contiguity_edges, 180)
{
	const unsigned int at[] = { 1, 7, 8, 9, 15, 16, 17, 24, 30, 31 };
	const size_t thp = 2UL << 20;
	const uint64_t iova = 0xc00000;
	uint8_t *raw, *s, *r;
	uint64_t pfn0;
	unsigned int i, k;
	int pagemap;

	s = thp_region(thp, 0x33, &raw);
	ASSERT_NE(NULL, s);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_LE(0, pagemap);
	pfn0 = va_pfn(pagemap, s);
	for (k = 1; k <= EDGE_ODD; k++)
		if (va_pfn(pagemap, s + k * PG) != pfn0 + k)
			break;
	if (k <= EDGE_ODD) {
		close(pagemap);
		munmap(raw, 2 * thp);
		SKIP(return, "no physically contiguous THP to build from");
	}
	r = mmap(NULL, EDGE_PAGES * PG, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);

	for (i = 0; i < ARRAY_SIZE(at); i++) {
		/* r: the THP's pages 0..31, but EDGE_ODD in place of at[i]. */
		ASSERT_EQ(0, edge_move(s, r, at[i], false));
		ASSERT_EQ(pfn0 + EDGE_ODD, va_pfn(pagemap, r + at[i] * PG));
		ASSERT_EQ(pfn0, va_pfn(pagemap, r));

		ASSERT_EQ(0, vfio_map(self->v.container, r, iova,
				      EDGE_PAGES * PG, VFIO_RW));
		fill_pattern(r, DMA_LEN, 90 + i);
		memset(r + at[i] * PG, 0, DMA_LEN);
		ASSERT_EQ(0, edu_roundtrip(self->v.bar0, iova,
					   iova + at[i] * PG, DMA_LEN));
		EXPECT_EQ(0, memcmp(r, r + at[i] * PG, DMA_LEN))
			TH_LOG("odd page at %u", at[i]);
		EXPECT_EQ(EDGE_PAGES * PG, vfio_unmap(self->v.container, iova,
						      EDGE_PAGES * PG, 0));
		/* Every page back where it came from. */
		ASSERT_EQ(0, edge_move(s, r, at[i], true));
	}
	EXPECT_EQ(self->pins0, pins_settle(self->pins0));
	close(pagemap);
	munmap(r, EDGE_PAGES * PG);
	munmap(raw, 2 * thp);
}

/*
 * hugetlb folios are taken a folio at a time, from the first page's place
 * in its folio: a mapping that starts 5 pages before the end of one
 * hugetlb page, covers the next four whole (the fourth cut by MAP_DMA's
 * 2048-page pin batch) and ends 5 pages into a sixth, each physically
 * apart from the one before, reaches every page at the folio and batch
 * edges where the process has it.
 */
#define HUGE_SZ		(2UL << 20)
#define HUGE_SYSCTL	"/proc/sys/vm/nr_hugepages"
#define HUGE_HEAD	5	/* pages before the first folio boundary */
#define HUGE_NR		6	/* hugetlb pages in the test */

/* The HUGE_NR hugetlb pages of @src moved to @dst in falling pfn order. */
static int huge_descending(int pagemap, uint8_t *src, uint8_t *dst)
{
	uint64_t pfn[HUGE_NR];
	unsigned int i, j, best;
	bool used[HUGE_NR] = { false };

	for (i = 0; i < HUGE_NR; i++) {
		pfn[i] = va_pfn(pagemap, src + i * HUGE_SZ);
		if (!pfn[i])
			return -ENOENT;
	}
	for (j = 0; j < HUGE_NR; j++) {
		best = HUGE_NR;
		for (i = 0; i < HUGE_NR; i++)
			if (!used[i] && (best == HUGE_NR || pfn[i] > pfn[best]))
				best = i;
		used[best] = true;
		if (mremap(src + best * HUGE_SZ, HUGE_SZ, HUGE_SZ,
			   MREMAP_MAYMOVE | MREMAP_FIXED,
			   dst + j * HUGE_SZ) == MAP_FAILED)
			return -errno;
	}
	return 0;
}

TEST_F_TIMEOUT(dma, hugetlb_mapping, 120)
{
	const size_t len = (HUGE_NR - 2) * HUGE_SZ + 2 * HUGE_HEAD * PG;
	const unsigned int npages = len / PG;
	/* Folio edges at 5, 517, ..., 2053; the pin batch's at 2048. */
	const unsigned int at[] = { 0, 4, 5, 6, 516, 517, 518, 1540, 1541,
				    2047, 2048, 2052, 2053, 2057 };
	const uint64_t iova = 0x1000000;
	uint8_t *src, *dst, *region;
	char old[32] = "0", want[32];
	unsigned int i;
	int pagemap, fd;
	ssize_t n;

	fd = open(HUGE_SYSCTL, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, old, sizeof(old) - 1);
	close(fd);
	ASSERT_LT(0, n);
	old[n] = 0;
	snprintf(want, sizeof(want), "%ld", strtol(old, NULL, 10) + HUGE_NR);
	ASSERT_EQ(0, sysfs_write(HUGE_SYSCTL, want));
	src = mmap(NULL, HUGE_NR * HUGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	dst = mmap(NULL, HUGE_NR * HUGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE,
		   -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED) {
		sysfs_write(HUGE_SYSCTL, old);
		SKIP(return, "no %d free 2 MiB hugetlb pages", HUGE_NR);
	}
	memset(src, 0, HUGE_NR * HUGE_SZ);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_LE(0, pagemap);
	ASSERT_EQ(0, huge_descending(pagemap, src, dst));
	/* Physically apart, so that no folio continues the one before. */
	for (i = 1; i < HUGE_NR; i++)
		ASSERT_NE(va_pfn(pagemap, dst + (i - 1) * HUGE_SZ) + 512,
			  va_pfn(pagemap, dst + i * HUGE_SZ));
	close(pagemap);

	region = dst + HUGE_SZ - HUGE_HEAD * PG;
	for (i = 0; i < npages; i++)
		fill_pattern(region + i * PG, PG, 100 + i);
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG,
			      VFIO_RW));
	ASSERT_EQ(0, vfio_map(self->v.container, region, iova, len, VFIO_RW));
	EXPECT_EQ(self->pins0 + 1 + npages, vstub_pins_held());
	EXPECT_EQ(self->lck0 + 4 + (long)(len / 1024),
		  vstub_vmlck_kb(getpid()));
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		memset(self->a, 0, PG);
		ASSERT_EQ(0, edu_roundtrip(self->v.bar0, iova + at[i] * PG,
					   IOVA_A, DMA_LEN));
		EXPECT_EQ(0, memcmp(self->a, region + at[i] * PG, DMA_LEN))
			TH_LOG("page %u of the mapping", at[i]);
	}
	EXPECT_EQ((int64_t)len, vfio_unmap(self->v.container, iova, len, 0));
	EXPECT_EQ(PG, vfio_unmap(self->v.container, IOVA_A, PG, 0));
	EXPECT_EQ(self->pins0, pins_settle(self->pins0));
	EXPECT_EQ(self->lck0, vstub_vmlck_kb(getpid()));
	munmap(src, HUGE_NR * HUGE_SZ);
	munmap(dst, HUGE_NR * HUGE_SZ);
	EXPECT_EQ(0, sysfs_write(HUGE_SYSCTL, old));
}

/*
 * A mapping whose last page cannot be pinned fails as a whole: EFAULT,
 * nothing stays pinned or charged to locked_vm, and the IOVA range is
 * still free.
 */
TEST_F_TIMEOUT(dma, partial_pin_failure, 120)
{
	const size_t len = 600 * PG;
	uint8_t *buf = alloc_buf(len, 1);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, munmap(buf + len - PG, PG));
	EXPECT_EQ(-EFAULT, vfio_map(self->v.container, buf, IOVA_C, len,
				    VFIO_RW));
	EXPECT_EQ(self->pins0, pins_settle(self->pins0));
	EXPECT_EQ(self->lck0, vstub_vmlck_kb(getpid()));
	EXPECT_EQ(0, vfio_map(self->v.container, buf, IOVA_C, len - PG,
			      VFIO_RW));
	EXPECT_EQ(self->pins0 + 599, vstub_pins_held());
	EXPECT_EQ((int64_t)(len - PG), vfio_unmap(self->v.container, IOVA_C,
						  len - PG, 0));
	EXPECT_EQ(self->pins0, pins_settle(self->pins0));
	munmap(buf, len - PG);
}

/* ---- RLIMIT_MEMLOCK, accounted on the mapping process ------------------ */

TEST_F_TIMEOUT(dma, memlock_limit, 120)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct rlimit rl = { 16 * PG, 16 * PG };
		void *big = alloc_buf(64 * PG, 1);
		long lck;

		if (!big || drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		lck = vstub_vmlck_kb(getpid());
		if (vfio_map(self->v.container, big, IOVA_C, 64 * PG,
			     VFIO_RW) != -ENOMEM)
			_exit(11);
		if (vstub_vmlck_kb(getpid()) != lck)
			_exit(12);
		if (vfio_map(self->v.container, big, IOVA_C, 8 * PG, VFIO_RW))
			_exit(13);
		if (vstub_vmlck_kb(getpid()) != lck + 32)
			_exit(14);
		_exit(0);	/* exits with the mapping still in place */
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(dmesg_since(self->mark, "RLIMIT_MEMLOCK"));
	/* The container owns the mapping; this process was never charged. */
	EXPECT_EQ(self->pins0 + 8, vstub_pins_held());
	EXPECT_EQ(self->lck0, vstub_vmlck_kb(getpid()));
	EXPECT_EQ(8 * PG, vfio_unmap(self->v.container, 0, 0,
				     VFIO_DMA_UNMAP_FLAG_ALL));
	EXPECT_EQ(self->pins0, vstub_pins_held());
}

/* A process killed with mappings in place leaves no page pinned. */
TEST_F_TIMEOUT(dma, sigkill_releases, 120)
{
	int p[2], status;
	long pins0;
	char c;
	pid_t pid;

	/* The child must own every fd: give the group back first. */
	vfio_ctx_close(&self->v);
	pins0 = pins_settle(self->pins0);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		void *big = alloc_buf(1024 * PG, 1);
		struct vfio_ctx v;

		vfio_ctx_init(&v);
		if (!big || vfio_open_device(&v, VSTUB_NODE_DIR, self->edu,
					     VFIO_TYPE1v2_IOMMU) ||
		    vfio_map(v.container, big, IOVA_C, 1024 * PG, VFIO_RW))
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	EXPECT_EQ(pins0 + 1024, vstub_pins_held());
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(pins0, pins_settle(pins0));
	/* And the group can be opened again. */
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
}

/* ---- standalone tests: each loads vstub itself -------------------------- */

TEST_F_TIMEOUT(solo, entry_limit, 120)
{
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	char edu[BDF_LEN];
	struct vfio_ctx v;
	uint8_t *buf;
	int i;

	vfio_ctx_init(&v);
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, edu, BDF_LEN));
	ASSERT_EQ(0, vstub_load_edu("dma_entry_limit=4", false, edu));
	ASSERT_EQ(0, vfio_open_device(&v, VSTUB_NODE_DIR, edu,
				      VFIO_TYPE1v2_IOMMU));
	buf = alloc_buf(8 * PG, 0);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, vfio_map(v.container, buf + i * PG,
				      IOVA_A + i * PG, PG, VFIO_RW));
	EXPECT_EQ(-ENOSPC, vfio_map(v.container, buf + 4 * PG, IOVA_B, PG,
				    VFIO_RW));
	info = calloc(1, 4096);
	ASSERT_NE(NULL, info);
	info->argsz = 4096;
	ASSERT_EQ(0, ioctl(v.container, VFIO_IOMMU_GET_INFO, info));
	avail = (void *)find_cap(info, info->argsz, info->cap_offset,
				 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_EQ(0, avail->avail);
	free(info);
	EXPECT_EQ(PG, vfio_unmap(v.container, IOVA_A, PG, 0));
	EXPECT_EQ(0, vfio_map(v.container, buf + 4 * PG, IOVA_B, PG, VFIO_RW));
	vfio_ctx_close(&v);
	EXPECT_EQ(0, vstub_unload());
}

TEST_HARNESS_MAIN
