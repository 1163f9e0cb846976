// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_pfnmap.c - MAP_DMA of another driver's VM_PFNMAP mapping (a BAR
 * mmap of a device on the in-kernel vfio-pci, say), taken as
 * vfio_iommu_type1 takes it: the physical pfns are read from the caller's
 * page tables (faulted in first where the driver populates at fault
 * time), must not be ordinary refcounted RAM (that would need a pin), and
 * are mapped without pinning or RLIMIT_MEMLOCK accounting.  The range must
 * lie in one such mmap.  vstub's own BAR mmaps never get here: they are
 * peer-to-peer mappings that vstub revokes itself (vstub_dma.c).
 *
 * What vstub does not guarantee for these, exactly as type1 does not:
 * the other driver cannot tell vstub when it zaps its mmap (memory decode
 * off, reset, last close, removal of its device), so the IOMMU mapping
 * stays until userspace unmaps it, and DMA through it reaches whatever
 * answers at that physical address then.  A program that maps another
 * driver's BAR must unmap it before it lets that device go.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>

#include "vstub_vfio.h"

/* The pfn at @addr, writable if @write is asked; 0 or -EFAULT. */
static int vstub_pfnmap_one(struct vm_area_struct *vma, unsigned long addr,
			    bool write, unsigned long *pfn)
{
	bool writable;

	if (!vstub_follow_pfnmap(vma, addr, pfn, &writable) &&
	    (writable || !write))
		return 0;
	/* Not populated (yet), or read-only there: fault it in. */
	if (fixup_user_fault(vma->vm_mm, addr, write ? FAULT_FLAG_WRITE : 0,
			     NULL))
		return -EFAULT;
	if (vstub_follow_pfnmap(vma, addr, pfn, &writable) ||
	    (write && !writable))
		return -EFAULT;
	return 0;
}

/*
 * Call @add(@arg, pfn) for every page of [@vaddr, @vaddr + @size) of the
 * caller, which must lie in one VM_PFNMAP mapping.  Returns -ENOENT when
 * @vaddr is in no VM_PFNMAP mapping at all, -EFAULT when the range leaves
 * it, is not writable for @write, or holds refcounted pages, else 0 or
 * what @add returned.
 */
int vstub_pfnmap_walk(unsigned long vaddr, u64 size, bool write,
		      int (*add)(void *arg, unsigned long pfn), void *arg)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr, pfn;
	int ret = 0;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, vaddr);
	if (!vma || !(vma->vm_flags & VM_PFNMAP)) {
		ret = -ENOENT;
		goto out;
	}
	if (size > vma->vm_end - vaddr ||
	    (write && !(vma->vm_flags & VM_WRITE))) {
		ret = -EFAULT;
		goto out;
	}
	for (addr = vaddr; addr - vaddr < size; addr += PAGE_SIZE) {
		ret = vstub_pfnmap_one(vma, addr, write, &pfn);
		if (ret)
			break;
		/* As type1: unpinned only what is not refcounted RAM. */
		if (pfn_valid(pfn) && !PageReserved(pfn_to_page(pfn))) {
			ret = -EFAULT;
			break;
		}
		ret = add(arg, pfn);
		if (ret)
			break;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
out:
	mmap_read_unlock(mm);
	return ret;
}
