/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for programs that drive a device through vstub's VFIO interface
 * (selftests and the demo): open a container, a group and a device the
 * way a VFIO program does, map DMA, and run QEMU's edu device DMA engine.
 *
 * Functions return 0 (or a value) on success and -errno on failure.
 */
#ifndef _VSTUB_VFIO_UTIL_H
#define _VSTUB_VFIO_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

/* Nodes: /dev/vstub/... normally, /dev/vfio/... with vfio_compat=1. */
#define VSTUB_NODE_DIR		"/dev/vstub"
#define VFIO_NODE_DIR		"/dev/vfio"

/* QEMU edu device (docs/specs/edu.txt). */
#define EDU_REG_ID		0x00
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60	/* ORs the value into the status */
#define EDU_REG_IRQ_ACK		0x64	/* clears these status bits */
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2	/* device -> RAM; clear: RAM -> device */
#define EDU_DMA_IRQ		0x4	/* raise an interrupt when done */
#define EDU_IRQ_DMA		0x100	/* the status bit a DMA completion sets */
#define EDU_DEV_BUF		0x40000	/* the device's 4 KiB buffer */
#define EDU_DMA_MAX		4095	/* QEMU 7.2 aborts on 4096 */

struct vfio_ctx {
	int container;
	int group;
	int device;
	int groupnr;
	uint8_t *bar0;
	size_t bar0_size;
};

static inline void vfio_ctx_init(struct vfio_ctx *v)
{
	memset(v, 0, sizeof(*v));
	v->container = v->group = v->device = -1;
}

static inline void vfio_ctx_close(struct vfio_ctx *v)
{
	if (v->bar0)
		munmap(v->bar0, v->bar0_size);
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	vfio_ctx_init(v);
}

/* IOMMU group number of the PCI function @bdf, or -errno. */
static inline int vfio_group_of(const char *bdf)
{
	char path[512], link[256], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	return atoi(base ? base + 1 : link);
}

/* Open the container node in @dir. */
static inline int vfio_open_container(struct vfio_ctx *v, const char *dir)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/vfio", dir);
	v->container = open(path, O_RDWR | O_CLOEXEC);
	return v->container < 0 ? -errno : 0;
}

/* Open the group node of @bdf in @dir and check that it is viable. */
static inline int vfio_open_group(struct vfio_ctx *v, const char *dir,
				  const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[256];

	v->groupnr = vfio_group_of(bdf);
	if (v->groupnr < 0)
		return v->groupnr;
	snprintf(path, sizeof(path), "%s/%d", dir, v->groupnr);
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->group < 0)
		return -errno;
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &status))
		return -errno;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EPERM;
	return 0;
}

/* Map BAR @index of the open device, whole, read/write. */
static inline int vfio_mmap_bar(int device, int index, uint8_t **bar,
				size_t *size)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };
	void *p;

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -errno;
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, device,
		 ri.offset);
	if (p == MAP_FAILED)
		return -errno;
	*bar = p;
	*size = ri.size;
	return 0;
}

/* Config space of the open device through its config region. */
static inline int vfio_cfg_read(int device, unsigned int off, void *buf,
				size_t len)
{
	uint64_t base = (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40;
	ssize_t n = pread(device, buf, len, base + off);

	return n < 0 ? -errno : n == (ssize_t)len ? 0 : -EIO;
}

static inline int vfio_cfg_write(int device, unsigned int off,
				 const void *buf, size_t len)
{
	uint64_t base = (uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40;
	ssize_t n = pwrite(device, buf, len, base + off);

	return n < 0 ? -errno : n == (ssize_t)len ? 0 : -EIO;
}

/* Let the device decode memory and master DMA. */
static inline int vfio_enable_dma(int device)
{
	uint16_t cmd;
	int ret;

	ret = vfio_cfg_read(device, PCI_COMMAND, &cmd, sizeof(cmd));
	if (ret)
		return ret;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return vfio_cfg_write(device, PCI_COMMAND, &cmd, sizeof(cmd));
}

/*
 * The whole VFIO sequence for one device: container, group, SET_CONTAINER,
 * SET_IOMMU(@type), GET_DEVICE_FD (and, in vfio_open_device(), BAR0's
 * mmap).  On failure returns -errno and leaves what was opened in @v
 * (vfio_ctx_close() cleans up).
 */
static inline int vfio_open_device_fd(struct vfio_ctx *v, const char *dir,
				      const char *bdf, int type)
{
	int ret;

	ret = vfio_open_container(v, dir);
	if (ret)
		return ret;
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return -EINVAL;
	if (ioctl(v->container, VFIO_CHECK_EXTENSION, type) != 1)
		return -EINVAL;
	ret = vfio_open_group(v, dir, bdf);
	if (ret)
		return ret;
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container))
		return -errno;
	if (ioctl(v->container, VFIO_SET_IOMMU, type))
		return -errno;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return v->device < 0 ? -errno : 0;
}

static inline int vfio_open_device(struct vfio_ctx *v, const char *dir,
				   const char *bdf, int type)
{
	int ret = vfio_open_device_fd(v, dir, bdf, type);

	return ret ? ret : vfio_mmap_bar(v->device, 0, &v->bar0, &v->bar0_size);
}

static inline int vfio_map(int container, void *vaddr, uint64_t iova,
			   uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

#define VFIO_RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* Unmap; returns the size the kernel reports unmapped, or -errno. */
static inline int64_t vfio_unmap(int container, uint64_t iova, uint64_t size,
				 uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size;
}

/* One 32-bit MMIO access each, never merged or dropped by the compiler. */
static inline uint32_t edu_read(uint8_t *bar, unsigned int reg)
{
	return __atomic_load_n((uint32_t *)(bar + reg), __ATOMIC_SEQ_CST);
}

static inline void edu_write(uint8_t *bar, unsigned int reg, uint32_t val)
{
	__atomic_store_n((uint32_t *)(bar + reg), val, __ATOMIC_SEQ_CST);
}

/*
 * One edu DMA transfer: @count bytes from @src to @dst, @to_ram selecting
 * device -> RAM (dst an IOVA) or RAM -> device (src an IOVA).  Waits up to
 * @ms for the command's start bit to clear.  0, or -ETIMEDOUT.
 */
static inline int edu_dma(uint8_t *bar, uint32_t src, uint32_t dst,
			  uint32_t count, int to_ram, int ms)
{
	struct timespec ts = { 0, 5 * 1000000L };

	edu_write(bar, EDU_REG_DMA_SRC, src);
	edu_write(bar, EDU_REG_DMA_DST, dst);
	edu_write(bar, EDU_REG_DMA_COUNT, count);
	edu_write(bar, EDU_REG_DMA_CMD,
		  EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
	while (edu_read(bar, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		if (ms <= 0)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
		ms -= 5;
	}
	return 0;
}

/* ---- interrupts (VFIO_DEVICE_SET_IRQS) ---- */

/* Give vectors [@start, @start + @count) of @index the eventfds @fds. */
static inline int vfio_irq_set_fds(int device, unsigned int index,
				   unsigned int start, unsigned int count,
				   const int32_t *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + count * sizeof(int32_t);
	struct vfio_irq_set *set = calloc(1, sz);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = sz;
	set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = start;
	set->count = count;
	if (count)
		memcpy(set->data, fds, count * sizeof(int32_t));
	ret = ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
	free(set);
	return ret;
}

/*
 * DATA_NONE with @action (VFIO_IRQ_SET_ACTION_*): TRIGGER with count 0
 * disables @index, with count > 0 signals the eventfds (loopback).
 */
static inline int vfio_irq_set_none(int device, unsigned int index,
				    uint32_t action, unsigned int start,
				    unsigned int count)
{
	struct vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = VFIO_IRQ_SET_DATA_NONE | action,
		.index = index,
		.start = start,
		.count = count,
	};

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &set) ? -errno : 0;
}

/* DATA_BOOL with @action: only the vectors whose @bools byte is set. */
static inline int vfio_irq_set_bools(int device, unsigned int index,
				     uint32_t action, unsigned int start,
				     unsigned int count, const uint8_t *bools)
{
	size_t sz = sizeof(struct vfio_irq_set) + count;
	struct vfio_irq_set *set = calloc(1, sz);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = sz;
	set->flags = VFIO_IRQ_SET_DATA_BOOL | action;
	set->index = index;
	set->start = start;
	set->count = count;
	memcpy(set->data, bools, count);
	ret = ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
	free(set);
	return ret;
}

/*
 * Wait up to @ms for eventfd @fd to be signalled; returns its counter
 * (and resets it), 0 on time-out, or -errno.
 */
static inline int64_t eventfd_wait(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t val;
	int n;

	n = poll(&pfd, 1, ms);
	if (n < 0)
		return -errno;
	if (!n)
		return 0;
	if (read(fd, &val, sizeof(val)) != sizeof(val))
		return -errno;
	return (int64_t)val;
}

#endif /* _VSTUB_VFIO_UTIL_H */
