/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the vstub selftests (static programs run as root inside
 * the QEMU guests of selftests/run).  Include after kselftest_harness.h.
 *
 * Conventions: functions return 0 (or a count) on success and -errno on
 * failure, so a test can ASSERT_EQ(-EEXIST, vstub_write("id_add", "...")).
 *
 * Environment set by the guest's /init (see selftests/run):
 *   VSTUB_KO        path of vstub.ko (/lib/modules/vstub.ko)
 *   VSTUB_CONFIG    configuration name, e.g. "6.12-vtd"
 *   VSTUB_KVER      kernel release
 *   VSTUB_IOMMU     vtd | amd | virtio
 *   VSTUB_INTREMAP  1 if interrupt remapping is available, else 0
 *   VSTUB_SRIOV     1 if the NVMe controller offers SR-IOV VFs
 *   VSTUB_TIME_SCALE factor for time limits (debug kernel: 4)
 */
#ifndef _VSTUB_TEST_H
#define _VSTUB_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/pci_regs.h>

#define VSTUB_MODNAME		"vstub"
#define VSTUB_DRV_DIR		"/sys/bus/pci/drivers/vstub"
#define PCI_DEVICES_DIR		"/sys/bus/pci/devices"
#define VSTUB_KO_DEFAULT	"/lib/modules/vstub.ko"

/* QEMU's test devices. */
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define E1000E_VENDOR		0x8086
#define E1000E_DEVICE		0x10d3
#define NVME_VENDOR		0x1b36
#define NVME_DEVICE		0x0010
#define XHCI_VENDOR		0x1b36
#define XHCI_DEVICE		0x000d
#define AHCI_VENDOR		0x8086
#define AHCI_DEVICE		0x2922
#define TESTDEV_VENDOR		0x1b36
#define TESTDEV_DEVICE		0x0005

/* Copy @src into @dst of size @len, truncating; always NUL-terminates. */
static inline void vstub_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (!len)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- environment ------------------------------------------------------ */

static inline const char *vstub_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static inline bool vstub_env_is(const char *name, const char *val)
{
	const char *v = getenv(name);

	return v && !strcmp(v, val);
}

/* "vtd", "amd", "virtio" or "" when unknown. */
static inline const char *vstub_iommu(void)
{
	return vstub_env("VSTUB_IOMMU", "");
}

/*
 * Factor for time limits that assume Debian's kernel: VSTUB_TIME_SCALE
 * (the debug kernel's configurations set 4), else 1.
 */
static inline int vstub_time_scale(void)
{
	int f = atoi(vstub_env("VSTUB_TIME_SCALE", "1"));

	return f > 0 ? f : 1;
}

/* @ms scaled by vstub_time_scale(). */
static inline int vstub_scaled(int ms)
{
	return ms * vstub_time_scale();
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline long vstub_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static inline void vstub_msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- sysfs ------------------------------------------------------------ */

/* Write @val (exactly strlen(val) bytes, one write()) to @path. */
static inline int sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* Read @path into @buf (NUL-terminated); returns the length or -errno. */
static inline int sysfs_read(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd;

	if (!len)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < len - 1) {
		n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (!n)
			break;
		got += n;
	}
	buf[got] = '\0';
	close(fd);
	return got;
}

/* Read a whole-number sysfs attribute ("0x1234\n", "42\n"). */
static inline int sysfs_read_ulong(const char *path, unsigned long *val)
{
	char buf[64], *end;
	int ret;

	ret = sysfs_read(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static inline bool path_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

/* Attributes of the vstub driver: /sys/bus/pci/drivers/vstub/@attr. */
static inline int vstub_write(const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), VSTUB_DRV_DIR "/%s", attr);
	return sysfs_write(path, val);
}

static inline int vstub_read(const char *attr, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), VSTUB_DRV_DIR "/%s", attr);
	return sysfs_read(path, buf, len);
}

/* ---- the module ------------------------------------------------------- */

static inline const char *vstub_ko(void)
{
	return vstub_env("VSTUB_KO", VSTUB_KO_DEFAULT);
}

static inline bool vstub_loaded(void)
{
	return path_exists("/sys/module/" VSTUB_MODNAME);
}

/*
 * Load vstub.ko with the parameter string @params ("" or NULL for none),
 * through finit_module(), or init_module() where that is missing.
 */
static inline int vstub_load(const char *params)
{
	int fd, ret;

	if (!params)
		params = "";
	fd = open(vstub_ko(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0);
	if (ret && errno == ENOSYS) {
		struct stat st;
		void *image;

		if (fstat(fd, &st)) {
			ret = -errno;
			goto out;
		}
		image = malloc(st.st_size);
		if (!image) {
			ret = -ENOMEM;
			goto out;
		}
		if (pread(fd, image, st.st_size, 0) != st.st_size) {
			free(image);
			ret = -EIO;
			goto out;
		}
		ret = syscall(SYS_init_module, image, (unsigned long)st.st_size,
			      params);
		free(image);
	}
	if (ret)
		ret = -errno;
out:
	close(fd);
	return ret;
}

/* Unload vstub; waits up to 10 s while it is busy.  -ENOENT if not loaded. */
static inline int vstub_unload(void)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (!syscall(SYS_delete_module, VSTUB_MODNAME, O_NONBLOCK))
			return 0;
		if (errno != EAGAIN && errno != EBUSY)
			return -errno;
		vstub_msleep(100);
	}
	return -EBUSY;
}

/* Unload if loaded; for fixture set-up and tear-down. */
static inline int vstub_unload_if_loaded(void)
{
	return vstub_loaded() ? vstub_unload() : 0;
}

/* ---- PCI devices ------------------------------------------------------ */

static inline int pci_attr_path(char *path, size_t len, const char *bdf,
				const char *attr)
{
	int n = snprintf(path, len, PCI_DEVICES_DIR "/%s/%s", bdf, attr);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static inline int pci_read_ulong(const char *bdf, const char *attr,
				 unsigned long *val)
{
	char path[256];

	if (pci_attr_path(path, sizeof(path), bdf, attr))
		return -ENAMETOOLONG;
	return sysfs_read_ulong(path, val);
}

static inline int pci_write_attr(const char *bdf, const char *attr,
				 const char *val)
{
	char path[256];

	if (pci_attr_path(path, sizeof(path), bdf, attr))
		return -ENAMETOOLONG;
	return sysfs_write(path, val);
}

/*
 * Find the @index'th (0-based, in BDF order) function with @vendor:@device
 * and copy its full BDF ("0000:00:03.0") to @bdf.  Returns 0, or -ENODEV.
 */
static inline int pci_find(unsigned int vendor, unsigned int device, int index,
			   char *bdf, size_t len)
{
	struct dirent **list;
	int i, n, found = -1, ret = -ENODEV;

	n = scandir(PCI_DEVICES_DIR, &list, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		unsigned long v, d;

		if (name[0] == '.' || ret == 0)
			continue;
		if (pci_read_ulong(name, "vendor", &v) ||
		    pci_read_ulong(name, "device", &d))
			continue;
		if (v == vendor && d == device && ++found == index) {
			vstub_strlcpy(bdf, name, len);
			ret = 0;
		}
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return ret;
}

/* Number of functions with @vendor:@device. */
static inline int pci_count(unsigned int vendor, unsigned int device)
{
	char bdf[32];
	int n = 0;

	while (!pci_find(vendor, device, n, bdf, sizeof(bdf)))
		n++;
	return n;
}

/* Name of the driver bound to @bdf into @drv ("" if none); 0 or -errno. */
static inline int pci_driver(const char *bdf, char *drv, size_t len)
{
	char path[256], link[256];
	ssize_t n;
	char *base;

	if (pci_attr_path(path, sizeof(path), bdf, "driver"))
		return -ENAMETOOLONG;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		if (pci_attr_path(path, sizeof(path), bdf, "vendor"))
			return -ENAMETOOLONG;
		if (!path_exists(path))
			return -ENODEV;
		drv[0] = '\0';
		return 0;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	vstub_strlcpy(drv, base ? base + 1 : link, len);
	return 0;
}

/* True if @bdf is bound to @drv ("" = to no driver). */
static inline bool pci_driver_is(const char *bdf, const char *drv)
{
	char cur[64] = "";

	return !pci_driver(bdf, cur, sizeof(cur)) && !strcmp(cur, drv);
}

/*
 * Wait up to @ms milliseconds for @bdf to be bound to @drv ("" = unbound),
 * for drivers that probe asynchronously.  Returns true once it is.
 */
static inline bool pci_wait_driver(const char *bdf, const char *drv, int ms)
{
	for (;;) {
		if (pci_driver_is(bdf, drv))
			return true;
		if (ms <= 0)
			return false;
		vstub_msleep(20);
		ms -= 20;
	}
}

/* Unbind @bdf from whatever driver it has (no-op if none). */
static inline int pci_unbind(const char *bdf)
{
	int ret = pci_write_attr(bdf, "driver/unbind", bdf);

	return ret == -ENOENT ? 0 : ret;
}

/* Ask the PCI core to find a driver for @bdf. */
static inline int pci_probe(const char *bdf)
{
	return sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

/* VmLck of process @pid in kB (what the kernel counts as its locked_vm), or -1. */
static inline long vstub_vmlck_kb(pid_t pid)
{
	char path[64], line[256];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6))
			val = atol(line + 6);
	fclose(f);
	return val;
}

/* A counter of /proc/vmstat, or -1. */
static inline long vstub_vmstat(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long val = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ' ')
			val = atol(line + klen + 1);
	fclose(f);
	return val;
}

/*
 * Pages pinned with FOLL_PIN and not yet unpinned, system-wide.  The
 * counters are per CPU and folded lazily: stat_refresh folds them now.
 */
static inline long vstub_pins_held(void)
{
	sysfs_write("/proc/sys/vm/stat_refresh", "1");
	return vstub_vmstat("nr_foll_pin_acquired") -
	       vstub_vmstat("nr_foll_pin_released");
}

/* Wait up to @ms for vstub_pins_held() to be @want; the last count seen. */
static inline long vstub_pins_settle(long want, int ms)
{
	long n = vstub_pins_held();

	for (; ms > 0 && n != want; ms -= 50) {
		vstub_msleep(50);
		n = vstub_pins_held();
	}
	return n;
}

/*
 * Bind @bdf to @drv through driver_override (vfio-pci variants); nothing
 * to do if it is there already.
 */
static inline int pci_bind_override(const char *bdf, const char *drv)
{
	int ret;

	if (pci_driver_is(bdf, drv))
		return 0;
	if (!pci_driver_is(bdf, "")) {
		ret = pci_unbind(bdf);
		if (ret)
			return ret;
	}
	ret = pci_write_attr(bdf, "driver_override", drv);
	if (ret)
		return ret;
	pci_probe(bdf);
	return pci_wait_driver(bdf, drv, 5000) ? 0 : -ENODEV;
}

/* Take @bdf from vfio-pci (if there) and clear its override: no driver. */
static inline void pci_drop_override(const char *bdf)
{
	if (pci_driver_is(bdf, "vfio-pci"))
		pci_unbind(bdf);
	pci_write_attr(bdf, "driver_override", "\n");
}

/* Give @bdf, if on vfio-pci, back to the host's choice of driver. */
static inline void pci_unbind_override(const char *bdf)
{
	if (!pci_driver_is(bdf, "vfio-pci"))
		return;
	pci_drop_override(bdf);
	pci_probe(bdf);
}

/* Capture @bdf by address (vstub loaded) and wait until vstub holds it. */
static inline int vstub_capture_wait(const char *bdf)
{
	int i, ret;

	ret = vstub_write("capture", bdf);
	if (ret)
		return ret;
	for (i = 0; i < 100 && !pci_driver_is(bdf, "vstub"); i++)
		vstub_msleep(50);
	return pci_driver_is(bdf, "vstub") ? 0 : -ETIMEDOUT;
}

/* The command register as the device has it (sysfs config); 0xffff if unreadable. */
static inline uint16_t pci_cmd_phys(const char *bdf)
{
	char path[256];
	uint16_t cmd = 0xffff;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/config", PCI_DEVICES_DIR, bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cmd;
	if (pread(fd, &cmd, sizeof(cmd), PCI_COMMAND) != sizeof(cmd))
		cmd = 0xffff;
	close(fd);
	return cmd;
}

static inline int pci_iommu_group(const char *bdf)
{
	char path[256], link[256], *base;
	ssize_t n;

	if (pci_attr_path(path, sizeof(path), bdf, "iommu_group"))
		return -ENAMETOOLONG;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	base = strrchr(link, '/');
	return atoi(base ? base + 1 : link);
}

/* ---- vstub's lists ---------------------------------------------------- */

/*
 * Find the line of /sys/bus/pci/drivers/vstub/captured for @bdf and copy it
 * (without newline) to @line.  Returns 0, -ENOENT if absent, or -errno.
 */
static inline int vstub_captured_line(const char *bdf, char *line, size_t len)
{
	char buf[8192], *s, *save = NULL;
	size_t blen = strlen(bdf);
	int ret;

	ret = vstub_read("captured", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (s = strtok_r(buf, "\n", &save); s; s = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(s, bdf, blen) && s[blen] == ' ') {
			vstub_strlcpy(line, s, len);
			return 0;
		}
	}
	return -ENOENT;
}

/* Number of lines in a vstub list attribute ("ids", "captured"). */
static inline int vstub_count_lines(const char *attr)
{
	char buf[8192], *s;
	int ret, n = 0;

	ret = vstub_read(attr, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (s = buf; *s; s++)
		if (*s == '\n')
			n++;
	if (ret > 0 && buf[ret - 1] != '\n')
		n++;
	return n;
}

/* True if the list attribute @attr has a line equal to @line. */
static inline bool vstub_has_line(const char *attr, const char *line)
{
	char buf[8192], *s, *save = NULL;

	if (vstub_read(attr, buf, sizeof(buf)) < 0)
		return false;
	for (s = strtok_r(buf, "\n", &save); s; s = strtok_r(NULL, "\n", &save))
		if (!strcmp(s, line))
			return true;
	return false;
}

/* ---- kernel log ------------------------------------------------------- */

/*
 * Write a unique marker line into the kernel log and copy it to @mark, so
 * that dmesg_since() can look only at what came after it.
 */
static inline int kmsg_mark(char *mark, size_t len)
{
	static unsigned int seq;
	char line[160];

	snprintf(mark, len, "vstub-test-mark pid=%d seq=%u", getpid(), ++seq);
	snprintf(line, sizeof(line), "<5>%s\n", mark);
	return sysfs_write("/dev/kmsg", line);
}

/*
 * The kernel log buffer read with syslog @action (3: READ_ALL, 4:
 * READ_CLEAR), malloc'ed and NUL-terminated, or NULL.
 */
static inline char *klog_read(int action)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;
	int n;

	if (size <= 0)
		size = 1 << 20;
	buf = malloc(size + 1);
	if (!buf)
		return NULL;
	n = klogctl(action, buf, size);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The whole kernel log buffer (malloc'ed, NUL-terminated) or NULL. */
static inline char *dmesg_read(void)
{
	return klog_read(3 /* SYSLOG_ACTION_READ_ALL */);
}

/*
 * True if a line of the kernel log after the line holding @mark (the whole
 * log when @mark is NULL) contains @needle and, unless NULL, @needle2.
 */
static inline bool dmesg_line_since(const char *mark, const char *needle,
				    const char *needle2)
{
	char *log = dmesg_read(), *from, *line, *save = NULL;
	bool found = false;

	if (!log)
		return false;
	from = log;
	if (mark) {
		char *p = strstr(log, mark);

		/* The marker may be repeated; use the last one. */
		while (p) {
			from = p + strlen(mark);
			p = strstr(from, mark);
		}
		if (from == log)
			from = log + strlen(log);
	}
	for (line = strtok_r(from, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save))
		found = strstr(line, needle) &&
			(!needle2 || strstr(line, needle2));
	free(log);
	return found;
}

/* True if the kernel log after @mark (NULL: all of it) contains @needle. */
static inline bool dmesg_since(const char *mark, const char *needle)
{
	return dmesg_line_since(mark, needle, NULL);
}

/* ---- VFIO tests: vstub holding edu ------------------------------------ */

/* Does this configuration lack interrupt remapping (VSTUB_INTREMAP)? */
static inline bool vstub_no_intremap(void)
{
	return !vstub_env_is("VSTUB_INTREMAP", "1");
}

/*
 * (Re)load vstub capturing edu (@edu, its BDF) by ID, plus @extra
 * parameters.  Without interrupt remapping the group would be refused, so
 * allow it there unless @strict.
 */
static inline int vstub_load_edu(const char *extra, bool strict,
				 const char *edu)
{
	char params[256];
	int ret;

	ret = vstub_unload_if_loaded();
	if (ret)
		return ret;
	if (!pci_driver_is(edu, ""))
		pci_unbind(edu);
	snprintf(params, sizeof(params), "ids=1234:11e8%s %s",
		 vstub_no_intremap() && !strict ?
		 " allow_unsafe_interrupts=1" : "",
		 extra ? extra : "");
	ret = vstub_load(params);
	if (ret)
		return ret;
	return pci_wait_driver(edu, "vstub", 5000) ? 0 : -ENODEV;
}

/* Unload the in-kernel VFIO modules (vfio_compat=1 needs them gone). */
static inline int vstub_unload_vfio(void)
{
	static const char *const vstub_vfio_mods[] = {
		"vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio",
	};
	unsigned int i;
	char path[64];

	for (i = 0; i < ARRAY_SIZE(vstub_vfio_mods); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", vstub_vfio_mods[i]);
		if (path_exists(path) &&
		    syscall(SYS_delete_module, vstub_vfio_mods[i], O_NONBLOCK))
			return -errno;
	}
	return 0;
}

/* Load the guest's boot modules that are missing (/etc/vstub-modules). */
static inline void vstub_reload_boot_modules(void)
{
	char line[256], path[512], *args;
	FILE *f = fopen("/etc/vstub-modules", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int fd;

		line[strcspn(line, "\n")] = '\0';
		args = strchr(line, ' ');
		if (args)
			*args++ = '\0';
		snprintf(path, sizeof(path), "/lib/modules/%s/%s",
			 vstub_env("VSTUB_KVER", ""), line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		syscall(SYS_finit_module, fd, args ? args : "", 0);
		close(fd);
	}
	fclose(f);
}

/* Drop CAP_IPC_LOCK from this (child) process. */
static inline int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_IPC_LOCK / 32].effective &= ~(1U << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1U << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].inheritable &= ~(1U << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

#endif /* _VSTUB_TEST_H */
