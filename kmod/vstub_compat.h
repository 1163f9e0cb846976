/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_compat.h - every kernel-version difference vstub cares about.
 *
 * Force-included into every object by Kbuild.  The VSTUB_HAVE_* macros come
 * from feature probes on the target kernel's headers (see Kbuild), so a new
 * kernel that changes an API needs one new probe and one new branch here,
 * and no #ifdef anywhere else.
 */
#ifndef _VSTUB_COMPAT_H
#define _VSTUB_COMPAT_H

#include <linux/version.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/eventfd.h>
#include <linux/device.h>
#include <linux/pci.h>

/* IOMMU paging domain: 6.11+ per device (ERR_PTR), older per bus (NULL). */
static inline struct iommu_domain *vstub_domain_alloc(struct device *dev)
{
#ifdef VSTUB_HAVE_PAGING_DOMAIN_ALLOC
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *d = iommu_domain_alloc(dev->bus);

	return d ? d : ERR_PTR(-ENOMEM);
#endif
}

/* iommu_map() grew a gfp argument in 6.3. */
static inline int vstub_iommu_map(struct iommu_domain *domain,
				  unsigned long iova, phys_addr_t paddr,
				  size_t size, int prot, gfp_t gfp)
{
#ifdef VSTUB_HAVE_IOMMU_MAP_GFP
	return iommu_map(domain, iova, paddr, size, prot, gfp);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/* iommu_map_sg() grew its gfp argument in the same release. */
static inline ssize_t vstub_iommu_map_sg(struct iommu_domain *domain,
					 unsigned long iova,
					 struct scatterlist *sg,
					 unsigned int nents, int prot,
					 gfp_t gfp)
{
#ifdef VSTUB_HAVE_IOMMU_MAP_SG_GFP
	return iommu_map_sg(domain, iova, sg, nents, prot, gfp);
#else
	return iommu_map_sg(domain, iova, sg, nents, prot);
#endif
}

/*
 * Interrupt isolation (interrupt remapping or an MSI-isolating IOMMU):
 * 6.3+ answers per group; 6.1/6.2 per device capability plus the global
 * MSI domain check.
 */
#ifndef VSTUB_HAVE_ISOLATED_MSI
#include <linux/irqdomain.h>
#endif
static inline bool vstub_group_isolated_msi(struct iommu_group *group,
					    struct device *dev)
{
#ifdef VSTUB_HAVE_ISOLATED_MSI
	return iommu_group_has_isolated_msi(group);
#else
	return device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP) ||
	       irq_domain_check_msi_remap();
#endif
}

/*
 * Where vstub_group_isolated_msi() may run: 6.3+ asks the group, taking
 * its mutex, so outside iommu_group_for_each_dev(); 6.1/6.2 ask the
 * device's IOMMU (dev->iommu), so inside it, where the group's mutex keeps
 * dev->iommu alive (vstub_status.c).
 */
#ifdef VSTUB_HAVE_ISOLATED_MSI
#define VSTUB_ISOLATED_MSI_TAKES_GROUP_MUTEX	1
#else
#define VSTUB_ISOLATED_MSI_TAKES_GROUP_MUTEX	0
#endif

/* vm_flags became read-only with accessors in 6.3. */
static inline void vstub_vm_flags_set(struct vm_area_struct *vma,
				      unsigned long flags)
{
#ifdef VSTUB_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * The pfn behind @addr of a VM_PFNMAP @vma (mmap_lock held) and whether
 * it is mapped writable: 6.12 has follow_pfnmap_start/end, 6.1 follow_pte.
 * Non-zero when nothing is mapped there yet (fault it in and ask again).
 */
static inline int vstub_follow_pfnmap(struct vm_area_struct *vma,
				      unsigned long addr, unsigned long *pfn,
				      bool *writable)
{
#ifdef VSTUB_HAVE_FOLLOW_PFNMAP
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret = follow_pfnmap_start(&args);

	if (ret)
		return ret;
	*pfn = args.pfn;
	*writable = args.writable;
	follow_pfnmap_end(&args);
	return 0;
#else
	spinlock_t *ptl;
	pte_t *ptep;
	int ret = follow_pte(vma->vm_mm, addr, &ptep, &ptl);

	if (ret)
		return ret;
	__acquire(ptl);		/* for sparse: follow_pte() took it */
	*pfn = pte_pfn(*ptep);
	*writable = pte_write(*ptep);
	pte_unmap_unlock(ptep, ptl);
	return 0;
#endif
}

/* MSI-X vectors added while MSI-X is enabled: since 6.2. */
static inline bool vstub_msix_can_grow(struct pci_dev *pdev)
{
#ifdef VSTUB_HAVE_MSIX_ALLOC_DYN
	return pci_msix_can_alloc_dyn(pdev);
#else
	return false;
#endif
}

/* Allocate MSI-X table entry @index of an enabled MSI-X: 0 or -errno. */
static inline int vstub_msix_alloc_at(struct pci_dev *pdev, unsigned int index)
{
#ifdef VSTUB_HAVE_MSIX_ALLOC_DYN
	struct msi_map map = pci_msix_alloc_irq_at(pdev, index, NULL);

	return map.index < 0 ? map.index : 0;
#else
	return -EOPNOTSUPP;
#endif
}

/* eventfd_signal() lost its count argument in 6.8. */
static inline void vstub_eventfd_signal(struct eventfd_ctx *ctx)
{
#ifdef VSTUB_HAVE_EVENTFD_SIGNAL_NOCOUNT
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* class_create() lost its owner argument in 6.4. */
static inline struct class *vstub_class_create(const char *name)
{
#ifdef VSTUB_HAVE_CLASS_CREATE_NOOWNER
	return class_create(name);
#else
	return class_create(THIS_MODULE, name);
#endif
}

/* pin_user_pages() lost its vmas argument in 6.5. */
static inline long vstub_pin_user_pages(unsigned long start,
					unsigned long nr_pages,
					unsigned int gup_flags,
					struct page **pages)
{
#ifdef VSTUB_HAVE_PIN_VMAS
	return pin_user_pages(start, nr_pages, gup_flags, pages, NULL);
#else
	return pin_user_pages(start, nr_pages, gup_flags, pages);
#endif
}

/*
 * driver_override: a field of struct pci_dev set with driver_set_override()
 * up to 6.12, a field of struct device with its own accessors from 6.19
 * (and in Debian's 6.12 backports).  @name "" clears it.
 */
static inline int vstub_set_override(struct pci_dev *pdev, const char *name)
{
#ifdef VSTUB_HAVE_DEVICE_DRIVER_OVERRIDE
	return device_set_driver_override(&pdev->dev, name);
#else
	return driver_set_override(&pdev->dev, &pdev->driver_override, name,
				   strlen(name));
#endif
}

/* Is @pdev's driver_override set to @name?  Takes device_lock on old kernels. */
static inline bool vstub_override_is(struct pci_dev *pdev, const char *name)
{
	bool ret;

#ifdef VSTUB_HAVE_DEVICE_DRIVER_OVERRIDE
	spin_lock(&pdev->dev.driver_override.lock);
	ret = pdev->dev.driver_override.name &&
	      !strcmp(pdev->dev.driver_override.name, name);
	spin_unlock(&pdev->dev.driver_override.lock);
#else
	device_lock(&pdev->dev);
	ret = pdev->driver_override && !strcmp(pdev->driver_override, name);
	device_unlock(&pdev->dev);
#endif
	return ret;
}

/*
 * A class's devnode callback takes a const struct device since 6.2:
 * declare it as  char *f(VSTUB_DEVNODE_CONST struct device *dev, ...).
 */
#ifdef VSTUB_HAVE_DEVNODE_CONST
#define VSTUB_DEVNODE_CONST const
#else
#define VSTUB_DEVNODE_CONST
#endif

#endif /* _VSTUB_COMPAT_H */
