// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_isolation_test - what userspace must not be able to do to a
 * device it holds, and what the host must get back, checked against vstub
 * and, as the reference, against the in-kernel vfio-pci in the same guest
 * (variant vfio_pci; skipped where vfio-pci cannot attach):
 *
 *   decode_off      clearing PCI_COMMAND_MEMORY through the config region:
 *                   BAR read/write -EIO, mmap touch SIGBUS, both work again
 *                   once it is set; ROM reads -EIO too (e1000e's ROM)
 *   msix_decode_off MSI-X set-up and teardown while userspace keeps memory
 *                   decode off still program the MSI-X table (read back
 *                   through the PCI core's sysfs resource file)
 *   msix_table      e1000e: BAR read/write never reach the MSI-X table
 *                   (reads all ones, writes dropped), the PBA stays
 *                   readable; the MSI-X BAR's region info carries
 *                   MSIX_MAPPABLE (isolated MSIs: whole BAR mmappable) or
 *                   else a sparse-mmap capability without the table page,
 *                   whose mmap is refused
 *   cache_coherency VFIO_DMA_CC_IOMMU as type1 answers it: 0 before
 *                   SET_IOMMU, then whether the IOMMU enforces snooping,
 *                   the same as vfio-pci's answer for the same device
 *   vf_config       an NVMe SR-IOV VF's config space as vfio-pci presents
 *                   it: vendor/device IDs, BAR types from its resources
 *                   and BAR sizing, a virtual memory enable bit
 *   sriov_opt_in    no VFs on a PF userspace holds open through VFIO
 *                   unless the administrator set enable_sriov=1
 *   reset_on_return NVMe (FLR): a register userspace programmed is back
 *                   at its reset value whenever the device returns to the
 *                   host: close + release, release answered through REQ
 *                   (the close races the release's device lock), module
 *                   unload, REQ ignored (revoked)
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define EDU_ID		0x010000edU
#define REGION(i)	((uint64_t)(i) << 40)

/* ---- helpers ------------------------------------------------------------ */

static int cfg_cmd(int device, uint16_t *cmd)
{
	return vfio_cfg_read(device, PCI_COMMAND, cmd, sizeof(*cmd));
}

/* Set (@on) or clear the command register bits @bits through VFIO. */
static int cmd_bits(int device, uint16_t bits, bool on)
{
	uint16_t cmd;
	int ret = cfg_cmd(device, &cmd);

	if (ret)
		return ret;
	cmd = on ? cmd | bits : cmd & ~bits;
	return vfio_cfg_write(device, PCI_COMMAND, &cmd, sizeof(cmd));
}

/* pread/pwrite of a region: the errno, or 0 when all bytes moved. */
static int region_rw(int device, int index, uint64_t off, void *buf,
		     size_t len, bool write)
{
	ssize_t n = write ? pwrite(device, buf, len, REGION(index) + off) :
			    pread(device, buf, len, REGION(index) + off);

	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

/*
 * Read the 32-bit word at @p in a child: its value (>= 0), or minus the
 * signal that killed the child.
 */
static int64_t touch_in_child(volatile uint32_t *p)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1000;
	if (!pid) {
		uint32_t v = *p;

		_exit(v == EDU_ID ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1000;
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* MSI-X capability of @bdf: table BIR and offset; 0 or -errno. */
static int msix_table(const char *bdf, int *bir, uint32_t *off)
{
	uint8_t cfg[256];
	char path[256];
	unsigned int pos;
	ssize_t n;
	int fd, hops;

	snprintf(path, sizeof(path), "%s/%s/config", PCI_DEVICES_DIR, bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	if (n != sizeof(cfg))
		return -EIO;
	pos = cfg[PCI_CAPABILITY_LIST] & ~3;
	for (hops = 0; pos && hops < 48; hops++) {
		if (cfg[pos] == PCI_CAP_ID_MSIX) {
			uint32_t t;

			memcpy(&t, cfg + pos + PCI_MSIX_TABLE, 4);
			*bir = t & PCI_MSIX_TABLE_BIR;
			*off = t & PCI_MSIX_TABLE_OFFSET;
			return 0;
		}
		pos = cfg[pos + 1] & ~3;
	}
	return -ENOENT;
}

/*
 * Map @len bytes at @off of BAR @bar of @bdf through the PCI core's sysfs
 * resource file (the host's view, not the VFIO provider's): *@p points at
 * @off, *@map and *@maplen are what munmap() takes.
 */
static int resource_map(const char *bdf, int bar, uint64_t off, size_t len,
			int prot, volatile uint32_t **p, uint8_t **map,
			size_t *maplen)
{
	long pg = sysconf(_SC_PAGESIZE);
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/resource%d", PCI_DEVICES_DIR, bdf,
		 bar);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*maplen = (off & (pg - 1)) + len;
	*map = mmap(NULL, *maplen, prot, MAP_SHARED, fd, off & ~(pg - 1));
	close(fd);
	if (*map == MAP_FAILED)
		return -errno;
	*p = (volatile uint32_t *)(*map + (off & (pg - 1)));
	return 0;
}

/* Map MSI-X table entry @i of @bdf through sysfs (see resource_map()). */
static int msix_entry_map(const char *bdf, unsigned int i, int prot,
			  volatile uint32_t **p, uint8_t **map, size_t *len)
{
	uint32_t off = 0;
	int bir = 0, ret;

	ret = msix_table(bdf, &bir, &off);
	if (ret)
		return ret;
	return resource_map(bdf, bir, off + i * PCI_MSIX_ENTRY_SIZE,
			    PCI_MSIX_ENTRY_SIZE, prot, p, map, len);
}

/* MSI-X table entry @i of @bdf as the device holds it. */
static int msix_entry(const char *bdf, unsigned int i, uint32_t ent[4])
{
	volatile uint32_t *p;
	uint8_t *map;
	size_t len;
	int ret, k;

	ret = msix_entry_map(bdf, i, PROT_READ, &p, &map, &len);
	if (ret)
		return ret;
	for (k = 0; k < 4; k++)
		ent[k] = p[k];
	munmap(map, len);
	return 0;
}

/* 32-bit register @reg of BAR @bar of @bdf, through sysfs (host view). */
static int64_t bar_reg_host(const char *bdf, int bar, unsigned int reg)
{
	volatile uint32_t *p;
	uint8_t *map;
	size_t len;
	uint32_t v;
	int ret;

	ret = resource_map(bdf, bar, reg, sizeof(v), PROT_READ, &p, &map, &len);
	if (ret)
		return ret;
	v = *p;
	munmap(map, len);
	return v;
}

/* The nvme driver out of the way, so nothing rebinds a released NVMe. */
static int nvme_unload(void)
{
	if (!path_exists("/sys/module/nvme"))
		return 0;
	return syscall(SYS_delete_module, "nvme", O_NONBLOCK) ? -errno : 0;
}

/* Load nvme.ko again (its path as /etc/vstub-modules lists it). */
static void nvme_reload(void)
{
	FILE *f = fopen("/etc/vstub-modules", "r");
	char line[256], path[512];
	int fd;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, " \n")] = '\0';
		if (strcmp(line, "nvme.ko") &&
		    (strlen(line) < 8 || strcmp(line + strlen(line) - 8,
						"/nvme.ko")))
			continue;
		snprintf(path, sizeof(path), "/lib/modules/%s/%s",
			 vstub_env("VSTUB_KVER", ""), line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			syscall(SYS_finit_module, fd, "", 0);
			close(fd);
		}
	}
	fclose(f);
}

#define NVME_REG_CC	0x14
#define NVME_REG_AQA	0x24
#define NVME_CC_VAL	0x00460000U	/* IOCQES 4, IOSQES 6, EN 0 */

/*
 * Open the captured NVMe @bdf into @w and program CC and AQA through the
 * BAR0 region (not mmap: without isolated MSIs the MSI-X table page of
 * BAR0 cannot be mapped, so the helper's whole-BAR mmap fails there).
 */
static int nvme_program(const char *bdf, struct vfio_ctx *w)
{
	uint32_t aqa = 0x001f001f, cc = NVME_CC_VAL;
	int ret;

	vfio_ctx_init(w);
	ret = vfio_open_device(w, VSTUB_NODE_DIR, bdf, VFIO_TYPE1v2_IOMMU);
	if (ret == -EINVAL && w->device >= 0 && !w->bar0)
		ret = 0;
	if (!ret)
		ret = vfio_enable_dma(w->device);
	if (!ret)
		ret = region_rw(w->device, 0, NVME_REG_AQA, &aqa, 4, true);
	if (!ret)
		ret = region_rw(w->device, 0, NVME_REG_CC, &cc, 4, true);
	if (!ret)
		ret = region_rw(w->device, 0, NVME_REG_CC, &cc, 4, false);
	if (ret)
		return ret;
	return cc == NVME_CC_VAL ? 0 : -EIO;
}

/* Closes the device when its REQ eventfd fires (a cooperating user). */
struct closer {
	struct vfio_ctx *w;
	int efd;
	int got;
};

static void *closer_thread(void *arg)
{
	struct closer *c = arg;

	c->got = eventfd_wait(c->efd, 10000) > 0;
	vfio_ctx_close(c->w);
	return NULL;
}

/*
 * Clear MSI-X entry @i of @bdf through sysfs (while nobody has requested
 * the BAR), so that an earlier test cannot leave a pattern behind.
 */
static int msix_entry_clear(const char *bdf, unsigned int i)
{
	volatile uint32_t *p;
	uint8_t *map;
	size_t len;
	int ret, k;

	ret = msix_entry_map(bdf, i, PROT_READ | PROT_WRITE, &p, &map, &len);
	if (ret)
		return ret;
	for (k = 0; k < 3; k++)
		p[k] = 0;
	munmap(map, len);
	return 0;
}

/* ---- the fixture: one provider (vstub or vfio-pci), edu open ------------ */

FIXTURE(iso)
{
	char edu[BDF_LEN];
	char other[BDF_LEN];	/* a second device the test bound, or "" */
	bool nvme_gone;		/* the test unloaded nvme.ko */
	char pf[BDF_LEN];	/* a PF whose VFs the test enabled, or "" */
	struct vfio_ctx v;
};

FIXTURE_VARIANT(iso)
{
	bool vfio_pci;		/* the in-kernel reference instead of vstub */
};

FIXTURE_VARIANT_ADD(iso, vstub)
{
	.vfio_pci = false,
};

FIXTURE_VARIANT_ADD(iso, vfio_pci)
{
	.vfio_pci = true,
};

static const char *node_dir(const FIXTURE_VARIANT(iso) *variant)
{
	return variant->vfio_pci ? VFIO_NODE_DIR : VSTUB_NODE_DIR;
}

/* Hand @bdf to the variant's provider and open it into @w. */
static int open_dev(const FIXTURE_VARIANT(iso) *variant, const char *bdf,
		    struct vfio_ctx *w)
{
	int ret;

	if (variant->vfio_pci)
		ret = pci_bind_override(bdf, "vfio-pci");
	else
		ret = pci_driver_is(bdf, "vstub") ? 0 : vstub_capture_wait(bdf);
	if (ret)
		return ret;
	return vfio_open_device(w, node_dir(variant), bdf, VFIO_TYPE1v2_IOMMU);
}

FIXTURE_SETUP(iso)
{
	vfio_ctx_init(&self->v);
	self->other[0] = '\0';
	self->nvme_gone = false;
	self->pf[0] = '\0';
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu, BDF_LEN));
	if (variant->vfio_pci) {
		if (vstub_no_intremap())
			SKIP(return, "vfio-pci refuses groups without interrupt remapping");
		if (!path_exists("/sys/bus/pci/drivers/vfio-pci"))
			SKIP(return, "vfio-pci is not loaded");
		ASSERT_EQ(0, vstub_unload_if_loaded());
	} else {
		ASSERT_EQ(0, vstub_load_edu(NULL, false, self->edu));
	}
	ASSERT_EQ(0, open_dev(variant, self->edu, &self->v));
	ASSERT_EQ(0, vfio_enable_dma(self->v.device));
}

FIXTURE_TEARDOWN(iso)
{
	vfio_ctx_close(&self->v);
	if (self->pf[0] && self->other[0] && variant->vfio_pci)
		pci_unbind_override(self->other);
	if (self->pf[0]) {
		vstub_unload_if_loaded();
		pci_write_attr(self->pf, "sriov_numvfs", "0");
		pci_write_attr(self->pf, "sriov_drivers_autoprobe", "1");
		self->other[0] = '\0';
	}
	if (variant->vfio_pci) {
		pci_unbind_override(self->edu);
		if (self->other[0])
			pci_unbind_override(self->other);
	} else {
		vstub_unload_if_loaded();
		if (self->nvme_gone)
			nvme_reload();
		if (self->other[0])
			pci_probe(self->other);
	}
}

/* ---- item 1: memory decode off ------------------------------------------ */

TEST_F_TIMEOUT(iso, decode_off, 120)
{
	int dev = self->v.device;
	volatile uint32_t *bar = (volatile uint32_t *)self->v.bar0;
	uint32_t val = 0, w = 0x5a5a1234;

	ASSERT_EQ(0, region_rw(dev, 0, EDU_REG_ID, &val, 4, false));
	EXPECT_EQ(EDU_ID, val);
	EXPECT_EQ(0, touch_in_child(bar));

	/* Decode off: no access reaches the BAR. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
	EXPECT_FALSE(pci_cmd_phys(self->edu) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(-EIO, region_rw(dev, 0, EDU_REG_ID, &val, 4, false));
	EXPECT_EQ(-EIO, region_rw(dev, 0, EDU_REG_LIVENESS, &w, 4, true));
	EXPECT_EQ(-EIO, region_rw(dev, 0, EDU_DEV_BUF, &val, 1, false));
	EXPECT_EQ(-SIGBUS, touch_in_child(bar));
	EXPECT_EQ(-SIGBUS, touch_in_child(bar + 0x1000 / 4));
	/* Config space stays reachable. */
	EXPECT_EQ(0, vfio_cfg_read(dev, 0, &val, 4));
	EXPECT_EQ(0x11e81234U, val);

	/* Decode on again: both ways work, the mapping refaults. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, region_rw(dev, 0, EDU_REG_ID, &val, 4, false));
	EXPECT_EQ(EDU_ID, val);
	EXPECT_EQ(0, region_rw(dev, 0, EDU_REG_LIVENESS, &w, 4, true));
	EXPECT_EQ(~w, edu_read(self->v.bar0, EDU_REG_LIVENESS));
	EXPECT_EQ(0, touch_in_child(bar));
}

/* ROM and I/O BARs (e1000e has both; its ROM only if QEMU found one). */
TEST_F_TIMEOUT(iso, decode_off_rom_io, 120)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_ctx w;
	uint8_t sig[2];
	uint32_t val;
	int dev, bar, ret;

	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, self->other, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	vfio_ctx_init(&w);
	ASSERT_EQ(0, open_dev(variant, self->other, &w));
	dev = w.device;
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, true));

	ri.index = VFIO_PCI_ROM_REGION_INDEX;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
	if (ri.size) {
		ASSERT_EQ(0, region_rw(dev, VFIO_PCI_ROM_REGION_INDEX, 0, sig,
				       2, false));
		EXPECT_EQ(0x55, sig[0]);
		EXPECT_EQ(0xaa, sig[1]);
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
		ret = region_rw(dev, VFIO_PCI_ROM_REGION_INDEX, 0, sig, 2,
				false);
		/* vfio-pci's pci_map_rom() reads the ROM header: -ENOMEM */
		if (variant->vfio_pci) {
			EXPECT_TRUE(ret == -EIO || ret == -ENOMEM);
		} else {
			EXPECT_EQ(-EIO, ret);
		}
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
		EXPECT_EQ(0, region_rw(dev, VFIO_PCI_ROM_REGION_INDEX, 0,
				       sig, 2, false));
	} else {
		TH_LOG("e1000e has no ROM here: ROM part not checked");
	}

	/* vfio-pci lets I/O port access through with IO off; vstub does not. */
	for (bar = 0; bar < 6; bar++) {
		ri.index = bar;
		ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
		if (ri.size && !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) &&
		    ri.size <= 256)
			break;
	}
	if (bar < 6 && !variant->vfio_pci) {
		EXPECT_EQ(0, region_rw(dev, bar, 0, &val, 4, false));
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_IO, false));
		EXPECT_EQ(-EIO, region_rw(dev, bar, 0, &val, 4, false));
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_IO, true));
		EXPECT_EQ(0, region_rw(dev, bar, 0, &val, 4, false));
	}
	vfio_ctx_close(&w);
}

/*
 * MSI-X set-up and teardown program the table even when userspace keeps
 * memory decode off (e1000e, MSI-X table in a BAR nobody maps).
 */
TEST_F_TIMEOUT(iso, msix_decode_off, 120)
{
	uint32_t ent[4];
	struct vfio_ctx w;
	int32_t efd;
	int dev;

	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, self->other, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	vfio_ctx_init(&w);
	ASSERT_EQ(0, open_dev(variant, self->other, &w));
	dev = w.device;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);

	/* Set-up with decode off: the entry gets its message, unmasked. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
				      &efd));
	EXPECT_FALSE(pci_cmd_phys(self->other) & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, msix_entry(self->other, 0, ent));
	TH_LOG("entry 0 after set-up: %08x %08x %08x %08x", ent[0], ent[1],
	       ent[2], ent[3]);
	EXPECT_NE(0U, ent[0]);
	EXPECT_EQ(0U, ent[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);

	/* Again with decode on, so that the teardown below starts unmasked. */
	ASSERT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
				      &efd));
	ASSERT_EQ(0, msix_entry(self->other, 0, ent));
	ASSERT_EQ(0U, ent[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);

	/* Teardown with decode off: the entry ends masked. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
	ASSERT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	EXPECT_FALSE(pci_cmd_phys(self->other) & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, msix_entry(self->other, 0, ent));
	TH_LOG("entry 0 after teardown: %08x %08x %08x %08x", ent[0], ent[1],
	       ent[2], ent[3]);
	EXPECT_EQ(PCI_MSIX_ENTRY_CTRL_MASKBIT,
		  ent[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
	close(efd);
	vfio_ctx_close(&w);
}

/* ---- item 6: the MSI-X table and PBA ----------------------------------- */

/* MSI-X layout of @bdf: table BIR/offset, PBA BIR/offset, vectors. */
static int msix_layout(const char *bdf, int *tbir, uint32_t *toff, int *pbir,
		       uint32_t *poff, unsigned int *nvec)
{
	uint8_t cfg[256];
	char path[256];
	unsigned int pos;
	int fd, hops;

	snprintf(path, sizeof(path), "%s/%s/config", PCI_DEVICES_DIR, bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg)) {
		close(fd);
		return -EIO;
	}
	close(fd);
	pos = cfg[PCI_CAPABILITY_LIST] & ~3;
	for (hops = 0; pos && hops < 48; hops++) {
		if (cfg[pos] == PCI_CAP_ID_MSIX) {
			uint32_t t, p;
			uint16_t f;

			memcpy(&f, cfg + pos + PCI_MSIX_FLAGS, 2);
			memcpy(&t, cfg + pos + PCI_MSIX_TABLE, 4);
			memcpy(&p, cfg + pos + PCI_MSIX_PBA, 4);
			*tbir = t & PCI_MSIX_TABLE_BIR;
			*toff = t & PCI_MSIX_TABLE_OFFSET;
			*pbir = p & PCI_MSIX_PBA_BIR;
			*poff = p & PCI_MSIX_PBA_OFFSET;
			*nvec = (f & PCI_MSIX_FLAGS_QSIZE) + 1;
			return 0;
		}
		pos = cfg[pos + 1] & ~3;
	}
	return -ENOENT;
}

/* The capability @id in a region info buffer of @size bytes, or NULL. */
static struct vfio_info_cap_header *region_cap(struct vfio_region_info *ri,
					       size_t size, uint16_t id)
{
	uint32_t off = ri->cap_offset;
	int hops;

	for (hops = 0; off && off + sizeof(struct vfio_info_cap_header) <= size &&
	     hops < 16; hops++) {
		struct vfio_info_cap_header *h = (void *)((char *)ri + off);

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

TEST_F_TIMEOUT(iso, msix_table, 120)
{
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_region_info small = { .argsz = sizeof(small) };
	uint8_t buf[16], zero[16] = { 0 }, pba[8];
	uint32_t pattern[4] = { 0xfee0f00c, 0, 0x4321, 0 };
	uint32_t before[4], after[4], toff = 0, poff = 0;
	struct vfio_region_info *ri;
	unsigned int nvec = 0, i;
	int dev, tbir = 0, pbir = 0;
	struct vfio_ctx w;
	size_t rsize;
	int32_t efd;
	void *p;

	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, self->other, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	ASSERT_EQ(0, msix_layout(self->other, &tbir, &toff, &pbir, &poff,
				 &nvec));
	vfio_ctx_init(&w);
	ASSERT_EQ(0, open_dev(variant, self->other, &w));
	dev = w.device;
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
				      &efd));
	ASSERT_EQ(0, msix_entry(self->other, 0, before));
	ASSERT_NE(0U, before[0]);
	ASSERT_GE(nvec, 2U);
	ASSERT_EQ(0, msix_entry_clear(self->other, nvec - 1));

	/* Reads of the table: all ones, also one that straddles its end. */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, region_rw(dev, tbir, toff, buf, sizeof(buf), false));
	for (i = 0; i < sizeof(buf); i++)
		EXPECT_EQ(0xff, buf[i]);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, region_rw(dev, tbir, toff + nvec * 16 - 4, buf, 8,
			       false));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0xff, buf[i]);
	/*
	 * Writes: accepted and dropped.  The last entry is one the kernel
	 * does not use (one vector enabled): checked after the close, when
	 * the sysfs resource file may map the BAR again.
	 */
	EXPECT_EQ(0, region_rw(dev, tbir, toff, zero, sizeof(zero), true));
	EXPECT_EQ(0, region_rw(dev, tbir, toff + (nvec - 1) * 16, pattern,
			       sizeof(pattern), true));
	/* The PBA stays readable. */
	EXPECT_EQ(0, region_rw(dev, pbir, poff, pba, sizeof(pba), false));

	/* Region info: too small a buffer learns the size with CAPS. */
	small.index = tbir;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &small));
	EXPECT_TRUE(small.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_TRUE(small.flags & VFIO_REGION_INFO_FLAG_CAPS);
	ASSERT_GT(small.argsz, sizeof(small));
	EXPECT_EQ(0U, small.cap_offset);
	rsize = small.argsz;
	ri = calloc(1, rsize);
	ASSERT_NE(NULL, ri);
	ri->argsz = rsize;
	ri->index = tbir;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	EXPECT_EQ(sizeof(*ri), ri->cap_offset);

	if (!vstub_no_intremap()) {
		/* Isolated MSIs: the whole BAR, table included, mappable. */
		EXPECT_NE(NULL, region_cap(ri, rsize,
					   VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
		EXPECT_EQ(NULL, region_cap(ri, rsize,
					   VFIO_REGION_INFO_CAP_SPARSE_MMAP));
		p = mmap(NULL, ri->size, PROT_READ, MAP_SHARED, dev,
			 ri->offset);
		EXPECT_NE(MAP_FAILED, p);
		if (p != MAP_FAILED)
			munmap(p, ri->size);
	} else {
		/* Not isolated: the table page is a hole of a sparse map. */
		uint64_t hole = toff & ~4095U;

		EXPECT_EQ(NULL, region_cap(ri, rsize,
					   VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
		sp = (void *)region_cap(ri, rsize,
					VFIO_REGION_INFO_CAP_SPARSE_MMAP);
		ASSERT_NE(NULL, sp);
		ASSERT_GE(sp->nr_areas, 1U);
		for (i = 0; i < sp->nr_areas; i++) {
			TH_LOG("sparse area %u: %#llx + %#llx", i,
			       (unsigned long long)sp->areas[i].offset,
			       (unsigned long long)sp->areas[i].size);
			EXPECT_TRUE(sp->areas[i].offset >= hole + 4096 ||
				    sp->areas[i].offset + sp->areas[i].size <=
				    hole);
			p = mmap(NULL, sp->areas[i].size, PROT_READ,
				 MAP_SHARED, dev,
				 ri->offset + sp->areas[i].offset);
			EXPECT_NE(MAP_FAILED, p);
			if (p != MAP_FAILED)
				munmap(p, sp->areas[i].size);
		}
		EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED,
					   dev, ri->offset + hole));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(MAP_FAILED, mmap(NULL, ri->size, PROT_READ,
					   MAP_SHARED, dev, ri->offset));
	}
	free(ri);
	close(efd);
	vfio_ctx_close(&w);
	ASSERT_EQ(0, msix_entry(self->other, nvec - 1, after));
	TH_LOG("entry %u after the user's write: %08x %08x %08x %08x",
	       nvec - 1, after[0], after[1], after[2], after[3]);
	EXPECT_NE(pattern[0], after[0]);
	EXPECT_NE(pattern[2], after[2]);
}

/* ---- item 5: a VF's config space ---------------------------------------- */

/* sriov_numvfs of the PF @pf, or -1. */
static int pci_count_vfs(const char *pf)
{
	unsigned long n;

	return pci_read_ulong(pf, "sriov_numvfs", &n) ? -1 : (int)n;
}

/* The BDF of @pf's first VF. */
static int pci_vf_bdf(const char *pf, char *bdf, size_t len)
{
	char path[256], link[128], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/virtfn0", PCI_DEVICES_DIR, pf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -ENOENT;
	link[n] = '\0';
	base = strrchr(link, '/');
	vstub_strlcpy(bdf, base ? base + 1 : link, len);
	return 0;
}

static int read_hex_attr(const char *bdf, const char *attr, unsigned long *v)
{
	return pci_read_ulong(bdf, attr, v);
}

/* Flags of resource @i of @bdf (third column of sysfs "resource"). */
static int resource_flags(const char *bdf, int i, unsigned long long *start,
			  unsigned long long *end, unsigned long long *flags)
{
	char path[256], line[128];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "%s/%s/resource", PCI_DEVICES_DIR, bdf);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (++n == i)
			break;
	fclose(f);
	if (n != i || sscanf(line, "%llx %llx %llx", start, end, flags) != 3)
		return -EIO;
	return 0;
}

TEST_F_TIMEOUT(iso, vf_config, 120)
{
	unsigned long long start, end, flags;
	unsigned long vendor, device;
	uint32_t id, bar, want, all = 0xffffffff;
	uint16_t cmd;
	char path[256], link[128], *base;
	struct vfio_ctx w;
	ssize_t n;
	int ret;

	if (!vstub_env_is("VSTUB_SRIOV", "1"))
		SKIP(return, "no SR-IOV device in this configuration");
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, self->pf, BDF_LEN))
		SKIP(return, "no NVMe in this guest");
	ASSERT_EQ(0, pci_write_attr(self->pf, "sriov_drivers_autoprobe", "0"));
	ASSERT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	snprintf(path, sizeof(path), "%s/%s/virtfn0", PCI_DEVICES_DIR, self->pf);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = '\0';
	base = strrchr(link, '/');
	vstub_strlcpy(self->other, base ? base + 1 : link, BDF_LEN);
	if (pci_iommu_group(self->other) < 0)
		SKIP(return, "the VF has no IOMMU group here");

	vfio_ctx_init(&w);
	ret = open_dev(variant, self->other, &w);
	if (ret == -EINVAL && w.device >= 0 && !w.bar0)
		ret = 0;	/* MSI-X table page in BAR0, not mappable */
	ASSERT_EQ(0, ret);

	/* IDs as the PCI core has them (the VF's own read as all ones). */
	ASSERT_EQ(0, read_hex_attr(self->other, "vendor", &vendor));
	ASSERT_EQ(0, read_hex_attr(self->other, "device", &device));
	ASSERT_EQ(0, vfio_cfg_read(w.device, PCI_VENDOR_ID, &id, 4));
	EXPECT_EQ((uint32_t)(vendor | device << 16), id);

	/* BAR0: its resource's type bits, and sizing works. */
	ASSERT_EQ(0, resource_flags(self->other, 0, &start, &end, &flags));
	ASSERT_NE(0ULL, end);
	want = PCI_BASE_ADDRESS_SPACE_MEMORY;
	if (flags & 0x00100000)		/* IORESOURCE_MEM_64 */
		want |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (flags & 0x00002000)		/* IORESOURCE_PREFETCH */
		want |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	ASSERT_EQ(0, vfio_cfg_read(w.device, PCI_BASE_ADDRESS_0, &bar, 4));
	TH_LOG("VF BAR0 %08x, resource %llx-%llx flags %llx", bar, start, end,
	       flags);
	EXPECT_EQ(want, bar & 0xf);
	ASSERT_EQ(0, vfio_cfg_write(w.device, PCI_BASE_ADDRESS_0, &all, 4));
	ASSERT_EQ(0, vfio_cfg_read(w.device, PCI_BASE_ADDRESS_0, &bar, 4));
	EXPECT_EQ((uint32_t)~(end - start) & ~0xfU, bar & ~0xfU);
	EXPECT_EQ(want, bar & 0xf);

	/* The memory enable bit reads back as written. */
	ASSERT_EQ(0, cmd_bits(w.device, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, cfg_cmd(w.device, &cmd));
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, cmd_bits(w.device, PCI_COMMAND_MEMORY, false));
	ASSERT_EQ(0, cfg_cmd(w.device, &cmd));
	EXPECT_FALSE(cmd & PCI_COMMAND_MEMORY);
	vfio_ctx_close(&w);
}

/* ---- item 4 (first half): SR-IOV on a PF in use only by opt-in -------- */

#define ENABLE_SRIOV_PARAM	"/sys/module/vstub/parameters/enable_sriov"

TEST_F_TIMEOUT(iso, sriov_opt_in, 120)
{
	char mark[128], vf[BDF_LEN];
	struct vfio_ctx w;
	int ret;

	if (variant->vfio_pci)
		SKIP(return, "vstub's own parameter");
	if (!vstub_env_is("VSTUB_SRIOV", "1"))
		SKIP(return, "no SR-IOV device in this configuration");
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, self->pf, BDF_LEN))
		SKIP(return, "no NVMe in this guest");
	ASSERT_EQ(0, vstub_capture_wait(self->pf));
	vfio_ctx_init(&w);
	ret = vfio_open_device(&w, VSTUB_NODE_DIR, self->pf,
			       VFIO_TYPE1v2_IOMMU);
	if (ret == -EINVAL && w.device >= 0 && !w.bar0)
		ret = 0;	/* MSI-X table page in BAR0, not mappable */
	ASSERT_EQ(0, ret);

	/* Held open: refused (vfio-pci's errno without enable_sriov). */
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-ENOENT, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	EXPECT_TRUE(dmesg_since(mark, "enable_sriov=1"));
	EXPECT_EQ(0, pci_count_vfs(self->pf));

	/* The administrator opts in: allowed, the VF is vstub's. */
	ASSERT_EQ(0, sysfs_write(ENABLE_SRIOV_PARAM, "1"));
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	EXPECT_EQ(1, pci_count_vfs(self->pf));
	if (!pci_vf_bdf(self->pf, vf, sizeof(vf)))
		EXPECT_TRUE(pci_wait_driver(vf, "vstub", 3000));
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "0"));
	ASSERT_EQ(0, sysfs_write(ENABLE_SRIOV_PARAM, "0"));

	/* Closed again: allowed without the opt-in. */
	vfio_ctx_close(&w);
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	EXPECT_EQ(1, pci_count_vfs(self->pf));
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "0"));
}

/* ---- item 2: reset whenever the device returns to the host ------------ */

TEST_F_TIMEOUT(iso, reset_on_return, 180)
{
	struct closer c = { 0 };
	struct vfio_ctx w;
	char *nvme = self->other;
	pthread_t th;

	if (variant->vfio_pci)
		SKIP(return, "vstub's own release paths");
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, nvme, BDF_LEN))
		SKIP(return, "no NVMe in this guest");
	self->nvme_gone = true;
	ASSERT_EQ(0, nvme_unload());
	c.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(c.efd, 0);
	c.w = &w;

	/* 1. Closed, then released. */
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	vfio_ctx_close(&w);
	ASSERT_EQ(0, vstub_write("release", nvme));
	EXPECT_TRUE(pci_driver_is(nvme, ""));
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));

	/* 2. Released while open; the user closes on REQ. */
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	ASSERT_EQ(0, vfio_irq_set_fds(w.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
				      &c.efd));
	ASSERT_EQ(0, pthread_create(&th, NULL, closer_thread, &c));
	EXPECT_EQ(0, vstub_write("release", nvme));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_TRUE(c.got);
	EXPECT_TRUE(pci_driver_is(nvme, ""));
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));

	/* 3. Module unload (an open device file pins the module). */
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	EXPECT_EQ(-EBUSY, vstub_unload());
	vfio_ctx_close(&w);
	vfio_ctx_close(&self->v);
	EXPECT_EQ(0, vstub_unload());
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));

	/* 4. REQ ignored: revoked after release_timeout_ms, still reset. */
	ASSERT_EQ(0, vstub_load_edu("release_timeout_ms=1000", false,
				    self->edu));
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	ASSERT_EQ(0, vfio_irq_set_fds(w.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
				      &c.efd));
	EXPECT_EQ(0, vstub_write("release", nvme));
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));
	vfio_ctx_close(&w);
	close(c.efd);
}

/* ---- item 7: cache coherency (IOMMU_CACHE, enforce_cache_coherency) --- */

TEST_F_TIMEOUT(iso, cache_coherency, 120)
{
	struct vfio_ctx w;
	int mine, ref;

	vfio_ctx_init(&w);
	ASSERT_EQ(0, vfio_open_container(&w, node_dir(variant)));
	EXPECT_EQ(0, ioctl(w.container, VFIO_CHECK_EXTENSION,
			   VFIO_DMA_CC_IOMMU));
	vfio_ctx_close(&w);
	mine = ioctl(self->v.container, VFIO_CHECK_EXTENSION,
		     VFIO_DMA_CC_IOMMU);
	TH_LOG("%s: VFIO_DMA_CC_IOMMU %d (%s)",
	       variant->vfio_pci ? "vfio-pci" : "vstub", mine,
	       vstub_env("VSTUB_IOMMU", "?"));
	EXPECT_TRUE(mine == 0 || mine == 1);
	if (variant->vfio_pci)
		return;
	if (vstub_no_intremap() || !path_exists("/sys/bus/pci/drivers/vfio-pci"))
		SKIP(return, "no vfio-pci to compare with here");
	/* The reference: vfio-pci with type1 on the same device. */
	vfio_ctx_close(&self->v);
	ASSERT_EQ(0, vstub_unload());
	ASSERT_EQ(0, pci_bind_override(self->edu, "vfio-pci"));
	ASSERT_EQ(0, vfio_open_device(&w, VFIO_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ref = ioctl(w.container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
	vfio_ctx_close(&w);
	pci_unbind_override(self->edu);
	EXPECT_EQ(ref, mine);
}

TEST_HARNESS_MAIN
