// SPDX-License-Identifier: GPL-2.0
/*
 * persist.c - captures that survive a reboot.
 *
 * /etc/vstub.conf lists IDs and addresses ("id 8086:10d3", "bdf
 * 0000:00:02.0").  "vstubctl persist" turns it into
 * /etc/modprobe.d/vstub.conf:
 *   options vstub ids=ID,... bdfs=BDF,...
 *   softdep HOSTMOD pre: vstub          (per host driver module)
 * and the configuration is applied, at every stage of boot, by:
 *   1. the kernel module itself: loaded with those options, vstub adds
 *      the IDs and captures the addresses inside its module_init, before
 *      modprobe returns, and its bus notifier reserves (driver_override)
 *      matching functions that appear later before any driver can probe
 *      them;
 *   2. the softdep lines: every load of a host driver module (by udev's
 *      kmod builtin, modprobe, systemd-modules-load: all libkmod) inserts
 *      vstub first, so vstub owns the device before the host driver's
 *      pci_register_driver() looks at it.  This is what makes it
 *      race-free: there is no window in which the host driver is loaded
 *      and vstub is not configured;
 *   3. the udev rule 60-vstub.rules, on the "add" event of a configured
 *      function that has no driver, sets driver_override to "vstub" and
 *      loads vstub (as driverctl does), before 80-drivers.rules loads the
 *      function's own module in the same event: this covers host
 *      drivers that were not known when "persist" ran;
 *   4. vstub.service (early, after udev's coldplug) runs "vstubctl apply",
 *      which also takes functions from host drivers built into the kernel
 *      (those probe before any module can load: vstub takes over later).
 * The initramfs-tools hook copies vstub.ko, vstubctl, the udev rule and
 * both files into the initramfs, where Debian loads most host drivers:
 * "persist" says to run update-initramfs after every change.
 *
 * The host driver module of a device is taken from its current driver,
 * else the original driver vstub remembered when it captured the device,
 * else what its modalias resolves to (modprobe -R).  For configured
 * devices that are absent when "persist" runs, the softdep lines of the
 * previous file are kept (they are tagged with their entry).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vstubctl.h"

static int load_conf(struct ctx *ctx, struct conf *c)
{
	char why[512] = "";
	int ret = conf_load(ctx->conf, c, why, sizeof(why));

	if (ret == -EINVAL)
		err_msg(ctx, "%s", why);
	else if (ret)
		err_msg(ctx, "cannot read %s: %s", ctx->conf, strerror(-ret));
	return ret;
}

/* Parse "id X" / "bdf X" arguments into a normalised entry. */
static int persist_arg(struct ctx *ctx, int argc, char **argv,
		       struct conf_entry *e)
{
	char line[160];
	const char *why;

	if (argc != 2 || (strcmp(argv[0], "id") && strcmp(argv[0], "bdf"))) {
		err_msg(ctx, "%s: expected 'id VENDOR:DEVICE[...]' or 'bdf DDDD:BB:DD.F'",
			ctx->cmd);
		return EXIT_USAGE;
	}
	snprintf(line, sizeof(line), "%s %s", argv[0], argv[1]);
	if (conf_parse_line(line, e, &why) != 1) {
		err_msg(ctx, "%s: %s", ctx->cmd, why);
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * The module of the driver named @drv: "" if unknown, "-" if the driver
 * is built into the kernel.
 */
static void driver_module(struct ctx *ctx, const char *drv, char *mod,
			  size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s" VSTUB_SYSFS_DRV "/%s", ctx->sysfs, drv);
	if (!sysfs_exists(path)) {
		mod[0] = '\0';
		return;
	}
	snprintf(path, sizeof(path), "%s" VSTUB_SYSFS_DRV "/%s/module",
		 ctx->sysfs, drv);
	if (sysfs_link_name(path, mod, len))
		scopy(mod, "-", len);
}

/* The original driver vstub remembered for @bdf (its "captured" file). */
static void remembered_driver(struct ctx *ctx, const char *bdf, char *drv,
			      size_t len)
{
	char path[512], line[256], b[32], d[64];
	FILE *f;

	drv[0] = '\0';
	snprintf(path, sizeof(path), "%s" VSTUB_SYSFS_DRV "/vstub/captured",
		 ctx->sysfs);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %*s %*s %63s", b, d) == 2 &&
		    !strcmp(b, bdf) && strcmp(d, "-")) {
			scopy(drv, d, len);
			break;
		}
	}
	fclose(f);
}

/*
 * The host driver @bdf has or had: its current driver unless that is
 * vstub, else the one vstub remembered when it took the device.
 */
static void host_driver(struct ctx *ctx, const char *bdf, char *drv,
			size_t len)
{
	char path[512];

	pci_dev_attr(ctx, bdf, "driver", path, sizeof(path));
	if (sysfs_link_name(path, drv, len) || !strcmp(drv, "vstub"))
		remembered_driver(ctx, bdf, drv, len);
}

/*
 * The first module whose aliases match @bdf's modalias, as udev would
 * load it (real systems only: needs modprobe and the running kernel's
 * modules.alias).  "" if none.
 */
static void alias_module(struct ctx *ctx, const char *bdf, char *mod,
			 size_t len)
{
	char path[512], alias[256], cmd[320];
	size_t i;
	FILE *p;

	mod[0] = '\0';
	if (ctx->sysfs[0])
		return;
	pci_dev_attr(ctx, bdf, "modalias", path, sizeof(path));
	if (sysfs_read_str(path, alias, sizeof(alias)) < 0)
		return;
	for (i = 0; alias[i]; i++)
		if (!isalnum((unsigned char)alias[i]) && alias[i] != ':')
			return;
	snprintf(cmd, sizeof(cmd), "/sbin/modprobe -R '%s' 2>/dev/null", alias);
	p = popen(cmd, "re");
	if (!p)
		return;
	if (fgets(mod, len, p))
		mod[strcspn(mod, "\n")] = '\0';
	else
		mod[0] = '\0';
	pclose(p);
	if (!strcmp(mod, "vstub"))
		mod[0] = '\0';
}

static bool dev_matches_id(struct ctx *ctx, const char *bdf, const char *id)
{
	unsigned int v, d;
	unsigned long dv, dd;
	char path[512];

	if (parse_id(id, &v, &d))
		return false;
	pci_dev_attr(ctx, bdf, "vendor", path, sizeof(path));
	if (sysfs_read_hex(path, &dv))
		return false;
	pci_dev_attr(ctx, bdf, "device", path, sizeof(path));
	if (sysfs_read_hex(path, &dd))
		return false;
	return dv == v && dd == d;
}

/* Does configuration entry @e want the function at @bdf? */
static bool entry_wants(struct ctx *ctx, const struct conf_entry *e,
			const char *bdf)
{
	if (e->kind == CONF_BDF)
		return !strcmp(e->value, bdf);
	return dev_matches_id(ctx, bdf, e->value);
}

static bool conf_wants(struct ctx *ctx, const struct conf *c, const char *bdf)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (entry_wants(ctx, &c->e[i], bdf))
			return true;
	return false;
}

#define MAX_SOFTDEPS	64

/* Host driver modules, each with the entry it was found for. */
struct softdeps {
	int n;
	struct {
		char mod[64];
		char entry[VSTUB_ID_MAX_LEN + 8];
	} d[MAX_SOFTDEPS];
};

static void softdep_add(struct softdeps *sd, const char *entry,
			const char *mod)
{
	int i;

	if (!mod[0] || !strcmp(mod, "-") || !strcmp(mod, "vstub"))
		return;
	for (i = 0; i < sd->n; i++)
		if (!strcmp(sd->d[i].mod, mod) && !strcmp(sd->d[i].entry, entry))
			return;
	if (sd->n < MAX_SOFTDEPS) {
		scopy(sd->d[sd->n].mod, mod, sizeof(sd->d[0].mod));
		scopy(sd->d[sd->n].entry, entry, sizeof(sd->d[0].entry));
		sd->n++;
	}
}

/* The "# softdep-for KIND VALUE MODULE" tags of the current file for @entry. */
static void softdep_keep_old(struct ctx *ctx, struct softdeps *sd,
			     const char *entry)
{
	char line[256], kind[8], val[VSTUB_ID_MAX_LEN + 1], mod[64], e[96];
	FILE *f = fopen(ctx->modprobe_conf, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "# softdep-for %7s %64s %63s", kind, val, mod) != 3)
			continue;
		snprintf(e, sizeof(e), "%s %s", kind, val);
		if (!strcmp(e, entry))
			softdep_add(sd, entry, mod);
	}
	fclose(f);
}

/*
 * Find the host driver modules of the devices entry @e wants; warn about
 * built-in ones.  Returns whether a wanted device is present.
 */
static bool softdeps_for(struct ctx *ctx, const struct conf_entry *e,
			 struct softdeps *sd, bool warn)
{
	char path[512], drv[64], mod[64], entry[VSTUB_ID_MAX_LEN + 8];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(entry, sizeof(entry), "%s %s", conf_kind_name(e->kind), e->value);
	snprintf(path, sizeof(path), "%s" VSTUB_SYSFS_PCI, ctx->sysfs);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !entry_wants(ctx, e, de->d_name))
			continue;
		found = true;
		host_driver(ctx, de->d_name, drv, sizeof(drv));
		mod[0] = '\0';
		if (drv[0])
			driver_module(ctx, drv, mod, sizeof(mod));
		if (!strcmp(mod, "-") && warn)
			info_msg(ctx, "note: %s's host driver %s is built into the kernel: it probes the device before any module can load, and vstub takes the device from it when vstub loads (udev, vstub.service)",
				 de->d_name, drv);
		if (!mod[0] || !strcmp(mod, "-"))
			alias_module(ctx, de->d_name, mod, sizeof(mod));
		softdep_add(sd, entry, mod);
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * "@UID[:GID]" or "@:GID" after an address in bdfs=: vstub gives the group
 * node to that owner when it captures the function at load.  Numbers, as
 * resolved now: the initramfs has no user database.
 */
static void bdf_owner_suffix(struct ctx *ctx, FILE *f, const struct conf_entry *e)
{
	char why[256] = "";
	struct owner o;

	if (owner_resolve(e->owner, &o, why, sizeof(why))) {
		err_msg(ctx, "warning: bdf %s: owner %s: %s; vstub captures it at load without an owner (apply sets it later)",
			e->value, e->owner, why);
		return;
	}
	if (o.has_uid && o.has_gid)
		fprintf(f, "@%u:%u", o.uid, o.gid);
	else if (o.has_uid)
		fprintf(f, "@%u", o.uid);
	else if (o.has_gid)
		fprintf(f, "@:%u", o.gid);
}

/* Write the modprobe.d file that applies @c when vstub or a host driver loads. */
static int write_modprobe(struct ctx *ctx, const struct conf *c, bool warn)
{
	char tmp[4096], entry[VSTUB_ID_MAX_LEN + 8];
	struct softdeps *sd;
	int i, j, fd, kind;
	bool first;
	size_t k;
	FILE *f;

	/* Nothing configured: no file (and none left in the next initramfs). */
	if (!c->n)
		return unlink(ctx->modprobe_conf) && errno != ENOENT ? -errno : 0;
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	for (k = 0; k < c->n; k++) {
		snprintf(entry, sizeof(entry), "%s %s",
			 conf_kind_name(c->e[k].kind), c->e[k].value);
		if (!softdeps_for(ctx, &c->e[k], sd, warn))
			softdep_keep_old(ctx, sd, entry);
	}

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", ctx->modprobe_conf) >=
	    (int)sizeof(tmp)) {
		free(sd);
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		free(sd);
		return -errno;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		free(sd);
		return -ENOMEM;
	}
	fprintf(f, "# Generated by vstubctl from %s -- edit that file with\n"
		   "# 'vstubctl persist', not this one.  vstub applies the options\n"
		   "# itself when it loads; each softdep loads vstub before a host\n"
		   "# driver that would take a configured device.\n", ctx->conf);
	for (kind = CONF_ID; kind <= CONF_BDF; kind++) {
		first = true;
		for (k = 0; k < c->n; k++) {
			if ((int)c->e[k].kind != kind)
				continue;
			if (first)
				fprintf(f, "options vstub %s=", kind == CONF_ID ? "ids" : "bdfs");
			fprintf(f, "%s%s", first ? "" : ",", c->e[k].value);
			if (kind == CONF_BDF && c->e[k].owner[0])
				bdf_owner_suffix(ctx, f, &c->e[k]);
			first = false;
		}
		if (!first)
			fprintf(f, "\n");
	}
	for (i = 0; i < sd->n; i++)
		fprintf(f, "# softdep-for %s %s\n", sd->d[i].entry, sd->d[i].mod);
	for (i = 0; i < sd->n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(sd->d[j].mod, sd->d[i].mod))
				break;
		if (j == i)
			fprintf(f, "softdep %s pre: vstub\n", sd->d[i].mod);
	}
	free(sd);
	if (fchmod(fd, 0644) || fflush(f) || fsync(fd)) {
		fclose(f);
		unlink(tmp);
		return -errno;
	}
	if (fclose(f) || rename(tmp, ctx->modprobe_conf)) {
		int ret = -errno;

		unlink(tmp);
		return ret;
	}
	return 0;
}

/* What to run so that the initramfs carries the new configuration. */
static void initramfs_hint(struct ctx *ctx)
{
	if (!access("/usr/sbin/update-initramfs", X_OK))
		info_msg(ctx, "run 'update-initramfs -u -k all' now: the initramfs (which loads most host drivers) still has the previous configuration");
	else
		info_msg(ctx, "if your initramfs loads host drivers, regenerate it now: vstub's hook is for initramfs-tools (update-initramfs) only");
}

/* "--owner USER[:GROUP]" after "bdf BDF": removed from argv into @e. */
static int persist_owner_arg(struct ctx *ctx, int *argc, char **argv,
			     char *owner, size_t len)
{
	const char *o;

	if (*argc == 4 && (!strcmp(argv[2], "--owner") || !strcmp(argv[2], "-o")))
		o = argv[3];
	else if (*argc == 3 && !strncmp(argv[2], "--owner=", 8))
		o = argv[2] + 8;
	else
		return 0;
	if (strcmp(argv[0], "bdf")) {
		err_msg(ctx, "%s: --owner gives one function to a user: use 'bdf BDF --owner USER[:GROUP]'",
			ctx->cmd);
		return EXIT_USAGE;
	}
	if (parse_owner_syntax(o)) {
		err_msg(ctx, "%s: malformed owner '%s': expected USER, USER:GROUP or :GROUP",
			ctx->cmd, o);
		return EXIT_USAGE;
	}
	scopy(owner, o, len);
	*argc = 2;
	return 0;
}

static int persist_change(struct ctx *ctx, int argc, char **argv, bool add)
{
	struct conf_entry e, *old;
	char owner[OWNER_MAX_LEN] = "";
	struct conf c;
	int ret;

	if (add) {
		ret = persist_owner_arg(ctx, &argc, argv, owner, sizeof(owner));
		if (ret)
			return ret;
	}
	ret = persist_arg(ctx, argc, argv, &e);
	if (ret)
		return ret;
	scopy(e.owner, owner, sizeof(e.owner));
	if (load_conf(ctx, &c))
		return EXIT_FAIL;
	old = conf_find(&c, e.kind, e.value);
	if (add && old && e.owner[0] && strcmp(old->owner, e.owner)) {
		/* a new owner for an address already listed */
		scopy(old->owner, e.owner, sizeof(old->owner));
		ret = 0;
	} else {
		ret = add ? conf_add(&c, e.kind, e.value) :
			    conf_del(&c, e.kind, e.value);
		if (!ret && add)
			scopy(c.e[c.n - 1].owner, e.owner, sizeof(c.e[0].owner));
	}
	if (ret == -EEXIST || ret == -ENOENT) {
		err_msg(ctx, "%s: %s %s is %s %s", ctx->cmd,
			conf_kind_name(e.kind), e.value,
			add ? "already in" : "not in", ctx->conf);
		conf_free(&c);
		return EXIT_FAIL;
	}
	if (!ret)
		ret = conf_save(ctx->conf, &c);
	if (ret) {
		err_msg(ctx, "cannot write %s: %s", ctx->conf, strerror(-ret));
		conf_free(&c);
		return EXIT_FAIL;
	}
	ret = write_modprobe(ctx, &c, add);
	if (ret)
		err_msg(ctx, "warning: cannot write %s: %s (captures then apply only through vstub.service, after host drivers)",
			ctx->modprobe_conf, strerror(-ret));
	conf_free(&c);
	if (add)
		info_msg(ctx, "added %s %s%s%s to %s: captured at every boot from now on; '%s %s%s%s' applies it now%s",
			 conf_kind_name(e.kind), e.value,
			 e.owner[0] ? " owner=" : "", e.owner, ctx->conf,
			 e.kind == CONF_ID ? "vstubctl ids add" : "vstubctl capture",
			 e.value, e.owner[0] ? " --owner " : "", e.owner,
			 e.owner[0] ? " (a function captured already keeps its node's owner: release and capture it)" : "");
	else if (e.kind == CONF_ID)
		info_msg(ctx, "removed id %s from %s: no longer captured at boot; 'vstubctl ids del %s' removes it from vstub's table now, and 'vstubctl release BDF' gives back each function it captured",
			 e.value, ctx->conf, e.value);
	else
		info_msg(ctx, "removed bdf %s from %s: no longer captured at boot; 'vstubctl release %s' gives it back to its host driver now",
			 e.value, ctx->conf, e.value);
	if (!ret)
		initramfs_hint(ctx);
	if (ctx->json) {
		json_obj_begin(ctx->js, NULL);
		json_str(ctx->js, "command", ctx->cmd);
		json_str(ctx->js, conf_kind_name(e.kind), e.value);
		if (e.owner[0])
			json_str(ctx->js, "owner", e.owner);
		json_bool(ctx->js, "ok", true);
		json_obj_end(ctx->js);
		json_done(ctx->js);
	}
	return EXIT_OK;
}

static int cmd_persist_add(struct ctx *ctx, int argc, char **argv)
{
	return persist_change(ctx, argc, argv, true);
}
COMMAND(persist, "add", "id ID | bdf BDF [--owner USER[:GROUP]]", cmd_persist_add,
	"Add an ID or an address to the boot configuration (/etc/vstub.conf)\n"
	"and regenerate /etc/modprobe.d/vstub.conf.  Does not capture now\n"
	"(use 'capture', 'ids add' or 'apply'); then run update-initramfs.\n"
	"--owner gives the function to a user (and group) whenever it is\n"
	"captured (at boot, by apply, and by 'vstubctl capture BDF'); on an\n"
	"address already listed it sets the owner.");

static int cmd_persist_del(struct ctx *ctx, int argc, char **argv)
{
	return persist_change(ctx, argc, argv, false);
}
COMMAND(persist, "del", "id ID | bdf BDF", cmd_persist_del,
	"Remove an ID or an address from the boot configuration.  Releases\n"
	"nothing now (use 'release', 'ids del'); then run update-initramfs.");

static int cmd_persist_list(struct ctx *ctx, int argc, char **argv)
{
	struct conf c;
	size_t i;

	(void)argv;
	if (argc) {
		err_msg(ctx, "persist list: takes no arguments");
		return EXIT_USAGE;
	}
	if (load_conf(ctx, &c))
		return EXIT_FAIL;
	if (ctx->json)
		json_arr_begin(ctx->js, NULL);
	for (i = 0; i < c.n; i++) {
		if (ctx->json) {
			json_obj_begin(ctx->js, NULL);
			json_str(ctx->js, "kind", conf_kind_name(c.e[i].kind));
			json_str(ctx->js, "value", c.e[i].value);
			if (c.e[i].owner[0])
				json_str(ctx->js, "owner", c.e[i].owner);
			json_obj_end(ctx->js);
		} else {
			printf("%s %s%s%s\n", conf_kind_name(c.e[i].kind),
			       c.e[i].value, c.e[i].owner[0] ? " owner=" : "",
			       c.e[i].owner);
		}
	}
	if (ctx->json) {
		json_arr_end(ctx->js);
		json_done(ctx->js);
	}
	conf_free(&c);
	return EXIT_OK;
}
COMMAND(persist, "list", NULL, cmd_persist_list,
	"Print the boot configuration.");

static int cmd_persist_match(struct ctx *ctx, int argc, char **argv)
{
	char bdf[VSTUB_BDF_MAX_LEN];
	struct conf c;
	bool match;

	if (argc != 1 || parse_bdf(argv[0], bdf, sizeof(bdf))) {
		err_msg(ctx, "persist match: expected a PCI address");
		return EXIT_USAGE;
	}
	if (load_conf(ctx, &c))
		return EXIT_FAIL;
	match = conf_wants(ctx, &c, bdf);
	conf_free(&c);
	return match ? EXIT_OK : EXIT_FAIL;
}
COMMAND(persist, "match", "BDF", cmd_persist_match,
	"Exit 0 if the boot configuration wants the function at BDF (by\n"
	"address or vendor:device), 1 if not.  Used by the udev rule.");

static int modprobe_vstub(void)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (!pid) {
		execl("/sbin/modprobe", "modprobe", "vstub", (char *)NULL);
		execlp("modprobe", "modprobe", "vstub", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

/* Was vstub loaded with @bdf in its bdfs= parameter? */
static bool bdf_param_has(const char *bdf)
{
	char buf[4096], *p, *tok;

	if (sysfs_read_str("/sys/module/vstub/parameters/bdfs", buf,
			   sizeof(buf)) < 0)
		return false;
	for (p = buf; (tok = strsep(&p, ","));) {
		char norm[VSTUB_BDF_MAX_LEN];

		if (!parse_bdf(tok, norm, sizeof(norm)) && !strcmp(norm, bdf))
			return true;
	}
	return false;
}

static int cmd_apply(struct ctx *ctx, int argc, char **argv)
{
	bool load = true, dry = false;
	int i, ret, failed = 0, done = 0;
	struct vnl_err e;
	struct vnl nl;
	struct conf c;
	size_t k;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--no-load")) {
			load = false;
		} else if (!strcmp(argv[i], "--dry-run")) {
			dry = true;
		} else {
			err_msg(ctx, "apply: unknown argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (load_conf(ctx, &c))
		return EXIT_FAIL;
	if (dry) {
		for (k = 0; k < c.n; k++)
			printf("would %s %s%s%s\n", c.e[k].kind == CONF_ID ?
			       "add ID" : "capture", c.e[k].value,
			       c.e[k].owner[0] ? " for " : "", c.e[k].owner);
		conf_free(&c);
		return EXIT_OK;
	}
	if (!vnl_module_loaded() && load && c.n && modprobe_vstub()) {
		err_msg(ctx, "apply: 'modprobe vstub' failed: is vstub installed for this kernel?");
		conf_free(&c);
		return EXIT_NOMOD;
	}
	if (!c.n) {
		info_msg(ctx, "nothing configured in %s", ctx->conf);
		conf_free(&c);
		return EXIT_OK;
	}
	if (vnl_open(ctx, &nl)) {
		conf_free(&c);
		return EXIT_NOMOD;
	}
	if (ctx->json)
		json_arr_begin(ctx->js, NULL);
	/* IDs first: they also cover devices that appear later. */
	for (i = 0; i < 2; i++) {
		for (k = 0; k < c.n; k++) {
			struct vnl_attr a[3] = { { .str = c.e[k].value } };
			const char *state;
			char why[256];
			struct owner o;
			int na = 1;

			if ((c.e[k].kind == CONF_ID) != (i == 0))
				continue;
			a[0].type = i == 0 ? VSTUB_A_ID : VSTUB_A_BDF;
			if (c.e[k].owner[0] &&
			    owner_resolve(c.e[k].owner, &o, why, sizeof(why))) {
				err_msg(ctx, "%s: %s: not captured", c.e[k].value, why);
				failed++;
				continue;
			}
			if (c.e[k].owner[0] && o.has_uid)
				a[na++] = (struct vnl_attr){ .type = VSTUB_A_OWNER_UID,
							     .u32 = o.uid };
			if (c.e[k].owner[0] && o.has_gid)
				a[na++] = (struct vnl_attr){ .type = VSTUB_A_OWNER_GID,
							     .u32 = o.gid };
			ret = vnl_request(&nl, i == 0 ? VSTUB_CMD_ID_ADD :
					  VSTUB_CMD_CAPTURE, false, a, na,
					  NULL, NULL, &e);
			if (!ret) {
				state = "applied";
				done++;
			} else if (ret == -EEXIST) {
				state = "already";
			} else if (ret == -ENODEV) {
				state = "absent";
				info_msg(ctx, "%s: not present now; %s",
					 c.e[k].value, bdf_param_has(c.e[k].value) ?
					 "vstub captures it when it appears (it was loaded with it in bdfs=)" :
					 "vstub captures it when it appears only once it is loaded with the new configuration (next boot, or reload vstub)");
			} else {
				state = "failed";
				failed++;
				vnl_perror(ctx, c.e[k].value, ret, &e);
			}
			if (ctx->json) {
				json_obj_begin(ctx->js, NULL);
				json_str(ctx->js, "kind", conf_kind_name(c.e[k].kind));
				json_str(ctx->js, "value", c.e[k].value);
				json_str(ctx->js, "result", state);
				json_obj_end(ctx->js);
			} else if (!ret) {
				info_msg(ctx, "%s %s: %s", conf_kind_name(c.e[k].kind),
					 c.e[k].value, state);
			}
		}
	}
	if (ctx->json) {
		json_arr_end(ctx->js);
		json_done(ctx->js);
	}
	vnl_close(&nl);
	conf_free(&c);
	(void)done;
	return failed ? EXIT_FAIL : EXIT_OK;
}
COMMAND(apply, NULL, "[--no-load] [--dry-run]", cmd_apply,
	"Apply the boot configuration now: load vstub if needed (not with\n"
	"--no-load), add the configured IDs and capture the configured\n"
	"addresses.  Entries already in effect and absent devices are not\n"
	"errors.  Run at boot by vstub.service (loading vstub applies the\n"
	"configuration by itself, through /etc/modprobe.d/vstub.conf).");
