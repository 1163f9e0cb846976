/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_vfio.h - internal interfaces of vstub's VFIO personality.
 *
 * vstub offers the VFIO user ABI (include/uapi/linux/vfio.h, legacy
 * container mode with Type1/Type1v2 IOMMU semantics) for the devices it has
 * captured, on top of the kernel IOMMU API, without vfio.ko.
 *
 * Objects and who keeps them alive:
 *   vstub_container  one per open of the container node; kref held by its
 *                    file and by every group attached to it.  Owns the
 *                    IOMMU domain and every DMA mapping.
 *   vstub_group      one per IOMMU group holding a captured device; kref
 *                    held by the registry (while it has devices), by its
 *                    open file and by each of its vstub_vdev.
 *   vstub_vdev       one per captured device (vstub_dev.vfio); kref held by
 *                    the group's device list (until the PCI remove) and by
 *                    each open device file.  A device file also holds a
 *                    reference to the group *file*, so a group file is only
 *                    released once all its device files are closed.
 *
 * Lock order (outer first):
 *   device_lock(&pdev->dev) -> vstub_groups_lock -> vstub_group.lock
 *   vstub_group.lock -> vstub_vdev.lock       (opening a device file)
 *   vstub_group.lock -> vstub_container.lock  (attach, detach, teardown)
 *   vstub_container.lock -> the IOMMU group's own mutex
 *   vstub_vdev.lock is never held while taking a group or container lock.
 *   vstub_vdev.lock -> vstub_irqs.lock (a leaf spinlock, see vstub_irq.c;
 *   also taken by the INTx handler and the PCI error callback)
 *   vstub_vdev.holders_lock is a leaf spinlock (it may be taken under
 *   vstub_devs_lock and vstub_group.lock by the netlink reports).
 *   (the PCI core takes device_lock around probe/remove; vstub never
 *   sleeps on a device_lock from its file operations, it only uses the
 *   try-variants of the PCI reset helpers.)
 *   vstub_container.lock may be held while taking an mm's mmap_lock
 *   (pinning, locked_vm accounting); nothing of vstub is taken under an
 *   mmap_lock except vstub_vdev.lock in the BAR mmap handler, and no
 *   user copy is made while holding vstub_vdev.lock.
 */
#ifndef _VSTUB_VFIO_H
#define _VSTUB_VFIO_H

#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rbtree.h>
#include <linux/wait.h>
#include <uapi/linux/vfio.h>

#include "vstub.h"

/* Module parameters (vstub_vfio.c). */
extern bool vstub_allow_unsafe_interrupts;
extern unsigned int vstub_dma_entry_limit;
extern unsigned int vstub_release_timeout_ms;

/* VFIO region offsets: index in the top bits, as vfio-pci (DPDK relies). */
#define VSTUB_OFFSET_SHIFT	40
#define VSTUB_OFFSET_MASK	((1ULL << VSTUB_OFFSET_SHIFT) - 1)
#define VSTUB_OFFSET_TO_INDEX(off)	((off) >> VSTUB_OFFSET_SHIFT)
#define VSTUB_INDEX_TO_OFFSET(idx)	((u64)(idx) << VSTUB_OFFSET_SHIFT)

struct vstub_irqs;

/* A valid IOVA range [start, last] of a container. */
struct vstub_iova_range {
	u64 start;
	u64 last;
};

/**
 * struct vstub_container - a container (one open of the container node)
 * @kref:          lifetime: container file + one per attached group
 * @lock:          protects every field below
 * @groups:        attached vstub_group, via vstub_group.container_node
 * @domain:        IOMMU paging domain, set by SET_IOMMU, NULL before and
 *                 again after the last group detached
 * @v2:            Type1v2 semantics (unmap refuses to bisect a mapping)
 * @pgsize_bitmap: page sizes usable for mappings (domain's, min PAGE_SIZE)
 * @ranges:        valid IOVA ranges, sorted; @nr_ranges entries
 * @dma_tree:      vstub_dma mappings keyed by IOVA
 * @dma_count:     number of entries in @dma_tree
 * @pinned_pages:  pages pinned by the entries of @dma_tree
 */
struct vstub_container {
	struct kref kref;
	struct mutex lock;
	struct list_head groups;
	struct iommu_domain *domain;
	bool v2;
	unsigned long pgsize_bitmap;
	struct vstub_iova_range *ranges;
	unsigned int nr_ranges;
	struct rb_root dma_tree;
	unsigned int dma_count;
	unsigned long pinned_pages;
};

/**
 * struct vstub_group - an IOMMU group that holds a captured device
 * @kref:           lifetime, see the top of this file
 * @iommu_group:    the IOMMU group (a reference is held)
 * @id:             iommu_group_id(), the node's name
 * @minor:          minor number of the group node (0 = container node)
 * @node:           the class device of the node; under vstub_groups_lock
 * @reg_node:       on the registry list; under vstub_groups_lock
 * @lock:           protects @devices, @opened, @dev_open, @container
 * @devices:        captured devices of this group (vstub_vdev.group_node)
 * @opened:         the node is open (it can be opened once at a time)
 * @dev_open:       number of open device files of this group
 * @container:      container the group is attached to, or NULL; while set
 *                  the group holds a container reference and DMA ownership
 *                  of @iommu_group
 * @container_node: on @container->groups, under @container->lock
 * @owner:          owner of the node, from the device that created it;
 *                  read-only
 */
struct vstub_group {
	struct kref kref;
	struct iommu_group *iommu_group;
	int id;
	int minor;
	struct device *node;
	struct list_head reg_node;
	struct mutex lock;
	struct list_head devices;
	bool opened;
	unsigned int dev_open;
	struct vstub_container *container;
	struct list_head container_node;
	struct vstub_owner owner;
};

/**
 * struct vstub_vdev - VFIO state of one captured PCI function
 * @kref:        lifetime, see the top of this file
 * @pdev:        the function (reference held)
 * @group:       its group (reference held)
 * @group_node:  on @group->devices, under @group->lock
 * @mapping:     address_space of all device files' BAR mmaps, so that
 *               they can be zapped at revoke time
 * @closed_wq:   woken when @open_count drops, for the PCI remove path that
 *               waits for userspace to give the device back (REQ)
 * @irqs:        interrupt state (vstub_irq.c), allocated with the vdev and
 *               freed with it; changed under @lock and its own spinlock
 * @lock:        protects every field below
 * @revoked:     the device was removed from vstub: every operation fails
 * @open_count:  number of open device files
 * @reset_works: pci_probe_reset_function() succeeded at first open
 * @saved_state: config state saved at first open, restored at last close
 * @bar_map:     pci_iomap() of the BARs used by read/write (lazy)
 * @bar_owned:   bitmask of BARs whose region vstub requested
 * @vbar:        virtual BAR registers seen by userspace
 * @vrom:        virtual expansion ROM BAR register
 * @bar_size:    sizes of the BARs (0 = absent); [PCI_ROM_RESOURCE] = ROM
 * @holders_lock: a leaf spinlock protecting @holders only, so that
 *               netlink reports never wait for @lock
 * @holders:     the open device files (vstub_dfile.holder_node)
 */
struct vstub_vdev {
	struct kref kref;
	struct pci_dev *pdev;
	struct vstub_group *group;
	struct list_head group_node;
	struct address_space mapping;
	wait_queue_head_t closed_wq;
	struct vstub_irqs *irqs;
	struct mutex lock;
	bool revoked;
	unsigned int open_count;
	bool reset_works;
	struct pci_saved_state *saved_state;
	void __iomem *bar_map[PCI_STD_NUM_BARS];
	unsigned int bar_owned;
	u32 vbar[PCI_STD_NUM_BARS];
	u32 vrom;
	u64 bar_size[PCI_ROM_RESOURCE + 1];
	spinlock_t holders_lock;
	struct list_head holders;
};

/* vstub_vfio.c */
struct vstub_group *vstub_group_get_by_minor(int minor);

/* vstub_group.c */
extern const struct file_operations vstub_group_fops;
void vstub_group_release_kref(struct kref *kref);
static inline void vstub_group_put(struct vstub_group *group)
{
	kref_put(&group->kref, vstub_group_release_kref);
}
void vstub_group_detach_locked(struct vstub_group *group);
void vstub_group_device_closed(struct vstub_group *group);

/* vstub_container.c */
extern const struct file_operations vstub_container_fops;
void vstub_container_put(struct vstub_container *c);
bool vstub_container_has_iommu(struct vstub_container *c);
int vstub_container_attach_group(struct vstub_container *c,
				 struct vstub_group *group);
void vstub_container_detach_group(struct vstub_container *c,
				  struct vstub_group *group);
bool vstub_group_msi_ok(struct vstub_group *group);

/* vstub_dma.c: the mapping store of a container (container->lock held) */
int vstub_dma_map(struct vstub_container *c,
		  struct vfio_iommu_type1_dma_map *map);
int vstub_dma_unmap(struct vstub_container *c,
		    struct vfio_iommu_type1_dma_unmap *unmap);
void vstub_dma_unmap_all(struct vstub_container *c, u64 *unmapped);
bool vstub_dma_ranges_cover(struct vstub_container *c,
			    const struct vstub_iova_range *ranges,
			    unsigned int nr);

/* vstub_device.c */
struct vstub_vdev *vstub_vdev_create(struct pci_dev *pdev,
				     struct vstub_group *group);
void vstub_vdev_put(struct vstub_vdev *vdev);
void vstub_vdev_request(struct vstub_vdev *vdev);
void vstub_vdev_revoke(struct vstub_vdev *vdev);
struct file *vstub_vdev_open_file(struct vstub_vdev *vdev,
				  struct file *group_file);
void vstub_vdev_holders(struct vstub_vdev *vdev, struct vstub_vfio_stats *st);

/* vstub_config.c: config space virtualization (vdev->lock held) */
void vstub_config_init(struct vstub_vdev *vdev);
int vstub_config_rw(struct vstub_vdev *vdev, u8 *buf, loff_t pos,
		    size_t count, bool write);

#endif /* _VSTUB_VFIO_H */
