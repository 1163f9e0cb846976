// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - talking to the vstub generic netlink family through libnl-genl,
 * with the kernel's extended ack (its explanation of a rejection) kept for
 * the error message.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "vstubctl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

bool vnl_module_loaded(void)
{
	return access("/sys/module/vstub", F_OK) == 0;
}

int vnl_open(struct ctx *ctx, struct vnl *nl)
{
	int one = 1, ret;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		err_msg(ctx, "out of memory");
		return -ENOMEM;
	}
	ret = genl_connect(nl->sk);
	if (ret) {
		err_msg(ctx, "cannot open a generic netlink socket: %s",
			nl_geterror(ret));
		goto err;
	}
	/* Ask for the kernel's error text; capped acks keep them short. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, VSTUB_GENL_NAME);
	if (nl->family < 0) {
		if (vnl_module_loaded())
			err_msg(ctx, "the vstub module is loaded but has no netlink family \"%s\": it is too old for this vstubctl",
				VSTUB_GENL_NAME);
		else
			err_msg(ctx, "the vstub module is not loaded: load it with 'modprobe vstub' (or 'vstubctl apply')");
		ret = -ENOENT;
		goto err;
	}
	nl->mcgrp = genl_ctrl_resolve_grp(nl->sk, VSTUB_GENL_NAME,
					  VSTUB_GENL_MCGRP_MONITOR);
	return 0;
err:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return ret;
}

void vnl_close(struct vnl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct vnl_req {
	int status;		/* 1 running, 0 done, <0 -errno */
	vnl_parse_fn parse;
	void *arg;
	int parse_ret;
	struct vnl_err *err;
};

/* The kernel's error: errno plus the extended ack TLVs after it. */
static int vnl_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)e - 1;
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct vnl_req *req = arg;
	int len = nlh->nlmsg_len;
	int ack_len = sizeof(*nlh) + sizeof(*e);

	(void)nla;
	req->status = e->error < 0 ? e->error : -EIO;
	req->err->err = -req->status;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += e->msg.nlmsg_len - sizeof(*nlh);
	if (len <= ack_len)
		return NL_STOP;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlh + ack_len),
		      len - ack_len, NULL))
		return NL_STOP;
	if (tb[NLMSGERR_ATTR_MSG]) {
		const char *m = nla_data(tb[NLMSGERR_ATTR_MSG]);
		size_t n = strnlen(m, nla_len(tb[NLMSGERR_ATTR_MSG]));

		if (n >= sizeof(req->err->msg))
			n = sizeof(req->err->msg) - 1;
		memcpy(req->err->msg, m, n);
		req->err->msg[n] = '\0';
	}
#ifdef NLMSGERR_ATTR_MISS_TYPE
	if (tb[NLMSGERR_ATTR_MISS_TYPE])
		req->err->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
#endif
	return NL_STOP;
}

static int vnl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct vnl_req *req = arg;

	(void)msg;
	req->status = 0;
	return NL_STOP;
}

static int vnl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[VSTUB_A_MAX + 1];
	struct vnl_req *req = arg;
	int ret;

	if (!req->parse)
		return NL_OK;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, VSTUB_A_MAX, NULL))
		return NL_SKIP;
	ret = req->parse(tb, req->arg);
	if (ret && !req->parse_ret)
		req->parse_ret = ret;
	return NL_OK;
}

int vnl_request(struct vnl *nl, uint8_t cmd, bool dump,
		const struct vnl_attr *attrs, int n, vnl_parse_fn parse,
		void *arg, struct vnl_err *err)
{
	struct vnl_req req = { .status = 1, .parse = parse, .arg = arg,
			       .err = err };
	struct nl_msg *msg;
	struct nl_cb *cb;
	int i, ret;

	memset(err, 0, sizeof(*err));
	msg = nlmsg_alloc();
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!msg || !cb) {
		ret = -ENOMEM;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, VSTUB_GENL_VERSION)) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		ret = attrs[i].str ?
		      nla_put_string(msg, attrs[i].type, attrs[i].str) :
		      nla_put_u32(msg, attrs[i].type, attrs[i].u32);
		if (ret) {
			ret = -EMSGSIZE;
			goto out;
		}
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, vnl_valid_cb, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, vnl_finish_cb, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, vnl_finish_cb, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, vnl_err_cb, &req);

	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s", nl_geterror(ret));
		ret = -EIO;
		goto out;
	}
	while (req.status > 0) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && req.status > 0) {
			snprintf(err->msg, sizeof(err->msg),
				 "netlink receive failed: %s", nl_geterror(ret));
			req.status = -EIO;
		}
	}
	ret = req.status ? req.status : req.parse_ret;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return ret;
}

int vnl_do(struct ctx *ctx, uint8_t cmd, bool dump,
	   const struct vnl_attr *attrs, int n, vnl_parse_fn parse, void *arg,
	   const char *what)
{
	struct vnl_err e;
	struct vnl nl;
	int ret;

	if (vnl_open(ctx, &nl))
		return EXIT_NOMOD;
	ret = vnl_request(&nl, cmd, dump, attrs, n, parse, arg, &e);
	vnl_close(&nl);
	if (ret) {
		vnl_perror(ctx, what, ret, &e);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static const char *vnl_hint(int err, const struct vnl_err *e)
{
	switch (err) {
	case EPERM:
		return "run vstubctl as root (it needs CAP_NET_ADMIN and CAP_SYS_ADMIN)";
	case ENODEV:
		return "check the address with 'lspci -D' or 'ls /sys/bus/pci/devices'";
	case EOPNOTSUPP:
		return e->msg[0] ? NULL :
		       "the loaded vstub module does not know this command: load the matching module";
	default:
		return NULL;
	}
}

void vnl_perror(struct ctx *ctx, const char *what, int ret,
		const struct vnl_err *err)
{
	int e = ret < 0 ? -ret : ret;
	const char *hint = vnl_hint(e, err);

	if (err->msg[0])
		err_msg(ctx, "%s: %s: %s", what, strerror(e), err->msg);
	else if (err->miss_type)
		err_msg(ctx, "%s: %s: attribute %d missing", what, strerror(e),
			err->miss_type);
	else
		err_msg(ctx, "%s: %s", what, strerror(e));
	if (hint)
		err_msg(ctx, "hint: %s", hint);
}

int vnl_parse_nested(struct nlattr **tb, int max, struct nlattr *nest)
{
	return nla_parse_nested(tb, max, nest, NULL);
}

bool vnl_has(struct nlattr **tb, int type)
{
	return tb[type] != NULL;
}

const char *vnl_str(struct nlattr **tb, int type, const char *def)
{
	if (!tb[type] || nla_len(tb[type]) < 1 ||
	    ((char *)nla_data(tb[type]))[nla_len(tb[type]) - 1])
		return def;
	return nla_get_string(tb[type]);
}

uint64_t vnl_uint(struct nlattr **tb, int type, uint64_t def)
{
	if (!tb[type])
		return def;
	switch (nla_len(tb[type])) {
	case 1:
		return nla_get_u8(tb[type]);
	case 2:
		return nla_get_u16(tb[type]);
	case 4:
		return nla_get_u32(tb[type]);
	case 8:
		return nla_get_u64(tb[type]);
	default:
		return def;
	}
}

struct vnl_watch {
	vnl_event_fn fn;
	void *arg;
	int seen;
	int ret;
};

static int vnl_event_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[VSTUB_A_MAX + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));
	struct vnl_watch *w = arg;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, VSTUB_A_MAX, NULL))
		return NL_SKIP;
	w->seen++;
	w->ret = w->fn(gh->cmd, tb, w->arg);
	return NL_OK;
}

static int vnl_noop_cb(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

/*
 * Join the monitor group, then call @ready (if any) and hand each event to
 * @fn until @count were seen (0: no limit), @timeout_ms passed without an
 * event (0: no limit; returns -ETIMEDOUT) or @fn returns non-zero.
 */
int vnl_watch(struct vnl *nl, vnl_event_fn fn, void *arg, int count,
	      int timeout_ms, void (*ready)(void *arg))
{
	struct vnl_watch w = { .fn = fn, .arg = arg };
	struct pollfd pfd;
	struct nl_cb *cb;
	int ret;

	if (nl->mcgrp < 0)
		return -ENOENT;
	ret = nl_socket_add_membership(nl->sk, nl->mcgrp);
	if (ret < 0)
		return -EIO;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, vnl_event_cb, &w);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, vnl_noop_cb, NULL);
	if (ready)
		ready(arg);
	pfd.fd = nl_socket_get_fd(nl->sk);
	pfd.events = POLLIN;
	while (!count || w.seen < count) {
		ret = poll(&pfd, 1, timeout_ms ? timeout_ms : -1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			ret = ret ? -errno : -ETIMEDOUT;
			break;
		}
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0) {
			ret = -EIO;
			break;
		}
		ret = w.ret;
		if (ret)
			break;
	}
	nl_cb_put(cb);
	return ret;
}
