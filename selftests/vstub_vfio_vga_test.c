// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_vga_test - a VGA device, as vfio-pci offers one: taken from
 * its host driver, its legacy ranges and ROM used through VFIO, given back
 * to a host driver that works again; against vstub and vfio-pci (see
 * vstub_vfio_class.h):
 *
 *   vga_legacy_ranges  QEMU's std VGA (1234:1111, host driver bochs-drm):
 *                      the VGA region's info (0xc0000 bytes, read/write),
 *                      the legacy I/O ports (the sequencer's and graphics
 *                      controller's index registers read back what was
 *                      written), the legacy memory window (chain-4 mode at
 *                      0xa0000: bytes read back; outside the 64 KiB window
 *                      the device decodes nothing: 0xff), holes -EINVAL,
 *                      an access ends short at its range's end
 *   vga_rom            the ROM region: the VGA BIOS (0x55 0xaa), read-only
 *   vga_host_back      after release bochs-drm binds again and its
 *                      connector lists modes (it talks to the device)
 *   no_vga_region      no VGA region on a non-VGA device (edu), and none
 *                      on the VGA device with disable_vga=1: GET_REGION_INFO
 *                      EINVAL, read/write EINVAL, as vfio-pci
 *
 * Runs as root in a QEMU guest of selftests/run (selftests/lib/vm.sh has
 * the devices).
 */
#include "kselftest_harness.h"
#include "vstub_vfio_class.h"

#define VGA_VENDOR	0x1234
#define VGA_DEVICE	0x1111
#define VGA_DRIVER	"bochs-drm"

/* Write @val to index register @port's register @idx, read it back. */
static int vga_indexed(int device, unsigned int port, uint8_t idx,
		       uint8_t val, uint8_t *back)
{
	if (region_rw(device, VFIO_PCI_VGA_REGION_INDEX, port, &idx, 1,
		      true) != 1 ||
	    region_rw(device, VFIO_PCI_VGA_REGION_INDEX, port + 1, &val, 1,
		      true) != 1)
		return -EIO;
	*back = 0;
	if (region_rw(device, VFIO_PCI_VGA_REGION_INDEX, port + 1, back, 1,
		      false) != 1)
		return -EIO;
	return 0;
}

/* Does @bdf have a DRM card whose connector lists at least one mode? */
static bool drm_card_has_modes(const char *bdf)
{
	char path[1200], buf[256];
	struct dirent *c, *k;
	bool found = false;
	DIR *cards, *conns;

	snprintf(path, sizeof(path), "%s/%s/drm", PCI_DEVICES_DIR, bdf);
	cards = opendir(path);
	if (!cards)
		return false;
	while (!found && (c = readdir(cards))) {
		if (strncmp(c->d_name, "card", 4) || strchr(c->d_name, '-'))
			continue;
		snprintf(path, sizeof(path), "%s/%s/drm/%s", PCI_DEVICES_DIR,
			 bdf, c->d_name);
		conns = opendir(path);
		if (!conns)
			continue;
		while (!found && (k = readdir(conns))) {
			if (strncmp(k->d_name, c->d_name, strlen(c->d_name)) ||
			    k->d_name[strlen(c->d_name)] != '-')
				continue;
			/* Probe it: without fbdev nothing else has. */
			snprintf(path, sizeof(path), "%s/%s/drm/%s/%s/status",
				 PCI_DEVICES_DIR, bdf, c->d_name, k->d_name);
			sysfs_write(path, "detect");
			snprintf(path, sizeof(path), "%s/%s/drm/%s/%s/modes",
				 PCI_DEVICES_DIR, bdf, c->d_name, k->d_name);
			found = sysfs_read(path, buf, sizeof(buf)) > 0;
		}
		closedir(conns);
	}
	closedir(cards);
	return found;
}

static bool drm_card_wait(const char *bdf, int ms)
{
	for (; ms > 0; ms -= 100) {
		if (drm_card_has_modes(bdf))
			return true;
		vstub_msleep(100);
	}
	return drm_card_has_modes(bdf);
}

/* ---- VGA ------------------------------------------------------------------ */

static int take_vga(FIXTURE_DATA(cls) *self,
		    const FIXTURE_VARIANT(cls) *variant,
		    struct __test_metadata *_metadata)
{
	char bdf[BDF_LEN];

	if (pci_find(VGA_VENDOR, VGA_DEVICE, 0, bdf, BDF_LEN))
		return -ENODEV;
	if (!drm_card_wait(bdf, 10000)) {
		TH_LOG("%s's DRM card lists no mode before the test", VGA_DRIVER);
		return -EIO;
	}
	if (take(self, variant, bdf, VGA_DRIVER))
		return -EIO;
	/* Taken from the host: its DRM card went with its driver. */
	return drm_card_has_modes(bdf) ? -EBUSY : 0;
}

/*
 * vfio-pci built without CONFIG_VFIO_PCI_VGA (the debug kernel; Debian's
 * kernels have it) offers no VGA region: no reference to compare with.
 */
#define VFIO_PCI_HAS_VGA	"/sys/module/vfio_pci/parameters/disable_vga"

#define TAKE_VGA() do {							\
	int _r;								\
	if (variant->vfio_pci && !path_exists(VFIO_PCI_HAS_VGA))	\
		SKIP(return, "vfio-pci was built without VGA support");	\
	_r = take_vga(self, variant, _metadata);			\
	if (_r == -ENODEV)						\
		SKIP(return, "no std VGA device in this guest");	\
	ASSERT_EQ(0, _r);						\
} while (0)

TEST_F_TIMEOUT(cls, vga_legacy_ranges, 120)
{
	struct vfio_region_info ri;
	uint8_t b = 0, pat[16], got[16], buf[32];
	uint8_t sr4, gr6;
	int dev, i;

	TAKE_VGA();
	dev = self->v.device;
	ASSERT_EQ(0, region_info(dev, VFIO_PCI_VGA_REGION_INDEX, &ri));
	EXPECT_EQ(0xc0000, ri.size);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		  ri.flags);
	EXPECT_EQ(REGION(VFIO_PCI_VGA_REGION_INDEX), ri.offset);

	/* I/O: index registers of the sequencer and graphics controller. */
	ASSERT_EQ(0, vga_indexed(dev, 0x3c4, 0x02, 0x0f, &b));	/* map mask */
	EXPECT_EQ(0x0f, b & 0x0f);
	ASSERT_EQ(1, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3c4, &b, 1,
			       false));
	EXPECT_EQ(0x02, b & 0x07);
	ASSERT_EQ(0, vga_indexed(dev, 0x3ce, 0x08, 0xa5, &b));	/* bit mask */
	EXPECT_EQ(0xa5, b);
	ASSERT_EQ(0, vga_indexed(dev, 0x3ce, 0x08, 0xff, &b));
	EXPECT_EQ(0xff, b);

	/* Memory: chain-4, the 64 KiB window at 0xa0000. */
	sr4 = 0x04;
	ASSERT_EQ(1, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3c4, &sr4, 1,
			       true));
	ASSERT_EQ(1, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3c5, &sr4, 1,
			       false));
	ASSERT_EQ(0, vga_indexed(dev, 0x3c4, 0x04, sr4 | 0x08, &b));
	gr6 = 0x06;
	ASSERT_EQ(1, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3ce, &gr6, 1,
			       true));
	ASSERT_EQ(1, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3cf, &gr6, 1,
			       false));
	ASSERT_EQ(0, vga_indexed(dev, 0x3ce, 0x06, (gr6 & ~0x0c) | 0x04, &b));
	for (i = 0; i < 16; i++)
		pat[i] = 0x31 + 7 * i;
	ASSERT_EQ(16, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0xa0100, pat,
				16, true));
	memset(got, 0, sizeof(got));
	ASSERT_EQ(16, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0xa0100, got,
				16, false));
	EXPECT_EQ(0, memcmp(pat, got, 16));
	/* 0xb8000 is outside that window: the device answers nothing. */
	memset(got, 0, sizeof(got));
	ASSERT_EQ(4, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0xb8000, got,
			       4, false));
	EXPECT_EQ(0xffffffffU, *(uint32_t *)got);
	/* Back to what the host driver had. */
	ASSERT_EQ(0, vga_indexed(dev, 0x3ce, 0x06, gr6, &b));
	ASSERT_EQ(0, vga_indexed(dev, 0x3c4, 0x04, sr4, &b));

	/* Holes and range ends, as vfio-pci. */
	EXPECT_EQ(-EINVAL, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3bc,
				     buf, 1, false));
	EXPECT_EQ(-EINVAL, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x0,
				     buf, 1, false));
	EXPECT_EQ(-EINVAL, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x9ffff,
				     buf, 1, false));
	EXPECT_EQ(-EINVAL, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0xc0000,
				     buf, 1, false));
	EXPECT_EQ(16, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3d0, buf,
				32, false));
	EXPECT_EQ(4, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3b8, buf,
			       32, false));
	EXPECT_EQ(2, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0xbfffe, buf,
			       32, false));
}

TEST_F(cls, vga_rom)
{
	struct vfio_region_info ri;
	uint8_t sig[2] = { 0, 0 };

	TAKE_VGA();
	ASSERT_EQ(0, region_info(self->v.device, VFIO_PCI_ROM_REGION_INDEX,
				 &ri));
	ASSERT_NE(0, ri.size) TH_LOG("no ROM region for the VGA device");
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ, ri.flags);
	ASSERT_EQ(2, region_rw(self->v.device, VFIO_PCI_ROM_REGION_INDEX, 0,
			       sig, 2, false));
	EXPECT_EQ(0x55, sig[0]);
	EXPECT_EQ(0xaa, sig[1]);
	/* The ROM is read-only. */
	EXPECT_EQ(-EINVAL, region_rw(self->v.device,
				     VFIO_PCI_ROM_REGION_INDEX, 0, sig, 2,
				     true));
}

TEST_F_TIMEOUT(cls, vga_host_back, 120)
{
	TAKE_VGA();
	ASSERT_TRUE(give_back(self, variant))
		TH_LOG("%s did not bind %s again", VGA_DRIVER, self->bdf);
	EXPECT_TRUE(drm_card_wait(self->bdf, 10000))
		TH_LOG("%s is bound again but its connector lists no mode",
		       VGA_DRIVER);
	self->bdf[0] = '\0';
}

/* ---- no VGA region where vfio-pci offers none ----------------------------- */

static void expect_no_vga_region(struct __test_metadata *_metadata, int dev)
{
	struct vfio_region_info ri;
	uint8_t b = 0;

	EXPECT_EQ(-EINVAL, region_info(dev, VFIO_PCI_VGA_REGION_INDEX, &ri));
	EXPECT_EQ(-EINVAL, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3c4,
				     &b, 1, false));
	EXPECT_EQ(-EINVAL, region_rw(dev, VFIO_PCI_VGA_REGION_INDEX, 0x3c4,
				     &b, 1, true));
}

TEST(no_vga_region)
{
	char edu[BDF_LEN], vga[BDF_LEN];
	struct vfio_ctx v;

	vfio_ctx_init(&v);
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, edu, BDF_LEN));
	ASSERT_EQ(0, vstub_load_edu(NULL, false, edu));
	ASSERT_EQ(0, vfio_open_device_fd(&v, VSTUB_NODE_DIR, edu,
					 VFIO_TYPE1v2_IOMMU));
	expect_no_vga_region(_metadata, v.device);
	vfio_ctx_close(&v);

	if (pci_find(VGA_VENDOR, VGA_DEVICE, 0, vga, BDF_LEN)) {
		vstub_unload_if_loaded();
		SKIP(return, "no std VGA device for the disable_vga=1 part");
	}
	ASSERT_EQ(0, load_vstub("disable_vga=1"));
	ASSERT_EQ(0, vstub_capture_wait(vga));
	ASSERT_EQ(0, vfio_open_device_fd(&v, VSTUB_NODE_DIR, vga,
					 VFIO_TYPE1v2_IOMMU));
	expect_no_vga_region(_metadata, v.device);
	vfio_ctx_close(&v);
	EXPECT_EQ(0, vstub_write("release", vga));
	EXPECT_TRUE(pci_wait_driver(vga, VGA_DRIVER, 10000));
	vstub_unload_if_loaded();
}

TEST_HARNESS_MAIN
