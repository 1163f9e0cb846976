/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_nl.h - shared by the netlink control plane's files only
 * (vstub_netlink.c: family and commands; vstub_status.c: IOMMU reports).
 */
#ifndef _VSTUB_NL_H
#define _VSTUB_NL_H

#include <net/genetlink.h>

#include "vstub.h"

extern struct genl_family vstub_nl_family;

/* Put @msg (a static string) and the offending @attr (may be NULL) in @extack. */
static inline void vstub_nl_err(struct netlink_ext_ack *extack,
				const struct nlattr *attr, const char *msg)
{
	if (!extack)
		return;
	extack->_msg = msg;
	extack->bad_attr = attr;
}

/*
 * What is known about a PCI function's binding: a snapshot taken under
 * device_lock (a single device) or vstub_devs_lock (captured devices).
 */
struct vstub_nl_bind {
	char driver[VSTUB_NAME_MAX_LEN];
	char orig_driver[VSTUB_DRIVER_NAME_MAX];
	bool captured;
	enum vstub_reason reason;
	struct vstub_owner owner;
	bool have_vfio;
	struct vstub_vfio_stats vfio;
};

void vstub_nl_bind_from_vdev(struct vstub_dev *vdev, struct vstub_nl_bind *b,
			     bool vfio);
void vstub_nl_bind_locked(struct pci_dev *pdev, struct vstub_nl_bind *b,
			  bool vfio);
bool vstub_nl_bind_captured(struct pci_dev *pdev, struct vstub_nl_bind *b,
			    bool vfio);
static inline bool vstub_nl_is_captured(struct pci_dev *pdev)
{
	return vstub_nl_bind_captured(pdev, NULL, false);
}

int vstub_nl_put_bdf(struct sk_buff *skb, int type, struct pci_dev *pdev);
int vstub_nl_fill_dev(struct sk_buff *skb, struct pci_dev *pdev,
		      const struct vstub_nl_bind *b, bool detail);
int vstub_nl_fill_status(struct sk_buff *skb);
int vstub_nl_fill_group(struct sk_buff *skb, struct pci_dev *pdev,
			struct netlink_ext_ack *extack);

#endif /* _VSTUB_NL_H */
