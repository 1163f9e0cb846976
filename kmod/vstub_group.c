// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_group.c - the group node: viability, attaching to a container
 * (with DMA ownership of the IOMMU group) and handing out device files.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vstub_vfio.h"
#include "vstub_sriov.h"

void vstub_group_release_kref(struct kref *kref)
{
	struct vstub_group *group = container_of(kref, struct vstub_group,
						 kref);

	WARN_ON(group->container || !list_empty(&group->devices));
	iommu_group_put(group->iommu_group);
	mutex_destroy(&group->lock);
	kfree(group);
}

/*
 * A device blocks the group when it is bound to a driver that uses the DMA
 * API (and so the group's default domain): vstub and the other drivers with
 * driver_managed_dma (pci-stub, vfio-pci) do not.
 */
static int vstub_group_dev_blocks(struct device *dev, void *data)
{
	struct device_driver *drv = READ_ONCE(dev->driver);
	struct device **blocker = data;

	if (!drv)
		return 0;
	if (dev_is_pci(dev) && to_pci_driver(drv)->driver_managed_dma)
		return 0;
	*blocker = get_device(dev);
	return 1;
}

/* Is the group viable?  If not, say which device and driver block it. */
static bool vstub_group_viable(struct vstub_group *group, bool log)
{
	struct device *blocker = NULL;

	iommu_group_for_each_dev(group->iommu_group, &blocker,
				 vstub_group_dev_blocks);
	if (!blocker)
		return true;
	if (log)
		dev_info_ratelimited(blocker,
				     "makes IOMMU group %d not viable: bound to %s, which uses the DMA API; unbind it or capture it with vstub\n",
				     group->id,
				     blocker->driver ? blocker->driver->name : "?");
	put_device(blocker);
	return false;
}

/* Called with group->lock held, while group->container is set. */
void vstub_group_detach_locked(struct vstub_group *group)
{
	struct vstub_container *c = group->container;

	lockdep_assert_held(&group->lock);
	vstub_container_detach_group(c, group);
	iommu_group_release_dma_owner(group->iommu_group);
	spin_lock(&group->stats_lock);
	group->container = NULL;
	spin_unlock(&group->stats_lock);
	vstub_container_put(c);
}

static int vstub_group_set_container(struct vstub_group *group, int fd)
{
	struct vstub_container *c;
	struct file *cfile;
	int ret;

	cfile = fget(fd);
	if (!cfile)
		return -EBADF;
	if (cfile->f_op != &vstub_container_fops) {
		ret = -EINVAL;
		goto out_fput;
	}
	c = cfile->private_data;

	ret = mutex_lock_killable(&group->lock);
	if (ret)
		goto out_fput;
	if (group->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (list_empty(&group->devices)) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (!vstub_group_viable(group, true) || !vstub_group_msi_ok(group)) {
		ret = -EPERM;
		goto out_unlock;
	}
	/* The container is the owner cookie: one owner per IOMMU group. */
	ret = iommu_group_claim_dma_owner(group->iommu_group, c);
	if (ret)
		goto out_unlock;
	ret = vstub_container_attach_group(c, group);
	if (ret) {
		iommu_group_release_dma_owner(group->iommu_group);
		goto out_unlock;
	}
	spin_lock(&group->stats_lock);
	group->container = c;
	spin_unlock(&group->stats_lock);
out_unlock:
	mutex_unlock(&group->lock);
out_fput:
	fput(cfile);
	return ret;
}

static int vstub_group_unset_container(struct vstub_group *group)
{
	int ret;

	ret = mutex_lock_killable(&group->lock);
	if (ret)
		return ret;
	if (!group->container)
		ret = -EINVAL;
	else if (group->dev_open)
		ret = -EBUSY;
	else
		vstub_group_detach_locked(group);
	mutex_unlock(&group->lock);
	return ret;
}

static int vstub_group_get_status(struct vstub_group *group,
				  void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;

	status.flags = 0;
	if (mutex_lock_killable(&group->lock))
		return -EINTR;
	if (group->container)
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
	if (!list_empty(&group->devices) && vstub_group_viable(group, true))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	mutex_unlock(&group->lock);

	return copy_to_user(arg, &status, minsz) ? -EFAULT : 0;
}

static int vstub_group_get_device_fd(struct file *gfile, char __user *arg)
{
	struct vstub_group *group = gfile->private_data;
	struct vstub_vdev *vdev, *found = NULL;
	struct file *dfile;
	char *name;
	int fd;

	name = strndup_user(arg, PAGE_SIZE);
	if (IS_ERR(name))
		return PTR_ERR(name);

	fd = mutex_lock_killable(&group->lock);
	if (fd)
		goto out_free;
	fd = group->container ? vstub_container_has_iommu(group->container) :
				0;
	if (fd <= 0) {
		fd = fd ?: -EINVAL;
		goto out_unlock;
	}
	/* "BDF" or "BDF vf_token=UUID", matched and checked as vfio-pci. */
	list_for_each_entry(vdev, &group->devices, group_node) {
		fd = vstub_sriov_match(vdev, name);
		if (fd < 0)
			goto out_unlock;
		if (fd) {
			found = vdev;
			break;
		}
	}
	if (!found) {
		fd = -ENODEV;
		goto out_unlock;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto out_unlock;
	/* Counted first: a failing open releases through the same path. */
	group->dev_open++;
	dfile = vstub_vdev_open_file(found, gfile);
	if (IS_ERR(dfile)) {
		group->dev_open--;
		put_unused_fd(fd);
		fd = PTR_ERR(dfile);
		goto out_unlock;
	}
	fd_install(fd, dfile);
out_unlock:
	mutex_unlock(&group->lock);
out_free:
	kfree(name);
	return fd;
}

/* A device file of this group was released (vstub_device.c). */
void vstub_group_device_closed(struct vstub_group *group)
{
	mutex_lock(&group->lock);
	WARN_ON(!group->dev_open);
	group->dev_open--;
	mutex_unlock(&group->lock);
}

static long vstub_group_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct vstub_group *group = file->private_data;
	void __user *uarg = (void __user *)arg;
	int fd;

	switch (cmd) {
	case VFIO_GROUP_GET_STATUS:
		return vstub_group_get_status(group, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		if (get_user(fd, (int __user *)uarg))
			return -EFAULT;
		if (fd < 0)
			return -EINVAL;
		return vstub_group_set_container(group, fd);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vstub_group_unset_container(group);
	case VFIO_GROUP_GET_DEVICE_FD:
		return vstub_group_get_device_fd(file, uarg);
	default:
		return -ENOTTY;
	}
}

static int vstub_group_open(struct inode *inode, struct file *file)
{
	struct vstub_group *group;
	int ret = 0;

	group = vstub_group_get_by_minor(iminor(inode));
	if (!group)
		return -ENODEV;

	ret = mutex_lock_killable(&group->lock);
	if (ret) {
		vstub_group_put(group);
		return ret;
	}
	if (list_empty(&group->devices) || !group->node)
		ret = -ENODEV;
	else if (group->opened)
		ret = -EBUSY;
	else
		group->opened = true;
	mutex_unlock(&group->lock);
	if (ret) {
		vstub_group_put(group);
		return ret;
	}
	file->private_data = group;
	return nonseekable_open(inode, file);
}

/*
 * Device files hold a reference to the group file, so when this runs no
 * device of the group is open any more.
 */
static int vstub_group_release(struct inode *inode, struct file *file)
{
	struct vstub_group *group = file->private_data;

	mutex_lock(&group->lock);
	WARN_ON(group->dev_open);
	if (group->container)
		vstub_group_detach_locked(group);
	group->opened = false;
	mutex_unlock(&group->lock);
	vstub_group_put(group);
	return 0;
}

const struct file_operations vstub_group_fops = {
	.owner		= THIS_MODULE,
	.open		= vstub_group_open,
	.release	= vstub_group_release,
	.unlocked_ioctl	= vstub_group_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
