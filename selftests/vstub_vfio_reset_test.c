// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_reset_test - slot/bus resets and another driver's BARs:
 *
 *   hot_reset_info  VFIO_DEVICE_GET_PCI_HOT_RESET_INFO on an edu behind a
 *              PCIe root port, one of a multifunction pair: both functions
 *              listed with their IOMMU groups and addresses, ENOSPC with
 *              the count when argsz is too small, EINVAL below the header;
 *              the same answers as vfio-pci's
 *   hot_reset  VFIO_DEVICE_PCI_HOT_RESET there: every bad request (flags,
 *              count 0 or above the affected functions, a bad fd, an fd
 *              that is no group, a group that does not cover the pair, the
 *              other function not on the provider) fails with vfio-pci's
 *              errno; with the right groups both functions are really
 *              reset (a marker in the physical MSI data register, which
 *              the PCI core does not restore with MSI off, is cleared),
 *              their BARs work after it, and (vstub only) a peer-to-peer
 *              mapping of the other function's BAR is revoked by it
 *   foreign_bar  MAP_DMA into vstub's container of a BAR mmap of an edu on
 *              the in-kernel vfio-pci: the whole BAR, one page, and an
 *              mmap at a poorly aligned address (the kernel's VFIO
 *              selftests map_full_bar/map_partial_bar/map_bar_misaligned);
 *              an edu on vstub reads the other edu's registers through
 *              the IOMMU (its ID, and a liveness value the CPU just
 *              wrote); nothing counted in VmLck; EFAULT past the mmap and
 *              for a writable mapping of a read-only mmap; every answer
 *              equal to type1's for the same calls
 *   own_bar    the same map/unmap calls for a vstub device's own BAR0 in its
 *              own container (how the kernel's VFIO selftests run them),
 *              equal to type1's for an edu's own BAR on vfio-pci
 *
 * The pair exists where selftests/lib/vm.sh puts a root port (every
 * configuration but the debug sweep's); QEMU 7.2's AMD-Vi does not
 * translate DMA from behind it, so there the peer-to-peer step of
 * hot_reset is reported, not checked.  Without interrupt remapping vfio-pci's reference needs
 * vfio_iommu_type1's allow_unsafe_interrupts, which the test sets and
 * restores, and vstub gets allow_unsafe_interrupts=1.
 * Runs as root in a QEMU guest of selftests/run (edus unbound at boot).
 */
#include <stddef.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define PG_SIZE		4096UL
#define SZ_1G		(1UL << 30)
#define EDU_ID		0x010000ed
#define IOVA_RAM	0x100000ULL
#define IOVA_BAR	0x8000000ULL	/* below edu's 28-bit DMA mask */
#define P2P_SENTINEL	0x5e5e5e5e
#define P2P_SLOT	(EDU_DEV_BUF + 0x100)
#define MARKER		0x4a5b
#define TYPE1_UNSAFE	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

/* ---- providers ------------------------------------------------------------ */

/* Give @bdf to the provider: vfio-pci, or vstub (loaded) by address. */
static int give(bool vfio_pci, const char *bdf)
{
	if (vfio_pci)
		return pci_bind_override(bdf, "vfio-pci");
	if (pci_driver_is(bdf, "vstub"))
		return 0;
	if (!pci_driver_is(bdf, ""))
		pci_unbind(bdf);
	return vstub_capture_wait(bdf);
}

/* Take @bdf back from the provider (no driver left). */
static void take(bool vfio_pci, const char *bdf)
{
	if (vfio_pci)
		pci_drop_override(bdf);
	else if (pci_driver_is(bdf, "vstub"))
		vstub_write("release", bdf);
}

static const char *node_dir(bool vfio_pci)
{
	return vfio_pci ? VFIO_NODE_DIR : VSTUB_NODE_DIR;
}

/* Container, group, Type1v2, device fd, BAR0 mmapped, DMA on. */
static int open_dev(bool vfio_pci, const char *bdf, struct vfio_ctx *w)
{
	int ret;

	vfio_ctx_init(w);
	ret = give(vfio_pci, bdf);
	if (!ret)
		ret = vfio_open_device(w, node_dir(vfio_pci), bdf,
				       VFIO_TYPE1v2_IOMMU);
	if (!ret)
		ret = vfio_enable_dma(w->device);
	return ret;
}

/* ---- physical config space (sysfs), for the reset marker ------------------- */

static int phys_cfg(const char *bdf, unsigned int off, void *buf, size_t len,
		    bool write)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/config", PCI_DEVICES_DIR, bdf);
	fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Offset of edu's MSI message data register, or 0. */
static unsigned int msi_data_off(const char *bdf)
{
	uint8_t pos = 0, id = 0;
	uint16_t flags;
	int n;

	if (phys_cfg(bdf, PCI_CAPABILITY_LIST, &pos, 1, false))
		return 0;
	for (n = 0; pos && n < 48; n++) {
		if (phys_cfg(bdf, pos, &id, 1, false))
			return 0;
		if (id == PCI_CAP_ID_MSI) {
			if (phys_cfg(bdf, pos + PCI_MSI_FLAGS, &flags, 2, false))
				return 0;
			return pos + (flags & PCI_MSI_FLAGS_64BIT ?
				      PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
		}
		if (phys_cfg(bdf, pos + 1, &pos, 1, false))
			return 0;
	}
	return 0;
}

static int marker_set(const char *bdf, uint16_t val)
{
	unsigned int off = msi_data_off(bdf);

	return off ? phys_cfg(bdf, off, &val, 2, true) : -ENOENT;
}

static uint16_t marker_get(const char *bdf)
{
	unsigned int off = msi_data_off(bdf);
	uint16_t val = 0xffff;

	if (off)
		phys_cfg(bdf, off, &val, 2, false);
	return val;
}

/* ---- fixture ---------------------------------------------------------------- */

FIXTURE(reset)
{
	char edu0[BDF_LEN], edu1[BDF_LEN];	/* on pcie.0 */
	char rpa[BDF_LEN], rpb[BDF_LEN];	/* behind the root port */
	bool have_edu1, have_pair;
	char unsafe[8];				/* type1's, to restore */
};

FIXTURE_SETUP(reset)
{
	char bdf[BDF_LEN];
	int i;

	self->have_edu1 = self->have_pair = false;
	self->unsafe[0] = self->rpa[0] = '\0';
	if (!path_exists("/sys/bus/pci/drivers/vfio-pci"))
		SKIP(return, "vfio-pci is not loaded");
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu0, BDF_LEN));
	for (i = 1; !pci_find(EDU_VENDOR, EDU_DEVICE, i, bdf, BDF_LEN); i++) {
		if (!strncmp(bdf, "0000:00:", 8)) {
			if (!self->have_edu1)
				strcpy(self->edu1, bdf);
			self->have_edu1 = true;
		} else if (!self->rpa[0]) {
			strcpy(self->rpa, bdf);
		} else if (!self->have_pair &&
			   !strncmp(bdf, self->rpa, strlen(self->rpa) - 1)) {
			strcpy(self->rpb, bdf);
			self->have_pair = true;
		}
	}
	if (vstub_no_intremap()) {
		sysfs_read(TYPE1_UNSAFE, self->unsafe, sizeof(self->unsafe));
		sysfs_write(TYPE1_UNSAFE, "1");
	}
	ASSERT_EQ(0, vstub_unload_if_loaded());
	ASSERT_EQ(0, vstub_load(vstub_no_intremap() ?
				"allow_unsafe_interrupts=1" : ""));
}

FIXTURE_TEARDOWN(reset)
{
	vstub_unload_if_loaded();
	pci_drop_override(self->edu0);
	if (self->have_edu1)
		pci_drop_override(self->edu1);
	if (self->rpa[0])
		pci_drop_override(self->rpa);
	if (self->have_pair)
		pci_drop_override(self->rpb);
	if (self->unsafe[0])
		sysfs_write(TYPE1_UNSAFE, self->unsafe[0] == 'Y' ? "1" : "0");
}

/* ---- GET_PCI_HOT_RESET_INFO ------------------------------------------------ */

#define MAX_DEP	8

struct info_answer {
	int small_ret, tiny_ret, ret;
	uint32_t small_count, count;
	struct vfio_pci_dependent_device dev[MAX_DEP];
};

static int info_answers(bool vfio_pci, FIXTURE_DATA(reset) *self,
			struct info_answer *a)
{
	struct {
		struct vfio_pci_hot_reset_info hdr;
		struct vfio_pci_dependent_device dev[MAX_DEP];
	} buf;
	struct vfio_ctx w;
	int ret;

	memset(a, 0, sizeof(*a));
	vfio_ctx_init(&w);
	ret = give(vfio_pci, self->rpb);
	if (!ret)
		ret = open_dev(vfio_pci, self->rpa, &w);
	if (ret) {
		vfio_ctx_close(&w);
		return ret;
	}
	memset(&buf, 0, sizeof(buf));
	buf.hdr.argsz = sizeof(buf.hdr);
	a->small_ret = ioctl(w.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			     &buf) ? -errno : 0;
	a->small_count = buf.hdr.count;
	buf.hdr.argsz = offsetof(struct vfio_pci_hot_reset_info, count);
	a->tiny_ret = ioctl(w.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
			    &buf) ? -errno : 0;
	memset(&buf, 0, sizeof(buf));
	buf.hdr.argsz = sizeof(buf);
	a->ret = ioctl(w.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &buf) ?
		 -errno : 0;
	a->count = buf.hdr.count;
	memcpy(a->dev, buf.dev, sizeof(a->dev));
	vfio_ctx_close(&w);
	take(vfio_pci, self->rpa);
	take(vfio_pci, self->rpb);
	return 0;
}

static bool dep_is(const struct vfio_pci_dependent_device *d, const char *bdf)
{
	char name[BDF_LEN];

	snprintf(name, sizeof(name), "%04x:%02x:%02x.%x", d->segment, d->bus,
		 d->devfn >> 3, d->devfn & 7);
	return !strcmp(name, bdf) && (int)d->group_id == vfio_group_of(bdf);
}

TEST_F_TIMEOUT(reset, hot_reset_info, 120)
{
	struct info_answer ref, got;
	unsigned int i, seen_a = 0, seen_b = 0;

	if (!self->have_pair)
		SKIP(return, "no multifunction pair behind a root port here");
	ASSERT_EQ(0, info_answers(true, self, &ref));
	ASSERT_EQ(0, info_answers(false, self, &got));
	TH_LOG("vfio-pci: %d/%u, vstub: %d/%u affected functions",
	       ref.ret, ref.count, got.ret, got.count);
	EXPECT_EQ(-ENOSPC, got.small_ret);
	EXPECT_EQ(2, got.small_count);
	EXPECT_EQ(-EINVAL, got.tiny_ret);
	ASSERT_EQ(0, got.ret);
	ASSERT_EQ(2, got.count);
	for (i = 0; i < got.count; i++) {
		seen_a += dep_is(&got.dev[i], self->rpa);
		seen_b += dep_is(&got.dev[i], self->rpb);
	}
	EXPECT_EQ(1, seen_a);
	EXPECT_EQ(1, seen_b);
	EXPECT_EQ(ref.small_ret, got.small_ret);
	EXPECT_EQ(ref.small_count, got.small_count);
	EXPECT_EQ(ref.tiny_ret, got.tiny_ret);
	EXPECT_EQ(ref.ret, got.ret);
	EXPECT_EQ(ref.count, got.count);
	EXPECT_EQ(0, memcmp(ref.dev, got.dev, sizeof(ref.dev)));
}

/* ---- PCI_HOT_RESET ---------------------------------------------------------- */

enum {
	HR_FLAGS, HR_COUNT0, HR_COUNT_BIG, HR_BADF, HR_NOT_GROUP, HR_OTHER_GROUP,
	HR_PARTIAL, HR_OK, HR_OK_EXTRA, HR_NOT_PROVIDER, HR_NR
};

static const char *const hr_name[HR_NR] = {
	"flags", "count 0", "count above affected", "bad fd", "container fd",
	"another group only", "first group only", "right groups",
	"right groups plus another", "other function not on the provider",
};

struct hr_answer {
	int ret[HR_NR];
	uint16_t mark_set;		/* read back before it (both) */
	uint16_t mark_a, mark_b;	/* after the successful reset */
	uint32_t id_after;		/* BAR0 of rpa after it */
	uint32_t p2p_before, p2p_after;	/* rpa DMA of rpb's ID (vstub) */
	int groups;			/* the pair's groups: 1 or 2 */
};

static int hot_reset(int device, uint32_t flags, uint32_t count,
		     const int32_t *fds)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		int32_t fds[4];
	} r = { .hdr = { .argsz = sizeof(r), .flags = flags, .count = count } };

	memcpy(r.fds, fds, count <= 4 ? count * sizeof(*fds) : sizeof(r.fds));
	return ioctl(device, VFIO_DEVICE_PCI_HOT_RESET, &r) ? -errno : 0;
}

/* rpa DMAs 4 bytes at IOVA_BAR (rpb's BAR0 when mapped) via its buffer. */
static uint32_t p2p_dma(struct vfio_ctx *edu, uint32_t *ram, uint64_t iova)
{
	ram[0] = P2P_SENTINEL;
	ram[1] = 0;
	if (edu_dma(edu->bar0, IOVA_RAM, P2P_SLOT, 4, 0, 3000) ||
	    edu_dma(edu->bar0, iova, P2P_SLOT, 4, 0, 3000) ||
	    edu_dma(edu->bar0, P2P_SLOT, IOVA_RAM + 4, 4, 1, 3000))
		return 0xdead;
	return __atomic_load_n(&ram[1], __ATOMIC_SEQ_CST);
}

static int hr_answers(bool vfio_pci, FIXTURE_DATA(reset) *self,
		      struct hr_answer *a)
{
	struct vfio_ctx w, b, o;
	int32_t fds[4];
	uint32_t *ram;
	int gb = -1, ret, n;

	memset(a, 0, sizeof(*a));
	vfio_ctx_init(&w);
	vfio_ctx_init(&b);
	vfio_ctx_init(&o);
	ram = mmap(NULL, PG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return -errno;
	ret = give(vfio_pci, self->rpb);
	if (!ret)
		ret = open_dev(vfio_pci, self->rpa, &w);
	/* rpb: its own group when it has one, in the same container. */
	if (!ret && vfio_group_of(self->rpb) != w.groupnr) {
		ret = vfio_open_group(&b, node_dir(vfio_pci), self->rpb);
		if (!ret && ioctl(b.group, VFIO_GROUP_SET_CONTAINER,
				  &w.container))
			ret = -errno;
		gb = b.group;
	}
	if (!ret) {
		b.device = ioctl(gb >= 0 ? gb : w.group,
				 VFIO_GROUP_GET_DEVICE_FD, self->rpb);
		ret = b.device < 0 ? -errno : 0;
	}
	if (!ret)
		ret = vfio_mmap_bar(b.device, 0, &b.bar0, &b.bar0_size);
	if (!ret)
		ret = vfio_enable_dma(b.device);
	/* Another group of the provider (edu on pcie.0), not attached. */
	if (!ret)
		ret = give(vfio_pci, self->edu0);
	if (!ret)
		ret = vfio_open_group(&o, node_dir(vfio_pci), self->edu0);
	if (!ret)
		ret = vfio_map(w.container, ram, IOVA_RAM, PG_SIZE, VFIO_RW);
	if (ret)
		goto out;

	fds[0] = w.group;
	fds[1] = gb >= 0 ? gb : o.group;
	fds[2] = o.group;
	fds[3] = -1;
	n = gb >= 0 ? 2 : 1;
	a->groups = n;
	a->ret[HR_FLAGS] = hot_reset(w.device, 1, n, fds);
	a->ret[HR_COUNT0] = hot_reset(w.device, 0, 0, fds);
	a->ret[HR_COUNT_BIG] = hot_reset(w.device, 0, 3, fds);	/* > 2 */
	a->ret[HR_BADF] = hot_reset(w.device, 0, 1, &fds[3]);
	a->ret[HR_NOT_GROUP] = hot_reset(w.device, 0, 1, &w.container);
	a->ret[HR_OTHER_GROUP] = hot_reset(w.device, 0, 1, &o.group);
	/* One group short: rpb's own, or with one group edu0's instead. */
	a->ret[HR_PARTIAL] = gb >= 0 ? hot_reset(w.device, 0, 1, fds) :
				       hot_reset(w.device, 0, 1, &o.group);

	if (!vfio_pci) {
		/* A peer-to-peer mapping of rpb's BAR, revoked by the reset. */
		if (!vfio_map(w.container, b.bar0, IOVA_BAR, b.bar0_size,
			      VFIO_RW))
			a->p2p_before = p2p_dma(&w, ram, IOVA_BAR);
	}
	marker_set(self->rpa, MARKER);
	marker_set(self->rpb, MARKER);
	a->mark_set = marker_get(self->rpa) & marker_get(self->rpb);
	a->ret[HR_OK] = hot_reset(w.device, 0, n, fds);
	a->mark_a = marker_get(self->rpa);
	a->mark_b = marker_get(self->rpb);
	a->id_after = edu_read(w.bar0, EDU_REG_ID);
	if (!vfio_pci) {
		a->p2p_after = p2p_dma(&w, ram, IOVA_BAR);
		vfio_unmap(w.container, IOVA_BAR, b.bar0_size, 0);
	}
	a->ret[HR_OK_EXTRA] = hot_reset(w.device, 0, n + 1, fds);

	/* rpb leaves the provider: the pair is no longer all its. */
	vfio_ctx_close(&b);
	take(vfio_pci, self->rpb);
	a->ret[HR_NOT_PROVIDER] = hot_reset(w.device, 0, n, fds);
out:
	vfio_ctx_close(&o);
	vfio_ctx_close(&b);
	vfio_ctx_close(&w);
	take(vfio_pci, self->edu0);
	take(vfio_pci, self->rpa);
	take(vfio_pci, self->rpb);
	munmap(ram, PG_SIZE);
	return ret;
}

TEST_F_TIMEOUT(reset, hot_reset, 240)
{
	static const int want[HR_NR] = {
		[HR_FLAGS] = -EINVAL, [HR_COUNT0] = -EINVAL,
		[HR_COUNT_BIG] = -EINVAL, [HR_BADF] = -EBADF,
		[HR_NOT_GROUP] = -EINVAL, [HR_OTHER_GROUP] = -EINVAL,
		[HR_PARTIAL] = -EINVAL, [HR_OK] = 0, [HR_OK_EXTRA] = 0,
		[HR_NOT_PROVIDER] = -EINVAL,
	};
	struct hr_answer ref, got;
	int i;

	if (!self->have_pair)
		SKIP(return, "no multifunction pair behind a root port here");
	ASSERT_EQ(0, hr_answers(true, self, &ref));
	ASSERT_EQ(0, hr_answers(false, self, &got));
	TH_LOG("the pair is in %d IOMMU group(s)", got.groups);
	EXPECT_EQ(ref.groups, got.groups);
	for (i = 0; i < HR_NR; i++) {
		TH_LOG("%-36s vfio-pci %4d  vstub %4d", hr_name[i],
		       ref.ret[i], got.ret[i]);
		/* With two groups, one more than the pair's is too many. */
		if (i == HR_OK_EXTRA && got.groups == 2) {
			EXPECT_EQ(-EINVAL, got.ret[i]);
		} else {
			EXPECT_EQ(want[i], got.ret[i]);
		}
		EXPECT_EQ(ref.ret[i], got.ret[i]);
	}
	TH_LOG("markers after the reset: vfio-pci 0x%x 0x%x, vstub 0x%x 0x%x",
	       ref.mark_a, ref.mark_b, got.mark_a, got.mark_b);
	EXPECT_EQ(MARKER, ref.mark_set);
	EXPECT_EQ(MARKER, got.mark_set);
	EXPECT_EQ(0, got.mark_a);
	EXPECT_EQ(0, got.mark_b);
	EXPECT_EQ(ref.mark_a, got.mark_a);
	EXPECT_EQ(ref.mark_b, got.mark_b);
	EXPECT_EQ(EDU_ID, got.id_after);
	EXPECT_EQ(ref.id_after, got.id_after);
	TH_LOG("vstub: rpa DMA of rpb's ID 0x%x before, 0x%x after the reset",
	       got.p2p_before, got.p2p_after);
	if (vstub_env_is("VSTUB_IOMMU", "amd") && got.p2p_before != EDU_ID) {
		TH_LOG("QEMU 7.2's AMD-Vi does not translate DMA from behind a root port (no fault reported either): the revocation is checked on the other IOMMUs");
		return;
	}
	EXPECT_EQ(EDU_ID, got.p2p_before);
	EXPECT_NE(EDU_ID, got.p2p_after);
}

/* ---- another driver's BAR (vfio-pci) in vstub's container ------------------- */

struct fb_answer {
	int full, full_unmap, part, part_unmap, mis, mis_unmap;
	int past_end, ro_write, ro_read, memlock;
};

/* Map @size of @va at IOVA_BAR into @c, and unmap it: both answers. */
static void map_unmap(int c, void *va, uint64_t size, int *map, int *unmap)
{
	int64_t n;

	*map = vfio_map(c, va, IOVA_BAR, size, VFIO_RW);
	n = vfio_unmap(c, IOVA_BAR, size, 0);
	*unmap = n < 0 ? (int)n : n == (int64_t)size ? 0 : -EIO;
}

/*
 * MAP_DMA of @size at @va into @c (and UNMAP_DMA) from a child without
 * CAP_IPC_LOCK whose RLIMIT_MEMLOCK is one page: its answer.  A BAR mmap is
 * not pinned, so type1 does not charge it to locked_vm.
 */
static int map_memlocked(int c, void *va, uint64_t size)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		struct rlimit rl = { PG_SIZE, PG_SIZE };
		int ret;

		if (drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(200);
		ret = vfio_map(c, va, IOVA_BAR, size, VFIO_RW);
		if (!ret && vfio_unmap(c, IOVA_BAR, size, 0) != (int64_t)size)
			_exit(201);
		_exit(-ret);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

/*
 * The map answers of container @c for BAR0 (@bar, @size) of the device
 * @dev (on vfio-pci) at region offset @off.
 */
static int fb_answers(int c, int dev, uint8_t *bar, size_t size,
		      struct fb_answer *a)
{
	uint64_t off = (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40;
	uint8_t *res, *va;
	void *ro;

	map_unmap(c, bar, size, &a->full, &a->full_unmap);
	a->memlock = map_memlocked(c, bar, size);
	map_unmap(c, bar, PG_SIZE, &a->part, &a->part_unmap);
	/* As map_bar_misaligned: 1 GiB-aligned plus one page. */
	res = mmap(NULL, size + SZ_1G + PG_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return -errno;
	va = (uint8_t *)(((uintptr_t)res + SZ_1G - 1) & ~(SZ_1G - 1)) +
	     PG_SIZE;
	if (mmap(va, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 dev, off) == MAP_FAILED) {
		munmap(res, size + SZ_1G + PG_SIZE);
		return -errno;
	}
	map_unmap(c, va, size, &a->mis, &a->mis_unmap);
	munmap(res, size + SZ_1G + PG_SIZE);
	a->past_end = vfio_map(c, bar + PG_SIZE, IOVA_BAR, size, VFIO_RW);
	if (!a->past_end)
		vfio_unmap(c, IOVA_BAR, size, 0);
	ro = mmap(NULL, size, PROT_READ, MAP_SHARED, dev, off);
	if (ro == MAP_FAILED)
		return -errno;
	a->ro_write = vfio_map(c, ro, IOVA_BAR, size, VFIO_RW);
	if (!a->ro_write)
		vfio_unmap(c, IOVA_BAR, size, 0);
	a->ro_read = vfio_map(c, ro, IOVA_BAR, size, VFIO_DMA_MAP_FLAG_READ);
	if (!a->ro_read)
		vfio_unmap(c, IOVA_BAR, size, 0);
	munmap(ro, size);
	return 0;
}

/* The answers of type1 (@r) and vstub (@g) side by side. */
static void fb_format(const struct fb_answer *r, const struct fb_answer *g,
		      char *buf, size_t len)
{
	snprintf(buf, len,
		 "full %d/%d part %d/%d misaligned %d/%d past end %d/%d ro+w %d/%d ro %d/%d over memlock %d/%d",
		 r->full, g->full, r->part, g->part, r->mis, g->mis,
		 r->past_end, g->past_end, r->ro_write, g->ro_write,
		 r->ro_read, g->ro_read, r->memlock, g->memlock);
}

TEST_F_TIMEOUT(reset, foreign_bar, 200)
{
	struct fb_answer ref = { 0 }, got = { 0 };
	char line[256];
	struct vfio_ctx e, f;
	uint32_t *ram, id, live;
	long lck0, lck1;

	if (!self->have_edu1)
		SKIP(return, "needs a second edu");
	ram = mmap(NULL, PG_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ram);

	/* edu1 on vfio-pci, in a container of its own (type1). */
	ASSERT_EQ(0, open_dev(true, self->edu1, &f));
	/* The reference: type1's answers for edu1's own BAR. */
	ASSERT_EQ(0, fb_answers(f.container, f.device, f.bar0, f.bar0_size,
				&ref));

	/* edu0 on vstub; edu1's BAR mmap (vfio-pci's) into its container. */
	ASSERT_EQ(0, open_dev(false, self->edu0, &e));
	ASSERT_EQ(0, vfio_map(e.container, ram, IOVA_RAM, PG_SIZE, VFIO_RW));
	lck0 = vstub_vmlck_kb(getpid());
	ASSERT_EQ(0, vfio_map(e.container, f.bar0, IOVA_BAR, f.bar0_size,
			      VFIO_RW));
	lck1 = vstub_vmlck_kb(getpid());
	EXPECT_EQ(lck0, lck1);
	id = p2p_dma(&e, ram, IOVA_BAR + EDU_REG_ID);
	edu_write(f.bar0, EDU_REG_LIVENESS, 0x12345678);
	live = p2p_dma(&e, ram, IOVA_BAR + EDU_REG_LIVENESS);
	TH_LOG("edu on vstub read edu on vfio-pci through the IOMMU: id 0x%x, liveness 0x%x (CPU 0x%x)",
	       id, live, edu_read(f.bar0, EDU_REG_LIVENESS));
	EXPECT_EQ(EDU_ID, id);
	EXPECT_EQ(edu_read(f.bar0, EDU_REG_LIVENESS), live);
	EXPECT_EQ(~0x12345678u, live);
	EXPECT_EQ((int64_t)f.bar0_size, vfio_unmap(e.container, IOVA_BAR,
						   f.bar0_size, 0));
	/* Unmapped: the DMA no longer reaches it. */
	EXPECT_NE(EDU_ID, p2p_dma(&e, ram, IOVA_BAR + EDU_REG_ID));

	/* One page, then the poorly aligned mmap, then the errors. */
	ASSERT_EQ(0, vfio_map(e.container, f.bar0, IOVA_BAR, PG_SIZE,
			      VFIO_RW));
	EXPECT_EQ(EDU_ID, p2p_dma(&e, ram, IOVA_BAR + EDU_REG_ID));
	EXPECT_EQ((int64_t)PG_SIZE, vfio_unmap(e.container, IOVA_BAR, PG_SIZE,
					       0));
	ASSERT_EQ(0, fb_answers(e.container, f.device, f.bar0, f.bar0_size,
				&got));
	fb_format(&ref, &got, line, sizeof(line));
	TH_LOG("type1 / vstub: %s", line);
	EXPECT_EQ(0, got.full);
	EXPECT_EQ(0, got.memlock);
	EXPECT_EQ(0, got.full_unmap);
	EXPECT_EQ(0, got.part);
	EXPECT_EQ(0, got.part_unmap);
	EXPECT_EQ(0, got.mis);
	EXPECT_EQ(0, got.mis_unmap);
	EXPECT_EQ(-EFAULT, got.past_end);
	EXPECT_EQ(-EFAULT, got.ro_write);
	EXPECT_EQ(0, got.ro_read);
	/*
	 * type1 pins on past a PFNMAP mmap into whatever follows it (so its
	 * answer there depends on the neighbour); the rest must be equal.
	 */
	ref.past_end = got.past_end;
	EXPECT_EQ(0, memcmp(&ref, &got, sizeof(ref)));

	vfio_ctx_close(&e);
	vfio_ctx_close(&f);
	take(false, self->edu0);
	pci_drop_override(self->edu1);
	munmap(ram, PG_SIZE);
}

TEST_F_TIMEOUT(reset, own_bar, 120)
{
	struct fb_answer ref = { 0 }, got = { 0 };
	char line[256];
	struct vfio_ctx e, f;

	ASSERT_EQ(0, open_dev(true, self->edu0, &f));
	ASSERT_EQ(0, fb_answers(f.container, f.device, f.bar0, f.bar0_size,
				&ref));
	vfio_ctx_close(&f);
	pci_drop_override(self->edu0);
	ASSERT_EQ(0, open_dev(false, self->edu0, &e));
	ASSERT_EQ(0, fb_answers(e.container, e.device, e.bar0, e.bar0_size,
				&got));
	fb_format(&ref, &got, line, sizeof(line));
	TH_LOG("type1 / vstub: %s", line);
	EXPECT_EQ(0, got.memlock);
	EXPECT_EQ(0, got.full);
	EXPECT_EQ(0, got.part);
	EXPECT_EQ(0, got.mis);
	EXPECT_EQ(-EFAULT, got.past_end);
	EXPECT_EQ(-EFAULT, got.ro_write);
	EXPECT_EQ(0, got.ro_read);
	ref.past_end = got.past_end;	/* see foreign_bar */
	EXPECT_EQ(0, memcmp(&ref, &got, sizeof(ref)));
	vfio_ctx_close(&e);
	take(false, self->edu0);
}

TEST_HARNESS_MAIN
