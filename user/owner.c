// SPDX-License-Identifier: GPL-2.0
/*
 * owner.c - users and groups a captured function is given to
 * ("--owner USER[:GROUP]"), and the group node whose owner that sets.
 *
 * Names are looked up with getpwnam()/getgrnam() and, when that finds
 * nothing (e.g. a static vstubctl without NSS modules in an initramfs),
 * directly in /etc/passwd and /etc/group.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "vstubctl.h"

static bool is_number(const char *s, uint32_t *v)
{
	unsigned long n;

	if (parse_uint(s, 0xfffffffeUL, &n))
		return false;
	*v = n;
	return true;
}

static bool user_by_name(const char *name, uint32_t *uid)
{
	struct passwd *pw = getpwnam(name);
	FILE *f;

	if (pw) {
		*uid = pw->pw_uid;
		return true;
	}
	f = fopen("/etc/passwd", "re");
	if (!f)
		return false;
	while ((pw = fgetpwent(f)))
		if (!strcmp(pw->pw_name, name))
			break;
	if (pw)
		*uid = pw->pw_uid;
	fclose(f);
	return pw;
}

static bool group_by_name(const char *name, uint32_t *gid)
{
	struct group *gr = getgrnam(name);
	FILE *f;

	if (gr) {
		*gid = gr->gr_gid;
		return true;
	}
	f = fopen("/etc/group", "re");
	if (!f)
		return false;
	while ((gr = fgetgrent(f)))
		if (!strcmp(gr->gr_name, name))
			break;
	if (gr)
		*gid = gr->gr_gid;
	fclose(f);
	return gr;
}

int owner_resolve(const char *spec, struct owner *o, char *why, size_t len)
{
	char user[OWNER_MAX_LEN], *group;

	memset(o, 0, sizeof(*o));
	if (parse_owner_syntax(spec)) {
		snprintf(why, len, "malformed owner '%s': expected USER, USER:GROUP or :GROUP",
			 spec);
		return -EINVAL;
	}
	scopy(user, spec, sizeof(user));
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (user[0]) {
		o->has_uid = is_number(user, &o->uid) ||
			     user_by_name(user, &o->uid);
		if (!o->has_uid) {
			snprintf(why, len, "no user '%s' (see getent passwd)", user);
			return -ENOENT;
		}
	}
	if (group) {
		o->has_gid = is_number(group, &o->gid) ||
			     group_by_name(group, &o->gid);
		if (!o->has_gid) {
			snprintf(why, len, "no group '%s' (see getent group)", group);
			return -ENOENT;
		}
	}
	return 0;
}

void owner_uid_name(uint32_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);
	FILE *f = NULL;

	if (!pw && (f = fopen("/etc/passwd", "re")))
		while ((pw = fgetpwent(f)) && pw->pw_uid != uid)
			;
	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", uid);
	if (f)
		fclose(f);
}

void owner_gid_name(uint32_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);
	FILE *f = NULL;

	if (!gr && (f = fopen("/etc/group", "re")))
		while ((gr = fgetgrent(f)) && gr->gr_gid != gid)
			;
	if (gr)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "gid %u", gid);
	if (f)
		fclose(f);
}

void group_node_path(const struct ctx *ctx, unsigned long group, char *buf,
		     size_t len)
{
	char path[256], val[8] = "";

	snprintf(path, sizeof(path), "%s/sys/module/vstub/parameters/vfio_compat",
		 ctx->sysfs);
	sysfs_read_str(path, val, sizeof(val));
	snprintf(buf, len, "/dev/%s/%lu", val[0] == 'Y' ? "vfio" : "vstub", group);
}
