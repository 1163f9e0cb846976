// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_pci.c - the stub PCI driver: which devices vstub captures, and how
 * they are taken from and given back to their host drivers.
 *
 * vstub has no static ID table.  A device is captured by setting its
 * driver_override to "vstub" and attaching it, either
 *   - when it appears on the bus and matches the ID table or a BDF policy
 *     (bus notifier, before any host driver can probe it),
 *   - when an ID is added (at load through ids=, or at run time) and the
 *     device is not bound to any driver,
 *   - at load, for the addresses given in bdfs= (taken from a host driver
 *     that already has it, like a capture by address), or
 *   - when it is captured by address, in which case its host driver is
 *     unbound first and remembered.
 * Releasing clears driver_override and binds the remembered driver again
 * (or lets the PCI core choose one when there was none).  driver_override
 * is never left set to "vstub" on a device vstub does not own.
 */
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vstub.h"

/*
 * vstub_ctl_lock serializes every operation that changes which driver a
 * captured (or to-be-captured) device is bound to: capture, release, ID
 * table changes that capture, and unload.
 */
DEFINE_MUTEX(vstub_ctl_lock);

/*
 * Set under vstub_ctl_lock once the module goes down: no capture may start
 * after vstub_release_all() gave everything back, or a device would be
 * left with driver_override "vstub" and no driver at all.
 */
static bool vstub_closing;

/* vstub_devs_lock protects vstub_devs, the devices bound to vstub. */
DEFINE_MUTEX(vstub_devs_lock);
LIST_HEAD(vstub_devs);

/*
 * A function to capture by address, with the driver it had before and the
 * user it is given to.
 */
struct vstub_bdf {
	struct list_head node;		/* on vstub_bdfs */
	unsigned int domain;
	unsigned int bus;
	unsigned int devfn;
	char orig_driver[VSTUB_DRIVER_NAME_MAX];
	struct vstub_owner owner;
};

/* vstub_bdfs_lock protects vstub_bdfs (the list and its entries). */
static DEFINE_MUTEX(vstub_bdfs_lock);
static LIST_HEAD(vstub_bdfs);

static bool vstub_bdf_is(const struct vstub_bdf *b, struct pci_dev *pdev)
{
	return b->domain == pci_domain_nr(pdev->bus) &&
	       b->bus == pdev->bus->number && b->devfn == pdev->devfn;
}

static struct vstub_bdf *vstub_bdf_find(struct pci_dev *pdev)
{
	struct vstub_bdf *b;

	lockdep_assert_held(&vstub_bdfs_lock);
	list_for_each_entry(b, &vstub_bdfs, node)
		if (vstub_bdf_is(b, pdev))
			return b;
	return NULL;
}

/*
 * Copy the BDF policy's original driver (and owner, if @owner); false when
 * @pdev has none.
 */
static bool vstub_bdf_lookup(struct pci_dev *pdev, char *orig, size_t len,
			     struct vstub_owner *owner)
{
	struct vstub_bdf *b;

	mutex_lock(&vstub_bdfs_lock);
	b = vstub_bdf_find(pdev);
	if (b && orig)
		strscpy(orig, b->orig_driver, len);
	if (b && owner)
		*owner = b->owner;
	mutex_unlock(&vstub_bdfs_lock);
	return b;
}

/* Add or replace the policy for an address (the function may be absent). */
static int vstub_bdf_add_addr(unsigned int domain, unsigned int bus,
			      unsigned int devfn, const char *orig,
			      const struct vstub_owner *owner)
{
	struct vstub_bdf *b, *nb, *old = NULL;

	nb = kzalloc(sizeof(*nb), GFP_KERNEL);
	if (!nb)
		return -ENOMEM;
	nb->domain = domain;
	nb->bus = bus;
	nb->devfn = devfn;
	strscpy(nb->orig_driver, orig, sizeof(nb->orig_driver));
	nb->owner = owner ? *owner : VSTUB_NO_OWNER;

	mutex_lock(&vstub_bdfs_lock);
	list_for_each_entry(b, &vstub_bdfs, node) {
		if (b->domain == domain && b->bus == bus && b->devfn == devfn) {
			old = b;
			break;
		}
	}
	if (old)
		list_replace(&old->node, &nb->node);
	else
		list_add_tail(&nb->node, &vstub_bdfs);
	mutex_unlock(&vstub_bdfs_lock);
	kfree(old);
	return 0;
}

static int vstub_bdf_add(struct pci_dev *pdev, const char *orig,
			 const struct vstub_owner *owner)
{
	return vstub_bdf_add_addr(pci_domain_nr(pdev->bus), pdev->bus->number,
				  pdev->devfn, orig, owner);
}

static void vstub_bdf_del(struct pci_dev *pdev)
{
	struct vstub_bdf *b;

	mutex_lock(&vstub_bdfs_lock);
	b = vstub_bdf_find(pdev);
	if (b)
		list_del(&b->node);
	mutex_unlock(&vstub_bdfs_lock);
	kfree(b);
}

/* Drop the policy of a function that is not on the bus. */
static bool vstub_bdf_del_addr(unsigned int domain, unsigned int bus,
			       unsigned int devfn)
{
	struct vstub_bdf *b, *found = NULL;

	mutex_lock(&vstub_bdfs_lock);
	list_for_each_entry(b, &vstub_bdfs, node) {
		if (b->domain == domain && b->bus == bus && b->devfn == devfn) {
			list_del(&b->node);
			found = b;
			break;
		}
	}
	mutex_unlock(&vstub_bdfs_lock);
	kfree(found);
	return found;
}

static void vstub_bdfs_clear(void)
{
	struct vstub_bdf *b, *tmp;

	mutex_lock(&vstub_bdfs_lock);
	list_for_each_entry_safe(b, tmp, &vstub_bdfs, node) {
		list_del(&b->node);
		kfree(b);
	}
	mutex_unlock(&vstub_bdfs_lock);
}

/* vstub only takes endpoints: bridges and host bridges stay with the host. */
static const char *vstub_unfit(struct pci_dev *pdev)
{
	if ((pdev->class >> 8) == PCI_CLASS_BRIDGE_HOST)
		return "device is a host bridge; vstub only captures endpoint functions";
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL ||
	    (pdev->class >> 16) == PCI_BASE_CLASS_BRIDGE)
		return "device is a PCI bridge; vstub only captures endpoint functions";
	return NULL;
}

/*
 * Is @pdev a VF whose PF is bound to vstub?  Called while the PF creates
 * its VFs, with the PF's device_lock held by the SR-IOV code, so the PF's
 * driver cannot change under us and its lock must not be taken here.
 */
static bool vstub_is_our_vf(struct pci_dev *pdev)
{
	return pdev->is_virtfn &&
	       READ_ONCE(pci_physfn(pdev)->dev.driver) ==
	       &vstub_pci_driver.driver;
}

/* Should vstub take @pdev when it appears or when it is unbound? */
static bool vstub_wants(struct pci_dev *pdev)
{
	if (vstub_unfit(pdev))
		return false;
	return vstub_is_our_vf(pdev) || vstub_bdf_lookup(pdev, NULL, 0, NULL) ||
	       vstub_id_match(pdev);
}

static int vstub_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vstub_dev *vdev;
	const char *unfit = vstub_unfit(pdev);
	int ret;

	if (unfit) {
		pci_warn(pdev, "not captured: %s\n", unfit);
		return -ENODEV;
	}
	/*
	 * As vfio-pci: not a PF whose VFs already exist, they may be in use
	 * by the host or by others who would then depend on this PF's user
	 * without having agreed to (the VF token, vstub_sriov.c).
	 */
	if (pci_num_vf(pdev)) {
		pci_warn(pdev, "not captured: SR-IOV is enabled (%d VFs); set sriov_numvfs to 0 first\n",
			 pci_num_vf(pdev));
		return -EBUSY;
	}

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return -ENOMEM;
	vdev->pdev = pci_dev_get(pdev);
	vdev->owner = VSTUB_NO_OWNER;
	if (vstub_bdf_lookup(pdev, vdev->orig_driver,
			     sizeof(vdev->orig_driver), &vdev->owner))
		vdev->reason = VSTUB_REASON_BDF;
	else if (vstub_id_match(pdev))
		vdev->reason = VSTUB_REASON_ID;
	else if (vstub_is_our_vf(pdev))
		vdev->reason = VSTUB_REASON_VF;
	else
		vdev->reason = VSTUB_REASON_NEW_ID;

	ret = vstub_vfio_add_dev(vdev);
	if (ret)
		goto err_put;

	pci_set_drvdata(pdev, vdev);
	mutex_lock(&vstub_devs_lock);
	list_add_tail(&vdev->node, &vstub_devs);
	mutex_unlock(&vstub_devs_lock);

	pci_info(pdev, "captured by vstub (%s%s%s)\n",
		 vdev->reason == VSTUB_REASON_BDF ? "by address" :
		 vdev->reason == VSTUB_REASON_ID ? "by ID" :
		 vdev->reason == VSTUB_REASON_VF ? "as a VF of a captured PF" :
		 "by new_id",
		 vdev->orig_driver[0] ? ", was bound to " : "",
		 vdev->orig_driver);
	return 0;

err_put:
	pci_dev_put(vdev->pdev);
	kfree(vdev);
	return ret;
}

static void vstub_remove(struct pci_dev *pdev)
{
	struct vstub_dev *vdev = pci_get_drvdata(pdev);

	/* VFs created through vstub go away with their PF's capture. */
	if (pci_num_vf(pdev) && !pci_vfs_assigned(pdev))
		pci_disable_sriov(pdev);
	/*
	 * This may wait up to release_timeout_ms for userspace to give the
	 * device back; meanwhile it stays on vstub_devs, so that the netlink
	 * reports find it there (without waiting for its device_lock).
	 */
	vstub_vfio_remove_dev(vdev);
	mutex_lock(&vstub_devs_lock);
	list_del(&vdev->node);
	mutex_unlock(&vstub_devs_lock);
	pci_set_drvdata(pdev, NULL);
	pci_info(pdev, "released by vstub\n");
	pci_dev_put(vdev->pdev);
	kfree(vdev);
}

/*
 * sriov_numvfs on a captured PF: the VFs are created for userspace and are
 * captured by vstub as they appear (vstub_wants()), before any host driver
 * can probe them.
 */
static int vstub_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	int ret;

	if (!num_vfs) {
		if (pci_vfs_assigned(pdev)) {
			pci_warn(pdev, "cannot disable SR-IOV: VFs are assigned\n");
			return -EPERM;
		}
		pci_disable_sriov(pdev);
		return 0;
	}
	ret = vstub_vfio_sriov_allowed(pci_get_drvdata(pdev));
	if (ret)
		return ret;
	ret = pci_enable_sriov(pdev, num_vfs);
	if (ret) {
		pci_err(pdev, "enabling %d VFs failed: %d\n", num_vfs, ret);
		return ret;
	}
	pci_info(pdev, "created %d VFs for vstub\n", num_vfs);
	return num_vfs;
}

/*
 * An AER error on a captured device: the VFIO personality tells its user
 * (ERR eventfd); vstub itself has nothing to recover.
 */
static pci_ers_result_t vstub_error_detected(struct pci_dev *pdev,
					     pci_channel_state_t state)
{
	struct vstub_dev *vdev = pci_get_drvdata(pdev);

	if (vdev)
		vstub_vfio_error(vdev);
	return PCI_ERS_RESULT_CAN_RECOVER;
}

static const struct pci_error_handlers vstub_err_handlers = {
	.error_detected		= vstub_error_detected,
};

struct pci_driver vstub_pci_driver = {
	.name			= VSTUB_DRV_NAME,
	.id_table		= NULL,
	.probe			= vstub_probe,
	.remove			= vstub_remove,
	.sriov_configure	= vstub_sriov_configure,
	.err_handler		= &vstub_err_handlers,
	.groups			= vstub_drv_groups,
	.driver_managed_dma	= true,
};

static bool vstub_is_bound(struct pci_dev *pdev)
{
	bool ret;

	device_lock(&pdev->dev);
	ret = pdev->dev.driver == &vstub_pci_driver.driver;
	device_unlock(&pdev->dev);
	return ret;
}

/* Bind @pdev to vstub; called with vstub_ctl_lock held. */
static int vstub_attach(struct pci_dev *pdev)
{
	int ret;

	lockdep_assert_held(&vstub_ctl_lock);
	if (vstub_closing)
		return -ENODEV;
	ret = vstub_set_override(pdev, VSTUB_DRV_NAME);
	if (ret)
		return ret;
	ret = device_driver_attach(&vstub_pci_driver.driver, &pdev->dev);
	if (ret)
		vstub_set_override(pdev, "");
	return ret;
}

/*
 * Give @pdev back: unbind it from vstub if bound, and bind @orig (or, with
 * no original driver or when @orig cannot take it, whatever the PCI core
 * picks).  A device some other driver owns meanwhile only loses vstub's
 * reservation.  Called with vstub_ctl_lock held.
 */
static void vstub_give_back(struct pci_dev *pdev, const char *orig)
{
	bool other;

	lockdep_assert_held(&vstub_ctl_lock);
	vstub_bdf_del(pdev);
	if (vstub_is_bound(pdev)) {
		device_release_driver(&pdev->dev);
	} else {
		device_lock(&pdev->dev);
		other = pdev->dev.driver;
		device_unlock(&pdev->dev);
		if (other) {
			if (vstub_override_is(pdev, VSTUB_DRV_NAME))
				vstub_set_override(pdev, "");
			return;
		}
	}

	if (orig[0]) {
		/* Restrict the next probe to exactly the original driver. */
		if (!vstub_set_override(pdev, orig)) {
			int ret = device_attach(&pdev->dev);

			vstub_set_override(pdev, "");
			if (ret > 0) {
				pci_info(pdev, "vstub gave the device back to %s\n", orig);
				return;
			}
		}
		pci_warn(pdev, "could not rebind original driver %s, letting the PCI core choose\n",
			 orig);
	} else {
		vstub_set_override(pdev, "");
	}
	if (device_attach(&pdev->dev) <= 0)
		pci_info(pdev, "released by vstub; no driver took it\n");
}

/*
 * One hex field of a BDF: 1 to 8 digits whose value is at most @max,
 * followed by @sep ('\0': the end of the string or a space).  Advances
 * *@s past the separator.  Values are checked as they are read, so that
 * no overflow can wrap a field into range ("100000000:00:03.0").
 */
static bool vstub_bdf_field(const char **s, unsigned int max, char sep,
			    unsigned int *out)
{
	const char *p = *s;
	u64 v = 0;
	int n = 0, d;

	while ((d = hex_to_bin(*p)) >= 0) {
		v = v * 16 + d;
		if (++n > 8 || v > max)
			return false;
		p++;
	}
	if (!n)
		return false;
	if (sep ? *p != sep : *p && !isspace(*p))
		return false;
	*out = v;
	*s = sep ? p + 1 : p;
	return true;
}

/*
 * "[domain:]bus:slot.fn" in hex (domain at most ffff), optionally
 * followed by white space.
 */
int vstub_parse_bdf(const char *str, unsigned int *domain, unsigned int *bus,
		    unsigned int *devfn)
{
	unsigned int d = 0, b, s, f;
	const char *p;

	str = skip_spaces(str);
	p = str;
	/* Two colons before the dot: the domain is given. */
	if (strchr(p, ':') && strchr(p, ':') != strrchr(p, ':') &&
	    !vstub_bdf_field(&p, 0xffff, ':', &d))
		return -EINVAL;
	if (!vstub_bdf_field(&p, 0xff, ':', &b) ||
	    !vstub_bdf_field(&p, 0x1f, '.', &s) ||
	    !vstub_bdf_field(&p, 7, '\0', &f))
		return -EINVAL;
	if (*skip_spaces(p))
		return -EINVAL;
	*domain = d;
	*bus = b;
	*devfn = PCI_DEVFN(s, f);
	return 0;
}

int vstub_capture_bdf(unsigned int domain, unsigned int bus,
		      unsigned int devfn, const struct vstub_owner *owner,
		      const char **msg)
{
	char orig[VSTUB_DRIVER_NAME_MAX] = "";
	struct pci_dev *pdev;
	const char *unfit;
	int ret;

	pdev = pci_get_domain_bus_and_slot(domain, bus, devfn);
	if (!pdev) {
		*msg = "no PCI device at that address";
		return -ENODEV;
	}
	unfit = vstub_unfit(pdev);
	if (unfit) {
		*msg = unfit;
		ret = -EINVAL;
		goto out_put;
	}

	mutex_lock(&vstub_ctl_lock);
	if (vstub_closing) {
		*msg = "vstub is being unloaded";
		ret = -ENODEV;
		goto out_unlock;
	}
	device_lock(&pdev->dev);
	if (pdev->dev.driver)
		strscpy(orig, pdev->dev.driver->name, sizeof(orig));
	device_unlock(&pdev->dev);
	if (!strcmp(orig, VSTUB_DRV_NAME)) {
		*msg = "device is already captured by vstub";
		ret = -EEXIST;
		goto out_unlock;
	}

	ret = vstub_bdf_add(pdev, orig, owner);
	if (ret) {
		*msg = "out of memory";
		goto out_unlock;
	}
	if (orig[0])
		device_release_driver(&pdev->dev);
	ret = vstub_attach(pdev);
	if (ret) {
		*msg = "vstub could not bind the device (see the kernel log); it was given back";
		vstub_give_back(pdev, orig);
	}

out_unlock:
	mutex_unlock(&vstub_ctl_lock);
out_put:
	pci_dev_put(pdev);
	return ret;
}

/* Unbind @pdev from vstub and give it back; vstub_ctl_lock held. */
static void vstub_release_dev(struct pci_dev *pdev)
{
	char orig[VSTUB_DRIVER_NAME_MAX] = "";
	struct vstub_dev *vdev;

	device_lock(&pdev->dev);
	vdev = pdev->dev.driver == &vstub_pci_driver.driver ?
	       pci_get_drvdata(pdev) : NULL;
	if (vdev)
		strscpy(orig, vdev->orig_driver, sizeof(orig));
	device_unlock(&pdev->dev);
	vstub_give_back(pdev, orig);
}

int vstub_release_bdf(unsigned int domain, unsigned int bus,
		      unsigned int devfn, const char **msg)
{
	struct pci_dev *pdev;
	int ret = 0;

	pdev = pci_get_domain_bus_and_slot(domain, bus, devfn);
	if (!pdev) {
		/* Forgetting the capture of a function that is gone is fine. */
		if (vstub_bdf_del_addr(domain, bus, devfn))
			return 0;
		*msg = "no PCI device at that address";
		return -ENODEV;
	}

	mutex_lock(&vstub_ctl_lock);
	if (vstub_is_bound(pdev) || vstub_bdf_lookup(pdev, NULL, 0, NULL)) {
		vstub_release_dev(pdev);
	} else {
		*msg = "device is not captured by vstub";
		ret = -EINVAL;
	}
	mutex_unlock(&vstub_ctl_lock);
	pci_dev_put(pdev);
	return ret;
}

static const char vstub_id_syntax_msg[] =
	"malformed ID: expected vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex";

/* Capture every unbound device that the ID table or a BDF policy wants. */
void vstub_capture_matching(void)
{
	struct pci_dev *pdev = NULL;
	bool unbound;

	mutex_lock(&vstub_ctl_lock);
	for_each_pci_dev(pdev) {
		device_lock(&pdev->dev);
		unbound = !pdev->dev.driver;
		device_unlock(&pdev->dev);
		if (unbound && vstub_wants(pdev) && vstub_attach(pdev))
			pci_warn(pdev, "matches vstub's IDs but could not be captured\n");
	}
	mutex_unlock(&vstub_ctl_lock);
}

int vstub_ids_add(const char *str, const char **msg)
{
	struct pci_device_id id;
	int ret;

	if (vstub_id_parse(str, &id)) {
		*msg = vstub_id_syntax_msg;
		return -EINVAL;
	}
	ret = vstub_id_add(&id);
	if (ret == -EEXIST)
		*msg = "ID is already in vstub's table";
	else if (ret)
		*msg = "out of memory";
	else
		vstub_capture_matching();
	return ret;
}

int vstub_ids_del(const char *str, const char **msg)
{
	struct pci_device_id id;
	int ret;

	if (vstub_id_parse(str, &id)) {
		*msg = vstub_id_syntax_msg;
		return -EINVAL;
	}
	ret = vstub_id_del(&id);
	if (ret)
		*msg = "ID is not in vstub's table";
	return ret;
}

/*
 * The module goes down: give every captured device back, clear overrides
 * vstub left, and refuse every capture from now on.
 */
void vstub_release_all(void)
{
	struct pci_dev *pdev = NULL;
	struct vstub_dev *vdev;

	mutex_lock(&vstub_ctl_lock);
	vstub_closing = true;
	for (;;) {
		mutex_lock(&vstub_devs_lock);
		vdev = list_first_entry_or_null(&vstub_devs, struct vstub_dev,
						node);
		pdev = vdev ? pci_dev_get(vdev->pdev) : NULL;
		mutex_unlock(&vstub_devs_lock);
		if (!pdev)
			break;
		vstub_release_dev(pdev);
		pci_dev_put(pdev);
	}
	/* Devices that vstub was set up to take but never bound. */
	for_each_pci_dev(pdev) {
		if (vstub_override_is(pdev, VSTUB_DRV_NAME))
			vstub_give_back(pdev, "");
	}
	mutex_unlock(&vstub_ctl_lock);
}

static char *bdfs;
module_param(bdfs, charp, 0444);
MODULE_PARM_DESC(bdfs,
		 "PCI functions to capture at load, by address: [domain:]bus:slot.fn in hex, each optionally @UID[:GID] or @:GID (the owner of its group node), comma-separated");

/* "UID", "UID:GID" or ":GID" (decimal, initial user namespace). */
static int vstub_parse_owner(const char *s, struct vstub_owner *owner)
{
	char buf[24], *colon;
	unsigned int v;

	*owner = VSTUB_NO_OWNER;
	if (strscpy(buf, s, sizeof(buf)) < 0)
		return -EINVAL;
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (kstrtouint(colon + 1, 10, &v))
			return -EINVAL;
		owner->gid = make_kgid(&init_user_ns, v);
		if (!gid_valid(owner->gid))
			return -EINVAL;
	}
	if (!buf[0])
		return colon ? 0 : -EINVAL;
	if (kstrtouint(buf, 10, &v))
		return -EINVAL;
	owner->uid = make_kuid(&init_user_ns, v);
	return uid_valid(owner->uid) ? 0 : -EINVAL;
}

/*
 * The functions given at load time by address, in two steps around
 * pci_register_driver(): first every address becomes a policy (so that
 * functions whose driver_override udev already set to "vstub" are probed
 * with the right reason, and absent ones are reserved by the bus notifier
 * when they appear), then present functions are captured as "vstubctl
 * capture" would, taking them from a host driver that already has them
 * (which is remembered).  A malformed entry is reported and skipped.
 */
static void vstub_bdfs_param_apply(bool capture)
{
	unsigned int domain, bus, devfn;
	struct vstub_owner owner;
	char *buf, *p, *entry, *at;
	const char *msg = "";
	int ret;

	if (!bdfs || !*bdfs)
		return;
	buf = kstrdup(bdfs, GFP_KERNEL);
	if (!buf) {
		pr_err("bdfs=: out of memory, no address applied\n");
		return;
	}
	p = buf;
	while ((entry = strsep(&p, ","))) {
		entry = strim(entry);
		if (!*entry)
			continue;
		at = strchr(entry, '@');
		if (at)
			*at++ = '\0';
		if (vstub_parse_bdf(entry, &domain, &bus, &devfn) ||
		    (at && vstub_parse_owner(at, &owner))) {
			if (!capture)
				pr_warn("bdfs=: skipping '%s%s%s': malformed (expected [domain:]bus:slot.fn in hex, optionally @UID[:GID] or @:GID)\n",
					entry, at ? "@" : "", at ? at : "");
			continue;
		}
		if (!at)
			owner = VSTUB_NO_OWNER;
		if (!capture) {
			ret = vstub_bdf_add_addr(domain, bus, devfn, "", &owner);
			msg = "out of memory";
		} else {
			ret = vstub_capture_bdf(domain, bus, devfn, &owner, &msg);
			if (ret == -ENODEV || ret == -EEXIST)
				ret = 0;
		}
		if (ret)
			pr_warn("bdfs=: %s not captured: %s\n", entry, msg);
	}
	kfree(buf);
}

/*
 * A device appearing on the bus (hotplug, rescan, SR-IOV VF) that vstub
 * wants gets driver_override set before any driver probes it.
 */
static int vstub_bus_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	if (action == BUS_NOTIFY_ADD_DEVICE && vstub_wants(pdev) &&
	    vstub_set_override(pdev, VSTUB_DRV_NAME))
		pci_warn(pdev, "matches vstub's IDs but could not be reserved\n");
	return NOTIFY_DONE;
}

static struct notifier_block vstub_bus_nb = {
	.notifier_call = vstub_bus_notify,
};

int vstub_pci_init(void)
{
	int ret;

	ret = bus_register_notifier(&pci_bus_type, &vstub_bus_nb);
	if (ret)
		return ret;
	vstub_ids_param_apply();
	vstub_bdfs_param_apply(false);
	ret = pci_register_driver(&vstub_pci_driver);
	if (ret)
		goto err_notifier;
	vstub_bdfs_param_apply(true);
	vstub_capture_matching();
	return 0;

err_notifier:
	bus_unregister_notifier(&pci_bus_type, &vstub_bus_nb);
	vstub_bdfs_clear();
	vstub_ids_clear();
	return ret;
}

void vstub_pci_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &vstub_bus_nb);
	vstub_release_all();
	pci_unregister_driver(&vstub_pci_driver);
	vstub_bdfs_clear();
	vstub_ids_clear();
}
