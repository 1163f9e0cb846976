// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_container.c - the container node with Type1/Type1v2 semantics:
 * one IOMMU paging domain per container shared by all its groups, the
 * valid IOVA ranges, and the container ioctls.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vstub_vfio.h"

static void vstub_container_release_kref(struct kref *kref)
{
	struct vstub_container *c = container_of(kref, struct vstub_container,
						 kref);

	/* Groups hold references, and the last one tore the domain down. */
	WARN_ON(!list_empty(&c->groups) || c->domain);
	kfree(c->ranges);
	mutex_destroy(&c->lock);
	kfree(c);
}

void vstub_container_put(struct vstub_container *c)
{
	kref_put(&c->kref, vstub_container_release_kref);
}

/* 1 if @c has its IOMMU set, 0 if not, -EINTR on a fatal signal. */
int vstub_container_has_iommu(struct vstub_container *c)
{
	int ret;

	ret = mutex_lock_killable(&c->lock);
	if (ret)
		return ret;
	ret = !!c->domain;
	mutex_unlock(&c->lock);
	return ret;
}

/* ---- interrupt isolation ---- */

static int vstub_first_dev(struct device *dev, void *data)
{
	*(struct device **)data = get_device(dev);
	return 1;
}

/*
 * Without interrupt remapping (or an MSI-isolating IOMMU) a device that
 * can DMA can also write any MSI and so raise arbitrary host interrupts.
 * Checked when a group joins a container and again at SET_IOMMU (the
 * administrator may have cleared allow_unsafe_interrupts in between).
 * Needs no vstub lock: @ig and @id do not change; takes @ig's mutex.
 */
static bool vstub_msi_ok(struct iommu_group *ig, int id)
{
	struct device *dev = NULL;
	bool ok;

	/*
	 * Outside iommu_group_for_each_dev(): the group check takes the
	 * group's mutex.  (The older per-device check asks the device's
	 * IOMMU, the same for every device of a group.)
	 */
	iommu_group_for_each_dev(ig, &dev, vstub_first_dev);
	if (!dev)
		return false;
	ok = vstub_group_isolated_msi(ig, dev);
	if (ok) {
		/* isolated: nothing to say */
	} else if (vstub_allow_unsafe_interrupts) {
		dev_warn_once(dev,
			      "IOMMU group %d: interrupts are not isolated (no interrupt remapping), allowed by allow_unsafe_interrupts=1\n",
			      id);
		ok = true;
	} else {
		dev_warn(dev,
			 "IOMMU group %d refused: interrupt remapping is missing, so the device could raise arbitrary interrupts; enable it (e.g. VT-d/AMD-Vi with interrupt remapping) or load vstub with allow_unsafe_interrupts=1 if you trust the device and its user\n",
			 id);
	}
	put_device(dev);
	return ok;
}

bool vstub_group_msi_ok(struct vstub_group *group)
{
	lockdep_assert_held(&group->lock);
	return vstub_msi_ok(group->iommu_group, group->id);
}

/* ---- valid IOVA ranges ---- */

struct vstub_ranges {
	struct vstub_iova_range *r;
	unsigned int nr;
	unsigned int cap;
};

static int vstub_ranges_grow(struct vstub_ranges *rs)
{
	unsigned int cap = rs->cap ? rs->cap * 2 : 8;
	struct vstub_iova_range *r;

	r = krealloc_array(rs->r, cap, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	rs->r = r;
	rs->cap = cap;
	return 0;
}

/* Remove [start, last] from the sorted, disjoint ranges. */
static int vstub_ranges_exclude(struct vstub_ranges *rs, u64 start, u64 last)
{
	unsigned int i = 0;
	int ret;

	while (i < rs->nr) {
		struct vstub_iova_range cur = rs->r[i];

		if (last < cur.start || start > cur.last) {
			i++;
			continue;
		}
		if (start > cur.start && last < cur.last) {
			/* Split in two around the hole. */
			if (rs->nr == rs->cap) {
				ret = vstub_ranges_grow(rs);
				if (ret)
					return ret;
			}
			memmove(&rs->r[i + 2], &rs->r[i + 1],
				(rs->nr - i - 1) * sizeof(*rs->r));
			rs->r[i].last = start - 1;
			rs->r[i + 1].start = last + 1;
			rs->r[i + 1].last = cur.last;
			rs->nr++;
			i += 2;
		} else if (start > cur.start) {
			rs->r[i++].last = start - 1;
		} else if (last < cur.last) {
			rs->r[i++].start = last + 1;
		} else {
			memmove(&rs->r[i], &rs->r[i + 1],
				(rs->nr - i - 1) * sizeof(*rs->r));
			rs->nr--;
		}
	}
	return 0;
}

static int vstub_ranges_exclude_group(struct vstub_ranges *rs,
				      struct iommu_group *ig)
{
	struct iommu_resv_region *resv, *next;
	LIST_HEAD(regions);
	int ret;

	ret = iommu_get_group_resv_regions(ig, &regions);
	list_for_each_entry_safe(resv, next, &regions, list) {
		/* Relaxable direct maps (USB, GPU RMRRs) may be overridden. */
		if (!ret && resv->type != IOMMU_RESV_DIRECT_RELAXABLE &&
		    resv->length)
			ret = vstub_ranges_exclude(rs, resv->start,
						   resv->start + resv->length - 1);
		list_del(&resv->list);
		kfree(resv);
	}
	return ret;
}

/*
 * Valid IOVA ranges of @domain for the container's groups plus @extra:
 * the aperture minus every group's reserved regions (e.g. the MSI window).
 */
static int vstub_container_calc_ranges(struct vstub_container *c,
				       struct iommu_domain *domain,
				       struct vstub_group *extra,
				       struct vstub_ranges *rs)
{
	struct iommu_domain_geometry *geo = &domain->geometry;
	struct vstub_group *group;
	int ret;

	rs->r = NULL;
	rs->nr = 0;
	rs->cap = 0;
	ret = vstub_ranges_grow(rs);
	if (ret)
		return ret;
	rs->r[0].start = geo->aperture_start;
	rs->r[0].last = geo->aperture_end ? geo->aperture_end : U64_MAX;
	rs->nr = 1;

	list_for_each_entry(group, &c->groups, container_node) {
		ret = vstub_ranges_exclude_group(rs, group->iommu_group);
		if (ret)
			goto err;
	}
	if (extra) {
		ret = vstub_ranges_exclude_group(rs, extra->iommu_group);
		if (ret)
			goto err;
	}
	if (!rs->nr) {
		ret = -EINVAL;
		goto err;
	}
	return 0;
err:
	kfree(rs->r);
	rs->r = NULL;
	return ret;
}

static void vstub_container_set_ranges(struct vstub_container *c,
				       struct vstub_ranges *rs)
{
	kfree(c->ranges);
	c->ranges = rs->r;
	c->nr_ranges = rs->nr;
}

/* ---- groups joining and leaving ---- */

/*
 * @group (DMA ownership already claimed) joins @c.  If the container has
 * its IOMMU set, the group is attached to the container's domain; its
 * reserved regions must not overlap existing mappings.
 */
int vstub_container_attach_group(struct vstub_container *c,
				 struct vstub_group *group)
{
	struct vstub_ranges rs;
	int ret;

	ret = mutex_lock_killable(&c->lock);
	if (ret)
		return ret;
	if (c->domain) {
		ret = vstub_container_calc_ranges(c, c->domain, group, &rs);
		if (ret)
			goto out_unlock;
		if (!vstub_dma_ranges_cover(c, rs.r, rs.nr)) {
			ret = -EINVAL;
			goto err_ranges;
		}
		/* As Type1: the IOMMU core's errno (ENOMEM...) reaches the user. */
		ret = iommu_attach_group(c->domain, group->iommu_group);
		if (ret) {
			pr_warn("IOMMU group %d cannot join the container's IOMMU domain (%d)\n",
				group->id, ret);
			goto err_ranges;
		}
		vstub_container_set_ranges(c, &rs);
	}
	list_add_tail(&group->container_node, &c->groups);
	kref_get(&c->kref);
	mutex_unlock(&c->lock);
	return 0;

err_ranges:
	kfree(rs.r);
out_unlock:
	mutex_unlock(&c->lock);
	return ret;
}

/* Tear the IOMMU down: every mapping goes, the domain goes. */
static void vstub_container_teardown_locked(struct vstub_container *c)
{
	u64 unmapped;

	lockdep_assert_held(&c->lock);
	vstub_dma_unmap_all(c, &unmapped);
	iommu_domain_free(c->domain);
	c->domain = NULL;
	kfree(c->ranges);
	c->ranges = NULL;
	c->nr_ranges = 0;
}

/*
 * @group leaves @c (the caller then releases DMA ownership and its
 * container reference).  As with Type1, the IOMMU of a container whose
 * last group left is torn down and must be set again.
 */
void vstub_container_detach_group(struct vstub_container *c,
				  struct vstub_group *group)
{
	struct vstub_ranges rs;

	mutex_lock(&c->lock);
	if (c->domain)
		iommu_detach_group(c->domain, group->iommu_group);
	list_del_init(&group->container_node);
	if (c->domain) {
		if (list_empty(&c->groups))
			vstub_container_teardown_locked(c);
		else if (!vstub_container_calc_ranges(c, c->domain, NULL, &rs))
			vstub_container_set_ranges(c, &rs);
	}
	mutex_unlock(&c->lock);
}

/* ---- ioctls ---- */

static int vstub_container_set_iommu(struct vstub_container *c,
				     unsigned long type)
{
	struct iommu_domain *domain;
	struct vstub_group *group, *g;
	struct device *dev = NULL;
	struct vstub_ranges rs;
	int ret;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -ENODEV;

	ret = mutex_lock_killable(&c->lock);
	if (ret)
		return ret;
	if (c->domain || list_empty(&c->groups)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	list_for_each_entry(group, &c->groups, container_node) {
		if (!vstub_msi_ok(group->iommu_group, group->id)) {
			ret = -EPERM;
			goto out_unlock;
		}
	}

	group = list_first_entry(&c->groups, struct vstub_group,
				 container_node);
	iommu_group_for_each_dev(group->iommu_group, &dev, vstub_first_dev);
	if (!dev) {
		ret = -ENODEV;
		goto out_unlock;
	}
	domain = vstub_domain_alloc(dev);
	put_device(dev);
	if (IS_ERR(domain)) {
		ret = PTR_ERR(domain);
		goto out_unlock;
	}

	list_for_each_entry(group, &c->groups, container_node) {
		ret = iommu_attach_group(domain, group->iommu_group);
		if (ret) {
			pr_warn("IOMMU group %d cannot join the container's IOMMU domain (%d)\n",
				group->id, ret);
			goto err_detach;
		}
	}

	ret = vstub_container_calc_ranges(c, domain, NULL, &rs);
	if (ret) {
		group = NULL;	/* all of them are attached */
		goto err_detach;
	}
	vstub_container_set_ranges(c, &rs);

	/* Pinning works on CPU pages: never map less than one of them. */
	c->pgsize_bitmap = domain->pgsize_bitmap;
	if (c->pgsize_bitmap & ~PAGE_MASK) {
		c->pgsize_bitmap &= PAGE_MASK;
		c->pgsize_bitmap |= PAGE_SIZE;
	}
	c->v2 = type == VFIO_TYPE1v2_IOMMU;
	/*
	 * As type1: where the IOMMU can make every DMA snoop the CPU caches
	 * (ignore PCIe no-snoop), turn that on; VFIO_DMA_CC_IOMMU reports it.
	 */
	c->cache_coherent = domain->ops->enforce_cache_coherency &&
			    domain->ops->enforce_cache_coherency(domain);
	c->domain = domain;
	mutex_unlock(&c->lock);
	return 0;

err_detach:
	list_for_each_entry(g, &c->groups, container_node) {
		if (g == group)
			break;
		iommu_detach_group(domain, g->iommu_group);
	}
	iommu_domain_free(domain);
out_unlock:
	mutex_unlock(&c->lock);
	return ret;
}

static int vstub_container_check_extension(struct vstub_container *c,
					   unsigned long ext)
{
	int ret;

	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		/* As type1: only once the IOMMU is set, and if enforced. */
		if (mutex_lock_killable(&c->lock))
			return -EINTR;
		ret = c->domain && c->cache_coherent;
		mutex_unlock(&c->lock);
		return ret;
	default:
		return 0;
	}
}

/* Size of the capability chain GET_INFO reports. */
static size_t vstub_info_caps_size(struct vstub_container *c)
{
	return sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
	       c->nr_ranges * sizeof(struct vfio_iova_range) +
	       sizeof(struct vfio_iommu_type1_info_dma_avail);
}

static void vstub_info_fill_caps(struct vstub_container *c, void *buf,
				 size_t hdr)
{
	struct vfio_iommu_type1_info_cap_iova_range *iova = buf;
	struct vfio_iommu_type1_info_dma_avail *avail;
	size_t iova_size;
	unsigned int i;

	iova_size = sizeof(*iova) +
		    c->nr_ranges * sizeof(struct vfio_iova_range);
	iova->header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	iova->header.version = 1;
	iova->header.next = hdr + iova_size;
	iova->nr_iovas = c->nr_ranges;
	for (i = 0; i < c->nr_ranges; i++) {
		iova->iova_ranges[i].start = c->ranges[i].start;
		iova->iova_ranges[i].end = c->ranges[i].last;
	}

	avail = buf + iova_size;
	avail->header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	avail->header.version = 1;
	avail->header.next = 0;
	avail->avail = vstub_dma_entry_limit > c->dma_count ?
		       vstub_dma_entry_limit - c->dma_count : 0;
}

static int vstub_container_get_info(struct vstub_container *c,
				    void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	struct vfio_iommu_type1_info info;
	void *caps = NULL;
	size_t caps_size;
	int ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* Callers that know about cap_offset get the capability chain. */
	if (info.argsz >= offsetofend(struct vfio_iommu_type1_info, cap_offset))
		minsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);

	ret = mutex_lock_killable(&c->lock);
	if (ret)
		return ret;
	if (!c->domain) {
		mutex_unlock(&c->lock);
		return -EINVAL;
	}
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = c->pgsize_bitmap;
	info.cap_offset = 0;
	caps_size = vstub_info_caps_size(c);
	if (info.argsz < sizeof(info) + caps_size) {
		/* Too small: say how much is needed, still succeed. */
		info.argsz = sizeof(info) + caps_size;
	} else {
		caps = kzalloc(caps_size, GFP_KERNEL);
		if (!caps)
			ret = -ENOMEM;
		else
			vstub_info_fill_caps(c, caps, sizeof(info));
		info.cap_offset = sizeof(info);
	}
	mutex_unlock(&c->lock);
	if (ret)
		return ret;

	if (caps && copy_to_user(arg + sizeof(info), caps, caps_size))
		ret = -EFAULT;
	kfree(caps);
	if (!ret && copy_to_user(arg, &info, minsz))
		ret = -EFAULT;
	return ret;
}

static int vstub_container_map_dma(struct vstub_container *c,
				   void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map,
					  size);
	struct vfio_iommu_type1_dma_map map;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz ||
	    map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;

	/* vstub_dma_map() takes the lock itself: it pins without it. */
	return vstub_dma_map(c, &map);
}

static int vstub_container_unmap_dma(struct vstub_container *c,
				     void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					  size);
	struct vfio_iommu_type1_dma_unmap unmap;
	int ret;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;

	ret = mutex_lock_killable(&c->lock);
	if (ret)
		return ret;
	ret = vstub_dma_unmap(c, &unmap);
	mutex_unlock(&c->lock);
	if (ret)
		return ret;
	return copy_to_user(arg, &unmap, minsz) ? -EFAULT : 0;
}

static long vstub_container_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct vstub_container *c = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return vstub_container_check_extension(c, arg);
	case VFIO_SET_IOMMU:
		return vstub_container_set_iommu(c, arg);
	case VFIO_IOMMU_GET_INFO:
		return vstub_container_get_info(c, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return vstub_container_map_dma(c, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vstub_container_unmap_dma(c, uarg);
	default:
		return -ENOTTY;
	}
}

static int vstub_container_open(struct inode *inode, struct file *file)
{
	struct vstub_container *c;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	kref_init(&c->kref);
	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->groups);
	c->dma_tree = RB_ROOT;
	file->private_data = c;
	return nonseekable_open(inode, file);
}

/* Groups still attached keep the container (and its mappings) alive. */
static int vstub_container_release(struct inode *inode, struct file *file)
{
	vstub_container_put(file->private_data);
	return 0;
}

const struct file_operations vstub_container_fops = {
	.owner		= THIS_MODULE,
	.open		= vstub_container_open,
	.release	= vstub_container_release,
	.unlocked_ioctl	= vstub_container_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
