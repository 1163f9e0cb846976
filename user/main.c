// SPDX-License-Identifier: GPL-2.0
/*
 * vstubctl - control the vstub kernel module: which PCI functions it
 * captures, what the IOMMU says about them, and what is applied at boot.
 *
 * main.c: global options, dispatch through the command table that every
 * area file fills with COMMAND(), and the help generated from that table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vstubctl.h"

#define for_each_command(c) \
	for (c = __start_vstub_cmds; c < __stop_vstub_cmds; c++)

void err_msg(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	(void)ctx;
	fflush(stdout);
	fputs("vstubctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void info_msg(struct ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet || ctx->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void print_command(FILE *f, const struct command *c, bool full)
{
	const char *p, *nl;

	fprintf(f, "  vstubctl %s%s%s%s%s\n", c->name, c->sub ? " " : "",
		c->sub ? c->sub : "", c->args ? " " : "", c->args ? c->args : "");
	if (!full)
		return;
	/* the help text, indented, line by line */
	for (p = c->help; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			fprintf(f, "      %s\n", p);
			break;
		}
		fprintf(f, "      %.*s\n", (int)(nl - p), p);
	}
}

void cmd_usage(FILE *f, const char *name, const char *sub)
{
	const struct command *c;

	fprintf(f, "usage:\n");
	for_each_command(c) {
		if (strcmp(c->name, name))
			continue;
		if (sub && c->sub && strcmp(c->sub, sub))
			continue;
		print_command(f, c, true);
	}
	fprintf(f, "Every command takes --json (machine-readable output) and --help.\n");
}

int cmd_help_check(struct ctx *ctx, int argc, char **argv, const char *name,
		   const char *sub)
{
	int i;

	(void)ctx;
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cmd_usage(stdout, name, sub);
			return 1;
		}
	}
	return 0;
}

static int cmp_command(const void *a, const void *b)
{
	const struct command *x = *(const struct command * const *)a;
	const struct command *y = *(const struct command * const *)b;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->sub ? x->sub : "", y->sub ? y->sub : "");
}

static void usage(FILE *f)
{
	const struct command *sorted[128], *c;
	size_t n = 0, i;

	for_each_command(c)
		if (n < sizeof(sorted) / sizeof(sorted[0]))
			sorted[n++] = c;
	qsort(sorted, n, sizeof(sorted[0]), cmp_command);
	fprintf(f,
		"usage: vstubctl [--json] [--quiet] [--config FILE] COMMAND [ARGS]\n"
		"Control vstub, the driver that captures PCI functions for userspace.\n\n"
		"Commands:\n");
	for (i = 0; i < n; i++)
		print_command(f, sorted[i], false);
	fprintf(f,
		"\nvstubctl COMMAND --help explains a command; see vstubctl(8).\n"
		"Options:\n"
		"  -j, --json         print JSON (one document per line)\n"
		"  -q, --quiet        print only errors\n"
		"  -c, --config FILE  configuration file (default %s, or $VSTUB_CONF)\n"
		"  -V, --version      print the version\n",
		VSTUB_CONF_DEFAULT);
}

/* Remove argv[i] from the vector. */
static void drop_arg(int *argc, char **argv, int i)
{
	memmove(&argv[i], &argv[i + 1], (*argc - i) * sizeof(argv[0]));
	(*argc)--;
}

/* Global options may come anywhere before "--". */
static int parse_globals(struct ctx *ctx, int *argc, char **argv)
{
	int i = 1;

	while (i < *argc) {
		char *a = argv[i];

		if (!strcmp(a, "--")) {
			break;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			ctx->json = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ctx->quiet = true;
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			if (i + 1 >= *argc) {
				err_msg(ctx, "%s needs a file name", a);
				return -EINVAL;
			}
			ctx->conf = argv[i + 1];
			drop_arg(argc, argv, i);
		} else if (!strncmp(a, "--config=", 9)) {
			ctx->conf = a + 9;
		} else {
			i++;
			continue;
		}
		drop_arg(argc, argv, i);
	}
	return 0;
}

static const struct command *find_command(int argc, char **argv, int *used)
{
	const struct command *c;

	for_each_command(c) {
		if (strcmp(c->name, argv[0]))
			continue;
		if (!c->sub) {
			*used = 1;
			return c;
		}
		if (argc > 1 && !strcmp(c->sub, argv[1])) {
			*used = 2;
			return c;
		}
	}
	return NULL;
}

static bool command_exists(const char *name)
{
	const struct command *c;

	for_each_command(c)
		if (!strcmp(c->name, name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct ctx ctx = { 0 };
	const struct command *c;
	char cmdname[64];
	int used = 0, ret;
	const char *env;

	env = getenv("VSTUB_CONF");
	ctx.conf = env && *env ? env : VSTUB_CONF_DEFAULT;
	env = getenv("VSTUB_MODPROBE_CONF");
	ctx.modprobe_conf = env && *env ? env : VSTUB_MODPROBE_DEFAULT;
	env = getenv("VSTUB_SYSFS_ROOT");
	ctx.sysfs = env ? env : "";

	if (parse_globals(&ctx, &argc, argv))
		return EXIT_USAGE;
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2 && command_exists(argv[2]))
			cmd_usage(stdout, argv[2], argc > 3 ? argv[3] : NULL);
		else
			usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("vstubctl %s (netlink family %s v%d)\n", VSTUBCTL_VERSION,
		       VSTUB_GENL_NAME, VSTUB_GENL_VERSION);
		return EXIT_OK;
	}
	if (argv[1][0] == '-') {
		err_msg(&ctx, "unknown option '%s'", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}

	c = find_command(argc - 1, argv + 1, &used);
	if (!c) {
		if (command_exists(argv[1])) {
			if (argc > 2 && (!strcmp(argv[2], "--help") ||
					 !strcmp(argv[2], "-h"))) {
				cmd_usage(stdout, argv[1], NULL);
				return EXIT_OK;
			}
			err_msg(&ctx, "%s: %s subcommand '%s'", argv[1],
				argc > 2 ? "unknown" : "missing",
				argc > 2 ? argv[2] : "");
			cmd_usage(stderr, argv[1], NULL);
		} else {
			err_msg(&ctx, "unknown command '%s' (see vstubctl --help)",
				argv[1]);
		}
		return EXIT_USAGE;
	}
	snprintf(cmdname, sizeof(cmdname), "%s%s%s", c->name,
		 c->sub ? " " : "", c->sub ? c->sub : "");
	ctx.cmd = cmdname;
	if (cmd_help_check(&ctx, argc - 1 - used, argv + 1 + used, c->name,
			   c->sub))
		return EXIT_OK;
	if (ctx.json) {
		ctx.js = json_new(stdout);
		if (!ctx.js) {
			err_msg(&ctx, "out of memory");
			return EXIT_FAIL;
		}
	}
	ret = c->fn(&ctx, argc - 1 - used, argv + 1 + used);
	json_free(ctx.js);
	return ret;
}
