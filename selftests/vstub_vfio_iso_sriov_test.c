// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_iso_sriov_test - isolation where SR-IOV is involved, checked
 * against vstub and, as the reference, the in-kernel vfio-pci in the same
 * guest (variant vfio_pci; skipped where vfio-pci cannot attach):
 *
 *   vf_config       an NVMe SR-IOV VF's config space as vfio-pci presents
 *                   it: vendor/device IDs, BAR types from its resources
 *                   and BAR sizing, a virtual memory enable bit
 *   sriov_opt_in    no VFs on a PF userspace holds open through VFIO
 *                   unless the administrator set enable_sriov=1
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include "kselftest_harness.h"
#include "vstub_vfio_iso.h"

/* ---- item 5: a VF's config space ---------------------------------------- */

/* sriov_numvfs of the PF @pf, or -1. */
static int pci_count_vfs(const char *pf)
{
	unsigned long n;

	return pci_read_ulong(pf, "sriov_numvfs", &n) ? -1 : (int)n;
}

/* The BDF of @pf's first VF. */
static int pci_vf_bdf(const char *pf, char *bdf, size_t len)
{
	char path[256], link[128], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/virtfn0", PCI_DEVICES_DIR, pf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -ENOENT;
	link[n] = '\0';
	base = strrchr(link, '/');
	vstub_strlcpy(bdf, base ? base + 1 : link, len);
	return 0;
}

static int read_hex_attr(const char *bdf, const char *attr, unsigned long *v)
{
	return pci_read_ulong(bdf, attr, v);
}

/* Flags of resource @i of @bdf (third column of sysfs "resource"). */
static int resource_flags(const char *bdf, int i, unsigned long long *start,
			  unsigned long long *end, unsigned long long *flags)
{
	char path[256], line[128];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "%s/%s/resource", PCI_DEVICES_DIR, bdf);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (++n == i)
			break;
	fclose(f);
	if (n != i || sscanf(line, "%llx %llx %llx", start, end, flags) != 3)
		return -EIO;
	return 0;
}

TEST_F_TIMEOUT(iso, vf_config, 120)
{
	unsigned long long start, end, flags;
	unsigned long vendor, device;
	uint32_t id, bar, want, all = 0xffffffff;
	uint16_t cmd;
	char path[256], link[128], *base;
	struct vfio_ctx w;
	ssize_t n;
	int ret;

	if (!vstub_env_is("VSTUB_SRIOV", "1"))
		SKIP(return, "no SR-IOV device in this configuration");
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, self->pf, BDF_LEN))
		SKIP(return, "no NVMe in this guest");
	ASSERT_EQ(0, pci_write_attr(self->pf, "sriov_drivers_autoprobe", "0"));
	ASSERT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	snprintf(path, sizeof(path), "%s/%s/virtfn0", PCI_DEVICES_DIR, self->pf);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = '\0';
	base = strrchr(link, '/');
	vstub_strlcpy(self->other, base ? base + 1 : link, BDF_LEN);
	if (pci_iommu_group(self->other) < 0)
		SKIP(return, "the VF has no IOMMU group here");

	vfio_ctx_init(&w);
	ret = open_dev(variant, self->other, &w);
	if (ret == -EINVAL && w.device >= 0 && !w.bar0)
		ret = 0;	/* MSI-X table page in BAR0, not mappable */
	ASSERT_EQ(0, ret);

	/* IDs as the PCI core has them (the VF's own read as all ones). */
	ASSERT_EQ(0, read_hex_attr(self->other, "vendor", &vendor));
	ASSERT_EQ(0, read_hex_attr(self->other, "device", &device));
	ASSERT_EQ(0, vfio_cfg_read(w.device, PCI_VENDOR_ID, &id, 4));
	EXPECT_EQ((uint32_t)(vendor | device << 16), id);

	/* BAR0: its resource's type bits, and sizing works. */
	ASSERT_EQ(0, resource_flags(self->other, 0, &start, &end, &flags));
	ASSERT_NE(0ULL, end);
	want = PCI_BASE_ADDRESS_SPACE_MEMORY;
	if (flags & 0x00100000)		/* IORESOURCE_MEM_64 */
		want |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (flags & 0x00002000)		/* IORESOURCE_PREFETCH */
		want |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	ASSERT_EQ(0, vfio_cfg_read(w.device, PCI_BASE_ADDRESS_0, &bar, 4));
	TH_LOG("VF BAR0 %08x, resource %llx-%llx flags %llx", bar, start, end,
	       flags);
	EXPECT_EQ(want, bar & 0xf);
	ASSERT_EQ(0, vfio_cfg_write(w.device, PCI_BASE_ADDRESS_0, &all, 4));
	ASSERT_EQ(0, vfio_cfg_read(w.device, PCI_BASE_ADDRESS_0, &bar, 4));
	EXPECT_EQ((uint32_t)~(end - start) & ~0xfU, bar & ~0xfU);
	EXPECT_EQ(want, bar & 0xf);

	/* The memory enable bit reads back as written. */
	ASSERT_EQ(0, cmd_bits(w.device, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, cfg_cmd(w.device, &cmd));
	EXPECT_TRUE(cmd & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, cmd_bits(w.device, PCI_COMMAND_MEMORY, false));
	ASSERT_EQ(0, cfg_cmd(w.device, &cmd));
	EXPECT_FALSE(cmd & PCI_COMMAND_MEMORY);
	vfio_ctx_close(&w);
}

/* ---- item 4 (first half): SR-IOV on a PF in use only by opt-in -------- */

#define ENABLE_SRIOV_PARAM	"/sys/module/vstub/parameters/enable_sriov"

TEST_F_TIMEOUT(iso, sriov_opt_in, 120)
{
	char mark[128], vf[BDF_LEN];
	struct vfio_ctx w;
	int ret;

	if (variant->vfio_pci)
		SKIP(return, "vstub's own parameter");
	if (!vstub_env_is("VSTUB_SRIOV", "1"))
		SKIP(return, "no SR-IOV device in this configuration");
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, self->pf, BDF_LEN))
		SKIP(return, "no NVMe in this guest");
	ASSERT_EQ(0, vstub_capture_wait(self->pf));
	vfio_ctx_init(&w);
	ret = vfio_open_device(&w, VSTUB_NODE_DIR, self->pf,
			       VFIO_TYPE1v2_IOMMU);
	if (ret == -EINVAL && w.device >= 0 && !w.bar0)
		ret = 0;	/* MSI-X table page in BAR0, not mappable */
	ASSERT_EQ(0, ret);

	/* Held open: refused (vfio-pci's errno without enable_sriov). */
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-ENOENT, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	EXPECT_TRUE(dmesg_since(mark, "enable_sriov=1"));
	EXPECT_EQ(0, pci_count_vfs(self->pf));

	/* The administrator opts in: allowed, the VF is vstub's. */
	ASSERT_EQ(0, sysfs_write(ENABLE_SRIOV_PARAM, "1"));
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	EXPECT_EQ(1, pci_count_vfs(self->pf));
	if (!pci_vf_bdf(self->pf, vf, sizeof(vf)))
		EXPECT_TRUE(pci_wait_driver(vf, "vstub", 3000));
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "0"));
	ASSERT_EQ(0, sysfs_write(ENABLE_SRIOV_PARAM, "0"));

	/* Closed again: allowed without the opt-in. */
	vfio_ctx_close(&w);
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "1"));
	EXPECT_EQ(1, pci_count_vfs(self->pf));
	EXPECT_EQ(0, pci_write_attr(self->pf, "sriov_numvfs", "0"));
}

TEST_HARNESS_MAIN
