// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_nl_test - the generic netlink family "vstub", command by command.
 *
 * Every command through raw netlink (libnl, hand-built attributes so that
 * malformed requests can be sent too), checked against sysfs; bad input to
 * every command gets an errno and an extack text and changes nothing;
 * unprivileged callers get EPERM; the "monitor" group sees captures,
 * releases and ID changes; status matches the VM's IOMMU configuration
 * (VSTUB_IOMMU, VSTUB_INTREMAP).  vstubctl's own tests: vstub_ctl_test.
 */
#include "kselftest_harness.h"
#include "vstub_nl_util.h"

TEST_F(nl, family_and_group)
{
	EXPECT_GE(self->fam, 0);
	EXPECT_GE(genl_ctrl_resolve_grp(self->sk, VSTUB_GENL_NAME,
					VSTUB_GENL_MCGRP_MONITOR), 0);
}

TEST_F(nl, ids_add_dump_del)
{
	struct idlist l = { 0 };
	struct nlres r = { 0 };
	char id[] = "1b36:0005";

	ASSERT_TRUE(pci_driver_is(self->testdev, ""));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_ID_ADD, VSTUB_A_ID, id, &r));
	EXPECT_TRUE(vstub_has_line("ids", id));
	EXPECT_TRUE(pci_wait_driver(self->testdev, "vstub", 2000));

	r.parse = idlist_cb;
	r.arg = &l;
	ASSERT_EQ(0, t_send(self->sk, t_msg(self->fam, VSTUB_CMD_ID_GET, true), &r));
	r.parse = NULL;
	ASSERT_EQ(1, l.n);
	EXPECT_STREQ(id, l.ids[0]);

	EXPECT_EQ(-EEXIST, t_str(self->sk, self->fam, VSTUB_CMD_ID_ADD, VSTUB_A_ID, id, &r));
	EXPECT_NE(NULL, strstr(r.msg, "already")) TH_LOG("extack: '%s'", r.msg);
	EXPECT_EQ(1, vstub_count_lines("ids"));

	EXPECT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_ID_DEL, VSTUB_A_ID, id, &r));
	EXPECT_EQ(0, vstub_count_lines("ids"));
	/* Devices an ID captured stay captured. */
	EXPECT_TRUE(pci_driver_is(self->testdev, "vstub"));
	EXPECT_EQ(-ENOENT, t_str(self->sk, self->fam, VSTUB_CMD_ID_DEL, VSTUB_A_ID, id, &r));
	EXPECT_NE(0, r.msg[0]);
	EXPECT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
			   self->testdev, &r));
	EXPECT_TRUE(pci_driver_is(self->testdev, ""));
}

TEST_F(nl, ids_bad_input)
{
	static const char * const bad[] = {
		"zz:1", "1234", "1234:5678:", "12345:1", ":", "1234:5678:1:2:3:4:5",
		"1234:5678 x",
	};
	char longid[200];
	struct nlres r = { 0 };
	struct nl_msg *m;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, t_str(self->sk, self->fam, VSTUB_CMD_ID_ADD,
					 VSTUB_A_ID, bad[i], &r)) TH_LOG("'%s'", bad[i]);
		EXPECT_NE(NULL, strstr(r.msg, "malformed ID")) TH_LOG("'%s': '%s'", bad[i], r.msg);
		EXPECT_TRUE(r.has_offs);
		EXPECT_EQ(-EINVAL, t_str(self->sk, self->fam, VSTUB_CMD_ID_DEL,
					 VSTUB_A_ID, bad[i], &r));
	}
	/* too long: the policy rejects it */
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	EXPECT_EQ(-EINVAL, t_str(self->sk, self->fam, VSTUB_CMD_ID_ADD, VSTUB_A_ID,
				 longid, &r));
	EXPECT_NE(0, r.msg[0]);
	EXPECT_TRUE(r.has_offs);
	/* missing attribute */
	EXPECT_EQ(-EINVAL, t_send(self->sk, t_msg(self->fam, VSTUB_CMD_ID_ADD, false), &r));
	EXPECT_EQ(VSTUB_A_ID, r.miss_type);
	EXPECT_NE(NULL, strstr(r.msg, "missing")) TH_LOG("'%s'", r.msg);
	/* wrong type: not NUL-terminated */
	m = t_msg(self->fam, VSTUB_CMD_ID_ADD, false);
	nla_put(m, VSTUB_A_ID, 4, "1234");
	EXPECT_EQ(-EINVAL, t_send(self->sk, m, &r));
	/* an attribute the command does not take (strict validation) */
	m = t_msg(self->fam, VSTUB_CMD_ID_ADD, false);
	nla_put_string(m, VSTUB_A_ID, "1234:11e8");
	nla_put_string(m, VSTUB_A_BDF, self->edu);
	EXPECT_EQ(-EINVAL, t_send(self->sk, m, &r));
	/* an unknown command */
	EXPECT_EQ(-EOPNOTSUPP, t_send(self->sk, t_msg(self->fam, VSTUB_CMD_CAPTURED, false), &r));
	EXPECT_EQ(-EOPNOTSUPP, t_send(self->sk, t_msg(self->fam, 200, false), &r));
	/* nothing changed */
	EXPECT_EQ(0, vstub_count_lines("ids"));
	EXPECT_EQ(0, vstub_count_lines("captured"));
	EXPECT_TRUE(pci_driver_is(self->edu, ""));
}

TEST_F(nl, capture_release)
{
	struct devlist *l = calloc(1, sizeof(*l));
	struct nlres r = { 0 };
	struct devrec d, *p;
	char line[256], orig[64];

	ASSERT_NE(NULL, l);
	ASSERT_TRUE(pci_wait_driver(self->e1000e, "e1000e", 3000));
	ASSERT_EQ(0, pci_driver(self->e1000e, orig, sizeof(orig)));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
			   self->e1000e, &r)) TH_LOG("extack: %s", r.msg);
	EXPECT_TRUE(pci_driver_is(self->e1000e, "vstub"));
	ASSERT_EQ(0, vstub_captured_line(self->e1000e, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, " bdf e1000e"));

	ASSERT_EQ(0, t_dev_dump(self->sk, self->fam, l));
	EXPECT_EQ(vstub_count_lines("captured"), l->n);
	p = devlist_find(l, self->e1000e);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(1, p->captured);
	EXPECT_EQ(VSTUB_NL_REASON_BDF, p->reason);
	EXPECT_STREQ("vstub", p->driver);
	EXPECT_STREQ("e1000e", p->orig);
	EXPECT_EQ(E1000E_VENDOR, p->vendor);
	EXPECT_EQ(E1000E_DEVICE, p->device);
	EXPECT_EQ(pci_iommu_group(self->e1000e) < 0 ? -1 : pci_iommu_group(self->e1000e),
		  p->group);

	/* do: any device, captured or not, with reserved regions */
	ASSERT_EQ(0, t_dev_get(self->sk, self->fam, self->e1000e, &d, &r));
	EXPECT_STREQ(self->e1000e, d.bdf);
	EXPECT_EQ(1, d.captured);
	EXPECT_EQ(d.group >= 0 ? 0 : -1, d.nresv < 0 ? -1 : 0);
	ASSERT_EQ(0, t_dev_get(self->sk, self->fam, self->edu, &d, &r));
	EXPECT_EQ(0, d.captured);
	EXPECT_EQ(-1, d.reason);
	/* short form in, full form out */
	ASSERT_EQ(0, t_dev_get(self->sk, self->fam, self->edu + 5, &d, &r));
	EXPECT_STREQ(self->edu, d.bdf);

	EXPECT_EQ(-EEXIST, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
				 self->e1000e, &r));
	EXPECT_NE(NULL, strstr(r.msg, "already"));

	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
			   self->e1000e, &r));
	EXPECT_TRUE(pci_wait_driver(self->e1000e, orig, 3000));
	EXPECT_EQ(0, vstub_count_lines("captured"));
	ASSERT_EQ(0, t_dev_dump(self->sk, self->fam, l));
	EXPECT_EQ(0, l->n);
	free(l);
}

TEST_F(nl, bdf_bad_input)
{
	static const char * const malformed[] = {
		"zz", "00:02", "0000:00:02", "0000:00:02.8", "0000:100:00.0",
		"0000:00:20.0", "1:2:3:4.0", "",
	};
	static const uint8_t cmds[] = { VSTUB_CMD_CAPTURE, VSTUB_CMD_RELEASE,
					VSTUB_CMD_DEV_GET, VSTUB_CMD_GROUP_GET,
					VSTUB_CMD_SRIOV_SET };
	char longbdf[40];
	struct nlres r = { 0 };
	struct nl_msg *m;
	unsigned int i, c;

	for (c = 0; c < sizeof(cmds); c++) {
		for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
			m = t_msg(self->fam, cmds[c], false);
			nla_put_string(m, VSTUB_A_BDF, malformed[i]);
			nla_put_u32(m, VSTUB_A_NUM_VFS, 1);
			if (cmds[c] != VSTUB_CMD_SRIOV_SET) {
				nlmsg_free(m);
				m = t_msg(self->fam, cmds[c], false);
				nla_put_string(m, VSTUB_A_BDF, malformed[i]);
			}
			EXPECT_EQ(-EINVAL, t_send(self->sk, m, &r))
				TH_LOG("cmd %d '%s'", cmds[c], malformed[i]);
			EXPECT_NE(NULL, strstr(r.msg, "malformed PCI address"))
				TH_LOG("cmd %d '%s': '%s'", cmds[c], malformed[i], r.msg);
		}
		/* no such device */
		m = t_msg(self->fam, cmds[c], false);
		nla_put_string(m, VSTUB_A_BDF, "0000:00:1e.7");
		if (cmds[c] == VSTUB_CMD_SRIOV_SET)
			nla_put_u32(m, VSTUB_A_NUM_VFS, 1);
		EXPECT_EQ(-ENODEV, t_send(self->sk, m, &r)) TH_LOG("cmd %d", cmds[c]);
		EXPECT_NE(NULL, strstr(r.msg, "no PCI device")) TH_LOG("'%s'", r.msg);
		/* missing */
		EXPECT_EQ(-EINVAL, t_send(self->sk, t_msg(self->fam, cmds[c], false), &r));
		EXPECT_TRUE(r.miss_type == VSTUB_A_BDF || r.miss_type == VSTUB_A_NUM_VFS);
		/* too long */
		memset(longbdf, '0', sizeof(longbdf) - 1);
		longbdf[sizeof(longbdf) - 1] = '\0';
		EXPECT_EQ(-EINVAL, t_str(self->sk, self->fam, cmds[c], VSTUB_A_BDF,
					 longbdf, &r));
		EXPECT_TRUE(r.has_offs);
		/* wrong type */
		m = t_msg(self->fam, cmds[c], false);
		nla_put_u32(m, VSTUB_A_BDF, 0x10);
		EXPECT_EQ(-EINVAL, t_send(self->sk, m, &r));
	}
	/* a bridge cannot be captured; a device that is not captured cannot be released */
	EXPECT_EQ(-EINVAL, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
				 "0000:00:00.0", &r));
	EXPECT_NE(NULL, strstr(r.msg, "bridge")) TH_LOG("'%s'", r.msg);
	EXPECT_EQ(-EINVAL, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
				 self->edu, &r));
	EXPECT_NE(NULL, strstr(r.msg, "not captured")) TH_LOG("'%s'", r.msg);
	/* nothing changed */
	EXPECT_EQ(0, vstub_count_lines("captured"));
	EXPECT_TRUE(pci_driver_is(self->edu, ""));
	EXPECT_TRUE(pci_driver_is(self->e1000e, "e1000e"));
}

/* ID_GET and STATUS_GET take no attribute: any one is refused. */
TEST_F(nl, no_attr_commands)
{
	struct nlres r = { 0 };
	struct nl_msg *m;

	m = t_msg(self->fam, VSTUB_CMD_ID_GET, true);
	nla_put_string(m, VSTUB_A_BDF, self->edu);
	EXPECT_EQ(-EINVAL, t_send(self->sk, m, &r));
	EXPECT_TRUE(r.has_offs);
	m = t_msg(self->fam, VSTUB_CMD_STATUS_GET, false);
	nla_put_string(m, VSTUB_A_ID, "1234:11e8");
	EXPECT_EQ(-EINVAL, t_send(self->sk, m, &r));
	EXPECT_TRUE(r.has_offs);
	m = t_msg(self->fam, VSTUB_CMD_STATUS_GET, false);
	nla_put_u32(m, VSTUB_A_MAX, 1);
	EXPECT_EQ(-EINVAL, t_send(self->sk, m, &r));
	EXPECT_EQ(0, t_send(self->sk, t_msg(self->fam, VSTUB_CMD_ID_GET, true),
			    &r));
	EXPECT_EQ(0, t_send(self->sk, t_msg(self->fam, VSTUB_CMD_STATUS_GET,
					    false), &r));
}

static int vfio_attr_cb(struct nlattr **tb, void *arg)
{
	int *seen = arg;

	if (tb[VSTUB_A_VFIO_OPEN] || tb[VSTUB_A_VFIO_PINNED_PAGES] ||
	    tb[VSTUB_A_VFIO_MAPPINGS])
		*seen |= 1;
	if (tb[VSTUB_A_BDF])
		*seen |= 2;
	return 0;
}

/*
 * DEV_GET of @bdf (@dump: the dump) as root or (@nobody) uid 65534: bit 0
 * set when a VFIO attribute came back, bit 1 when a record did; 200+ on
 * failure.
 */
static int vfio_attrs_seen(const char *bdf, bool dump, bool nobody)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return 250;
	if (!pid) {
		struct nlres r = { 0 };
		struct nl_sock *sk;
		int fam, seen = 0;

		if (nobody && setresuid(65534, 65534, 65534))
			_exit(201);
		sk = t_sock(&fam);
		if (!sk)
			_exit(202);
		r.parse = vfio_attr_cb;
		r.arg = &seen;
		if (dump ? t_send(sk, t_msg(fam, VSTUB_CMD_DEV_GET, true), &r) :
			   t_str(sk, fam, VSTUB_CMD_DEV_GET, VSTUB_A_BDF, bdf,
				 &r))
			_exit(203);
		nl_socket_free(sk);
		_exit(seen);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return 251;
	return WEXITSTATUS(st);
}

/* Only CAP_SYS_ADMIN sees what VFIO users do (uapi/vstub.h). */
TEST_F(nl, vfio_counters_privileged)
{
	ASSERT_EQ(0, vstub_write("capture", self->edu));
	EXPECT_EQ(3, vfio_attrs_seen(self->edu, false, false));
	EXPECT_EQ(3, vfio_attrs_seen(self->edu, true, false));
	EXPECT_EQ(2, vfio_attrs_seen(self->edu, false, true));
	EXPECT_EQ(2, vfio_attrs_seen(self->edu, true, true));
	EXPECT_EQ(0, vstub_write("release", self->edu));
}

TEST_F(nl, unprivileged)
{
	struct devlist *l = calloc(1, sizeof(*l));

	ASSERT_NE(NULL, l);
	/* no CAP_NET_ADMIN (GENL_ADMIN_PERM) */
	EXPECT_EQ(EPERM, as_unprivileged(0, VSTUB_CMD_CAPTURE, VSTUB_A_BDF, self->edu));
	EXPECT_EQ(EPERM, as_unprivileged(0, VSTUB_CMD_RELEASE, VSTUB_A_BDF, self->edu));
	EXPECT_EQ(EPERM, as_unprivileged(0, VSTUB_CMD_ID_ADD, VSTUB_A_ID, "1234:11e8"));
	EXPECT_EQ(EPERM, as_unprivileged(0, VSTUB_CMD_ID_DEL, VSTUB_A_ID, "1234:11e8"));
	EXPECT_EQ(EPERM, as_unprivileged(0, VSTUB_CMD_SRIOV_SET, VSTUB_A_BDF, self->edu));
	/* CAP_NET_ADMIN but no CAP_SYS_ADMIN: vstub's own check, with extack */
	EXPECT_EQ(EPERM, as_unprivileged(1, VSTUB_CMD_CAPTURE, VSTUB_A_BDF, self->edu));
	EXPECT_EQ(EPERM, as_unprivileged(1, VSTUB_CMD_ID_ADD, VSTUB_A_ID, "1234:11e8"));
	/* nobody */
	EXPECT_EQ(EPERM, as_unprivileged(2, VSTUB_CMD_CAPTURE, VSTUB_A_BDF, self->edu));
	EXPECT_EQ(EPERM, as_unprivileged(2, VSTUB_CMD_ID_ADD, VSTUB_A_ID, "1234:11e8"));
	/* reads are open */
	EXPECT_EQ(0, as_unprivileged(2, VSTUB_CMD_DEV_GET, VSTUB_A_BDF, self->edu));
	/* nothing changed */
	EXPECT_EQ(0, vstub_count_lines("captured"));
	EXPECT_EQ(0, vstub_count_lines("ids"));
	EXPECT_TRUE(pci_driver_is(self->edu, ""));
	free(l);
}

TEST_F(nl, monitor_events)
{
	struct events *ev = calloc(1, sizeof(*ev));
	struct nlres r = { 0 };
	struct nl_sock *mon;
	int fam;

	ASSERT_NE(NULL, ev);
	mon = t_sock(&fam);
	ASSERT_NE(NULL, mon);
	nl_socket_disable_seq_check(mon);
	ASSERT_EQ(0, nl_socket_add_membership(mon, genl_ctrl_resolve_grp(
		mon, VSTUB_GENL_NAME, VSTUB_GENL_MCGRP_MONITOR)));

	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
			   self->edu, &r));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_CAPTURED, self->edu, 3000));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
			   self->edu, &r));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_RELEASED, self->edu, 3000));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_ID_ADD, VSTUB_A_ID,
			   "1b36:0005", &r));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_ID_ADDED, "1b36:0005", 3000));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_CAPTURED, self->testdev, 3000));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_ID_DEL, VSTUB_A_ID,
			   "1b36:0005", &r));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_ID_REMOVED, "1b36:0005", 3000));
	/* captures through sysfs are announced as well */
	ASSERT_EQ(0, vstub_write("release", self->testdev));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_RELEASED, self->testdev, 3000));
	ASSERT_EQ(0, vstub_write("capture", self->e1000e));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_CAPTURED, self->e1000e, 3000));
	ASSERT_EQ(0, vstub_write("release", self->e1000e));
	EXPECT_TRUE(ev_wait(mon, ev, VSTUB_CMD_RELEASED, self->e1000e, 3000));
	/* a failed request announces nothing */
	ev->n = 0;
	EXPECT_EQ(-EINVAL, t_str(self->sk, self->fam, VSTUB_CMD_ID_ADD, VSTUB_A_ID,
				 "zz", &r));
	EXPECT_FALSE(ev_wait(mon, ev, VSTUB_CMD_ID_ADDED, "zz", 300));
	EXPECT_EQ(0, ev->n);
	nl_socket_free(mon);
	free(ev);
}

static int count_dir(const char *path)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(path);

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

TEST_F(nl, status_matches_config)
{
	struct devlist *l = calloc(1, sizeof(*l));
	struct nlres r = { .parse = status_cb };
	struct status s;
	struct devrec d;
	char type[32], path[256];
	int grp;

	ASSERT_NE(NULL, l);
	r.arg = &s;
	ASSERT_EQ(0, t_send(self->sk, t_msg(self->fam, VSTUB_CMD_STATUS_GET, false), &r));
	EXPECT_EQ(count_dir(PCI_DEVICES_DIR), s.npci);
	EXPECT_EQ(count_dir("/sys/kernel/iommu_groups"), s.ngroups);
	EXPECT_EQ(count_dir("/sys/class/iommu"), s.units);
	if (vstub_iommu()[0]) {
		EXPECT_GE(s.units, 1);
		EXPECT_GE(s.ngrouped, 1);
	}
	if (vstub_env_is("VSTUB_INTREMAP", "1"))
		EXPECT_EQ(s.ngrouped, s.nisol);
	if (vstub_env_is("VSTUB_INTREMAP", "0"))
		EXPECT_EQ(0, s.nisol);
	EXPECT_EQ(0, s.ncaptured);
	EXPECT_EQ(0, s.nids);

	/* per device: translation as sysfs tells it, resv regions with a group */
	ASSERT_EQ(0, t_dev_get(self->sk, self->fam, self->e1000e, &d, &r));
	grp = pci_iommu_group(self->e1000e);
	EXPECT_EQ(grp < 0 ? -1 : grp, d.group);
	if (grp >= 0) {
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type", grp);
		ASSERT_GT(sysfs_read(path, type, sizeof(type)), 0);
		if (!strncmp(type, "DMA", 3))
			EXPECT_EQ(VSTUB_DMA_TRANSLATED, d.dma);
		if (!strncmp(type, "identity", 8))
			EXPECT_EQ(VSTUB_DMA_PASSTHROUGH, d.dma);
		EXPECT_GE(d.nresv, 0);
		EXPECT_EQ(vstub_env_is("VSTUB_INTREMAP", "1"), d.isol);
	} else {
		EXPECT_EQ(VSTUB_DMA_NO_IOMMU, d.dma);
	}
	free(l);
}

TEST_F(nl, explain_group)
{
	struct nlres r = { .parse = group_cb };
	char path[256], ahci[32] = "0000:00:1f.2";
	struct group *g = calloc(1, sizeof(*g));
	int grp, i, blocks = 0;

	ASSERT_NE(NULL, g);
	r.arg = g;
	/* no group: ENOENT with an explanation */
	if (pci_iommu_group(self->edu) < 0) {
		EXPECT_EQ(-ENOENT, t_str(self->sk, self->fam, VSTUB_CMD_GROUP_GET,
					 VSTUB_A_BDF, self->edu, &r));
		EXPECT_NE(NULL, strstr(r.msg, "no IOMMU group")) TH_LOG("'%s'", r.msg);
	}
	grp = pci_iommu_group(ahci);
	if (grp < 0)
		SKIP(free(g); return, "%s has no IOMMU group", ahci);
	ASSERT_TRUE(pci_wait_driver(ahci, "ahci", 3000));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_GROUP_GET, VSTUB_A_BDF,
			   ahci, &r)) TH_LOG("%s", r.msg);
	EXPECT_EQ(grp, g->id);
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", grp);
	EXPECT_EQ(count_dir(path), g->n);
	for (i = 0; i < g->n; i++) {
		if (!strcmp(g->m[i].name, ahci)) {
			EXPECT_STREQ("ahci", g->m[i].driver);
			EXPECT_EQ(1, g->m[i].blocks);
			EXPECT_NE(NULL, strstr(g->m[i].text, "DMA API"));
		}
		blocks += g->m[i].blocks;
	}
	EXPECT_EQ(!blocks, g->viable);
	EXPECT_EQ(0, g->viable);

	/* captured, the member no longer blocks */
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
			   ahci, &r));
	r.parse = group_cb;
	r.arg = g;
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_GROUP_GET, VSTUB_A_BDF,
			   ahci, &r));
	blocks = 0;
	for (i = 0; i < g->n; i++) {
		if (!strcmp(g->m[i].name, ahci)) {
			EXPECT_EQ(0, g->m[i].blocks);
		} else if (g->m[i].blocks) {
			TH_LOG("%s still blocks: %s", g->m[i].name,
			       g->m[i].text);
		}
		blocks += g->m[i].blocks;
	}
	/*
	 * What could be captured is: the group is viable exactly when no
	 * other member blocks it (the guest loads no driver for the LPC
	 * and SMBus functions, so here it is).
	 */
	EXPECT_EQ(!blocks, g->viable);
	for (i = 0; i < g->n; i++)
		if (strcmp(g->m[i].name, ahci) && !g->m[i].driver[0])
			EXPECT_EQ(0, g->m[i].blocks);
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
			   ahci, &r));
	EXPECT_TRUE(pci_wait_driver(ahci, "ahci", 3000));
	free(g);
}

static int t_sriov(struct nl_sock *sk, int fam, const char *bdf, int n,
		   struct nlres *r)
{
	struct nl_msg *m = t_msg(fam, VSTUB_CMD_SRIOV_SET, false);

	nla_put_string(m, VSTUB_A_BDF, bdf);
	if (n >= 0)
		nla_put_u32(m, VSTUB_A_NUM_VFS, n);
	return t_send(sk, m, r);
}

TEST_F(nl, sriov)
{
	struct devlist *l = calloc(1, sizeof(*l));
	struct nlres r = { 0 };
	struct devrec d, *p;
	int i, vfs = 0;

	ASSERT_NE(NULL, l);
	if (!vstub_env_is("VSTUB_SRIOV", "1") || !self->nvme[0])
		SKIP(free(l); return, "no SR-IOV device in this VM");
	/* not captured */
	EXPECT_EQ(-EINVAL, t_sriov(self->sk, self->fam, self->nvme, 1, &r));
	EXPECT_NE(NULL, strstr(r.msg, "not captured"));
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
			   self->nvme, &r));
	/* missing count, too many, not a PF */
	EXPECT_EQ(-EINVAL, t_sriov(self->sk, self->fam, self->nvme, -1, &r));
	EXPECT_EQ(VSTUB_A_NUM_VFS, r.miss_type);
	EXPECT_EQ(-ERANGE, t_sriov(self->sk, self->fam, self->nvme, 3, &r));
	EXPECT_TRUE(r.has_offs);
	ASSERT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_CAPTURE, VSTUB_A_BDF,
			   self->edu, &r));
	EXPECT_EQ(-EOPNOTSUPP, t_sriov(self->sk, self->fam, self->edu, 1, &r));
	EXPECT_NE(0, r.msg[0]);

	ASSERT_EQ(0, t_sriov(self->sk, self->fam, self->nvme, 2, &r)) TH_LOG("%s", r.msg);
	ASSERT_EQ(0, t_dev_get(self->sk, self->fam, self->nvme, &d, &r));
	EXPECT_EQ(2, d.num_vfs);
	EXPECT_EQ(2, d.total_vfs);
	ASSERT_EQ(0, t_dev_dump(self->sk, self->fam, l));
	for (i = 0; i < l->n; i++) {
		p = &l->d[i];
		if (strcmp(p->physfn, self->nvme))
			continue;
		vfs++;
		EXPECT_EQ(VSTUB_NL_REASON_VF, p->reason);
		EXPECT_TRUE(pci_driver_is(p->bdf, "vstub"));
	}
	EXPECT_EQ(2, vfs);
	EXPECT_EQ(-EBUSY, t_sriov(self->sk, self->fam, self->nvme, 1, &r));
	EXPECT_NE(NULL, strstr(r.msg, "already"));
	EXPECT_EQ(0, t_sriov(self->sk, self->fam, self->nvme, 0, &r));
	ASSERT_EQ(0, t_dev_get(self->sk, self->fam, self->nvme, &d, &r));
	EXPECT_EQ(0, d.num_vfs);
	EXPECT_EQ(2, vstub_count_lines("captured"));
	EXPECT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
			   self->nvme, &r));
	EXPECT_EQ(0, t_str(self->sk, self->fam, VSTUB_CMD_RELEASE, VSTUB_A_BDF,
			   self->edu, &r));
	EXPECT_TRUE(pci_wait_driver(self->nvme, "nvme", 5000));
	free(l);
}

TEST_HARNESS_MAIN
