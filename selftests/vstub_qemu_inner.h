/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_qemu_inner.h - drives an inner QEMU for vstub_qemu_test: starts
 * the host's qemu-system-x86_64 with a halting BIOS, "-device vfio-pci"
 * behind a pcie-root-port, qtest and QMP on Unix sockets; plays its guest
 * over qtest (PCI config through 0xcf8/0xcfc, MMIO, guest RAM, the I/O
 * APIC's input lines) and QMP (system_reset, device_del, quit); sets up
 * the inner edu, runs its DMA and watches its INTx and MSI.  Include after
 * kselftest_harness.h.
 */
#ifndef _VSTUB_QEMU_INNER_H
#define _VSTUB_QEMU_INNER_H

#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define EDU_ID		0x010000edU

#define QEMU_BIN	"/usr/bin/qemu-system-x86_64"

/* The inner machine: root port 00:02.0, edu behind it at 01:00.0. */
#define RP_DEV		2
#define IN_BAR		0x08000000U	/* below edu's 28-bit DMA mask */
#define IN_SRC		0x100000U	/* inner RAM: DMA source */
#define IN_DST		0x200000U	/* inner RAM: DMA destination */
#define IN_MSI		0x300000U	/* inner RAM: where MSI writes land */
#define MSI_DATA	0xabcdU
#define DMA_LEN		256
#define BIOS_SIZE	0x10000

/* ---- the inner QEMU --------------------------------------------------- */

struct linebuf {
	int fd;
	size_t len;
	char buf[16384];
};

struct iq {
	pid_t pid;
	struct linebuf qt, qmp;
	int irq_level[24];
	int irq_raises[24];
	int deleted;		/* DEVICE_DELETED events for dev0 */
	int resets;		/* RESET events */
	int rp_exp;		/* root port's PCIe capability */
	char dir[64];
	char err[128];		/* QEMU's stderr and stdout */
};

/*
 * The next line of @lb into @out, waiting up to @ms.  0, -ETIMEDOUT, or
 * -EPIPE when QEMU closed the socket.
 */
static inline int lb_line(struct linebuf *lb, char *out, size_t len, int ms)
{
	long end = vstub_now_ms() + ms;

	for (;;) {
		char *nl = memchr(lb->buf, '\n', lb->len);
		struct pollfd p = { .fd = lb->fd, .events = POLLIN };
		long left;
		ssize_t n;

		if (nl) {
			size_t l = nl - lb->buf + 1;

			vstub_strlcpy(out, lb->buf, l < len ? l : len);
			out[strcspn(out, "\r\n")] = '\0';
			memmove(lb->buf, lb->buf + l, lb->len - l);
			lb->len -= l;
			return 0;
		}
		left = end - vstub_now_ms();
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -ETIMEDOUT;
		if (lb->len == sizeof(lb->buf))
			lb->len = 0;	/* an absurd line: drop it */
		n = read(lb->fd, lb->buf + lb->len, sizeof(lb->buf) - lb->len);
		if (n <= 0)
			return -EPIPE;
		lb->len += n;
	}
}

static inline int lb_send(struct linebuf *lb, const char *s)
{
	size_t len = strlen(s);

	return write(lb->fd, s, len) == (ssize_t)len ? 0 : -EIO;
}

static bool debug;	/* VSTUB_QEMU_DEBUG=1: show the qtest traffic */

/* A qtest line: interrupt notifications are recorded, others returned. */
static inline int qt_line(struct iq *q, char *out, size_t len, int ms)
{
	long end = vstub_now_ms() + ms;

	for (;;) {
		int ret = lb_line(&q->qt, out, len, end - vstub_now_ms());
		unsigned int n;

		if (ret)
			return ret;
		if (debug)
			fprintf(stderr, "# %ld qtest: %.80s\n", vstub_now_ms(), out);
		if (sscanf(out, "IRQ raise %u", &n) == 1 && n < 24) {
			q->irq_level[n] = 1;
			q->irq_raises[n]++;
		} else if (sscanf(out, "IRQ lower %u", &n) == 1 && n < 24) {
			q->irq_level[n] = 0;
		} else {
			return 0;
		}
	}
}

/* Process interrupt notifications for up to @ms. */
static inline void qt_pump(struct iq *q, int ms)
{
	char line[256];

	qt_line(q, line, sizeof(line), ms);
}

/* One qtest command; the value of its "OK 0x..." answer in @val. */
static inline int qt_cmd(struct iq *q, uint64_t *val, const char *fmt, ...)
{
	char cmd[2 * EDU_DMA_MAX + 128], line[16384];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	if (debug)
		fprintf(stderr, "# %ld qtest> %s\n", vstub_now_ms(), cmd);
	strcat(cmd, "\n");
	ret = lb_send(&q->qt, cmd);
	if (ret)
		return ret;
	ret = qt_line(q, line, sizeof(line), vstub_scaled(10000));
	if (ret)
		return ret;
	if (strncmp(line, "OK", 2))
		return -EIO;
	if (val)
		*val = strtoull(line + 2, NULL, 0);
	return 0;
}

static inline uint32_t in_readl(struct iq *q, uint64_t addr)
{
	uint64_t v = ~0ULL;

	qt_cmd(q, &v, "readl 0x%llx", (unsigned long long)addr);
	return v;
}

static inline void in_writel(struct iq *q, uint64_t addr, uint32_t v)
{
	qt_cmd(q, NULL, "writel 0x%llx 0x%x", (unsigned long long)addr, v);
}

static inline int in_write(struct iq *q, uint64_t addr, const uint8_t *buf,
		    size_t len)
{
	char hex[2 * EDU_DMA_MAX + 1];
	size_t i;

	if (len > EDU_DMA_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", buf[i]);
	return qt_cmd(q, NULL, "write 0x%llx 0x%zx 0x%s",
		      (unsigned long long)addr, len, hex);
}

static inline int in_read(struct iq *q, uint64_t addr, uint8_t *buf, size_t len)
{
	char cmd[128], line[16384], *p;
	size_t i;
	int ret;

	if (len > EDU_DMA_MAX)
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "read 0x%llx 0x%zx\n",
		 (unsigned long long)addr, len);
	ret = lb_send(&q->qt, cmd);
	if (!ret)
		ret = qt_line(q, line, sizeof(line), vstub_scaled(10000));
	if (ret)
		return ret;
	if (strncmp(line, "OK 0x", 5) || strlen(line + 5) < 2 * len)
		return -EIO;
	for (p = line + 5, i = 0; i < len; i++, p += 2) {
		unsigned int b;

		if (sscanf(p, "%2x", &b) != 1)
			return -EIO;
		buf[i] = b;
	}
	return 0;
}

/* Inner PCI config space through the 0xcf8/0xcfc mechanism. */
static inline uint32_t cfg_rd(struct iq *q, int bus, int dev, int off, int size)
{
	static const char *const op[] = { "", "inb", "inw", "", "inl" };
	uint64_t v = ~0ULL;

	qt_cmd(q, NULL, "outl 0xcf8 0x%x", 0x80000000U | bus << 16 |
	       dev << 11 | (off & 0xfc));
	qt_cmd(q, &v, "%s 0x%x", op[size], 0xcfc + (off & 3));
	return v;
}

static inline void cfg_wr(struct iq *q, int bus, int dev, int off, int size,
		   uint32_t val)
{
	static const char *const op[] = { "", "outb", "outw", "", "outl" };

	qt_cmd(q, NULL, "outl 0xcf8 0x%x", 0x80000000U | bus << 16 |
	       dev << 11 | (off & 0xfc));
	qt_cmd(q, NULL, "%s 0x%x 0x%x", op[size], 0xcfc + (off & 3), val);
}

/* Offset of capability @id of an inner device, or 0. */
static inline int cfg_cap(struct iq *q, int bus, int dev, int id)
{
	int pos = cfg_rd(q, bus, dev, PCI_CAPABILITY_LIST, 1) & 0xfc;
	int hops;

	for (hops = 0; pos && hops < 48; hops++) {
		if ((int)cfg_rd(q, bus, dev, pos, 1) == id)
			return pos;
		pos = cfg_rd(q, bus, dev, pos + 1, 1) & 0xfc;
	}
	return 0;
}

/* A QMP command; 0 on "return", -EIO on "error".  Events are recorded. */
static inline int qmp_line(struct iq *q, char *out, size_t len, int ms)
{
	int ret = lb_line(&q->qmp, out, len, ms);

	if (ret)
		return ret;
	if (strstr(out, "\"DEVICE_DELETED\"") && strstr(out, "\"dev0\""))
		q->deleted++;
	if (strstr(out, "\"event\": \"RESET\""))
		q->resets++;
	return 0;
}

static inline int qmp_cmd(struct iq *q, const char *json)
{
	char line[16384];
	int ret = lb_send(&q->qmp, json);

	while (!ret) {
		ret = qmp_line(q, line, sizeof(line), vstub_scaled(20000));
		if (ret)
			break;
		if (strstr(line, "\"return\""))
			return 0;
		if (strstr(line, "\"error\"")) {
			fprintf(stderr, "# QMP %s -> %s\n", json, line);
			return -EIO;
		}
	}
	return ret;
}

/* Wait up to @ms for @count DEVICE_DELETED events. */
static inline bool qmp_wait_deleted(struct iq *q, int count, int ms)
{
	long end = vstub_now_ms() + ms;
	char line[16384];

	while (q->deleted < count && vstub_now_ms() < end)
		qmp_line(q, line, sizeof(line), end - vstub_now_ms());
	return q->deleted >= count;
}

static inline int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	vstub_strlcpy(a.sun_path, path, sizeof(a.sun_path));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static inline int accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -ETIMEDOUT;
	return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* The inner BIOS: 64 KiB of 0xff with "hlt; jmp $-1" at the reset vector. */
static inline int write_bios(const char *path)
{
	static uint8_t img[BIOS_SIZE];
	int fd, ret = 0;

	memset(img, 0xff, sizeof(img));
	img[0xfff0] = 0xf4;	/* hlt */
	img[0xfff1] = 0xeb;	/* jmp */
	img[0xfff2] = 0xfd;	/* -3: back to the hlt */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, img, sizeof(img)) != sizeof(img))
		ret = -EIO;
	close(fd);
	return ret;
}

static inline void iq_init(struct iq *q)
{
	memset(q, 0, sizeof(*q));
	q->pid = -1;
	q->qt.fd = q->qmp.fd = -1;
}

/*
 * Start QEMU with @device ("vfio-pci,host=BDF" or, dry run, "edu") behind
 * a root port, qtest and QMP on sockets in a fresh directory.
 */
static inline int iq_start(struct iq *q, const char *device)
{
	char qt[96], qmp[96], bios[96], qtarg[128], qmparg[160], dev[128];
	int lqt = -1, lqmp = -1, ret, out;
	char line[4096];

	snprintf(q->dir, sizeof(q->dir), "/tmp/vstub-qemu.XXXXXX");
	if (!mkdtemp(q->dir))
		return -errno;
	snprintf(qt, sizeof(qt), "%s/qtest", q->dir);
	snprintf(qmp, sizeof(qmp), "%s/qmp", q->dir);
	snprintf(bios, sizeof(bios), "%s/bios.bin", q->dir);
	snprintf(q->err, sizeof(q->err), "%s/stderr", q->dir);
	ret = write_bios(bios);
	if (ret)
		return ret;
	lqt = listen_on(qt);
	lqmp = listen_on(qmp);
	if (lqt < 0 || lqmp < 0) {
		ret = lqt < 0 ? lqt : lqmp;
		goto out;
	}
	snprintf(qtarg, sizeof(qtarg), "unix:%s", qt);
	snprintf(qmparg, sizeof(qmparg), "socket,id=qmp,path=%s", qmp);
	snprintf(dev, sizeof(dev), "%s,id=dev0,bus=rp0", device);
	out = open(q->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		ret = -errno;
		goto out;
	}
	q->pid = fork();
	if (q->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out, 1);
		dup2(out, 2);
		execl(QEMU_BIN, QEMU_BIN, "-machine", "q35,pit=off,hpet=off", "-accel", "tcg",
		      "-nodefaults", "-display", "none", "-m", "16M",
		      "-bios", bios, "-qtest", qtarg, "-qtest-log", "none",
		      "-chardev", qmparg, "-mon", "chardev=qmp,mode=control",
		      "-global",
		      "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
		      "-device",
		      "pcie-root-port,id=rp0,chassis=1,slot=1,bus=pcie.0,addr=2",
		      "-device", dev, (char *)NULL);
		_exit(127);
	}
	close(out);
	if (q->pid < 0) {
		ret = -errno;
		goto out;
	}
	q->qt.fd = accept_within(lqt, vstub_scaled(60000));
	q->qmp.fd = accept_within(lqmp, vstub_scaled(60000));
	if (q->qt.fd < 0 || q->qmp.fd < 0) {
		ret = -ETIMEDOUT;
		goto out;
	}
	/* QMP greeting, then capabilities negotiation. */
	ret = qmp_line(q, line, sizeof(line), vstub_scaled(60000));
	if (!ret)
		ret = qmp_cmd(q, "{\"execute\": \"qmp_capabilities\"}\n");
	if (!ret)
		ret = qt_cmd(q, NULL, "irq_intercept_in ioapic");
out:
	if (lqt >= 0)
		close(lqt);
	if (lqmp >= 0)
		close(lqmp);
	return ret;
}

/* Quit through QMP (SIGKILL if it does not end); QEMU's exit status. */
static inline int iq_stop(struct iq *q)
{
	int status = -1, i;

	if (q->pid > 0) {
		if (q->qmp.fd >= 0)
			qmp_cmd(q, "{\"execute\": \"quit\"}\n");
		for (i = 0; i < vstub_scaled(200); i++) {
			if (waitpid(q->pid, &status, WNOHANG) == q->pid)
				break;
			vstub_msleep(50);
		}
		if (i == vstub_scaled(200)) {
			kill(q->pid, SIGKILL);
			waitpid(q->pid, &status, 0);
		}
		q->pid = -1;
	}
	if (q->qt.fd >= 0)
		close(q->qt.fd);
	if (q->qmp.fd >= 0)
		close(q->qmp.fd);
	q->qt.fd = q->qmp.fd = -1;
	return status;
}

/* QEMU's stderr; NULL when empty.  Free it. */
static inline char *iq_stderr(struct iq *q)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = fopen(q->err, "r");

	if (!f)
		return strdup("(no stderr file)");
	if (getdelim(&buf, &len, '\0', f) <= 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static inline void iq_cleanup(struct iq *q)
{
	char path[160];

	iq_stop(q);
	if (!q->dir[0])
		return;
	snprintf(path, sizeof(path), "%s/bios.bin", q->dir);
	unlink(path);
	unlink(q->err);
	snprintf(path, sizeof(path), "%s/qtest", q->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/qmp", q->dir);
	unlink(path);
	rmdir(q->dir);
	q->dir[0] = '\0';
}

/*
 * What an inner firmware would do: bus numbers and a memory window for the
 * root port, edu's BAR0 at IN_BAR, memory decode and bus mastering on.
 * 0, or -ENODEV when the inner config space is not what QEMU should show.
 */
static inline int inner_setup(struct iq *q)
{
	uint32_t id;

	id = cfg_rd(q, 0, RP_DEV, PCI_VENDOR_ID, 4);
	if (id != 0x000c1b36) {
		fprintf(stderr, "# inner root port reads %#x\n", id);
		return -ENODEV;
	}
	cfg_wr(q, 0, RP_DEV, PCI_PRIMARY_BUS, 4, 0x00010100);
	cfg_wr(q, 0, RP_DEV, PCI_IO_BASE, 2, 0x00f0);		/* closed */
	cfg_wr(q, 0, RP_DEV, PCI_MEMORY_BASE, 4,
	       (IN_BAR >> 16) | (IN_BAR & 0xfff00000U));
	cfg_wr(q, 0, RP_DEV, PCI_PREF_MEMORY_BASE, 4, 0x0000fff0); /* closed */
	cfg_wr(q, 0, RP_DEV, PCI_COMMAND, 2,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	q->rp_exp = cfg_cap(q, 0, RP_DEV, PCI_CAP_ID_EXP);
	id = cfg_rd(q, 1, 0, PCI_VENDOR_ID, 4);
	if (id != ((uint32_t)EDU_DEVICE << 16 | EDU_VENDOR)) {
		fprintf(stderr, "# inner 01:00.0 reads %#x\n", id);
		return -ENODEV;
	}
	cfg_wr(q, 1, 0, PCI_BASE_ADDRESS_0, 4, IN_BAR);
	cfg_wr(q, 1, 0, PCI_COMMAND, 2,
	       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return 0;
}

/* One edu DMA through the inner BAR; 0 or -ETIMEDOUT. */
static inline int inner_dma(struct iq *q, uint32_t src, uint32_t dst, uint32_t len,
		     bool to_ram)
{
	long end = vstub_now_ms() + vstub_scaled(10000);

	in_writel(q, IN_BAR + EDU_REG_DMA_SRC, src);
	in_writel(q, IN_BAR + EDU_REG_DMA_DST, dst);
	in_writel(q, IN_BAR + EDU_REG_DMA_COUNT, len);
	in_writel(q, IN_BAR + EDU_REG_DMA_CMD,
		  EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
	while (vstub_now_ms() < end) {
		if (!(in_readl(q, IN_BAR + EDU_REG_DMA_CMD) & EDU_DMA_START))
			return 0;
		vstub_msleep(20);
	}
	return -ETIMEDOUT;
}

/* RAM -> edu -> RAM with a pattern seeded by @seed; 0 when it came back. */
static inline int inner_roundtrip(struct iq *q, int seed)
{
	uint8_t pat[DMA_LEN], back[DMA_LEN];
	int i, ret;

	for (i = 0; i < DMA_LEN; i++)
		pat[i] = (uint8_t)(i * 7 + seed);
	memset(back, 0, sizeof(back));
	ret = in_write(q, IN_SRC, pat, DMA_LEN);
	if (!ret)
		ret = in_write(q, IN_DST, back, DMA_LEN);
	if (!ret)
		ret = inner_dma(q, IN_SRC, EDU_DEV_BUF, DMA_LEN, false);
	if (!ret)
		ret = inner_dma(q, EDU_DEV_BUF, IN_DST, DMA_LEN, true);
	if (!ret)
		ret = in_read(q, IN_DST, back, DMA_LEN);
	if (!ret && memcmp(pat, back, DMA_LEN))
		ret = -EILSEQ;
	return ret;
}

/*
 * The PCI interrupt (I/O APIC inputs 16-23, where q35 routes PIRQ A-H)
 * that has been raised @count times; -1: none yet.  Inputs below 16 are
 * the legacy ISA ones (the PIT ticks on 0).
 */
static inline int irq_with(struct iq *q, int count)
{
	int i;

	for (i = 16; i < 24; i++)
		if (q->irq_raises[i] >= count)
			return i;
	return -1;
}

static inline bool wait_irq_raises(struct iq *q, int count, int ms)
{
	long end = vstub_now_ms() + ms;

	while (irq_with(q, count) < 0 && vstub_now_ms() < end)
		qt_pump(q, 50);
	return irq_with(q, count) >= 0;
}

static inline bool wait_irq_low(struct iq *q, int irq, int ms)
{
	long end = vstub_now_ms() + ms;

	while (q->irq_level[irq] && vstub_now_ms() < end)
		qt_pump(q, 50);
	return !q->irq_level[irq];
}

static inline int total_raises(struct iq *q)
{
	int i, n = 0;

	for (i = 16; i < 24; i++)
		n += q->irq_raises[i];
	return n;
}

/*
 * The inner "guest" side of a native PCIe hot-unplug: wait up to @ms for
 * QEMU to press the root port's attention button, then power the slot
 * off (power indicator off), which lets QEMU delete the device.
 */
static inline int inner_ack_unplug(struct iq *q, int ms)
{
	long end = vstub_now_ms() + ms;
	uint32_t ctl;

	if (!q->rp_exp)
		return -ENODEV;
	while (!(cfg_rd(q, 0, RP_DEV, q->rp_exp + PCI_EXP_SLTSTA, 2) &
		 PCI_EXP_SLTSTA_ABP)) {
		if (vstub_now_ms() > end)
			return -ETIMEDOUT;
		vstub_msleep(50);
	}
	ctl = cfg_rd(q, 0, RP_DEV, q->rp_exp + PCI_EXP_SLTCTL, 2);
	ctl |= PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PIC;	/* PIC 11b: off */
	cfg_wr(q, 0, RP_DEV, q->rp_exp + PCI_EXP_SLTCTL, 2, ctl);
	cfg_wr(q, 0, RP_DEV, q->rp_exp + PCI_EXP_SLTSTA, 2, PCI_EXP_SLTSTA_ABP);
	return 0;
}

#endif /* _VSTUB_QEMU_INNER_H */
