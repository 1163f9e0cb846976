// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_floor - the floor of the vstub benchmark: the bare cost of
 * long-term pinning a user range and unpinning it again, with nothing else
 * around it (no accounting, no IOMMU, no bookkeeping), timed in the kernel.
 *
 * A misc device, /dev/vstub_floor, with one ioctl (VSTUB_FLOOR_PIN, see
 * vstub_floor.h).  Built and loaded only by bench/run, in the benchmark
 * guest; it is not part of vstub.ko and must never be loaded elsewhere.
 *
 * The page array is allocated before the clock starts: the floor is the
 * pinning itself, what any long-term pinner has to pay.
 */
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vstub_floor.h"

#define FLOOR_BATCH	512U
#define FLOOR_MAX_LEN	(16ULL << 30)	/* 16 GiB: a 32 MiB page array */

/*
 * Pin @npages pages from @addr in batches of @batch into @pages; returns
 * the number pinned, or a negative errno with nothing left pinned.
 */
static long floor_pin(unsigned long addr, unsigned long npages,
		      unsigned int batch, struct page **pages)
{
	unsigned long done = 0;
	int ret;

	while (done < npages) {
		unsigned int n = min_t(unsigned long, batch, npages - done);

#ifdef VSTUB_FLOOR_BROKEN
		/* The deliberately broken floor: pins nothing, claims all. */
		ret = n;
#else
		ret = pin_user_pages_fast(addr + done * PAGE_SIZE, n,
					  FOLL_LONGTERM | FOLL_WRITE,
					  pages + done);
#endif
		if (ret <= 0) {
			unpin_user_pages(pages, done);
			return ret ? ret : -EFAULT;
		}
		done += ret;
	}
	return done;
}

static long floor_ioctl_pin(struct vstub_floor_pin __user *uarg)
{
	struct vstub_floor_pin arg;
	unsigned long npages;
	struct page **pages;
	u64 t0, t1, t2;
	long ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.len || arg.len > FLOOR_MAX_LEN || arg.pad ||
	    !PAGE_ALIGNED(arg.addr) || !PAGE_ALIGNED(arg.len))
		return -EINVAL;
	npages = arg.len >> PAGE_SHIFT;
	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;

	t0 = ktime_get_ns();
	ret = floor_pin(arg.addr, npages, arg.batch ?: FLOOR_BATCH, pages);
	t1 = ktime_get_ns();
	if (ret < 0)
		goto out;
#ifndef VSTUB_FLOOR_BROKEN
	unpin_user_pages(pages, ret);
#endif
	t2 = ktime_get_ns();

	arg.pinned = ret;
	arg.pin_ns = t1 - t0;
	arg.unpin_ns = t2 - t1;
	ret = copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
out:
	kvfree(pages);
	return ret;
}

static long floor_ioctl(struct file *file, unsigned int cmd,
			unsigned long arg)
{
	switch (cmd) {
	case VSTUB_FLOOR_PIN:
		return floor_ioctl_pin((struct vstub_floor_pin __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations floor_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= floor_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice floor_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vstub_floor",
	.fops	= &floor_fops,
	.mode	= 0600,
};

module_misc_device(floor_dev);

MODULE_DESCRIPTION("vstub benchmark floor: bare long-term pin/unpin timing");
MODULE_AUTHOR("vstub developers");
MODULE_LICENSE("GPL");
