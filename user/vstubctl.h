/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstubctl - control the vstub kernel module (shared declarations).
 *
 * One file per area: main.c (options, the command table, help), nl.c
 * (generic netlink and the kernel's error messages), json.c (output),
 * sysfs.c, status.c, dev.c (list, capture, release, explain, sriov,
 * handoff), ids.c, watch.c, conf.c (the configuration file), persist.c.
 */
#ifndef VSTUBCTL_H
#define VSTUBCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vstub.h"	/* kmod/uapi/vstub.h */

#define VSTUBCTL_VERSION	"0.1.0"
#define VSTUB_CONF_DEFAULT	"/etc/vstub.conf"
#define VSTUB_MODPROBE_DEFAULT	"/etc/modprobe.d/vstub.conf"
#define VSTUB_SYSFS_PCI		"/sys/bus/pci/devices"
#define VSTUB_SYSFS_DRV		"/sys/bus/pci/drivers"

/* Exit codes. */
enum {
	EXIT_OK		= 0,
	EXIT_FAIL	= 1,	/* the operation failed */
	EXIT_USAGE	= 2,	/* bad command line */
	EXIT_NOMOD	= 3,	/* vstub is not loaded */
};

/* ---- global state --------------------------------------------------------- */

struct json;

struct ctx {
	bool json;		/* --json */
	bool quiet;		/* --quiet */
	const char *conf;	/* configuration file */
	const char *modprobe_conf; /* generated modprobe.d file */
	const char *sysfs;	/* root of sysfs ("" normally; tests) */
	struct json *js;	/* the JSON writer when json */
	const char *cmd;	/* "capture", "ids add", ... for messages */
};

/* ---- the command table ---------------------------------------------------- */

struct command {
	const char *name;	/* "ids" */
	const char *sub;	/* "add", or NULL */
	const char *args;	/* "ID" */
	const char *help;	/* one paragraph */
	int (*fn)(struct ctx *ctx, int argc, char **argv);
};

/*
 * Register a command: it lands in the "vstub_cmds" section, which main.c
 * walks for dispatch and generated help (as iw does).
 */
#define COMMAND(_name, _sub, _args, _fn, _help)				\
	static const struct command __cmd_##_fn				\
	__attribute__((used, section("vstub_cmds"),			\
		       aligned(sizeof(void *)))) = {			\
		.name = #_name, .sub = _sub, .args = _args,		\
		.help = _help, .fn = _fn,				\
	}

extern const struct command __start_vstub_cmds[];
extern const struct command __stop_vstub_cmds[];

/*
 * Leading "--help" / "-h" of a subcommand: print its usage and return 1;
 * unknown options: usage on stderr, return -1.  Else 0.
 */
int cmd_help_check(struct ctx *ctx, int argc, char **argv, const char *name,
		   const char *sub);
void cmd_usage(FILE *f, const char *name, const char *sub);

/* ---- messages ------------------------------------------------------------- */

void err_msg(struct ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void info_msg(struct ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- netlink (nl.c) ------------------------------------------------------- */

struct nl_sock;
struct nlattr;

struct vnl {
	struct nl_sock *sk;
	int family;
	int mcgrp;
};

/* Last kernel error: errno and extack text (may be empty). */
struct vnl_err {
	int err;		/* positive errno, 0 for none */
	char msg[256];		/* NLMSGERR_ATTR_MSG */
	int bad_attr;		/* attribute type at fault, or 0 */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, or 0 */
};

typedef int (*vnl_parse_fn)(struct nlattr **tb, void *arg);

int vnl_open(struct ctx *ctx, struct vnl *nl);
void vnl_close(struct vnl *nl);
bool vnl_module_loaded(void);

/* One attribute to send: string or u32. */
struct vnl_attr {
	int type;
	const char *str;	/* NUL-terminated string, or NULL for u32 */
	uint32_t u32;
};

/*
 * Send command @cmd with @attrs (n of them), NLM_F_DUMP if @dump, and call
 * @parse for every reply message.  Returns 0 or a negative errno; the
 * kernel's explanation is in @err.
 */
int vnl_request(struct vnl *nl, uint8_t cmd, bool dump,
		const struct vnl_attr *attrs, int n, vnl_parse_fn parse,
		void *arg, struct vnl_err *err);

/* vnl_open + vnl_request + vnl_perror; returns an exit code. */
int vnl_do(struct ctx *ctx, uint8_t cmd, bool dump,
	   const struct vnl_attr *attrs, int n, vnl_parse_fn parse, void *arg,
	   const char *what);

/* Print "vstubctl: WHAT: strerror: kernel text" plus a hint. */
void vnl_perror(struct ctx *ctx, const char *what, int ret,
		const struct vnl_err *err);

/* Nested attribute helpers (libnl wrappers). */
int vnl_parse_nested(struct nlattr **tb, int max, struct nlattr *nest);
const char *vnl_str(struct nlattr **tb, int type, const char *def);
uint64_t vnl_uint(struct nlattr **tb, int type, uint64_t def);
bool vnl_has(struct nlattr **tb, int type);

/* Watching the monitor group: calls @parse with the command of each event. */
typedef int (*vnl_event_fn)(uint8_t cmd, struct nlattr **tb, void *arg);
int vnl_watch(struct vnl *nl, vnl_event_fn fn, void *arg, int count,
	      int timeout_ms, void (*ready)(void *arg));

/* ---- JSON (json.c) -------------------------------------------------------- */

struct json *json_new(FILE *f);
void json_free(struct json *js);
void json_escape(FILE *f, const char *s);
void json_obj_begin(struct json *js, const char *key);
void json_obj_end(struct json *js);
void json_arr_begin(struct json *js, const char *key);
void json_arr_end(struct json *js);
void json_str(struct json *js, const char *key, const char *val);
void json_int(struct json *js, const char *key, long long val);
void json_bool(struct json *js, const char *key, bool val);
void json_null(struct json *js, const char *key);
/* End one document: newline and flush. */
void json_done(struct json *js);

/* ---- sysfs (sysfs.c) ------------------------------------------------------ */

/* Copy @src into @dst of size @len, truncating; always NUL-terminates. */
void scopy(char *dst, const char *src, size_t len);

int sysfs_read_str(const char *path, char *buf, size_t len);
int sysfs_write_str(const char *path, const char *val);
int sysfs_read_hex(const char *path, unsigned long *val);
bool sysfs_exists(const char *path);
/* Basename of the symlink @path points to (e.g. a driver), "" if none. */
int sysfs_link_name(const char *path, char *buf, size_t len);
int pci_dev_attr(const struct ctx *ctx, const char *bdf, const char *attr,
		 char *path, size_t len);

/* ---- parsing shared with the tests (conf.c) ------------------------------- */

/* Normalise a PCI address to "DDDD:BB:DD.F"; 0 or -EINVAL. */
int parse_bdf(const char *in, char *out, size_t len);
/* Check a pci-stub style ID; 0 or -EINVAL (same grammar as the module). */
int parse_id(const char *in, unsigned int *vendor, unsigned int *device);
/* Is @s "N" for 0 <= N <= max?  Stores it in *val. */
int parse_uint(const char *s, unsigned long max, unsigned long *val);
/* A size: bytes, or with K/M/G/T (binary); 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);

enum conf_kind { CONF_ID, CONF_BDF };

#define OWNER_MAX_LEN	72	/* "USER[:GROUP]" including the NUL */

struct conf_entry {
	enum conf_kind kind;
	char value[VSTUB_ID_MAX_LEN];
	char owner[OWNER_MAX_LEN];	/* "" or USER[:GROUP] (bdf only) */
};

struct conf {
	struct conf_entry *e;
	size_t n, cap;
};

/*
 * Read @path (a missing file is an empty configuration).  On a syntax error
 * returns -EINVAL with "LINE: why" in @why.
 */
int conf_load(const char *path, struct conf *c, char *why, size_t whylen);
int conf_parse_line(const char *line, struct conf_entry *e, const char **why);
int conf_add(struct conf *c, enum conf_kind kind, const char *value);
/* The entry for @value (NULL if none). */
struct conf_entry *conf_find(struct conf *c, enum conf_kind kind,
			     const char *value);
/* Is @s USER, USER:GROUP or :GROUP (names or numbers)?  0 or -EINVAL. */
int parse_owner_syntax(const char *s);
int conf_del(struct conf *c, enum conf_kind kind, const char *value);
bool conf_has(const struct conf *c, enum conf_kind kind, const char *value);
/* Write atomically (temporary file and rename). */
int conf_save(const char *path, const struct conf *c);
void conf_free(struct conf *c);
const char *conf_kind_name(enum conf_kind kind);

/* ---- device records (dev.c) ------------------------------------------- */

/* Print one VSTUB_CMD_DEV_GET-style record; @event names a notification. */
void dev_print(struct ctx *ctx, struct nlattr **tb, const char *event);
void dev_print_header(struct ctx *ctx);
/* Who may open the node at @path, in words; false if it does not exist. */
bool node_access(const char *path, char *buf, size_t len);
/* A byte count for people: "4 KiB", "8 MiB", "unlimited". */
void fmt_bytes(uint64_t b, char *buf, size_t len);
/* Normalise @arg as a BDF or print an error; 0 or EXIT_USAGE. */
int arg_bdf(struct ctx *ctx, const char *arg, char *bdf, size_t len);

/* ---- owners (owner.c) ------------------------------------------------------ */

struct owner {
	bool has_uid, has_gid;
	uint32_t uid, gid;
};

/*
 * Resolve "USER[:GROUP]" or ":GROUP" (names or numbers; a USER alone also
 * means that user's primary group is NOT given: the node stays 0600).
 * Returns 0, or -ENOENT with @why naming what is unknown.
 */
int owner_resolve(const char *spec, struct owner *o, char *why, size_t len);
/* "1000 (alice)" for a uid or gid. */
void owner_uid_name(uint32_t uid, char *buf, size_t len);
void owner_gid_name(uint32_t gid, char *buf, size_t len);
/* /dev/vstub/N or /dev/vfio/N for IOMMU group @group. */
void group_node_path(const struct ctx *ctx, unsigned long group, char *buf,
		     size_t len);

/* ---- names ----------------------------------------------------------------- */

const char *reason_name(unsigned int reason);
const char *dma_mode_name(unsigned int mode);
const char *resv_type_name(unsigned int type);

#endif /* VSTUBCTL_H */
