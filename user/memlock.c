// SPDX-License-Identifier: GPL-2.0
/*
 * memlock.c - "how much locked memory does my VFIO program need?"
 *
 * vstub accounts pinned DMA memory as vfio_iommu_type1 does: every page a
 * VFIO_IOMMU_MAP_DMA pins is added to the locked_vm of the process that
 * maps it and checked against that process's RLIMIT_MEMLOCK, unless it
 * has CAP_IPC_LOCK.  "vstubctl memlock [BDF] SIZE" turns a planned size
 * into the limit to set, compares it with the processes holding BDF now
 * (the kernel's own locked_vm and limit, reported over netlink) and says
 * how to set it.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netlink/attr.h>

#include "vstubctl.h"

struct memlock_plan {
	struct ctx *ctx;
	uint64_t need;		/* bytes the planned mapping locks */
	uint64_t page;
	uint64_t max_locked;	/* most any holder has locked now */
	unsigned int nholders;
	bool captured;
	bool have_owner;
	uint32_t owner_uid;
};

static void plan_holder(struct memlock_plan *p, struct nlattr **ht)
{
	uint64_t locked = vnl_uint(ht, VSTUB_HOLDER_A_LOCKED_PAGES, 0) * p->page;
	uint64_t lim = vnl_uint(ht, VSTUB_HOLDER_A_MEMLOCK_LIMIT, 0);
	bool ipc = vnl_uint(ht, VSTUB_HOLDER_A_IPC_LOCK, 0);
	bool fits = ipc || lim == VSTUB_MEMLOCK_UNLIMITED ||
		    (lim >= locked && lim - locked >= p->need);
	char a[32], b[32], c[32];

	if (locked > p->max_locked)
		p->max_locked = locked;
	p->nholders++;
	if (p->ctx->json) {
		json_obj_begin(p->ctx->js, NULL);
		json_int(p->ctx->js, "pid", vnl_uint(ht, VSTUB_HOLDER_A_PID, 0));
		json_str(p->ctx->js, "comm", vnl_str(ht, VSTUB_HOLDER_A_COMM, ""));
		json_int(p->ctx->js, "locked_bytes", locked);
		if (lim == VSTUB_MEMLOCK_UNLIMITED)
			json_null(p->ctx->js, "memlock_limit");
		else
			json_int(p->ctx->js, "memlock_limit", lim);
		json_bool(p->ctx->js, "cap_ipc_lock", ipc);
		json_bool(p->ctx->js, "fits", fits);
		json_obj_end(p->ctx->js);
		return;
	}
	fmt_bytes(locked, a, sizeof(a));
	fmt_bytes(lim, b, sizeof(b));
	fmt_bytes(locked + p->need, c, sizeof(c));
	printf("  pid %" PRIu64 " (%s) holds it: locked %s, RLIMIT_MEMLOCK %s;\n"
	       "    with the new mapping it would lock %s: %s\n",
	       vnl_uint(ht, VSTUB_HOLDER_A_PID, 0),
	       vnl_str(ht, VSTUB_HOLDER_A_COMM, "?"), a, b, c,
	       ipc ? "fits (CAP_IPC_LOCK: no limit is enforced)" :
	       fits ? "fits" :
	       "does NOT fit: VFIO_IOMMU_MAP_DMA would fail with ENOMEM");
}

static int plan_reply(struct nlattr **tb, void *arg)
{
	struct nlattr *ht[VSTUB_HOLDER_A_MAX + 1], *h;
	struct memlock_plan *p = arg;
	int rem;

	p->captured = vnl_uint(tb, VSTUB_A_CAPTURED, 0);
	if (vnl_has(tb, VSTUB_A_OWNER_UID)) {
		p->have_owner = true;
		p->owner_uid = vnl_uint(tb, VSTUB_A_OWNER_UID, 0);
	}
	if (p->ctx->json)
		json_arr_begin(p->ctx->js, "holders");
	if (tb[VSTUB_A_HOLDERS]) {
		nla_for_each_nested(h, tb[VSTUB_A_HOLDERS], rem) {
			if (!vnl_parse_nested(ht, VSTUB_HOLDER_A_MAX, h))
				plan_holder(p, ht);
		}
	}
	if (p->ctx->json)
		json_arr_end(p->ctx->js);
	return 0;
}

static int cmd_memlock(struct ctx *ctx, int argc, char **argv)
{
	struct memlock_plan p = { .ctx = ctx };
	char bdf[VSTUB_BDF_MAX_LEN] = "", a[32], b[32], user[64];
	struct vnl_attr at = { .type = VSTUB_A_BDF, .str = bdf };
	uint64_t size, pages, kib;
	int ret;

	if (argc < 1 || argc > 2 || argv[0][0] == '-' ||
	    (argc == 2 && argv[1][0] == '-')) {
		err_msg(ctx, "memlock: expected [BDF] SIZE (see vstubctl memlock --help)");
		return EXIT_USAGE;
	}
	if (argc == 2) {
		ret = arg_bdf(ctx, argv[0], bdf, sizeof(bdf));
		if (ret)
			return ret;
	}
	if (parse_size(argv[argc - 1], &size)) {
		err_msg(ctx, "memlock: '%s' is not a size: expected bytes or a number with K, M, G or T (binary units), e.g. 512M",
			argv[argc - 1]);
		return EXIT_USAGE;
	}
	p.page = (uint64_t)sysconf(_SC_PAGESIZE);
	pages = size / p.page + !!(size % p.page);
	p.need = pages * p.page;

	if (ctx->json) {
		json_obj_begin(ctx->js, NULL);
		if (bdf[0])
			json_str(ctx->js, "bdf", bdf);
		json_int(ctx->js, "size", size);
		json_int(ctx->js, "pages", pages);
		json_int(ctx->js, "page_size", p.page);
		json_int(ctx->js, "needed_bytes", p.need);
	} else {
		fmt_bytes(p.need, a, sizeof(a));
		printf("Mapping %s for DMA%s%s pins %" PRIu64 " pages of %" PRIu64 " bytes (%s).\n",
		       argv[argc - 1], bdf[0] ? " through " : "", bdf, pages,
		       p.page, a);
		printf("vstub counts them, as vfio_iommu_type1 does, in the locked memory (locked_vm,\n"
		       "VmLck in /proc/PID/status) of the process that maps them, against that\n"
		       "process's RLIMIT_MEMLOCK; each mapping counts on its own, memory mapped twice\n"
		       "counts twice, another device's BAR (peer-to-peer) does not count, and a\n"
		       "process with CAP_IPC_LOCK is not limited.\n");
	}
	if (bdf[0]) {
		ret = vnl_do(ctx, VSTUB_CMD_DEV_GET, false, &at, 1, plan_reply,
			     &p, bdf);
		if (ret) {
			if (ctx->json)
				json_obj_end(ctx->js);
			return ret;
		}
		if (!ctx->json && !p.captured)
			printf("  %s is not captured by vstub: capture it first ('vstubctl capture %s').\n",
			       bdf, bdf);
		else if (!ctx->json && !p.nholders)
			printf("  no process holds %s open now.\n", bdf);
	}
	/* the limit to set: the mapping plus what a holder has locked, in MiB */
	kib = ((p.need + p.max_locked + (1ULL << 20) - 1) >> 20) << 10;
	if (p.have_owner)
		owner_uid_name(p.owner_uid, user, sizeof(user));
	else
		scopy(user, "USER", sizeof(user));
	if (ctx->json) {
		json_int(ctx->js, "recommended_kib", kib);
		json_obj_end(ctx->js);
		json_done(ctx->js);
		return EXIT_OK;
	}
	fmt_bytes(kib << 10, b, sizeof(b));
	printf("\nThe program needs RLIMIT_MEMLOCK >= %s plus whatever else it locks (mlock,\n"
	       "other mappings, other devices)%s,\n"
	       "e.g. %" PRIu64 " KiB (%s).  Set it\n",
	       a, p.max_locked ? "; with what the holder has locked now" : "",
	       kib, b);
	printf("  in a shell, before starting the program:  ulimit -l %" PRIu64 "\n", kib);
	printf("  for a systemd service ([Service]):         LimitMEMLOCK=%" PRIu64 "K\n", kib);
	printf("  for logins (pam_limits), in /etc/security/limits.d/vstub.conf:\n"
	       "                                             %s  -  memlock  %" PRIu64 "\n",
	       user, kib);
	printf("  for a container:                           docker run --ulimit memlock=%" PRIu64 ":%" PRIu64 " ...\n",
	       kib << 10, kib << 10);
	printf("or give the program CAP_IPC_LOCK (systemd: AmbientCapabilities=CAP_IPC_LOCK).\n"
	       "Raising the hard limit needs root; ulimit -l only goes up to it.\n");
	return EXIT_OK;
}
COMMAND(memlock, NULL, "[BDF] SIZE", cmd_memlock,
	"Plan the locked-memory limit for a program that maps SIZE (e.g. 512M,\n"
	"2G) for DMA: the pages that pins, how the kernel counts them against\n"
	"RLIMIT_MEMLOCK, whether the processes holding BDF now would fit, and\n"
	"how to set the limit (ulimit -l, systemd LimitMEMLOCK=,\n"
	"/etc/security/limits.d, docker --ulimit).");
