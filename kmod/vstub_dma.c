// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_dma.c - the DMA mappings of a container: an rbtree keyed by IOVA,
 * long-term pinning with locked_vm accounting, IOMMU map/unmap.
 *
 * Every function here is called with the container's lock held, except
 * vstub_dma_map() (MAP_DMA), which pins without it.  A mapping stores its
 * pinned memory as runs of physically contiguous pages, and maps each run
 * with one iommu_map() call so that the IOMMU core can use the largest
 * page sizes the domain supports (THP, hugetlbfs).
 *
 * Peer-to-peer: a MAP_DMA of a BAR mmap of a vstub device maps the BAR's
 * physical range (IOMMU_MMIO, nothing pinned or accounted, as type1 does
 * for VM_PFNMAP ranges).  Such a mapping never outlives userspace's access
 * to the BAR: it is only made while the device is open and decodes
 * memory, and vstub_bar_zap() (decode off, D3hot, reset, last close,
 * removal) revokes it from the IOMMU at once; the IOVA range stays taken
 * until userspace unmaps it.  Another driver's VM_PFNMAP mapping (a BAR
 * mmap of a device on vfio-pci) is mapped as type1 maps it, unpinned and
 * unrevoked (vstub_pfnmap.c says what that does not guarantee).
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "vstub_vfio.h"

/*
 * vstub_p2p_lock: protects every vstub_vdev.p2p_list and the
 * vstub_p2p.vdev pointers; a leaf, see the lock order in vstub.h.
 */
static DEFINE_MUTEX(vstub_p2p_lock);

/**
 * struct vstub_p2p - a peer-to-peer mapping of a BAR
 * @node:   on @vdev->p2p_list while not revoked
 * @vdev:   the device whose BAR is mapped, NULL once revoked
 * @domain: the container's domain it is mapped in
 * @iova:   first IOVA
 * @size:   length in bytes
 */
struct vstub_p2p {
	struct list_head node;
	struct vstub_vdev *vdev;
	struct iommu_domain *domain;
	u64 iova;
	u64 size;
};

/* Physically contiguous pinned pages. */
struct vstub_dma_run {
	unsigned long pfn;
	unsigned long npages;
};

/**
 * struct vstub_dma - one MAP_DMA mapping
 * @node:    in the container's dma_tree, until taken out for unmapping
 * @list:    then on a local list between IOMMU unmap and unpin (the two
 *           states never overlap, so they share storage)
 * @iova:    first IOVA
 * @size:    length in bytes
 * @vaddr:   user address in @mm
 * @prot:    IOMMU_READ / IOMMU_WRITE
 * @mm:      the mapping task's mm (mmgrab'd): locked_vm is accounted there
 * @npinned: pages accounted in @mm's locked_vm
 * @runs:    pinned pages as runs of contiguous pfns (&@run0 while one
 *           run is enough: the common case, saved an allocation)
 * @nr_runs: runs in use
 * @cap_runs: runs allocated
 * @run0:    storage of the first run
 * @p2p:     instead, for a peer-to-peer mapping (@prot has IOMMU_MMIO,
 *           nothing pinned, @runs NULL)
 *
 * Laid out to fit 96 bytes on 64-bit: with a million mappings, every
 * byte here counts.  A mapping is therefore limited to UINT_MAX pages.
 */
struct vstub_dma {
	union {
		struct rb_node node;
		struct list_head list;
	};
	u64 iova;
	u64 size;
	unsigned long vaddr;
	struct mm_struct *mm;
	struct vstub_dma_run *runs;
	unsigned int npinned;
	unsigned int nr_runs;
	unsigned int cap_runs;
	int prot;
	union {
		struct vstub_dma_run run0;
		struct vstub_p2p *p2p;
	};
};

/* In vstub_dma.prot: another driver's VM_PFNMAP range, nothing pinned. */
#define VSTUB_DMA_PFNMAP	BIT(30)

/*
 * Pages per pin_user_pages_fast() call: 8 MiB, a 16 KiB page array (a
 * quarter of the calls of a page-sized array, each with its page-table
 * walk from the top).
 */
#define VSTUB_PIN_BATCH		(4 * PAGE_SIZE / sizeof(struct page *))
#define VSTUB_PIN_FEW		16UL

/* Any mapping overlapping [start, last]. */
static struct vstub_dma *vstub_dma_find(struct vstub_container *c,
					u64 start, u64 last)
{
	struct rb_node *n = c->dma_tree.rb_node;

	while (n) {
		struct vstub_dma *dma = rb_entry(n, struct vstub_dma, node);

		if (last < dma->iova)
			n = n->rb_left;
		else if (start > dma->iova + dma->size - 1)
			n = n->rb_right;
		else
			return dma;
	}
	return NULL;
}

/*
 * The mapping of lowest IOVA that overlaps [@start, @last], or NULL.
 * (Mappings never overlap, so their ends are ordered as their starts.)
 */
static struct vstub_dma *vstub_dma_first(struct vstub_container *c,
					 u64 start, u64 last)
{
	struct rb_node *n = c->dma_tree.rb_node;
	struct vstub_dma *first = NULL;

	while (n) {
		struct vstub_dma *dma = rb_entry(n, struct vstub_dma, node);

		if (start > dma->iova + dma->size - 1) {
			n = n->rb_right;
		} else {
			if (dma->iova <= last)
				first = dma;
			n = n->rb_left;
		}
	}
	return first;
}

static void vstub_dma_insert(struct vstub_container *c, struct vstub_dma *new)
{
	struct rb_node **link = &c->dma_tree.rb_node, *parent = NULL;

	while (*link) {
		struct vstub_dma *dma = rb_entry(*link, struct vstub_dma, node);

		parent = *link;
		if (new->iova < dma->iova)
			link = &(*link)->rb_left;
		else
			link = &(*link)->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &c->dma_tree);
	c->dma_count++;
	c->pinned_pages += new->npinned;
}

static u64 vstub_dma_min_pgsize(struct vstub_container *c)
{
	return 1ULL << __ffs(c->pgsize_bitmap);
}

static bool vstub_iova_valid(const struct vstub_iova_range *r,
			     unsigned int nr, u64 start, u64 last)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (start >= r[i].start && last <= r[i].last)
			return true;
	return false;
}

/* Do the ranges still hold every existing mapping? */
bool vstub_dma_ranges_cover(struct vstub_container *c,
			    const struct vstub_iova_range *ranges,
			    unsigned int nr)
{
	struct rb_node *n;

	for (n = rb_first(&c->dma_tree); n; n = rb_next(n)) {
		struct vstub_dma *dma = rb_entry(n, struct vstub_dma, node);

		if (!vstub_iova_valid(ranges, nr, dma->iova,
				      dma->iova + dma->size - 1))
			return false;
	}
	return true;
}

/*
 * Append @npages contiguous pfns from @pfn to dma->runs, extending the last
 * run when they follow it.  A full run array grows to at least @hint runs
 * (the estimate from the first batch: an array the right size at once, not
 * log2(runs) copies of it), otherwise doubles.
 */
static int vstub_dma_add_run(struct vstub_dma *dma, unsigned long pfn,
			     unsigned long npages, unsigned long hint)
{
	struct vstub_dma_run *run;

	if (dma->nr_runs) {
		run = &dma->runs[dma->nr_runs - 1];
		if (run->pfn + run->npages == pfn) {
			run->npages += npages;
			return 0;
		}
	}
	if (dma->nr_runs == dma->cap_runs) {
		unsigned long cap = max3(16UL, 2UL * dma->cap_runs, hint);
		struct vstub_dma_run *runs;

		cap = min_t(unsigned long, cap, UINT_MAX);
		if (cap <= dma->cap_runs)
			return -ENOMEM;
		runs = kvmalloc_array(cap, sizeof(*runs), GFP_KERNEL_ACCOUNT);
		if (!runs)
			return -ENOMEM;
		memcpy(runs, dma->runs, dma->nr_runs * sizeof(*runs));
		if (dma->runs != &dma->run0)
			kvfree(dma->runs);
		dma->runs = runs;
		dma->cap_runs = cap;
	}
	run = &dma->runs[dma->nr_runs++];
	run->pfn = pfn;
	run->npages = npages;
	return 0;
}

/*
 * The first batch's estimate may have been far too generous (a fragmented
 * start, contiguous after): give the excess back rather than keep it for
 * the mapping's lifetime.
 */
static void vstub_dma_trim_runs(struct vstub_dma *dma)
{
	struct vstub_dma_run *runs;

	if (dma->runs == &dma->run0 || dma->cap_runs <= 2 * dma->nr_runs + 16)
		return;
	runs = kvmalloc_array(dma->nr_runs, sizeof(*runs), GFP_KERNEL_ACCOUNT);
	if (!runs)
		return;
	memcpy(runs, dma->runs, dma->nr_runs * sizeof(*runs));
	kvfree(dma->runs);
	dma->runs = runs;
	dma->cap_runs = dma->nr_runs;
}

/*
 * How many of pages[@i..@got) continue pages[@i] physically.  This is the
 * one step per page that MAP_DMA cannot skip for ordinary memory (gup may
 * hand back the pages of a THP in any order, even twice, when they are
 * mapped so), so it compares sixteen, then eight, at a time with one
 * branch: without it, a THP mapping spends as long here as in pinning.
 *
 * A hugetlb folio is the exception: it is only ever mapped whole, at an
 * address aligned to its size, and gup records its pages from one read of
 * its page table entry, so from pages[@i]'s place in the folio to the
 * folio's end they follow in order.  That stretch is taken in one step;
 * its last page is still compared, and a mismatch (which would be a gup
 * bug) falls back to the page-by-page walk.
 */
static unsigned long vstub_dma_contig(struct page **pages, unsigned long i,
				      unsigned long got)
{
	struct page *first = pages[i];
	struct folio *folio;
	unsigned long n = 1;

	/* A lone page (4 KiB memory, mostly) needs no look at its folio. */
	if (i + 1 == got || pages[i + 1] != nth_page(first, 1))
		return 1;
	folio = page_folio(first);
	if (folio_test_hugetlb(folio)) {
		n = folio_nr_pages(folio) -
		    (page_to_pfn(first) - folio_pfn(folio));
		n = min(n, got - i);
		if (pages[i + n - 1] == nth_page(first, n - 1))
			return n;
		n = 1;
	}

/* Nonzero unless pages[i + n + k] is the page @n + @k after @first. */
#define VSTUB_OFF(k)	((unsigned long)pages[i + n + (k)] ^ \
			 (unsigned long)nth_page(first, n + (k)))
	while (i + n + 16 <= got &&
	       !(VSTUB_OFF(0) | VSTUB_OFF(1) | VSTUB_OFF(2) | VSTUB_OFF(3) |
		 VSTUB_OFF(4) | VSTUB_OFF(5) | VSTUB_OFF(6) | VSTUB_OFF(7) |
		 VSTUB_OFF(8) | VSTUB_OFF(9) | VSTUB_OFF(10) | VSTUB_OFF(11) |
		 VSTUB_OFF(12) | VSTUB_OFF(13) | VSTUB_OFF(14) | VSTUB_OFF(15)))
		n += 16;
	while (i + n + 8 <= got &&
	       !(VSTUB_OFF(0) | VSTUB_OFF(1) | VSTUB_OFF(2) | VSTUB_OFF(3) |
		 VSTUB_OFF(4) | VSTUB_OFF(5) | VSTUB_OFF(6) | VSTUB_OFF(7)))
		n += 8;
#undef VSTUB_OFF
	while (i + n < got && pages[i + n] == nth_page(first, n))
		n++;
	return n;
}

/*
 * Record a batch of pinned pages as runs: one run per physically
 * contiguous stretch (a THP or hugetlb folio is one run).  On failure the
 * pages from the first one not recorded are unpinned, and their count is
 * returned in @lost.
 */
static int vstub_dma_add_pages(struct vstub_dma *dma, struct page **pages,
			       unsigned long got, unsigned long hint,
			       unsigned long *lost)
{
	unsigned long i = 0, n;
	int ret;

	while (i < got) {
		n = vstub_dma_contig(pages, i, got);
		ret = vstub_dma_add_run(dma, page_to_pfn(pages[i]), n, hint);
		if (ret) {
			unpin_user_pages(pages + i, got - i);
			*lost = got - i;
			return ret;
		}
		i += n;
	}
	return 0;
}

/* Give back what the mapping pinned and accounted, and free it. */
static void vstub_dma_free(struct vstub_dma *dma)
{
	bool dirty = dma->prot & IOMMU_WRITE;
	unsigned long i;

	for (i = 0; i < dma->nr_runs && !(dma->prot & VSTUB_DMA_PFNMAP); i++) {
		unpin_user_page_range_dirty_lock(pfn_to_page(dma->runs[i].pfn),
						 dma->runs[i].npages, dirty);
		cond_resched();
	}
	/*
	 * Unaccount on the mm that was charged, whoever closes: if that mm
	 * already exited, its locked_vm went with it.
	 */
	if (dma->npinned && mmget_not_zero(dma->mm)) {
		account_locked_vm(dma->mm, dma->npinned, false);
		mmput(dma->mm);
	}
	mmdrop(dma->mm);
	if (dma->runs != &dma->run0)
		kvfree(dma->runs);
	kfree(dma);
}

/*
 * Pin the user pages of @dma into dma->runs.  The whole mapping is charged
 * to locked_vm once, up front (one mmap write lock per MAP_DMA, not one per
 * batch, and a mapping over RLIMIT_MEMLOCK fails before pinning anything);
 * whatever is not pinned in the end is given back, so dma->npinned is
 * always exactly what is accounted and pinned.  Returns -EDQUOT, with
 * nothing charged, for a mapping over RLIMIT_MEMLOCK: it may still be one
 * that needs no pin (vstub_dma_map_unpinned()).
 */
static int vstub_dma_pin(struct vstub_dma *dma)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long total = dma->size >> PAGE_SHIFT;
	unsigned long done = 0, batch = VSTUB_PIN_BATCH, hint = 0, lost;
	struct page *few[VSTUB_PIN_FEW];
	struct page **pages = few;
	long got;
	int ret;

	if (dma->prot & IOMMU_WRITE)
		gup_flags |= FOLL_WRITE;
	if (account_locked_vm(dma->mm, total, true))
		return -EDQUOT;
	dma->npinned = total;

	/* Small mappings (the per-op hot path) need no page array. */
	if (total <= VSTUB_PIN_FEW) {
		batch = VSTUB_PIN_FEW;
	} else {
		pages = kvmalloc_array(VSTUB_PIN_BATCH, sizeof(*pages),
				       GFP_KERNEL);
		if (!pages) {
			ret = -ENOMEM;
			goto out_unaccount;
		}
	}

	while (done < total) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		got = pin_user_pages_fast(dma->vaddr + (done << PAGE_SHIFT),
					  min(total - done, batch),
					  gup_flags, pages);
		if (got <= 0) {
			ret = got ? got : -EFAULT;
			break;
		}
		ret = vstub_dma_add_pages(dma, pages, got, hint, &lost);
		if (ret) {
			done += got - lost;
			break;
		}
		/* Runs the whole mapping needs, at the first batch's rate. */
		if (!done && dma->nr_runs > 1)
			hint = DIV_ROUND_UP(total, got) * dma->nr_runs;
		done += got;
		cond_resched();
	}
	if (pages != few)
		kvfree(pages);
	if (!ret && hint)
		vstub_dma_trim_runs(dma);
out_unaccount:
	if (done < total) {
		account_locked_vm(dma->mm, total - done, false);
		dma->npinned = done;
	}
	return ret;
}

/* Runs per iommu_map_sg() call: a page of scatterlist entries. */
#define VSTUB_MAP_SG	(PAGE_SIZE / sizeof(struct scatterlist))
/* Bytes per scatterlist entry (its length is an unsigned int). */
#define VSTUB_MAP_SG_LEN	SZ_1G

/*
 * Map the pinned runs; on failure nothing of @dma stays mapped.  A
 * mapping of one run is one iommu_map(); more runs go through
 * iommu_map_sg() a page of scatterlist entries at a time, which syncs the
 * IOTLB once per call instead of once per run (with an IOMMU in caching
 * mode every sync is a queued invalidation the hypervisor traps).
 * Another driver's PFNMAP pfns may have no struct page, so they are
 * mapped run by run.
 */
static int vstub_dma_iommu_map(struct vstub_container *c,
			       struct vstub_dma *dma)
{
	/* As type1: always cache-coherent (snooped) mappings. */
	int prot = (dma->prot & ~VSTUB_DMA_PFNMAP) | IOMMU_CACHE;
	struct iommu_iotlb_gather gather;
	struct scatterlist *sgl = NULL, *sg;
	u64 iova = dma->iova;
	unsigned long i = 0, off = 0, n, len;
	ssize_t mapped;
	int ret = 0;

	if (dma->nr_runs > 1 && !(dma->prot & VSTUB_DMA_PFNMAP)) {
		sgl = (struct scatterlist *)__get_free_page(GFP_KERNEL);
		if (!sgl)
			return -ENOMEM;
	}
	while (i < dma->nr_runs) {
		if (!sgl) {
			len = dma->runs[i].npages << PAGE_SHIFT;
			ret = vstub_iommu_map(c->domain, iova,
					      PFN_PHYS(dma->runs[i].pfn), len,
					      prot, GFP_KERNEL_ACCOUNT);
			if (ret)
				goto err_unmap;
			iova += len;
			i++;
			cond_resched();
			continue;
		}
		/* Fill the scatterlist from page @off of run @i on. */
		sg_init_table(sgl, VSTUB_MAP_SG);
		n = 0;
		for (sg = sgl; ; sg = sg_next(sg)) {
			len = min(dma->runs[i].npages - off,
				  VSTUB_MAP_SG_LEN >> PAGE_SHIFT);
			sg_set_page(sg, pfn_to_page(dma->runs[i].pfn + off),
				    len << PAGE_SHIFT, 0);
			n++;
			off += len;
			if (off == dma->runs[i].npages) {
				i++;
				off = 0;
			}
			if (n == VSTUB_MAP_SG || i == dma->nr_runs)
				break;
		}
		sg_mark_end(sg);
		mapped = vstub_iommu_map_sg(c->domain, iova, sgl, n, prot,
					    GFP_KERNEL_ACCOUNT);
		if (mapped < 0) {
			ret = mapped;
			goto err_unmap;
		}
		iova += mapped;
		cond_resched();
	}
	free_page((unsigned long)sgl);
	return 0;

err_unmap:
	free_page((unsigned long)sgl);
	if (iova > dma->iova) {
		iommu_iotlb_gather_init(&gather);
		iommu_unmap_fast(c->domain, dma->iova, iova - dma->iova,
				 &gather);
		iommu_iotlb_sync(c->domain, &gather);
	}
	return ret;
}

/*
 * Revoke every peer-to-peer mapping of @vdev's BARs (vdev->lock held, so
 * none is being made meanwhile).
 */
void vstub_dma_p2p_revoke(struct vstub_vdev *vdev)
{
	struct vstub_p2p *p2p, *next;

	lockdep_assert_held(&vdev->lock);
	mutex_lock(&vstub_p2p_lock);
	list_for_each_entry_safe(p2p, next, &vdev->p2p_list, node) {
		iommu_unmap(p2p->domain, p2p->iova, p2p->size);
		list_del_init(&p2p->node);
		p2p->vdev = NULL;
		pci_dbg(vdev->pdev, "peer-to-peer mapping at IOVA 0x%llx revoked\n",
			p2p->iova);
	}
	mutex_unlock(&vstub_p2p_lock);
}

/* Unmap a peer-to-peer mapping at UNMAP_DMA (if not revoked already). */
static void vstub_dma_p2p_unmap(struct vstub_dma *dma)
{
	struct vstub_p2p *p2p = dma->p2p;

	mutex_lock(&vstub_p2p_lock);
	if (p2p->vdev) {
		iommu_unmap(p2p->domain, p2p->iova, p2p->size);
		list_del_init(&p2p->node);
		p2p->vdev = NULL;
	}
	mutex_unlock(&vstub_p2p_lock);
	kfree(p2p);
	dma->p2p = NULL;
}

/*
 * Map @dma (iova, size, prot set) to the BAR range at @phys of @vdev (a
 * reference the caller holds): only while the device is open, not revoked
 * and decodes memory, the state userspace's own BAR access needs.
 */
static int vstub_dma_map_p2p(struct vstub_container *c, struct vstub_dma *dma,
			     struct vstub_vdev *vdev, phys_addr_t phys)
{
	struct vstub_p2p *p2p;
	int ret;

	p2p = kzalloc(sizeof(*p2p), GFP_KERNEL_ACCOUNT);
	if (!p2p)
		return -ENOMEM;
	p2p->domain = c->domain;
	p2p->iova = dma->iova;
	p2p->size = dma->size;
	INIT_LIST_HEAD(&p2p->node);

	mutex_lock(&vdev->lock);
	if (vdev->revoked || !vdev->open_count ||
	    !vstub_config_decodes(vdev, PCI_COMMAND_MEMORY)) {
		/* As a fault of the BAR mmap now would: SIGBUS, EFAULT. */
		ret = -EFAULT;
		goto out_unlock;
	}
	ret = vstub_iommu_map(c->domain, dma->iova, phys, dma->size,
			      dma->prot | IOMMU_MMIO, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto out_unlock;
	mutex_lock(&vstub_p2p_lock);
	p2p->vdev = vdev;
	list_add(&p2p->node, &vdev->p2p_list);
	mutex_unlock(&vstub_p2p_lock);
	dma->prot |= IOMMU_MMIO;
	dma->runs = NULL;
	dma->p2p = p2p;
	p2p = NULL;
out_unlock:
	mutex_unlock(&vdev->lock);
	kfree(p2p);
	return ret;
}

static int vstub_dma_add_pfn(void *dma, unsigned long pfn)
{
	return vstub_dma_add_run(dma, pfn, 1, 0);
}

/*
 * Nothing could be pinned at dma->vaddr (@why: -EFAULT, or -EDQUOT for
 * over RLIMIT_MEMLOCK).  Is it a BAR mmap of a vstub device (peer-to-peer:
 * *@vdev and *@phys are set), or another driver's VM_PFNMAP mapping (its
 * pfns taken as they are; the flag is set first, so that a failure half-way
 * unpins nothing)?  Neither is pinned or charged to locked_vm, as with
 * type1.  Anything else fails with @why.  Asked only after pinning failed,
 * so that MAP_DMA of ordinary memory (the per-op hot path) never pays for
 * a VMA lookup.
 */
static int vstub_dma_map_unpinned(struct vstub_dma *dma, int why,
				  struct vstub_vdev **vdev, phys_addr_t *phys)
{
	bool write = dma->prot & IOMMU_WRITE;
	int ret;

	*vdev = vstub_bar_vma_lookup(dma->vaddr, dma->size, write, phys);
	if (IS_ERR(*vdev)) {
		ret = PTR_ERR(*vdev);
		*vdev = NULL;
		return ret;
	}
	if (*vdev)
		return 0;
	dma->prot |= VSTUB_DMA_PFNMAP;
	ret = vstub_pfnmap_walk(dma->vaddr, dma->size, write,
				vstub_dma_add_pfn, dma);
	if (ret != -ENOENT)
		return ret;
	dma->prot &= ~VSTUB_DMA_PFNMAP;
	if (why == -EDQUOT) {
		pr_warn_ratelimited("%s (%d): RLIMIT_MEMLOCK (%lu bytes) exceeded by a %llu-byte DMA mapping; raise the memlock limit (ulimit -l)\n",
				    current->comm, task_pid_nr(current),
				    rlimit(RLIMIT_MEMLOCK), dma->size);
		return -ENOMEM;
	}
	return why;
}

/*
 * May [@iova, @iova + @size) be mapped from @vaddr in @c now?  Checked
 * before pinning, and again under the lock before the mapping goes in:
 * the pages are pinned without the lock, meanwhile the container may have
 * got another mapping there, lost its IOMMU or got a new one.
 */
static int vstub_dma_map_check(struct vstub_container *c, u64 iova, u64 size,
			       u64 vaddr)
{
	u64 iova_last, vaddr_last, mask;

	lockdep_assert_held(&c->lock);
	if (!c->domain)
		return -EINVAL;
	mask = vstub_dma_min_pgsize(c) - 1;
	if (!size || (size | iova | vaddr) & mask)
		return -EINVAL;
	/*
	 * No wrap of either address space: EOVERFLOW as the newest type1
	 * (6.1 and 6.12 answered EINVAL; new clients and the kernel's own
	 * selftests expect EOVERFLOW).  vaddr must fit a pointer.
	 */
	if (check_add_overflow(iova, size - 1, &iova_last) ||
	    check_add_overflow(vaddr, size - 1, &vaddr_last))
		return -EOVERFLOW;
	if (vaddr_last != (unsigned long)vaddr_last ||
	    (size >> PAGE_SHIFT) > UINT_MAX)
		return -EINVAL;

	if (vstub_dma_find(c, iova, iova_last))
		return -EEXIST;
	if (c->dma_count >= vstub_dma_entry_limit)
		return -ENOSPC;
	if (!vstub_iova_valid(c->ranges, c->nr_ranges, iova, iova_last))
		return -EINVAL;
	return 0;
}

/*
 * MAP_DMA, called without the container's lock.  Pinning faults the
 * user's pages in, which can wait on userspace for as long as it likes
 * (a userfaultfd range nobody serves, FUSE, a dead NFS server): it runs
 * with no vstub lock held and ends on a fatal signal, so that a stalled
 * tenant never holds a lock anyone else waits for.  The mapping then goes
 * into the IOMMU and the tree under the lock, after the checks are made
 * again.
 */
int vstub_dma_map(struct vstub_container *c,
		  struct vfio_iommu_type1_dma_map *map)
{
	struct vstub_vdev *vdev = NULL;
	struct vstub_dma *dma;
	phys_addr_t phys;
	int prot = 0;
	int ret;

	if (map->flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map->flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	if (!prot)
		return -EINVAL;

	ret = mutex_lock_killable(&c->lock);
	if (ret)
		return ret;
	ret = vstub_dma_map_check(c, map->iova, map->size, map->vaddr);
	mutex_unlock(&c->lock);
	if (ret)
		return ret;

	dma = kzalloc(sizeof(*dma), GFP_KERNEL_ACCOUNT);
	if (!dma)
		return -ENOMEM;
	dma->iova = map->iova;
	dma->size = map->size;
	dma->vaddr = map->vaddr;
	dma->prot = prot;
	dma->runs = &dma->run0;
	dma->cap_runs = 1;
	dma->mm = current->mm;
	mmgrab(dma->mm);

	ret = vstub_dma_pin(dma);
	if ((ret == -EFAULT || ret == -EDQUOT) && !dma->nr_runs)
		ret = vstub_dma_map_unpinned(dma, ret, &vdev, &phys);
	if (ret)
		goto err_free;

	ret = mutex_lock_killable(&c->lock);
	if (ret)
		goto err_put;
	ret = vstub_dma_map_check(c, dma->iova, dma->size, dma->vaddr);
	if (!ret)
		ret = vdev ? vstub_dma_map_p2p(c, dma, vdev, phys) :
			     vstub_dma_iommu_map(c, dma);
	if (!ret)
		vstub_dma_insert(c, dma);
	mutex_unlock(&c->lock);
	if (ret)
		goto err_put;
	if (vdev)
		vstub_vdev_put(vdev);
	return 0;

err_put:
	if (vdev)
		vstub_vdev_put(vdev);
err_free:
	vstub_dma_free(dma);
	return ret;
}

/*
 * IOMMU-unmap the mappings on @victims with one IOTLB sync, then unpin and
 * free them.  Returns the bytes unmapped.
 */
static u64 vstub_dma_unmap_list(struct vstub_container *c,
				struct list_head *victims)
{
	struct iommu_iotlb_gather gather;
	struct vstub_dma *dma, *next;
	u64 unmapped = 0;

	if (list_empty(victims))
		return 0;
	iommu_iotlb_gather_init(&gather);
	list_for_each_entry(dma, victims, list) {
		if (dma->prot & IOMMU_MMIO)
			vstub_dma_p2p_unmap(dma);
		else
			iommu_unmap_fast(c->domain, dma->iova, dma->size,
					 &gather);
	}
	/* Only after the flush may the device no longer reach the pages. */
	iommu_iotlb_sync(c->domain, &gather);
	list_for_each_entry_safe(dma, next, victims, list) {
		unmapped += dma->size;
		list_del(&dma->list);
		vstub_dma_free(dma);
	}
	return unmapped;
}

static void vstub_dma_take(struct vstub_container *c, struct vstub_dma *dma,
			   struct list_head *victims)
{
	rb_erase(&dma->node, &c->dma_tree);
	c->dma_count--;
	c->pinned_pages -= dma->npinned;
	/* @node is dead now: its storage becomes @list. */
	list_add_tail(&dma->list, victims);
}

void vstub_dma_unmap_all(struct vstub_container *c, u64 *unmapped)
{
	LIST_HEAD(victims);
	struct rb_node *n;

	lockdep_assert_held(&c->lock);
	while ((n = rb_first(&c->dma_tree)))
		vstub_dma_take(c, rb_entry(n, struct vstub_dma, node),
			       &victims);
	*unmapped = vstub_dma_unmap_list(c, &victims);
}

int vstub_dma_unmap(struct vstub_container *c,
		    struct vfio_iommu_type1_dma_unmap *unmap)
{
	u64 iova = unmap->iova, size = unmap->size, last, mask;
	struct vstub_dma *dma;
	LIST_HEAD(victims);

	lockdep_assert_held(&c->lock);
	if (!c->domain)
		return -EINVAL;

	if (unmap->flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (iova || size)
			return -EINVAL;
		vstub_dma_unmap_all(c, &unmap->size);
		return 0;
	}

	mask = vstub_dma_min_pgsize(c) - 1;
	if (!size || (iova | size) & mask)
		return -EINVAL;
	if (check_add_overflow(iova, size - 1, &last))
		return -EOVERFLOW;	/* as the newest type1, see above */

	/* Type1v2 never splits a mapping: the range must cover whole ones. */
	if (c->v2) {
		dma = vstub_dma_find(c, iova, iova);
		if (dma && dma->iova != iova)
			return -EINVAL;
		dma = vstub_dma_find(c, last, last);
		if (dma && dma->iova + dma->size - 1 != last)
			return -EINVAL;
	}

	/*
	 * As type1, in IOVA order from the first mapping the range overlaps:
	 * Type1 (v1) unmaps whole mappings that start inside the range, even
	 * past its end, and stops at one that starts before it (so a range
	 * whose first overlap starts before it unmaps nothing).
	 */
	dma = vstub_dma_first(c, iova, last);
	while (dma && dma->iova <= last) {
		struct rb_node *next = rb_next(&dma->node);

		if (!c->v2 && iova > dma->iova)
			break;
		vstub_dma_take(c, dma, &victims);
		dma = next ? rb_entry(next, struct vstub_dma, node) : NULL;
	}
	unmap->size = vstub_dma_unmap_list(c, &victims);
	return 0;
}
