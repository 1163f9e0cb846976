// SPDX-License-Identifier: GPL-2.0
/*
 * dev.c - commands about PCI functions: list, capture, release, explain,
 * sriov and handoff.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
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
		json_obj_end(js);
	}
	if (vnl_has(tb, VSTUB_A_RESV_REGIONS))
		resv_json(js, tb[VSTUB_A_RESV_REGIONS]);
	json_obj_end(js);
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
	printf("\n");
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
	"driver it had.  With BDF: that one function, captured or not, with its\n"
	"reserved IOVA regions.");

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

static int cmd_capture(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN];
	struct vnl_attr a;
	int ret;

	ret = want_args(ctx, argc, argv, 1, "a PCI address or a vendor:device ID");
	if (ret)
		return ret;
	if (!strchr(argv[0], '.') && strchr(argv[0], ':') &&
	    !parse_id(argv[0], NULL, NULL)) {
		a = (struct vnl_attr){ .type = VSTUB_A_ID, .str = argv[0] };
		ret = vnl_do(ctx, VSTUB_CMD_ID_ADD, false, &a, 1, NULL, NULL,
			     "capture");
		if (!ret)
			info_msg(ctx, "capturing every function with ID %s",
				 argv[0]);
		return ret ? ret : print_ok(ctx, "id", argv[0]);
	}
	ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
	if (ret)
		return ret;
	a = (struct vnl_attr){ .type = VSTUB_A_BDF, .str = bdf };
	ret = vnl_do(ctx, VSTUB_CMD_CAPTURE, false, &a, 1, NULL, NULL, bdf);
	if (ret)
		return ret;
	info_msg(ctx, "%s: captured by vstub", bdf);
	return print_ok(ctx, "bdf", bdf);
}
COMMAND(capture, NULL, "BDF|ID", cmd_capture,
	"Capture one function by address (taking it from its driver, which is\n"
	"remembered and rebound on release), or every function with a\n"
	"vendor:device ID that has no driver (same as 'ids add').");

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
