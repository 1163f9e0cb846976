// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_stall_test - one tenant's stall must not stall anyone else.
 *
 * A tenant (a forked process holding a captured NVMe controller through
 * vstub's VFIO interface, with a REQ eventfd it ignores) has one thread in
 * MAP_DMA over a userfaultfd range that is never served.  While that
 * thread is stuck:
 *   - a second thread's GET_DEVICE_FD, SET_CONTAINER and MAP_DMA of
 *     ordinary memory return promptly,
 *   - vstubctl list / status / explain return promptly, as root and as
 *     an ordinary user, and so does the captured list in sysfs,
 *   - unbinding the device from vstub completes after release_timeout_ms
 *     (the REQ wait) plus a little, with the device reset (the NVMe
 *     controller the tenant enabled is disabled again), and vstubctl
 *     list of that device answers while the unbind waits for the tenant,
 *   - SIGKILL ends the tenant (pinning is killable), every page pinned
 *     for it is unpinned (nr_foll_pin_acquired == nr_foll_pin_released)
 *     and the module unloads.
 * Every wait has a deadline, so that a regression fails rather than hangs
 * the guest.  Runs as root in a QEMU guest of selftests/run.
 */
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define PG		4096UL
#define STALL_PAGES	64
#define STALL_PRESENT	8	/* pinned before the fault that stalls */
#define IOVA_STALL	0x1000000ULL
#define IOVA_OK		0x2000000ULL
#define RELEASE_MS	3000
#define NOBODY		65534

/* NVMe controller registers (BAR0). */
#define NVME_CC		0x14
#define NVME_CSTS	0x1c
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_CC_VAL	(1u | (6u << 16) | (4u << 20))	/* EN, IOSQES, IOCQES */

/* What the tenant tells the test, in order. */
enum { MSG_SETUP_FAILED = 1, MSG_STUCK, MSG_NOSTALL, MSG_SECOND };

struct tenant_msg {
	int kind;
	int err;		/* MSG_SETUP_FAILED: -errno, step in @step;
				 * MSG_NOSTALL: what MAP_DMA returned */
	int step;
	uint32_t cc, csts;	/* MSG_STUCK: the controller as programmed */
	int getfd_err;		/* MSG_SECOND: the second thread's calls */
	long getfd_ms;
	int setc_err;
	long setc_ms;
	int map_err;
	long map_ms;
};

/* ---- the tenant ------------------------------------------------------- */

struct stall_arg {
	int container;
	void *buf;
	int done;		/* MAP_DMA returned (it should not) */
	int err;
};

static void *stall_thread(void *p)
{
	struct stall_arg *a = p;
	int err;

	/* Never returns unless the kernel gives up or the process dies. */
	err = vfio_map(a->container, a->buf, IOVA_STALL, STALL_PAGES * PG,
		       VFIO_RW);
	__atomic_store_n(&a->err, err, __ATOMIC_SEQ_CST);
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void tenant_fail(int wfd, int step, int err)
{
	struct tenant_msg m = { .kind = MSG_SETUP_FAILED, .step = step,
				.err = err };

	if (write(wfd, &m, sizeof(m)) != sizeof(m))
		_exit(2);
	_exit(1);
}

/* Enable the NVMe controller, so that a reset shows (CC.EN back to 0). */
static void nvme_enable(uint8_t *bar)
{
	int i;

	edu_write(bar, NVME_CC, 0);
	edu_write(bar, NVME_AQA, (31u << 16) | 31u);
	edu_write(bar, NVME_ASQ, 0x10000);
	edu_write(bar, NVME_ASQ + 4, 0);
	edu_write(bar, NVME_ACQ, 0x20000);
	edu_write(bar, NVME_ACQ + 4, 0);
	edu_write(bar, NVME_CC, NVME_CC_VAL);
	for (i = 0; i < 200 && !(edu_read(bar, NVME_CSTS) & 1); i++)
		vstub_msleep(10);
}

/*
 * vfio_open_device(), but only the register page of BAR0 is mapped: the
 * MSI-X table further on is not mappable without isolated MSIs.
 */
static int tenant_open(struct vfio_ctx *v, const char *bdf)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = 0 };
	void *p;
	int ret;

	ret = vfio_open_container(v, VSTUB_NODE_DIR);
	if (ret)
		return ret;
	ret = vfio_open_group(v, VSTUB_NODE_DIR, bdf);
	if (ret)
		return ret;
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) ||
	    ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->device < 0 ||
	    ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -errno;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, v->device,
		 ri.offset);
	if (p == MAP_FAILED)
		return -errno;
	v->bar0 = p;
	v->bar0_size = PG;
	return 0;
}

static void tenant(const char *bdf, int wfd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct tenant_msg m = { .kind = MSG_STUCK };
	struct stall_arg arg = { 0 };
	struct pollfd pfd;
	struct vfio_ctx v;
	pthread_t thr;
	int efd, uffd, fd, c2, ret, i;
	void *ok;
	long t;

	vfio_ctx_init(&v);
	ret = tenant_open(&v, bdf);
	if (ret)
		tenant_fail(wfd, 1, ret);
	/* Asked to give the device back, this tenant never does. */
	efd = eventfd(0, EFD_CLOEXEC);
	ret = efd < 0 ? -errno :
	      vfio_irq_set_fds(v.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd);
	if (ret)
		tenant_fail(wfd, 2, ret);
	ret = vfio_enable_dma(v.device);
	if (ret)
		tenant_fail(wfd, 3, ret);
	nvme_enable(v.bar0);
	m.cc = edu_read(v.bar0, NVME_CC);
	m.csts = edu_read(v.bar0, NVME_CSTS);

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		tenant_fail(wfd, 4, -errno);
	arg.container = v.container;
	arg.buf = mmap(NULL, STALL_PAGES * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arg.buf == MAP_FAILED)
		tenant_fail(wfd, 5, -errno);
	/* The first pages are there (and get pinned), the next one stalls. */
	memset(arg.buf, 0x5a, STALL_PRESENT * PG);
	reg.range.start = (uintptr_t)arg.buf;
	reg.range.len = STALL_PAGES * PG;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		tenant_fail(wfd, 6, -errno);
	if (pthread_create(&thr, NULL, stall_thread, &arg))
		tenant_fail(wfd, 7, -EAGAIN);

	/*
	 * The fault is pending on the userfaultfd: the thread is stuck.
	 * (Unless this kernel's pinning does not wait on userfaultfd.)
	 */
	pfd.fd = uffd;
	pfd.events = POLLIN;
	for (i = 0; i < vstub_scaled(10000) / 20; i++) {
		if (poll(&pfd, 1, 20) == 1)
			break;
		if (__atomic_load_n(&arg.done, __ATOMIC_SEQ_CST)) {
			m.kind = MSG_NOSTALL;
			m.err = arg.err;
			break;
		}
	}
	if (i == vstub_scaled(10000) / 20)
		tenant_fail(wfd, 8, -ETIMEDOUT);
	if (write(wfd, &m, sizeof(m)) != sizeof(m))
		_exit(2);

	/* A second thread (this one) meanwhile. */
	memset(&m, 0, sizeof(m));
	m.kind = MSG_SECOND;
	t = vstub_now_ms();
	fd = ioctl(v.group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	m.getfd_err = fd < 0 ? -errno : 0;
	m.getfd_ms = vstub_now_ms() - t;
	if (fd >= 0)
		close(fd);
	c2 = open(VSTUB_NODE_DIR "/vfio", O_RDWR | O_CLOEXEC);
	t = vstub_now_ms();
	m.setc_err = ioctl(v.group, VFIO_GROUP_SET_CONTAINER, &c2) ? -errno : 0;
	m.setc_ms = vstub_now_ms() - t;
	close(c2);
	ok = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(ok, 1, 4 * PG);
	t = vstub_now_ms();
	m.map_err = vfio_map(v.container, ok, IOVA_OK, 4 * PG, VFIO_RW);
	m.map_ms = vstub_now_ms() - t;
	if (!m.map_err)
		vfio_unmap(v.container, IOVA_OK, 4 * PG, 0);
	if (write(wfd, &m, sizeof(m)) != sizeof(m))
		_exit(2);
	for (;;)
		pause();
}

/* Read one message from the tenant within @ms; 0, or -ETIMEDOUT/-EIO. */
static int tenant_read(int rfd, struct tenant_msg *m, int ms)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return -ETIMEDOUT;
	return read(rfd, m, sizeof(*m)) == sizeof(*m) ? 0 : -EIO;
}

/* ---- bounded helpers -------------------------------------------------- */

/*
 * Wait up to @ms for child @pid; its exit status, or -ETIMEDOUT (then it
 * is SIGKILLed and left for a later reap: it may be stuck in the kernel).
 */
static int wait_child(pid_t pid, int ms, long *elapsed)
{
	long t0 = vstub_now_ms();
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			if (elapsed)
				*elapsed = vstub_now_ms() - t0;
			return WIFEXITED(status) ? WEXITSTATUS(status) :
						   128 + WTERMSIG(status);
		}
		if (r < 0)
			return -errno;
		if (vstub_now_ms() - t0 >= ms) {
			kill(pid, SIGKILL);
			if (elapsed)
				*elapsed = vstub_now_ms() - t0;
			return -ETIMEDOUT;
		}
		vstub_msleep(10);
	}
}

/* Become user nobody (in a child). */
static void drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		_exit(126);
}

/*
 * Start vstubctl @a1 [@a2] as @uid (0 or NOBODY), output into @out (an
 * open file, may be -1).
 */
static pid_t start_ctl(uid_t uid, int out, const char *a1, const char *a2)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (out >= 0) {
		dup2(out, 1);
		dup2(out, 2);
	}
	if (uid)
		drop_to_nobody();
	execlp("vstubctl", "vstubctl", a1, a2, (char *)NULL);
	_exit(127);
}

/* vstubctl @a1 [@a2] as @uid within @ms: its status or -ETIMEDOUT. */
static int run_ctl(uid_t uid, int ms, const char *a1, const char *a2,
		   char *outbuf, size_t len)
{
	char path[] = "/tmp/stall-ctl-XXXXXX";
	int out = mkstemp(path), ret;

	unlink(path);
	ret = wait_child(start_ctl(uid, out, a1, a2), ms, NULL);
	if (outbuf && out >= 0) {
		ssize_t n = pread(out, outbuf, len - 1, 0);

		outbuf[n > 0 ? n : 0] = '\0';
	}
	if (out >= 0)
		close(out);
	return ret;
}

/* Write @val to the sysfs file @path in a child (it may block). */
static pid_t start_write(const char *path, const char *val)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	_exit(sysfs_write(path, val) ? 1 : 0);
}

/* Read a sysfs file in a child within @ms (0 if it could). */
static int read_bounded(const char *path, int ms)
{
	pid_t pid = fork();
	char buf[4096];

	if (!pid)
		_exit(sysfs_read(path, buf, sizeof(buf)) < 0 ? 1 : 0);
	return wait_child(pid, ms, NULL);
}

/* NVMe register @reg of @bdf through its sysfs resource0 (host view). */
static int nvme_reg_host(const char *bdf, unsigned int reg, uint32_t *val)
{
	char path[256];
	uint16_t cmd;
	void *bar;
	int fd;

	cmd = pci_cmd_phys(bdf);
	if (cmd != 0xffff && !(cmd & PCI_COMMAND_MEMORY)) {
		snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/config", bdf);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		cmd |= PCI_COMMAND_MEMORY;
		if (pwrite(fd, &cmd, sizeof(cmd), PCI_COMMAND) != sizeof(cmd)) {
			close(fd);
			return -EIO;
		}
		close(fd);
	}
	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	bar = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED)
		return -errno;
	*val = edu_read(bar, reg);
	munmap(bar, PG);
	return 0;
}

/* ---- the test --------------------------------------------------------- */

FIXTURE(stall) {
	char bdf[BDF_LEN];
	pid_t tenant;
	int rfd;
	long pins0;
};

FIXTURE_SETUP(stall)
{
	char params[128];

	self->tenant = -1;
	self->rfd = -1;
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, self->bdf, sizeof(self->bdf)))
		SKIP(return, "no NVMe controller (a function with FLR) in this VM");
	if (pci_iommu_group(self->bdf) < 0)
		SKIP(return, "%s has no IOMMU group", self->bdf);
	ASSERT_EQ(0, vstub_unload_if_loaded());
	snprintf(params, sizeof(params), "release_timeout_ms=%d%s",
		 vstub_scaled(RELEASE_MS), vstub_no_intremap() ?
		 " allow_unsafe_interrupts=1" : "");
	ASSERT_EQ(0, vstub_load(params));
	ASSERT_EQ(0, vstub_capture_wait(self->bdf));
	self->pins0 = vstub_pins_held();
}

FIXTURE_TEARDOWN(stall)
{
	if (self->tenant > 0) {
		kill(self->tenant, SIGKILL);
		wait_child(self->tenant, vstub_scaled(10000), NULL);
	}
	if (self->rfd >= 0)
		close(self->rfd);
	/* Children that timed out, once whatever held them let go. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	vstub_unload_if_loaded();
	if (!pci_driver_is(self->bdf, "nvme")) {
		pci_probe(self->bdf);
		pci_wait_driver(self->bdf, "nvme", 5000);
	}
}

TEST_F_TIMEOUT(stall, userfaultfd_map_dma, 400)
{
	const int prompt = vstub_scaled(3000);
	char out[8192], unbind[] = VSTUB_DRV_DIR "/unbind";
	struct tenant_msg m;
	int pfd[2], ret, i;
	long ms, held;
	const int release_ms = vstub_scaled(RELEASE_MS);
	uint32_t cc = ~0u, csts = ~0u;
	bool nostall = false;
	int status;
	long t0;
	pid_t pid, r;

	ASSERT_EQ(0, pipe2(pfd, O_CLOEXEC));
	self->tenant = fork();
	ASSERT_LE(0, self->tenant);
	if (!self->tenant) {
		close(pfd[0]);
		tenant(self->bdf, pfd[1]);
	}
	close(pfd[1]);
	self->rfd = pfd[0];

	/* 1. The tenant's mapping thread is stuck in the fault. */
	ASSERT_EQ(0, tenant_read(self->rfd, &m, vstub_scaled(30000)));
	if (m.kind == MSG_NOSTALL) {
		/*
		 * 6.1: long-term pinning faults without FAULT_FLAG_ALLOW_RETRY
		 * (FOLL_LONGTERM takes the "locked == NULL" path), so
		 * userfaultfd fails the fault at once instead of waiting.
		 * The rest is checked all the same, without a stall.
		 */
		EXPECT_EQ(-EFAULT, m.err);
		nostall = true;
		m.kind = MSG_STUCK;
	}
	ASSERT_EQ(MSG_STUCK, m.kind) {
		TH_LOG("tenant set-up failed at step %d: %s", m.step,
		       strerror(-m.err));
	}
	TH_LOG("tenant enabled the controller: CC 0x%x CSTS 0x%x", m.cc,
	       m.csts);
	held = vstub_pins_held() - self->pins0;
	TH_LOG("pages pinned while stuck: %ld (%d present before the fault)",
	       held, STALL_PRESENT);

	/* 2. Its second thread is not stalled behind it. */
	ret = tenant_read(self->rfd, &m, vstub_scaled(5000));
	EXPECT_EQ(0, ret) {
		TH_LOG("the tenant's second thread (GET_DEVICE_FD, SET_CONTAINER, MAP_DMA) did not return within %d ms",
		       vstub_scaled(5000));
	}
	if (!ret) {
		EXPECT_EQ(MSG_SECOND, m.kind);
		EXPECT_EQ(0, m.getfd_err);
		EXPECT_EQ(-EINVAL, m.setc_err);	/* the group has a container */
		EXPECT_EQ(0, m.map_err);
		TH_LOG("second thread: GET_DEVICE_FD %ld ms, SET_CONTAINER %ld ms, MAP_DMA %ld ms",
		       m.getfd_ms, m.setc_ms, m.map_ms);
	}

	/* 3. The control plane answers, as root and as anyone. */
	EXPECT_EQ(0, run_ctl(0, prompt, "list", NULL, out, sizeof(out)));
	EXPECT_TRUE(strstr(out, self->bdf) != NULL)
		TH_LOG("vstubctl list: %s", out);
	EXPECT_EQ(0, run_ctl(NOBODY, prompt, "list", NULL, out, sizeof(out)));
	EXPECT_TRUE(strstr(out, self->bdf) != NULL)
		TH_LOG("vstubctl list (nobody): %s", out);
	EXPECT_EQ(0, run_ctl(NOBODY, prompt, "list", self->bdf, NULL, 0));
	EXPECT_EQ(0, run_ctl(NOBODY, prompt, "explain", self->bdf, NULL, 0));
	EXPECT_EQ(0, run_ctl(NOBODY, prompt, "status", NULL, NULL, 0));
	EXPECT_EQ(0, read_bounded(VSTUB_DRV_DIR "/captured", prompt));

	/*
	 * 4. Unbinding waits release_timeout_ms for the tenant (REQ), then
	 * revokes and resets; meanwhile the device is still reported.
	 */
	t0 = vstub_now_ms();
	pid = start_write(unbind, self->bdf);
	ASSERT_LT(0, pid);
	vstub_msleep(300);
	ret = run_ctl(NOBODY, prompt, "list", self->bdf, out, sizeof(out));
	EXPECT_EQ(0, ret) TH_LOG("vstubctl list %s during the release: %s",
				 self->bdf, out);
	EXPECT_EQ(0, run_ctl(NOBODY, prompt, "explain", self->bdf, NULL, 0));
	/* ... and they answered while the release still waited. */
	r = waitpid(pid, &status, WNOHANG);
	EXPECT_EQ(0, r) TH_LOG("the queries came back only after the release (%ld ms)",
			       vstub_now_ms() - t0);
	if (r == pid)
		ret = WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
	else
		ret = wait_child(pid, release_ms + vstub_scaled(8000), NULL);
	ms = vstub_now_ms() - t0;
	EXPECT_EQ(0, ret) TH_LOG("unbind: %s after %ld ms",
				 ret == -ETIMEDOUT ? "still blocked" : "failed",
				 ms);
	TH_LOG("unbind took %ld ms (release_timeout_ms=%d)", ms, release_ms);
	if (!ret) {
		/* Not before the tenant had its release_timeout_ms (REQ). */
		EXPECT_LE(release_ms - 100, ms);
		EXPECT_TRUE(pci_driver_is(self->bdf, ""));
		/* The controller the tenant enabled was reset. */
		EXPECT_EQ(0, nvme_reg_host(self->bdf, NVME_CC, &cc));
		EXPECT_EQ(0, nvme_reg_host(self->bdf, NVME_CSTS, &csts));
		TH_LOG("after the release: CC 0x%x CSTS 0x%x", cc, csts);
		EXPECT_EQ(0, cc & 1);
		EXPECT_EQ(0, csts & 1);
	}

	/* 5. SIGKILL ends the stuck tenant; every pin goes. */
	kill(self->tenant, SIGKILL);
	ret = wait_child(self->tenant, vstub_scaled(5000), &ms);
	EXPECT_EQ(128 + SIGKILL, ret) TH_LOG("tenant did not die on SIGKILL");
	if (ret != -ETIMEDOUT)
		self->tenant = -1;
	TH_LOG("tenant gone %ld ms after SIGKILL", ms);
	for (i = 0; i < 2; i++)
		EXPECT_EQ(self->pins0, vstub_pins_settle(self->pins0, vstub_scaled(3000)));

	/* 6. And the module unloads (its files are all closed). */
	ms = vstub_now_ms();
	EXPECT_EQ(0, vstub_unload());
	TH_LOG("unload took %ld ms", vstub_now_ms() - ms);
	if (nostall && !_metadata->exit_code)
		SKIP(return, "MAP_DMA over an unserved userfaultfd range returned at once (EFAULT): this kernel's long-term pinning does not wait on userfaultfd, so there was no stall (the release, reset, kill and unload checks passed)");
}

TEST_HARNESS_MAIN
