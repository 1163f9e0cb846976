// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_netlink.c - the generic netlink family "vstub": commands, their
 * policies, and the "monitor" multicast group.  The protocol is documented
 * in uapi/vstub.h.
 *
 * The handlers only translate between netlink and the stub driver's
 * control functions (vstub_pci.c, vstub_ids.c), which do their own
 * locking; the family runs with parallel_ops so that no handler holds
 * genl_mutex while it binds or unbinds drivers.
 *
 * Device events are taken from the PCI bus notifier (BUS_NOTIFY_BOUND_DRIVER
 * and BUS_NOTIFY_UNBIND_DRIVER for vstub), so captures and releases are
 * announced whatever started them: netlink, sysfs, hotplug or unload.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <net/genetlink.h>

#include "vstub_nl.h"

static const char vstub_nl_bdf_msg[] =
	"malformed PCI address: expected DDDD:BB:DD.F or BB:DD.F in hex";

/* ---- policies ----------------------------------------------------------- */

static const struct nla_policy vstub_nl_id_policy[VSTUB_A_ID + 1] = {
	[VSTUB_A_ID]	= { .type = NLA_NUL_STRING,
			    .len = VSTUB_ID_MAX_LEN - 1 },
};

static const struct nla_policy vstub_nl_bdf_policy[VSTUB_A_BDF + 1] = {
	[VSTUB_A_BDF]	= { .type = NLA_NUL_STRING,
			    .len = VSTUB_BDF_MAX_LEN - 1 },
};

static const struct nla_policy vstub_nl_capture_policy[VSTUB_A_OWNER_GID + 1] = {
	[VSTUB_A_BDF]		= { .type = NLA_NUL_STRING,
				    .len = VSTUB_BDF_MAX_LEN - 1 },
	[VSTUB_A_OWNER_UID]	= { .type = NLA_U32 },
	[VSTUB_A_OWNER_GID]	= { .type = NLA_U32 },
};

static const struct nla_policy vstub_nl_sriov_policy[VSTUB_A_NUM_VFS + 1] = {
	[VSTUB_A_BDF]		= { .type = NLA_NUL_STRING,
				    .len = VSTUB_BDF_MAX_LEN - 1 },
	[VSTUB_A_NUM_VFS]	= { .type = NLA_U32 },
};

/* Commands that take no attribute: every one is refused, as documented. */
static const struct nla_policy vstub_nl_no_policy[VSTUB_A_MAX + 1] = {
	[1 ... VSTUB_A_MAX] = { .type = NLA_REJECT },
};

/* ---- helpers ------------------------------------------------------------ */

/*
 * May the caller see what VFIO users do with their devices (open, pinned
 * pages, mappings)?  Only with CAP_SYS_ADMIN: see the uapi header.
 */
static bool vstub_nl_sees_vfio(struct sk_buff *skb)
{
	return netlink_capable(skb, CAP_SYS_ADMIN);
}

/* State changes need CAP_SYS_ADMIN too, like the sysfs files. */
static int vstub_nl_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	vstub_nl_err(info->extack, NULL,
		     "changing what vstub captures needs CAP_SYS_ADMIN (run as root)");
	return -EPERM;
}

/* The mandatory attribute @type, or NULL with the extack set. */
static struct nlattr *vstub_nl_need(struct genl_info *info, int type,
				    const char *msg)
{
	if (GENL_REQ_ATTR_CHECK(info, type)) {
		vstub_nl_err(info->extack, NULL, msg);
		return NULL;
	}
	return info->attrs[type];
}

/* Parse the request's VSTUB_A_BDF; 0 or -EINVAL with the extack set. */
static int vstub_nl_bdf(struct genl_info *info, unsigned int *domain,
			unsigned int *bus, unsigned int *devfn)
{
	struct nlattr *attr = vstub_nl_need(info, VSTUB_A_BDF,
					    "missing attribute VSTUB_A_BDF (the PCI address)");

	if (!attr)
		return -EINVAL;
	if (vstub_parse_bdf(nla_data(attr), domain, bus, devfn)) {
		vstub_nl_err(info->extack, attr, vstub_nl_bdf_msg);
		return -EINVAL;
	}
	return 0;
}

/* The PCI function the request's VSTUB_A_BDF names, with a reference. */
static struct pci_dev *vstub_nl_pdev(struct genl_info *info, int *err)
{
	unsigned int domain, bus, devfn;
	struct pci_dev *pdev;

	*err = vstub_nl_bdf(info, &domain, &bus, &devfn);
	if (*err)
		return NULL;
	pdev = pci_get_domain_bus_and_slot(domain, bus, devfn);
	if (!pdev) {
		vstub_nl_err(info->extack, info->attrs[VSTUB_A_BDF],
			     "no PCI device at that address");
		*err = -ENODEV;
	}
	return pdev;
}

/* A reply to @info with command @cmd; NULL on allocation failure. */
static struct sk_buff *vstub_nl_reply(struct genl_info *info, u8 cmd,
				      void **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put_reply(skb, info, &vstub_nl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

/* ---- notifications ------------------------------------------------------ */

/*
 * vstub_nl_lock orders notifications against unregistering the family
 * (sysfs may announce an ID change while the module goes away); a leaf.
 */
static DEFINE_MUTEX(vstub_nl_lock);
static bool vstub_nl_registered;

static void vstub_nl_multicast(struct sk_buff *skb)
{
	mutex_lock(&vstub_nl_lock);
	if (vstub_nl_registered)
		genlmsg_multicast(&vstub_nl_family, skb, 0, 0, GFP_KERNEL);
	else
		nlmsg_free(skb);
	mutex_unlock(&vstub_nl_lock);
}

static bool vstub_nl_listened(void)
{
	bool ret;

	mutex_lock(&vstub_nl_lock);
	ret = vstub_nl_registered &&
	      genl_has_listeners(&vstub_nl_family, &init_net, 0);
	mutex_unlock(&vstub_nl_lock);
	return ret;
}

/**
 * vstub_nl_notify_dev - announce a capture or release on "monitor"
 * @pdev: the function, bound to vstub, with its device_lock held
 * @cmd:  VSTUB_CMD_CAPTURED or VSTUB_CMD_RELEASED
 */
void vstub_nl_notify_dev(struct pci_dev *pdev, u8 cmd)
{
	struct vstub_nl_bind b;
	struct sk_buff *skb;
	void *hdr;

	if (!vstub_nl_listened())
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vstub_nl_family, 0, cmd);
	if (!hdr)
		goto err;
	vstub_nl_bind_locked(pdev, &b, false);	/* anyone may listen */
	if (vstub_nl_fill_dev(skb, pdev, &b, false))
		goto err;
	genlmsg_end(skb, hdr);
	vstub_nl_multicast(skb);
	return;
err:
	nlmsg_free(skb);
}

/**
 * vstub_nl_notify_id - announce an ID table change on "monitor"
 * @id:  the ID as given (normalised before it is sent)
 * @cmd: VSTUB_CMD_ID_ADDED or VSTUB_CMD_ID_REMOVED
 */
void vstub_nl_notify_id(const char *id, u8 cmd)
{
	char txt[VSTUB_ID_MAX_LEN];
	struct pci_device_id pid;
	struct sk_buff *skb;
	void *hdr;

	if (vstub_id_parse(id, &pid) || !vstub_nl_listened())
		return;
	vstub_id_format(&pid, txt, sizeof(txt));
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &vstub_nl_family, 0, cmd);
	if (!hdr || nla_put_string(skb, VSTUB_A_ID, txt)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	vstub_nl_multicast(skb);
}

static int vstub_nl_bus_notify(struct notifier_block *nb,
			       unsigned long action, void *data)
{
	struct device *dev = data;

	/* Both events come with the device's lock held by the driver core. */
	if (dev->driver != &vstub_pci_driver.driver)
		return NOTIFY_DONE;
	if (action == BUS_NOTIFY_BOUND_DRIVER)
		vstub_nl_notify_dev(to_pci_dev(dev), VSTUB_CMD_CAPTURED);
	else if (action == BUS_NOTIFY_UNBIND_DRIVER)
		vstub_nl_notify_dev(to_pci_dev(dev), VSTUB_CMD_RELEASED);
	return NOTIFY_DONE;
}

static struct notifier_block vstub_nl_bus_nb = {
	.notifier_call = vstub_nl_bus_notify,
};

/* ---- commands ----------------------------------------------------------- */

static int vstub_nl_id_change(struct sk_buff *skb, struct genl_info *info,
			      bool add)
{
	const char *msg = "failed";
	struct nlattr *attr;
	int ret;

	ret = vstub_nl_admin(skb, info);
	if (ret)
		return ret;
	attr = vstub_nl_need(info, VSTUB_A_ID,
			     "missing attribute VSTUB_A_ID (vendor:device)");
	if (!attr)
		return -EINVAL;
	ret = add ? vstub_ids_add(nla_data(attr), &msg) :
		    vstub_ids_del(nla_data(attr), &msg);
	if (ret) {
		vstub_nl_err(info->extack, ret == -EINVAL ? attr : NULL, msg);
		return ret;
	}
	vstub_nl_notify_id(nla_data(attr),
			   add ? VSTUB_CMD_ID_ADDED : VSTUB_CMD_ID_REMOVED);
	return 0;
}

static int vstub_nl_id_add(struct sk_buff *skb, struct genl_info *info)
{
	return vstub_nl_id_change(skb, info, true);
}

static int vstub_nl_id_del(struct sk_buff *skb, struct genl_info *info)
{
	return vstub_nl_id_change(skb, info, false);
}

/* The ID table, one message per ID; cb->args[0] counts the IDs sent. */
static int vstub_nl_id_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct pci_device_id id;
	char txt[VSTUB_ID_MAX_LEN];
	long idx = cb->args[0];
	void *hdr;

	for (; !vstub_id_nth(idx, &id); idx++) {
		vstub_id_format(&id, txt, sizeof(txt));
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &vstub_nl_family,
				  NLM_F_MULTI, VSTUB_CMD_ID_GET);
		if (!hdr)
			break;
		if (nla_put_string(skb, VSTUB_A_ID, txt)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = idx;
	return skb->len;
}

/* The owner of a capture request (initial user namespace). */
static int vstub_nl_owner(struct genl_info *info, struct vstub_owner *owner)
{
	struct nlattr *auid = info->attrs[VSTUB_A_OWNER_UID];
	struct nlattr *agid = info->attrs[VSTUB_A_OWNER_GID];

	*owner = VSTUB_NO_OWNER;
	if (auid) {
		owner->uid = make_kuid(&init_user_ns, nla_get_u32(auid));
		if (!uid_valid(owner->uid)) {
			vstub_nl_err(info->extack, auid, "not a valid user ID");
			return -EINVAL;
		}
	}
	if (agid) {
		owner->gid = make_kgid(&init_user_ns, nla_get_u32(agid));
		if (!gid_valid(owner->gid)) {
			vstub_nl_err(info->extack, agid, "not a valid group ID");
			return -EINVAL;
		}
	}
	return 0;
}

static int vstub_nl_capture(struct sk_buff *skb, struct genl_info *info)
{
	unsigned int domain, bus, devfn;
	const char *msg = "failed";
	struct vstub_owner owner;
	int ret;

	ret = vstub_nl_admin(skb, info);
	if (ret)
		return ret;
	ret = vstub_nl_bdf(info, &domain, &bus, &devfn);
	if (ret)
		return ret;
	ret = vstub_nl_owner(info, &owner);
	if (ret)
		return ret;
	ret = vstub_capture_bdf(domain, bus, devfn, &owner, &msg);
	if (ret)
		vstub_nl_err(info->extack, ret == -ENODEV ?
			     info->attrs[VSTUB_A_BDF] : NULL, msg);
	return ret;
}

static int vstub_nl_release(struct sk_buff *skb, struct genl_info *info)
{
	unsigned int domain, bus, devfn;
	const char *msg = "failed";
	int ret;

	ret = vstub_nl_admin(skb, info);
	if (ret)
		return ret;
	ret = vstub_nl_bdf(info, &domain, &bus, &devfn);
	if (ret)
		return ret;
	ret = vstub_release_bdf(domain, bus, devfn, &msg);
	if (ret)
		vstub_nl_err(info->extack, ret == -ENODEV ?
			     info->attrs[VSTUB_A_BDF] : NULL, msg);
	return ret;
}

/* One function, captured or not, with its reserved regions. */
static int vstub_nl_dev_get(struct sk_buff *skb, struct genl_info *info)
{
	struct vstub_nl_bind b;
	struct pci_dev *pdev;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	pdev = vstub_nl_pdev(info, &ret);
	if (!pdev)
		return ret;
	/*
	 * A captured device from vstub_devs: its device_lock may be held for
	 * up to release_timeout_ms by a release waiting for its user.
	 */
	if (!vstub_nl_bind_captured(pdev, &b, vstub_nl_sees_vfio(skb))) {
		device_lock(&pdev->dev);
		vstub_nl_bind_locked(pdev, &b, vstub_nl_sees_vfio(skb));
		device_unlock(&pdev->dev);
	}

	ret = -ENOMEM;
	msg = vstub_nl_reply(info, VSTUB_CMD_DEV_GET, &hdr);
	if (!msg)
		goto out_put;
	ret = vstub_nl_fill_dev(msg, pdev, &b, true);
	if (ret) {
		nlmsg_free(msg);
		goto out_put;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out_put:
	pci_dev_put(pdev);
	return ret;
}

/* Every captured function; cb->args[0] counts those already sent. */
static int vstub_nl_dev_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	bool vfio = vstub_nl_sees_vfio(cb->skb);
	struct vstub_nl_bind b;
	struct vstub_dev *vdev;
	long idx = 0;
	void *hdr;

	mutex_lock(&vstub_devs_lock);
	list_for_each_entry(vdev, &vstub_devs, node) {
		if (idx++ < cb->args[0])
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &vstub_nl_family,
				  NLM_F_MULTI, VSTUB_CMD_DEV_GET);
		if (!hdr) {
			idx--;
			break;
		}
		vstub_nl_bind_from_vdev(vdev, &b, vfio);
		if (vstub_nl_fill_dev(skb, vdev->pdev, &b, false)) {
			genlmsg_cancel(skb, hdr);
			idx--;
			break;
		}
		genlmsg_end(skb, hdr);
	}
	mutex_unlock(&vstub_devs_lock);
	cb->args[0] = idx;
	return skb->len;
}

static int vstub_nl_status_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = vstub_nl_reply(info, VSTUB_CMD_STATUS_GET, &hdr);
	if (!msg)
		return -ENOMEM;
	ret = vstub_nl_fill_status(msg);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int vstub_nl_group_get(struct sk_buff *skb, struct genl_info *info)
{
	struct pci_dev *pdev;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	pdev = vstub_nl_pdev(info, &ret);
	if (!pdev)
		return ret;
	ret = -ENOMEM;
	msg = vstub_nl_reply(info, VSTUB_CMD_GROUP_GET, &hdr);
	if (!msg)
		goto out_put;
	ret = vstub_nl_fill_group(msg, pdev, info->extack);
	if (ret) {
		nlmsg_free(msg);
		goto out_put;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out_put:
	pci_dev_put(pdev);
	return ret;
}

/*
 * Create or remove VFs of a captured PF, as writing sriov_numvfs would:
 * under the PF's device_lock, through vstub's sriov_configure.
 */
static int vstub_nl_sriov_apply(struct pci_dev *pdev, u32 num,
				struct genl_info *info)
{
	struct nlattr *anum = info->attrs[VSTUB_A_NUM_VFS];
	int cur, ret;

	if (pdev->dev.driver != &vstub_pci_driver.driver) {
		vstub_nl_err(info->extack, info->attrs[VSTUB_A_BDF],
			     "device is not captured by vstub: capture the PF first");
		return -EINVAL;
	}
	if (!pdev->is_physfn) {
		vstub_nl_err(info->extack, info->attrs[VSTUB_A_BDF],
			     "device is not an SR-IOV physical function");
		return -EOPNOTSUPP;
	}
	if (num > pci_sriov_get_totalvfs(pdev)) {
		vstub_nl_err(info->extack, anum,
			     "more VFs than the device supports (see sriov_totalvfs)");
		return -ERANGE;
	}
	cur = pci_num_vf(pdev);
	if (num == cur)
		return 0;
	if (num && cur) {
		vstub_nl_err(info->extack, anum,
			     "VFs are already enabled: set 0 first, then the new number");
		return -EBUSY;
	}
	ret = vstub_pci_driver.sriov_configure(pdev, num);
	if (ret < 0) {
		vstub_nl_err(info->extack, NULL,
			     "the PCI core could not change the number of VFs (see the kernel log)");
		return ret;
	}
	return 0;
}

static int vstub_nl_sriov_set(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	struct pci_dev *pdev;
	struct nlattr *anum;
	void *hdr;
	int ret;

	ret = vstub_nl_admin(skb, info);
	if (ret)
		return ret;
	anum = vstub_nl_need(info, VSTUB_A_NUM_VFS,
			     "missing attribute VSTUB_A_NUM_VFS (the number of VFs)");
	if (!anum)
		return -EINVAL;
	pdev = vstub_nl_pdev(info, &ret);
	if (!pdev)
		return ret;

	device_lock(&pdev->dev);
	ret = vstub_nl_sriov_apply(pdev, nla_get_u32(anum), info);
	device_unlock(&pdev->dev);
	if (ret)
		goto out_put;

	ret = -ENOMEM;
	msg = vstub_nl_reply(info, VSTUB_CMD_SRIOV_SET, &hdr);
	if (!msg)
		goto out_put;
	if (vstub_nl_put_bdf(msg, VSTUB_A_BDF, pdev) ||
	    nla_put_u32(msg, VSTUB_A_NUM_VFS, pci_num_vf(pdev))) {
		nlmsg_free(msg);
		ret = -EMSGSIZE;
		goto out_put;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
out_put:
	pci_dev_put(pdev);
	return ret;
}

/* ---- the family ---------------------------------------------------------- */

static const struct genl_ops vstub_nl_ops[] = {
	{
		.cmd	 = VSTUB_CMD_ID_ADD,
		.doit	 = vstub_nl_id_add,
		.policy	 = vstub_nl_id_policy,
		.maxattr = ARRAY_SIZE(vstub_nl_id_policy) - 1,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = VSTUB_CMD_ID_DEL,
		.doit	 = vstub_nl_id_del,
		.policy	 = vstub_nl_id_policy,
		.maxattr = ARRAY_SIZE(vstub_nl_id_policy) - 1,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = VSTUB_CMD_ID_GET,
		.dumpit	 = vstub_nl_id_dump,
		.policy	 = vstub_nl_no_policy,
		.maxattr = VSTUB_A_MAX,
	},
	{
		.cmd	 = VSTUB_CMD_CAPTURE,
		.doit	 = vstub_nl_capture,
		.policy	 = vstub_nl_capture_policy,
		.maxattr = ARRAY_SIZE(vstub_nl_capture_policy) - 1,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = VSTUB_CMD_RELEASE,
		.doit	 = vstub_nl_release,
		.policy	 = vstub_nl_bdf_policy,
		.maxattr = ARRAY_SIZE(vstub_nl_bdf_policy) - 1,
		.flags	 = GENL_ADMIN_PERM,
	},
	{
		.cmd	 = VSTUB_CMD_DEV_GET,
		.doit	 = vstub_nl_dev_get,
		.dumpit	 = vstub_nl_dev_dump,
		.policy	 = vstub_nl_bdf_policy,
		.maxattr = ARRAY_SIZE(vstub_nl_bdf_policy) - 1,
	},
	{
		.cmd	 = VSTUB_CMD_STATUS_GET,
		.doit	 = vstub_nl_status_get,
		.policy	 = vstub_nl_no_policy,
		.maxattr = VSTUB_A_MAX,
	},
	{
		.cmd	 = VSTUB_CMD_GROUP_GET,
		.doit	 = vstub_nl_group_get,
		.policy	 = vstub_nl_bdf_policy,
		.maxattr = ARRAY_SIZE(vstub_nl_bdf_policy) - 1,
	},
	{
		.cmd	 = VSTUB_CMD_SRIOV_SET,
		.doit	 = vstub_nl_sriov_set,
		.policy	 = vstub_nl_sriov_policy,
		.maxattr = ARRAY_SIZE(vstub_nl_sriov_policy) - 1,
		.flags	 = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group vstub_nl_mcgrps[] = {
	{ .name = VSTUB_GENL_MCGRP_MONITOR },
};

struct genl_family vstub_nl_family __ro_after_init = {
	.name		= VSTUB_GENL_NAME,
	.version	= VSTUB_GENL_VERSION,
	.module		= THIS_MODULE,
	.parallel_ops	= true,
	.ops		= vstub_nl_ops,
	.n_ops		= ARRAY_SIZE(vstub_nl_ops),
	.mcgrps		= vstub_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(vstub_nl_mcgrps),
};

int vstub_nl_init(void)
{
	int ret;

	ret = genl_register_family(&vstub_nl_family);
	if (ret)
		return ret;
	mutex_lock(&vstub_nl_lock);
	vstub_nl_registered = true;
	mutex_unlock(&vstub_nl_lock);
	ret = bus_register_notifier(&pci_bus_type, &vstub_nl_bus_nb);
	if (ret)
		goto err_family;
	return 0;

err_family:
	mutex_lock(&vstub_nl_lock);
	vstub_nl_registered = false;
	mutex_unlock(&vstub_nl_lock);
	genl_unregister_family(&vstub_nl_family);
	return ret;
}

void vstub_nl_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &vstub_nl_bus_nb);
	mutex_lock(&vstub_nl_lock);
	vstub_nl_registered = false;
	mutex_unlock(&vstub_nl_lock);
	genl_unregister_family(&vstub_nl_family);
}
