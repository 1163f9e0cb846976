// SPDX-License-Identifier: GPL-2.0
/*
 * ids.c - the ID table: ids add | del | list.
 */
#include <string.h>

#include "vstubctl.h"

static int ids_change(struct ctx *ctx, int argc, char **argv, bool add)
{
	struct vnl_attr a = { .type = VSTUB_A_ID };
	int ret;

	if (argc != 1 || (argv[0][0] == '-' && argv[0][1])) {
		err_msg(ctx, "%s: expected one ID vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] (see vstubctl ids --help)",
			ctx->cmd);
		return EXIT_USAGE;
	}
	/* The module checks the syntax and explains what is wrong. */
	a.str = argv[0];
	ret = vnl_do(ctx, add ? VSTUB_CMD_ID_ADD : VSTUB_CMD_ID_DEL, false,
		     &a, 1, NULL, NULL, ctx->cmd);
	if (ret)
		return ret;
	info_msg(ctx, add ? "ID %s added: matching functions without a driver are captured"
			  : "ID %s removed: functions it captured stay captured",
		 argv[0]);
	if (ctx->json) {
		json_obj_begin(ctx->js, NULL);
		json_str(ctx->js, "command", ctx->cmd);
		json_str(ctx->js, "id", argv[0]);
		json_bool(ctx->js, "ok", true);
		json_obj_end(ctx->js);
		json_done(ctx->js);
	}
	return EXIT_OK;
}

static int cmd_ids_add(struct ctx *ctx, int argc, char **argv)
{
	return ids_change(ctx, argc, argv, true);
}
COMMAND(ids, "add", "ID", cmd_ids_add,
	"Add vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] (hex)\n"
	"to the ID table; functions with that ID and no driver are captured\n"
	"now, and any that appear later (hotplug, VFs) as they appear.");

static int cmd_ids_del(struct ctx *ctx, int argc, char **argv)
{
	return ids_change(ctx, argc, argv, false);
}
COMMAND(ids, "del", "ID", cmd_ids_del,
	"Remove an ID from the table; functions it captured stay captured\n"
	"until released.");

static int ids_one(struct nlattr **tb, void *arg)
{
	struct ctx *ctx = arg;
	const char *id = vnl_str(tb, VSTUB_A_ID, "");

	if (ctx->json)
		json_str(ctx->js, NULL, id);
	else
		printf("%s\n", id);
	return 0;
}

static int cmd_ids_list(struct ctx *ctx, int argc, char **argv)
{
	int ret;

	(void)argv;
	if (argc) {
		err_msg(ctx, "ids list: takes no arguments");
		return EXIT_USAGE;
	}
	if (ctx->json)
		json_arr_begin(ctx->js, NULL);
	ret = vnl_do(ctx, VSTUB_CMD_ID_GET, true, NULL, 0, ids_one, ctx,
		     "ids list");
	if (ctx->json && !ret) {
		json_arr_end(ctx->js);
		json_done(ctx->js);
	}
	return ret;
}
COMMAND(ids, "list", NULL, cmd_ids_list,
	"Print the ID table, one ID per line.");
