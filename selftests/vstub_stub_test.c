// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_stub_test - the stub driver: the ids= and bdfs= parameters,
 * id_add/id_del/ids, capture/release by address, captured, new_id, and
 * giving devices back on unload.  Runs as root in a QEMU guest with edu (no driver), e1000e, nvme
 * (SR-IOV), qemu-xhci and a second ich9-ahci bound to their drivers.
 */
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_test.h"

#define BDF_LEN		32
#define LINE_LEN	256

/* The guest's devices, their drivers at boot, and a scratch buffer. */
struct devs {
	char edu[BDF_LEN];
	char e1000e[BDF_LEN];
	char nvme[BDF_LEN];
	char xhci[BDF_LEN];
	char ahci[BDF_LEN];	/* the added ich9-ahci, not the chipset's 1f.2 */
};

static int find_devs(struct devs *d)
{
	int i;

	if (pci_find(EDU_VENDOR, EDU_DEVICE, 0, d->edu, BDF_LEN) ||
	    pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, d->e1000e, BDF_LEN) ||
	    pci_find(NVME_VENDOR, NVME_DEVICE, 0, d->nvme, BDF_LEN) ||
	    pci_find(XHCI_VENDOR, XHCI_DEVICE, 0, d->xhci, BDF_LEN))
		return -ENODEV;
	for (i = 0; !pci_find(AHCI_VENDOR, AHCI_DEVICE, i, d->ahci, BDF_LEN); i++)
		if (strcmp(d->ahci, "0000:00:1f.2"))
			return 0;
	return -ENODEV;
}

/*
 * Unload vstub and put every device back the way the guest booted, so that
 * one failed test cannot spoil the next.  The tests check what vstub itself
 * gives back; this only repairs.
 */
static void reset_devs(const struct devs *d)
{
	const char *bound[] = { d->e1000e, d->nvme, d->xhci, d->ahci };
	unsigned int i;

	vstub_unload_if_loaded();
	for (i = 0; i < sizeof(bound) / sizeof(bound[0]); i++)
		if (bound[i][0] && pci_driver_is(bound[i], ""))
			pci_probe(bound[i]);
	if (d->edu[0] && !pci_driver_is(d->edu, ""))
		pci_unbind(d->edu);
}

/* "0000:00:03.0" -> "00:03.0" */
static const char *short_bdf(const char *bdf)
{
	return strlen(bdf) == 12 ? bdf + 5 : bdf;
}

/* ------------------------------------------------------------------------
 * Loading with ids=: each test loads vstub with its own parameters.
 */
FIXTURE(load)
{
	struct devs d;
	char mark[128];
	char line[LINE_LEN];
};

FIXTURE_SETUP(load)
{
	memset(&self->d, 0, sizeof(self->d));
	ASSERT_EQ(0, find_devs(&self->d)) TH_LOG("QEMU test devices missing");
	reset_devs(&self->d);
	ASSERT_FALSE(vstub_loaded());
	ASSERT_TRUE(pci_driver_is(self->d.edu, ""));
	ASSERT_TRUE(pci_driver_is(self->d.e1000e, "e1000e"));
	ASSERT_EQ(0, kmsg_mark(self->mark, sizeof(self->mark)));
}

FIXTURE_TEARDOWN(load)
{
	reset_devs(&self->d);
}

TEST_F(load, no_params)
{
	static const char * const attrs[] = {
		"id_add", "id_del", "ids", "capture", "release", "captured",
	};
	char path[128];
	unsigned int i;

	ASSERT_EQ(0, vstub_load(""));
	ASSERT_TRUE(vstub_loaded());
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), VSTUB_DRV_DIR "/%s", attrs[i]);
		EXPECT_TRUE(path_exists(path)) TH_LOG("no %s", path);
	}
	EXPECT_EQ(0, vstub_count_lines("ids"));
	EXPECT_EQ(0, vstub_count_lines("captured"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
	ASSERT_EQ(0, vstub_unload());
	EXPECT_FALSE(path_exists(VSTUB_DRV_DIR));
}

TEST_F(load, ids_captures_unbound_device)
{
	ASSERT_EQ(0, vstub_load("ids=1234:11e8"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	EXPECT_TRUE(vstub_has_line("ids", "1234:11e8"));
	EXPECT_EQ(1, vstub_count_lines("ids"));
	ASSERT_EQ(0, vstub_captured_line(self->d.edu, self->line, LINE_LEN));
	EXPECT_EQ(0, strcmp(self->line + strlen(self->d.edu),
			    " 1234:11e8 id -")) TH_LOG("captured: '%s'", self->line);
	/* Every edu of the guest (there may be several) is unbound. */
	EXPECT_EQ(pci_count(EDU_VENDOR, EDU_DEVICE),
		  vstub_count_lines("captured"));
	ASSERT_EQ(0, vstub_unload());
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
}

TEST_F(load, ids_skips_bound_device)
{
	/* e1000e's ID: it is bound at load, so it stays with e1000e. */
	ASSERT_EQ(0, vstub_load("ids=8086:10d3,1234:11e8"));
	EXPECT_TRUE(pci_driver_is(self->d.e1000e, "e1000e"));
	EXPECT_EQ(-ENOENT, vstub_captured_line(self->d.e1000e, self->line,
					       LINE_LEN));
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	EXPECT_TRUE(vstub_has_line("ids", "8086:10d3"));
	EXPECT_TRUE(vstub_has_line("ids", "1234:11e8"));
}

TEST_F(load, ids_malformed_entry_skipped)
{
	ASSERT_EQ(0, vstub_load("ids=zzzz,1234:11e8,8086"));
	EXPECT_TRUE(dmesg_line_since(self->mark, "vstub", "\"zzzz\""))
		TH_LOG("no kernel log line names the malformed entry \"zzzz\"");
	EXPECT_TRUE(dmesg_line_since(self->mark, "vstub", "\"8086\""))
		TH_LOG("no kernel log line names the malformed entry \"8086\"");
	EXPECT_EQ(1, vstub_count_lines("ids"));
	EXPECT_TRUE(vstub_has_line("ids", "1234:11e8"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
}

TEST_F(load, ids_subsystem_and_class)
{
	unsigned long sv, sd, cls;
	char params[160], id_sub[64], id_cls[64];

	ASSERT_EQ(0, pci_read_ulong(self->d.edu, "subsystem_vendor", &sv));
	ASSERT_EQ(0, pci_read_ulong(self->d.edu, "subsystem_device", &sd));
	ASSERT_EQ(0, pci_read_ulong(self->d.edu, "class", &cls));
	snprintf(id_sub, sizeof(id_sub), "1234:11e8:%04lx:%04lx", sv, sd);
	snprintf(id_cls, sizeof(id_cls),
		 "1234:11e8:ffffffff:ffffffff:%06lx:ffffff", cls);
	/* "any" subsystem IDs are not shown; an explicit one is. */
	snprintf(params, sizeof(params),
		 "ids=%s,1234:11e8:ffffffff:ffffffff,%s", id_sub, id_cls);
	ASSERT_EQ(0, vstub_load(params));
	EXPECT_TRUE(vstub_has_line("ids", id_sub)) TH_LOG("want %s", id_sub);
	EXPECT_TRUE(vstub_has_line("ids", "1234:11e8"));
	EXPECT_TRUE(vstub_has_line("ids", id_cls)) TH_LOG("want %s", id_cls);
	EXPECT_EQ(3, vstub_count_lines("ids"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
}

TEST_F(load, ids_nonmatching_subsystem_or_class)
{
	unsigned long cls;
	char params[160];

	ASSERT_EQ(0, pci_read_ulong(self->d.edu, "class", &cls));
	snprintf(params, sizeof(params),
		 "ids=1234:11e8:abcd:ef01,1234:11e8:ffffffff:ffffffff:%06lx:ffffff",
		 cls ^ 0x010000);
	ASSERT_EQ(0, vstub_load(params));
	EXPECT_EQ(2, vstub_count_lines("ids"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
	EXPECT_EQ(0, vstub_count_lines("captured"));
}

TEST_F(load, bdfs_captures_from_host_driver)
{
	char params[128];

	/* e1000e has the NIC: bdfs= takes it and remembers e1000e. */
	snprintf(params, sizeof(params), "bdfs=zz:1,%s,", short_bdf(self->d.e1000e));
	ASSERT_EQ(0, vstub_load(params));
	EXPECT_TRUE(pci_driver_is(self->d.e1000e, "vstub"));
	ASSERT_EQ(0, vstub_captured_line(self->d.e1000e, self->line, LINE_LEN));
	EXPECT_EQ(0, strcmp(self->line + strlen(self->d.e1000e),
			    " 8086:10d3 bdf e1000e"))
		TH_LOG("captured: '%s'", self->line);
	EXPECT_TRUE(dmesg_line_since(self->mark, "vstub", "'zz:1'"))
		TH_LOG("no kernel log line names the malformed entry 'zz:1'");
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
	ASSERT_EQ(0, vstub_unload());
	EXPECT_TRUE(pci_wait_driver(self->d.e1000e, "e1000e", 2000));
}

TEST_F(load, bdfs_absent_function_captured_when_it_appears)
{
	char path[128], params[128];
	int i;

	/* edu is gone when vstub loads; the address is remembered ... */
	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/remove", self->d.edu);
	ASSERT_EQ(0, sysfs_write(path, "1"));
	snprintf(params, sizeof(params), "bdfs=%s", self->d.edu);
	ASSERT_EQ(0, vstub_load(params));
	EXPECT_EQ(0, vstub_count_lines("captured"));
	/* ... and the function is vstub's as soon as it appears. */
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
	for (i = 0; i < 100 && !pci_driver_is(self->d.edu, "vstub"); i++)
		vstub_msleep(50);
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	ASSERT_EQ(0, vstub_captured_line(self->d.edu, self->line, LINE_LEN));
	EXPECT_EQ(0, strcmp(self->line + strlen(self->d.edu), " 1234:11e8 bdf -"))
		TH_LOG("captured: '%s'", self->line);
	ASSERT_EQ(0, vstub_unload());
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
}

TEST_F(load, unload_gives_devices_back)
{
	const char *bdfs[] = {
		self->d.e1000e, self->d.nvme, self->d.xhci, self->d.ahci,
	};
	const char *drvs[] = { "e1000e", "nvme", "xhci_hcd", "ahci" };
	char path[128];
	unsigned int i;

	ASSERT_EQ(0, vstub_load("ids=1234:11e8"));
	for (i = 0; i < 4; i++) {
		const char *bdf = bdfs[i], *drv = drvs[i];

		ASSERT_TRUE(pci_driver_is(bdf, drv))
			TH_LOG("%s is not on %s at start", bdf, drv);
		ASSERT_EQ(0, vstub_write("capture", bdf)) TH_LOG("capture %s", bdf);
		EXPECT_TRUE(pci_driver_is(bdf, "vstub"));
	}
	EXPECT_EQ(4 + pci_count(EDU_VENDOR, EDU_DEVICE),
		  vstub_count_lines("captured"));
	ASSERT_EQ(0, vstub_unload());
	for (i = 0; i < 4; i++) {
		const char *bdf = bdfs[i], *drv = drvs[i];

		EXPECT_TRUE(pci_wait_driver(bdf, drv, 2000))
			TH_LOG("%s not back on %s", bdf, drv);
	}
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
	/* e1000e is working again: it registered a network interface. */
	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/net", self->d.e1000e);
	EXPECT_TRUE(path_exists(path));
}

/* ------------------------------------------------------------------------
 * The sysfs control files, with vstub loaded without parameters.
 */
FIXTURE(ctl)
{
	struct devs d;
	char line[LINE_LEN];
	char buf[4096];
};

FIXTURE_SETUP(ctl)
{
	memset(&self->d, 0, sizeof(self->d));
	ASSERT_EQ(0, find_devs(&self->d)) TH_LOG("QEMU test devices missing");
	reset_devs(&self->d);
	ASSERT_TRUE(pci_driver_is(self->d.edu, ""));
	ASSERT_TRUE(pci_driver_is(self->d.e1000e, "e1000e"));
	ASSERT_EQ(0, vstub_load(""));
}

FIXTURE_TEARDOWN(ctl)
{
	reset_devs(&self->d);
}

TEST_F(ctl, id_add_captures_unbound_device)
{
	ASSERT_EQ(0, vstub_write("id_add", "1234:11e8\n"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	EXPECT_TRUE(vstub_has_line("ids", "1234:11e8"));
	ASSERT_EQ(0, vstub_captured_line(self->d.edu, self->line, LINE_LEN));
	EXPECT_EQ(0, strcmp(self->line + strlen(self->d.edu),
			    " 1234:11e8 id -")) TH_LOG("captured: '%s'", self->line);
}

TEST_F(ctl, id_add_skips_bound_device)
{
	ASSERT_EQ(0, vstub_write("id_add", "8086:10d3"));
	EXPECT_TRUE(vstub_has_line("ids", "8086:10d3"));
	EXPECT_TRUE(pci_driver_is(self->d.e1000e, "e1000e"));
	EXPECT_EQ(0, vstub_count_lines("captured"));
}

TEST_F(ctl, id_add_malformed)
{
	static const char * const bad[] = {
		"hello", "1234", "1234:", ":11e8", "1234:xyz", "1234:11e8:zz",
		"1234 11e8", "\n",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *id = bad[i];

		EXPECT_EQ(-EINVAL, vstub_write("id_add", id))
			TH_LOG("id_add \"%s\"", id);
	}
	EXPECT_EQ(0, vstub_count_lines("ids"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
}

TEST_F(ctl, id_add_duplicate)
{
	ASSERT_EQ(0, vstub_write("id_add", "1234:11e8"));
	EXPECT_EQ(-EEXIST, vstub_write("id_add", "1234:11e8"));
	EXPECT_EQ(-EEXIST, vstub_write("id_add", "1234:11e8\n"));
	EXPECT_EQ(1, vstub_count_lines("ids"));
	/* Another subsystem makes it a different entry. */
	EXPECT_EQ(0, vstub_write("id_add", "1234:11e8:1af4:1100"));
	EXPECT_EQ(2, vstub_count_lines("ids"));
}

TEST_F(ctl, id_del)
{
	EXPECT_EQ(-ENOENT, vstub_write("id_del", "1234:11e8"));
	ASSERT_EQ(0, vstub_write("id_add", "1234:11e8"));
	ASSERT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	EXPECT_EQ(0, vstub_write("id_del", "1234:11e8\n"));
	EXPECT_EQ(0, vstub_count_lines("ids"));
	/* Already captured devices stay captured. */
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	EXPECT_EQ(0, vstub_captured_line(self->d.edu, self->line, LINE_LEN));
	EXPECT_EQ(-ENOENT, vstub_write("id_del", "1234:11e8"));
	EXPECT_EQ(-EINVAL, vstub_write("id_del", "bogus"));
}

TEST_F(ctl, capture_release_bound_device)
{
	char path[128];

	ASSERT_EQ(0, vstub_write("capture", self->d.e1000e));
	EXPECT_TRUE(pci_driver_is(self->d.e1000e, "vstub"));
	ASSERT_EQ(0, vstub_captured_line(self->d.e1000e, self->line, LINE_LEN));
	EXPECT_EQ(0, strcmp(self->line + strlen(self->d.e1000e),
			    " 8086:10d3 bdf e1000e"))
		TH_LOG("captured: '%s'", self->line);
	EXPECT_EQ(-EEXIST, vstub_write("capture", self->d.e1000e));
	EXPECT_EQ(-EEXIST, vstub_write("capture", short_bdf(self->d.e1000e)));

	ASSERT_EQ(0, vstub_write("release", self->d.e1000e));
	EXPECT_TRUE(pci_wait_driver(self->d.e1000e, "e1000e", 2000));
	EXPECT_EQ(-ENOENT, vstub_captured_line(self->d.e1000e, self->line,
					       LINE_LEN));
	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/net", self->d.e1000e);
	EXPECT_TRUE(path_exists(path)) TH_LOG("e1000e has no net interface");
	EXPECT_EQ(-EINVAL, vstub_write("release", self->d.e1000e));
}

TEST_F(ctl, capture_release_unbound_short_bdf)
{
	char want[64];

	ASSERT_EQ(0, vstub_write("capture", short_bdf(self->d.edu)));
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	ASSERT_EQ(0, vstub_captured_line(self->d.edu, self->line, LINE_LEN));
	snprintf(want, sizeof(want), "%s 1234:11e8 bdf -", self->d.edu);
	EXPECT_EQ(0, strcmp(self->line, want)) TH_LOG("captured: '%s'", self->line);
	/* No original driver: the PCI core finds none, edu stays unbound. */
	ASSERT_EQ(0, vstub_write("release", short_bdf(self->d.edu)));
	EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
	EXPECT_EQ(0, vstub_count_lines("captured"));
}

TEST_F(ctl, capture_errors)
{
	static const char * const malformed[] = {
		"zz", "0000:00:03", "00:03", "0000:00:20.0", "0000:00:03.8",
		"0000:100:03.0", "100000000:00:03.0", "0:100000000:03.0",
		"0:0:100000003.0", "0:0:3.100000000", "0000:00:03.0 x",
		"0000:00:03.0x", "1:2:3:4.0", ":00:03.0",
	};
	unsigned int i;

	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		const char *bdf = malformed[i];

		EXPECT_EQ(-EINVAL, vstub_write("capture", bdf))
			TH_LOG("capture \"%s\"", bdf);
	}
	/* The host bridge. */
	EXPECT_EQ(-EINVAL, vstub_write("capture", "0000:00:00.0"));
	EXPECT_TRUE(pci_driver_is("0000:00:00.0", ""));
	/* Nothing there. */
	EXPECT_EQ(-ENODEV, vstub_write("capture", "0000:42:1f.7"));
	EXPECT_EQ(-ENODEV, vstub_write("capture", "0001:00:03.0"));
	EXPECT_EQ(0, vstub_count_lines("captured"));
}

/*
 * A capture racing the module's unload must not leave driver_override set
 * to "vstub" on a device nobody drives (edu, with a child capturing and
 * releasing it by address as fast as it can while vstub goes away).
 */
TEST_F_TIMEOUT(ctl, capture_vs_unload, 180)
{
	char ovr[64], path[256];
	int round, stuck = 0, status;
	pid_t pid;

	for (round = 0; round < 25; round++) {
		if (round)
			ASSERT_EQ(0, vstub_load(""));
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid) {
			for (;;) {
				vstub_write("capture", self->d.edu);
				vstub_write("release", self->d.edu);
			}
		}
		vstub_msleep(20 + round * 7 % 60);
		EXPECT_EQ(0, vstub_unload());
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/driver_override",
			 self->d.edu);
		ASSERT_LT(0, sysfs_read(path, ovr, sizeof(ovr)));
		if (strcmp(ovr, "(null)\n")) {
			TH_LOG("round %d: driver_override '%s' left behind",
			       round, ovr);
			stuck++;
			pci_write_attr(self->d.edu, "driver_override", "\n");
		}
		EXPECT_TRUE(pci_driver_is(self->d.edu, ""));
	}
	EXPECT_EQ(0, stuck);
}

TEST_F(ctl, release_errors)
{
	EXPECT_EQ(-ENODEV, vstub_write("release", "0000:42:1f.7"));
	EXPECT_EQ(-EINVAL, vstub_write("release", self->d.e1000e));
	EXPECT_TRUE(pci_driver_is(self->d.e1000e, "e1000e"));
	EXPECT_EQ(-EINVAL, vstub_write("release", self->d.edu));
	EXPECT_EQ(-EINVAL, vstub_write("release", "zz"));
}

TEST_F(ctl, new_id_reason)
{
	char want[64];

	ASSERT_EQ(0, vstub_write("new_id", "1234 11e8"));
	EXPECT_TRUE(pci_driver_is(self->d.edu, "vstub"));
	ASSERT_EQ(0, vstub_captured_line(self->d.edu, self->line, LINE_LEN));
	snprintf(want, sizeof(want), "%s 1234:11e8 new_id -", self->d.edu);
	EXPECT_EQ(0, strcmp(self->line, want)) TH_LOG("captured: '%s'", self->line);
	EXPECT_EQ(0, vstub_write("remove_id", "1234 11e8"));
}

TEST_F(ctl, captured_format)
{
	char *s, *save = NULL;
	int n = 0;

	ASSERT_EQ(0, vstub_write("id_add", "1234:11e8"));
	ASSERT_EQ(0, vstub_write("capture", self->d.e1000e));
	ASSERT_EQ(0, vstub_write("capture", self->d.xhci));
	ASSERT_GT(vstub_read("captured", self->buf, sizeof(self->buf)), 0);
	for (s = strtok_r(self->buf, "\n", &save); s;
	     s = strtok_r(NULL, "\n", &save), n++) {
		char bdf[32], id[32], reason[16], orig[64], extra[8];
		unsigned int dom, bus, dev, fn, v, d;

		ASSERT_EQ(4, sscanf(s, "%31s %31s %15s %63s %7s",
				    bdf, id, reason, orig, extra))
			TH_LOG("line '%s'", s);
		EXPECT_EQ(4, sscanf(bdf, "%4x:%2x:%2x.%1x", &dom, &bus, &dev, &fn));
		EXPECT_EQ(2, sscanf(id, "%4x:%4x", &v, &d));
		EXPECT_EQ(9, (int)strlen(id));
		EXPECT_TRUE(!strcmp(reason, "id") || !strcmp(reason, "bdf"));
	}
	EXPECT_EQ(2 + pci_count(EDU_VENDOR, EDU_DEVICE), n);
	ASSERT_EQ(0, vstub_captured_line(self->d.xhci, self->line, LINE_LEN));
	EXPECT_EQ(0, strcmp(self->line + strlen(self->d.xhci),
			    " 1b36:000d bdf xhci_hcd")) TH_LOG("'%s'", self->line);
}

/* ------------------------------------------------------------------------
 * SR-IOV virtual functions of the NVMe controller, left without a driver.
 */
FIXTURE(vf)
{
	struct devs d;
	char vf[BDF_LEN];
	char line[LINE_LEN];
};

static int read_vf_bdf(const char *pf, int n, char *bdf, size_t len)
{
	char path[128], link[128], *base;
	ssize_t r;

	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/virtfn%d", pf, n);
	r = readlink(path, link, sizeof(link) - 1);
	if (r < 0)
		return -errno;
	link[r] = '\0';
	base = strrchr(link, '/');
	vstub_strlcpy(bdf, base ? base + 1 : link, len);
	return 0;
}

FIXTURE_SETUP(vf)
{
	memset(&self->d, 0, sizeof(self->d));
	if (!vstub_env_is("VSTUB_SRIOV", "1"))
		SKIP(return, "no SR-IOV device in this configuration");
	ASSERT_EQ(0, find_devs(&self->d));
	reset_devs(&self->d);
	ASSERT_EQ(0, pci_write_attr(self->d.nvme, "sriov_drivers_autoprobe", "0"));
	ASSERT_EQ(0, pci_write_attr(self->d.nvme, "sriov_numvfs", "2"));
	ASSERT_EQ(0, read_vf_bdf(self->d.nvme, 0, self->vf, BDF_LEN));
	ASSERT_TRUE(pci_driver_is(self->vf, ""));
	ASSERT_EQ(0, vstub_load(""));
}

FIXTURE_TEARDOWN(vf)
{
	if (!self->d.nvme[0])
		return;
	reset_devs(&self->d);
	pci_write_attr(self->d.nvme, "sriov_numvfs", "0");
	pci_write_attr(self->d.nvme, "sriov_drivers_autoprobe", "1");
}

TEST_F(vf, capture_release_vf)
{
	char want[64];

	ASSERT_EQ(0, vstub_write("capture", self->vf));
	EXPECT_TRUE(pci_driver_is(self->vf, "vstub"));
	ASSERT_EQ(0, vstub_captured_line(self->vf, self->line, LINE_LEN));
	snprintf(want, sizeof(want), "%s 1b36:0010 bdf -", self->vf);
	EXPECT_EQ(0, strcmp(self->line, want)) TH_LOG("captured: '%s'", self->line);
	/* The PF is untouched. */
	EXPECT_TRUE(pci_driver_is(self->d.nvme, "nvme"));
	ASSERT_EQ(0, vstub_write("release", self->vf));
	EXPECT_TRUE(pci_driver_is(self->vf, ""));
}

TEST_F(vf, unload_with_vf_captured)
{
	ASSERT_EQ(0, vstub_write("capture", self->vf));
	ASSERT_EQ(0, vstub_unload());
	EXPECT_TRUE(pci_driver_is(self->vf, ""));
	EXPECT_TRUE(pci_driver_is(self->d.nvme, "nvme"));
}

TEST_HARNESS_MAIN
