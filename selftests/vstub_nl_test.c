// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_nl_test - the generic netlink family "vstub" and vstubctl.
 *
 * Every command through raw netlink (libnl, hand-built attributes so that
 * malformed requests can be sent too), checked against sysfs; bad input to
 * every command gets an errno and an extack text and changes nothing;
 * unprivileged callers get EPERM; the "monitor" group sees captures,
 * releases and ID changes; status matches the VM's IOMMU configuration
 * (VSTUB_IOMMU, VSTUB_INTREMAP); and vstubctl's --json output agrees with
 * sysfs.  vstubctl is looked up as $VSTUBCTL, /usr/bin/vstubctl,
 * /bin/vstubctl; its tests are skipped without it.
 */
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub.h"	/* kmod/uapi/vstub.h */

#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

/* ---- raw netlink ---------------------------------------------------------- */

struct nlres {
	int err;		/* 0 or -errno */
	char msg[256];		/* extack text */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE */
	bool has_offs;		/* NLMSGERR_ATTR_OFFS present */
	int nreplies;
	int done;
	int (*parse)(struct nlattr **tb, void *arg);
	void *arg;
};

static int t_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int len = nlh->nlmsg_len, ack_len = sizeof(*nlh) + sizeof(*e);
	struct nlres *r = arg;

	(void)nla;
	r->err = e->error;
	r->done = 1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += e->msg.nlmsg_len - sizeof(*nlh);
	if (len <= ack_len ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlh + ack_len), len - ack_len,
		      NULL))
		return NL_STOP;
	if (tb[NLMSGERR_ATTR_MSG])
		vstub_strlcpy(r->msg, nla_data(tb[NLMSGERR_ATTR_MSG]),
			      sizeof(r->msg));
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		r->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	r->has_offs = tb[NLMSGERR_ATTR_OFFS] != NULL;
	return NL_STOP;
}

static int t_fin_cb(struct nl_msg *msg, void *arg)
{
	struct nlres *r = arg;

	(void)msg;
	r->done = 1;
	return NL_STOP;
}

static int t_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[VSTUB_A_MAX + 1];
	struct nlres *r = arg;

	r->nreplies++;
	if (r->parse && !genlmsg_parse(nlmsg_hdr(msg), 0, tb, VSTUB_A_MAX, NULL))
		r->parse(tb, r->arg);
	return NL_OK;
}

static struct nl_sock *t_sock(int *family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1;

	if (!sk)
		return NULL;
	if (genl_connect(sk)) {
		nl_socket_free(sk);
		return NULL;
	}
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	*family = genl_ctrl_resolve(sk, VSTUB_GENL_NAME);
	if (*family < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static struct nl_msg *t_msg(int family, uint8_t cmd, bool dump)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m)
		genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			    dump ? NLM_F_DUMP : 0, cmd, VSTUB_GENL_VERSION);
	return m;
}

/* Send @m (freed) and collect the answer into @r; returns r->err. */
static int t_send(struct nl_sock *sk, struct nl_msg *m, struct nlres *r)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	r->err = 0;
	r->msg[0] = '\0';
	r->miss_type = 0;
	r->has_offs = false;
	r->nreplies = 0;
	r->done = 0;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, t_valid_cb, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, t_fin_cb, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, t_fin_cb, r);
	nl_cb_err(cb, NL_CB_CUSTOM, t_err_cb, r);
	ret = nl_send_auto(sk, m);
	nlmsg_free(m);
	if (ret < 0) {
		nl_cb_put(cb);
		return r->err = -EIO;
	}
	while (!r->done)
		if (nl_recvmsgs(sk, cb) < 0 && !r->done)
			r->err = -EIO, r->done = 1;
	nl_cb_put(cb);
	return r->err;
}

/* A command with one string attribute. */
static int t_str(struct nl_sock *sk, int fam, uint8_t cmd, int type,
		 const char *s, struct nlres *r)
{
	struct nl_msg *m = t_msg(fam, cmd, false);

	nla_put_string(m, type, s);
	return t_send(sk, m, r);
}

/* ---- reply parsers ----------------------------------------------------------- */

struct devrec {
	char bdf[32], driver[64], orig[64], physfn[32];
	int captured, reason, group, dma, isol, num_vfs, total_vfs, nresv;
	unsigned int vendor, device;
};

static int t_str_attr(struct nlattr **tb, int type, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!tb[type])
		return -1;
	vstub_strlcpy(buf, nla_get_string(tb[type]), len);
	return 0;
}

static void parse_dev(struct nlattr **tb, struct devrec *d)
{
	memset(d, 0, sizeof(*d));
	t_str_attr(tb, VSTUB_A_BDF, d->bdf, sizeof(d->bdf));
	t_str_attr(tb, VSTUB_A_DRIVER, d->driver, sizeof(d->driver));
	t_str_attr(tb, VSTUB_A_ORIG_DRIVER, d->orig, sizeof(d->orig));
	t_str_attr(tb, VSTUB_A_PHYSFN, d->physfn, sizeof(d->physfn));
	d->vendor = tb[VSTUB_A_VENDOR] ? nla_get_u16(tb[VSTUB_A_VENDOR]) : 0;
	d->device = tb[VSTUB_A_DEVICE] ? nla_get_u16(tb[VSTUB_A_DEVICE]) : 0;
	d->captured = tb[VSTUB_A_CAPTURED] ? nla_get_u8(tb[VSTUB_A_CAPTURED]) : -1;
	d->reason = tb[VSTUB_A_REASON] ? nla_get_u8(tb[VSTUB_A_REASON]) : -1;
	d->group = tb[VSTUB_A_IOMMU_GROUP] ? (int)nla_get_u32(tb[VSTUB_A_IOMMU_GROUP]) : -1;
	d->dma = tb[VSTUB_A_DMA_MODE] ? nla_get_u8(tb[VSTUB_A_DMA_MODE]) : -1;
	d->isol = tb[VSTUB_A_ISOLATED_MSI] ? nla_get_u8(tb[VSTUB_A_ISOLATED_MSI]) : -1;
	d->num_vfs = tb[VSTUB_A_NUM_VFS] ? (int)nla_get_u32(tb[VSTUB_A_NUM_VFS]) : -1;
	d->total_vfs = tb[VSTUB_A_TOTAL_VFS] ? (int)nla_get_u32(tb[VSTUB_A_TOTAL_VFS]) : -1;
	d->nresv = -1;
	if (tb[VSTUB_A_RESV_REGIONS]) {
		struct nlattr *a;
		int rem;

		d->nresv = 0;
		nla_for_each_nested(a, tb[VSTUB_A_RESV_REGIONS], rem)
			d->nresv++;
	}
}

struct devlist {
	struct devrec d[64];
	int n;
};

static int devlist_cb(struct nlattr **tb, void *arg)
{
	struct devlist *l = arg;

	if (l->n < 64)
		parse_dev(tb, &l->d[l->n++]);
	return 0;
}

static struct devrec *devlist_find(struct devlist *l, const char *bdf)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->d[i].bdf, bdf))
			return &l->d[i];
	return NULL;
}

static int t_dev_dump(struct nl_sock *sk, int fam, struct devlist *l)
{
	struct nlres r = { .parse = devlist_cb, .arg = l };

	l->n = 0;
	return t_send(sk, t_msg(fam, VSTUB_CMD_DEV_GET, true), &r);
}

static int t_dev_get(struct nl_sock *sk, int fam, const char *bdf,
		     struct devrec *d, struct nlres *r)
{
	struct devlist *l = calloc(1, sizeof(*l));
	int ret;

	r->parse = devlist_cb;
	r->arg = l;
	ret = t_str(sk, fam, VSTUB_CMD_DEV_GET, VSTUB_A_BDF, bdf, r);
	if (!ret && l->n == 1)
		*d = l->d[0];
	else if (!ret)
		ret = -EPROTO;
	r->parse = NULL;
	free(l);
	return ret;
}

struct idlist {
	char ids[16][64];
	int n;
};

static int idlist_cb(struct nlattr **tb, void *arg)
{
	struct idlist *l = arg;

	if (l->n < 16)
		t_str_attr(tb, VSTUB_A_ID, l->ids[l->n++], 64);
	return 0;
}

struct status {
	int units, npci, ngrouped, ngroups, ntrans, nisol, ncaptured, nids;
};

static int status_cb(struct nlattr **tb, void *arg)
{
	struct status *s = arg;
	struct nlattr *a;
	int rem;

	memset(s, 0, sizeof(*s));
	if (tb[VSTUB_A_IOMMU_UNITS])
		nla_for_each_nested(a, tb[VSTUB_A_IOMMU_UNITS], rem)
			s->units++;
#define U32(x) (tb[x] ? (int)nla_get_u32(tb[x]) : -1)
	s->npci = U32(VSTUB_A_NUM_PCI);
	s->ngrouped = U32(VSTUB_A_NUM_GROUPED);
	s->ngroups = U32(VSTUB_A_NUM_GROUPS);
	s->ntrans = U32(VSTUB_A_NUM_TRANSLATED);
	s->nisol = U32(VSTUB_A_NUM_ISOLATED_MSI);
	s->ncaptured = U32(VSTUB_A_NUM_CAPTURED);
	s->nids = U32(VSTUB_A_NUM_IDS);
#undef U32
	return 0;
}

struct member {
	char name[32], driver[64], text[256];
	int captured, blocks;
};

struct group {
	int id, viable, n;
	struct member m[16];
};

static int group_cb(struct nlattr **tb, void *arg)
{
	struct nlattr *mt[VSTUB_MEMBER_A_MAX + 1], *a;
	struct group *g = arg;
	int rem;

	memset(g, 0, sizeof(*g));
	g->id = tb[VSTUB_A_IOMMU_GROUP] ? (int)nla_get_u32(tb[VSTUB_A_IOMMU_GROUP]) : -1;
	g->viable = tb[VSTUB_A_VIABLE] ? nla_get_u8(tb[VSTUB_A_VIABLE]) : -1;
	if (!tb[VSTUB_A_MEMBERS])
		return 0;
	nla_for_each_nested(a, tb[VSTUB_A_MEMBERS], rem) {
		struct member *m = &g->m[g->n];

		if (g->n >= 16 || nla_parse_nested(mt, VSTUB_MEMBER_A_MAX, a, NULL))
			continue;
		t_str_attr(mt, VSTUB_MEMBER_A_NAME, m->name, sizeof(m->name));
		t_str_attr(mt, VSTUB_MEMBER_A_DRIVER, m->driver, sizeof(m->driver));
		t_str_attr(mt, VSTUB_MEMBER_A_TEXT, m->text, sizeof(m->text));
		m->captured = mt[VSTUB_MEMBER_A_CAPTURED] ? nla_get_u8(mt[VSTUB_MEMBER_A_CAPTURED]) : -1;
		m->blocks = mt[VSTUB_MEMBER_A_BLOCKS] ? nla_get_u8(mt[VSTUB_MEMBER_A_BLOCKS]) : -1;
		g->n++;
	}
	return 0;
}

/* ---- multicast ------------------------------------------------------------------ */

struct event {
	int cmd;
	char bdf[32], id[64];
};

struct events {
	struct event e[32];
	int n;
};

static int ev_cb(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[VSTUB_A_MAX + 1];
	struct events *ev = arg;

	if (ev->n >= 32 || genlmsg_parse(nlmsg_hdr(msg), 0, tb, VSTUB_A_MAX, NULL))
		return NL_OK;
	ev->e[ev->n].cmd = gh->cmd;
	t_str_attr(tb, VSTUB_A_BDF, ev->e[ev->n].bdf, 32);
	t_str_attr(tb, VSTUB_A_ID, ev->e[ev->n].id, 64);
	ev->n++;
	return NL_OK;
}

static int noop_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* Wait up to @ms for an event @cmd about @what (BDF or ID). */
static bool ev_wait(struct nl_sock *mon, struct events *ev, int cmd,
		    const char *what, int ms)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	struct pollfd pfd = { .fd = nl_socket_get_fd(mon), .events = POLLIN };
	bool found = false;
	int i;

	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ev_cb, ev);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, noop_cb, NULL);
	for (;;) {
		for (i = 0; i < ev->n; i++)
			if (ev->e[i].cmd == cmd && (!strcmp(ev->e[i].bdf, what) ||
						    !strcmp(ev->e[i].id, what)))
				found = true;
		if (found || ms <= 0 || poll(&pfd, 1, ms) <= 0)
			break;
		ms -= 100;
		nl_recvmsgs(mon, cb);
	}
	nl_cb_put(cb);
	return found;
}

/* ---- capabilities ------------------------------------------------------------ */

static int drop_caps(const int *caps, int n)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int i;

	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (i = 0; i < n; i++) {
		d[CAP_TO_INDEX(caps[i])].effective &= ~CAP_TO_MASK(caps[i]);
		d[CAP_TO_INDEX(caps[i])].permitted &= ~CAP_TO_MASK(caps[i]);
		d[CAP_TO_INDEX(caps[i])].inheritable &= ~CAP_TO_MASK(caps[i]);
	}
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/*
 * In a child with reduced privileges (mode 0: no CAP_NET_ADMIN/SYS_ADMIN,
 * 1: no CAP_SYS_ADMIN only, 2: uid 65534), send @cmd with string @type=@val.
 * Returns the errno the kernel answered (0 = success), 200+ on set-up
 * failure, and adds 100 if an EPERM came without extack text in mode 1.
 */
static int as_unprivileged(int mode, uint8_t cmd, int type, const char *val)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return 250;
	if (!pid) {
		static const int both[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN };
		static const int sys[] = { CAP_SYS_ADMIN };
		struct nl_sock *sk;
		struct nlres r = { 0 };
		int fam, ret;

		if (mode == 0)
			ret = drop_caps(both, 2);
		else if (mode == 1)
			ret = drop_caps(sys, 1);
		else
			ret = setresuid(65534, 65534, 65534) ? -errno : 0;
		if (ret)
			_exit(201);
		sk = t_sock(&fam);
		if (!sk)
			_exit(202);
		ret = -t_str(sk, fam, cmd, type, val, &r);
		nl_socket_free(sk);
		if (mode == 1 && ret == EPERM && !r.msg[0])
			ret += 100;
		_exit(ret);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return 251;
	return WEXITSTATUS(st);
}

/* ---- vstubctl --------------------------------------------------------------- */

static const char *vstubctl_path(void)
{
	static const char * const cands[] = { "/usr/bin/vstubctl",
					      "/bin/vstubctl",
					      "/usr/sbin/vstubctl" };
	const char *env = getenv("VSTUBCTL");
	unsigned int i;

	if (env && *env && !access(env, X_OK))
		return env;
	for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (!access(cands[i], X_OK))
			return cands[i];
	return NULL;
}

/* Run "vstubctl ARGS" (a shell word list); stdout+stderr to @out.  Exit code. */
static int run_ctl(const char *args, char *out, size_t len)
{
	char cmd[512];
	size_t got = 0;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", vstubctl_path(), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (got < len - 1) {
		size_t n = fread(out + got, 1, len - 1 - got, p);

		if (!n)
			break;
		got += n;
	}
	out[got] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * In compact JSON @js, copy the object that contains "@key":"@val" (the
 * innermost enclosing {...}) into @obj.  0 or -ENOENT.
 */
static int json_obj_with(const char *js, const char *key, const char *val,
			 char *obj, size_t len)
{
	char pat[160];
	const char *hit, *s, *e;
	int depth = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"%s\"", key, val);
	hit = strstr(js, pat);
	if (!hit)
		return -ENOENT;
	for (s = hit; s > js; s--) {
		if (*s == '}')
			depth++;
		if (*s == '{' && !depth--)
			break;
	}
	depth = 0;
	for (e = s; *e; e++) {
		if (*e == '{')
			depth++;
		if (*e == '}' && !--depth)
			break;
	}
	if (!*e || (size_t)(e - s + 2) > len)
		return -ENOENT;
	memcpy(obj, s, e - s + 1);
	obj[e - s + 1] = '\0';
	return 0;
}

static bool json_has(const char *obj, const char *frag)
{
	return strstr(obj, frag) != NULL;
}

/* ---- fixture ---------------------------------------------------------------- */

FIXTURE(nl) {
	struct nl_sock *sk;
	int fam;
	char edu[32], e1000e[32], testdev[32], nvme[32];
};

FIXTURE_SETUP(nl)
{
	ASSERT_EQ(0, vstub_unload_if_loaded());
	ASSERT_EQ(0, vstub_load(""));
	self->sk = t_sock(&self->fam);
	ASSERT_NE(NULL, self->sk) TH_LOG("family %s not found", VSTUB_GENL_NAME);
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu, 32));
	ASSERT_EQ(0, pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, self->e1000e, 32));
	ASSERT_EQ(0, pci_find(TESTDEV_VENDOR, TESTDEV_DEVICE, 0, self->testdev, 32));
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, self->nvme, 32))
		self->nvme[0] = '\0';
}

FIXTURE_TEARDOWN(nl)
{
	if (self->sk)
		nl_socket_free(self->sk);
	EXPECT_EQ(0, vstub_unload_if_loaded());
}

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

/* ---- vstubctl ---------------------------------------------------------------- */

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
