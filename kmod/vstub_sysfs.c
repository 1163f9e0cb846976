// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_sysfs.c - control attributes of the driver, in
 * /sys/bus/pci/drivers/vstub/:
 *
 *   id_add    (w)  add an ID (vendor:device[:subvendor[:subdevice[:class[:mask]]]])
 *                  and capture matching devices that have no driver
 *   id_del    (w)  remove an ID; devices it captured stay captured
 *   ids       (r)  the ID table, one per line
 *   capture   (w)  capture one function by address (DDDD:BB:DD.F or BB:DD.F),
 *                  taking it from its host driver
 *   release   (w)  give a captured function back to its original driver
 *   captured  (r)  "BDF vendor:device reason original-driver" per device
 *
 * Errors are returned as errno values and explained in the kernel log.
 * The netlink family offers the same operations with extack messages.
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/sysfs.h>

#include "vstub.h"

/* Only root may change what vstub captures. */
static int vstub_sysfs_check(void)
{
	return capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

static ssize_t vstub_sysfs_result(const char *what, const char *arg,
				  int ret, const char *msg, size_t count)
{
	if (!ret)
		return count;
	pr_warn("%s %.*s: %s\n", what, (int)strcspn(arg, "\n"), arg, msg);
	return ret;
}

static ssize_t id_add_store(struct device_driver *drv, const char *buf,
			    size_t count)
{
	const char *msg = NULL;
	int ret = vstub_sysfs_check();

	if (ret)
		return ret;
	ret = vstub_ids_add(buf, &msg);
	if (!ret)
		vstub_nl_notify_id(buf, VSTUB_CMD_ID_ADDED);
	return vstub_sysfs_result("id_add", buf, ret, msg, count);
}
static DRIVER_ATTR_WO(id_add);

static ssize_t id_del_store(struct device_driver *drv, const char *buf,
			    size_t count)
{
	const char *msg = NULL;
	int ret = vstub_sysfs_check();

	if (ret)
		return ret;
	ret = vstub_ids_del(buf, &msg);
	if (!ret)
		vstub_nl_notify_id(buf, VSTUB_CMD_ID_REMOVED);
	return vstub_sysfs_result("id_del", buf, ret, msg, count);
}
static DRIVER_ATTR_WO(id_del);

static ssize_t ids_show(struct device_driver *drv, char *buf)
{
	return vstub_ids_show(buf, PAGE_SIZE);
}
static DRIVER_ATTR_RO(ids);

static ssize_t vstub_sysfs_bdf(const char *what, const char *buf,
			       size_t count, bool capture)
{
	unsigned int domain, bus, devfn;
	const char *msg = NULL;
	int ret = vstub_sysfs_check();

	if (ret)
		return ret;
	if (vstub_parse_bdf(buf, &domain, &bus, &devfn)) {
		ret = -EINVAL;
		msg = "malformed PCI address: expected DDDD:BB:DD.F or BB:DD.F in hex";
	} else if (capture) {
		ret = vstub_capture_bdf(domain, bus, devfn, NULL, &msg);
	} else {
		ret = vstub_release_bdf(domain, bus, devfn, &msg);
	}
	return vstub_sysfs_result(what, buf, ret, msg, count);
}

static ssize_t capture_store(struct device_driver *drv, const char *buf,
			     size_t count)
{
	return vstub_sysfs_bdf("capture", buf, count, true);
}
static DRIVER_ATTR_WO(capture);

static ssize_t release_store(struct device_driver *drv, const char *buf,
			     size_t count)
{
	return vstub_sysfs_bdf("release", buf, count, false);
}
static DRIVER_ATTR_WO(release);

static const char * const vstub_reason_names[] = {
	[VSTUB_REASON_NONE]	= "none",
	[VSTUB_REASON_ID]	= "id",
	[VSTUB_REASON_BDF]	= "bdf",
	[VSTUB_REASON_NEW_ID]	= "new_id",
	[VSTUB_REASON_VF]	= "vf",
};

static ssize_t captured_show(struct device_driver *drv, char *buf)
{
	struct vstub_dev *vdev;
	ssize_t n = 0;

	mutex_lock(&vstub_devs_lock);
	list_for_each_entry(vdev, &vstub_devs, node)
		n += scnprintf(buf + n, PAGE_SIZE - n, "%s %04x:%04x %s %s\n",
			       pci_name(vdev->pdev), vdev->pdev->vendor,
			       vdev->pdev->device,
			       vstub_reason_names[vdev->reason],
			       vdev->orig_driver[0] ? vdev->orig_driver : "-");
	mutex_unlock(&vstub_devs_lock);
	return n;
}
static DRIVER_ATTR_RO(captured);

static struct attribute *vstub_drv_attrs[] = {
	&driver_attr_id_add.attr,
	&driver_attr_id_del.attr,
	&driver_attr_ids.attr,
	&driver_attr_capture.attr,
	&driver_attr_release.attr,
	&driver_attr_captured.attr,
	NULL,
};

static const struct attribute_group vstub_drv_group = {
	.attrs = vstub_drv_attrs,
};

const struct attribute_group *vstub_drv_groups[] = {
	&vstub_drv_group,
	NULL,
};
