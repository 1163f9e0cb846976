/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_vfio_iso.h - what the isolation tests (vstub_vfio_isolation_test,
 * vstub_vfio_iso_sriov_test) share: config and BAR access through the
 * device fd and from the host's side (sysfs resource files), the MSI-X
 * table, NVMe programming and reloading, and the fixture with one
 * provider (vstub or, as the reference, vfio-pci) holding edu.  Include
 * after kselftest_harness.h.
 */
#ifndef _VSTUB_VFIO_ISO_H
#define _VSTUB_VFIO_ISO_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define EDU_ID		0x010000edU
#define REGION(i)	((uint64_t)(i) << 40)

/* ---- helpers ------------------------------------------------------------ */

static inline int cfg_cmd(int device, uint16_t *cmd)
{
	return vfio_cfg_read(device, PCI_COMMAND, cmd, sizeof(*cmd));
}

/* Set (@on) or clear the command register bits @bits through VFIO. */
static inline int cmd_bits(int device, uint16_t bits, bool on)
{
	uint16_t cmd;
	int ret = cfg_cmd(device, &cmd);

	if (ret)
		return ret;
	cmd = on ? cmd | bits : cmd & ~bits;
	return vfio_cfg_write(device, PCI_COMMAND, &cmd, sizeof(cmd));
}

/* pread/pwrite of a region: the errno, or 0 when all bytes moved. */
static inline int region_rw(int device, int index, uint64_t off, void *buf,
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
static inline int64_t touch_in_child(volatile uint32_t *p)
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
static inline int msix_table(const char *bdf, int *bir, uint32_t *off)
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
static inline int resource_map(const char *bdf, int bar, uint64_t off, size_t len,
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
static inline int msix_entry_map(const char *bdf, unsigned int i, int prot,
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
static inline int msix_entry(const char *bdf, unsigned int i, uint32_t ent[4])
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
static inline int64_t bar_reg_host(const char *bdf, int bar, unsigned int reg)
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
static inline int nvme_unload(void)
{
	if (!path_exists("/sys/module/nvme"))
		return 0;
	return syscall(SYS_delete_module, "nvme", O_NONBLOCK) ? -errno : 0;
}

/* Load nvme.ko again (its path as /etc/vstub-modules lists it). */
static inline void nvme_reload(void)
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
static inline int nvme_program(const char *bdf, struct vfio_ctx *w)
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

static inline void *closer_thread(void *arg)
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
static inline int msix_entry_clear(const char *bdf, unsigned int i)
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

static inline const char *node_dir(const FIXTURE_VARIANT(iso) *variant)
{
	return variant->vfio_pci ? VFIO_NODE_DIR : VSTUB_NODE_DIR;
}

/* Hand @bdf to the variant's provider and open it into @w. */
static inline int open_dev(const FIXTURE_VARIANT(iso) *variant, const char *bdf,
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

#endif /* _VSTUB_VFIO_ISO_H */
