// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_sriov.c - the SR-IOV VF token, as vfio-pci has it.
 *
 * A PF and its VFs are not isolated from each other: the PF's user can
 * reset the VFs with the PF (an FLR of the PF disables SR-IOV), and a PF
 * driver can often see or deny what goes through a VF.  So, as vfio-pci,
 * vstub lets a VF of a PF bound to vstub be opened only by whoever knows a
 * secret UUID, the VF token, set by the PF's user:
 *
 *   - the PF's user sets it with VFIO_DEVICE_FEATURE(PCI_VF_TOKEN, SET)
 *     (never readable back), or by opening the PF as "BDF vf_token=UUID"
 *     while no VF is open;
 *   - a VF opens only as "BDF vf_token=UUID" with that token (-EACCES
 *     otherwise), whether or not the PF is open at the moment;
 *   - while a VF is open, the PF opens only with the token too, so a new
 *     PF user must prove it cooperates with the VF users;
 *   - a token given where none is used (a function without SR-IOV, a VF
 *     whose PF is on another driver) is -EINVAL; such a VF opens without.
 *
 * The token starts random (uuid_gen) when the PF is bound, so no VF opens
 * until a PF user has set one.  It lives in struct vstub_vf_token, owned by
 * the PF's vdev and found by its VFs through a registry of bound PFs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "vstub_vfio.h"
#include "vstub_sriov.h"

/**
 * struct vstub_vf_token - the VF token of one PF bound to vstub
 * @kref:  lifetime: one reference held by the PF's vdev (vdev->vf_token),
 *         one by every VF's vdev while that VF is open (vdev->pf_token)
 * @node:  on vstub_vf_tokens while the PF is bound to vstub
 * @pf:    the PF (a reference is held)
 * @uuid:  the token
 * @set:   a user set @uuid (it is no longer the random initial one)
 * @users: VFs of @pf open through vstub (first open to last close)
 *
 * @node, @uuid, @set and @users are protected by vstub_sriov_lock.
 */
struct vstub_vf_token {
	struct kref kref;
	struct list_head node;
	struct pci_dev *pf;
	uuid_t uuid;
	bool set;
	unsigned int users;
};

/*
 * vstub_sriov_lock protects the registry vstub_vf_tokens and every
 * token's fields.  A leaf: taken under vstub_group.lock (GET_DEVICE_FD)
 * and vstub_vdev.lock (first open, last close), nothing under it.
 */
static DEFINE_MUTEX(vstub_sriov_lock);
static LIST_HEAD(vstub_vf_tokens);

#define VSTUB_VF_TOKEN_ARG	"vf_token="

static void vstub_vf_token_release(struct kref *kref)
{
	struct vstub_vf_token *t = container_of(kref, struct vstub_vf_token,
						kref);

	WARN_ON(t->users || !list_empty(&t->node));
	pci_dev_put(t->pf);
	kfree(t);
}

int vstub_sriov_init(struct vstub_vdev *vdev, struct pci_dev *pdev)
{
	struct vstub_vf_token *t;

	if (!pdev->is_physfn)
		return 0;
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	kref_init(&t->kref);
	t->pf = pci_dev_get(pdev);
	uuid_gen(&t->uuid);
	mutex_lock(&vstub_sriov_lock);
	list_add_tail(&t->node, &vstub_vf_tokens);
	mutex_unlock(&vstub_sriov_lock);
	vdev->vf_token = t;
	return 0;
}

void vstub_sriov_unbind(struct vstub_vdev *vdev)
{
	struct vstub_vf_token *t = vdev->vf_token;

	if (!t)
		return;
	mutex_lock(&vstub_sriov_lock);
	list_del_init(&t->node);
	mutex_unlock(&vstub_sriov_lock);
}

void vstub_sriov_exit(struct vstub_vdev *vdev)
{
	struct vstub_vf_token *t = vdev->vf_token;

	if (!t)
		return;
	vstub_sriov_unbind(vdev);
	vdev->vf_token = NULL;
	kref_put(&t->kref, vstub_vf_token_release);
}

/* The token of @vf's PF if that PF is bound to vstub; vstub_sriov_lock held. */
static struct vstub_vf_token *vstub_pf_token_locked(struct pci_dev *vf)
{
	struct pci_dev *pf = pci_physfn(vf);
	struct vstub_vf_token *t;

	lockdep_assert_held(&vstub_sriov_lock);
	list_for_each_entry(t, &vstub_vf_tokens, node)
		if (t->pf == pf)
			return t;
	return NULL;
}

/* May @vdev be opened with (@has_token) or without the token @uuid? */
static int vstub_sriov_check(struct vstub_vdev *vdev, bool has_token,
			     const uuid_t *uuid)
{
	struct pci_dev *pdev = vdev->pdev;
	struct vstub_vf_token *t;
	int ret = 0;

	if (!pdev->is_virtfn && !vdev->vf_token) {
		if (!has_token)
			return 0;
		pci_info_ratelimited(pdev, "VF token given, but this function is neither an SR-IOV PF nor a VF of one bound to vstub: open it by its address alone\n");
		return -EINVAL;
	}

	mutex_lock(&vstub_sriov_lock);
	if (pdev->is_virtfn) {
		t = vstub_pf_token_locked(pdev);
		if (!t) {
			/* The PF is on another driver (or none): no token. */
			if (has_token) {
				pci_info_ratelimited(pdev, "VF token given, but the PF %s is not bound to vstub: open the VF by its address alone\n",
						     pci_name(pci_physfn(pdev)));
				ret = -EINVAL;
			}
		} else if (!has_token) {
			pci_info_ratelimited(pdev, "VF token required: the PF %s is bound to vstub; open the VF as \"%s vf_token=UUID\" with the token its user set\n",
					     pci_name(t->pf), pci_name(pdev));
			ret = -EACCES;
		} else if (!uuid_equal(uuid, &t->uuid)) {
			pci_info_ratelimited(pdev, "incorrect VF token for this VF (it is the one the user of PF %s set)\n",
					     pci_name(t->pf));
			ret = -EACCES;
		}
	} else {
		t = vdev->vf_token;
		if (t->users) {
			if (!has_token) {
				pci_info_ratelimited(pdev, "VF token required: %u VF(s) of this PF are open; open it as \"%s vf_token=UUID\" with their token\n",
						     t->users, pci_name(pdev));
				ret = -EACCES;
			} else if (!uuid_equal(uuid, &t->uuid)) {
				pci_info_ratelimited(pdev, "incorrect VF token for this PF (its VFs are open with another one)\n");
				ret = -EACCES;
			}
		} else if (has_token) {
			/* No VF in use: the PF's user sets the token. */
			uuid_copy(&t->uuid, uuid);
			t->set = true;
		}
	}
	mutex_unlock(&vstub_sriov_lock);
	return ret;
}

int vstub_sriov_match(struct vstub_vdev *vdev, const char *name)
{
	const char *bdf = pci_name(vdev->pdev);
	size_t len = strlen(bdf);
	bool has_token = false;
	uuid_t uuid;
	int ret;

	if (strncmp(name, bdf, len))
		return 0;
	name += len;
	if (*name && *name != ' ')
		return 0;	/* another name that starts with this one */

	/* Options after the name, separated by spaces: "vf_token=UUID" once. */
	while (*name) {
		if (*name == ' ') {
			name++;
			continue;
		}
		if (has_token || strncmp(name, VSTUB_VF_TOKEN_ARG,
					 strlen(VSTUB_VF_TOKEN_ARG)))
			return -EINVAL;	/* unknown or repeated option */
		name += strlen(VSTUB_VF_TOKEN_ARG);
		if (strlen(name) < UUID_STRING_LEN)
			return -EINVAL;
		ret = uuid_parse(name, &uuid);
		if (ret)
			return ret;
		has_token = true;
		name += UUID_STRING_LEN;
	}

	ret = vstub_sriov_check(vdev, has_token, &uuid);
	return ret ? ret : 1;
}

void vstub_sriov_open(struct vstub_vdev *vdev)
{
	struct vstub_vf_token *t;

	lockdep_assert_held(&vdev->lock);
	if (!vdev->pdev->is_virtfn || WARN_ON(vdev->pf_token))
		return;
	mutex_lock(&vstub_sriov_lock);
	t = vstub_pf_token_locked(vdev->pdev);
	if (t) {
		kref_get(&t->kref);
		t->users++;
		vdev->pf_token = t;
	}
	mutex_unlock(&vstub_sriov_lock);
}

void vstub_sriov_close(struct vstub_vdev *vdev)
{
	struct vstub_vf_token *t = vdev->pf_token;

	lockdep_assert_held(&vdev->lock);
	if (!t)
		return;
	mutex_lock(&vstub_sriov_lock);
	WARN_ON(!t->users);
	t->users--;
	mutex_unlock(&vstub_sriov_lock);
	vdev->pf_token = NULL;
	kref_put(&t->kref, vstub_vf_token_release);
}

bool vstub_sriov_token_set(struct vstub_vdev *vdev)
{
	bool set = false;

	if (vdev->vf_token) {
		mutex_lock(&vstub_sriov_lock);
		set = vdev->vf_token->set;
		mutex_unlock(&vstub_sriov_lock);
	}
	return set;
}

/*
 * The checks every feature shares, as the VFIO core's: @ops the GET/SET a
 * feature supports, @minsz its payload.  1 to go on, 0 (PROBE: supported)
 * or -EINVAL.
 */
static int vstub_feature_check(u32 flags, size_t argsz, u32 ops, size_t minsz)
{
	if (flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET) & ~ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

/* PCI_VF_TOKEN: SET only (a GET would show the previous user's token). */
static int vstub_feature_vf_token(struct vstub_vdev *vdev, u32 flags,
				  void __user *data, size_t argsz)
{
	struct vstub_vf_token *t = vdev->vf_token;
	uuid_t uuid;
	int ret;

	if (!t)
		return -ENOTTY;	/* not an SR-IOV PF */
	ret = vstub_feature_check(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				  sizeof(uuid));
	if (ret != 1)
		return ret;
	if (copy_from_user(&uuid, data, sizeof(uuid)))
		return -EFAULT;
	mutex_lock(&vstub_sriov_lock);
	uuid_copy(&t->uuid, &uuid);
	t->set = true;
	mutex_unlock(&vstub_sriov_lock);
	return 0;
}

/*
 * VFIO_DEVICE_FEATURE, validated as the VFIO core does.  The only feature
 * vstub offers is PCI_VF_TOKEN; every other one (migration, DMA logging,
 * low power) is -ENOTTY, vfio-pci's answer for a feature it lacks.
 */
int vstub_device_feature(struct vstub_vdev *vdev, void __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature __user *uf = arg;
	struct vfio_device_feature f;

	if (copy_from_user(&f, uf, minsz))
		return -EFAULT;
	if (f.argsz < minsz)
		return -EINVAL;
	if (f.flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
			VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET together only with PROBE. */
	if (!(f.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (f.flags & VFIO_DEVICE_FEATURE_SET) &&
	    (f.flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;

	switch (f.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
		return vstub_feature_vf_token(vdev, f.flags, uf->data,
					      f.argsz - minsz);
	default:
		return -ENOTTY;
	}
}
