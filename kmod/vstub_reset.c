// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_reset.c - slot and bus resets of a captured function:
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET, with
 * vfio-pci's rules.
 *
 * A slot reset (a hotplug slot that can reset, e.g. a PCIe root port's
 * with pciehp) or else a secondary bus reset of the function's bus resets
 * every function below that slot or on that bus.  The hot reset is done
 * only when every such function is captured by vstub and belongs to a
 * group whose open group file the caller passes (the legacy group-fd
 * form; a group node is opened once at a time, so holding its file is
 * owning it): a function on another driver or in a group not passed makes
 * it fail with EINVAL, as vfio-pci's dev_set rule does.  While it runs,
 * every affected device's vdev->lock is held (try-locked, EBUSY on
 * contention as vfio-pci): BAR mmaps are zapped and peer-to-peer IOMMU
 * mappings of their BARs revoked (vstub_bar_zap), open devices are put in
 * D0 with memory decode on for the PCI core's state restore (MSI-X table),
 * and pci_reset_bus() saves and restores every function's config state
 * around the reset (it try-locks the devices itself: EAGAIN when one is
 * busy, e.g. being removed).
 */
#include <linux/file.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vstub_irq.h"
#include "vstub_vfio.h"

/* Is @pdev below @slot (in it, or behind a bridge in it)? */
static bool vstub_reset_below_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	for (; pdev; pdev = pdev->bus->self)
		if (pdev->bus == slot->bus)
			return pdev->slot == slot;
	return false;
}

/* Which reset would @pdev get: 0 and *@slot, or -ENODEV (neither). */
static int vstub_reset_scope(struct pci_dev *pdev, bool *slot)
{
	*slot = !pci_probe_reset_slot(pdev->slot);
	if (!*slot && pci_probe_reset_bus(pdev->bus))
		return -ENODEV;
	return 0;
}

/* The functions such a reset affects, counted or gathered. */
struct vstub_reset_walk {
	struct pci_slot *slot;	/* only those below this slot, or NULL */
	struct pci_dev **pdevs;	/* NULL: count only; else references */
	u32 max;		/* entries of @pdevs */
	u32 count;		/* functions found */
	int ret;		/* -EAGAIN: more than @max now */
};

static int vstub_reset_walk_one(struct pci_dev *pdev, void *data)
{
	struct vstub_reset_walk *w = data;

	if (w->slot && !vstub_reset_below_slot(pdev, w->slot))
		return 0;
	if (w->pdevs) {
		if (w->count == w->max) {
			w->ret = -EAGAIN;	/* one appeared since the count */
			return 1;
		}
		w->pdevs[w->count] = pci_dev_get(pdev);
	}
	w->count++;
	return 0;
}

/* Count the functions a reset of @pdev (@slot: the slot reset) affects. */
static u32 vstub_reset_count(struct pci_dev *pdev, bool slot)
{
	struct vstub_reset_walk w = { .slot = slot ? pdev->slot : NULL };

	pci_walk_bus(pdev->bus, vstub_reset_walk_one, &w);
	return w.count;
}

/*
 * Gather, with references, the (at most @max) functions a reset of @pdev
 * affects into @w; the caller releases them with vstub_reset_walk_put().
 * -EAGAIN when more than @max are there now, as vfio-pci.
 */
static int vstub_reset_gather(struct pci_dev *pdev, bool slot, u32 max,
			      struct vstub_reset_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->slot = slot ? pdev->slot : NULL;
	w->max = max;
	w->pdevs = kcalloc(max, sizeof(*w->pdevs), GFP_KERNEL);
	if (!w->pdevs)
		return -ENOMEM;
	pci_walk_bus(pdev->bus, vstub_reset_walk_one, w);
	return w->ret;
}

static void vstub_reset_walk_put(struct vstub_reset_walk *w)
{
	u32 i;

	for (i = 0; w->pdevs && i < w->count; i++)
		pci_dev_put(w->pdevs[i]);
	kfree(w->pdevs);
}

/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: every function the slot reset (or
 * else the secondary bus reset) of this one affects, with its group, as
 * vfio-pci lists them.  ENODEV when neither reset is possible, EPERM when
 * an affected function is in no IOMMU group, ENOSPC with the count when
 * argsz leaves too little room.
 */
int vstub_reset_info(struct vstub_vdev *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset_info,
					  count);
	struct vfio_pci_dependent_device *devs = NULL;
	struct vfio_pci_hot_reset_info hdr;
	struct vstub_reset_walk w;
	struct iommu_group *ig;
	bool slot;
	u32 count, i;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	ret = vstub_reset_scope(vdev->pdev, &slot);
	if (ret)
		return ret;

	count = vstub_reset_count(vdev->pdev, slot);
	if (hdr.argsz - minsz < (u64)count * sizeof(*devs)) {
		hdr.count = count;
		return copy_to_user(arg, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}
	ret = vstub_reset_gather(vdev->pdev, slot, count, &w);
	if (ret)
		goto out;
	devs = kcalloc(w.count, sizeof(*devs), GFP_KERNEL);
	if (!devs) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < w.count; i++) {
		struct pci_dev *pdev = w.pdevs[i];

		/* As vfio-pci: a function outside any group cannot be owned. */
		ig = iommu_group_get(&pdev->dev);
		if (!ig) {
			ret = -EPERM;
			goto out;
		}
		devs[i].group_id = iommu_group_id(ig);
		devs[i].segment = pci_domain_nr(pdev->bus);
		devs[i].bus = pdev->bus->number;
		devs[i].devfn = pdev->devfn;
		iommu_group_put(ig);
	}
	/* Functions that went away since the count are not listed. */
	hdr.count = w.count;
	if (copy_to_user(arg, &hdr, minsz) ||
	    copy_to_user(arg + minsz, devs, hdr.count * sizeof(*devs)))
		ret = -EFAULT;
out:
	kfree(devs);
	vstub_reset_walk_put(&w);
	return ret;
}

/* The vdev of @pdev in one of the groups of @files (a reference), or NULL. */
static struct vstub_vdev *vstub_reset_find(struct pci_dev *pdev,
					   struct file **files, u32 nr)
{
	struct vstub_vdev *found = NULL, *v;
	u32 i;

	for (i = 0; i < nr && !found; i++) {
		struct vstub_group *group = files[i]->private_data;

		mutex_lock(&group->lock);
		list_for_each_entry(v, &group->devices, group_node) {
			if (v->pdev == pdev) {
				kref_get(&v->kref);
				found = v;
				break;
			}
		}
		mutex_unlock(&group->lock);
	}
	return found;
}

/*
 * Reset the @nr devices @vdevs (all a reset of @pdev affects, each
 * vdev->lock held): no BAR access and no peer-to-peer mapping of their
 * BARs across it, decode on for the restore of open ones.
 */
static int vstub_reset_locked(struct pci_dev *pdev, struct vstub_vdev **vdevs,
			      u32 nr)
{
	unsigned long *off;
	int ret;
	u32 i;

	off = bitmap_zalloc(nr, GFP_KERNEL);
	if (!off)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		vstub_bar_zap(vdevs[i]);
		if (!vdevs[i]->open_count)
			continue;
		vstub_config_power_d0(vdevs[i]);	/* reset in D0 */
		if (vstub_config_memory_enable(vdevs[i]))
			__set_bit(i, off);
	}
	ret = pci_reset_bus(pdev);
	for (i = 0; i < nr; i++) {
		if (!vdevs[i]->open_count)
			continue;
		vstub_irq_reset_done(vdevs[i]);
		vstub_config_memory_restore(vdevs[i], test_bit(i, off));
	}
	bitmap_free(off);
	return ret;
}

/*
 * VFIO_DEVICE_PCI_HOT_RESET (legacy form: group fds).  EINVAL for bad
 * flags, a count of 0 or above the affected functions, an fd that is not
 * a vstub group file, or an affected function that is not vstub's or not
 * in a group passed; EBADF for a bad fd; ENODEV without a slot or bus
 * reset; EBUSY when a device is busy (vfio-pci's errnos).
 */
int vstub_reset_hot_reset(struct vstub_vdev *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct pci_dev *pdev = vdev->pdev;
	struct vstub_vdev **vdevs = NULL;
	struct vfio_pci_hot_reset hdr;
	struct file **files = NULL;
	struct vstub_reset_walk w = { };
	u32 count, nfiles = 0, nvdevs = 0, nlocked = 0;
	s32 *fds;
	bool slot;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	ret = vstub_reset_scope(pdev, &slot);
	if (ret)
		return ret;
	/* At most one group per affected function. */
	count = vstub_reset_count(pdev, slot);
	if (!hdr.count || hdr.count > count)
		return -EINVAL;

	fds = kcalloc(hdr.count, sizeof(*fds), GFP_KERNEL);
	files = kcalloc(hdr.count, sizeof(*files), GFP_KERNEL);
	if (!fds || !files) {
		ret = -ENOMEM;
		goto out;
	}
	if (copy_from_user(fds, arg + minsz, hdr.count * sizeof(*fds))) {
		ret = -EFAULT;
		goto out;
	}
	for (nfiles = 0; nfiles < hdr.count; nfiles++) {
		struct file *f = fget(fds[nfiles]);

		if (!f) {
			ret = -EBADF;
			goto out;
		}
		if (f->f_op != &vstub_group_fops) {
			fput(f);
			pci_info_ratelimited(pdev, "hot reset: fd %d is not a vstub group file\n",
					     fds[nfiles]);
			ret = -EINVAL;
			goto out;
		}
		files[nfiles] = f;
	}

	ret = vstub_reset_gather(pdev, slot, count, &w);
	if (ret)
		goto out;
	vdevs = kcalloc(w.count, sizeof(*vdevs), GFP_KERNEL);
	if (!vdevs) {
		ret = -ENOMEM;
		goto out;
	}
	for (nvdevs = 0; nvdevs < w.count; nvdevs++) {
		vdevs[nvdevs] = vstub_reset_find(w.pdevs[nvdevs], files, nfiles);
		if (!vdevs[nvdevs]) {
			pci_info_ratelimited(pdev, "hot reset refused: %s is reset too but is not on vstub or not in a group passed\n",
					     pci_name(w.pdevs[nvdevs]));
			ret = -EINVAL;
			goto out;
		}
	}

	/* Several locks of one class: try them, back off on contention. */
	for (nlocked = 0; nlocked < nvdevs; nlocked++) {
		if (!mutex_trylock(&vdevs[nlocked]->lock)) {
			ret = -EBUSY;
			goto out;
		}
		if (vdevs[nlocked]->revoked) {
			/* Being removed from vstub: no longer ours to reset. */
			mutex_unlock(&vdevs[nlocked]->lock);
			ret = -EINVAL;
			goto out;
		}
	}
	ret = vstub_reset_locked(pdev, vdevs, nvdevs);
	if (ret)
		pci_info_ratelimited(pdev, "hot reset failed: %d\n", ret);
out:
	while (nlocked)
		mutex_unlock(&vdevs[--nlocked]->lock);
	while (nvdevs)
		vstub_vdev_put(vdevs[--nvdevs]);
	kfree(vdevs);
	vstub_reset_walk_put(&w);
	while (nfiles)
		fput(files[--nfiles]);
	kfree(files);
	kfree(fds);
	return ret;
}
