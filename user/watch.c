// SPDX-License-Identifier: GPL-2.0
/*
 * watch.c - print vstub's events (the "monitor" multicast group).
 */
#include <errno.h>
#include <string.h>

#include "vstubctl.h"

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case VSTUB_CMD_CAPTURED:
		return "captured";
	case VSTUB_CMD_RELEASED:
		return "released";
	case VSTUB_CMD_ID_ADDED:
		return "id-added";
	case VSTUB_CMD_ID_REMOVED:
		return "id-removed";
	default:
		return NULL;
	}
}

static int watch_event(uint8_t cmd, struct nlattr **tb, void *arg)
{
	struct ctx *ctx = arg;
	const char *ev = event_name(cmd);

	if (!ev)
		return 0;
	if (cmd == VSTUB_CMD_ID_ADDED || cmd == VSTUB_CMD_ID_REMOVED) {
		if (ctx->json) {
			json_obj_begin(ctx->js, NULL);
			json_str(ctx->js, "event", ev);
			json_str(ctx->js, "id", vnl_str(tb, VSTUB_A_ID, ""));
			json_obj_end(ctx->js);
		} else {
			printf("%-9s %s\n", ev, vnl_str(tb, VSTUB_A_ID, "?"));
		}
	} else {
		dev_print(ctx, tb, ev);
	}
	if (ctx->json)
		json_done(ctx->js);
	fflush(stdout);
	return 0;
}

static void watch_ready(void *arg)
{
	struct ctx *ctx = arg;

	if (!ctx->quiet)
		fprintf(stderr, "vstubctl: watching vstub events\n");
}

static int cmd_watch(struct ctx *ctx, int argc, char **argv)
{
	unsigned long count = 0, timeout = 0;
	struct vnl nl;
	int i, ret;

	for (i = 0; i < argc; i++) {
		unsigned long *dst = NULL;

		if (!strcmp(argv[i], "--count"))
			dst = &count;
		else if (!strcmp(argv[i], "--timeout"))
			dst = &timeout;
		if (!dst || i + 1 >= argc || parse_uint(argv[i + 1], 1000000, dst)) {
			err_msg(ctx, "watch: expected [--count N] [--timeout SECONDS]");
			return EXIT_USAGE;
		}
		i++;
	}
	if (vnl_open(ctx, &nl))
		return EXIT_NOMOD;
	ret = vnl_watch(&nl, watch_event, ctx, count, timeout * 1000,
			watch_ready);
	vnl_close(&nl);
	if (ret == -ETIMEDOUT) {
		err_msg(ctx, "watch: no event within %lu s", timeout);
		return EXIT_FAIL;
	}
	if (ret) {
		err_msg(ctx, "watch: %s", strerror(-ret));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
COMMAND(watch, NULL, "[--count N] [--timeout SECONDS]", cmd_watch,
	"Print vstub's events as they happen: captured, released (a device\n"
	"record like 'list' prints), id-added, id-removed.  Stops after N\n"
	"events or when SECONDS pass without one.");
