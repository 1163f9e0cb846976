// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_dpdk_test - a real userspace driver through "vstubctl handoff":
 * two e1000e NICs, wired to each other through a QEMU hub, are captured by
 * vstub (taken from e1000e, which has them at boot), handed to the
 * in-kernel vfio-pci with "vstubctl handoff BDF vfio-pci", and Debian's
 * DPDK testpmd (dpdk-testpmd with its e1000 PMD; the overlay built by
 * selftests/lib/mkdpdk) forwards packets between them for a few seconds
 * (io forwarding, --tx-first).  DPDK treats a device as VFIO-bound only
 * when its driver is named vfio-pci and /sys/module/vfio exists, so it runs
 * on the kernel's VFIO: the handoff is what is tested.  Checked:
 *
 *   - capture and handoff succeed; during testpmd both NICs are on
 *     vfio-pci with driver_override "vfio-pci", and testpmd holds their
 *     /dev/vfio/<group> nodes;
 *   - testpmd exits 0, and its final forward statistics show packets both
 *     sent and received on each port;
 *   - afterwards "vstubctl capture" takes both back from vfio-pci (driver
 *     vstub, driver_override "vstub"), release and the host's probe give
 *     them back to e1000e;
 *   - the kernel log has no vstub, VFIO or IOMMU error or fault.
 *
 * Skipped where the configuration does not provide the set-up (VSTUB_DPDK=1
 * from selftests/lib/vm.sh: the two hub-wired NICs and "-cpu max", which
 * Debian's DPDK needs), without dpdk-testpmd in the guest, or without the
 * in-kernel vfio-pci.  Without interrupt remapping (VSTUB_INTREMAP=0)
 * vfio_iommu_type1's allow_unsafe_interrupts is set for the test and
 * restored after.  Runs as root in a QEMU guest of selftests/run.
 */
#include <signal.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_test.h"

#define BDF_LEN		32
#define TESTPMD		"/usr/bin/dpdk-testpmd"
#define PMD_DIR		"/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0"
#define HUGE_DIR	"/dev/hugepages"
#define NR_HUGE		"64"		/* 2 MiB pages: 128 MiB of 1 GiB */
#define HUGE_SYSCTL	"/proc/sys/vm/nr_hugepages"
#define UNSAFE_PARAM	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
#define FWD_SECONDS	3		/* how long testpmd forwards */
#define OUT_FILE	"/tmp/testpmd.out"
#define VSTUBCTL	"/usr/bin/vstubctl"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Run "vstubctl VERB BDF [ARG]", its output into the log.  Exit code. */
static int ctl(const char *verb, const char *bdf, const char *arg)
{
	char cmd[256], line[512];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), VSTUBCTL " %s %s %s 2>&1", verb, bdf,
		 arg ? arg : "");
	p = popen(cmd, "r");
	if (!p)
		return -errno;
	while (fgets(line, sizeof(line), p))
		printf("# vstubctl %s: %s", verb, line);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int read_override(const char *bdf, char *buf, size_t len)
{
	char path[256];
	int ret;

	if (pci_attr_path(path, sizeof(path), bdf, "driver_override"))
		return -ENAMETOOLONG;
	ret = sysfs_read(path, buf, len);
	if (ret >= 0)
		buf[strcspn(buf, "\n")] = '\0';
	return ret < 0 ? ret : 0;
}

static bool override_is(const char *bdf, const char *want)
{
	char cur[64];

	return !read_override(bdf, cur, sizeof(cur)) && !strcmp(cur, want);
}

/* True if process @pid has /dev/vfio/@group open. */
static bool holds_node(pid_t pid, int group)
{
	char dir[64], path[320], link[128], want[64];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	snprintf(want, sizeof(want), "/dev/vfio/%d", group);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, want);
	}
	closedir(d);
	return found;
}

/* testpmd's final statistics of one port. */
struct port_stats {
	long rx, tx;
};

/*
 * Parse testpmd's "Forward statistics for port N" blocks of @out into
 * @st[0..1]; returns the number of ports found.
 */
static int parse_stats(const char *out, struct port_stats *st)
{
	const char *p = out;
	int found = 0;

	st[0].rx = st[0].tx = st[1].rx = st[1].tx = -1;
	while ((p = strstr(p, "Forward statistics for port "))) {
		const char *rx, *tx;
		int port;

		p += strlen("Forward statistics for port ");
		port = atoi(p);
		rx = strstr(p, "RX-packets:");
		tx = strstr(p, "TX-packets:");
		if (port < 0 || port > 1 || !rx || !tx)
			continue;
		st[port].rx = atol(rx + strlen("RX-packets:"));
		st[port].tx = atol(tx + strlen("TX-packets:"));
		found++;
	}
	return found;
}

/* ---- testpmd on a pseudo-terminal (so that its stdout is line-buffered) -- */

struct pmd {
	pid_t pid;
	int master;
	char out[256 * 1024];	/* everything it printed */
	size_t len;
	int status;		/* waitpid's, once it exited */
	bool exited;
};

static int open_pty(int *master, char *slave, size_t len)
{
	int fd, n;

	if (!path_exists("/dev/pts/ptmx")) {
		mkdir("/dev/pts", 0755);
		if (mount("devpts", "/dev/pts", "devpts", 0,
			  "newinstance,ptmxmode=0666,mode=0620"))
			return -errno;
	}
	fd = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (unlockpt(fd) || ioctl(fd, TIOCGPTN, &n)) {
		close(fd);
		return -errno;
	}
	snprintf(slave, len, "/dev/pts/%d", n);
	*master = fd;
	return 0;
}

/* Start testpmd on @nic[0..1] with its output on a pty. */
static int pmd_start(struct pmd *m, char nic[2][BDF_LEN])
{
	char slave[64], a0[48], a1[48];
	int ret;

	ret = open_pty(&m->master, slave, sizeof(slave));
	if (ret)
		return ret;
	snprintf(a0, sizeof(a0), "%s", nic[0]);
	snprintf(a1, sizeof(a1), "%s", nic[1]);
	fflush(stdout);
	fflush(stderr);
	m->pid = fork();
	if (m->pid < 0)
		return -errno;
	if (!m->pid) {
		int fd;

		setsid();
		fd = open(slave, O_RDWR);
		if (fd < 0)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
		execl(TESTPMD, "dpdk-testpmd",
		      /* EAL: main lcore 0, forwarding lcore 1 (2 vCPUs) */
		      "-l", "0,1", "-n", "1", "--no-telemetry",
		      "--file-prefix=vstubdpdk", "--huge-dir=" HUGE_DIR,
		      "-d", PMD_DIR "/librte_net_e1000.so",
		      "-d", PMD_DIR "/librte_mempool_ring.so",
		      "-a", a0, "-a", a1,
		      "--",
		      /* no -i: forwarding starts at once, until stdin */
		      "--forward-mode=io", "--tx-first", "--nb-cores=1",
		      "--rxd=256", "--txd=256", "--total-num-mbufs=2048",
		      (char *)NULL);
		_exit(127);
	}
	return 0;
}

/*
 * Collect testpmd's output for up to @ms, until @until appears in it (NULL:
 * until testpmd has exited).  True if it did.
 */
static bool pmd_pump(struct pmd *m, const char *until, int ms)
{
	long end = now_ms() + ms;

	for (;;) {
		struct pollfd p = { .fd = m->master, .events = POLLIN };
		long left = end - now_ms();
		int n;

		if (until && memmem(m->out, m->len, until, strlen(until)))
			return true;
		if (left <= 0)
			return false;
		n = poll(&p, 1, left < 200 ? left : 200);
		if (n > 0 && (p.revents & POLLIN)) {
			ssize_t r;

			if (m->len == sizeof(m->out) - 1)
				m->len = 0;	/* runaway output */
			r = read(m->master, m->out + m->len,
				 sizeof(m->out) - 1 - m->len);
			if (r > 0) {
				m->len += r;
				m->out[m->len] = '\0';
				continue;
			}
		}
		/* No output (or EIO: no process has the terminal open). */
		if (!m->exited && waitpid(m->pid, &m->status, WNOHANG) == m->pid)
			m->exited = true;
		if (m->exited)
			return !until;
		if (n > 0)
			vstub_msleep(50);	/* POLLHUP: do not spin */
	}
}

static void pmd_stop(struct pmd *m)
{
	if (m->pid > 0 && !m->exited) {
		kill(m->pid, SIGKILL);
		waitpid(m->pid, &m->status, 0);
		m->exited = true;
	}
	if (m->master >= 0)
		close(m->master);
	m->master = -1;
}

static void pmd_print(struct pmd *m)
{
	char *copy = strdup(m->out), *line, *save = NULL;

	if (!copy)
		return;
	for (line = strtok_r(copy, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save))
		printf("# testpmd: %s\n", line);
	free(copy);
}

FIXTURE(dpdk)
{
	char nic[2][BDF_LEN];
	struct pmd pmd;
	int group[2];
	bool mounted;
	bool unsafe_set;
	bool ready;
	mode_t root_mode;	/* to restore, if changed */
};

FIXTURE_SETUP(dpdk)
{
	struct stat sb;
	int i;

	self->pmd.master = -1;
	if (!vstub_env_is("VSTUB_DPDK", "1"))
		SKIP(return, "this configuration has no DPDK set-up (VSTUB_DPDK=1: two hub-wired e1000e and -cpu max, selftests/lib/vm.sh)");
	if (access(TESTPMD, X_OK))
		SKIP(return, "no %s in this guest (Debian package dpdk-dev on the host; VSTUB_GUEST_DPDK=0?)",
		     TESTPMD);
	if (access(VSTUBCTL, X_OK))
		SKIP(return, "no %s in this guest", VSTUBCTL);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pci_find(E1000E_VENDOR, E1000E_DEVICE, i + 1,
				      self->nic[i], BDF_LEN)) {
			TH_LOG("VSTUB_DPDK=1 but no second and third e1000e");
		}
	ASSERT_EQ(0, vstub_unload_if_loaded());
	vstub_reload_boot_modules();
	if (!path_exists("/sys/module/vfio") ||
	    !path_exists("/sys/bus/pci/drivers/vfio-pci"))
		SKIP(return, "the in-kernel vfio-pci is not available (DPDK uses the kernel's VFIO)");
	if (vstub_no_intremap()) {
		ASSERT_EQ(0, sysfs_write(UNSAFE_PARAM, "1"));
		self->unsafe_set = true;
	}
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(pci_wait_driver(self->nic[i], "e1000e", 5000)) {
			TH_LOG("%s is not on e1000e at the start", self->nic[i]);
		}
	}
	ASSERT_EQ(0, sysfs_write(HUGE_SYSCTL, NR_HUGE));
	mkdir(HUGE_DIR, 0755);
	ASSERT_EQ(0, mount("hugetlbfs", HUGE_DIR, "hugetlbfs", 0, "pagesize=2M"));
	self->mounted = true;
	/*
	 * EAL refuses plugins (-d) below a world-writable directory, and
	 * the initramfs' root is 0777; its runtime directory is
	 * /var/run/dpdk.
	 */
	if (!stat("/", &sb) && (sb.st_mode & 0002)) {
		ASSERT_EQ(0, chmod("/", 0755));
		self->root_mode = sb.st_mode & 07777;
	}
	mkdir("/var", 0755);
	mkdir("/var/run", 0755);
	ASSERT_EQ(0, vstub_load(""));
	self->ready = true;
}

FIXTURE_TEARDOWN(dpdk)
{
	int i;

	pmd_stop(&self->pmd);
	if (!self->ready && !self->mounted && !self->unsafe_set &&
	    !self->root_mode)
		return;
	for (i = 0; i < 2; i++) {
		if (pci_driver_is(self->nic[i], "vfio-pci"))
			pci_unbind(self->nic[i]);
	}
	vstub_unload_if_loaded();	/* gives captured NICs back */
	for (i = 0; i < 2; i++) {
		if (pci_driver_is(self->nic[i], "vfio-pci"))
			pci_unbind(self->nic[i]);
		pci_write_attr(self->nic[i], "driver_override", "\n");
		if (pci_driver_is(self->nic[i], ""))
			pci_probe(self->nic[i]);
	}
	if (self->mounted)
		umount(HUGE_DIR);
	sysfs_write(HUGE_SYSCTL, "0");
	if (self->unsafe_set)
		sysfs_write(UNSAFE_PARAM, "0");
	if (self->root_mode)
		chmod("/", self->root_mode);
}

TEST_F_TIMEOUT(dpdk, testpmd_after_handoff, 300)
{
	struct port_stats st[2];
	char mark[96], cur[64];
	struct pmd *m = &self->pmd;
	long t0;
	int i;

	/* Capture from e1000e, hand to vfio-pci. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ctl("capture", self->nic[i], NULL));
		ASSERT_TRUE(pci_wait_driver(self->nic[i], "vstub", 5000));
		ASSERT_EQ(0, ctl("handoff", self->nic[i], "vfio-pci"));
		ASSERT_TRUE(pci_driver_is(self->nic[i], "vfio-pci")) {
			pci_driver(self->nic[i], cur, sizeof(cur));
			TH_LOG("%s is on '%s' after the handoff", self->nic[i], cur);
		}
		ASSERT_TRUE(override_is(self->nic[i], "vfio-pci")) {
			read_override(self->nic[i], cur, sizeof(cur));
			TH_LOG("%s: driver_override '%s' after the handoff",
			       self->nic[i], cur);
		}
		self->group[i] = pci_iommu_group(self->nic[i]);
		ASSERT_LE(0, self->group[i]);
	}
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));

	/* testpmd forwards between the two ports for FWD_SECONDS. */
	t0 = now_ms();
	ASSERT_EQ(0, pmd_start(m, self->nic));
	ASSERT_TRUE(pmd_pump(m, "Press enter to exit",
			     120000 * vstub_time_scale())) {
		pmd_print(m);
		TH_LOG("testpmd did not start forwarding (%s)",
		       m->exited ? "it exited" : "timed out");
	}
	TH_LOG("testpmd forwarding %ld ms after its start", now_ms() - t0);
	for (i = 0; i < 2; i++) {
		EXPECT_TRUE(pci_driver_is(self->nic[i], "vfio-pci"));
		EXPECT_TRUE(override_is(self->nic[i], "vfio-pci"));
		EXPECT_TRUE(holds_node(m->pid, self->group[i])) {
			TH_LOG("testpmd does not hold /dev/vfio/%d (%s)",
			       self->group[i], self->nic[i]);
		}
	}
	pmd_pump(m, "\001never", FWD_SECONDS * 1000);
	ASSERT_EQ(1, write(m->master, "\n", 1)) {
		pmd_print(m);
	}
	ASSERT_TRUE(pmd_pump(m, NULL, 60000 * vstub_time_scale())) {
		pmd_print(m);
		TH_LOG("testpmd did not exit after its stdin said so");
	}
	pmd_pump(m, "\001never", 200);	/* what is left in the pty */
	pmd_print(m);
	ASSERT_TRUE(WIFEXITED(m->status) && WEXITSTATUS(m->status) == 0) {
		TH_LOG("testpmd ended with status 0x%x", m->status);
	}
	ASSERT_EQ(2, parse_stats(m->out, st));
	for (i = 0; i < 2; i++) {
		TH_LOG("port %d (%s): RX-packets %ld, TX-packets %ld", i,
		       self->nic[i], st[i].rx, st[i].tx);
		EXPECT_LT(0, st[i].tx);
		EXPECT_LT(0, st[i].rx);
	}
	TH_LOG("testpmd ran %ld ms", now_ms() - t0);

	/* Back to vstub, then to e1000e. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, ctl("capture", self->nic[i], NULL));
		ASSERT_TRUE(pci_wait_driver(self->nic[i], "vstub", 5000));
		EXPECT_TRUE(override_is(self->nic[i], "vstub"));
		ASSERT_EQ(0, ctl("release", self->nic[i], NULL));
		pci_unbind_override(self->nic[i]);
		EXPECT_TRUE(pci_wait_driver(self->nic[i], "e1000e", 5000)) {
			pci_driver(self->nic[i], cur, sizeof(cur));
			TH_LOG("%s is on '%s' at the end", self->nic[i], cur);
		}
	}

	/* Nothing went wrong in the kernel meanwhile. */
	EXPECT_FALSE(dmesg_since(mark, "DMAR: [DMA"));
	EXPECT_FALSE(dmesg_since(mark, "IO_PAGE_FAULT"));
	EXPECT_FALSE(dmesg_line_since(mark, "vfio", "rror"));
	EXPECT_FALSE(dmesg_line_since(mark, "vfio", "fail"));
	EXPECT_FALSE(dmesg_line_since(mark, "vstub", "rror"));
	EXPECT_FALSE(dmesg_line_since(mark, "vstub", "fail"));
	EXPECT_FALSE(dmesg_line_since(mark, "iommu", "fault"));
}

TEST_HARNESS_MAIN
