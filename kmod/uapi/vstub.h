/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * vstub generic netlink control plane.
 *
 * Family "vstub" (VSTUB_GENL_NAME), version 1, multicast group "monitor".
 * Requests are validated strictly: an attribute a command does not list
 * below, a string that is too long or not NUL-terminated, or a wrong
 * integer width is rejected with EINVAL and an extended ack naming the
 * attribute.  Every rejection carries an extack message saying what was
 * wrong (NLMSGERR_ATTR_MSG) and, where an attribute is at fault, which one
 * (NLMSGERR_ATTR_OFFS, or NLMSGERR_ATTR_MISS_TYPE for a missing one).
 * Commands that change state need CAP_NET_ADMIN (GENL_ADMIN_PERM) and
 * CAP_SYS_ADMIN (like the sysfs files); reads are open to everyone.
 *
 * Strings are NUL-terminated.  A BDF is "DDDD:BB:DD.F" (or "BB:DD.F" in
 * domain 0) in hex, at most VSTUB_BDF_MAX_LEN - 1 characters; replies
 * always use the full form.  An ID is pci-stub's
 * "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]" in hex, at
 * most VSTUB_ID_MAX_LEN - 1 characters.
 *
 * VSTUB_CMD_ID_ADD (do, admin)
 *   Request:  VSTUB_A_ID
 *   Adds an ID to the table and captures every device matching it that has
 *   no driver.  EEXIST if present, EINVAL if malformed.
 *   Multicasts VSTUB_CMD_ID_ADDED.
 *
 * VSTUB_CMD_ID_DEL (do, admin)
 *   Request:  VSTUB_A_ID
 *   Removes an ID; devices it captured stay captured.  ENOENT if absent.
 *   Multicasts VSTUB_CMD_ID_REMOVED.
 *
 * VSTUB_CMD_ID_GET (dump)
 *   Request:  no attribute (any one is rejected, EINVAL).
 *   One message per ID:  VSTUB_A_ID (normalised)
 *
 * VSTUB_CMD_CAPTURE (do, admin)
 *   Request:  VSTUB_A_BDF, optional VSTUB_A_OWNER_UID, VSTUB_A_OWNER_GID
 *   Unbinds the function from its host driver (remembered), binds it to
 *   vstub and keeps capturing it at that address (also after hot-unplug
 *   and rescan) until released.  ENODEV no such device, EEXIST already
 *   captured, EINVAL a bridge or an ID that does not map to a user/group.
 *   Multicasts VSTUB_CMD_CAPTURED.
 *   OWNER_UID/OWNER_GID (initial user namespace) give the device to a
 *   user: when its group node appears (now, or after a hot-unplug and
 *   rescan while the capture lasts) devtmpfs creates it owned by that
 *   user (mode 0600) or group (mode 0660 when OWNER_GID is given), which
 *   is then allowed to use the group without privileges.  A group node
 *   that already exists (another member of the group was captured
 *   first) keeps the owner it was created with.  The owner is forgotten
 *   on release.
 *
 * VSTUB_CMD_RELEASE (do, admin)
 *   Request:  VSTUB_A_BDF
 *   Unbinds it from vstub and binds the original driver again (or lets
 *   the PCI core choose).  EINVAL not captured.  Multicasts
 *   VSTUB_CMD_RELEASED.
 *
 * VSTUB_CMD_DEV_GET (do, dump)
 *   do request:  VSTUB_A_BDF: any PCI function, captured or not.
 *   dump: every function bound to vstub.
 *   Reply (one per function):
 *     VSTUB_A_BDF, VSTUB_A_VENDOR, VSTUB_A_DEVICE, VSTUB_A_SUBVENDOR,
 *     VSTUB_A_SUBDEVICE, VSTUB_A_CLASS (24-bit class code),
 *     VSTUB_A_DRIVER (bound driver, absent if none),
 *     VSTUB_A_CAPTURED (u8 1 when bound to vstub),
 *     VSTUB_A_REASON (enum vstub_nl_reason, captured only),
 *     VSTUB_A_ORIG_DRIVER (driver before capture, absent if none),
 *     VSTUB_A_IOMMU_GROUP (absent without a group),
 *     VSTUB_A_IOMMU_UNIT (e.g. "dmar0", absent if unknown),
 *     VSTUB_A_DMA_MODE (enum vstub_dma_mode),
 *     VSTUB_A_ISOLATED_MSI (u8: interrupt remapping / MSI isolation),
 *     VSTUB_A_PHYSFN (BDF of the PF, VFs only),
 *     VSTUB_A_NUM_VFS, VSTUB_A_TOTAL_VFS (SR-IOV PFs only),
 *     VSTUB_A_VFIO_OPEN (u8), VSTUB_A_VFIO_PINNED_PAGES (u64),
 *     VSTUB_A_VFIO_MAPPINGS (u64), and for an SR-IOV PF
 *     VSTUB_A_VF_TOKEN_SET (u8: a user set its VF token, so its VFs can be
 *     opened by whoever knows it; the token itself is never reported)
 *     -- captured devices, only when the VFIO
 *     personality reports them and only to a caller with CAP_SYS_ADMIN.
 *     VSTUB_A_OWNER_UID, VSTUB_A_OWNER_GID (u32): the owner given at
 *     capture (absent if none), as seen from the requester's user
 *     namespace.
 *     VSTUB_A_NUM_HOLDERS (u32) (like the VFIO counters, only to a caller
 *     with CAP_SYS_ADMIN): processes that have a VFIO device file
 *     of the function open (with the VFIO personality), and
 *     VSTUB_A_HOLDERS: nest of (at most 4) VSTUB_A_HOLDER nests of
 *     VSTUB_HOLDER_A_*: PID (the process that opened the device file, in
 *     the requester's PID namespace; 0, with nothing else about it, if not
 *     visible there), COMM,
 *     LOCKED_PAGES (the process's locked_vm in pages: what the kernel
 *     counts against RLIMIT_MEMLOCK, VFIO pins included, the same number
 *     as VmLck in /proc/PID/status), MEMLOCK_LIMIT (its soft
 *     RLIMIT_MEMLOCK in bytes, VSTUB_MEMLOCK_UNLIMITED for none),
 *     IPC_LOCK (u8: it has CAP_IPC_LOCK, so the limit does not apply).
 *     Pinned pages are charged to the process that mapped them, which is
 *     usually, but not necessarily, the one holding the device.  The
 *     holders are read under a spinlock of the device only; a query never
 *     waits for a lock that a VFIO user can hold.
 *   do replies add VSTUB_A_RESV_REGIONS.
 *   What an unprivileged caller sees: what sysfs shows everyone (address,
 *   IDs, drivers, IOMMU group, unit, DMA mode, MSI isolation, reserved
 *   regions, SR-IOV counts, why vstub holds a device), never what another
 *   user's VFIO program does with it (open or not, memory it pinned, its
 *   mappings).  Notifications, which anyone may receive, never carry the
 *   VFIO attributes either.
 *
 * VSTUB_CMD_STATUS_GET (do)
 *   Request:  no attribute (any one is rejected, EINVAL).
 *   Reply: VSTUB_A_IOMMU_UNITS (nest of VSTUB_A_IOMMU_UNIT strings, the
 *          /sys/class/iommu devices), VSTUB_A_NUM_GROUPS (distinct IOMMU
 *          groups of PCI functions), VSTUB_A_NUM_PCI (PCI functions),
 *          VSTUB_A_NUM_TRANSLATED (functions whose DMA is translated),
 *          VSTUB_A_NUM_ISOLATED_MSI (functions in a group with isolated
 *          MSI), VSTUB_A_NUM_CAPTURED, VSTUB_A_NUM_IDS.
 *   Interrupt remapping is on when NUM_ISOLATED_MSI == NUM_GROUPED > 0
 *   (VSTUB_A_NUM_GROUPED: functions that have a group).
 *
 * VSTUB_CMD_GROUP_GET (do) -- "why is this group (not) viable?"
 *   Request:  VSTUB_A_BDF (any member)
 *   Reply:    VSTUB_A_BDF (as asked), VSTUB_A_IOMMU_GROUP,
 *             VSTUB_A_VIABLE (u8: no member blocks), VSTUB_A_DMA_MODE,
 *             VSTUB_A_ISOLATED_MSI, VSTUB_A_RESV_REGIONS,
 *             VSTUB_A_MEMBERS: nest of VSTUB_A_MEMBER nests of
 *             VSTUB_MEMBER_A_*: NAME (device name, a BDF for PCI),
 *             DRIVER (absent if unbound), CAPTURED (u8), BLOCKS (u8: bound
 *             to a driver that uses the kernel DMA API), TEXT (why).
 *   ENODEV no such device, ENOENT no IOMMU group.
 *
 * VSTUB_CMD_SRIOV_SET (do, admin)
 *   Request:  VSTUB_A_BDF (a PF captured by vstub), VSTUB_A_NUM_VFS
 *   Creates that many VFs (0 removes them); they are captured by vstub
 *   (reason VF) before any host driver can probe them.  EBUSY when VFs
 *   exist and NUM_VFS is another non-zero value, ERANGE above TOTAL_VFS,
 *   EOPNOTSUPP not an SR-IOV PF, EINVAL not captured.
 *   Reply:    VSTUB_A_BDF, VSTUB_A_NUM_VFS (VFs now enabled).
 *
 * Notifications on the "monitor" group (never accepted as requests):
 * VSTUB_CMD_CAPTURED, VSTUB_CMD_RELEASED
 *   VSTUB_A_BDF, VSTUB_A_VENDOR, VSTUB_A_DEVICE, VSTUB_A_REASON,
 *   VSTUB_A_ORIG_DRIVER (if any), VSTUB_A_IOMMU_GROUP (if any).
 *   RELEASED is sent as vstub starts to give the device back.
 * VSTUB_CMD_ID_ADDED, VSTUB_CMD_ID_REMOVED
 *   VSTUB_A_ID
 */
#ifndef _UAPI_VSTUB_H
#define _UAPI_VSTUB_H

#define VSTUB_GENL_NAME			"vstub"
#define VSTUB_GENL_VERSION		1
#define VSTUB_GENL_MCGRP_MONITOR	"monitor"

#define VSTUB_BDF_MAX_LEN		16	/* including the NUL */
#define VSTUB_ID_MAX_LEN		64	/* including the NUL */
#define VSTUB_NAME_MAX_LEN		64	/* driver and device names */

enum vstub_cmd {
	VSTUB_CMD_UNSPEC,
	VSTUB_CMD_ID_ADD,
	VSTUB_CMD_ID_DEL,
	VSTUB_CMD_ID_GET,
	VSTUB_CMD_CAPTURE,
	VSTUB_CMD_RELEASE,
	VSTUB_CMD_DEV_GET,
	VSTUB_CMD_STATUS_GET,
	VSTUB_CMD_GROUP_GET,
	VSTUB_CMD_SRIOV_SET,
	/* notifications */
	VSTUB_CMD_CAPTURED,
	VSTUB_CMD_RELEASED,
	VSTUB_CMD_ID_ADDED,
	VSTUB_CMD_ID_REMOVED,
	__VSTUB_CMD_MAX
};

#define VSTUB_CMD_MAX (__VSTUB_CMD_MAX - 1)

enum vstub_attr {
	VSTUB_A_UNSPEC,
	VSTUB_A_PAD,
	VSTUB_A_ID,			/* NUL string */
	VSTUB_A_BDF,			/* NUL string */
	VSTUB_A_VENDOR,			/* u16 */
	VSTUB_A_DEVICE,			/* u16 */
	VSTUB_A_SUBVENDOR,		/* u16 */
	VSTUB_A_SUBDEVICE,		/* u16 */
	VSTUB_A_CLASS,			/* u32 */
	VSTUB_A_DRIVER,			/* NUL string */
	VSTUB_A_CAPTURED,		/* u8 */
	VSTUB_A_REASON,			/* u8, enum vstub_nl_reason */
	VSTUB_A_ORIG_DRIVER,		/* NUL string */
	VSTUB_A_IOMMU_GROUP,		/* u32 */
	VSTUB_A_IOMMU_UNIT,		/* NUL string */
	VSTUB_A_DMA_MODE,		/* u8, enum vstub_dma_mode */
	VSTUB_A_ISOLATED_MSI,		/* u8 */
	VSTUB_A_PHYSFN,			/* NUL string (BDF) */
	VSTUB_A_NUM_VFS,		/* u32 */
	VSTUB_A_TOTAL_VFS,		/* u32 */
	VSTUB_A_VFIO_OPEN,		/* u8 */
	VSTUB_A_VFIO_PINNED_PAGES,	/* u64 */
	VSTUB_A_VFIO_MAPPINGS,		/* u64 */
	VSTUB_A_RESV_REGIONS,		/* nest of VSTUB_A_RESV_REGION */
	VSTUB_A_RESV_REGION,		/* nest, enum vstub_resv_attr */
	VSTUB_A_IOMMU_UNITS,		/* nest of VSTUB_A_IOMMU_UNIT */
	VSTUB_A_NUM_GROUPS,		/* u32 */
	VSTUB_A_NUM_PCI,		/* u32 */
	VSTUB_A_NUM_GROUPED,		/* u32 */
	VSTUB_A_NUM_TRANSLATED,		/* u32 */
	VSTUB_A_NUM_ISOLATED_MSI,	/* u32 */
	VSTUB_A_NUM_CAPTURED,		/* u32 */
	VSTUB_A_NUM_IDS,		/* u32 */
	VSTUB_A_VIABLE,			/* u8 */
	VSTUB_A_MEMBERS,		/* nest of VSTUB_A_MEMBER */
	VSTUB_A_MEMBER,			/* nest, enum vstub_member_attr */
	VSTUB_A_OWNER_UID,		/* u32 */
	VSTUB_A_OWNER_GID,		/* u32 */
	VSTUB_A_HOLDERS,		/* nest of VSTUB_A_HOLDER */
	VSTUB_A_HOLDER,			/* nest, enum vstub_holder_attr */
	VSTUB_A_NUM_HOLDERS,		/* u32 */
	VSTUB_A_VF_TOKEN_SET,		/* u8 */
	__VSTUB_A_MAX
};

#define VSTUB_A_MAX (__VSTUB_A_MAX - 1)

/* Inside VSTUB_A_RESV_REGION: an IOVA range the IOMMU reserves. */
enum vstub_resv_attr {
	VSTUB_RESV_A_UNSPEC,
	VSTUB_RESV_A_PAD,
	VSTUB_RESV_A_START,		/* u64 */
	VSTUB_RESV_A_LENGTH,		/* u64 */
	VSTUB_RESV_A_TYPE,		/* u8, enum vstub_resv_type */
	__VSTUB_RESV_A_MAX
};

#define VSTUB_RESV_A_MAX (__VSTUB_RESV_A_MAX - 1)

/* Inside VSTUB_A_MEMBER: one device of an IOMMU group. */
enum vstub_member_attr {
	VSTUB_MEMBER_A_UNSPEC,
	VSTUB_MEMBER_A_NAME,		/* NUL string */
	VSTUB_MEMBER_A_DRIVER,		/* NUL string */
	VSTUB_MEMBER_A_CAPTURED,	/* u8 */
	VSTUB_MEMBER_A_BLOCKS,		/* u8 */
	VSTUB_MEMBER_A_TEXT,		/* NUL string */
	__VSTUB_MEMBER_A_MAX
};

#define VSTUB_MEMBER_A_MAX (__VSTUB_MEMBER_A_MAX - 1)

/* Inside VSTUB_A_HOLDER: a process that has a VFIO device file open. */
enum vstub_holder_attr {
	VSTUB_HOLDER_A_UNSPEC,
	VSTUB_HOLDER_A_PAD,
	VSTUB_HOLDER_A_PID,		/* u32 */
	VSTUB_HOLDER_A_COMM,		/* NUL string */
	VSTUB_HOLDER_A_LOCKED_PAGES,	/* u64 */
	VSTUB_HOLDER_A_MEMLOCK_LIMIT,	/* u64 */
	VSTUB_HOLDER_A_IPC_LOCK,	/* u8 */
	__VSTUB_HOLDER_A_MAX
};

#define VSTUB_HOLDER_A_MAX (__VSTUB_HOLDER_A_MAX - 1)

/* VSTUB_HOLDER_A_MEMLOCK_LIMIT of a process without a limit. */
#define VSTUB_MEMLOCK_UNLIMITED		(~0ULL)

/* Why vstub holds a device (VSTUB_A_REASON). */
enum vstub_nl_reason {
	VSTUB_NL_REASON_NONE,
	VSTUB_NL_REASON_ID,		/* matched the ID table */
	VSTUB_NL_REASON_BDF,		/* captured by its address */
	VSTUB_NL_REASON_NEW_ID,		/* the PCI core's new_id */
	VSTUB_NL_REASON_VF,		/* a VF of a PF that vstub holds */
};

/* How a device's DMA reaches memory (VSTUB_A_DMA_MODE). */
enum vstub_dma_mode {
	VSTUB_DMA_NO_IOMMU,		/* no IOMMU group: not translated */
	VSTUB_DMA_TRANSLATED,		/* kernel DMA domain (DMA, DMA-FQ) */
	VSTUB_DMA_PASSTHROUGH,		/* identity domain (iommu=pt) */
	VSTUB_DMA_BLOCKED,		/* all DMA blocked */
	VSTUB_DMA_UNMANAGED,		/* a domain owned by a user (VFIO) */
	VSTUB_DMA_OTHER,		/* a domain type vstub does not know */
};

/* Reserved IOVA region types (VSTUB_RESV_A_TYPE), as the kernel's. */
enum vstub_resv_type {
	VSTUB_RESV_DIRECT,		/* identity-mapped, e.g. RMRR */
	VSTUB_RESV_DIRECT_RELAXABLE,
	VSTUB_RESV_RESERVED,		/* never mappable */
	VSTUB_RESV_MSI,			/* hardware MSI window */
	VSTUB_RESV_SW_MSI,		/* software-managed MSI window */
	VSTUB_RESV_OTHER,
};

#endif /* _UAPI_VSTUB_H */
