/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_nl_util.h - what the netlink tests (vstub_nl_test: the family's
 * commands through raw netlink; vstub_ctl_test: vstubctl over it) share:
 * raw requests with hand-built attributes, reply parsers, the monitor
 * group, dropping privileges, running vstubctl, and the fixture.  Include
 * after kselftest_harness.h.
 */
#ifndef _VSTUB_NL_UTIL_H
#define _VSTUB_NL_UTIL_H

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

static inline int t_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
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

static inline int t_fin_cb(struct nl_msg *msg, void *arg)
{
	struct nlres *r = arg;

	(void)msg;
	r->done = 1;
	return NL_STOP;
}

static inline int t_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[VSTUB_A_MAX + 1];
	struct nlres *r = arg;

	r->nreplies++;
	if (r->parse && !genlmsg_parse(nlmsg_hdr(msg), 0, tb, VSTUB_A_MAX, NULL))
		r->parse(tb, r->arg);
	return NL_OK;
}

static inline struct nl_sock *t_sock(int *family)
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

static inline struct nl_msg *t_msg(int family, uint8_t cmd, bool dump)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m)
		genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			    dump ? NLM_F_DUMP : 0, cmd, VSTUB_GENL_VERSION);
	return m;
}

/* Send @m (freed) and collect the answer into @r; returns r->err. */
static inline int t_send(struct nl_sock *sk, struct nl_msg *m, struct nlres *r)
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
static inline int t_str(struct nl_sock *sk, int fam, uint8_t cmd, int type,
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

static inline int t_str_attr(struct nlattr **tb, int type, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!tb[type])
		return -1;
	vstub_strlcpy(buf, nla_get_string(tb[type]), len);
	return 0;
}

static inline void parse_dev(struct nlattr **tb, struct devrec *d)
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

static inline int devlist_cb(struct nlattr **tb, void *arg)
{
	struct devlist *l = arg;

	if (l->n < 64)
		parse_dev(tb, &l->d[l->n++]);
	return 0;
}

static inline struct devrec *devlist_find(struct devlist *l, const char *bdf)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->d[i].bdf, bdf))
			return &l->d[i];
	return NULL;
}

static inline int t_dev_dump(struct nl_sock *sk, int fam, struct devlist *l)
{
	struct nlres r = { .parse = devlist_cb, .arg = l };

	l->n = 0;
	return t_send(sk, t_msg(fam, VSTUB_CMD_DEV_GET, true), &r);
}

static inline int t_dev_get(struct nl_sock *sk, int fam, const char *bdf,
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

static inline int idlist_cb(struct nlattr **tb, void *arg)
{
	struct idlist *l = arg;

	if (l->n < 16)
		t_str_attr(tb, VSTUB_A_ID, l->ids[l->n++], 64);
	return 0;
}

struct status {
	int units, npci, ngrouped, ngroups, ntrans, nisol, ncaptured, nids;
};

static inline int status_cb(struct nlattr **tb, void *arg)
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

static inline int group_cb(struct nlattr **tb, void *arg)
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

static inline int ev_cb(struct nl_msg *msg, void *arg)
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

static inline int noop_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/* Wait up to @ms for an event @cmd about @what (BDF or ID). */
static inline bool ev_wait(struct nl_sock *mon, struct events *ev, int cmd,
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

static inline int drop_caps(const int *caps, int n)
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
static inline int as_unprivileged(int mode, uint8_t cmd, int type, const char *val)
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

static inline const char *vstubctl_path(void)
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
static inline int run_ctl(const char *args, char *out, size_t len)
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
static inline int json_obj_with(const char *js, const char *key, const char *val,
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

static inline bool json_has(const char *obj, const char *frag)
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

#endif /* _VSTUB_NL_UTIL_H */
