/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub internal interfaces shared between the module's files.
 *
 * Lock order (outer first); this is the one place it is written down, every
 * lock's own comment says what it protects:
 *   vstub_ctl_lock -> device_lock(&pdev->dev) -> vstub_devs_lock
 *   device_lock(&pdev->dev) -> vstub_group.lock -> vstub_groups_lock
 *   device_lock(&pdev->dev) -> vstub_vdev.lock (a PF to D0 before its
 *     VFs are created, sriov_configure)
 *   vstub_group.lock -> vstub_vdev.lock       (opening a device file)
 *   vstub_group.lock -> vstub_container.lock  (attach, detach, teardown)
 *   vstub_container.lock -> the IOMMU group's own mutex
 *   vstub_container.lock -> vstub_vdev.lock   (peer-to-peer MAP_DMA of a BAR)
 *   vstub_container.lock -> an mm's mmap_lock (locked_vm when unpinning);
 *     nothing of vstub is taken under an mmap_lock except vstub_vdev.lock in
 *     the BAR fault handler, and no user copy is made holding
 *     vstub_vdev.lock.
 *   vstub_vdev.lock is never held while taking a group or container lock.
 *   The VGA arbiter's vga_get() (a VGA range, which another VGA user may
 *     hold for long) -> vstub_vdev.lock (VGA region read/write); never the
 *     other way round.
 *   Several vstub_vdev.lock are held at once only by the hot reset
 *   (vstub_reset.c), which takes them with mutex_trylock (EBUSY on
 *   contention, as vfio-pci) and holds no other vstub lock meanwhile.
 *   Leaves (nothing is taken under them): vstub_ids_lock, vstub_bdfs_lock,
 *   vstub_nl_lock, vstub_p2p_lock (under vstub_vdev.lock, and under
 *   vstub_container.lock at unmap), vstub_sriov_lock (the VF tokens;
 *   under vstub_group.lock at GET_DEVICE_FD and under vstub_vdev.lock at
 *   first open / last close; under vstub_devs_lock in
 *   the netlink reports), and the spinlocks vstub_irqs.lock
 *   (under vstub_vdev.lock; also the INTx handler and the PCI error
 *   callback), vstub_vdev.holders_lock and vstub_group.stats_lock (under
 *   vstub_devs_lock or a device_lock in the netlink reports).
 * A tenant cannot stall the others: no group or container lock is held
 * while waiting on userspace (MAP_DMA pins the pages with no vstub lock
 * held, killably), the ioctls wait for those locks killably, and
 * vstub_devs_lock and vstub_groups_lock are never held while waiting for
 * them (the netlink reports read VFIO state under the leaf spinlocks).
 *   The PCI core takes device_lock around probe/remove; vstub never sleeps
 *   on a device_lock from its file operations (only the try-variants of the
 *   PCI reset helpers); the remove path, which holds device_lock, resets
 *   with pci_reset_function_locked().  Netlink takes a device_lock only for
 *   a device vstub has not captured.
 */
#ifndef _VSTUB_H
#define _VSTUB_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/uidgid.h>

#define VSTUB_DRV_NAME		"vstub"
#define VSTUB_DRIVER_NAME_MAX	64

/* Why a device is (or would be) captured. */
enum vstub_reason {
	VSTUB_REASON_NONE = 0,
	VSTUB_REASON_ID,	/* matched an entry of the ID table */
	VSTUB_REASON_BDF,	/* explicitly captured by its address */
	VSTUB_REASON_NEW_ID,	/* matched the PCI core's new_id dynamic IDs */
	VSTUB_REASON_VF,	/* an SR-IOV VF of a PF that vstub holds */
};

/*
 * Who a captured function is given to: its group node is created owned by
 * @uid (mode 0600), or by @gid too (mode 0660) when @gid is valid.  An
 * invalid @uid and @gid mean root only.
 */
struct vstub_owner {
	kuid_t uid;
	kgid_t gid;
};

#define VSTUB_NO_OWNER	((struct vstub_owner){ INVALID_UID, INVALID_GID })

static inline bool vstub_owner_set(const struct vstub_owner *o)
{
	return uid_valid(o->uid) || gid_valid(o->gid);
}

/**
 * struct vstub_dev - one PCI function bound to vstub
 * @pdev:        the function (a reference is held while bound)
 * @node:        entry on vstub_devs, protected by vstub_devs_lock
 * @reason:      why it was captured
 * @orig_driver: driver bound before vstub captured it ("" if none);
 *               written at probe under device_lock, read-only afterwards
 * @owner:       who the function was given to (BDF captures only);
 *               written at probe, read-only afterwards
 * @vfio:        private state of the VFIO personality (vstub_vfio_*.c)
 */
struct vstub_dev {
	struct pci_dev *pdev;
	struct list_head node;
	enum vstub_reason reason;
	char orig_driver[VSTUB_DRIVER_NAME_MAX];
	struct vstub_owner owner;
	void *vfio;
};

/* vstub_ids.c: the vendor:device ID table */
struct vstub_id {
	struct list_head node;		/* on the ID table, under vstub_ids_lock */
	struct pci_device_id id;
};

int vstub_id_parse(const char *str, struct pci_device_id *id);
int vstub_id_add(const struct pci_device_id *id);
int vstub_id_del(const struct pci_device_id *id);
bool vstub_id_match(struct pci_dev *pdev);
int vstub_id_format(const struct pci_device_id *id, char *buf, size_t len);
ssize_t vstub_ids_show(char *buf, size_t len);
unsigned int vstub_ids_count(void);
int vstub_id_nth(unsigned int n, struct pci_device_id *id);
void vstub_ids_clear(void);
void vstub_ids_param_apply(void);

/* vstub_pci.c: the stub driver and capture/release */
extern struct pci_driver vstub_pci_driver;
extern struct mutex vstub_ctl_lock;
extern struct mutex vstub_devs_lock;
extern struct list_head vstub_devs;

/*
 * Control operations shared by sysfs and netlink.  On failure *@msg (@msg
 * must not be NULL) points to a static sentence suitable for an extack or a
 * log line; the operations log nothing themselves on user errors.
 */
int vstub_parse_bdf(const char *str, unsigned int *domain, unsigned int *bus,
		    unsigned int *devfn);
int vstub_capture_bdf(unsigned int domain, unsigned int bus,
		      unsigned int devfn, const struct vstub_owner *owner,
		      const char **msg);
int vstub_release_bdf(unsigned int domain, unsigned int bus,
		      unsigned int devfn, const char **msg);
int vstub_ids_add(const char *str, const char **msg);
int vstub_ids_del(const char *str, const char **msg);
void vstub_capture_matching(void);
void vstub_release_all(void);
int vstub_pci_init(void);
void vstub_pci_exit(void);

/* vstub_sysfs.c: driver attributes under /sys/bus/pci/drivers/vstub/ */
extern const struct attribute_group *vstub_drv_groups[];

/*
 * vstub_vfio_*.c: the VFIO personality.  add is called from probe and
 * remove from the PCI remove callback, both with device_lock held; remove
 * must not return while anything it set up for the device is still in use.
 */
#ifndef VSTUB_NO_VFIO
int vstub_vfio_init(void);
void vstub_vfio_exit(void);
int vstub_vfio_add_dev(struct vstub_dev *vdev);
void vstub_vfio_remove_dev(struct vstub_dev *vdev);
/* An AER error was detected on the device (PCI error callback). */
void vstub_vfio_error(struct vstub_dev *vdev);
/* May VFs be created on this PF now?  0 or -errno (sriov_configure). */
int vstub_vfio_sriov_allowed(struct vstub_dev *vdev);
#else
static inline int vstub_vfio_init(void) { return 0; }
static inline void vstub_vfio_exit(void) { }
static inline int vstub_vfio_add_dev(struct vstub_dev *vdev) { return 0; }
static inline void vstub_vfio_remove_dev(struct vstub_dev *vdev) { }
static inline void vstub_vfio_error(struct vstub_dev *vdev) { }
static inline int vstub_vfio_sriov_allowed(struct vstub_dev *vdev)
{
	return 0;
}
#endif

/*
 * vstub_netlink.c: the generic netlink family "vstub".  init is called
 * after the PCI driver is up and exit before it goes down.
 * vstub_nl_notify_*() may be called from any sleeping context.
 */
#include "uapi/vstub.h"

/*
 * What the VFIO personality knows about a captured device, for the
 * netlink device reports.  vstub_vfio_nl_stats() fills @st and returns
 * true, or returns false when it has nothing to say (no VFIO interface
 * for the device).  Called with vstub_devs_lock held: it may only read
 * counters under its own leaf locks.
 */
#define VSTUB_NL_MAX_HOLDERS	4

struct vstub_vfio_holder {
	pid_t pid;		/* in the requester's PID namespace */
	char comm[16];		/* TASK_COMM_LEN */
	u64 locked_pages;	/* its mm's locked_vm */
	u64 memlock_limit;	/* RLIMIT_MEMLOCK (soft), bytes */
	bool ipc_lock;		/* CAP_IPC_LOCK: no limit applies */
};

struct vstub_vfio_stats {
	bool open;		/* a VFIO device fd is open */
	u64 pinned_pages;	/* pages pinned for DMA on its behalf */
	u64 mappings;		/* DMA mappings of its container */
	bool sriov_pf;		/* an SR-IOV PF (it has a VF token) */
	bool vf_token_set;	/* a user set that token */
	unsigned int nr_holders;	/* processes with a device file */
	unsigned int nr_shown;		/* entries of @holders filled */
	struct vstub_vfio_holder holders[VSTUB_NL_MAX_HOLDERS];
};

#ifndef VSTUB_NO_NL
int vstub_nl_init(void);
void vstub_nl_exit(void);
/* @cmd: VSTUB_CMD_CAPTURED or VSTUB_CMD_RELEASED; device_lock held. */
void vstub_nl_notify_dev(struct pci_dev *pdev, u8 cmd);
/* @id: the ID as written; @cmd: VSTUB_CMD_ID_ADDED or VSTUB_CMD_ID_REMOVED. */
void vstub_nl_notify_id(const char *id, u8 cmd);
#else
static inline int vstub_nl_init(void) { return 0; }
static inline void vstub_nl_exit(void) { }
static inline void vstub_nl_notify_dev(struct pci_dev *pdev, u8 cmd) { }
static inline void vstub_nl_notify_id(const char *id, u8 cmd) { }
#endif
#ifndef VSTUB_NO_VFIO
bool vstub_vfio_nl_stats(struct vstub_dev *vdev, struct vstub_vfio_stats *st);
#else
static inline bool vstub_vfio_nl_stats(struct vstub_dev *vdev,
				       struct vstub_vfio_stats *st)
{
	return false;
}
#endif

#endif /* _VSTUB_H */
