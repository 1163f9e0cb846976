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
 * Locks: each one's comment says what it protects; their order is in the
 * one comment of vstub.h.
 */
#ifndef _VSTUB_VFIO_H
#define _VSTUB_VFIO_H

#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <uapi/linux/vfio.h>

#include "vstub.h"

/* Module parameters (vstub_vfio.c). */
extern bool vstub_allow_unsafe_interrupts;
extern unsigned int vstub_dma_entry_limit;
extern unsigned int vstub_release_timeout_ms;
extern bool vstub_enable_sriov;

/* VFIO region offsets: index in the top bits, as vfio-pci (DPDK relies). */
#define VSTUB_OFFSET_SHIFT	40
#define VSTUB_OFFSET_MASK	((1ULL << VSTUB_OFFSET_SHIFT) - 1)
#define VSTUB_OFFSET_TO_INDEX(off)	((off) >> VSTUB_OFFSET_SHIFT)
#define VSTUB_INDEX_TO_OFFSET(idx)	((u64)(idx) << VSTUB_OFFSET_SHIFT)

struct vstub_irqs;
struct vstub_vf_token;

/* A valid IOVA range [start, last] of a container. */
struct vstub_iova_range {
	u64 start;
	u64 last;
};

/**
 * struct vstub_container - a container (one open of the container node)
 * @kref:          lifetime: container file + one per attached group (and
 *                 briefly a netlink report, see vstub_group.stats_lock)
 * @lock:          protects every field below.  Never held while waiting on
 *                 userspace: MAP_DMA pins the pages without it
 * @groups:        attached vstub_group, via vstub_group.container_node
 * @domain:        IOMMU paging domain, set by SET_IOMMU, NULL before and
 *                 again after the last group detached
 * @v2:            Type1v2 semantics (unmap refuses to bisect a mapping)
 * @cache_coherent: the domain enforces cache coherency (no-snoop DMA is
 *                 snooped anyway); VFIO_DMA_CC_IOMMU
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
	bool cache_coherent;
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
 * @node:           the class device of the node; set under vstub_groups_lock,
 *                  cleared (the group is gone from the registry, no device
 *                  joins it any more) under @lock and vstub_groups_lock
 * @reg_node:       on the registry list; under vstub_groups_lock
 * @lock:           protects @devices, @opened, @dev_open, @container.
 *                  Never held while waiting on userspace (pinning, user
 *                  copies), so that removal and other users of the group
 *                  cannot be stalled by a tenant; ioctls take it killable
 * @stats_lock:     a leaf spinlock; writers of @container take it too, so
 *                  that the netlink reports read @container (and take a
 *                  reference) under it alone, never waiting for @lock
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
	spinlock_t stats_lock;
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
 * @lock:        protects every field below; also serializes every BAR
 *               access (read/write, fault) with the command register
 *               writes that turn memory decode off (vstub_config.c)
 * @revoked:     the device was removed from vstub: every operation fails
 * @open_count:  number of open device files
 * @reset_works: the reset at first open succeeded (VFIO_DEVICE_RESET)
 * @needs_reset: userspace had the device since its last reset: reset it
 *               before the host gets it back
 * @saved_state: config state saved at first open, restored at last close
 * @bar_map:     pci_iomap() of the BARs used by read/write (lazy)
 * @bar_owned:   bitmask of BARs whose region vstub requested
 * @vbar:        virtual BAR registers seen by userspace
 * @vrom:        virtual expansion ROM BAR register
 * @cfg_perm:    config space permissions past the header while open
 *               (vstub_config_perm.c)
 * @vf_mem:      virtual PCI_COMMAND_MEMORY of a VF (it has none of its own)
 * @bar_size:    sizes of the BARs (0 = absent); [PCI_ROM_RESOURCE] = ROM
 * @msix_bar:    BAR holding the MSI-X table, -1 without MSI-X; the table
 *               is [@msix_start, @msix_end) in it (vstub_bar.c)
 * @pba_bar:     BAR holding the MSI-X PBA, -1 without; [@pba_start,
 *               @pba_end) in it
 * @msix_mappable: the group's MSIs are isolated, so the table's pages may
 *               be mmapped (VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)
 * @is_vga:      a VGA function registered with the VGA arbiter (vstub_vga.c)
 * @has_vga:     it offers the VGA region (not with disable_vga=1)
 * (@bar_size, the MSI-X and VGA fields are set at creation, then
 * read-only.)
 * @holders_lock: a leaf spinlock protecting @holders only, so that
 *               netlink reports never wait for @lock
 * @holders:     the open device files (vstub_dfile.holder_node)
 * @p2p_list:    IOMMU mappings of this device's BARs (peer-to-peer
 *               MAP_DMA), under vstub_p2p_lock (vstub_dma.c); created only
 *               while open and revoked (and emptied) by vstub_bar_zap()
 * @vf_token:    an SR-IOV PF's VF token (vstub_sriov.c), NULL for any
 *               other function; set at creation, read-only afterwards
 * @pf_token:    a VF's PF token while the VF is open and its PF is bound
 *               to vstub (a reference is held); under @lock
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
	bool needs_reset;
	struct pci_saved_state *saved_state;
	void __iomem *bar_map[PCI_STD_NUM_BARS];
	unsigned int bar_owned;
	u32 vbar[PCI_STD_NUM_BARS];
	u32 vrom;
	struct vstub_cfg_perm *cfg_perm;
	bool vf_mem;
	u64 bar_size[PCI_ROM_RESOURCE + 1];
	int msix_bar;
	u64 msix_start;
	u64 msix_end;
	int pba_bar;
	u64 pba_start;
	u64 pba_end;
	bool msix_mappable;
	bool is_vga;
	bool has_vga;
	spinlock_t holders_lock;
	struct list_head holders;
	struct list_head p2p_list;
	struct vstub_vf_token *vf_token;
	struct vstub_vf_token *pf_token;
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
int vstub_container_has_iommu(struct vstub_container *c);
int vstub_container_attach_group(struct vstub_container *c,
				 struct vstub_group *group);
void vstub_container_detach_group(struct vstub_container *c,
				  struct vstub_group *group);
bool vstub_group_msi_ok(struct vstub_group *group);

/*
 * vstub_dma.c: the mapping store of a container (container->lock held,
 * except by vstub_dma_map(), which takes it itself around the pinning)
 */
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
void vstub_vdev_reset_on_return(struct vstub_vdev *vdev);
struct file *vstub_vdev_open_file(struct vstub_vdev *vdev,
				  struct file *group_file);
void vstub_vdev_holders(struct vstub_vdev *vdev, struct vstub_vfio_stats *st);

/* vstub_pfnmap.c: another driver's VM_PFNMAP range, for MAP_DMA */
int vstub_pfnmap_walk(unsigned long vaddr, u64 size, bool write,
		      int (*add)(void *arg, unsigned long pfn), void *arg);

/* vstub_reset.c: slot and bus resets (VFIO_DEVICE_*PCI_HOT_RESET*) */
int vstub_reset_info(struct vstub_vdev *vdev, void __user *arg);
int vstub_reset_hot_reset(struct vstub_vdev *vdev, void __user *arg);

/* vstub_bar.c: BAR and ROM access of the device file */
#define VSTUB_BAR_CAPS_MAX \
	(sizeof(struct vfio_region_info_cap_sparse_mmap) + \
	 2 * sizeof(struct vfio_region_sparse_mmap_area))
void vstub_bar_init(struct vstub_vdev *vdev);
void vstub_bar_release_all(struct vstub_vdev *vdev);
int vstub_bar_rw(struct vstub_vdev *vdev, int index, u8 *buf, u64 pos,
		 size_t count, bool write);
int vstub_bar_mmap(struct vstub_vdev *vdev, struct vm_area_struct *vma);
size_t vstub_io_access(void __iomem *addr, u8 *buf, u64 off, size_t left,
		       bool write);
u64 vstub_bar_rom_size(struct vstub_vdev *vdev);
struct vstub_vdev *vstub_bar_vma_lookup(unsigned long vaddr, u64 size,
					bool write, phys_addr_t *phys);
void vstub_bar_zap(struct vstub_vdev *vdev);
void vstub_dma_p2p_revoke(struct vstub_vdev *vdev);
size_t vstub_bar_region_info(struct vstub_vdev *vdev,
			     struct vfio_region_info *info, void *caps);

/* vstub_config.c: config space virtualization (vdev->lock held) */
int vstub_config_init(struct vstub_vdev *vdev);
int vstub_config_rw(struct vstub_vdev *vdev, u8 *buf, loff_t pos,
		    size_t count, bool write);
bool vstub_config_decodes(struct vstub_vdev *vdev, u16 bit);
/* Is @pdev in D3 (hot or cold)?  (Without ordering a pci_power_t.) */
static inline bool vstub_pci_in_d3(struct pci_dev *pdev)
{
	return pdev->current_state == PCI_D3hot ||
	       pdev->current_state == PCI_D3cold;
}

/* vstub_config_perm.c: past the header, as vfio-pci (vdev->lock held) */
int vstub_config_perm_init(struct vstub_vdev *vdev);
void vstub_config_perm_exit(struct vstub_vdev *vdev);

/* vstub_vga.c: the legacy VGA ranges of a VGA function */
int vstub_vga_init(struct vstub_vdev *vdev);
void vstub_vga_exit(struct vstub_vdev *vdev);
u64 vstub_vga_size(struct vstub_vdev *vdev);
size_t vstub_vga_clamp(u64 pos, size_t count);
int vstub_vga_rw(struct vstub_vdev *vdev, u8 *buf, u64 pos, size_t count,
		 bool write);
int vstub_config_perm_write(struct vstub_vdev *vdev, int where, u32 val,
			    u32 mask);
void vstub_config_perm_read(struct vstub_vdev *vdev, int where, u32 *val);
void vstub_config_power_d0(struct vstub_vdev *vdev);
bool vstub_config_memory_enable(struct vstub_vdev *vdev);
void vstub_config_memory_restore(struct vstub_vdev *vdev, bool was_off);

#endif /* _VSTUB_VFIO_H */
