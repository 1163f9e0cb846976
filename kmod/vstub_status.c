// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_status.c - what the netlink family reports about PCI functions and
 * their IOMMU: device records, the IOMMU status summary, and the "explain"
 * view of an IOMMU group (which member keeps it from being viable, why).
 *
 * Everything here reads the kernel's own state (the device's IOMMU group,
 * its current domain, the IOMMU units in the iommu class), not the kernel
 * command line, and only under the lock or reference that keeps it alive:
 * a device's IOMMU data under its IOMMU group's mutex while it is still a
 * member (vstub_nl_iommu_facts()), a driver under the device's lock, what
 * VFIO users do through vstub's own leaf locks (vstub_vfio_nl_stats()).
 * Nothing here waits for a lock a VFIO user can hold.
 */
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "vstub_nl.h"

static u8 vstub_nl_reason(enum vstub_reason reason)
{
	switch (reason) {
	case VSTUB_REASON_ID:
		return VSTUB_NL_REASON_ID;
	case VSTUB_REASON_BDF:
		return VSTUB_NL_REASON_BDF;
	case VSTUB_REASON_NEW_ID:
		return VSTUB_NL_REASON_NEW_ID;
	case VSTUB_REASON_VF:
		return VSTUB_NL_REASON_VF;
	default:
		return VSTUB_NL_REASON_NONE;
	}
}

/*
 * A captured device's record; vstub_devs_lock or its device_lock held.
 * @vfio: include what its VFIO user does (the caller may see it).
 */
void vstub_nl_bind_from_vdev(struct vstub_dev *vdev, struct vstub_nl_bind *b,
			     bool vfio)
{
	memset(b, 0, sizeof(*b));
	strscpy(b->driver, VSTUB_DRV_NAME, sizeof(b->driver));
	strscpy(b->orig_driver, vdev->orig_driver, sizeof(b->orig_driver));
	b->captured = true;
	b->reason = vdev->reason;
	b->owner = vdev->owner;
	b->have_vfio = vfio && vstub_vfio_nl_stats(vdev, &b->vfio);
}

/*
 * The record of @pdev if vstub has captured it, into @b unless NULL
 * (false if not captured).
 */
bool vstub_nl_bind_captured(struct pci_dev *pdev, struct vstub_nl_bind *b,
			    bool vfio)
{
	struct vstub_dev *vdev;
	bool found = false;

	mutex_lock(&vstub_devs_lock);
	list_for_each_entry(vdev, &vstub_devs, node) {
		if (vdev->pdev == pdev) {
			if (b)
				vstub_nl_bind_from_vdev(vdev, b, vfio);
			found = true;
			break;
		}
	}
	mutex_unlock(&vstub_devs_lock);
	return found;
}

/* Any function's binding; the caller holds @pdev's device_lock. */
void vstub_nl_bind_locked(struct pci_dev *pdev, struct vstub_nl_bind *b,
			  bool vfio)
{
	struct device_driver *drv = pdev->dev.driver;

	if (drv == &vstub_pci_driver.driver && pci_get_drvdata(pdev)) {
		vstub_nl_bind_from_vdev(pci_get_drvdata(pdev), b, vfio);
		return;
	}
	memset(b, 0, sizeof(*b));
	b->owner = VSTUB_NO_OWNER;
	if (drv)
		strscpy(b->driver, drv->name, sizeof(b->driver));
}

int vstub_nl_put_bdf(struct sk_buff *skb, int type, struct pci_dev *pdev)
{
	return nla_put_string(skb, type, pci_name(pdev));
}

static u8 vstub_nl_dma_mode(struct iommu_domain *domain)
{
	if (!domain)
		return VSTUB_DMA_NO_IOMMU;
	switch (domain->type) {
	case IOMMU_DOMAIN_DMA:
	case IOMMU_DOMAIN_DMA_FQ:
		return VSTUB_DMA_TRANSLATED;
	case IOMMU_DOMAIN_IDENTITY:
		return VSTUB_DMA_PASSTHROUGH;
	case IOMMU_DOMAIN_BLOCKED:
		return VSTUB_DMA_BLOCKED;
	case IOMMU_DOMAIN_UNMANAGED:
		return VSTUB_DMA_UNMANAGED;
	default:
		return VSTUB_DMA_OTHER;
	}
}

static u8 vstub_nl_resv_type(enum iommu_resv_type type)
{
	switch (type) {
	case IOMMU_RESV_DIRECT:
		return VSTUB_RESV_DIRECT;
	case IOMMU_RESV_DIRECT_RELAXABLE:
		return VSTUB_RESV_DIRECT_RELAXABLE;
	case IOMMU_RESV_RESERVED:
		return VSTUB_RESV_RESERVED;
	case IOMMU_RESV_MSI:
		return VSTUB_RESV_MSI;
	case IOMMU_RESV_SW_MSI:
		return VSTUB_RESV_SW_MSI;
	default:
		return VSTUB_RESV_OTHER;
	}
}

/* The group's reserved IOVA regions as VSTUB_A_RESV_REGIONS. */
static int vstub_nl_put_resv(struct sk_buff *skb, struct iommu_group *group)
{
	struct iommu_resv_region *r, *tmp;
	struct nlattr *nest, *one;
	LIST_HEAD(regions);
	int ret;

	ret = iommu_get_group_resv_regions(group, &regions);
	if (ret)
		goto out_free;
	ret = -EMSGSIZE;
	nest = nla_nest_start(skb, VSTUB_A_RESV_REGIONS);
	if (!nest)
		goto out_free;
	list_for_each_entry(r, &regions, list) {
		one = nla_nest_start(skb, VSTUB_A_RESV_REGION);
		if (!one ||
		    nla_put_u64_64bit(skb, VSTUB_RESV_A_START, r->start,
				      VSTUB_RESV_A_PAD) ||
		    nla_put_u64_64bit(skb, VSTUB_RESV_A_LENGTH, r->length,
				      VSTUB_RESV_A_PAD) ||
		    nla_put_u8(skb, VSTUB_RESV_A_TYPE,
			       vstub_nl_resv_type(r->type)))
			goto out_free;
		nla_nest_end(skb, one);
	}
	nla_nest_end(skb, nest);
	ret = 0;
out_free:
	list_for_each_entry_safe(r, tmp, &regions, list) {
		list_del(&r->list);
		kfree(r);
	}
	return ret;
}

/**
 * struct vstub_nl_iommu - IOMMU facts of one device
 * @dev:      the device asked about
 * @group:    its IOMMU group (the caller's reference)
 * @found:    @dev was still a member of @group
 * @unit:     the IOMMU unit translating it (referenced), or NULL
 * @mode:     VSTUB_DMA_* of the group's current domain
 * @isolated: its MSIs are isolated
 */
struct vstub_nl_iommu {
	struct device *dev;
	struct iommu_group *group;
	bool found;
	struct device *unit;
	u8 mode;
	bool isolated;
};

/*
 * Called by iommu_group_for_each_dev() with the group's mutex held.  While
 * @dev is still on the group's list, its dev->iommu is not freed (the IOMMU
 * core frees it after taking the device off the list, under or after that
 * mutex, at hot-remove) and the group's domain is attached (the core
 * changes it under the mutex; its owner frees it only once detached).
 */
static int vstub_nl_iommu_member(struct device *dev, void *data)
{
	struct vstub_nl_iommu *f = data;

	if (dev != f->dev)
		return 0;
	f->found = true;
	if (dev->iommu && dev->iommu->iommu_dev && dev->iommu->iommu_dev->dev)
		f->unit = get_device(dev->iommu->iommu_dev->dev);
	f->mode = vstub_nl_dma_mode(iommu_get_domain_for_dev(dev));
	if (!VSTUB_ISOLATED_MSI_TAKES_GROUP_MUTEX)
		f->isolated = vstub_group_isolated_msi(f->group, dev);
	return 1;
}

/*
 * The IOMMU facts of @dev in @group (a reference the caller holds), read
 * under the locks that keep them alive; the caller puts @f->unit.  A
 * device being hot-removed may no longer be found: no unit, no IOMMU.
 */
static void vstub_nl_iommu_facts(struct device *dev, struct iommu_group *group,
				 struct vstub_nl_iommu *f)
{
	memset(f, 0, sizeof(*f));
	f->dev = dev;
	f->group = group;
	f->mode = VSTUB_DMA_NO_IOMMU;
	iommu_group_for_each_dev(group, f, vstub_nl_iommu_member);
	if (VSTUB_ISOLATED_MSI_TAKES_GROUP_MUTEX && f->found)
		f->isolated = vstub_group_isolated_msi(group, dev);
}

/* IOMMU facts of @pdev: group, unit, domain type, MSI isolation. */
static int vstub_nl_put_iommu(struct sk_buff *skb, struct pci_dev *pdev,
			      bool resv)
{
	struct iommu_group *group = iommu_group_get(&pdev->dev);
	struct vstub_nl_iommu f;
	int ret = -EMSGSIZE;

	if (!group)
		return nla_put_u8(skb, VSTUB_A_DMA_MODE, VSTUB_DMA_NO_IOMMU) ||
		       nla_put_u8(skb, VSTUB_A_ISOLATED_MSI, 0) ? -EMSGSIZE : 0;

	vstub_nl_iommu_facts(&pdev->dev, group, &f);
	if (nla_put_u32(skb, VSTUB_A_IOMMU_GROUP, iommu_group_id(group)) ||
	    (f.unit &&
	     nla_put_string(skb, VSTUB_A_IOMMU_UNIT, dev_name(f.unit))) ||
	    nla_put_u8(skb, VSTUB_A_DMA_MODE, f.mode) ||
	    nla_put_u8(skb, VSTUB_A_ISOLATED_MSI, f.isolated))
		goto out;
	ret = resv ? vstub_nl_put_resv(skb, group) : 0;
out:
	put_device(f.unit);
	iommu_group_put(group);
	return ret;
}

/* Who was given the device and who holds it open. */
static int vstub_nl_put_users(struct sk_buff *skb,
			      const struct vstub_nl_bind *b)
{
	const struct vstub_vfio_stats *st = &b->vfio;
	struct user_namespace *ns = current_user_ns();
	struct nlattr *nest, *one;
	unsigned int i;

	if ((uid_valid(b->owner.uid) &&
	     nla_put_u32(skb, VSTUB_A_OWNER_UID,
			 from_kuid_munged(ns, b->owner.uid))) ||
	    (gid_valid(b->owner.gid) &&
	     nla_put_u32(skb, VSTUB_A_OWNER_GID,
			 from_kgid_munged(ns, b->owner.gid))))
		return -EMSGSIZE;
	if (!b->have_vfio)
		return 0;
	if (nla_put_u32(skb, VSTUB_A_NUM_HOLDERS, st->nr_holders))
		return -EMSGSIZE;
	nest = nla_nest_start(skb, VSTUB_A_HOLDERS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < st->nr_shown; i++) {
		const struct vstub_vfio_holder *h = &st->holders[i];

		one = nla_nest_start(skb, VSTUB_A_HOLDER);
		if (!one ||
		    nla_put_u32(skb, VSTUB_HOLDER_A_PID, h->pid) ||
		    nla_put_string(skb, VSTUB_HOLDER_A_COMM, h->comm) ||
		    nla_put_u64_64bit(skb, VSTUB_HOLDER_A_LOCKED_PAGES,
				      h->locked_pages, VSTUB_HOLDER_A_PAD) ||
		    nla_put_u64_64bit(skb, VSTUB_HOLDER_A_MEMLOCK_LIMIT,
				      h->memlock_limit, VSTUB_HOLDER_A_PAD) ||
		    nla_put_u8(skb, VSTUB_HOLDER_A_IPC_LOCK, h->ipc_lock))
			return -EMSGSIZE;
		nla_nest_end(skb, one);
	}
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * vstub_nl_fill_dev - the attributes of a device record
 * @skb:    message being built
 * @pdev:   the function
 * @b:      its binding, or NULL to leave the binding out (notifications
 *          about devices vstub no longer has)
 * @detail: add the reserved regions
 *
 * Return: 0 or -EMSGSIZE.
 */
int vstub_nl_fill_dev(struct sk_buff *skb, struct pci_dev *pdev,
		      const struct vstub_nl_bind *b, bool detail)
{
	if (vstub_nl_put_bdf(skb, VSTUB_A_BDF, pdev) ||
	    nla_put_u16(skb, VSTUB_A_VENDOR, pdev->vendor) ||
	    nla_put_u16(skb, VSTUB_A_DEVICE, pdev->device) ||
	    nla_put_u16(skb, VSTUB_A_SUBVENDOR, pdev->subsystem_vendor) ||
	    nla_put_u16(skb, VSTUB_A_SUBDEVICE, pdev->subsystem_device) ||
	    nla_put_u32(skb, VSTUB_A_CLASS, pdev->class))
		return -EMSGSIZE;
	if (b) {
		if ((b->driver[0] &&
		     nla_put_string(skb, VSTUB_A_DRIVER, b->driver)) ||
		    nla_put_u8(skb, VSTUB_A_CAPTURED, b->captured))
			return -EMSGSIZE;
		if (b->captured &&
		    (nla_put_u8(skb, VSTUB_A_REASON, vstub_nl_reason(b->reason)) ||
		     (b->orig_driver[0] &&
		      nla_put_string(skb, VSTUB_A_ORIG_DRIVER, b->orig_driver))))
			return -EMSGSIZE;
		if (b->have_vfio &&
		    (nla_put_u8(skb, VSTUB_A_VFIO_OPEN, b->vfio.open) ||
		     nla_put_u64_64bit(skb, VSTUB_A_VFIO_PINNED_PAGES,
				       b->vfio.pinned_pages, VSTUB_A_PAD) ||
		     nla_put_u64_64bit(skb, VSTUB_A_VFIO_MAPPINGS,
				       b->vfio.mappings, VSTUB_A_PAD) ||
		     (b->vfio.sriov_pf &&
		      nla_put_u8(skb, VSTUB_A_VF_TOKEN_SET,
				 b->vfio.vf_token_set))))
			return -EMSGSIZE;
		if (vstub_nl_put_users(skb, b))
			return -EMSGSIZE;
	}
	if (pdev->is_virtfn &&
	    vstub_nl_put_bdf(skb, VSTUB_A_PHYSFN, pci_physfn(pdev)))
		return -EMSGSIZE;
	if (pdev->is_physfn &&
	    (nla_put_u32(skb, VSTUB_A_NUM_VFS, pci_num_vf(pdev)) ||
	     nla_put_u32(skb, VSTUB_A_TOTAL_VFS, pci_sriov_get_totalvfs(pdev))))
		return -EMSGSIZE;
	return vstub_nl_put_iommu(skb, pdev, detail);
}

static int vstub_nl_put_unit(struct device *dev, void *data)
{
	return nla_put_string(data, VSTUB_A_IOMMU_UNIT, dev_name(dev));
}

/**
 * vstub_nl_fill_status - the IOMMU summary of VSTUB_CMD_STATUS_GET
 * @skb: message being built
 *
 * The IOMMU units are the devices of the "iommu" class, found through the
 * unit of any function that has one (the class itself is not exported).
 * Return: 0, -EMSGSIZE or -ENOMEM.
 */
int vstub_nl_fill_status(struct sk_buff *skb)
{
	u32 npci = 0, ngrouped = 0, ntrans = 0, nisol = 0, ngroups = 0;
	struct device *unit = NULL;
	struct pci_dev *pdev = NULL;
	struct vstub_dev *vdev;
	struct nlattr *nest;
	struct xarray groups;
	u32 ncaptured = 0;
	int ret = 0;

	/* On the stack: xa_init() gives its lock a static lockdep key. */
	xa_init(&groups);
	for_each_pci_dev(pdev) {
		struct iommu_group *group = iommu_group_get(&pdev->dev);
		struct vstub_nl_iommu f;

		npci++;
		if (!group)
			continue;
		ngrouped++;
		vstub_nl_iommu_facts(&pdev->dev, group, &f);
		ntrans += f.mode == VSTUB_DMA_TRANSLATED ||
			  f.mode == VSTUB_DMA_UNMANAGED;
		nisol += f.isolated;
		ret = xa_insert(&groups, iommu_group_id(group), xa_mk_value(1),
				GFP_KERNEL);
		if (!ret)
			ngroups++;
		if (!unit)
			unit = f.unit;
		else
			put_device(f.unit);
		iommu_group_put(group);
		if (ret && ret != -EBUSY) {	/* -EBUSY: group seen before */
			pci_dev_put(pdev);
			xa_destroy(&groups);
			goto out;
		}
		ret = 0;
	}
	xa_destroy(&groups);

	mutex_lock(&vstub_devs_lock);
	list_for_each_entry(vdev, &vstub_devs, node)
		ncaptured++;
	mutex_unlock(&vstub_devs_lock);

	nest = nla_nest_start(skb, VSTUB_A_IOMMU_UNITS);
	if (!nest) {
		ret = -EMSGSIZE;
		goto out;
	}
	if (unit && unit->class)
		ret = class_for_each_device(unit->class, NULL, skb,
					    vstub_nl_put_unit);
	else if (unit)
		ret = vstub_nl_put_unit(unit, skb);
	if (ret)
		goto out;
	nla_nest_end(skb, nest);

	if (nla_put_u32(skb, VSTUB_A_NUM_PCI, npci) ||
	    nla_put_u32(skb, VSTUB_A_NUM_GROUPED, ngrouped) ||
	    nla_put_u32(skb, VSTUB_A_NUM_GROUPS, ngroups) ||
	    nla_put_u32(skb, VSTUB_A_NUM_TRANSLATED, ntrans) ||
	    nla_put_u32(skb, VSTUB_A_NUM_ISOLATED_MSI, nisol) ||
	    nla_put_u32(skb, VSTUB_A_NUM_CAPTURED, ncaptured) ||
	    nla_put_u32(skb, VSTUB_A_NUM_IDS, vstub_ids_count()))
		ret = -EMSGSIZE;
out:
	put_device(unit);
	return ret;
}

/* Members of a group, collected with references outside the group lock. */
struct vstub_nl_members {
	struct device **devs;
	unsigned int n, max;
};

static int vstub_nl_count_member(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

static int vstub_nl_get_member(struct device *dev, void *data)
{
	struct vstub_nl_members *m = data;

	if (m->n < m->max)
		m->devs[m->n++] = get_device(dev);
	return 0;
}

/* Does a driver bound to @dev keep its group from being used by vstub/VFIO? */
static bool vstub_nl_drv_managed(struct device *dev)
{
	return dev_is_pci(dev) &&
	       to_pci_driver(dev->driver)->driver_managed_dma;
}

static int vstub_nl_put_member(struct sk_buff *skb, struct device *dev,
			       bool *blocks)
{
	char drv[VSTUB_NAME_MAX_LEN] = "", text[192];
	bool captured = false, managed = false;
	struct nlattr *nest;

	/*
	 * A captured member from vstub_devs: its device_lock may be held
	 * for up to release_timeout_ms by a release waiting for its user.
	 */
	if (dev_is_pci(dev) && vstub_nl_is_captured(to_pci_dev(dev))) {
		strscpy(drv, VSTUB_DRV_NAME, sizeof(drv));
		captured = true;
	} else {
		device_lock(dev);
		if (dev->driver) {
			strscpy(drv, dev->driver->name, sizeof(drv));
			captured = dev->driver == &vstub_pci_driver.driver;
			managed = vstub_nl_drv_managed(dev);
		}
		device_unlock(dev);
	}

	*blocks = drv[0] && !captured && !managed;
	if (captured)
		scnprintf(text, sizeof(text), "captured by vstub");
	else if (!drv[0])
		scnprintf(text, sizeof(text), "no driver bound");
	else if (managed)
		scnprintf(text, sizeof(text),
			  "bound to %s, which does not use the kernel DMA API (driver_managed_dma)",
			  drv);
	else
		scnprintf(text, sizeof(text),
			  "bound to %s, which uses the kernel DMA API: capture %s with vstub or unbind it to make the group viable",
			  drv, dev_name(dev));

	nest = nla_nest_start(skb, VSTUB_A_MEMBER);
	if (!nest ||
	    nla_put_string(skb, VSTUB_MEMBER_A_NAME, dev_name(dev)) ||
	    (drv[0] && nla_put_string(skb, VSTUB_MEMBER_A_DRIVER, drv)) ||
	    nla_put_u8(skb, VSTUB_MEMBER_A_CAPTURED, captured) ||
	    nla_put_u8(skb, VSTUB_MEMBER_A_BLOCKS, *blocks) ||
	    nla_put_string(skb, VSTUB_MEMBER_A_TEXT, text))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/**
 * vstub_nl_fill_group - the VSTUB_CMD_GROUP_GET reply for @pdev's group
 * @skb:    message being built
 * @pdev:   any member
 * @extack: for the reason of a failure
 *
 * Return: 0, -ENOENT (no group), -ENOMEM or -EMSGSIZE.
 */
int vstub_nl_fill_group(struct sk_buff *skb, struct pci_dev *pdev,
			struct netlink_ext_ack *extack)
{
	struct iommu_group *group = iommu_group_get(&pdev->dev);
	struct vstub_nl_members m = { };
	bool viable = true, blocks;
	struct vstub_nl_iommu f;
	struct nlattr *nest;
	unsigned int i;
	int ret;

	if (!group) {
		vstub_nl_err(extack, NULL,
			     "device has no IOMMU group: the IOMMU is off or does not translate it (see vstubctl status)");
		return -ENOENT;
	}
	iommu_group_for_each_dev(group, &m.max, vstub_nl_count_member);
	m.devs = kcalloc(m.max, sizeof(*m.devs), GFP_KERNEL);
	if (!m.devs) {
		ret = -ENOMEM;
		goto out_put;
	}
	iommu_group_for_each_dev(group, &m, vstub_nl_get_member);
	vstub_nl_iommu_facts(&pdev->dev, group, &f);
	put_device(f.unit);

	ret = -EMSGSIZE;
	if (vstub_nl_put_bdf(skb, VSTUB_A_BDF, pdev) ||
	    nla_put_u32(skb, VSTUB_A_IOMMU_GROUP, iommu_group_id(group)) ||
	    nla_put_u8(skb, VSTUB_A_DMA_MODE, f.mode) ||
	    nla_put_u8(skb, VSTUB_A_ISOLATED_MSI, f.isolated))
		goto out_free;
	ret = vstub_nl_put_resv(skb, group);
	if (ret)
		goto out_free;
	ret = -EMSGSIZE;
	nest = nla_nest_start(skb, VSTUB_A_MEMBERS);
	if (!nest)
		goto out_free;
	for (i = 0; i < m.n; i++) {
		if (vstub_nl_put_member(skb, m.devs[i], &blocks))
			goto out_free;
		viable &= !blocks;
	}
	nla_nest_end(skb, nest);
	if (nla_put_u8(skb, VSTUB_A_VIABLE, viable))
		goto out_free;
	ret = 0;

out_free:
	for (i = 0; i < m.n; i++)
		put_device(m.devs[i]);
	kfree(m.devs);
out_put:
	iommu_group_put(group);
	return ret;
}
