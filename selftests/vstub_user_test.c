// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_user_test - a device given to an ordinary user, and the memlock
 * report.
 *
 *   - capture --owner: the group node is created owned by that user
 *     (through devtmpfs: no udev in the guest), the container node is
 *     0666, a device captured without an owner stays root-only;
 *   - a child that dropped every privilege (setresgid/setresuid to the
 *     owner, no capabilities) opens the container, group and device of
 *     the device given to it, maps memory and does a real edu DMA round
 *     trip, and gets EACCES on the group of a device that is not its own;
 *   - its RLIMIT_MEMLOCK applies (ENOMEM beyond it, as vfio_iommu_type1);
 *   - the netlink report (VSTUB_A_HOLDERS) names the process holding the
 *     device, with the locked_vm the kernel accounts (== VmLck of
 *     /proc/PID/status == the pinned pages it mapped) and its limit; and
 *     so does "vstubctl --json list";
 *   - the owner survives a hot-unplug and rescan, and a release and a
 *     capture by vstubctl that takes it from the configuration file.
 *
 * Runs as root in a QEMU guest of selftests/run.
 */
#include <grp.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"
#include "vstub.h"	/* kmod/uapi/vstub.h */

#define USER_ID		1000
#define GROUP_ID	1000
#define PG		4096UL
#define IOVA_A		0x100000ULL
#define DMA_LEN		4000
#define DMA_MS		10000
#define CONF		"/tmp/vstub-user-test.conf"

/* ---- the netlink report of one device ---------------------------------- */

struct holder {
	unsigned int pid;
	char comm[32];
	uint64_t locked_pages, limit;
	int ipc_lock;
};

struct report {
	int err, done, got;
	long owner_uid, owner_gid;
	long num_holders, pinned;
	int nh;
	struct holder h[4];
};

static int r_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct report *r = arg;

	(void)nla;
	r->err = e->error;
	r->done = 1;
	return NL_STOP;
}

static int r_fin(struct nl_msg *msg, void *arg)
{
	(void)msg;
	((struct report *)arg)->done = 1;
	return NL_STOP;
}

static int r_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[VSTUB_A_MAX + 1], *ht[VSTUB_HOLDER_A_MAX + 1], *a;
	struct report *r = arg;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, VSTUB_A_MAX, NULL))
		return NL_OK;
	r->got = 1;
	r->owner_uid = tb[VSTUB_A_OWNER_UID] ?
		       (long)nla_get_u32(tb[VSTUB_A_OWNER_UID]) : -1;
	r->owner_gid = tb[VSTUB_A_OWNER_GID] ?
		       (long)nla_get_u32(tb[VSTUB_A_OWNER_GID]) : -1;
	r->num_holders = tb[VSTUB_A_NUM_HOLDERS] ?
			 (long)nla_get_u32(tb[VSTUB_A_NUM_HOLDERS]) : -1;
	r->pinned = tb[VSTUB_A_VFIO_PINNED_PAGES] ?
		    (long)nla_get_u64(tb[VSTUB_A_VFIO_PINNED_PAGES]) : -1;
	if (!tb[VSTUB_A_HOLDERS])
		return NL_OK;
	nla_for_each_nested(a, tb[VSTUB_A_HOLDERS], rem) {
		struct holder *h = &r->h[r->nh];

		if (r->nh >= 4 || nla_parse_nested(ht, VSTUB_HOLDER_A_MAX, a, NULL))
			continue;
		h->pid = ht[VSTUB_HOLDER_A_PID] ? nla_get_u32(ht[VSTUB_HOLDER_A_PID]) : 0;
		vstub_strlcpy(h->comm, ht[VSTUB_HOLDER_A_COMM] ?
			      nla_get_string(ht[VSTUB_HOLDER_A_COMM]) : "",
			      sizeof(h->comm));
		h->locked_pages = ht[VSTUB_HOLDER_A_LOCKED_PAGES] ?
				  nla_get_u64(ht[VSTUB_HOLDER_A_LOCKED_PAGES]) : ~0ULL;
		h->limit = ht[VSTUB_HOLDER_A_MEMLOCK_LIMIT] ?
			   nla_get_u64(ht[VSTUB_HOLDER_A_MEMLOCK_LIMIT]) : 0;
		h->ipc_lock = ht[VSTUB_HOLDER_A_IPC_LOCK] ?
			      nla_get_u8(ht[VSTUB_HOLDER_A_IPC_LOCK]) : -1;
		r->nh++;
	}
	return NL_OK;
}

/*
 * Send @cmd for @bdf (with an owner when @uid >= 0) and collect the
 * reply in @r; returns the kernel's errno (negative) or 0.
 */
static int nl_cmd(uint8_t cmd, const char *bdf, long uid, struct report *r)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cb *cb;
	struct nl_msg *m;
	int fam;

	memset(r, 0, sizeof(*r));
	if (!sk || genl_connect(sk)) {
		nl_socket_free(sk);
		return -EIO;
	}
	fam = genl_ctrl_resolve(sk, VSTUB_GENL_NAME);
	m = nlmsg_alloc();
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (fam < 0 || !m || !cb) {
		r->err = -ENOENT;
		goto out;
	}
	genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, NLM_F_ACK, cmd,
		    VSTUB_GENL_VERSION);
	nla_put_string(m, VSTUB_A_BDF, bdf);
	if (uid >= 0 || uid == -2)
		nla_put_u32(m, VSTUB_A_OWNER_UID, uid == -2 ? 0xffffffffU : uid);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, r_valid, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, r_fin, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, r_fin, r);
	nl_cb_err(cb, NL_CB_CUSTOM, r_err, r);
	if (nl_send_auto(sk, m) < 0) {
		r->err = -EIO;
		goto out;
	}
	while (!r->done)
		if (nl_recvmsgs(sk, cb) < 0 && !r->done)
			r->err = -EIO, r->done = 1;
out:
	nlmsg_free(m);
	nl_cb_put(cb);
	nl_socket_free(sk);
	return r->err;
}

/* ---- helpers -------------------------------------------------------------- */

/* Owner and mode of a node, or -errno. */
static int node_stat(const char *path, uid_t *uid, gid_t *gid, mode_t *mode)
{
	struct stat st;
	int i;

	/* devtmpfs creates nodes asynchronously: give it a moment */
	for (i = 0; i < 50; i++) {
		if (!stat(path, &st)) {
			*uid = st.st_uid;
			*gid = st.st_gid;
			*mode = st.st_mode & 07777;
			return 0;
		}
		vstub_msleep(20);
	}
	return -errno;
}

static void group_path(const char *bdf, char *path, size_t len)
{
	snprintf(path, len, VSTUB_NODE_DIR "/%d", pci_iommu_group(bdf));
}

/* Become USER_ID:GROUP_ID with no supplementary groups and no capabilities. */
static int drop_privileges(void)
{
	if (setgroups(0, NULL) || setresgid(GROUP_ID, GROUP_ID, GROUP_ID) ||
	    setresuid(USER_ID, USER_ID, USER_ID))
		return -errno;
	return geteuid() == USER_ID ? 0 : -EPERM;
}

static int set_memlock(rlim_t bytes)
{
	struct rlimit rl = { bytes, bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl) ? -errno : 0;
}

/* Run a shell command; its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Wait for child @pid; its exit code, or 128 + signal. */
static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return 255;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the fixture: edu given to USER_ID, the NIC captured root-only ------- */

FIXTURE(user) {
	char edu[32], nic[32];
	char edu_node[64], nic_node[64];
	bool have_nic;
};

FIXTURE_SETUP(user)
{
	char params[64];
	int ret;

	if (pci_find(0x1234, 0x11e8, 0, self->edu, sizeof(self->edu)))
		SKIP(return, "no edu device");
	self->have_nic = !pci_find(0x8086, 0x10d3, 0, self->nic,
				   sizeof(self->nic));
	unlink(CONF);
	ASSERT_EQ(0, vstub_unload_if_loaded());
	snprintf(params, sizeof(params), "%s",
		 vstub_no_intremap() ? "allow_unsafe_interrupts=1" : "");
	ASSERT_EQ(0, vstub_load(params));
	/* edu through the helper, as an admin would give it to a user */
	ret = sh("VSTUB_CONF=" CONF " vstubctl --quiet capture %s --owner %d:%d",
		 self->edu, USER_ID, GROUP_ID);
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(pci_wait_driver(self->edu, "vstub", 5000));
	group_path(self->edu, self->edu_node, sizeof(self->edu_node));
	if (self->have_nic) {
		ASSERT_EQ(0, sh("vstubctl --quiet capture %s", self->nic));
		ASSERT_TRUE(pci_wait_driver(self->nic, "vstub", 5000));
		group_path(self->nic, self->nic_node, sizeof(self->nic_node));
	}
}

FIXTURE_TEARDOWN(user)
{
	unlink(CONF);
	vstub_unload_if_loaded();
}

/* The nodes: the owner's group node, the container for everyone, root's. */
TEST_F(user, nodes)
{
	struct report r;
	uid_t uid;
	gid_t gid;
	mode_t mode;

	ASSERT_EQ(0, node_stat(self->edu_node, &uid, &gid, &mode));
	EXPECT_EQ(USER_ID, uid);
	EXPECT_EQ(GROUP_ID, gid);
	EXPECT_EQ(0660, mode);
	ASSERT_EQ(0, node_stat(VSTUB_NODE_DIR "/vfio", &uid, &gid, &mode));
	EXPECT_EQ(0, uid);
	EXPECT_EQ(0666, mode);
	if (self->have_nic) {
		ASSERT_EQ(0, node_stat(self->nic_node, &uid, &gid, &mode));
		EXPECT_EQ(0, uid);
		EXPECT_EQ(0, gid);
		EXPECT_EQ(0600, mode);
	}
	/* the kernel reports who the device was given to */
	ASSERT_EQ(0, nl_cmd(VSTUB_CMD_DEV_GET, self->edu, -1, &r));
	EXPECT_EQ(USER_ID, r.owner_uid);
	EXPECT_EQ(GROUP_ID, r.owner_gid);
	EXPECT_EQ(0, r.num_holders);
	if (self->have_nic) {
		ASSERT_EQ(0, nl_cmd(VSTUB_CMD_DEV_GET, self->nic, -1, &r));
		EXPECT_EQ(-1, r.owner_uid);
		EXPECT_EQ(-1, r.owner_gid);
	}
	EXPECT_EQ(0, sh("vstubctl --json list %s | grep -q '\"owner_uid\":%d,\"owner_gid\":%d'",
			self->edu, USER_ID, GROUP_ID));
	if (self->have_nic)
		EXPECT_EQ(0, sh("vstubctl --json list %s | grep -q '\"owner_uid\":null,\"owner_gid\":null'",
				self->nic));
	/* and vstubctl says who may open what */
	EXPECT_EQ(0, sh("vstubctl list | grep -q '%s: mode 0660 .*user uid %d and group gid %d may open it'",
			self->edu_node, USER_ID, GROUP_ID));
	if (self->have_nic)
		EXPECT_EQ(0, sh("vstubctl list | grep -q '%s: mode 0600 .*only root may open it'",
				self->nic_node));
	/* status: every node, the container open to everyone */
	EXPECT_EQ(0, sh("vstubctl status | grep -q '%s .*user uid %d and group gid %d may open it'",
			self->edu_node, USER_ID, GROUP_ID));
	EXPECT_EQ(0, sh("vstubctl status | grep -q '" VSTUB_NODE_DIR "/vfio .*anyone may open it'"));
	EXPECT_EQ(0, sh("vstubctl --json status | grep -q '{\"path\":\"%s\",\"kind\":\"group\",\"uid\":%d,\"gid\":%d,\"mode\":%d}'",
			self->edu_node, USER_ID, GROUP_ID, 0660));
}

/* An owner that is no user: EINVAL with a reason, nothing captured. */
TEST_F(user, bad_owner)
{
	struct report r;

	ASSERT_EQ(0, sh("vstubctl --quiet release %s", self->edu));
	EXPECT_EQ(-EINVAL, nl_cmd(VSTUB_CMD_CAPTURE, self->edu, -2, &r));
	EXPECT_FALSE(pci_driver_is(self->edu, "vstub"));
	EXPECT_NE(0, sh("vstubctl --quiet capture %s --owner nosuchuser 2>/dev/null",
			self->edu));
	EXPECT_FALSE(pci_driver_is(self->edu, "vstub"));
}

/*
 * The child: unprivileged, it drives the device given to it and is refused
 * the other one.  Exit codes name the step that failed.
 */
static int nonroot_dma(const char *edu, const char *nic_node)
{
	struct vfio_ctx v;
	uint8_t *src, *dst;
	int ret, fd;

	if (drop_privileges())
		return 10;
	vfio_ctx_init(&v);
	ret = vfio_open_device(&v, VSTUB_NODE_DIR, edu, VFIO_TYPE1v2_IOMMU);
	if (ret)
		return 20 + (ret == -EACCES);
	src = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED)
		return 30;
	dst = src + PG;
	memset(src, 0x5a, PG);
	memset(dst, 0, PG);
	if (vfio_map(v.container, src, IOVA_A, 2 * PG, VFIO_RW))
		return 40;
	if (vfio_enable_dma(v.device))
		return 41;
	if (edu_dma(v.bar0, IOVA_A, EDU_DEV_BUF, DMA_LEN, 0, DMA_MS) ||
	    edu_dma(v.bar0, EDU_DEV_BUF, IOVA_A + PG, DMA_LEN, 1, DMA_MS))
		return 50;
	if (memcmp(src, dst, DMA_LEN))
		return 51;
	if (nic_node) {
		fd = open(nic_node, O_RDWR);
		if (fd >= 0 || errno != EACCES)
			return 60;
	}
	vfio_ctx_close(&v);
	return 0;
}

TEST_F(user, nonroot_dma)
{
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid)
		_exit(nonroot_dma(self->edu, self->have_nic ? self->nic_node : NULL));
	EXPECT_EQ(0, child_status(pid));
}

/* Root-only after a release and a capture without owner; the same uid is refused. */
static int nonroot_open(const char *node)
{
	int fd;

	if (drop_privileges())
		return 10;
	fd = open(node, O_RDWR);
	if (fd >= 0)
		return 0;
	return errno == EACCES ? 13 : 20;
}

/*
 * The owner stays with the capture across a hot-unplug and rescan (the
 * node is created again, owned by the user), is forgotten on release,
 * and comes back from the configuration file when vstubctl captures the
 * device again.
 */
TEST_F(user, owner_survives)
{
	char path[256];
	uid_t uid;
	gid_t gid;
	mode_t mode;
	pid_t pid;

	/* hot-unplug + rescan: vstub takes it again, with its owner */
	ASSERT_EQ(0, pci_attr_path(path, sizeof(path), self->edu, "remove"));
	ASSERT_EQ(0, sysfs_write(path, "1"));
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
	ASSERT_TRUE(pci_wait_driver(self->edu, "vstub", 5000));
	ASSERT_EQ(0, node_stat(self->edu_node, &uid, &gid, &mode));
	EXPECT_EQ(USER_ID, uid);
	EXPECT_EQ(0660, mode);

	/* release, capture through sysfs: no owner any more */
	ASSERT_EQ(0, vstub_write("release", self->edu));
	ASSERT_EQ(0, vstub_write("capture", self->edu));
	ASSERT_EQ(0, node_stat(self->edu_node, &uid, &gid, &mode));
	EXPECT_EQ(0, uid);
	EXPECT_EQ(0600, mode);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(nonroot_open(self->edu_node));
	EXPECT_EQ(13, child_status(pid));

	/* persisted owner: vstubctl capture takes it from the file */
	ASSERT_EQ(0, sh("vstubctl --quiet release %s", self->edu));
	ASSERT_EQ(0, sh("VSTUB_CONF=" CONF " VSTUB_MODPROBE_CONF=/tmp/vstub-user-test.modprobe vstubctl --quiet persist add bdf %s --owner %d",
			self->edu, USER_ID));
	ASSERT_EQ(0, sh("grep -q '^bdf %s owner=%d$' " CONF, self->edu, USER_ID));
	ASSERT_EQ(0, sh("VSTUB_CONF=" CONF " vstubctl --quiet capture %s", self->edu));
	ASSERT_EQ(0, node_stat(self->edu_node, &uid, &gid, &mode));
	EXPECT_EQ(USER_ID, uid);
	EXPECT_EQ(0, gid);
	EXPECT_EQ(0600, mode);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(nonroot_open(self->edu_node));
	EXPECT_EQ(0, child_status(pid));

	/* and so does "vstubctl apply", as at boot */
	ASSERT_EQ(0, sh("vstubctl --quiet release %s", self->edu));
	ASSERT_EQ(0, sh("VSTUB_CONF=" CONF " vstubctl --quiet apply --no-load"));
	ASSERT_TRUE(pci_wait_driver(self->edu, "vstub", 5000));
	ASSERT_EQ(0, node_stat(self->edu_node, &uid, &gid, &mode));
	EXPECT_EQ(USER_ID, uid);
	EXPECT_EQ(0600, mode);
	unlink("/tmp/vstub-user-test.modprobe");
}

/*
 * The memlock report against what the kernel accounts.  The child (no
 * privileges, RLIMIT_MEMLOCK = LIMIT) maps @step pages at a time when
 * told to through a pipe and reports back; the parent compares the
 * netlink numbers with the child's VmLck and the pages it mapped.
 */
#define LIMIT_PAGES	64
#define STEP_PAGES	8

static int memlock_child(const char *edu, int cmd_fd, int ack_fd)
{
	struct vfio_ctx v;
	uint8_t *buf;
	char c;
	int n = 0, ret;

	if (drop_privileges() || set_memlock(LIMIT_PAGES * PG))
		return 10;
	vfio_ctx_init(&v);
	if (vfio_open_device(&v, VSTUB_NODE_DIR, edu, VFIO_TYPE1v2_IOMMU))
		return 20;
	buf = mmap(NULL, (LIMIT_PAGES + 1) * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 30;
	memset(buf, 1, (LIMIT_PAGES + 1) * PG);
	c = 'r';
	if (write(ack_fd, &c, 1) != 1)
		return 31;
	while (read(cmd_fd, &c, 1) == 1) {
		if (c == 'q')
			break;
		if (c == 'm') {		/* map the next STEP_PAGES pages */
			ret = vfio_map(v.container, buf + n * PG,
				       IOVA_A + n * PG, STEP_PAGES * PG, VFIO_RW);
			n += STEP_PAGES;
		} else if (c == 'x') {	/* everything up to the limit, and one more */
			long room = LIMIT_PAGES - vstub_vmlck_kb(getpid()) * 1024 / (long)PG;

			ret = room > 0 && n + room <= LIMIT_PAGES ?
			      vfio_map(v.container, buf + n * PG,
				       IOVA_A + n * PG, room * PG, VFIO_RW) :
			      -ERANGE;
			if (!ret) {
				n += room;
				ret = vfio_map(v.container, buf + n * PG,
					       IOVA_A + n * PG, PG, VFIO_RW);
				ret = ret == -ENOMEM ? 0 : ret ? ret : -EEXIST;
			}
		} else {
			ret = -EINVAL;
		}
		c = ret ? 'E' : 'k';
		if (write(ack_fd, &c, 1) != 1)
			return 32;
	}
	vfio_ctx_close(&v);
	return 0;
}

TEST_F(user, memlock_report)
{
	int cmd[2], ack[2], round;
	struct report r;
	long base_kb;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(cmd));
	ASSERT_EQ(0, pipe(ack));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(cmd[1]);
		close(ack[0]);
		_exit(memlock_child(self->edu, cmd[0], ack[1]));
	}
	close(cmd[0]);
	close(ack[1]);
	ASSERT_EQ(1, read(ack[0], &c, 1));
	ASSERT_EQ('r', c);

	/* open, nothing mapped: the holder is there, with its limit */
	ASSERT_EQ(0, nl_cmd(VSTUB_CMD_DEV_GET, self->edu, -1, &r));
	EXPECT_EQ(1, r.num_holders);
	ASSERT_EQ(1, r.nh);
	EXPECT_EQ((unsigned int)pid, r.h[0].pid);
	EXPECT_STREQ("vstub_user_test", r.h[0].comm);
	EXPECT_EQ(LIMIT_PAGES * PG, r.h[0].limit);
	EXPECT_EQ(0, r.h[0].ipc_lock);
	EXPECT_EQ(0, r.pinned);
	base_kb = vstub_vmlck_kb(pid);
	ASSERT_LE(0, base_kb);
	EXPECT_EQ((uint64_t)base_kb * 1024 / PG, r.h[0].locked_pages);

	for (round = 1; round <= 2; round++) {
		c = 'm';
		ASSERT_EQ(1, write(cmd[1], &c, 1));
		ASSERT_EQ(1, read(ack[0], &c, 1));
		ASSERT_EQ('k', c);
		ASSERT_EQ(0, nl_cmd(VSTUB_CMD_DEV_GET, self->edu, -1, &r));
		ASSERT_EQ(1, r.nh);
		/* the kernel's own numbers, three ways */
		EXPECT_EQ(round * STEP_PAGES, r.pinned);
		EXPECT_EQ((uint64_t)vstub_vmlck_kb(pid) * 1024 / PG, r.h[0].locked_pages);
		EXPECT_EQ((uint64_t)base_kb * 1024 / PG + round * STEP_PAGES,
			  r.h[0].locked_pages);
	}
	/* vstubctl shows the same number */
	EXPECT_EQ(0, sh("vstubctl --json list | grep -q '\"pid\":%d,\"comm\":\"vstub_user_test\",\"locked_bytes\":%lu,\"memlock_limit\":%lu,\"cap_ipc_lock\":false'",
			pid, (unsigned long)r.h[0].locked_pages * PG,
			LIMIT_PAGES * PG));
	EXPECT_EQ(0, sh("vstubctl list | grep -q 'held by pid %d (vstub_user_test): locked memory %lu KiB of RLIMIT_MEMLOCK %lu KiB'",
			pid, (unsigned long)r.h[0].locked_pages * 4,
			LIMIT_PAGES * 4));
	/* the planner sees the holder and that 1 MiB more does not fit */
	EXPECT_EQ(0, sh("vstubctl memlock %s 1M | grep -A1 'pid %d (vstub_user_test) holds it' | grep -q 'does NOT fit'",
			self->edu, pid));
	EXPECT_EQ(0, sh("vstubctl --json memlock %s 1M | grep -q '\"pid\":%d,[^}]*\"fits\":false'",
			self->edu, pid));
	EXPECT_EQ(0, sh("vstubctl --json memlock %s 16K | grep -q '\"pid\":%d,[^}]*\"fits\":true'",
			self->edu, pid));

	/* up to the limit: the next page is refused (its RLIMIT_MEMLOCK) */
	c = 'x';
	ASSERT_EQ(1, write(cmd[1], &c, 1));
	ASSERT_EQ(1, read(ack[0], &c, 1));
	EXPECT_EQ('k', c);
	ASSERT_EQ(0, nl_cmd(VSTUB_CMD_DEV_GET, self->edu, -1, &r));
	EXPECT_EQ(LIMIT_PAGES - base_kb * 1024 / (long)PG, r.pinned);
	EXPECT_EQ(LIMIT_PAGES, r.h[0].locked_pages);
	EXPECT_EQ((uint64_t)vstub_vmlck_kb(pid) * 1024 / PG, r.h[0].locked_pages);

	c = 'q';
	ASSERT_EQ(1, write(cmd[1], &c, 1));
	EXPECT_EQ(0, child_status(pid));
	ASSERT_EQ(0, nl_cmd(VSTUB_CMD_DEV_GET, self->edu, -1, &r));
	EXPECT_EQ(0, r.num_holders);
	EXPECT_EQ(0, r.nh);
	close(cmd[1]);
	close(ack[0]);
}

/* An unprivileged process may read the report (reads are open). */
TEST_F(user, nonroot_query)
{
	struct report r;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (!pid) {
		if (drop_privileges())
			_exit(10);
		if (nl_cmd(VSTUB_CMD_DEV_GET, self->edu, -1, &r) || !r.got)
			_exit(20);
		_exit(r.owner_uid == USER_ID ? 0 : 30);
	}
	EXPECT_EQ(0, child_status(pid));
}

TEST_HARNESS_MAIN
