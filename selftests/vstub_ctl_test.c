// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_ctl_test - vstubctl, the helper, over the generic netlink family:
 * capture/list/--json agree with sysfs, errors name what to do, watch
 * prints the monitor group's events, status, persistence applied at boot,
 * and handoff to another driver.  vstubctl is looked up as $VSTUBCTL,
 * /usr/bin/vstubctl, /bin/vstubctl; every test is skipped without it.
 */
#include "kselftest_harness.h"
#include "vstub_nl_util.h"

#define NEED_CTL() do {							\
	if (!vstubctl_path())						\
		SKIP(return, "vstubctl not found (copy user/vstubctl.static to /usr/bin/vstubctl)"); \
} while (0)

TEST_F(nl, ctl_capture_list_json)
{
	char out[8192], obj[2048], frag[128], args[128];
	int grp;

	NEED_CTL();
	snprintf(args, sizeof(args), "capture %s", self->e1000e);
	ASSERT_EQ(0, run_ctl(args, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(pci_driver_is(self->e1000e, "vstub"));
	ASSERT_EQ(0, run_ctl("--json list", out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, json_obj_with(out, "bdf", self->e1000e, obj, sizeof(obj)))
		TH_LOG("%s", out);
	EXPECT_TRUE(json_has(obj, "\"driver\":\"vstub\""));
	EXPECT_TRUE(json_has(obj, "\"captured\":true"));
	EXPECT_TRUE(json_has(obj, "\"reason\":\"bdf\""));
	EXPECT_TRUE(json_has(obj, "\"orig_driver\":\"e1000e\""));
	EXPECT_TRUE(json_has(obj, "\"id\":\"8086:10d3\""));
	grp = pci_iommu_group(self->e1000e);
	if (grp >= 0)
		snprintf(frag, sizeof(frag), "\"iommu_group\":%d,", grp);
	else
		snprintf(frag, sizeof(frag), "\"iommu_group\":null");
	EXPECT_TRUE(json_has(obj, frag)) TH_LOG("%s in %s", frag, obj);

	snprintf(args, sizeof(args), "--json explain %s", self->e1000e);
	if (grp >= 0) {
		ASSERT_EQ(0, run_ctl(args, out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_TRUE(json_has(out, "\"viable\":true")) TH_LOG("%s", out);
		EXPECT_EQ(0, json_obj_with(out, "device", self->e1000e, obj, sizeof(obj)));
		EXPECT_TRUE(json_has(obj, "\"blocks\":false"));
	} else {
		EXPECT_EQ(1, run_ctl(args, out, sizeof(out)));
		EXPECT_NE(NULL, strstr(out, "no IOMMU group")) TH_LOG("%s", out);
	}

	snprintf(args, sizeof(args), "release %s", self->e1000e);
	ASSERT_EQ(0, run_ctl(args, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(pci_wait_driver(self->e1000e, "e1000e", 3000));
	ASSERT_EQ(0, run_ctl("--json list", out, sizeof(out)));
	EXPECT_STREQ("[]\n", out);
}

TEST_F(nl, ctl_errors)
{
	char out[4096], args[128];

	NEED_CTL();
	/* the kernel's extack text reaches the user */
	EXPECT_EQ(1, run_ctl("ids add 1234:zz", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "malformed ID")) TH_LOG("%s", out);
	EXPECT_EQ(1, run_ctl("capture 0000:00:1e.7", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "no PCI device at that address")) TH_LOG("%s", out);
	snprintf(args, sizeof(args), "release %s", self->edu);
	EXPECT_EQ(1, run_ctl(args, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "not captured")) TH_LOG("%s", out);
	/* usage errors */
	EXPECT_EQ(2, run_ctl("capture 00:02.x", out, sizeof(out)));
	EXPECT_EQ(2, run_ctl("sriov", out, sizeof(out)));
	EXPECT_EQ(2, run_ctl("nonsense", out, sizeof(out)));
	EXPECT_EQ(0, run_ctl("capture --help", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "usage"));
	EXPECT_EQ(0, vstub_count_lines("captured"));
	EXPECT_EQ(0, vstub_count_lines("ids"));
}

TEST_F(nl, ctl_watch)
{
	char out[4096], cmd[256];
	FILE *p;
	size_t got = 0;
	struct nlres r = { 0 };

	NEED_CTL();
	snprintf(cmd, sizeof(cmd), "%s --json watch --count 2 --timeout 20 2>&1",
		 vstubctl_path());
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	/* "watching" is printed once subscribed */
	ASSERT_NE(NULL, fgets(out, sizeof(out), p));
	EXPECT_NE(NULL, strstr(out, "watching"));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
			   self->edu, &r));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
			   self->edu, &r));
	while (got < sizeof(out) - 1) {
		size_t n = fread(out + got, 1, sizeof(out) - 1 - got, p);

		if (!n)
			break;
		got += n;
	}
	out[got] = '\0';
	EXPECT_EQ(0, pclose(p));
	EXPECT_NE(NULL, strstr(out, "\"event\":\"captured\"")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"event\":\"released\"")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, self->edu));
}

TEST_F(nl, ctl_status)
{
	char out[8192], frag[64];
	const char *type = vstub_iommu();

	NEED_CTL();
	/* with the module, then without */
	for (int pass = 0; pass < 2; pass++) {
		ASSERT_EQ(0, run_ctl("--json status", out, sizeof(out))) TH_LOG("%s", out);
		EXPECT_TRUE(json_has(out, pass ? "\"module_loaded\":false" :
					   "\"module_loaded\":true"));
		if (type[0]) {
			snprintf(frag, sizeof(frag), "\"type\":\"%s\"", type);
			EXPECT_TRUE(json_has(out, "\"iommu\":{\"enabled\":true"));
			EXPECT_TRUE(json_has(out, frag)) TH_LOG("%s in %s", frag, out);
		}
		if (vstub_env_is("VSTUB_INTREMAP", "1"))
			EXPECT_TRUE(json_has(out, "\"interrupt_remapping\":{\"enabled\":true"))
				TH_LOG("%s", out);
		if (vstub_env_is("VSTUB_INTREMAP", "0"))
			EXPECT_TRUE(json_has(out, "\"interrupt_remapping\":{\"enabled\":false"))
				TH_LOG("%s", out);
		if (!pass) {
			EXPECT_FALSE(json_has(out, "\"kernel\":null"));
			nl_socket_free(self->sk);
			self->sk = NULL;
			ASSERT_EQ(0, vstub_unload());
		}
	}
	EXPECT_TRUE(json_has(out, "\"kernel\":null"));
	ASSERT_EQ(3, run_ctl("list", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "not loaded")) TH_LOG("%s", out);
}

TEST_F(nl, ctl_persist_apply)
{
	char out[4096], args[256];

	NEED_CTL();
	unlink("/tmp/vstub-test.conf");
	unlink("/tmp/vstub-test.modprobe");
	setenv("VSTUB_CONF", "/tmp/vstub-test.conf", 1);
	setenv("VSTUB_MODPROBE_CONF", "/tmp/vstub-test.modprobe", 1);
	snprintf(args, sizeof(args), "persist add bdf %s", self->e1000e + 5);
	ASSERT_EQ(0, run_ctl(args, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(0, run_ctl("persist add id 1b36:0005", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(1, run_ctl("persist add id 1b36:0005", out, sizeof(out)));
	EXPECT_EQ(2, run_ctl("persist add id 1b36", out, sizeof(out)));
	ASSERT_EQ(0, run_ctl("persist list", out, sizeof(out)));
	snprintf(args, sizeof(args), "bdf %s\nid 1b36:0005\n", self->e1000e);
	EXPECT_STREQ(args, out);
	ASSERT_GT(sysfs_read("/tmp/vstub-test.modprobe", out, sizeof(out)), 0);
	EXPECT_NE(NULL, strstr(out, "options vstub ids=1b36:0005"));
	EXPECT_NE(NULL, strstr(out, "softdep e1000e pre: vstub")) TH_LOG("%s", out);
	snprintf(args, sizeof(args), "options vstub bdfs=%s\n", self->e1000e);
	EXPECT_NE(NULL, strstr(out, args)) TH_LOG("%s", out);
	/* vstub applies its options itself: no install hook */
	EXPECT_EQ(NULL, strstr(out, "install vstub"));

	ASSERT_EQ(0, run_ctl("--json apply --no-load", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(pci_driver_is(self->e1000e, "vstub"));
	EXPECT_TRUE(pci_wait_driver(self->testdev, "vstub", 2000));
	EXPECT_TRUE(vstub_has_line("ids", "1b36:0005"));
	/* applying again changes nothing and is not an error */
	ASSERT_EQ(0, run_ctl("--json apply --no-load", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"result\":\"already\""));
	snprintf(args, sizeof(args), "persist match %s", self->e1000e);
	EXPECT_EQ(0, run_ctl(args, out, sizeof(out)));
	snprintf(args, sizeof(args), "persist match %s", self->edu);
	EXPECT_EQ(1, run_ctl(args, out, sizeof(out)));
	snprintf(args, sizeof(args), "persist del bdf %s", self->e1000e);
	EXPECT_EQ(0, run_ctl(args, out, sizeof(out)));
	unsetenv("VSTUB_CONF");
	unsetenv("VSTUB_MODPROBE_CONF");
	unlink("/tmp/vstub-test.conf");
	unlink("/tmp/vstub-test.modprobe");
}

TEST_F(nl, ctl_handoff)
{
	char out[4096], args[128], ovr[64], path[256];

	NEED_CTL();
	if (!path_exists("/sys/bus/pci/drivers/vfio-pci"))
		SKIP(return, "vfio-pci is not loaded");
	snprintf(args, sizeof(args), "capture %s", self->edu);
	ASSERT_EQ(0, run_ctl(args, out, sizeof(out))) TH_LOG("%s", out);
	snprintf(args, sizeof(args), "handoff %s vfio-pci", self->edu);
	ASSERT_EQ(0, run_ctl(args, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_TRUE(pci_driver_is(self->edu, "vfio-pci"));
	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s/driver_override", self->edu);
	ASSERT_GT(sysfs_read(path, ovr, sizeof(ovr)), 0);
	EXPECT_STREQ("vfio-pci\n", ovr);
	EXPECT_EQ(0, vstub_count_lines("captured"));
	/* leave the device as we found it */
	EXPECT_EQ(0, pci_unbind(self->edu));
	EXPECT_EQ(0, sysfs_write(path, "\n"));
}

TEST_HARNESS_MAIN
