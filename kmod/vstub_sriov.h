/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_sriov.h - the SR-IOV VF token (vstub_sriov.c), vfio-pci's model:
 * a PF bound to vstub carries a secret UUID that its user sets; a user of
 * one of its VFs must present it ("BDF vf_token=UUID" at GET_DEVICE_FD),
 * and so must a new user of the PF while any of its VFs is open.
 */
#ifndef _VSTUB_SRIOV_H
#define _VSTUB_SRIOV_H

#include <linux/pci.h>
#include <linux/types.h>

struct vstub_vdev;
struct vstub_vf_token;

/*
 * PF: create the token (random, as vfio-pci) when the function has the
 * SR-IOV capability; 0 or -ENOMEM.  Called before the vdev is visible.
 */
int vstub_sriov_init(struct vstub_vdev *vdev, struct pci_dev *pdev);
/* The PF left vstub: its VFs no longer need (or take) a token. */
void vstub_sriov_unbind(struct vstub_vdev *vdev);
/* The vdev is freed: drop its reference to its own token. */
void vstub_sriov_exit(struct vstub_vdev *vdev);

/*
 * GET_DEVICE_FD: does @name ("BDF" or "BDF vf_token=UUID", as vfio-pci
 * parses it) name @vdev, and may it be opened?  1 match, 0 no match,
 * -EINVAL (bad option or token where none is used), -EACCES (token
 * missing or wrong).  Group lock held.
 */
int vstub_sriov_match(struct vstub_vdev *vdev, const char *name);

/* First open / last close of a VF (vdev->lock held): counts VF users. */
void vstub_sriov_open(struct vstub_vdev *vdev);
void vstub_sriov_close(struct vstub_vdev *vdev);

/* VFIO_DEVICE_FEATURE on a device file. */
int vstub_device_feature(struct vstub_vdev *vdev, void __user *arg);

/* For the netlink report: the PF's token was set by a user. */
bool vstub_sriov_token_set(struct vstub_vdev *vdev);

#endif /* _VSTUB_SRIOV_H */
