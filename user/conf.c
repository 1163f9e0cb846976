// SPDX-License-Identifier: GPL-2.0
/*
 * conf.c - PCI addresses, IDs and the configuration file /etc/vstub.conf:
 *
 *   # comment
 *   id  8086:10d3          capture every function with this ID
 *   bdf 0000:00:02.0       capture the function at this address
 *   bdf 0000:00:03.0 owner=alice:vfio
 *                          ... and give it to a user (and group)
 *
 * One entry per line; blank lines and '#' comments are ignored.  "vstubctl
 * persist" rewrites the file (atomically) with a standard header comment.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vstubctl.h"

int parse_uint(const char *s, unsigned long max, unsigned long *val)
{
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*val = strtoul(s, &end, 10);
	if (errno || *end || *val > max)
		return -EINVAL;
	return 0;
}

/* "4096", "64K", "2M", "1G", "1T" (binary units, optional "iB"/"B"). */
int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && !strcasecmp(end, "iB"))
		end += 2;
	else if (shift && toupper((unsigned char)*end) == 'B')
		end++;
	if (*end || !v || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Hex field of at most @digits digits, whole string up to @end. */
static int hex_field(const char *s, size_t n, size_t digits, unsigned long *v)
{
	size_t i;

	if (!n || n > digits)
		return -EINVAL;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		*v = *v * 16 + (isdigit((unsigned char)s[i]) ? s[i] - '0' :
				(tolower((unsigned char)s[i]) - 'a' + 10));
	}
	return 0;
}

int parse_bdf(const char *in, char *out, size_t len)
{
	const char *p = in, *c1, *c2, *dot;
	unsigned long d = 0, b, s, f;
	int n;

	if (!in || strlen(in) >= VSTUB_BDF_MAX_LEN)
		return -EINVAL;
	dot = strchr(in, '.');
	c1 = strchr(in, ':');
	if (!dot || !c1 || strchr(dot + 1, '.') || strchr(dot, ':'))
		return -EINVAL;
	c2 = strchr(c1 + 1, ':');
	if (c2) {
		if (strchr(c2 + 1, ':') || hex_field(p, c1 - p, 4, &d))
			return -EINVAL;
		p = c1 + 1;
		c1 = c2;
	}
	if (hex_field(p, c1 - p, 2, &b) ||
	    hex_field(c1 + 1, dot - c1 - 1, 2, &s) ||
	    hex_field(dot + 1, strlen(dot + 1), 1, &f) || s > 0x1f || f > 7)
		return -EINVAL;
	n = snprintf(out, len, "%04lx:%02lx:%02lx.%lx", d, b, s, f);
	return n < 0 || (size_t)n >= len ? -EINVAL : 0;
}

int parse_id(const char *in, unsigned int *vendor, unsigned int *device)
{
	static const size_t digits[] = { 4, 4, 8, 8, 6, 6 };
	const char *p = in, *sep;
	unsigned long v[6];
	size_t nf = 0;

	if (!in || !*in || strlen(in) >= VSTUB_ID_MAX_LEN)
		return -EINVAL;
	for (;;) {
		if (nf >= 6)
			return -EINVAL;
		sep = strchr(p, ':');
		if (!sep)
			sep = p + strlen(p);
		if (hex_field(p, sep - p, digits[nf], &v[nf]))
			return -EINVAL;
		nf++;
		if (!*sep)
			break;
		p = sep + 1;
	}
	if (nf < 2)
		return -EINVAL;
	if (vendor)
		*vendor = v[0];
	if (device)
		*device = v[1];
	return 0;
}

const char *conf_kind_name(enum conf_kind kind)
{
	return kind == CONF_ID ? "id" : "bdf";
}

/*
 * Parse one line.  Returns 1 with @e filled for an entry, 0 for a blank or
 * comment line, -EINVAL with @why set for anything else.
 */
int parse_owner_syntax(const char *s)
{
	const char *colon = strchr(s, ':'), *p;

	if (!*s || strlen(s) >= OWNER_MAX_LEN || (colon && strchr(colon + 1, ':')))
		return -EINVAL;
	if (colon && !colon[1])
		return -EINVAL;
	for (p = s; *p; p++)
		if (*p != ':' && !isalnum((unsigned char)*p) && !strchr("._-", *p))
			return -EINVAL;
	return 0;
}

int conf_parse_line(const char *line, struct conf_entry *e, const char **why)
{
	char kw[8], val[VSTUB_ID_MAX_LEN + 1], opt[OWNER_MAX_LEN + 8], extra[2];
	const char *p = line;
	int n;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	n = sscanf(p, "%7s %64s %79s %1s", kw, val, opt, extra);
	if (n < 2) {
		*why = "expected 'id VENDOR:DEVICE[...]' or 'bdf DDDD:BB:DD.F [owner=USER[:GROUP]]'";
		return -EINVAL;
	}
	e->owner[0] = '\0';
	if (n >= 3 && opt[0] != '#') {
		if (strcmp(kw, "bdf") || strncmp(opt, "owner=", 6)) {
			*why = "unexpected text after the value (only a bdf line takes owner=USER[:GROUP])";
			return -EINVAL;
		}
		if (parse_owner_syntax(opt + 6)) {
			*why = "malformed owner: expected owner=USER, owner=USER:GROUP or owner=:GROUP (names or numbers)";
			return -EINVAL;
		}
		scopy(e->owner, opt + 6, sizeof(e->owner));
		if (n == 4 && extra[0] != '#') {
			*why = "unexpected text after the owner";
			return -EINVAL;
		}
	}
	if (!strcmp(kw, "id")) {
		if (parse_id(val, NULL, NULL)) {
			*why = "malformed ID: expected vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex";
			return -EINVAL;
		}
		e->kind = CONF_ID;
		scopy(e->value, val, sizeof(e->value));
		for (n = 0; e->value[n]; n++)
			e->value[n] = tolower((unsigned char)e->value[n]);
		return 1;
	}
	if (!strcmp(kw, "bdf")) {
		e->kind = CONF_BDF;
		if (parse_bdf(val, e->value, sizeof(e->value))) {
			*why = "malformed PCI address: expected DDDD:BB:DD.F or BB:DD.F in hex";
			return -EINVAL;
		}
		return 1;
	}
	*why = "unknown keyword (expected 'id' or 'bdf')";
	return -EINVAL;
}

static int conf_push(struct conf *c, const struct conf_entry *e)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct conf_entry *ne = realloc(c->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		c->e = ne;
		c->cap = cap;
	}
	c->e[c->n++] = *e;
	return 0;
}

int conf_load(const char *path, struct conf *c, char *why, size_t whylen)
{
	struct conf_entry e;
	const char *msg;
	char *line = NULL;
	size_t cap = 0;
	unsigned int lineno = 0;
	int ret = 0;
	FILE *f;

	memset(c, 0, sizeof(*c));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		ret = conf_parse_line(line, &e, &msg);
		if (ret < 0) {
			snprintf(why, whylen, "%s:%u: %s", path, lineno, msg);
			break;
		}
		if (ret > 0 && !conf_has(c, e.kind, e.value)) {
			ret = conf_push(c, &e);
			if (ret)
				break;
		}
		ret = 0;
	}
	free(line);
	fclose(f);
	if (ret)
		conf_free(c);
	return ret;
}

struct conf_entry *conf_find(struct conf *c, enum conf_kind kind,
			     const char *value)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].kind == kind && !strcasecmp(c->e[i].value, value))
			return &c->e[i];
	return NULL;
}

bool conf_has(const struct conf *c, enum conf_kind kind, const char *value)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].kind == kind && !strcasecmp(c->e[i].value, value))
			return true;
	return false;
}

int conf_add(struct conf *c, enum conf_kind kind, const char *value)
{
	struct conf_entry e = { .kind = kind };

	if (conf_has(c, kind, value))
		return -EEXIST;
	scopy(e.value, value, sizeof(e.value));
	return conf_push(c, &e);
}

int conf_del(struct conf *c, enum conf_kind kind, const char *value)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->e[i].kind == kind && !strcasecmp(c->e[i].value, value)) {
			memmove(&c->e[i], &c->e[i + 1],
				(c->n - i - 1) * sizeof(c->e[0]));
			c->n--;
			return 0;
		}
	}
	return -ENOENT;
}

int conf_save(const char *path, const struct conf *c)
{
	char tmp[4096];
	size_t i;
	FILE *f;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	fprintf(f, "# vstub: PCI functions to capture at boot (see vstubctl(8)).\n"
		   "#   id  VENDOR:DEVICE[:SUBVENDOR[:SUBDEVICE[:CLASS[:MASK]]]]\n"
		   "#   bdf DDDD:BB:DD.F [owner=USER[:GROUP]]\n");
	for (i = 0; i < c->n; i++)
		fprintf(f, "%s %s%s%s\n", conf_kind_name(c->e[i].kind),
			c->e[i].value, c->e[i].owner[0] ? " owner=" : "",
			c->e[i].owner);
	if (fchmod(fd, 0644))
		ret = -errno;
	if (fflush(f) || fsync(fd))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

void conf_free(struct conf *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}
