// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_bench - DMA mapping cost of vstub next to the kernel's
 * vfio_iommu_type1, through the same VFIO ABI, in the same VM.
 *
 * Each backend is a container node and a group node (e.g. /dev/vstub/vfio
 * + /dev/vstub/5 and /dev/vfio/vfio + /dev/vfio/6).  Every case runs on the
 * backends alternately, REPS times, and one CSV line is printed per sample:
 *
 *   sample,<case>,<backend>,<rep>,<value>,<unit>
 *
 * followed by one summary line per case and backend (median) and one ratio
 * line per case (vstub / type1, >1 means vstub is better):
 *
 *   median,<case>,<backend>,<value>,<unit>
 *   ratio,<case>,<value>,<better-when>
 *
 * Cases:
 *   map4k/unmap4k     MAP_DMA/UNMAP_DMA of one region of shared, populated
 *                     4 KiB pages (MiB/s)
 *   mapthp/unmapthp   the same on private anonymous memory with MADV_HUGEPAGE
 *   maphuge/unmaphuge the same on hugetlbfs 2 MiB pages (skipped when the VM
 *                     has no huge pages reserved)
 *   smallop           4 KiB MAP_DMA + UNMAP_DMA pairs per second
 *   live<N>           cost of one 4 KiB map+unmap pair with N live 4 KiB
 *                     mappings (us); a backend that refuses to reach N (type1's
 *                     dma_entry_limit) is reported with the count it reached
 *   mem<N>            kernel memory (Slab + vmalloc) per live mapping (bytes)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SZ_4K		4096UL
#define SZ_2M		(2UL << 20)
#define MAX_REPS	64
#define IOVA_BASE	(1UL << 32)	/* above the MSI window and low memory */

struct backend {
	const char *name;	/* "vstub" or "type1" */
	const char *container;	/* container node */
	const char *group;	/* group node */
	int cfd;
	int gfd;
};

static struct backend backends[2];
static unsigned int nbackends;
static unsigned long region_mib = 256;
static unsigned int reps = 5;
static unsigned long smallops = 4000;
static unsigned long live_counts[8] = { 1000, 65000, 1000000 };
static unsigned int nlive = 3;

static void die(const char *what)
{
	fprintf(stderr, "vstub_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned int n)
{
	double tmp[MAX_REPS];

	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Open the container and group, attach them, select Type1v2. */
static void backend_open(struct backend *b)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int type;

	b->cfd = open(b->container, O_RDWR);
	if (b->cfd < 0)
		die(b->container);
	b->gfd = open(b->group, O_RDWR);
	if (b->gfd < 0)
		die(b->group);
	if (ioctl(b->gfd, VFIO_GROUP_GET_STATUS, &st))
		die("VFIO_GROUP_GET_STATUS");
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "vstub_bench: group %s is not viable\n",
			b->group);
		exit(1);
	}
	if (ioctl(b->gfd, VFIO_GROUP_SET_CONTAINER, &b->cfd))
		die("VFIO_GROUP_SET_CONTAINER");
	type = ioctl(b->cfd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0 ?
	       VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
	if (ioctl(b->cfd, VFIO_SET_IOMMU, type))
		die("VFIO_SET_IOMMU");
}

static void backend_close(struct backend *b)
{
	ioctl(b->gfd, VFIO_GROUP_UNSET_CONTAINER);
	close(b->gfd);
	close(b->cfd);
}

static int dma_map(struct backend *b, void *va, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = size,
	};

	return ioctl(b->cfd, VFIO_IOMMU_MAP_DMA, &m) ? -errno : 0;
}

static int dma_unmap(struct backend *b, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	return ioctl(b->cfd, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

static int dma_unmap_all(struct backend *b)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = VFIO_DMA_UNMAP_FLAG_ALL,
	};

	return ioctl(b->cfd, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

enum mem_kind { MEM_4K, MEM_THP, MEM_HUGETLB };

/* A populated region of @size bytes of the given kind, or NULL. */
static void *region_alloc(enum mem_kind kind, size_t size)
{
	char *p, *a;

	switch (kind) {
	case MEM_4K:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	case MEM_THP:
		p = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		a = (char *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
		madvise(a, size, MADV_HUGEPAGE);
		memset(a, 1, size);
		return a;
	case MEM_HUGETLB:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			 MAP_POPULATE, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	return NULL;
}

static void emit(const char *tcase, const char *be, unsigned int rep,
		 double v, const char *unit)
{
	printf("sample,%s,%s,%u,%.3f,%s\n", tcase, be, rep, v, unit);
}

static void summarize(const char *tcase, double s[2][MAX_REPS],
		      unsigned int n[2], const char *unit, int higher_better)
{
	double m[2] = { 0, 0 };
	unsigned int i;

	for (i = 0; i < nbackends; i++) {
		if (!n[i])
			continue;
		m[i] = median(s[i], n[i]);
		printf("median,%s,%s,%.3f,%s\n", tcase, backends[i].name, m[i],
		       unit);
	}
	if (nbackends == 2 && n[0] && n[1] && m[0] > 0 && m[1] > 0)
		printf("ratio,%s,%.3f,%s\n", tcase,
		       higher_better ? m[0] / m[1] : m[1] / m[0],
		       higher_better ? "higher" : "lower");
	fflush(stdout);
}

/* Throughput of mapping and unmapping one whole region. */
static void bench_region(enum mem_kind kind, const char *mapname,
			 const char *unmapname)
{
	double ms[2][MAX_REPS], us[2][MAX_REPS];
	unsigned int nm[2] = { 0, 0 }, i, r;
	size_t size = region_mib << 20;
	double mib = region_mib, t0, t1;
	void *buf = region_alloc(kind, size);

	if (!buf) {
		printf("skip,%s,no memory of this kind (%s)\n", mapname,
		       strerror(errno));
		return;
	}
	for (r = 0; r < reps; r++) {
		for (i = 0; i < nbackends; i++) {
			struct backend *b = &backends[(i + r) % nbackends];
			unsigned int bi = b - backends;

			t0 = now();
			if (dma_map(b, buf, IOVA_BASE, size)) {
				printf("skip,%s,%s MAP_DMA failed: %s\n",
				       mapname, b->name, strerror(errno));
				continue;
			}
			t1 = now();
			if (dma_unmap(b, IOVA_BASE, size))
				die("UNMAP_DMA");
			ms[bi][nm[bi]] = mib / (t1 - t0);
			us[bi][nm[bi]] = mib / (now() - t1);
			emit(mapname, b->name, r, ms[bi][nm[bi]], "MiB/s");
			emit(unmapname, b->name, r, us[bi][nm[bi]], "MiB/s");
			nm[bi]++;
		}
	}
	summarize(mapname, ms, nm, "MiB/s", 1);
	summarize(unmapname, us, nm, "MiB/s", 1);
	munmap(buf, size);
}

/* 4 KiB map+unmap pairs per second with @live mappings already present. */
static double pair_rate(struct backend *b, char *page, unsigned long count,
			uint64_t iova)
{
	double t0 = now();
	unsigned long i;

	for (i = 0; i < count; i++) {
		if (dma_map(b, page, iova, SZ_4K) || dma_unmap(b, iova, SZ_4K))
			die("4 KiB MAP/UNMAP pair");
	}
	return count / (now() - t0);
}

static void bench_smallop(void)
{
	double s[2][MAX_REPS];
	unsigned int n[2] = { 0, 0 }, i, r;
	char *page = region_alloc(MEM_4K, SZ_4K);

	if (!page)
		die("mmap");
	for (r = 0; r < reps; r++) {
		for (i = 0; i < nbackends; i++) {
			struct backend *b = &backends[(i + r) % nbackends];
			unsigned int bi = b - backends;

			s[bi][n[bi]] = pair_rate(b, page, smallops, IOVA_BASE);
			emit("smallop", b->name, r, s[bi][n[bi]], "pairs/s");
			n[bi]++;
		}
	}
	summarize("smallop", s, n, "pairs/s", 1);
	munmap(page, SZ_4K);
}

/* Kernel memory that grows with mappings: slab plus vmalloc, in bytes. */
static long long kernel_mem(void)
{
	char line[256];
	long long v, sum = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %lld kB", &v) == 1 ||
		    sscanf(line, "VmallocUsed: %lld kB", &v) == 1 ||
		    sscanf(line, "PageTables: %lld kB", &v) == 1)
			sum += v * 1024;
	}
	fclose(f);
	return sum;
}

/*
 * Per-operation cost with @live 4 KiB mappings present.  The mappings
 * reuse a pool of pages so that a million of them fit in a small VM.
 */
#define POOL_PAGES	512UL

static void bench_live(unsigned long live)
{
	double s[2][MAX_REPS], mem[2][MAX_REPS];
	unsigned int n[2] = { 0, 0 }, nm[2] = { 0, 0 }, i, r;
	char name[32], mname[32];
	char *pool = region_alloc(MEM_4K, POOL_PAGES * SZ_4K);
	unsigned long k, pairs = smallops / 4 ? smallops / 4 : 1;

	if (!pool)
		die("mmap");
	snprintf(name, sizeof(name), "live%lu", live);
	snprintf(mname, sizeof(mname), "mem%lu", live);
	for (r = 0; r < reps; r++) {
		for (i = 0; i < nbackends; i++) {
			struct backend *b = &backends[(i + r) % nbackends];
			unsigned int bi = b - backends;
			long long m0 = kernel_mem();
			uint64_t iova;
			int ret = 0;

			for (k = 0; k < live; k++) {
				iova = IOVA_BASE + 2 * k * SZ_4K;
				ret = dma_map(b, pool + (k % POOL_PAGES) * SZ_4K,
					      iova, SZ_4K);
				if (ret)
					break;
			}
			if (ret) {
				printf("limit,%s,%s,%lu,%s\n", name, b->name, k,
				       strerror(-ret));
				dma_unmap_all(b);
				continue;
			}
			mem[bi][nm[bi]] = (double)(kernel_mem() - m0) / live;
			emit(mname, b->name, r, mem[bi][nm[bi]], "bytes");
			nm[bi]++;
			/* Probe between live mappings: the tree is full. */
			iova = IOVA_BASE + SZ_4K + 2 * (live / 2) * SZ_4K;
			s[bi][n[bi]] = 1e6 / pair_rate(b, pool, pairs, iova);
			emit(name, b->name, r, s[bi][n[bi]], "us");
			n[bi]++;
			if (dma_unmap_all(b))
				die("UNMAP_DMA ALL");
		}
	}
	summarize(name, s, n, "us", 0);
	summarize(mname, mem, nm, "bytes", 0);
	munmap(pool, POOL_PAGES * SZ_4K);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vstub_bench --backend NAME=CONTAINER,GROUP [--backend ...]\n"
		"                   [--size MiB] [--reps N] [--smallops N]\n"
		"                   [--live N[,N...]] [--quick]\n"
		"Measures VFIO Type1 DMA mapping on each backend (the first is\n"
		"the one ratios are computed for), e.g.\n"
		"  vstub_bench --backend vstub=/dev/vstub/vfio,/dev/vstub/5 \\\n"
		"              --backend type1=/dev/vfio/vfio,/dev/vfio/6\n"
		"--quick: tiny sizes, for a smoke run.\n");
}

static void parse_backend(char *arg)
{
	char *eq = strchr(arg, '='), *comma;

	if (nbackends == 2 || !eq || !(comma = strchr(eq, ','))) {
		usage(stderr);
		exit(2);
	}
	*eq = *comma = '\0';
	backends[nbackends].name = arg;
	backends[nbackends].container = eq + 1;
	backends[nbackends].group = comma + 1;
	nbackends++;
}

static void parse_live(char *arg)
{
	char *tok, *save = NULL;

	nlive = 0;
	for (tok = strtok_r(arg, ",", &save); tok && nlive < 8;
	     tok = strtok_r(NULL, ",", &save))
		live_counts[nlive++] = strtoul(tok, NULL, 0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "smallops", required_argument, NULL, 'o' },
		{ "live", required_argument, NULL, 'l' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "b:s:r:o:l:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			parse_backend(optarg);
			break;
		case 's':
			region_mib = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			reps = strtoul(optarg, NULL, 0);
			break;
		case 'o':
			smallops = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			parse_live(optarg);
			break;
		case 'q':
			region_mib = 4;
			reps = 1;
			smallops = 50;
			live_counts[0] = 100;
			nlive = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!nbackends || !reps || reps > MAX_REPS || !region_mib ||
	    region_mib % 2) {
		usage(stderr);
		return 2;
	}
	setrlimit(RLIMIT_MEMLOCK, &rl);
	for (i = 0; i < nbackends; i++)
		backend_open(&backends[i]);

	printf("# vstub_bench: region %lu MiB, %u reps, %lu small ops\n",
	       region_mib, reps, smallops);
	bench_region(MEM_4K, "map4k", "unmap4k");
	bench_region(MEM_THP, "mapthp", "unmapthp");
	bench_region(MEM_HUGETLB, "maphuge", "unmaphuge");
	bench_smallop();
	for (i = 0; i < nlive; i++)
		bench_live(live_counts[i]);

	for (i = 0; i < nbackends; i++)
		backend_close(&backends[i]);
	return 0;
}
