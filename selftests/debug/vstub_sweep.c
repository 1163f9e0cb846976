// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_sweep - the fail-nth sweep, run by the 6.12-debug-sweep
 * configuration (selftests/run) on the debug kernel.
 *
 * For each short sequence of user calls into vstub (the VFIO path on edu,
 * MSI-X on e1000e, every netlink command, capture/release through sysfs,
 * SR-IOV on the NVMe PF) it runs the sequence with the 1st, 2nd, 3rd ...
 * fault injection point of the calling task failed
 * (/proc/thread-self/fail-nth, with failslab, fail_page_alloc and
 * fail_usercopy armed for sleeping allocations too), until a run sees no
 * injection.  After every run, with injection off, everything is closed and
 * it checks:
 *   - the failing step returned the errno a user expects (ENOMEM for an
 *     allocation, EFAULT for a user copy; netlink may also lose the message:
 *     ENOBUFS, or no answer), and nothing failed without an injection;
 *   - pinned pages came back (nr_foll_pin_acquired - nr_foll_pin_released
 *     in /proc/vmstat back to its value before the sweep);
 *   - vstub's module reference count is back to 0 (it could unload);
 *   - the devices are where they belong;
 *   - the kernel log has no report: a run whose log has one is printed
 *     whole between KLOG markers for selftests/lib/klog-check, which tells
 *     the known core-kernel reports (selftests/debug/allowlist) apart.
 * Every VSTUB_SWEEP_CHECK_EVERY runs (default 100) and at the end of each
 * sequence: kmemleak's two scans, and vstub is unloaded and loaded again.
 * The whole sweep stops (and fails) after VSTUB_SWEEP_BUDGET seconds.
 * VSTUB_SWEEP_ONLY=NAME[,NAME]: only these sequences (the others skip).
 */
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"
#include "vstub.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define HUGE_SZ		(2UL << 20)
#define NL_TIMEOUT_MS	1500

static time_t sweep_deadline;

/* One budget for all the cases (the harness forks one child per case). */
__attribute__((constructor)) static void sweep_budget(void)
{
	sweep_deadline = time(NULL) +
		atoi(vstub_env("VSTUB_SWEEP_BUDGET", "1200"));
}

#include "vstub_sweep_seq.h"

/* ---- the devices' expected places, restored with injection off ---- */

static int wait_driver(const char *bdf, const char *drv)
{
	return pci_wait_driver(bdf, drv, 15000) ? 0 : -ETIMEDOUT;
}

static int seq_setup(struct ctx *c)
{
	int ret;

	ret = vstub_unload_if_loaded();
	/*
	 * edu enabled from sysfs while it has no driver: vstub's
	 * pci_enable_device() at every open is then a reference count, not
	 * an ACPI _PRT evaluation (hundreds of the ACPI interpreter's
	 * allocations, ~3 s a run under KASAN, and a known ACPICA
	 * use-after-free when one fails).
	 */
	if (!ret && !pci_driver_is(c->edu, ""))
		ret = pci_unbind(c->edu);
	if (!ret) {
		unsigned long on = 0;

		if (!pci_read_ulong(c->edu, "enable", &on) && !on)
			ret = pci_write_attr(c->edu, "enable", "1");
	}
	if (!ret)
		ret = vstub_load("ids=1234:11e8");
	if (!ret)
		ret = wait_driver(c->edu, "vstub");
	if (!ret && c->nic[0] && !(ret = vstub_write("capture", c->nic)))
		ret = wait_driver(c->nic, "vstub");
	if (!ret && c->nvme[0] && !(ret = vstub_write("capture", c->nvme)))
		ret = wait_driver(c->nvme, "vstub");
	if (!ret)
		ret = pv_open(c);
	return ret;
}

/* After a run: the test device neither captured nor in the ID table. */
static int sweep_restore(struct ctx *c)
{
	unsigned long vfs;
	int ret = 0;

	vstub_write("id_del", "1b36:0005");
	if (c->testdev[0] && pci_driver_is(c->testdev, "vstub"))
		vstub_write("release", c->testdev);
	if (c->testdev[0] && !pci_driver_is(c->testdev, ""))
		ret = -EBUSY;
	if (c->nvme[0]) {
		struct ctx n = { .nl = -1, .efd = { -1, -1 } };

	vfio_ctx_init(&n.v);	/* no fd 0 closed by ctx_cleanup() */
	vfio_ctx_init(&n.pv);

		if (pci_read_ulong(c->nvme, "sriov_numvfs", &vfs))
			return -EIO;
		if (vfs) {
			if (!nl_open(&n))
				nl_cmd(&n, VSTUB_CMD_SRIOV_SET, false, VSTUB_A_BDF,
				       c->nvme, 0);
			ctx_cleanup(&n);
		}
	}
	return ret;
}

/* Unload vstub: every device back to the driver it had before. */
static int seq_teardown(struct ctx *c, char *why, size_t len)
{
	int ret;

	vfio_ctx_close(&c->pv);
	ret = vstub_unload_if_loaded();

	if (ret) {
		snprintf(why, len, "vstub does not unload (%d)", ret);
		return ret;
	}
	if (c->nic[0] && wait_driver(c->nic, "e1000e")) {
		snprintf(why, len, "%s is not back on e1000e", c->nic);
		return -EIO;
	}
	if (c->nvme[0] && wait_driver(c->nvme, "nvme")) {
		snprintf(why, len, "%s is not back on nvme", c->nvme);
		return -EIO;
	}
	if (!pci_driver_is(c->edu, "")) {
		snprintf(why, len, "edu is still bound");
		return -EIO;
	}
	pci_write_attr(c->edu, "enable", "0");
	return 0;
}

/* ---- the checks ---- */

static long pins_outstanding(void)
{
	long acq = -1, rel = -1;
	char line[128];
	FILE *f;

	sysfs_write("/proc/sys/vm/stat_refresh", "1");
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "nr_foll_pin_acquired %ld", &acq);
		sscanf(line, "nr_foll_pin_released %ld", &rel);
	}
	fclose(f);
	return acq - rel;
}

static int module_refcnt(void)
{
	unsigned long v;

	if (sysfs_read_ulong("/sys/module/vstub/refcnt", &v))
		return -1;
	return v;
}

static const char * const report_start[] = {
	"BUG:", "WARNING:", "Oops", "general protection", "Kernel panic",
	"kernel BUG at", "ODEBUG:", "INFO: task", "INFO: trying to register",
	"detected stall", "corruption", "UBSAN:",
	"sleeping function called from invalid context", NULL,
};

static bool has_report(const char *log)
{
	for (int i = 0; report_start[i]; i++)
		if (strstr(log, report_start[i]))
			return true;
	return false;
}

/* The kernel log since the last call (read and cleared), or NULL. */
static char *klog_take(void)
{
	return klog_read(4 /* SYSLOG_ACTION_READ_CLEAR */);
}

/* The log of a run, for selftests/lib/klog-check. */
static void klog_emit(const char *what, const char *log, const char *leaks)
{
	printf("@@VSTUB@@ KLOG-BEGIN vstub_sweep/%s\n%s%s%s@@VSTUB@@ KLOG-END\n",
	       what, log, *log && log[strlen(log) - 1] != '\n' ? "\n" : "",
	       leaks ? leaks : "");
	fflush(stdout);
}

/* kmemleak's two scans; returns its findings (malloc'ed) or NULL. */
static char *kmemleak_check(void)
{
	char *buf;

	if (!path_exists(KMEMLEAK))
		return NULL;
	sysfs_write(KMEMLEAK, "scan");
	vstub_msleep(6000);
	sysfs_write(KMEMLEAK, "scan");
	buf = calloc(1, 65536);
	if (buf && sysfs_read(KMEMLEAK, buf, 65536) <= 0) {
		free(buf);
		buf = NULL;
	}
	sysfs_write(KMEMLEAK, "clear");
	return buf;
}

/*
 * The task's fail-nth file, opened once: opening it during a run would add
 * injection points of its own.
 */
static int fail_fd = -1;

static int fail_nth_set(unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	if (fail_fd < 0)
		fail_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	if (fail_fd < 0)
		return -errno;
	return pwrite(fail_fd, s, len, 0) == len ? 0 : -errno;
}

/* After a run: >0 no injection happened, 0 one did. */
static long fail_nth_left(void)
{
	char s[32] = "";
	ssize_t n;

	n = pread(fail_fd, s, sizeof(s) - 1, 0);
	/* The read's own copy to user space may be the injected one. */
	if (n < 0 && errno == EFAULT)
		return 1;
	return n < 0 ? -errno : strtol(s, NULL, 10);
}

static int arm_fault_injection(void)
{
	static const char * const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/failslab/verbose", "2" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "2" },
		{ "/sys/kernel/debug/fail_usercopy/verbose", "2" },
		/* Every injection logged, for the expected errno. */
		{ "/sys/kernel/debug/failslab/verbose_ratelimit_interval_ms", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose_ratelimit_interval_ms", "0" },
		{ "/sys/kernel/debug/fail_usercopy/verbose_ratelimit_interval_ms", "0" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if (sysfs_write(knobs[i][0], knobs[i][1]) &&
		    !strstr(knobs[i][0], "fail_usercopy"))
			return -ENOENT;
	}
	return 0;
}

/* The kind of the injected fault, from the run's log. */
static const char *fault_kind(const char *log)
{
	const char *p = strstr(log, "FAULT_INJECTION: forcing a failure");

	if (!p)
		return NULL;
	if (strstr(p, "name fail_usercopy"))
		return "usercopy";
	if (strstr(p, "name failslab"))
		return "slab";
	if (strstr(p, "name fail_page_alloc"))
		return "page";
	return "other";
}

static bool errno_expected(const struct ctx *c, const char *kind, int err)
{
	if (c->netlink_step && (err == -ENOBUFS || err == -EAGAIN))
		return true;	/* netlink drops messages it cannot allocate */
	/* The core's socket(): a failed inode allocation is ENFILE. */
	if (c->socket_step && err == -ENFILE)
		return true;
	/*
	 * The core's errno for any failure: pci_alloc_irq_vectors() gives
	 * ENOSPC (msi_handle_pci_fail()) or, when the device's MSI domain
	 * cannot be created, ENODEV (passed through, as vfio-pci does);
	 * hugetlbfs' reservation for mmap(MAP_HUGETLB) gives ENOSPC.
	 */
	if (!strncmp(c->step, "SET_IRQS MSI", 12) &&
	    (err == -ENOSPC || err == -ENODEV))
		return true;
	if (err == -ENOSPC && !strcmp(c->step, "mmap huge page"))
		return true;

	/* Not logged: an allocation with __GFP_NOWARN (user copies log). */
	if (!kind)
		return err == -ENOMEM;
	if (!strcmp(kind, "usercopy"))
		return err == -EFAULT;
	return err == -ENOMEM;
}

/* The injection's stack, for a diagnostic. */
static void print_fault_site(const char *log)
{
	const char *p = strstr(log, "FAULT_INJECTION: forcing a failure");
	int lines = 0;

	while (p && *p && lines < 40) {
		const char *e = strchr(p, '\n');
		int len = e ? (int)(e - p) : (int)strlen(p);

		printf("#   %.*s\n", len, p);
		if (strstr(p, "</TASK>") && strstr(p, "</TASK>") < p + len)
			break;
		p = e ? e + 1 : NULL;
		lines++;
	}
}

struct sweep_result {
	unsigned int runs, bad_errno, bad_pins, bad_ref, bad_restore, reports;
	char first[256];
};

static void note(struct sweep_result *r, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# %s\n", msg);
	if (!r->first[0])
		vstub_strlcpy(r->first, msg, sizeof(r->first));
}

static int checkpoint(struct ctx *c, const char *name, struct sweep_result *r,
		      bool reload)
{
	char why[128], *leaks, *log;
	char what[64];
	int ret;

	leaks = kmemleak_check();
	log = klog_take();
	snprintf(what, sizeof(what), "%s/kmemleak-after-%u-runs", name, r->runs);
	if (leaks && *leaks) {
		note(r, "%s: kmemleak reports after %u runs", name, r->runs);
		klog_emit(what, log ? log : "", leaks);
		r->reports++;
	} else if (log && has_report(log)) {
		klog_emit(what, log, NULL);
		r->reports++;
	}
	free(leaks);
	free(log);
	ret = seq_teardown(c, why, sizeof(why));
	if (ret) {
		note(r, "%s after %u runs: %s", name, r->runs, why);
		r->bad_restore++;
		return ret;
	}
	if (reload) {
		ret = seq_setup(c);
		if (ret)
			note(r, "%s: vstub cannot be set up again (%d)", name, ret);
	}
	return ret;
}

static int sweep(struct ctx *c, const char *name, int (*run)(struct ctx *),
		 struct sweep_result *r)
{
	unsigned int every = atoi(vstub_env("VSTUB_SWEEP_CHECK_EVERY", "100"));
	long pins0;
	unsigned int nth;
	int ret, ref0;

	memset(r, 0, sizeof(*r));
	ret = seq_setup(c);
	if (ret) {
		note(r, "%s: set-up failed (%d)", name, ret);
		return ret;
	}
	free(klog_take());
	pins0 = pins_outstanding();
	ref0 = module_refcnt();	/* the device kept open holds some */
	for (nth = 1; ; nth++) {
		char mark[128], *log;
		const char *kind, *step;
		long left, pins;
		int err;

		if (time(NULL) > sweep_deadline) {
			note(r, "%s: time budget exhausted at nth=%u", name, nth);
			return -ETIMEDOUT;
		}
		if (run == seq_sriov) {
			ret = sriov_prepare(c);
			if (ret) {
				note(r, "%s nth=%u: cannot create the VFs (%d)",
				     name, nth, ret);
				return ret;
			}
		}
		snprintf(mark, sizeof(mark), "<5>vstub-sweep: %s nth=%u\n", name, nth);
		sysfs_write("/dev/kmsg", mark);
		c->step = "";
		c->nth = nth;
		c->netlink_step = c->socket_step = c->id_capture_failed = false;
		ret = fail_nth_set(nth);
		if (ret)
			return ret;
		err = run(c);
		left = fail_nth_left();
		fail_nth_set(0);
		step = c->step;
		ctx_cleanup(c);
		pv_restore(c);
		r->runs++;
		if (sweep_restore(c)) {
			note(r, "%s nth=%u: the test device stays captured", name, nth);
			r->bad_restore++;
		}
		log = klog_take();
		if (!log)
			return -ENOMEM;
		kind = fault_kind(log);
		if (c->id_capture_failed &&
		    !strstr(log, "matches vstub's IDs but could not be captured")) {
			note(r, "%s nth=%u: the ID's device was not captured, and nothing said so",
			     name, nth);
			r->bad_errno++;
		}
		if (err < 0 && (left > 0 || !errno_expected(c, kind, err))) {
			note(r, "%s nth=%u: step '%s' failed with %d (%s) after %s",
			     name, nth, step, err, strerror(-err),
			     left > 0 ? "no injection" :
			     kind ? kind : "an injection not logged");
			print_fault_site(log);
			r->bad_errno++;
		}
		if (has_report(log)) {
			printf("# %s nth=%u: kernel report (step '%s'), see the log\n",
			       name, nth, step);
			klog_emit(name, log, NULL);
			r->reports++;
		}
		free(log);
		pins = pins_outstanding();
		if (pins != pins0) {
			vstub_msleep(200);
			pins = pins_outstanding();
		}
		if (pins != pins0) {
			note(r, "%s nth=%u: %ld pinned pages not released", name,
			     nth, pins - pins0);
			r->bad_pins++;
			pins0 = pins;
		}
		if (module_refcnt() != ref0) {
			note(r, "%s nth=%u: vstub's reference count is %d, was %d",
			     name, nth, module_refcnt(), ref0);
			r->bad_ref++;
		}
		if (left > 0)
			break;	/* this run saw no injection: done */
		if (!(nth % 50)) {
			printf("# %s: %u runs so far\n", name, nth);
			fflush(stdout);
		}
		if (every && !(nth % every)) {
			if (checkpoint(c, name, r, true))
				return -EIO;
			ref0 = module_refcnt();
		}
	}
	printf("# %s: %u runs, %u injection points\n", name, r->runs, r->runs - 1);
	return checkpoint(c, name, r, false);
}

/* ---- the tests ---- */

FIXTURE(sweep) {
	struct ctx c;
};

/*
 * Grow the stack now: a stack expansion that fails under injection is a
 * SIGSEGV of this program, not an errno of vstub.
 */
static void __attribute__((noinline)) prefault_stack(void)
{
	volatile char big[256 * 1024];

	memset((char *)big, 0, sizeof(big));
}

FIXTURE_SETUP(sweep)
{
	struct ctx *c = &self->c;

	prefault_stack();
	memset(c, 0, sizeof(*c));
	vfio_ctx_init(&c->v);
	vfio_ctx_init(&c->pv);
	c->efd[0] = c->efd[1] = c->nl = -1;
	memset(nl_buf, 0, sizeof(nl_buf));
	if (!path_exists(FAIL_NTH) || arm_fault_injection())
		SKIP(return, "no fault injection in this kernel (%s)", FAIL_NTH);
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, c->edu, sizeof(c->edu)));
	/* Huge pages for MAP_DMA of huge-page memory. */
	sysfs_write("/proc/sys/vm/nr_hugepages", "4");
	ASSERT_EQ(0, frag_build());
}

FIXTURE_TEARDOWN(sweep)
{
	char why[128];

	ctx_cleanup(&self->c);
	seq_teardown(&self->c, why, sizeof(why));
	frag_free();
}

#define SWEEP_CASE(test, fn, ...) \
TEST_F_TIMEOUT(sweep, test, 3000)						\
{										\
	struct sweep_result r;							\
	struct ctx *c = &self->c;						\
	int ret;								\
										\
	if (getenv("VSTUB_SWEEP_ONLY") &&					\
	    !strstr(getenv("VSTUB_SWEEP_ONLY"), #test))				\
		SKIP(return, "not in VSTUB_SWEEP_ONLY");			\
	__VA_ARGS__								\
	ret = sweep(c, #test, fn, &r);						\
	EXPECT_EQ(0, ret) TH_LOG("%s", r.first);				\
	EXPECT_EQ(0, r.bad_errno) TH_LOG("%s", r.first);			\
	EXPECT_EQ(0, r.bad_pins) TH_LOG("%s", r.first);				\
	EXPECT_EQ(0, r.bad_ref) TH_LOG("%s", r.first);				\
	EXPECT_EQ(0, r.bad_restore) TH_LOG("%s", r.first);			\
	if (r.reports)								\
		TH_LOG("%u run(s) with a kernel report: klog-check judges them", \
		       r.reports);						\
}

SWEEP_CASE(vfio_open, seq_vfio_open)
SWEEP_CASE(vfio_ops, seq_vfio_ops, c->pv_bdf = c->edu;)
SWEEP_CASE(vfio_msix_e1000e, seq_vfio_msix,
	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, c->nic, sizeof(c->nic)))
		SKIP(return, "no e1000e");
	c->pv_bdf = c->nic;)
SWEEP_CASE(netlink, seq_netlink,
	if (pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0, c->testdev,
		     sizeof(c->testdev)))
		SKIP(return, "no pci-testdev");)
SWEEP_CASE(sysfs_capture_release, seq_sysfs,
	if (pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0, c->testdev,
		     sizeof(c->testdev)))
		SKIP(return, "no pci-testdev");)
SWEEP_CASE(sriov, seq_sriov,
	if (!vstub_env_is("VSTUB_SRIOV", "1") ||
	    pci_find(NVME_VENDOR, NVME_DEVICE, 0, c->nvme, sizeof(c->nvme)))
		SKIP(return, "no SR-IOV NVMe");)

TEST_HARNESS_MAIN
