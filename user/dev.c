// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - commands about PCI functions: list, capture, release, explain,
 * sriov and handoff.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netlink/attr.h>

#include "vstubctl.h"

/* names[i], or "unknown" past the table or in one of its holes. */
#define NAME_OF(names, i) \
	((i) < sizeof(names) / sizeof((names)[0]) && (names)[i] ? \
	 (names)[i] : "unknown")

const char *reason_name(unsigned int reason)
{
	static const char * const names[] = {
		[VSTUB_NL_REASON_NONE]	 = "none",
		[VSTUB_NL_REASON_ID]	 = "id",
		[VSTUB_NL_REASON_BDF]	 = "bdf",
		[VSTUB_NL_REASON_NEW_ID] = "new_id",
		[VSTUB_NL_REASON_VF]	 = "vf",
	};

	return NAME_OF(names, reason);
}

const char *dma_mode_name(unsigned int mode)
{
	static const char * const names[] = {
		[VSTUB_DMA_NO_IOMMU]	= "no-iommu",
		[VSTUB_DMA_TRANSLATED]	= "translated",
		[VSTUB_DMA_PASSTHROUGH]	= "passthrough",
		[VSTUB_DMA_BLOCKED]	= "blocked",
		[VSTUB_DMA_UNMANAGED]	= "unmanaged",
		[VSTUB_DMA_OTHER]	= "other",
	};

	return NAME_OF(names, mode);
}

const char *resv_type_name(unsigned int type)
{
	static const char * const names[] = {
		[VSTUB_RESV_DIRECT]		= "direct",
		[VSTUB_RESV_DIRECT_RELAXABLE]	= "direct-relaxable",
		[VSTUB_RESV_RESERVED]		= "reserved",
		[VSTUB_RESV_MSI]		= "msi",
		[VSTUB_RESV_SW_MSI]		= "sw-msi",
		[VSTUB_RESV_OTHER]		= "other",
	};

	return NAME_OF(names, type);
}

int arg_bdf(struct ctx *ctx, const char *arg, char *bdf, size_t len)
{
	if (parse_bdf(arg, bdf, len)) {
		err_msg(ctx, "%s: malformed PCI address '%s': expected DDDD:BB:DD.F or BB:DD.F in hex (see lspci -D)",
			ctx->cmd, arg);
		return EXIT_USAGE;
	}
	return 0;
}

/* Exactly @n positional arguments, no options. */
static int want_args(struct ctx *ctx, int argc, char **argv, int n,
		     const char *what)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1]) {
			err_msg(ctx, "%s: unknown option '%s'", ctx->cmd, argv[i]);
			return EXIT_USAGE;
		}
	}
	if (argc != n) {
		err_msg(ctx, "%s: expected %s (see vstubctl %s --help)",
			ctx->cmd, what, ctx->cmd);
		return EXIT_USAGE;
	}
	return 0;
}

static void resv_json(struct json *js, struct nlattr *nest)
{
	struct nlattr *tb[VSTUB_RESV_A_MAX + 1], *r;
	char buf[32];
	int rem;

	json_arr_begin(js, "reserved_regions");
	nla_for_each_nested(r, nest, rem) {
		if (vnl_parse_nested(tb, VSTUB_RESV_A_MAX, r))
			continue;
		json_obj_begin(js, NULL);
		snprintf(buf, sizeof(buf), "0x%" PRIx64,
			 vnl_uint(tb, VSTUB_RESV_A_START, 0));
		json_str(js, "start", buf);
		snprintf(buf, sizeof(buf), "0x%" PRIx64,
			 vnl_uint(tb, VSTUB_RESV_A_LENGTH, 0));
		json_str(js, "length", buf);
		json_str(js, "type",
			 resv_type_name(vnl_uint(tb, VSTUB_RESV_A_TYPE, 99)));
		json_obj_end(js);
	}
	json_arr_end(js);
}

static void resv_print(struct nlattr *nest)
{
	struct nlattr *tb[VSTUB_RESV_A_MAX + 1], *r;
	uint64_t start, len;
	int rem;

	printf("  reserved IOVA regions:");
	if (!nla_len(nest))
		printf(" none");
	printf("\n");
	nla_for_each_nested(r, nest, rem) {
		if (vnl_parse_nested(tb, VSTUB_RESV_A_MAX, r))
			continue;
		start = vnl_uint(tb, VSTUB_RESV_A_START, 0);
		len = vnl_uint(tb, VSTUB_RESV_A_LENGTH, 0);
		printf("    0x%016" PRIx64 "-0x%016" PRIx64 " %s\n", start,
		       start + len - 1,
		       resv_type_name(vnl_uint(tb, VSTUB_RESV_A_TYPE, 99)));
	}
}

static void json_opt_str(struct json *js, const char *key, struct nlattr **tb,
			 int type)
{
	const char *s = vnl_str(tb, type, NULL);

	if (s)
		json_str(js, key, s);
	else
		json_null(js, key);
}

static void holders_json(struct json *js, struct nlattr **tb);

static void dev_json(struct json *js, struct nlattr **tb, const char *event)
{
	char id[16];

	json_obj_begin(js, NULL);
	if (event)
		json_str(js, "event", event);
	json_str(js, "bdf", vnl_str(tb, VSTUB_A_BDF, ""));
	snprintf(id, sizeof(id), "%04" PRIx64 ":%04" PRIx64,
		 vnl_uint(tb, VSTUB_A_VENDOR, 0), vnl_uint(tb, VSTUB_A_DEVICE, 0));
	json_str(js, "id", id);
	json_int(js, "vendor", vnl_uint(tb, VSTUB_A_VENDOR, 0));
	json_int(js, "device", vnl_uint(tb, VSTUB_A_DEVICE, 0));
	if (vnl_has(tb, VSTUB_A_SUBVENDOR)) {
		json_int(js, "subvendor", vnl_uint(tb, VSTUB_A_SUBVENDOR, 0));
		json_int(js, "subdevice", vnl_uint(tb, VSTUB_A_SUBDEVICE, 0));
		json_int(js, "class", vnl_uint(tb, VSTUB_A_CLASS, 0));
	}
	json_opt_str(js, "driver", tb, VSTUB_A_DRIVER);
	json_bool(js, "captured", vnl_uint(tb, VSTUB_A_CAPTURED, 0));
	if (vnl_has(tb, VSTUB_A_REASON))
		json_str(js, "reason",
			 reason_name(vnl_uint(tb, VSTUB_A_REASON, 0)));
	else
		json_null(js, "reason");
	json_opt_str(js, "orig_driver", tb, VSTUB_A_ORIG_DRIVER);
	if (vnl_has(tb, VSTUB_A_IOMMU_GROUP))
		json_int(js, "iommu_group",
			 vnl_uint(tb, VSTUB_A_IOMMU_GROUP, 0));
	else
		json_null(js, "iommu_group");
	json_opt_str(js, "iommu_unit", tb, VSTUB_A_IOMMU_UNIT);
	json_str(js, "dma", dma_mode_name(vnl_uint(tb, VSTUB_A_DMA_MODE, 0)));
	json_bool(js, "isolated_msi", vnl_uint(tb, VSTUB_A_ISOLATED_MSI, 0));
	if (vnl_has(tb, VSTUB_A_PHYSFN))
		json_str(js, "physfn", vnl_str(tb, VSTUB_A_PHYSFN, ""));
	if (vnl_has(tb, VSTUB_A_TOTAL_VFS)) {
		json_int(js, "num_vfs", vnl_uint(tb, VSTUB_A_NUM_VFS, 0));
		json_int(js, "total_vfs", vnl_uint(tb, VSTUB_A_TOTAL_VFS, 0));
	}
	if (vnl_has(tb, VSTUB_A_VFIO_OPEN)) {
		json_obj_begin(js, "vfio");
		json_bool(js, "open", vnl_uint(tb, VSTUB_A_VFIO_OPEN, 0));
		json_int(js, "pinned_pages",
			 vnl_uint(tb, VSTUB_A_VFIO_PINNED_PAGES, 0));
		json_int(js, "mappings", vnl_uint(tb, VSTUB_A_VFIO_MAPPINGS, 0));
		if (vnl_has(tb, VSTUB_A_VF_TOKEN_SET))
			json_bool(js, "vf_token_set",
				  vnl_uint(tb, VSTUB_A_VF_TOKEN_SET, 0));
		holders_json(js, tb);
		json_obj_end(js);
	}
	/* who the function was given to (capture --owner), null if nobody */
	if (vnl_uint(tb, VSTUB_A_CAPTURED, 0)) {
		if (vnl_has(tb, VSTUB_A_OWNER_UID))
			json_int(js, "owner_uid", vnl_uint(tb, VSTUB_A_OWNER_UID, 0));
		else
			json_null(js, "owner_uid");
		if (vnl_has(tb, VSTUB_A_OWNER_GID))
			json_int(js, "owner_gid", vnl_uint(tb, VSTUB_A_OWNER_GID, 0));
		else
			json_null(js, "owner_gid");
	}
	if (vnl_has(tb, VSTUB_A_RESV_REGIONS))
		resv_json(js, tb[VSTUB_A_RESV_REGIONS]);
	json_obj_end(js);
}

/* "may open: root, user alice (rw)..." for a node; false if absent. */
bool node_access(const char *path, char *buf, size_t len)
{
	char u[64], g[64];
	struct stat st;

	if (stat(path, &st))
		return false;
	owner_uid_name(st.st_uid, u, sizeof(u));
	owner_gid_name(st.st_gid, g, sizeof(g));
	if ((st.st_mode & 0006) == 0006)
		snprintf(buf, len, "mode %04o: anyone may open it", st.st_mode & 07777);
	else if (st.st_uid == 0 && (st.st_mode & 0060) != 0060)
		snprintf(buf, len, "mode %04o %s:%s: only root may open it",
			 st.st_mode & 07777, u, g);
	else if ((st.st_mode & 0060) == 0060)
		snprintf(buf, len, "mode %04o %s:%s: root, user %s and group %s may open it",
			 st.st_mode & 07777, u, g, u, g);
	else
		snprintf(buf, len, "mode %04o %s:%s: root and user %s may open it",
			 st.st_mode & 07777, u, g, u);
	return true;
}

/* "4 KiB", "8 MiB", "unlimited" */
void fmt_bytes(uint64_t b, char *buf, size_t len)
{
	if (b == VSTUB_MEMLOCK_UNLIMITED)
		snprintf(buf, len, "unlimited");
	else if (b >= (1ULL << 30) && !(b & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%" PRIu64 " GiB", b >> 30);
	else if (b >= (1ULL << 20) && !(b & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%" PRIu64 " MiB", b >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", (b + 1023) >> 10);
}

/* Owner, group node access and the holders of a captured function. */
static void dev_print_users(struct ctx *ctx, struct nlattr **tb)
{
	struct nlattr *ht[VSTUB_HOLDER_A_MAX + 1], *h;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	char path[64], who[192], a[32], b[32];
	int rem;

	if (ctx->quiet)
		return;
	if (vnl_has(tb, VSTUB_A_OWNER_UID) || vnl_has(tb, VSTUB_A_OWNER_GID)) {
		if (vnl_has(tb, VSTUB_A_OWNER_UID))
			owner_uid_name(vnl_uint(tb, VSTUB_A_OWNER_UID, 0), a, sizeof(a));
		else
			scopy(a, "-", sizeof(a));
		if (vnl_has(tb, VSTUB_A_OWNER_GID))
			owner_gid_name(vnl_uint(tb, VSTUB_A_OWNER_GID, 0), b, sizeof(b));
		else
			scopy(b, "-", sizeof(b));
		printf("    given to: user %s, group %s\n", a, b);
	}
	if (vnl_has(tb, VSTUB_A_IOMMU_GROUP) && vnl_has(tb, VSTUB_A_VFIO_OPEN)) {
		group_node_path(ctx, vnl_uint(tb, VSTUB_A_IOMMU_GROUP, 0), path,
				sizeof(path));
		if (node_access(path, who, sizeof(who)))
			printf("    %s: %s\n", path, who);
	}
	if (!tb[VSTUB_A_HOLDERS])
		return;
	nla_for_each_nested(h, tb[VSTUB_A_HOLDERS], rem) {
		uint64_t locked, lim;

		if (vnl_parse_nested(ht, VSTUB_HOLDER_A_MAX, h))
			continue;
		locked = vnl_uint(ht, VSTUB_HOLDER_A_LOCKED_PAGES, 0) * page;
		lim = vnl_uint(ht, VSTUB_HOLDER_A_MEMLOCK_LIMIT, 0);
		fmt_bytes(locked, a, sizeof(a));
		fmt_bytes(lim, b, sizeof(b));
		printf("    held by pid %" PRIu64 " (%s): locked memory %s of RLIMIT_MEMLOCK %s%s\n",
		       vnl_uint(ht, VSTUB_HOLDER_A_PID, 0),
		       vnl_str(ht, VSTUB_HOLDER_A_COMM, "?"), a, b,
		       vnl_uint(ht, VSTUB_HOLDER_A_IPC_LOCK, 0) ?
		       " (CAP_IPC_LOCK: limit not enforced)" :
		       lim != VSTUB_MEMLOCK_UNLIMITED && locked * 10 >= lim * 9 ?
		       " (near the limit: see vstubctl memlock)" : "");
	}
	if (vnl_uint(tb, VSTUB_A_NUM_HOLDERS, 0) > 4)
		printf("    ... and %" PRIu64 " more processes\n",
		       vnl_uint(tb, VSTUB_A_NUM_HOLDERS, 0) - 4);
}

static void holders_json(struct json *js, struct nlattr **tb)
{
	struct nlattr *ht[VSTUB_HOLDER_A_MAX + 1], *h;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), lim;
	int rem;

	if (!vnl_has(tb, VSTUB_A_NUM_HOLDERS))
		return;
	json_int(js, "num_holders", vnl_uint(tb, VSTUB_A_NUM_HOLDERS, 0));
	json_arr_begin(js, "holders");
	if (tb[VSTUB_A_HOLDERS]) {
		nla_for_each_nested(h, tb[VSTUB_A_HOLDERS], rem) {
			if (vnl_parse_nested(ht, VSTUB_HOLDER_A_MAX, h))
				continue;
			json_obj_begin(js, NULL);
			json_int(js, "pid", vnl_uint(ht, VSTUB_HOLDER_A_PID, 0));
			json_str(js, "comm", vnl_str(ht, VSTUB_HOLDER_A_COMM, ""));
			json_int(js, "locked_bytes",
				 vnl_uint(ht, VSTUB_HOLDER_A_LOCKED_PAGES, 0) * page);
			lim = vnl_uint(ht, VSTUB_HOLDER_A_MEMLOCK_LIMIT, 0);
			if (lim == VSTUB_MEMLOCK_UNLIMITED)
				json_null(js, "memlock_limit");
			else
				json_int(js, "memlock_limit", lim);
			json_bool(js, "cap_ipc_lock",
				  vnl_uint(ht, VSTUB_HOLDER_A_IPC_LOCK, 0));
			json_obj_end(js);
		}
	}
	json_arr_end(js);
}

void dev_print_header(struct ctx *ctx)
{
	if (!ctx->json && !ctx->quiet)
		printf("%-13s %-9s %-6s %-6s %-11s %-8s %-7s %s\n", "BDF", "ID",
		       "CLASS", "GROUP", "DMA", "MSI", "REASON", "WAS");
}

void dev_print(struct ctx *ctx, struct nlattr **tb, const char *event)
{
	char group[16] = "-";

	if (ctx->json) {
		dev_json(ctx->js, tb, event);
		return;
	}
	if (vnl_has(tb, VSTUB_A_IOMMU_GROUP))
		snprintf(group, sizeof(group), "%" PRIu64,
			 vnl_uint(tb, VSTUB_A_IOMMU_GROUP, 0));
	if (event)
		printf("%-9s ", event);
	printf("%-13s %04" PRIx64 ":%04" PRIx64 " %06" PRIx64 " %-6s %-11s %-8s %-7s %s",
	       vnl_str(tb, VSTUB_A_BDF, "?"),
	       vnl_uint(tb, VSTUB_A_VENDOR, 0), vnl_uint(tb, VSTUB_A_DEVICE, 0),
	       vnl_uint(tb, VSTUB_A_CLASS, 0), group,
	       dma_mode_name(vnl_uint(tb, VSTUB_A_DMA_MODE, 0)),
	       vnl_uint(tb, VSTUB_A_ISOLATED_MSI, 0) ? "isolated" : "no",
	       vnl_has(tb, VSTUB_A_REASON) ?
	       reason_name(vnl_uint(tb, VSTUB_A_REASON, 0)) : "-",
	       vnl_str(tb, VSTUB_A_ORIG_DRIVER, "-"));
	if (vnl_has(tb, VSTUB_A_VFIO_OPEN))
		printf(" vfio:%s pinned=%" PRIu64 " maps=%" PRIu64,
		       vnl_uint(tb, VSTUB_A_VFIO_OPEN, 0) ? "open" : "closed",
		       vnl_uint(tb, VSTUB_A_VFIO_PINNED_PAGES, 0),
		       vnl_uint(tb, VSTUB_A_VFIO_MAPPINGS, 0));
	if (vnl_has(tb, VSTUB_A_VF_TOKEN_SET))
		printf(" vf_token:%s", vnl_uint(tb, VSTUB_A_VF_TOKEN_SET, 0) ?
		       "set" : "unset");
	printf("\n");
	if (!event && vnl_uint(tb, VSTUB_A_CAPTURED, 0))
		dev_print_users(ctx, tb);
	fflush(stdout);
}

/* ---- list ------------------------------------------------------------------ */

static int list_one(struct nlattr **tb, void *arg)
{
	struct ctx *ctx = arg;

	if (!ctx->quiet || ctx->json)
		dev_print(ctx, tb, NULL);
	return 0;
}

static int cmd_list(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN];
	struct vnl_attr a = { .type = VSTUB_A_BDF, .str = bdf };
	int ret;

	if (argc > 1 || (argc == 1 && argv[0][0] == '-')) {
		err_msg(ctx, "list: expected at most one PCI address");
		return EXIT_USAGE;
	}
	if (argc == 1) {
		ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
		if (ret)
			return ret;
		if (ctx->json)
			json_arr_begin(ctx->js, NULL);
		else
			dev_print_header(ctx);
		ret = vnl_do(ctx, VSTUB_CMD_DEV_GET, false, &a, 1, list_one,
			     ctx, bdf);
	} else {
		if (ctx->json)
			json_arr_begin(ctx->js, NULL);
		else
			dev_print_header(ctx);
		ret = vnl_do(ctx, VSTUB_CMD_DEV_GET, true, NULL, 0, list_one,
			     ctx, "list");
	}
	if (ctx->json && !ret) {
		json_arr_end(ctx->js);
		json_done(ctx->js);
	}
	return ret;
}
COMMAND(list, NULL, "[BDF]", cmd_list,
	"List the functions vstub holds: address, vendor:device, class, IOMMU\n"
	"group, DMA translation, MSI isolation, why it was captured and the\n"
	"driver it had; the VFIO state (open, pinned pages, mappings); the user\n"
	"it was given to and who may open its group node; and every process\n"
	"holding it open with its locked memory against its RLIMIT_MEMLOCK.\n"
	"With BDF: that one function, captured or not, with its reserved IOVA\n"
	"regions.");

/* ---- capture / release ------------------------------------------------------ */

static int print_ok(struct ctx *ctx, const char *what, const char *arg)
{
	if (ctx->json) {
		json_obj_begin(ctx->js, NULL);
		json_str(ctx->js, "command", ctx->cmd);
		json_str(ctx->js, what, arg);
		json_bool(ctx->js, "ok", true);
		json_obj_end(ctx->js);
		json_done(ctx->js);
	}
	return EXIT_OK;
}

/*
 * The owner to give @bdf to: --owner, else the one /etc/vstub.conf names
 * for it (so that a capture by hand after a release gives it to the same
 * user).  0, or an exit code.
 */
static int capture_owner(struct ctx *ctx, const char *bdf, const char *opt,
			 struct owner *o, char *spec, size_t len)
{
	char why[256];
	struct conf_entry *e;
	struct conf c;
	int ret;

	spec[0] = '\0';
	if (opt) {
		scopy(spec, opt, len);
	} else if (!conf_load(ctx->conf, &c, why, sizeof(why))) {
		e = conf_find(&c, CONF_BDF, bdf);
		if (e)
			scopy(spec, e->owner, len);
		conf_free(&c);
	}
	memset(o, 0, sizeof(*o));
	if (!spec[0])
		return 0;
	ret = owner_resolve(spec, o, why, sizeof(why));
	if (ret) {
		err_msg(ctx, "capture: %s%s", why, opt ? "" : " (the owner comes from the configuration file)");
		return ret == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return 0;
}

/* After a capture with an owner: say who may open the group node now. */
static int capture_node_reply(struct nlattr **tb, void *arg)
{
	struct ctx *ctx = arg;
	char path[64], who[160];

	if (!vnl_has(tb, VSTUB_A_IOMMU_GROUP)) {
		info_msg(ctx, "  (no IOMMU group: no VFIO node for it, the owner has nothing to open)");
		return 0;
	}
	group_node_path(ctx, vnl_uint(tb, VSTUB_A_IOMMU_GROUP, 0), path,
			sizeof(path));
	if (node_access(path, who, sizeof(who)))
		info_msg(ctx, "  %s: %s", path, who);
	return 0;
}

static int cmd_capture(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN], spec[OWNER_MAX_LEN];
	struct vnl_attr a[3];
	const char *owner = NULL;
	struct owner o;
	int ret, i, n;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--owner") || !strcmp(argv[i], "-o")) {
			if (i + 1 >= argc) {
				err_msg(ctx, "capture: %s needs USER[:GROUP]", argv[i]);
				return EXIT_USAGE;
			}
			owner = argv[i + 1];
			memmove(&argv[i], &argv[i + 2], (argc - i - 2) * sizeof(*argv));
			argc -= 2;
			i--;
		} else if (!strncmp(argv[i], "--owner=", 8)) {
			owner = argv[i] + 8;
			memmove(&argv[i], &argv[i + 1], (argc - i - 1) * sizeof(*argv));
			argc--;
			i--;
		}
	}
	ret = want_args(ctx, argc, argv, 1, "a PCI address or a vendor:device ID");
	if (ret)
		return ret;
	if (!strchr(argv[0], '.') && strchr(argv[0], ':') &&
	    !parse_id(argv[0], NULL, NULL)) {
		if (owner) {
			err_msg(ctx, "capture: --owner gives one function to a user: name it by its address, not by ID");
			return EXIT_USAGE;
		}
		a[0] = (struct vnl_attr){ .type = VSTUB_A_ID, .str = argv[0] };
		ret = vnl_do(ctx, VSTUB_CMD_ID_ADD, false, a, 1, NULL, NULL,
			     "capture");
		if (!ret)
			info_msg(ctx, "capturing every function with ID %s",
				 argv[0]);
		return ret ? ret : print_ok(ctx, "id", argv[0]);
	}
	ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
	if (ret)
		return ret;
	ret = capture_owner(ctx, bdf, owner, &o, spec, sizeof(spec));
	if (ret)
		return ret;
	n = 0;
	a[n++] = (struct vnl_attr){ .type = VSTUB_A_BDF, .str = bdf };
	if (o.has_uid)
		a[n++] = (struct vnl_attr){ .type = VSTUB_A_OWNER_UID, .u32 = o.uid };
	if (o.has_gid)
		a[n++] = (struct vnl_attr){ .type = VSTUB_A_OWNER_GID, .u32 = o.gid };
	ret = vnl_do(ctx, VSTUB_CMD_CAPTURE, false, a, n, NULL, NULL, bdf);
	if (ret)
		return ret;
	if (spec[0]) {
		info_msg(ctx, "%s: captured by vstub, given to %s", bdf, spec);
		if (!ctx->json && !ctx->quiet)
			vnl_do(ctx, VSTUB_CMD_DEV_GET, false, a, 1,
			       capture_node_reply, ctx, bdf);
	} else {
		info_msg(ctx, "%s: captured by vstub", bdf);
	}
	if (ctx->json) {
		json_obj_begin(ctx->js, NULL);
		json_str(ctx->js, "command", ctx->cmd);
		json_str(ctx->js, "bdf", bdf);
		if (spec[0])
			json_str(ctx->js, "owner", spec);
		json_bool(ctx->js, "ok", true);
		json_obj_end(ctx->js);
		json_done(ctx->js);
	}
	return EXIT_OK;
}
COMMAND(capture, NULL, "BDF [--owner USER[:GROUP]] | ID", cmd_capture,
	"Capture one function by address (taking it from its driver, which is\n"
	"remembered and rebound on release), or every function with a\n"
	"vendor:device ID that has no driver (same as 'ids add').\n"
	"--owner gives the function to a user (and group): its VFIO group node\n"
	"is created owned by them (0600, or 0660 with a group), so that they\n"
	"can use it without root.  Without --owner, the owner configured for\n"
	"BDF in the configuration file (persist add --owner) applies.");

static int cmd_release(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN];
	struct vnl_attr a = { .type = VSTUB_A_BDF, .str = bdf };
	int ret;

	ret = want_args(ctx, argc, argv, 1, "a PCI address");
	if (!ret)
		ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
	if (!ret)
		ret = vnl_do(ctx, VSTUB_CMD_RELEASE, false, &a, 1, NULL, NULL,
			     bdf);
	if (ret)
		return ret;
	info_msg(ctx, "%s: released by vstub", bdf);
	return print_ok(ctx, "bdf", bdf);
}
COMMAND(release, NULL, "BDF", cmd_release,
	"Give a captured function back to the driver it had before (or let the\n"
	"PCI core choose one) and forget its capture policy.");

/* ---- explain ------------------------------------------------------------------ */

static int explain_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *mt[VSTUB_MEMBER_A_MAX + 1], *m;
	struct ctx *ctx = arg;
	bool viable = vnl_uint(tb, VSTUB_A_VIABLE, 0);
	int rem;

	if (ctx->json) {
		struct json *js = ctx->js;

		json_obj_begin(js, NULL);
		json_str(js, "bdf", vnl_str(tb, VSTUB_A_BDF, ""));
		json_int(js, "iommu_group", vnl_uint(tb, VSTUB_A_IOMMU_GROUP, 0));
		json_bool(js, "viable", viable);
		json_str(js, "dma", dma_mode_name(vnl_uint(tb, VSTUB_A_DMA_MODE, 0)));
		json_bool(js, "isolated_msi", vnl_uint(tb, VSTUB_A_ISOLATED_MSI, 0));
		if (tb[VSTUB_A_RESV_REGIONS])
			resv_json(js, tb[VSTUB_A_RESV_REGIONS]);
		json_arr_begin(js, "members");
		if (tb[VSTUB_A_MEMBERS]) {
			nla_for_each_nested(m, tb[VSTUB_A_MEMBERS], rem) {
				if (vnl_parse_nested(mt, VSTUB_MEMBER_A_MAX, m))
					continue;
				json_obj_begin(js, NULL);
				json_str(js, "device", vnl_str(mt, VSTUB_MEMBER_A_NAME, ""));
				json_opt_str(js, "driver", mt, VSTUB_MEMBER_A_DRIVER);
				json_bool(js, "captured", vnl_uint(mt, VSTUB_MEMBER_A_CAPTURED, 0));
				json_bool(js, "blocks", vnl_uint(mt, VSTUB_MEMBER_A_BLOCKS, 0));
				json_str(js, "reason", vnl_str(mt, VSTUB_MEMBER_A_TEXT, ""));
				json_obj_end(js);
			}
		}
		json_arr_end(js);
		json_obj_end(js);
		json_done(js);
		return 0;
	}
	printf("%s is in IOMMU group %" PRIu64 ": %s\n",
	       vnl_str(tb, VSTUB_A_BDF, "?"), vnl_uint(tb, VSTUB_A_IOMMU_GROUP, 0),
	       viable ? "viable (no member uses the kernel DMA API)" :
	       "NOT viable: a member below is bound to a driver that uses the kernel DMA API");
	printf("  DMA: %s; MSI: %s\n",
	       dma_mode_name(vnl_uint(tb, VSTUB_A_DMA_MODE, 0)),
	       vnl_uint(tb, VSTUB_A_ISOLATED_MSI, 0) ?
	       "isolated (interrupt remapping)" :
	       "NOT isolated (no interrupt remapping: VFIO needs allow_unsafe_interrupts)");
	if (tb[VSTUB_A_RESV_REGIONS])
		resv_print(tb[VSTUB_A_RESV_REGIONS]);
	printf("  members:\n");
	if (tb[VSTUB_A_MEMBERS]) {
		nla_for_each_nested(m, tb[VSTUB_A_MEMBERS], rem) {
			if (vnl_parse_nested(mt, VSTUB_MEMBER_A_MAX, m))
				continue;
			printf("    %-13s %-10s %s%s\n",
			       vnl_str(mt, VSTUB_MEMBER_A_NAME, "?"),
			       vnl_str(mt, VSTUB_MEMBER_A_DRIVER, "-"),
			       vnl_uint(mt, VSTUB_MEMBER_A_BLOCKS, 0) ? "BLOCKS: " : "",
			       vnl_str(mt, VSTUB_MEMBER_A_TEXT, ""));
		}
	}
	return 0;
}

static int cmd_explain(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN];
	struct vnl_attr a = { .type = VSTUB_A_BDF, .str = bdf };
	int ret;

	ret = want_args(ctx, argc, argv, 1, "a PCI address");
	if (!ret)
		ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
	if (!ret)
		ret = vnl_do(ctx, VSTUB_CMD_GROUP_GET, false, &a, 1,
			     explain_reply, ctx, bdf);
	return ret;
}
COMMAND(explain, NULL, "BDF", cmd_explain,
	"Explain the IOMMU group of a function: every member, its driver, and\n"
	"whether it keeps the group from being usable by VFIO/vstub (a member\n"
	"bound to a driver that uses the kernel DMA API blocks it), plus the\n"
	"group's DMA translation, MSI isolation and reserved IOVA regions.");

/* ---- sriov ---------------------------------------------------------------------- */

static int sriov_reply(struct nlattr **tb, void *arg)
{
	struct ctx *ctx = arg;

	if (ctx->json) {
		json_obj_begin(ctx->js, NULL);
		json_str(ctx->js, "bdf", vnl_str(tb, VSTUB_A_BDF, ""));
		json_int(ctx->js, "num_vfs", vnl_uint(tb, VSTUB_A_NUM_VFS, 0));
		json_obj_end(ctx->js);
		json_done(ctx->js);
	} else {
		info_msg(ctx, "%s: %" PRIu64 " VFs enabled (vstub captures them as they appear)",
			 vnl_str(tb, VSTUB_A_BDF, "?"),
			 vnl_uint(tb, VSTUB_A_NUM_VFS, 0));
	}
	return 0;
}

static int cmd_sriov(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN];
	struct vnl_attr a[2] = {
		{ .type = VSTUB_A_BDF, .str = bdf },
		{ .type = VSTUB_A_NUM_VFS },
	};
	unsigned long n;
	int ret;

	ret = want_args(ctx, argc, argv, 2, "a PF address and a number of VFs");
	if (!ret)
		ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
	if (ret)
		return ret;
	if (parse_uint(argv[1], 0xffff, &n)) {
		err_msg(ctx, "sriov: '%s' is not a number of VFs (0-65535)",
			argv[1]);
		return EXIT_USAGE;
	}
	a[1].u32 = n;
	return vnl_do(ctx, VSTUB_CMD_SRIOV_SET, false, a, 2, sriov_reply, ctx,
		      bdf);
}
COMMAND(sriov, NULL, "BDF N", cmd_sriov,
	"Create N SR-IOV VFs on a PF that vstub holds (0 removes them).  The\n"
	"VFs are captured by vstub before any host driver can probe them.");

/* ---- handoff -------------------------------------------------------------------- */

static int run_modprobe(const char *mod)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (!pid) {
		execl("/sbin/modprobe", "modprobe", "-q", mod, (char *)NULL);
		execlp("modprobe", "modprobe", "-q", mod, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -ENOENT;
}

static int cmd_handoff(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN], path[512], cur[128], drvdir[256];
	struct vnl_attr a = { .type = VSTUB_A_BDF, .str = bdf };
	const char *drv;
	struct vnl_err e;
	struct vnl nl;
	int ret;

	ret = want_args(ctx, argc, argv, 2, "a PCI address and a driver name");
	if (!ret)
		ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
	if (ret)
		return ret;
	drv = argv[1];
	if (!*drv || strchr(drv, '/') || strlen(drv) >= VSTUB_NAME_MAX_LEN) {
		err_msg(ctx, "handoff: '%s' is not a driver name", drv);
		return EXIT_USAGE;
	}
	if (!strcmp(drv, "vstub")) {
		err_msg(ctx, "handoff: use 'vstubctl capture %s' to give it to vstub", bdf);
		return EXIT_USAGE;
	}
	pci_dev_attr(ctx, bdf, "driver", path, sizeof(path));
	if (pci_dev_attr(ctx, bdf, "", drvdir, sizeof(drvdir)) ||
	    !sysfs_exists(drvdir)) {
		err_msg(ctx, "handoff: no PCI device %s", bdf);
		return EXIT_FAIL;
	}
	sysfs_link_name(path, cur, sizeof(cur));
	if (strcmp(cur, "vstub")) {
		err_msg(ctx, "handoff: %s is not captured by vstub (its driver is %s)",
			bdf, cur[0] ? cur : "none");
		return EXIT_FAIL;
	}
	snprintf(drvdir, sizeof(drvdir), "%s" VSTUB_SYSFS_DRV "/%s", ctx->sysfs,
		 drv);
	if (!sysfs_exists(drvdir) && (run_modprobe(drv) || !sysfs_exists(drvdir))) {
		err_msg(ctx, "handoff: driver %s is not available (modprobe %s failed)",
			drv, drv);
		return EXIT_FAIL;
	}
	if (vnl_open(ctx, &nl))
		return EXIT_NOMOD;

	/*
	 * 1. driver_override = DRV: from now on only DRV may bind.
	 * 2. unbind from vstub: no driver probes by itself after an unbind.
	 * 3. bind DRV.
	 * 4. drop vstub's capture policy for the address (vstub leaves a
	 *    device another driver holds alone and keeps the override).
	 */
	pci_dev_attr(ctx, bdf, "driver_override", path, sizeof(path));
	ret = sysfs_write_str(path, drv);
	if (ret) {
		err_msg(ctx, "handoff: cannot set %s: %s", path, strerror(-ret));
		goto out;
	}
	snprintf(path, sizeof(path), "%s" VSTUB_SYSFS_DRV "/vstub/unbind",
		 ctx->sysfs);
	ret = sysfs_write_str(path, bdf);
	if (ret) {
		err_msg(ctx, "handoff: unbinding %s from vstub failed: %s", bdf,
			strerror(-ret));
		goto undo_override;
	}
	snprintf(path, sizeof(path), "%s/bind", drvdir);
	ret = sysfs_write_str(path, bdf);
	if (ret) {
		err_msg(ctx, "handoff: %s refused %s: %s (see the kernel log); giving it back to vstub",
			drv, bdf, strerror(-ret));
		goto recapture;
	}
	ret = vnl_request(&nl, VSTUB_CMD_RELEASE, false, &a, 1, NULL, NULL, &e);
	if (ret && ret != -EINVAL) {
		vnl_perror(ctx, "handoff: dropping vstub's capture policy", ret, &e);
		ret = 0;	/* the device is with DRV all the same */
	}
	ret = 0;
	info_msg(ctx, "%s: handed from vstub to %s (driver_override=%s stays set)",
		 bdf, drv, drv);
	if (ctx->json) {
		json_obj_begin(ctx->js, NULL);
		json_str(ctx->js, "bdf", bdf);
		json_str(ctx->js, "driver", drv);
		json_bool(ctx->js, "ok", true);
		json_obj_end(ctx->js);
		json_done(ctx->js);
	}
	goto out;

recapture:
	pci_dev_attr(ctx, bdf, "driver_override", path, sizeof(path));
	sysfs_write_str(path, "\n");
	if (vnl_request(&nl, VSTUB_CMD_CAPTURE, false, &a, 1, NULL, NULL, &e))
		vnl_perror(ctx, "handoff: recapturing", -e.err, &e);
	ret = EXIT_FAIL;
	goto out;
undo_override:
	pci_dev_attr(ctx, bdf, "driver_override", path, sizeof(path));
	sysfs_write_str(path, "\n");
	ret = EXIT_FAIL;
out:
	vnl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}
COMMAND(handoff, NULL, "BDF DRIVER", cmd_handoff,
	"Hand a captured function to another driver (e.g. vfio-pci for a KVM\n"
	"guest) without a window in which its host driver could grab it:\n"
	"driver_override is set to DRIVER before vstub lets go, then DRIVER is\n"
	"bound.  If DRIVER refuses the device, vstub takes it back.");
