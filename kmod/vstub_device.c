// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_device.c - the device file: region and IRQ info, read/write of
 * config space, BARs and ROM (vstub_bar.c), mmap of MEM BARs, reset, and
 * the enable / disable of the PCI function around its first open and last
 * close.
 *
 * BAR mmaps are populated at fault time.  All device files of a function
 * share one address_space (vstub_vdev.mapping), so that revoking the
 * device (hot-remove, unbind) can zap every mapping with
 * unmap_mapping_range(); a fault after that gets SIGBUS.
 *
 * Interrupts (vstub_irq.c) are torn down at last close and at revoke.
 * Before revoking a device that is open, vstub signals the REQ eventfd
 * (if userspace set one) and waits up to release_timeout_ms for the
 * device files to be closed.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include "vstub_vfio.h"
#include "vstub_irq.h"
#include "vstub_sriov.h"

/* The state of one open device file. */
struct vstub_dfile {
	struct vstub_vdev *vdev;
	struct file *group_file;	/* keeps the group attached */
	struct pid *pid;		/* the process that opened it */
	struct list_head holder_node;	/* on vdev->holders */
};

struct vstub_vdev *vstub_vdev_create(struct pci_dev *pdev,
				     struct vstub_group *group)
{
	struct vstub_vdev *vdev;
	int i, ret;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return ERR_PTR(-ENOMEM);
	ret = vstub_irq_init(vdev);
	if (ret)
		goto err_free;
	ret = vstub_sriov_init(vdev, pdev);
	if (ret)
		goto err_irq;
	kref_init(&vdev->kref);
	init_waitqueue_head(&vdev->closed_wq);
	mutex_init(&vdev->lock);
	spin_lock_init(&vdev->holders_lock);
	INIT_LIST_HEAD(&vdev->holders);
	INIT_LIST_HEAD(&vdev->group_node);
	INIT_LIST_HEAD(&vdev->p2p_list);
	address_space_init_once(&vdev->mapping);
	vdev->mapping.a_ops = &empty_aops;
	vdev->pdev = pci_dev_get(pdev);
	kref_get(&group->kref);
	vdev->group = group;
	for (i = 0; i <= PCI_ROM_RESOURCE; i++)
		vdev->bar_size[i] = pci_resource_len(pdev, i);
	vstub_bar_init(vdev);
	return vdev;

err_irq:
	vstub_irq_free(vdev);
err_free:
	kfree(vdev);
	return ERR_PTR(ret);
}

static void vstub_vdev_release_kref(struct kref *kref)
{
	struct vstub_vdev *vdev = container_of(kref, struct vstub_vdev, kref);

	WARN_ON(vdev->open_count);
	vstub_sriov_exit(vdev);
	vstub_irq_free(vdev);
	vstub_group_put(vdev->group);
	pci_dev_put(vdev->pdev);
	mutex_destroy(&vdev->lock);
	kfree(vdev);
}

void vstub_vdev_put(struct vstub_vdev *vdev)
{
	kref_put(&vdev->kref, vstub_vdev_release_kref);
}

/* ---- enable at first open, disable at last close ---- */

static int vstub_vdev_enable(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	lockdep_assert_held(&vdev->lock);
	ret = pci_enable_device(pdev);
	if (ret) {
		pci_warn(pdev, "cannot enable device: %d\n", ret);
		return ret;
	}
	/* No DMA until userspace asks for it. */
	pci_clear_master(pdev);
	/*
	 * As vfio-pci: userspace starts from a reset function.  A reset
	 * that cannot take the device lock (the PCI core or a release holds
	 * it) fails the open; one the function refuses is reported and
	 * VFIO_DEVICE_RESET is then not offered.
	 */
	vdev->reset_works = false;
	if (pdev->reset_methods[0]) {
		ret = pci_try_reset_function(pdev);
		if (ret == -EAGAIN) {
			pci_warn(pdev, "cannot reset the device for userspace: it is busy in the PCI core, try again\n");
			pci_disable_device(pdev);
			return ret;
		}
		if (ret)
			pci_warn(pdev, "reset at first open failed (%d): VFIO_DEVICE_RESET not offered\n",
				 ret);
		vdev->reset_works = !ret;
	}
	pci_save_state(pdev);
	vdev->saved_state = pci_store_saved_state(pdev);
	if (!vdev->saved_state)
		pci_dbg(pdev, "cannot save config state\n");
	ret = vstub_config_init(vdev);
	if (ret) {
		kfree(vdev->saved_state);
		vdev->saved_state = NULL;
		pci_disable_device(pdev);
		return ret;
	}
	return 0;
}

/*
 * Undo vstub_vdev_enable().  @dev_locked: the caller holds device_lock
 * (PCI remove), so the reset must not try to take it.
 */
static void vstub_vdev_disable(struct vstub_vdev *vdev, bool dev_locked)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	lockdep_assert_held(&vdev->lock);
	/* Back in D0 if userspace left it in D3hot (BAR/MSI-X access). */
	vstub_config_perm_exit(vdev);
	/*
	 * No handler, vector or eventfd survives the last close.  Their
	 * teardown writes the MSI-X table: with memory decode on (the state
	 * saved at open, loaded below, decides what the host gets back).
	 */
	vstub_config_memory_enable(vdev);
	vstub_irq_teardown(vdev);
	pci_clear_master(pdev);
	vstub_bar_zap(vdev);
	vstub_bar_release_all(vdev);

	/*
	 * Reset with the current state, then bring back the original one.
	 * A close racing a release cannot get the device lock (the release
	 * holds it while it waits for this close): the reset is then left
	 * to vstub_vdev_reset_on_return(), which runs under that lock.
	 */
	vdev->needs_reset = true;
	if (vdev->reset_works) {
		ret = dev_locked ? pci_reset_function_locked(pdev) :
				   pci_try_reset_function(pdev);
		if (!ret)
			vdev->needs_reset = false;
		else
			pci_dbg(pdev, "reset at last close deferred: %d\n",
				ret);
	}
	if (vdev->saved_state &&
	    pci_load_and_free_saved_state(pdev, &vdev->saved_state))
		pci_info(pdev, "cannot reload the config state saved at open\n");
	pci_restore_state(pdev);
	pci_disable_device(pdev);
}

/*
 * vstub must get the device back (PCI remove, with device_lock held): if
 * it is open and userspace set a REQ eventfd, signal it and wait up to
 * release_timeout_ms for every device file to be closed.  A signal to the
 * waiting task ends the wait early.  vstub_vdev_revoke() follows anyway.
 */
void vstub_vdev_request(struct vstub_vdev *vdev)
{
	unsigned int ms = READ_ONCE(vstub_release_timeout_ms);
	bool asked;
	long left;

	mutex_lock(&vdev->lock);
	asked = vdev->open_count && vstub_irq_request(vdev);
	mutex_unlock(&vdev->lock);
	if (!asked)
		return;

	pci_info(vdev->pdev, "asking userspace to release the device (REQ), waiting up to %u ms\n",
		 ms);
	left = wait_event_interruptible_timeout(vdev->closed_wq,
						!READ_ONCE(vdev->open_count),
						msecs_to_jiffies(ms));
	if (left > 0)
		pci_info(vdev->pdev, "released by userspace on request\n");
	else if (left == 0)
		pci_warn(vdev->pdev, "not released by userspace within %u ms: revoking access\n",
			 ms);
	else
		pci_warn(vdev->pdev, "wait for userspace to release the device interrupted: revoking access\n");
}

/*
 * The device leaves vstub (PCI remove, with device_lock held): every open
 * file of it fails from now on, its BAR mappings are zapped, its
 * interrupts torn down and the function is disabled as at last close.
 */
void vstub_vdev_revoke(struct vstub_vdev *vdev)
{
	mutex_lock(&vdev->lock);
	vdev->revoked = true;
	if (vdev->open_count) {
		pci_info(vdev->pdev, "removed while open by userspace: access revoked\n");
		vstub_vdev_disable(vdev, true);
	}
	vstub_irq_teardown(vdev);
	mutex_unlock(&vdev->lock);
}

/*
 * The device goes back to the host (PCI remove: release, unload, handoff,
 * hot-unplug; device_lock held, after vstub_vdev_revoke()).  If userspace
 * had it since its last successful reset, reset it now: the host driver
 * must not inherit what userspace programmed.
 */
void vstub_vdev_reset_on_return(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	device_lock_assert(&pdev->dev);
	mutex_lock(&vdev->lock);
	if (vdev->needs_reset && !pci_dev_is_disconnected(pdev)) {
		if (!pdev->reset_methods[0]) {
			pci_info(pdev, "returned to the host without a reset: the device has no reset method\n");
		} else {
			ret = pci_reset_function_locked(pdev);
			if (ret)
				pci_warn(pdev, "reset before returning to the host failed: %d\n",
					 ret);
			else
				pci_dbg(pdev, "reset before returning to the host\n");
		}
	}
	vdev->needs_reset = false;
	mutex_unlock(&vdev->lock);
}

/* ---- read / write ---- */

static ssize_t vstub_device_rw(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos, bool write)
{
	struct vstub_dfile *df = file->private_data;
	struct vstub_vdev *vdev = df->vdev;
	u64 index = VSTUB_OFFSET_TO_INDEX((u64)*ppos);
	u64 pos = (u64)*ppos & VSTUB_OFFSET_MASK;
	size_t done = 0, chunk;
	u64 size;
	u8 *kbuf;
	int ret = 0;

	if (*ppos < 0 || index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		size = vdev->pdev->cfg_size;
	else if (index <= VFIO_PCI_ROM_REGION_INDEX)
		size = vdev->bar_size[index];
	else
		size = vstub_vga_size(vdev);
	if (!size || pos >= size)
		return -EINVAL;
	if (index == VFIO_PCI_ROM_REGION_INDEX && write)
		return -EINVAL;
	count = min_t(u64, count, size - pos);
	/* The VGA region's ranges have holes between them. */
	if (index == VFIO_PCI_VGA_REGION_INDEX) {
		count = vstub_vga_clamp(pos, count);
		if (!count)
			return -EINVAL;
	}

	kbuf = kmalloc(min_t(size_t, count, PAGE_SIZE), GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;

	/* User copies stay outside vdev->lock (it nests in mmap_lock). */
	while (done < count) {
		chunk = min_t(size_t, count - done, PAGE_SIZE);
		if (write && copy_from_user(kbuf, ubuf + done, chunk)) {
			ret = -EFAULT;
			break;
		}
		if (index == VFIO_PCI_VGA_REGION_INDEX) {
			/* The VGA arbiter first, then vdev->lock. */
			ret = vstub_vga_rw(vdev, kbuf, pos + done, chunk, write);
			goto copied;
		}
		mutex_lock(&vdev->lock);
		if (vdev->revoked)
			ret = -ENODEV;
		else if (index == VFIO_PCI_CONFIG_REGION_INDEX)
			ret = vstub_config_rw(vdev, kbuf, pos + done, chunk,
					      write);
		else
			ret = vstub_bar_rw(vdev, index, kbuf, pos + done, chunk,
					   write);
		mutex_unlock(&vdev->lock);
copied:
		if (ret)
			break;
		if (!write && copy_to_user(ubuf + done, kbuf, chunk)) {
			ret = -EFAULT;
			break;
		}
		done += chunk;
	}
	kfree(kbuf);
	if (!done)
		return ret;
	*ppos += done;
	return done;
}

static ssize_t vstub_device_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	return vstub_device_rw(file, buf, count, ppos, false);
}

static ssize_t vstub_device_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	return vstub_device_rw(file, (char __user *)buf, count, ppos, true);
}

static int vstub_device_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vstub_dfile *df = file->private_data;

	return vstub_bar_mmap(df->vdev, vma);
}

/* ---- ioctls ---- */

static int vstub_device_get_info(struct vstub_vdev *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = VFIO_DEVICE_FLAGS_PCI;
	mutex_lock(&vdev->lock);
	if (vdev->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	mutex_unlock(&vdev->lock);
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static int vstub_device_get_region_info(struct vstub_vdev *vdev,
					void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	u64 caps[DIV_ROUND_UP(VSTUB_BAR_CAPS_MAX, sizeof(u64))];
	struct pci_dev *pdev = vdev->pdev;
	struct vfio_region_info info;
	size_t caps_size = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;

	info.offset = VSTUB_INDEX_TO_OFFSET(info.index);
	info.flags = 0;
	info.size = 0;
	info.cap_offset = 0;
	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.size = vdev->bar_size[info.index];
		if (info.size)
			caps_size = vstub_bar_region_info(vdev, &info, caps);
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		/* As vfio-pci: only a ROM with a valid image is offered. */
		mutex_lock(&vdev->lock);
		info.size = vdev->revoked ? 0 : vstub_bar_rom_size(vdev);
		mutex_unlock(&vdev->lock);
		if (info.size)
			info.flags = VFIO_REGION_INFO_FLAG_READ;
		break;
	case VFIO_PCI_VGA_REGION_INDEX:
		/* As vfio-pci: EINVAL where there is no VGA region. */
		info.size = vstub_vga_size(vdev);
		if (!info.size)
			return -EINVAL;
		info.flags = VFIO_REGION_INFO_FLAG_READ |
			     VFIO_REGION_INFO_FLAG_WRITE;
		break;
	}
	if (caps_size) {
		/* As vfio: too small a buffer learns the size it needs. */
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps_size) {
			info.argsz = sizeof(info) + caps_size;
		} else {
			if (copy_to_user(arg + sizeof(info), caps, caps_size))
				return -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static int vstub_device_get_irq_info(struct vstub_vdev *vdev,
				     void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	ret = vstub_irq_get_info(vdev, &info);
	if (ret)
		return ret;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static int vstub_device_set_irqs(struct vstub_vdev *vdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	/* The count of vectors read here cannot change while captured. */
	ret = vstub_irq_check(vdev, &hdr, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}
	mutex_lock(&vdev->lock);
	if (vdev->revoked) {
		ret = -ENODEV;
	} else {
		/* MSI-X set-up and teardown write the table: decode on. */
		bool off = vstub_config_memory_enable(vdev);

		ret = vstub_irq_set(vdev, &hdr, data);
		vstub_config_memory_restore(vdev, off);
	}
	mutex_unlock(&vdev->lock);
	kfree(data);
	return ret;
}

static int vstub_device_reset(struct vstub_vdev *vdev)
{
	int ret;

	mutex_lock(&vdev->lock);
	if (vdev->revoked) {
		ret = -ENODEV;
	} else if (!vdev->reset_works) {
		ret = -EINVAL;
	} else {
		/*
		 * No BAR access while the function resets: the mappings are
		 * zapped and refault after (faults wait on vdev->lock).  The
		 * PCI core saves the config state (command register with
		 * vstub's INTx mask, MSI/MSI-X set-up) before the reset and
		 * restores it after, so the interrupts keep working; the
		 * INTx mask is then brought back in line with vstub's.
		 */
		bool off;

		vstub_bar_zap(vdev);
		vstub_config_power_d0(vdev);	/* as vfio-pci: reset in D0 */
		/* The restore after it rewrites the MSI-X table: decode on. */
		off = vstub_config_memory_enable(vdev);
		ret = pci_try_reset_function(vdev->pdev);
		vstub_irq_reset_done(vdev);
		vstub_config_memory_restore(vdev, off);
	}
	mutex_unlock(&vdev->lock);
	return ret;
}

static long vstub_device_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct vstub_dfile *df = file->private_data;
	struct vstub_vdev *vdev = df->vdev;
	void __user *uarg = (void __user *)arg;
	bool revoked;

	mutex_lock(&vdev->lock);
	revoked = vdev->revoked;
	mutex_unlock(&vdev->lock);
	if (revoked)
		return -ENODEV;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vstub_device_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vstub_device_get_region_info(vdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vstub_device_get_irq_info(vdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vstub_device_set_irqs(vdev, uarg);
	case VFIO_DEVICE_RESET:
		return vstub_device_reset(vdev);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vstub_reset_info(vdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vstub_reset_hot_reset(vdev, uarg);
	case VFIO_DEVICE_FEATURE:
		return vstub_device_feature(vdev, uarg);
	default:
		return -ENOTTY;
	}
}

static int vstub_device_release(struct inode *inode, struct file *file)
{
	struct vstub_dfile *df = file->private_data;
	struct vstub_vdev *vdev = df->vdev;
	struct vstub_group *group = vdev->group;

	spin_lock(&vdev->holders_lock);
	list_del(&df->holder_node);
	spin_unlock(&vdev->holders_lock);
	put_pid(df->pid);

	mutex_lock(&vdev->lock);
	if (!--vdev->open_count) {
		vstub_sriov_close(vdev);
		if (!vdev->revoked)
			vstub_vdev_disable(vdev, false);
	}
	mutex_unlock(&vdev->lock);
	wake_up_all(&vdev->closed_wq);

	vstub_group_device_closed(group);
	fput(df->group_file);
	vstub_vdev_put(vdev);
	kfree(df);
	return 0;
}

static const struct file_operations vstub_device_fops = {
	.owner		= THIS_MODULE,
	.release	= vstub_device_release,
	.read		= vstub_device_read,
	.write		= vstub_device_write,
	.unlocked_ioctl	= vstub_device_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= vstub_device_mmap,
	.llseek		= noop_llseek,
};

/*
 * A new file for @vdev (the group's lock is held, the group is in a
 * container with its IOMMU set).  The first open enables the function.
 */
struct file *vstub_vdev_open_file(struct vstub_vdev *vdev,
				  struct file *group_file)
{
	struct vstub_dfile *df;
	struct file *file;
	int ret;

	df = kzalloc(sizeof(*df), GFP_KERNEL);
	if (!df)
		return ERR_PTR(-ENOMEM);

	mutex_lock(&vdev->lock);
	if (vdev->revoked) {
		ret = -ENODEV;
		goto err_unlock;
	}
	if (!vdev->open_count) {
		ret = vstub_vdev_enable(vdev);
		if (ret)
			goto err_unlock;
	}
	file = anon_inode_getfile("[vstub-device]", &vstub_device_fops, df,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		if (!vdev->open_count)
			vstub_vdev_disable(vdev, false);
		goto err_unlock;
	}
	/*
	 * Every BAR mmap of the function lands in one address_space of its
	 * own.  Its host is the (permanent, shared) anon inode, which the
	 * mmap code consults for inode flags; no page ever lives in it.
	 */
	vdev->mapping.host = file_inode(file);
	file->f_mapping = &vdev->mapping;
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	if (!vdev->open_count)
		vstub_sriov_open(vdev);
	vdev->open_count++;
	mutex_unlock(&vdev->lock);

	kref_get(&vdev->kref);
	df->vdev = vdev;
	df->group_file = get_file(group_file);
	df->pid = get_pid(task_tgid(current));
	spin_lock(&vdev->holders_lock);
	list_add_tail(&df->holder_node, &vdev->holders);
	spin_unlock(&vdev->holders_lock);
	return file;

err_unlock:
	mutex_unlock(&vdev->lock);
	kfree(df);
	return ERR_PTR(ret);
}

/* What the netlink report says about one holder (@pid referenced). */
static void vstub_holder_info(struct pid *pid, struct vstub_vfio_holder *h)
{
	struct task_struct *task;
	unsigned long lim;

	memset(h, 0, sizeof(*h));
	h->pid = pid_vnr(pid);
	/* Nothing about a process the requester cannot see in its PID namespace. */
	if (!h->pid)
		return;
	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task)
		return;
	get_task_comm(h->comm, task);
	/* task_lock keeps ->mm from going away (as get_task_mm does). */
	task_lock(task);
	if (task->mm)
		h->locked_pages = READ_ONCE(task->mm->locked_vm);
	task_unlock(task);
	lim = task_rlimit(task, RLIMIT_MEMLOCK);
	h->memlock_limit = lim == RLIM_INFINITY ? U64_MAX : lim;
	h->ipc_lock = has_capability_noaudit(task, CAP_IPC_LOCK);
	put_task_struct(task);
}

/**
 * vstub_vdev_holders - the processes that have a device file open
 * @vdev: the device
 * @st:   its report: ->nr_holders and up to VSTUB_NL_MAX_HOLDERS entries
 *
 * Only @vdev->holders_lock is taken (briefly, to collect references to
 * the openers' PIDs), never a lock a VFIO user can hold for long.  The
 * numbers are a snapshot.
 */
void vstub_vdev_holders(struct vstub_vdev *vdev, struct vstub_vfio_stats *st)
{
	struct pid *pids[VSTUB_NL_MAX_HOLDERS];
	struct vstub_dfile *df;
	unsigned int n = 0, i;

	st->nr_holders = 0;
	spin_lock(&vdev->holders_lock);
	list_for_each_entry(df, &vdev->holders, holder_node) {
		/* A process with several device files counts once. */
		for (i = 0; i < n && pids[i] != df->pid; i++)
			;
		if (i < n)
			continue;
		if (n < ARRAY_SIZE(pids))
			pids[n++] = get_pid(df->pid);
		st->nr_holders++;
	}
	spin_unlock(&vdev->holders_lock);
	for (i = 0; i < n; i++) {
		vstub_holder_info(pids[i], &st->holders[i]);
		put_pid(pids[i]);
	}
	st->nr_shown = n;
}
