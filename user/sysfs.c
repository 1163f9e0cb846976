// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs.c - reading and writing sysfs attributes.  All paths may be
 * prefixed by ctx->sysfs (VSTUB_SYSFS_ROOT) so tests can use a fake tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vstubctl.h"

void scopy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Read @path into @buf without the trailing newline; length or -errno. */
int sysfs_read_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return n;
}

/* Write @val with a single write(); 0 or -errno (the kernel's answer). */
int sysfs_write_str(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int sysfs_read_hex(const char *path, unsigned long *val)
{
	char buf[64], *end;
	int ret = sysfs_read_str(path, buf, sizeof(buf));

	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 16);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

bool sysfs_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

int sysfs_link_name(const char *path, char *buf, size_t len)
{
	char link[512], *base;
	ssize_t n;

	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (len)
			buf[0] = '\0';
		return -errno;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int pci_dev_attr(const struct ctx *ctx, const char *bdf, const char *attr,
		 char *path, size_t len)
{
	int n = snprintf(path, len, "%s" VSTUB_SYSFS_PCI "/%s%s%s",
			 ctx->sysfs, bdf, attr[0] ? "/" : "", attr);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
