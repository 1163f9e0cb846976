// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_bar.c - the BARs and the expansion ROM of a captured function as
 * the device file offers them: read/write (naturally aligned 4/2/1-byte
 * accesses), mmap of MEM BARs populated at fault time, and their region
 * info.  Everything here runs with vdev->lock held, except the region info.
 *
 * MSI-X, as vfio-pci: the vector table is vstub's, programmed through the
 * PCI core (VFIO_DEVICE_SET_IRQS).  Read/write never reach it: reads of it
 * return all ones and writes are dropped; writes to the pending bit array
 * are dropped too (its reads pass).  mmap of the pages holding the table is
 * allowed only where the group's MSIs are isolated (interrupt remapping):
 * the region then carries VFIO_REGION_INFO_CAP_MSIX_MAPPABLE as vfio-pci's
 * does, since whatever userspace writes into an entry can only raise this
 * device's own remapped interrupts.  Without isolation (a group admitted
 * by allow_unsafe_interrupts=1) those pages cannot be mapped and a
 * VFIO_REGION_INFO_CAP_SPARSE_MMAP capability lists the areas that can.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pci.h>

#include "vstub_vfio.h"

/* The region index and the page within it, in vm_pgoff terms. */
#define VSTUB_PGOFF_SHIFT	(VSTUB_OFFSET_SHIFT - PAGE_SHIFT)
#define VSTUB_PGOFF_MASK	((1UL << VSTUB_PGOFF_SHIFT) - 1)

/* Where the MSI-X table and PBA live (at vdev creation; no lock). */
void vstub_bar_init(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	u32 table, pba;
	unsigned int n;
	u16 flags;

	vdev->msix_bar = -1;
	vdev->pba_bar = -1;
	if (!pdev->msix_cap)
		return;
	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_PBA, &pba);
	n = (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
	if ((table & PCI_MSIX_TABLE_BIR) < PCI_STD_NUM_BARS) {
		vdev->msix_bar = table & PCI_MSIX_TABLE_BIR;
		vdev->msix_start = table & PCI_MSIX_TABLE_OFFSET;
		vdev->msix_end = vdev->msix_start + n * PCI_MSIX_ENTRY_SIZE;
	}
	if ((pba & PCI_MSIX_PBA_BIR) < PCI_STD_NUM_BARS) {
		vdev->pba_bar = pba & PCI_MSIX_PBA_BIR;
		vdev->pba_start = pba & PCI_MSIX_PBA_OFFSET;
		vdev->pba_end = vdev->pba_start + DIV_ROUND_UP(n, 64) * 8;
	}
	vdev->msix_mappable = vstub_group_isolated_msi(vdev->group->iommu_group,
						       &pdev->dev);
}

static int vstub_bar_request(struct vstub_vdev *vdev, int bar)
{
	int ret;

	lockdep_assert_held(&vdev->lock);
	if (vdev->bar_owned & BIT(bar))
		return 0;
	ret = pci_request_selected_regions(vdev->pdev, BIT(bar), "vstub");
	if (ret) {
		pci_warn(vdev->pdev, "BAR %d is in use by someone else\n", bar);
		return -EBUSY;
	}
	vdev->bar_owned |= BIT(bar);
	return 0;
}

static void __iomem *vstub_bar_map(struct vstub_vdev *vdev, int bar)
{
	int ret;

	if (vdev->bar_map[bar])
		return vdev->bar_map[bar];
	ret = vstub_bar_request(vdev, bar);
	if (ret)
		return IOMEM_ERR_PTR(ret);
	vdev->bar_map[bar] = pci_iomap(vdev->pdev, bar, 0);
	if (!vdev->bar_map[bar])
		return IOMEM_ERR_PTR(-ENOMEM);
	return vdev->bar_map[bar];
}

/* Last close: drop the kernel mappings and regions of the BARs. */
void vstub_bar_release_all(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int i;

	lockdep_assert_held(&vdev->lock);
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (vdev->bar_map[i]) {
			pci_iounmap(pdev, vdev->bar_map[i]);
			vdev->bar_map[i] = NULL;
		}
		if (vdev->bar_owned & BIT(i))
			pci_release_selected_regions(pdev, BIT(i));
	}
	vdev->bar_owned = 0;
}

/*
 * Is the byte at @off of BAR @bar out of userspace's reach for this access
 * (MSI-X table; PBA for writes)?  *@run is set to the bytes left in that
 * excluded range, or else to the bytes up to the next one (U64_MAX: none).
 */
static bool vstub_bar_excluded(struct vstub_vdev *vdev, int bar, u64 off,
			       bool write, u64 *run)
{
	struct { u64 start, end; } r[2];
	unsigned int nr = 0, i;

	*run = U64_MAX;
	if (bar == vdev->msix_bar) {
		r[nr].start = vdev->msix_start;
		r[nr++].end = vdev->msix_end;
	}
	if (write && bar == vdev->pba_bar) {
		r[nr].start = vdev->pba_start;
		r[nr++].end = vdev->pba_end;
	}
	for (i = 0; i < nr; i++) {
		if (off >= r[i].start && off < r[i].end) {
			*run = r[i].end - off;
			return true;
		}
		if (r[i].start > off)
			*run = min(*run, r[i].start - off);
	}
	return false;
}

/*
 * One access at @addr (an iomap cookie: MMIO or port) of the widest size
 * that @off's alignment and @left allow, little-endian in @buf as in the
 * device; returns its size.
 */
size_t vstub_io_access(void __iomem *addr, u8 *buf, u64 off, size_t left,
		       bool write)
{
	if (left >= 4 && !(off & 3)) {
		u32 v;

		if (write) {
			memcpy(&v, buf, 4);
			iowrite32(le32_to_cpu((__force __le32)v), addr);
		} else {
			v = (__force u32)cpu_to_le32(ioread32(addr));
			memcpy(buf, &v, 4);
		}
		return 4;
	}
	if (left >= 2 && !(off & 1)) {
		u16 v;

		if (write) {
			memcpy(&v, buf, 2);
			iowrite16(le16_to_cpu((__force __le16)v), addr);
		} else {
			v = (__force u16)cpu_to_le16(ioread16(addr));
			memcpy(buf, &v, 2);
		}
		return 2;
	}
	if (write)
		iowrite8(*buf, addr);
	else
		*buf = ioread8(addr);
	return 1;
}

/* MMIO or port I/O on a BAR, around the MSI-X exclusions. */
static int vstub_bar_io(struct vstub_vdev *vdev, int bar, u8 *buf,
			u64 pos, size_t count, bool write)
{
	void __iomem *io = vstub_bar_map(vdev, bar);
	size_t done = 0;

	if (IS_ERR(io))
		return PTR_ERR(io);
	while (done < count) {
		u64 off = pos + done, run;
		size_t left = count - done, n;

		if (vstub_bar_excluded(vdev, bar, off, write, &run)) {
			n = min_t(u64, left, run);
			if (!write)
				memset(buf + done, 0xff, n);
			done += n;
			continue;
		}
		left = min_t(u64, left, run);
		done += vstub_io_access(io + off, buf + done, off, left, write);
	}
	return 0;
}

static int vstub_rom_read(struct vstub_vdev *vdev, u8 *buf, u64 pos,
			  size_t count)
{
	void __iomem *rom;
	size_t size;

	rom = pci_map_rom(vdev->pdev, &size);
	if (!rom)
		return -EIO;
	if (pos >= size) {
		memset(buf, 0xff, count);
	} else if (pos + count > size) {
		memcpy_fromio(buf, rom + pos, size - pos);
		memset(buf + size - pos, 0xff, count - (size - pos));
	} else {
		memcpy_fromio(buf, rom + pos, count);
	}
	pci_unmap_rom(vdev->pdev, rom);
	return 0;
}

/*
 * The ROM region's size as vfio-pci reports it: the ROM BAR's size when
 * it holds a valid image, 0x20000 for a ROM shadowed in the ISA window
 * that has no BAR address, 0 otherwise.  vdev->lock held (decode is
 * turned on for the check as for vstub's own MMIO).
 */
u64 vstub_bar_rom_size(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	struct resource *res = &pdev->resource[PCI_ROM_RESOURCE];
	void __iomem *rom;
	size_t size;
	bool was_off;
	u64 ret = 0;

	lockdep_assert_held(&vdev->lock);
	if (!pci_resource_start(pdev, PCI_ROM_RESOURCE))
		return (res->flags & IORESOURCE_ROM_SHADOW) ? 0x20000 : 0;
	was_off = vstub_config_memory_enable(vdev);
	rom = pci_map_rom(pdev, &size);
	if (rom) {
		ret = pci_resource_len(pdev, PCI_ROM_RESOURCE);
		pci_unmap_rom(pdev, rom);
	}
	vstub_config_memory_restore(vdev, was_off);
	return ret;
}

/*
 * May userspace reach BAR (or ROM) @index now?  Not while the function's
 * decode of that space is off.
 */
static bool vstub_bar_decoded(struct vstub_vdev *vdev, int index)
{
	if (pci_resource_flags(vdev->pdev, index) & IORESOURCE_IO)
		return vstub_config_decodes(vdev, PCI_COMMAND_IO);
	return vstub_config_decodes(vdev, PCI_COMMAND_MEMORY);
}

/*
 * Read or write @count bytes at @pos of BAR or ROM region @index (checked
 * by the caller against its size; the ROM is read-only).  vdev->lock held.
 */
int vstub_bar_rw(struct vstub_vdev *vdev, int index, u8 *buf, u64 pos,
		 size_t count, bool write)
{
	lockdep_assert_held(&vdev->lock);
	if (!vstub_bar_decoded(vdev, index))
		return -EIO;	/* as vfio-pci: decode is off */
	if (index == VFIO_PCI_ROM_REGION_INDEX)
		return vstub_rom_read(vdev, buf, pos, count);
	return vstub_bar_io(vdev, index, buf, pos, count, write);
}

/* ---- mmap ---- */

static bool vstub_bar_mmappable(struct vstub_vdev *vdev, int bar)
{
	u64 size = vdev->bar_size[bar];

	return (pci_resource_flags(vdev->pdev, bar) & IORESOURCE_MEM) &&
	       size >= PAGE_SIZE && PAGE_ALIGNED(size);
}

/* The pages of BAR @bar that must not be mapped: [*@start, *@end). */
static bool vstub_bar_hole(struct vstub_vdev *vdev, int bar, u64 *start,
			   u64 *end)
{
	if (bar != vdev->msix_bar || vdev->msix_mappable)
		return false;
	*start = round_down(vdev->msix_start, PAGE_SIZE);
	*end = round_up(vdev->msix_end, PAGE_SIZE);
	return true;
}

static vm_fault_t vstub_bar_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vstub_vdev *vdev = vma->vm_private_data;
	unsigned long bar = vma->vm_pgoff >> VSTUB_PGOFF_SHIFT;
	unsigned long pgoff = vma->vm_pgoff & VSTUB_PGOFF_MASK;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned long pfn;

	pfn = (pci_resource_start(vdev->pdev, bar) >> PAGE_SHIFT) + pgoff +
	      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	/*
	 * Under vdev->lock: neither revoke nor a command register write that
	 * turns decode off (and zaps) can slip between check and insert.
	 */
	mutex_lock(&vdev->lock);
	if (!vdev->revoked && vdev->open_count &&
	    vstub_config_decodes(vdev, PCI_COMMAND_MEMORY))
		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	mutex_unlock(&vdev->lock);
	return ret;
}

static const struct vm_operations_struct vstub_bar_vm_ops = {
	.fault = vstub_bar_fault,
};

/*
 * Is [@vaddr, @vaddr + @size) of the caller inside one BAR mmap of a vstub
 * device?  Then return the device and in @phys the physical address the
 * range maps; NULL when @vaddr is in no such mmap (the caller pins user
 * pages instead); ERR_PTR(-EFAULT) when the range does not fit in the mmap
 * or @write is asked of a read-only one.  The device is only valid while
 * the caller holds a lock that keeps its files open (vdev->lock, checking
 * open_count) - see vstub_dma_map().
 */
struct vstub_vdev *vstub_bar_vma_lookup(unsigned long vaddr, u64 size,
					bool write, phys_addr_t *phys)
{
	struct mm_struct *mm = current->mm;
	struct vstub_vdev *vdev = NULL;
	struct vm_area_struct *vma;
	unsigned long bar;
	u64 off;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, vaddr);
	if (!vma || vma->vm_ops != &vstub_bar_vm_ops)
		goto out;
	if (size > vma->vm_end - vaddr || (write && !(vma->vm_flags & VM_WRITE))) {
		vdev = ERR_PTR(-EFAULT);
		goto out;
	}
	vdev = vma->vm_private_data;
	bar = vma->vm_pgoff >> VSTUB_PGOFF_SHIFT;
	off = ((u64)(vma->vm_pgoff & VSTUB_PGOFF_MASK) << PAGE_SHIFT) +
	      (vaddr - vma->vm_start);
	*phys = pci_resource_start(vdev->pdev, bar) + off;
	/* The mmap holds the file, the file holds @vdev: take our own. */
	kref_get(&vdev->kref);
out:
	mmap_read_unlock(mm);
	return vdev;
}

/*
 * No BAR access from now (decode off, D3hot, reset, last close): every
 * BAR mmap is zapped (faults wait on vdev->lock, held) and every IOMMU
 * mapping of the BARs (peer-to-peer MAP_DMA) revoked.
 */
void vstub_bar_zap(struct vstub_vdev *vdev)
{
	lockdep_assert_held(&vdev->lock);
	unmap_mapping_range(&vdev->mapping, 0, 0, true);
	vstub_dma_p2p_revoke(vdev);
}

/*
 * mmap of a MEM BAR (the file keeps @vdev alive as long as the vma).
 * Return: 0, -EINVAL for a range that is not mappable, -ENODEV, -EBUSY.
 */
int vstub_bar_mmap(struct vstub_vdev *vdev, struct vm_area_struct *vma)
{
	u64 index = vma->vm_pgoff >> VSTUB_PGOFF_SHIFT;
	u64 start = (u64)(vma->vm_pgoff & VSTUB_PGOFF_MASK) << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	u64 end, hs, he;
	int ret;

	if (index >= PCI_STD_NUM_BARS)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (check_add_overflow(start, len, &end))
		return -EINVAL;

	mutex_lock(&vdev->lock);
	if (vdev->revoked) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (!vstub_bar_mmappable(vdev, index) || end > vdev->bar_size[index]) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (vstub_bar_hole(vdev, index, &hs, &he) && start < he && end > hs) {
		pci_dbg(vdev->pdev, "mmap of the MSI-X table refused: MSIs are not isolated\n");
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = vstub_bar_request(vdev, index);
	if (ret)
		goto out_unlock;

	vma->vm_private_data = vdev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vstub_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
				VM_DONTDUMP);
	vma->vm_ops = &vstub_bar_vm_ops;
out_unlock:
	mutex_unlock(&vdev->lock);
	return ret;
}

/* ---- region info ---- */

/*
 * Flags of BAR region @info->index (size set by the caller), and its
 * capability chain written to @caps (VSTUB_BAR_CAPS_MAX bytes, 8-byte
 * aligned): returns the chain's size (0: none).
 */
size_t vstub_bar_region_info(struct vstub_vdev *vdev,
			     struct vfio_region_info *info, void *caps)
{
	struct vfio_region_info_cap_sparse_mmap *sp = caps;
	struct vfio_info_cap_header *hdr = caps;
	int bar = info->index;
	u64 hs, he;

	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (!vstub_bar_mmappable(vdev, bar))
		return 0;
	info->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	if (bar != vdev->msix_bar)
		return 0;
	memset(caps, 0, VSTUB_BAR_CAPS_MAX);
	if (!vstub_bar_hole(vdev, bar, &hs, &he)) {
		hdr->id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
		hdr->version = 1;
		return sizeof(*hdr);
	}
	sp->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sp->header.version = 1;
	if (hs) {
		sp->areas[sp->nr_areas].offset = 0;
		sp->areas[sp->nr_areas++].size = hs;
	}
	if (he < vdev->bar_size[bar]) {
		sp->areas[sp->nr_areas].offset = he;
		sp->areas[sp->nr_areas++].size = vdev->bar_size[bar] - he;
	}
	if (!sp->nr_areas) {
		info->flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
		return 0;
	}
	return struct_size(sp, areas, sp->nr_areas);
}
