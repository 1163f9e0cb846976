// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_bench - DMA mapping cost of vstub next to another VFIO container
 * implementation (the kernel's vfio_iommu_type1, or iommufd's /dev/vfio/vfio
 * compatibility), through the same VFIO ABI, in the same VM, and next to two
 * references that pin the same buffer: the bare long-term pin of the floor
 * module (bench/floor/, /dev/vstub_floor) and io_uring's fixed-buffer
 * registration.
 *
 * Each VFIO backend is a container node, a group node and the BDF of the
 * group's device (e.g. /dev/vstub/vfio,/dev/vstub/5,0000:00:03.0).  The
 * device fd is opened after VFIO_SET_IOMMU and before anything is measured:
 * iommufd attaches a group to its IOAS only then, and maps nothing into the
 * IOMMU (pins nothing) before.  Before the samples of every map/unmap case,
 * one untimed map/unmap per pinner is checked against the kernel's
 * nr_foll_pin_acquired/released counters (/proc/vmstat): a pinner that does
 * not pin every page of the buffer stops the run.
 *
 * Every case runs on the pinners alternately (rotating the order), REPS
 * times; one CSV line per sample:
 *
 *   sample,<case>,<pinner>,<rep>,<value>,<unit>
 *
 * then per case the median of each pinner, the speed ratio of the first
 * backend to each other backend (>1: the first is better), and for map and
 * unmap cases the cost of each backend as a multiple of each reference's
 * cost (<1: cheaper than the reference):
 *
 *   median,<case>,<pinner>,<value>,<unit>
 *   ratio,<case>,<other backend>,<value>,<better-when>
 *   cost,<case>,<backend>,<reference>,<value>
 *   check,<case>,<pinner>,<acquired>,<released>,<held while mapped>,<pages>
 *
 * Cases:
 *   map4k/unmap4k     MAP_DMA/UNMAP_DMA of one region of shared, populated
 *                     4 KiB pages (MiB/s); floor: pin/unpin; io_uring:
 *                     IORING_REGISTER_BUFFERS/IORING_UNREGISTER_BUFFERS
 *   mapthp/unmapthp   the same on private anonymous memory with MADV_HUGEPAGE
 *   maphuge/unmaphuge the same on hugetlbfs 2 MiB pages (skipped when the VM
 *                     has no huge pages reserved)
 *   smallop           4 KiB MAP_DMA + UNMAP_DMA pairs per second, in batches
 *                     interleaved across the backends (A B A B ...), the
 *                     median over the batches
 *   live<N>           cost of one 4 KiB map+unmap pair with N live 4 KiB
 *                     mappings (us); a backend that refuses to reach N (type1's
 *                     dma_entry_limit) is reported with the count it reached
 *   mem<N>            kernel memory (Slab + vmalloc) per live mapping (bytes)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/io_uring.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "floor/vstub_floor.h"

#define SZ_4K		4096UL
#define SZ_2M		(2UL << 20)
#define MAX_SAMPLES	512
#define MAX_PINNERS	4
#define IOVA_BASE	(1UL << 32)	/* above the MSI window and low memory */

enum pinner_kind { PIN_VFIO, PIN_FLOOR, PIN_IOURING };

struct pinner {
	const char *name;
	enum pinner_kind kind;
	const char *container;	/* VFIO: container node */
	const char *group;	/* VFIO: group node */
	const char *bdf;	/* VFIO: the group's device */
	int cfd, gfd, dfd;	/* VFIO */
	int fd;			/* floor device, io_uring ring */
};

struct series {
	double v[MAX_SAMPLES];
	unsigned int n;
};

/* The VFIO backends first (the first is the one measured), then refs. */
static struct pinner pinners[MAX_PINNERS];
static unsigned int npinners, nvfio;
static const char *floor_dev;
static int want_iouring;
static unsigned long region_mib = 256;
static unsigned int reps = 5;
static unsigned long smallops = 40000, smallbatch = 1000, liveops = 1000;
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

static double median(const struct series *s)
{
	double tmp[MAX_SAMPLES];
	unsigned int n = s->n;

	memcpy(tmp, s->v, n * sizeof(*tmp));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void add(struct series *s, double v)
{
	if (s->n < MAX_SAMPLES)
		s->v[s->n++] = v;
}

static int sys_io_uring_setup(unsigned int entries, struct io_uring_params *p)
{
	return syscall(__NR_io_uring_setup, entries, p);
}

static int sys_io_uring_register(int fd, unsigned int op, void *arg,
				 unsigned int nr)
{
	return syscall(__NR_io_uring_register, fd, op, arg, nr);
}

/*
 * Open the container and group, attach them, select Type1v2, then open the
 * device fd (iommufd attaches the group to the IOAS only now).
 */
static void vfio_open(struct pinner *b)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char what[128];
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
	/*
	 * BDF "-": no device fd, only to show that the pin check stops a
	 * backend that attaches (and pins) lazily, as iommufd does.
	 */
	b->dfd = strcmp(b->bdf, "-") ?
		 ioctl(b->gfd, VFIO_GROUP_GET_DEVICE_FD, b->bdf) : -1;
	if (b->dfd < 0 && strcmp(b->bdf, "-")) {
		snprintf(what, sizeof(what), "%s: VFIO_GROUP_GET_DEVICE_FD %s",
			 b->name, b->bdf);
		die(what);
	}
	printf("# %s: %s %s device %s (fd %d), %s\n", b->name, b->container,
	       b->group, b->bdf, b->dfd,
	       type == VFIO_TYPE1v2_IOMMU ? "Type1v2" : "Type1");
}

static void pinner_open(struct pinner *p)
{
	struct io_uring_params params;

	switch (p->kind) {
	case PIN_VFIO:
		vfio_open(p);
		break;
	case PIN_FLOOR:
		p->fd = open(floor_dev, O_RDWR);
		if (p->fd < 0)
			die(floor_dev);
		break;
	case PIN_IOURING:
		memset(&params, 0, sizeof(params));
		p->fd = sys_io_uring_setup(1, &params);
		if (p->fd < 0)
			die("io_uring_setup");
		break;
	}
}

static void pinner_close(struct pinner *p)
{
	if (p->kind == PIN_VFIO) {
		if (p->dfd >= 0)
			close(p->dfd);
		ioctl(p->gfd, VFIO_GROUP_UNSET_CONTAINER);
		close(p->gfd);
		close(p->cfd);
	} else {
		close(p->fd);
	}
}

static int dma_map(struct pinner *b, void *va, uint64_t iova, uint64_t size)
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

static int dma_unmap(struct pinner *b, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};

	return ioctl(b->cfd, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

static int dma_unmap_all(struct pinner *b)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = VFIO_DMA_UNMAP_FLAG_ALL,
	};

	return ioctl(b->cfd, VFIO_IOMMU_UNMAP_DMA, &u) ? -errno : 0;
}

/*
 * Pin and unpin @size bytes at @buf once; the two times in seconds.
 * Returns 0 or a negative errno.  @between, if set, runs while the pages
 * are pinned (VFIO and io_uring; the floor pins and unpins in one call).
 */
static int pin_cycle(struct pinner *p, void *buf, size_t size, double *tmap,
		     double *tunmap, void (*between)(void))
{
	struct vstub_floor_pin fp = {
		.addr = (uintptr_t)buf,
		.len = size,
	};
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	double t0, t1;
	int ret;

	switch (p->kind) {
	case PIN_VFIO:
		t0 = now();
		ret = dma_map(p, buf, IOVA_BASE, size);
		t1 = now();
		if (ret)
			return ret;
		if (between)
			between();
		ret = dma_unmap(p, IOVA_BASE, size);
		break;
	case PIN_IOURING:
		t0 = now();
		ret = sys_io_uring_register(p->fd, IORING_REGISTER_BUFFERS,
					    &iov, 1) ? -errno : 0;
		t1 = now();
		if (ret)
			return ret;
		if (between)
			between();
		ret = sys_io_uring_register(p->fd, IORING_UNREGISTER_BUFFERS,
					    NULL, 0) ? -errno : 0;
		break;
	case PIN_FLOOR:
		if (ioctl(p->fd, VSTUB_FLOOR_PIN, &fp))
			return -errno;
		if (fp.pinned != size / SZ_4K)
			return -EIO;
		*tmap = fp.pin_ns / 1e9;
		*tunmap = fp.unpin_ns / 1e9;
		return 0;
	default:
		return -EINVAL;
	}
	*tmap = t1 - t0;
	*tunmap = now() - t1;
	return ret;
}

/* Fold every CPU's pending vmstat deltas into the global counters. */
static void vmstat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd < 0 || write(fd, "1", 1) != 1)
		sleep(2);	/* the periodic fold runs every second */
	if (fd >= 0)
		close(fd);
}

/* nr_foll_pin_acquired and nr_foll_pin_released, after a refresh. */
static void foll_pins(long long *acquired, long long *released)
{
	char line[128];
	long long v;
	FILE *f;

	vmstat_refresh();
	*acquired = *released = -1;
	f = fopen("/proc/vmstat", "r");
	if (!f)
		die("/proc/vmstat");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nr_foll_pin_acquired %lld", &v) == 1)
			*acquired = v;
		else if (sscanf(line, "nr_foll_pin_released %lld", &v) == 1)
			*released = v;
	}
	fclose(f);
	if (*acquired < 0 || *released < 0) {
		fprintf(stderr, "vstub_bench: no nr_foll_pin_* in /proc/vmstat\n");
		exit(1);
	}
}

static long long held_acq, held_rel;

static void sample_held(void)
{
	foll_pins(&held_acq, &held_rel);
}

/*
 * One untimed cycle: every page of the buffer must have been pinned (and
 * be held while mapped, where that can be seen) and released again.  A
 * backend that maps lazily, or a floor that pins nothing, stops the run.
 */
static void check_pins(const char *tcase, struct pinner *p, void *buf,
		       size_t size)
{
	long long a0, r0, a1, r1, held = -1, pages = size / SZ_4K;
	double tm, tu;
	int ret;

	foll_pins(&a0, &r0);
	held_acq = -1;
	ret = pin_cycle(p, buf, size, &tm, &tu,
			p->kind == PIN_FLOOR ? NULL : sample_held);
	if (ret) {
		fprintf(stderr, "vstub_bench: %s: %s: pin/map failed: %s\n",
			tcase, p->name, strerror(-ret));
		exit(1);
	}
	foll_pins(&a1, &r1);
	if (held_acq >= 0)
		held = (held_acq - a0) - (held_rel - r0);
	printf("check,%s,%s,%lld,%lld,%lld,%lld\n", tcase, p->name, a1 - a0,
	       r1 - r0, held, pages);
	/*
	 * Every page pinned and released once; while mapped, at least one
	 * pin per 2 MiB held (a pinner may keep one pin per large folio).
	 */
	if (a1 - a0 < pages || r1 - r0 < pages ||
	    (held >= 0 && held < pages / 512)) {
		fprintf(stderr,
			"vstub_bench: %s: %s pinned %lld, released %lld and held %lld of %lld pages (nr_foll_pin_*): it did not pin the buffer; nothing it reports can be compared\n",
			tcase, p->name, a1 - a0, r1 - r0, held, pages);
		exit(1);
	}
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

/*
 * Medians of every pinner with samples; the first backend's speed ratio to
 * each other backend; with @costs, every backend's cost (time, the inverse
 * of the MiB/s medians) as a multiple of each reference's.
 */
static void summarize(const char *tcase, struct series *s, const char *unit,
		      int higher_better, int costs)
{
	double m[MAX_PINNERS] = { 0 };
	unsigned int i, j;

	for (i = 0; i < npinners; i++) {
		if (!s[i].n)
			continue;
		m[i] = median(&s[i]);
		printf("median,%s,%s,%.3f,%s\n", tcase, pinners[i].name, m[i],
		       unit);
	}
	for (i = 1; i < nvfio; i++)
		if (m[0] > 0 && m[i] > 0)
			printf("ratio,%s,%s,%.3f,%s\n", tcase, pinners[i].name,
			       higher_better ? m[0] / m[i] : m[i] / m[0],
			       higher_better ? "higher" : "lower");
	for (i = 0; costs && i < nvfio; i++)
		for (j = nvfio; j < npinners; j++)
			if (m[i] > 0 && m[j] > 0)
				printf("cost,%s,%s,%s,%.3f\n", tcase,
				       pinners[i].name, pinners[j].name,
				       m[j] / m[i]);
	fflush(stdout);
}

/* Throughput of mapping and unmapping one whole region, every pinner. */
static void bench_region(enum mem_kind kind, const char *mapname,
			 const char *unmapname)
{
	struct series ms[MAX_PINNERS] = { 0 }, us[MAX_PINNERS] = { 0 };
	size_t size = region_mib << 20;
	double mib = region_mib, tm, tu;
	void *buf = region_alloc(kind, size);
	unsigned int i, r;
	int ret;

	if (!buf) {
		printf("skip,%s,no memory of this kind (%s)\n", mapname,
		       strerror(errno));
		return;
	}
	for (i = 0; i < npinners; i++)
		check_pins(mapname, &pinners[i], buf, size);
	for (r = 0; r < reps; r++) {
		for (i = 0; i < npinners; i++) {
			unsigned int bi = (i + r) % npinners;
			struct pinner *p = &pinners[bi];

			ret = pin_cycle(p, buf, size, &tm, &tu, NULL);
			if (ret) {
				fprintf(stderr, "vstub_bench: %s: %s: %s\n",
					mapname, p->name, strerror(-ret));
				exit(1);
			}
			add(&ms[bi], mib / tm);
			add(&us[bi], mib / tu);
			emit(mapname, p->name, r, mib / tm, "MiB/s");
			emit(unmapname, p->name, r, mib / tu, "MiB/s");
		}
	}
	summarize(mapname, ms, "MiB/s", 1, 1);
	summarize(unmapname, us, "MiB/s", 1, 1);
	munmap(buf, size);
}

/* 4 KiB map+unmap pairs per second with @live mappings already present. */
static double pair_rate(struct pinner *b, char *page, unsigned long count,
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

/*
 * 4 KiB pairs: SMALLOPS pairs per backend in batches of SMALLBATCH,
 * interleaved across the backends (A B A B ..., rotating who goes first),
 * so that a noisy stretch of the machine hits every backend alike; the
 * median over the batches.  One untimed batch per backend first.
 */
static void bench_smallop(void)
{
	struct series s[MAX_PINNERS] = { 0 };
	char *page = region_alloc(MEM_4K, SZ_4K);
	unsigned long batches = smallops / smallbatch, r;
	unsigned int i;

	if (!page)
		die("mmap");
	if (batches > MAX_SAMPLES)
		batches = MAX_SAMPLES;
	for (i = 0; i < nvfio; i++)
		pair_rate(&pinners[i], page, smallbatch, IOVA_BASE);
	for (r = 0; r < batches; r++) {
		for (i = 0; i < nvfio; i++) {
			unsigned int bi = (i + r) % nvfio;
			double v = pair_rate(&pinners[bi], page, smallbatch,
					     IOVA_BASE);

			add(&s[bi], v);
			emit("smallop", pinners[bi].name, r, v, "pairs/s");
		}
	}
	summarize("smallop", s, "pairs/s", 1, 0);
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
	struct series s[MAX_PINNERS] = { 0 }, mem[MAX_PINNERS] = { 0 };
	char *pool = region_alloc(MEM_4K, POOL_PAGES * SZ_4K);
	char name[32], mname[32];
	unsigned int i, r;
	unsigned long k;

	if (!pool)
		die("mmap");
	snprintf(name, sizeof(name), "live%lu", live);
	snprintf(mname, sizeof(mname), "mem%lu", live);
	for (r = 0; r < reps; r++) {
		for (i = 0; i < nvfio; i++) {
			unsigned int bi = (i + r) % nvfio;
			struct pinner *b = &pinners[bi];
			long long m0 = kernel_mem();
			uint64_t iova;
			double v;
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
			v = (double)(kernel_mem() - m0) / live;
			add(&mem[bi], v);
			emit(mname, b->name, r, v, "bytes");
			/* Probe between live mappings: the tree is full. */
			iova = IOVA_BASE + SZ_4K + 2 * (live / 2) * SZ_4K;
			v = 1e6 / pair_rate(b, pool, liveops, iova);
			add(&s[bi], v);
			emit(name, b->name, r, v, "us");
			if (dma_unmap_all(b))
				die("UNMAP_DMA ALL");
		}
	}
	summarize(name, s, "us", 0, 0);
	summarize(mname, mem, "bytes", 0, 0);
	munmap(pool, POOL_PAGES * SZ_4K);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vstub_bench --backend NAME=CONTAINER,GROUP,BDF [--backend ...]\n"
		"                   [--floor DEV] [--io-uring]\n"
		"                   [--size MiB] [--reps N] [--smallops N]\n"
		"                   [--smallbatch N] [--liveops N]\n"
		"                   [--live N[,N...]] [--quick]\n"
		"Measures VFIO Type1 DMA mapping on each backend (the first is\n"
		"the one ratios are computed for) and, for the region cases, the\n"
		"bare pin of the floor module (DEV, /dev/vstub_floor) and\n"
		"io_uring's buffer registration of the same buffer, e.g.\n"
		"  vstub_bench --backend vstub=/dev/vstub/vfio,/dev/vstub/5,0000:00:03.0 \\\n"
		"              --backend type1=/dev/vfio/vfio,/dev/vfio/6,0000:00:04.0 \\\n"
		"              --floor /dev/vstub_floor --io-uring\n"
		"--quick: tiny sizes, for a smoke run.\n");
}

static void parse_backend(char *arg)
{
	char *eq = strchr(arg, '='), *c1, *c2;
	struct pinner *p = &pinners[nvfio];

	if (nvfio == 2 || !eq || !(c1 = strchr(eq, ',')) ||
	    !(c2 = strchr(c1 + 1, ','))) {
		usage(stderr);
		exit(2);
	}
	*eq = *c1 = *c2 = '\0';
	p->name = arg;
	p->kind = PIN_VFIO;
	p->container = eq + 1;
	p->group = c1 + 1;
	p->bdf = c2 + 1;
	nvfio++;
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
		{ "floor", required_argument, NULL, 'f' },
		{ "io-uring", no_argument, NULL, 'u' },
		{ "size", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "smallops", required_argument, NULL, 'o' },
		{ "smallbatch", required_argument, NULL, 'B' },
		{ "liveops", required_argument, NULL, 'L' },
		{ "live", required_argument, NULL, 'l' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	unsigned int i;
	int c;

	while ((c = getopt_long(argc, argv, "b:f:us:r:o:B:L:l:qh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			parse_backend(optarg);
			break;
		case 'f':
			floor_dev = optarg;
			break;
		case 'u':
			want_iouring = 1;
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
		case 'B':
			smallbatch = strtoul(optarg, NULL, 0);
			break;
		case 'L':
			liveops = strtoul(optarg, NULL, 0);
			break;
		case 'l':
			parse_live(optarg);
			break;
		case 'q':
			region_mib = 4;
			reps = 1;
			smallops = 200;
			smallbatch = 50;
			liveops = 50;
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
	if (!nvfio || !reps || reps > MAX_SAMPLES || !region_mib ||
	    region_mib % 2 || !smallbatch || smallops < smallbatch ||
	    !liveops) {
		usage(stderr);
		return 2;
	}
	npinners = nvfio;
	if (floor_dev) {
		pinners[npinners].name = "floor";
		pinners[npinners++].kind = PIN_FLOOR;
	}
	if (want_iouring) {
		pinners[npinners].name = "io_uring";
		pinners[npinners++].kind = PIN_IOURING;
	}
	setrlimit(RLIMIT_MEMLOCK, &rl);
	for (i = 0; i < npinners; i++)
		pinner_open(&pinners[i]);

	printf("# vstub_bench: region %lu MiB, %u reps, %lu small ops in batches of %lu, %lu ops per live probe\n",
	       region_mib, reps, smallops, smallbatch, liveops);
	bench_region(MEM_4K, "map4k", "unmap4k");
	bench_region(MEM_THP, "mapthp", "unmapthp");
	bench_region(MEM_HUGETLB, "maphuge", "unmaphuge");
	bench_smallop();
	for (i = 0; i < nlive; i++)
		bench_live(live_counts[i]);

	for (i = 0; i < npinners; i++)
		pinner_close(&pinners[i]);
	return 0;
}
