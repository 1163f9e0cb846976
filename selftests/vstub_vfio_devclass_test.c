// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_devclass_test - the classes of device people assign, each
 * taken from its host driver, used through VFIO with real DMA and
 * interrupts, and given back to a host driver that works again; against
 * vstub and vfio-pci (see vstub_vfio_class.h; VGA: vstub_vfio_vga_test):
 *
 *   sata               ich9-ahci with a disk: the disk leaves the host at
 *                      capture; IDENTIFY (QEMU's serial) and READ DMA EXT
 *                      (a sector the host wrote) and WRITE DMA EXT through
 *                      a command list in mapped memory; after release the
 *                      host reads the sector VFIO wrote
 *   usb                qemu-xhci with a keyboard: the keyboard leaves the
 *                      host; a No Op command through a command ring, its
 *                      completion event in the event ring and an MSI-X
 *                      interrupt; the keyboard enumerates again on release
 *   nic_traffic_after_release  e1000e on QEMU's user network: a register
 *                      through VFIO, then traffic to the gateway after the
 *                      release
 *
 * Runs as root in a QEMU guest of selftests/run (selftests/lib/vm.sh has
 * the devices).
 */
#include "kselftest_harness.h"
#include "vstub_vfio_class.h"

/* ---- SATA: ich9-ahci with a disk ------------------------------------------ */

#define AHCI_BAR		5
#define AHCI_GHC		0x04
#define AHCI_GHC_HR		0x1
#define AHCI_GHC_AE		0x80000000U
#define AHCI_PI			0x0c
#define AHCI_P0			0x100	/* port 0's registers */
#define PX_CLB			0x00
#define PX_CLBU			0x04
#define PX_FB			0x08
#define PX_FBU			0x0c
#define PX_IS			0x10
#define PX_CMD			0x18
#define PX_CMD_ST		0x0001
#define PX_CMD_SUD		0x0002
#define PX_CMD_POD		0x0004
#define PX_CMD_FRE		0x0010
#define PX_CMD_FR		0x4000
#define PX_CMD_CR		0x8000
#define PX_TFD			0x20
#define PX_SERR			0x30
#define PX_CI			0x38
#define ATA_IDENTIFY		0xec
#define ATA_READ_DMA_EXT	0x25
#define ATA_WRITE_DMA_EXT	0x35
#define SATA_SERIAL		"vstub-sata"	/* selftests/lib/vm.sh */
#define SATA_IOVA		0x200000ULL
#define SATA_MEM		0x10000
#define SATA_LBA_HOST		8	/* the host writes, VFIO reads */
#define SATA_LBA_VFIO		9	/* VFIO writes, the host reads */

/* The block device ("sda") of the disk behind AHCI function @bdf. */
static int sata_disk(const char *bdf, char *name, size_t len)
{
	char path[600], link[512], needle[64];
	struct dirent *e;
	int ret = -ENOENT;
	DIR *d = opendir("/sys/block");
	ssize_t n;

	if (!d)
		return -errno;
	snprintf(needle, sizeof(needle), "/%s/", bdf);
	while (ret && (e = readdir(d))) {
		if (strncmp(e->d_name, "sd", 2))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		if (strstr(link, needle)) {
			vstub_strlcpy(name, e->d_name, len);
			ret = 0;
		}
	}
	closedir(d);
	return ret;
}

/* Wait for that block device and its node in /dev. */
static bool sata_disk_wait(const char *bdf, char *name, size_t len, int ms)
{
	char node[64];

	for (; ms > 0; ms -= 100) {
		if (!sata_disk(bdf, name, len)) {
			int fd;

			/* The node opens only once sd is done with it. */
			snprintf(node, sizeof(node), "/dev/%s", name);
			fd = open(node, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				return true;
			}
		}
		vstub_msleep(100);
	}
	return false;
}

/* One 512-byte sector of the host's block device @name, O_DIRECT. */
static int host_sector(const char *name, unsigned int lba, uint8_t *buf,
		       bool write)
{
	char path[64];
	void *al;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (posix_memalign(&al, 4096, 4096)) {
		close(fd);
		return -ENOMEM;
	}
	if (write)
		memcpy(al, buf, 512);
	n = write ? pwrite(fd, al, 512, lba * 512ULL) :
		    pread(fd, al, 512, lba * 512ULL);
	if (!write)
		memcpy(buf, al, 512);
	if (write && fsync(fd))
		n = -1;
	free(al);
	close(fd);
	return n == 512 ? 0 : -EIO;
}

static void sector_pattern(uint8_t *buf, uint8_t seed)
{
	int i;

	for (i = 0; i < 512; i++)
		buf[i] = seed ^ (i * 13);
}

struct ahci {
	volatile uint8_t *abar;
	size_t abar_size;
	uint8_t *mem;		/* SATA_MEM bytes at SATA_IOVA */
};

/*
 * Memory at SATA_IOVA: command list +0 (slot 0), received FISes +0x1000,
 * command table +0x2000 (FIS, then one PRD at +0x80), data +0x3000.
 */
static int ahci_start(struct ahci *a)
{
	uint32_t p = AHCI_P0;

	wr32(a->abar, AHCI_GHC, AHCI_GHC_HR);
	if (!wait32(a->abar, AHCI_GHC, AHCI_GHC_HR, 0, 1000))
		return -ETIMEDOUT;
	wr32(a->abar, AHCI_GHC, AHCI_GHC_AE);
	if (!(rd32(a->abar, AHCI_PI) & 1))
		return -ENODEV;
	wr32(a->abar, p + PX_CMD, 0);
	if (!wait32(a->abar, p + PX_CMD, PX_CMD_CR | PX_CMD_FR, 0, 1000))
		return -ETIMEDOUT;
	wr32(a->abar, p + PX_CLB, (uint32_t)SATA_IOVA);
	wr32(a->abar, p + PX_CLBU, (uint32_t)(SATA_IOVA >> 32));
	wr32(a->abar, p + PX_FB, (uint32_t)(SATA_IOVA + 0x1000));
	wr32(a->abar, p + PX_FBU, (uint32_t)((SATA_IOVA + 0x1000) >> 32));
	wr32(a->abar, p + PX_SERR, 0xffffffff);
	wr32(a->abar, p + PX_IS, 0xffffffff);
	wr32(a->abar, p + PX_CMD, PX_CMD_FRE | PX_CMD_SUD | PX_CMD_POD);
	wr32(a->abar, p + PX_CMD, PX_CMD_FRE | PX_CMD_SUD | PX_CMD_POD |
		PX_CMD_ST);
	/* BSY and DRQ clear: the disk is ready for a command. */
	return wait32(a->abar, p + PX_TFD, 0x88, 0, 2000) ? 0 : -ETIMEDOUT;
}

/* One ATA command through slot 0 with @len bytes of data at +0x3000. */
static int ahci_cmd(struct ahci *a, uint8_t cmd, uint64_t lba, bool write,
		    uint32_t len)
{
	uint32_t *hdr = (uint32_t *)a->mem;
	uint8_t *fis = a->mem + 0x2000;
	uint32_t *prd = (uint32_t *)(a->mem + 0x2080);
	uint64_t tbl = SATA_IOVA + 0x2000, data = SATA_IOVA + 0x3000;

	memset(hdr, 0, 32);
	memset(fis, 0, 0x90);
	hdr[0] = 5 | (write ? 1 << 6 : 0) | (1 << 16);	/* CFL 5, 1 PRD */
	hdr[2] = (uint32_t)tbl;
	hdr[3] = (uint32_t)(tbl >> 32);
	fis[0] = 0x27;			/* host to device register FIS */
	fis[1] = 0x80;			/* a command */
	fis[2] = cmd;
	fis[4] = lba;
	fis[5] = lba >> 8;
	fis[6] = lba >> 16;
	fis[7] = 0x40;			/* LBA mode */
	fis[8] = lba >> 24;
	fis[9] = lba >> 32;
	fis[10] = lba >> 40;
	fis[12] = cmd == ATA_IDENTIFY ? 0 : 1;	/* one sector */
	prd[0] = (uint32_t)data;
	prd[1] = (uint32_t)(data >> 32);
	prd[3] = len - 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr32(a->abar, AHCI_P0 + PX_IS, 0xffffffff);
	wr32(a->abar, AHCI_P0 + PX_CI, 1);
	if (!wait32(a->abar, AHCI_P0 + PX_CI, 1, 0, 5000))
		return -ETIMEDOUT;
	if (rd32(a->abar, AHCI_P0 + PX_TFD) & 0x01)	/* ERR */
		return -EIO;
	return hdr[1] == len ? 0 : -EIO;	/* PRDBC: bytes moved */
}

/* IDENTIFY's string words (byte-swapped), trailing spaces dropped. */
static void ata_string(const uint8_t *id, int word, int words, char *out)
{
	int i;

	for (i = 0; i < words * 2; i += 2) {
		out[i] = id[word * 2 + i + 1];
		out[i + 1] = id[word * 2 + i];
	}
	out[words * 2] = '\0';
	for (i = words * 2 - 1; i >= 0 && out[i] == ' '; i--)
		out[i] = '\0';
}

TEST_F_TIMEOUT(cls, sata, 180)
{
	uint8_t host[512], got[512], mine[512];
	char bdf[BDF_LEN], disk[32], serial[24], model[48];
	struct ahci a = { 0 };
	struct vfio_region_info ri;
	int i;

	/* The added ich9-ahci, not the chipset's 00:1f.2. */
	for (i = 0; !pci_find(AHCI_VENDOR, AHCI_DEVICE, i, bdf, BDF_LEN); i++)
		if (strcmp(bdf, "0000:00:1f.2"))
			break;
	ASSERT_NE(0, strcmp(bdf, "0000:00:1f.2"));
	ASSERT_TRUE(sata_disk_wait(bdf, disk, sizeof(disk), 10000))
		TH_LOG("no disk behind %s on the host", bdf);
	sector_pattern(host, 0x5a);
	ASSERT_EQ(0, host_sector(disk, SATA_LBA_HOST, host, true));

	ASSERT_EQ(0, take(self, variant, bdf, "ahci"));
	EXPECT_NE(0, sata_disk(self->bdf, disk, sizeof(disk)))
		TH_LOG("the disk is still on the host after the capture");

	ASSERT_EQ(0, region_info(self->v.device, AHCI_BAR, &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	a.abar_size = ri.size;
	a.abar = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      self->v.device, ri.offset);
	ASSERT_NE(MAP_FAILED, a.abar);
	a.mem = mmap(NULL, SATA_MEM, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.mem);
	memset(a.mem, 0, SATA_MEM);
	ASSERT_EQ(0, vfio_map(self->v.container, a.mem, SATA_IOVA, SATA_MEM,
			      VFIO_RW));

	ASSERT_EQ(0, ahci_start(&a));
	/* IDENTIFY DEVICE: the disk QEMU was given. */
	ASSERT_EQ(0, ahci_cmd(&a, ATA_IDENTIFY, 0, false, 512));
	ata_string(a.mem + 0x3000, 10, 10, serial);
	ata_string(a.mem + 0x3000, 27, 20, model);
	EXPECT_STREQ(SATA_SERIAL, serial);
	EXPECT_EQ(0, strncmp(model, "QEMU HARDDISK", 13)) TH_LOG("model '%s'", model);
	/* READ DMA EXT: what the host wrote before the capture. */
	memset(a.mem + 0x3000, 0, 512);
	ASSERT_EQ(0, ahci_cmd(&a, ATA_READ_DMA_EXT, SATA_LBA_HOST, false, 512));
	EXPECT_EQ(0, memcmp(host, a.mem + 0x3000, 512));
	/* WRITE DMA EXT: for the host to read after the release. */
	sector_pattern(mine, 0xc3);
	memcpy(a.mem + 0x3000, mine, 512);
	ASSERT_EQ(0, ahci_cmd(&a, ATA_WRITE_DMA_EXT, SATA_LBA_VFIO, true, 512));
	wr32(a.abar, AHCI_P0 + PX_CMD, 0);
	wait32(a.abar, AHCI_P0 + PX_CMD, PX_CMD_CR | PX_CMD_FR, 0, 1000);
	EXPECT_EQ(SATA_MEM, vfio_unmap(self->v.container, SATA_IOVA, SATA_MEM,
				       0));
	munmap((void *)a.abar, a.abar_size);
	munmap(a.mem, SATA_MEM);

	/* Back on the host: ahci probes it, the disk is there with our data. */
	ASSERT_TRUE(give_back(self, variant));
	ASSERT_TRUE(sata_disk_wait(self->bdf, disk, sizeof(disk), 15000))
		TH_LOG("the disk did not come back on the host");
	ASSERT_EQ(0, host_sector(disk, SATA_LBA_VFIO, got, false));
	EXPECT_EQ(0, memcmp(mine, got, 512));
	ASSERT_EQ(0, host_sector(disk, SATA_LBA_HOST, got, false));
	EXPECT_EQ(0, memcmp(host, got, 512));
	self->bdf[0] = '\0';
}

/* ---- USB: qemu-xhci with a keyboard --------------------------------------- */

#define USB_KBD_PRODUCT		"QEMU USB Keyboard"
#define XHCI_IOVA		0x300000ULL
#define XHCI_MEM		0x4000	/* DCBAA +0, commands +0x1000,
					 * events +0x2000, ERST +0x3000 */
#define TRB_NOOP_CMD		23
#define TRB_CMD_COMPLETION	33
#define TRB_TYPE(t)		((t) << 10)

/* Is a device with product @product on one of @bdf's USB buses? */
static bool usb_has_product(const char *bdf, const char *product)
{
	char path[1200], buf[128];
	struct dirent *bus, *dev;
	DIR *pd, *bd;
	bool found = false;

	snprintf(path, sizeof(path), "%s/%s", PCI_DEVICES_DIR, bdf);
	pd = opendir(path);
	if (!pd)
		return false;
	while (!found && (bus = readdir(pd))) {
		if (strncmp(bus->d_name, "usb", 3))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", PCI_DEVICES_DIR, bdf,
			 bus->d_name);
		bd = opendir(path);
		if (!bd)
			continue;
		while (!found && (dev = readdir(bd))) {
			if (!strchr(dev->d_name, '-') || strchr(dev->d_name, ':'))
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s/%s/product",
				 PCI_DEVICES_DIR, bdf, bus->d_name, dev->d_name);
			found = sysfs_read(path, buf, sizeof(buf)) > 0 &&
				!strncmp(buf, product, strlen(product));
		}
		closedir(bd);
	}
	closedir(pd);
	return found;
}

static bool usb_wait_product(const char *bdf, const char *product, int ms)
{
	for (; ms > 0; ms -= 100) {
		if (usb_has_product(bdf, product))
			return true;
		vstub_msleep(100);
	}
	return false;
}

TEST_F_TIMEOUT(cls, usb, 180)
{
	volatile uint8_t *bar, *op, *rt, *db;
	uint32_t caplen, dboff, rtsoff, hcs1, *trb;
	size_t map_len;
	struct vfio_region_info ri;
	char bdf[BDF_LEN];
	uint8_t *mem;
	int efd, i;

	ASSERT_EQ(0, pci_find(XHCI_VENDOR, XHCI_DEVICE, 0, bdf, BDF_LEN));
	ASSERT_TRUE(usb_wait_product(bdf, USB_KBD_PRODUCT, 10000))
		TH_LOG("no '%s' behind %s on the host", USB_KBD_PRODUCT, bdf);
	ASSERT_EQ(0, take(self, variant, bdf, "xhci_hcd"));
	EXPECT_FALSE(usb_has_product(bdf, USB_KBD_PRODUCT))
		TH_LOG("the keyboard is still on the host after the capture");

	/*
	 * The capability registers through read(); then mmap only up to the
	 * doorbells and runtime registers: the MSI-X table behind them is
	 * not mappable without isolated MSIs (sparse mmap).
	 */
	ASSERT_EQ(0, region_info(self->v.device, 0, &ri));
	ASSERT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_EQ(4, region_rw(self->v.device, 0, 0, &caplen, 4, false));
	EXPECT_EQ(0x0100, caplen >> 16);		/* HCIVERSION 1.0 */
	caplen &= 0xff;
	ASSERT_EQ(4, region_rw(self->v.device, 0, 0x14, &dboff, 4, false));
	ASSERT_EQ(4, region_rw(self->v.device, 0, 0x18, &rtsoff, 4, false));
	dboff &= ~0x3U;
	rtsoff &= ~0x1fU;
	map_len = (dboff > rtsoff ? dboff + 4 : rtsoff + 0x40) + 4095;
	map_len &= ~(size_t)4095;
	ASSERT_GE(ri.size, map_len);
	bar = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->v.device, ri.offset);
	ASSERT_NE(MAP_FAILED, bar);
	hcs1 = rd32(bar, 4);
	EXPECT_NE(0, hcs1 & 0xff);			/* MaxSlots */
	EXPECT_NE(0, hcs1 >> 24);			/* MaxPorts */
	op = bar + caplen;
	rt = bar + rtsoff;
	db = bar + dboff;

	mem = mmap(NULL, XHCI_MEM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0, XHCI_MEM);
	ASSERT_EQ(0, vfio_map(self->v.container, mem, XHCI_IOVA, XHCI_MEM,
			      VFIO_RW));

	/* MSI-X vector 0 (interrupter 0) to an eventfd. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vfio_irq_set_fds(self->v.device,
				      VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &efd));

	/* Stop, reset, then one interrupter with a one-segment event ring. */
	wr32(op, 0x00, 0);
	ASSERT_TRUE(wait32(op, 0x04, 0x1, 0x1, 1000));		/* HCHalted */
	wr32(op, 0x00, 0x2);					/* HCRST */
	ASSERT_TRUE(wait32(op, 0x00, 0x2, 0, 1000));
	ASSERT_TRUE(wait32(op, 0x04, 0x800, 0, 1000));		/* !CNR */
	wr32(op, 0x38, 1);					/* CONFIG */
	wr64(op, 0x30, XHCI_IOVA);				/* DCBAAP */
	wr64(op, 0x18, (XHCI_IOVA + 0x1000) | 1);		/* CRCR, RCS */
	trb = (uint32_t *)(mem + 0x3000);			/* ERST[0] */
	trb[0] = (uint32_t)(XHCI_IOVA + 0x2000);
	trb[1] = (uint32_t)((XHCI_IOVA + 0x2000) >> 32);
	trb[2] = 16;
	wr32(rt, 0x28, 1);					/* ERSTSZ */
	wr64(rt, 0x38, XHCI_IOVA + 0x2000);			/* ERDP */
	wr64(rt, 0x30, XHCI_IOVA + 0x3000);			/* ERSTBA */
	wr32(rt, 0x24, 0);					/* IMOD */
	wr32(rt, 0x20, 0x3);					/* IMAN: IP, IE */
	wr32(op, 0x00, 0x1 | 0x4);				/* RUN, INTE */
	ASSERT_TRUE(wait32(op, 0x04, 0x1, 0, 1000));

	/* A No Op command: read from our ring, completed into our events. */
	trb = (uint32_t *)(mem + 0x1000);
	trb[3] = TRB_TYPE(TRB_NOOP_CMD) | 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr32(db, 0, 0);
	EXPECT_LT(0, eventfd_wait(efd, 5000))
		TH_LOG("no MSI-X interrupt for the command completion");
	trb = (uint32_t *)(mem + 0x2000);
	/* Events the controller wrote have cycle bit 1; ours is among them. */
	for (i = 0; i < 16 && (trb[i * 4 + 3] & 1); i++)
		if (((trb[i * 4 + 3] >> 10) & 0x3f) == TRB_CMD_COMPLETION)
			break;
	ASSERT_TRUE(i < 16 && (trb[i * 4 + 3] & 1))
		TH_LOG("no command completion event in the ring");
	EXPECT_EQ(XHCI_IOVA + 0x1000, trb[i * 4] |
		  (uint64_t)trb[i * 4 + 1] << 32);		/* our TRB */
	EXPECT_EQ(1, trb[i * 4 + 2] >> 24);			/* Success */

	/* Stop and give everything back. */
	wr32(op, 0x00, 0);
	wait32(op, 0x04, 0x1, 0x1, 1000);
	wr32(op, 0x00, 0x2);
	wait32(op, 0x00, 0x2, 0, 1000);
	EXPECT_EQ(0, vfio_irq_set_none(self->v.device, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	close(efd);
	EXPECT_EQ(XHCI_MEM, vfio_unmap(self->v.container, XHCI_IOVA, XHCI_MEM,
				       0));
	munmap((void *)bar, map_len);
	munmap(mem, XHCI_MEM);

	/* Back on the host: xhci_hcd probes it and the keyboard enumerates. */
	ASSERT_TRUE(give_back(self, variant));
	EXPECT_TRUE(usb_wait_product(self->bdf, USB_KBD_PRODUCT, 15000))
		TH_LOG("the keyboard did not come back on the host");
	self->bdf[0] = '\0';
}

/* ---- NIC: e1000e, on QEMU's user network ---------------------------------- */

#define E1000_STATUS		0x08
#define NIC_GATEWAY		"10.0.2.2"	/* QEMU's user network */

/* The network interface of @bdf ("eth0"), or -ENOENT. */
static int nic_ifname(const char *bdf, char *name, size_t len)
{
	char path[512];
	struct dirent *e;
	int ret = -ENOENT;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s/net", PCI_DEVICES_DIR, bdf);
	d = opendir(path);
	if (!d)
		return -errno;
	while (ret && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			vstub_strlcpy(name, e->d_name, len);
			ret = 0;
		}
	closedir(d);
	return ret;
}

static int run_cmd(const char *fmt, const char *a)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, a);
	return system(cmd);
}

/*
 * Does interface @ifname carry traffic?  Up with QEMU's guest address,
 * the gateway answers a ping (or, where ICMP does not pass, an ARP
 * request) within ~10 s (the link comes up ~2 s after open).
 */
static bool nic_traffic(const char *ifname)
{
	int i;

	run_cmd("ip addr flush dev %s", ifname);
	if (run_cmd("ip addr add 10.0.2.15/24 dev %s", ifname) ||
	    run_cmd("ip link set dev %s up", ifname))
		return false;
	for (i = 0; i < 10; i++) {
		if (!system("ping -c 1 -W 1 " NIC_GATEWAY " >/dev/null 2>&1") ||
		    !run_cmd("arping -c 1 -w 1 -I %s " NIC_GATEWAY " >/dev/null 2>&1",
			     ifname))
			return true;
		vstub_msleep(500);
	}
	return false;
}

TEST_F_TIMEOUT(cls, nic_traffic_after_release, 180)
{
	char bdf[BDF_LEN], ifname[32];
	uint32_t status = 0;

	ASSERT_EQ(0, pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, bdf, BDF_LEN));
	ASSERT_TRUE(pci_wait_driver(bdf, "e1000e", 10000));
	ASSERT_EQ(0, nic_ifname(bdf, ifname, sizeof(ifname)));
	ASSERT_TRUE(nic_traffic(ifname))
		TH_LOG("%s carries no traffic before the test", ifname);
	run_cmd("ip link set dev %s down", ifname);

	ASSERT_EQ(0, take(self, variant, bdf, "e1000e"));
	EXPECT_NE(0, nic_ifname(bdf, ifname, sizeof(ifname)))
		TH_LOG("the interface is still on the host after the capture");
	ASSERT_EQ(4, region_rw(self->v.device, 0, E1000_STATUS, &status, 4,
			       false));
	EXPECT_NE(0xffffffffU, status);

	ASSERT_TRUE(give_back(self, variant));
	self->bdf[0] = '\0';
	ASSERT_EQ(0, nic_ifname(bdf, ifname, sizeof(ifname)))
		TH_LOG("e1000e is bound again but has no interface");
	EXPECT_TRUE(nic_traffic(ifname))
		TH_LOG("%s carries no traffic after the release", ifname);
	run_cmd("ip link set dev %s down", ifname);
}

TEST_HARNESS_MAIN
