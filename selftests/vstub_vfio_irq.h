/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_vfio_irq.h - what the interrupt tests (vstub_vfio_irq_test: the
 * ioctls, each interrupt type, reset and REQ; vstub_vfio_irq_life_test:
 * teardown on every exit path, churn, isolation) share: interrupt counts
 * from /proc/interrupts, eventfds, GET_IRQ_INFO, the virtual command
 * register, and the fixture with edu open through vstub.  Include after
 * kselftest_harness.h.
 */
#ifndef _VSTUB_VFIO_IRQ_H
#define _VSTUB_VFIO_IRQ_H

#include "vstub_test.h"
#include "vstub_vfio_util.h"

#define BDF_LEN		32
#define PG		4096UL
#define IOVA_A		0x100000ULL
#define IRQ_MS		5000	/* TCG is slow: an interrupt may take a while */
#define QUIET_MS	400	/* how long "no interrupt" is watched for */
#define UNSAFE_PARAM	"/sys/module/vstub/parameters/allow_unsafe_interrupts"

/* ---- helpers ------------------------------------------------------------ */

/* Lines of /proc/interrupts naming @what (e.g. "vstub-"). */
static inline int irq_lines(const char *what)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	int n = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

/* The interrupt number of the /proc/interrupts line naming @what, or -1. */
static inline int irq_of(const char *what)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	int irq = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what)) {
			irq = atoi(line);
			break;
		}
	fclose(f);
	return irq;
}

/* Wait up to @ms for the count of @what lines to become @want. */
static inline int irq_lines_settle(const char *what, int want, int ms)
{
	int n;

	while ((n = irq_lines(what)) != want && ms > 0) {
		vstub_msleep(50);
		ms -= 50;
	}
	return n;
}

static inline int new_efd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static inline int get_irq_info(int device, unsigned int index,
			struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, info) ? -errno : 0;
}

/* The command register: as userspace sees it, and as the device has it. */
static inline uint16_t cmd_virt(int device)
{
	uint16_t cmd = 0xffff;

	vfio_cfg_read(device, PCI_COMMAND, &cmd, sizeof(cmd));
	return cmd;
}

static inline int cfg_write16(int device, unsigned int off, uint16_t val)
{
	return vfio_cfg_write(device, off, &val, sizeof(val));
}

/* ---- the fixture: edu open through vstub, DMA enabled ------------------- */

FIXTURE(irq)
{
	char edu[BDF_LEN];
	char mark[128];
	struct vfio_ctx v;
	int efd[6];
};

FIXTURE_SETUP(irq)
{
	int i;

	vfio_ctx_init(&self->v);
	for (i = 0; i < 6; i++) {
		self->efd[i] = new_efd();
		ASSERT_GE(self->efd[i], 0);
	}
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, self->edu, BDF_LEN));
	ASSERT_EQ(0, vstub_load_edu(NULL, false, self->edu));
	ASSERT_EQ(0, kmsg_mark(self->mark, sizeof(self->mark)));
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_enable_dma(self->v.device));
}

FIXTURE_TEARDOWN(irq)
{
	int i;

	vfio_ctx_close(&self->v);
	for (i = 0; i < 6; i++)
		close(self->efd[i]);
	vstub_unload_if_loaded();
	/* Whatever happened, no handler may outlive the module. */
	EXPECT_EQ(0, irq_lines("vstub-"));
}

/* Milliseconds from @t0 to @t1. */
static inline long ms_since(const struct timespec *t0,
			    const struct timespec *t1)
{
	return (t1->tv_sec - t0->tv_sec) * 1000 +
	       (t1->tv_nsec - t0->tv_nsec) / 1000000;
}

#endif /* _VSTUB_VFIO_IRQ_H */
