// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio.c - the device nodes of the VFIO personality, the registry of
 * groups and the module parameters of the personality.
 *
 * Nodes (class "vstub"):
 *   /dev/vstub/vfio       the container node (minor 0), mode 0666 as
 *                         vfio.ko's /dev/vfio/vfio: a container alone
 *                         gives access to nothing, the group nodes do
 *   /dev/vstub/<group>    one per IOMMU group holding a captured device,
 *                         mode 0600 root, or owned by the user the device
 *                         that made the node appear was given to (0600,
 *                         0660 with a group): see struct vstub_owner
 * With vfio_compat=1 the same nodes are named /dev/vfio/vfio and
 * /dev/vfio/<group>, where unmodified VFIO programs look for them.
 *
 * The owner goes through devtmpfs (the node is created with it) rather
 * than a udev rule, so that it holds where no udev runs (initramfs, the
 * test guests) and whenever the node is created again while the capture
 * lasts; udev leaves a node's owner alone unless a rule sets one.
 */
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "vstub_vfio.h"
#include "vstub_irq.h"
#include "vstub_sriov.h"

static bool vfio_compat;
module_param(vfio_compat, bool, 0444);
MODULE_PARM_DESC(vfio_compat,
		 "Name the nodes /dev/vfio/vfio and /dev/vfio/<group> so that unmodified VFIO programs run (refused while vfio.ko is loaded)");

bool vstub_allow_unsafe_interrupts;
module_param_named(allow_unsafe_interrupts, vstub_allow_unsafe_interrupts,
		   bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Let groups whose MSIs are not isolated (no interrupt remapping) join a container; a device could then raise arbitrary interrupts");

unsigned int vstub_dma_entry_limit = 65535;
module_param_named(dma_entry_limit, vstub_dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit,
		 "Maximum number of DMA mappings per container (default 65535)");

bool vstub_enable_sriov;
module_param_named(enable_sriov, vstub_enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov,
		 "Allow creating SR-IOV VFs on a PF that userspace holds open through VFIO (as vfio-pci's enable_sriov; the VFs are not tied to that user)");

unsigned int vstub_release_timeout_ms = 10000;
module_param_named(release_timeout_ms, vstub_release_timeout_ms, uint, 0644);
MODULE_PARM_DESC(release_timeout_ms,
		 "How long a device release waits for userspace to close a device it was asked (VFIO REQ eventfd) to give back, before revoking it (ms, default 10000)");

/* Minor 0 is the container node; groups use 1 .. VSTUB_VFIO_MINORS - 1. */
#define VSTUB_VFIO_MINORS	4096

/* Any GPL symbol of vfio.ko, present in every kernel vstub supports. */
#define VSTUB_VFIO_KO_SYMBOL	"vfio_register_group_dev"

static dev_t vstub_vfio_devt;
static struct cdev vstub_container_cdev;
static struct cdev vstub_group_cdev;
static struct class *vstub_vfio_class;
static struct device *vstub_container_node;

/*
 * vstub_groups_lock protects vstub_groups, vstub_group_minors and, of each
 * group, ->node and ->reg_node.  It is never held while waiting for a
 * group's lock (only taken under one): a group emptied by the removal of
 * its last device leaves the registry under both locks, and a device that
 * found it before that sees ->node cleared and looks again.
 */
static DEFINE_MUTEX(vstub_groups_lock);
static LIST_HEAD(vstub_groups);
static DEFINE_IDR(vstub_group_minors);

static char *vstub_vfio_devnode(VSTUB_DEVNODE_CONST struct device *dev,
				umode_t *mode)
{
	if (mode)
		*mode = dev->devt == vstub_vfio_devt ? 0666 : 0600;
	return kasprintf(GFP_KERNEL, "%s/%s", vfio_compat ? "vfio" : "vstub",
			 dev_name(dev));
}

/* A group node: named as the class does it, owned by the group's owner. */
static char *vstub_group_devnode(VSTUB_DEVNODE_CONST struct device *dev,
				 umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	const struct vstub_group *group = dev_get_drvdata(dev);

	if (mode)
		*mode = gid_valid(group->owner.gid) ? 0660 : 0600;
	if (uid && uid_valid(group->owner.uid))
		*uid = group->owner.uid;
	if (gid && gid_valid(group->owner.gid))
		*gid = group->owner.gid;
	return kasprintf(GFP_KERNEL, "%s/%d", vfio_compat ? "vfio" : "vstub",
			 group->id);
}

static void vstub_group_node_release(struct device *dev)
{
	kfree(dev);
}

static const struct device_type vstub_group_node_type = {
	.name		= "vstub_group",
	.devnode	= vstub_group_devnode,
};

/* device_create() with a device type, so that the node gets an owner. */
static struct device *vstub_group_node_create(struct vstub_group *group)
{
	struct device *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	device_initialize(dev);
	dev->devt = MKDEV(MAJOR(vstub_vfio_devt), group->minor);
	dev->class = vstub_vfio_class;
	dev->type = &vstub_group_node_type;
	dev->release = vstub_group_node_release;
	dev_set_drvdata(dev, group);
	ret = dev_set_name(dev, "%d", group->id);
	if (!ret)
		ret = device_add(dev);
	if (ret) {
		put_device(dev);
		return ERR_PTR(ret);
	}
	return dev;
}

/* Find the group of @minor and take a reference on it. */
struct vstub_group *vstub_group_get_by_minor(int minor)
{
	struct vstub_group *group;

	mutex_lock(&vstub_groups_lock);
	group = idr_find(&vstub_group_minors, minor);
	if (group)
		kref_get(&group->kref);
	mutex_unlock(&vstub_groups_lock);
	return group;
}

static struct vstub_group *vstub_group_find_locked(struct iommu_group *ig)
{
	struct vstub_group *group;

	lockdep_assert_held(&vstub_groups_lock);
	list_for_each_entry(group, &vstub_groups, reg_node)
		if (group->iommu_group == ig)
			return group;
	return NULL;
}

static struct vstub_group *
vstub_group_create_locked(struct iommu_group *ig,
			  const struct vstub_owner *owner)
{
	struct vstub_group *group;
	int ret;

	lockdep_assert_held(&vstub_groups_lock);
	group = kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group)
		return ERR_PTR(-ENOMEM);
	kref_init(&group->kref);
	mutex_init(&group->lock);
	spin_lock_init(&group->stats_lock);
	INIT_LIST_HEAD(&group->devices);
	INIT_LIST_HEAD(&group->container_node);
	group->id = iommu_group_id(ig);
	group->owner = *owner;
	iommu_group_ref_get(ig);
	group->iommu_group = ig;

	ret = idr_alloc(&vstub_group_minors, group, 1, VSTUB_VFIO_MINORS,
			GFP_KERNEL);
	if (ret < 0)
		goto err_put;
	group->minor = ret;

	group->node = vstub_group_node_create(group);
	if (IS_ERR(group->node)) {
		ret = PTR_ERR(group->node);
		goto err_idr;
	}
	list_add_tail(&group->reg_node, &vstub_groups);
	return group;

err_idr:
	idr_remove(&vstub_group_minors, group->minor);
err_put:
	vstub_group_put(group);
	return ERR_PTR(ret);
}

/*
 * The group has no captured device left: remove its node (group->lock and
 * vstub_groups_lock held).
 */
static void vstub_group_unregister_locked(struct vstub_group *group)
{
	lockdep_assert_held(&group->lock);
	lockdep_assert_held(&vstub_groups_lock);
	list_del(&group->reg_node);
	idr_remove(&vstub_group_minors, group->minor);
	device_destroy(vstub_vfio_class,
		       MKDEV(MAJOR(vstub_vfio_devt), group->minor));
	group->node = NULL;
	vstub_group_put(group);
}

int vstub_vfio_add_dev(struct vstub_dev *vd)
{
	struct pci_dev *pdev = vd->pdev;
	struct vstub_group *group;
	struct vstub_vdev *vdev;
	struct iommu_group *ig;
	bool created;
	int ret = 0;

	ig = iommu_group_get(&pdev->dev);
	if (!ig) {
		pci_info(pdev, "not in an IOMMU group: no VFIO interface for it (is the IOMMU enabled?)\n");
		return 0;
	}

again:
	created = false;
	mutex_lock(&vstub_groups_lock);
	group = vstub_group_find_locked(ig);
	if (!group) {
		group = vstub_group_create_locked(ig, &vd->owner);
		if (IS_ERR(group)) {
			mutex_unlock(&vstub_groups_lock);
			ret = PTR_ERR(group);
			goto out;
		}
		created = true;
	}
	kref_get(&group->kref);
	mutex_unlock(&vstub_groups_lock);

	vdev = vstub_vdev_create(pdev, group);
	if (!IS_ERR(vdev)) {
		ret = vstub_vga_init(vdev);
		if (ret) {
			vstub_vdev_put(vdev);
			vdev = ERR_PTR(ret);
		}
	}
	mutex_lock(&group->lock);
	if (IS_ERR(vdev)) {
		ret = PTR_ERR(vdev);
		/* Unless another device joined it meanwhile. */
		if (created && group->node && list_empty(&group->devices)) {
			mutex_lock(&vstub_groups_lock);
			vstub_group_unregister_locked(group);
			mutex_unlock(&vstub_groups_lock);
		}
		mutex_unlock(&group->lock);
		vstub_group_put(group);
		goto out;
	}
	if (!group->node) {
		/* Its last device left and took it out of the registry. */
		mutex_unlock(&group->lock);
		vstub_vga_exit(vdev);
		vstub_vdev_put(vdev);
		vstub_group_put(group);
		goto again;
	}
	list_add_tail(&vdev->group_node, &group->devices);
	mutex_unlock(&group->lock);
	vd->vfio = vdev;
	if (created && vstub_owner_set(&group->owner))
		pci_info(pdev, "VFIO group node %s/%d, owner uid %d gid %d\n",
			 vfio_compat ? "/dev/vfio" : "/dev/vstub", group->id,
			 from_kuid_munged(&init_user_ns, group->owner.uid),
			 from_kgid_munged(&init_user_ns, group->owner.gid));
	else if (created)
		pci_info(pdev, "VFIO group node %s/%d\n",
			 vfio_compat ? "/dev/vfio" : "/dev/vstub", group->id);
	else if (vstub_owner_set(&vd->owner))
		pci_warn(pdev, "group node %s/%d already exists: it keeps its owner\n",
			 vfio_compat ? "/dev/vfio" : "/dev/vstub", group->id);
	vstub_group_put(group);
out:
	iommu_group_put(ig);
	if (ret)
		pci_err(pdev, "cannot set up the VFIO interface: %d\n", ret);
	return ret;
}

void vstub_vfio_remove_dev(struct vstub_dev *vd)
{
	struct vstub_vdev *vdev = vd->vfio;
	struct vstub_group *group;

	if (!vdev)
		return;
	group = vdev->group;

	/* Ask userspace to give the device back, if it listens. */
	vstub_vdev_request(vdev);
	/* Open device files now fail, their BAR mappings are gone. */
	vstub_vdev_revoke(vdev);
	/* A PF that left vstub: its VFs take no token any more. */
	vstub_sriov_unbind(vdev);
	/* What userspace programmed does not go back to the host. */
	vstub_vdev_reset_on_return(vdev);

	/* No global lock is held while waiting for the group's. */
	mutex_lock(&group->lock);
	list_del_init(&vdev->group_node);
	if (list_empty(&group->devices)) {
		/* Nothing of the group left to use: leave the container. */
		if (group->container)
			vstub_group_detach_locked(group);
		mutex_lock(&vstub_groups_lock);
		vstub_group_unregister_locked(group);
		mutex_unlock(&vstub_groups_lock);
	}
	mutex_unlock(&group->lock);

	vstub_vga_exit(vdev);
	/* The netlink reports read vd->vfio under vstub_devs_lock. */
	mutex_lock(&vstub_devs_lock);
	vd->vfio = NULL;
	mutex_unlock(&vstub_devs_lock);
	vstub_vdev_put(vdev);
}

/*
 * May VFs be created on the PF @vd (sriov_configure, device_lock held, so
 * vd->vfio is stable)?  Not while userspace holds the PF open, unless the
 * administrator opted in with enable_sriov=1.  0 or -ENOENT (vfio-pci's
 * errno when enable_sriov is off).  As vfio-pci, a PF userspace put in a
 * low power state is brought back to D0 before its VFs appear.  The VFs
 * of a PF bound to vstub open only with its VF token (vstub_sriov.c).
 */
int vstub_vfio_sriov_allowed(struct vstub_dev *vd)
{
	struct vstub_vdev *vdev = vd->vfio;

	if (!vdev || !READ_ONCE(vdev->open_count))
		return 0;
	if (!READ_ONCE(vstub_enable_sriov)) {
		pci_warn(vd->pdev, "SR-IOV refused: userspace holds this PF open through VFIO; load vstub with enable_sriov=1 (or close the device) to create VFs\n");
		return -ENOENT;
	}
	mutex_lock(&vdev->lock);
	vstub_config_power_d0(vdev);
	mutex_unlock(&vdev->lock);
	return 0;
}

/* PCI error callback (device_lock held, so vd->vfio is stable). */
void vstub_vfio_error(struct vstub_dev *vd)
{
	struct vstub_vdev *vdev = vd->vfio;

	if (vdev)
		vstub_irq_error(vdev);
}

/*
 * With vfio_compat=1 vstub takes the names /dev/vfio/vfio and
 * /dev/vfio/<group>.  vfio.ko registers /dev/vfio/vfio as soon as it is
 * loaded, and devtmpfs keeps whichever node came first without telling the
 * second registrant, so a clash would silently leave programs talking to
 * the wrong provider.  vfio.ko is detected through one of its GPL exports:
 * symbol lookup works whether vfio is a module or built in, and needs no
 * path lookup in any mount namespace.  (If vfio.ko is loaded later, its
 * /dev/vfio/vfio is not created over vstub's, vfio.ko itself loads and
 * works for its own devices under its own class, and vstub keeps working.)
 */
static int vstub_vfio_check_compat(void)
{
	if (!vfio_compat)
		return 0;
	if (__symbol_get(VSTUB_VFIO_KO_SYMBOL)) {
		__symbol_put(VSTUB_VFIO_KO_SYMBOL);
		pr_err("vfio_compat=1 refused: vfio.ko is loaded and owns /dev/vfio/; unload vfio-pci, vfio_iommu_type1 and vfio, or load vstub without vfio_compat (nodes in /dev/vstub/)\n");
		return -EBUSY;
	}
	return 0;
}

int vstub_vfio_init(void)
{
	int ret;

	ret = vstub_vfio_check_compat();
	if (ret)
		return ret;

	ret = alloc_chrdev_region(&vstub_vfio_devt, 0, VSTUB_VFIO_MINORS,
				  "vstub-vfio");
	if (ret)
		return ret;

	vstub_vfio_class = vstub_class_create(VSTUB_DRV_NAME);
	if (IS_ERR(vstub_vfio_class)) {
		ret = PTR_ERR(vstub_vfio_class);
		goto err_region;
	}
	vstub_vfio_class->devnode = vstub_vfio_devnode;

	cdev_init(&vstub_container_cdev, &vstub_container_fops);
	vstub_container_cdev.owner = THIS_MODULE;
	ret = cdev_add(&vstub_container_cdev, vstub_vfio_devt, 1);
	if (ret)
		goto err_class;

	cdev_init(&vstub_group_cdev, &vstub_group_fops);
	vstub_group_cdev.owner = THIS_MODULE;
	ret = cdev_add(&vstub_group_cdev, vstub_vfio_devt + 1,
		       VSTUB_VFIO_MINORS - 1);
	if (ret)
		goto err_container_cdev;

	vstub_container_node = device_create(vstub_vfio_class, NULL,
					     vstub_vfio_devt, NULL, "vfio");
	if (IS_ERR(vstub_container_node)) {
		ret = PTR_ERR(vstub_container_node);
		goto err_group_cdev;
	}
	pr_info("VFIO container node %s\n",
		vfio_compat ? "/dev/vfio/vfio" : "/dev/vstub/vfio");
	return 0;

err_group_cdev:
	cdev_del(&vstub_group_cdev);
err_container_cdev:
	cdev_del(&vstub_container_cdev);
err_class:
	class_destroy(vstub_vfio_class);
err_region:
	unregister_chrdev_region(vstub_vfio_devt, VSTUB_VFIO_MINORS);
	return ret;
}

void vstub_vfio_exit(void)
{
	/* The PCI driver is gone: every device was removed, so every group. */
	WARN_ON(!list_empty(&vstub_groups));
	device_destroy(vstub_vfio_class, vstub_vfio_devt);
	cdev_del(&vstub_group_cdev);
	cdev_del(&vstub_container_cdev);
	class_destroy(vstub_vfio_class);
	unregister_chrdev_region(vstub_vfio_devt, VSTUB_VFIO_MINORS);
	idr_destroy(&vstub_group_minors);
}

/*
 * Counters for the netlink device reports (vstub_status.c), read with
 * vstub_devs_lock held: no lock a VFIO user can hold is waited for.  The
 * group's container is found under the group's stats_lock (a spinlock
 * that only guards the pointer) and its counters are read without its
 * lock, as a snapshot.
 */
bool vstub_vfio_nl_stats(struct vstub_dev *vd, struct vstub_vfio_stats *st)
{
	struct vstub_vdev *vdev = vd->vfio;
	struct vstub_group *group;
	struct vstub_container *c;

	if (!vdev)
		return false;
	group = vdev->group;
	st->open = READ_ONCE(vdev->open_count) > 0;
	st->sriov_pf = vdev->vf_token;
	st->vf_token_set = vstub_sriov_token_set(vdev);
	vstub_vdev_holders(vdev, st);
	spin_lock(&group->stats_lock);
	c = group->container;
	if (c)
		kref_get(&c->kref);
	spin_unlock(&group->stats_lock);
	st->pinned_pages = c ? READ_ONCE(c->pinned_pages) : 0;
	st->mappings = c ? READ_ONCE(c->dma_count) : 0;
	if (c)
		vstub_container_put(c);
	return true;
}
