// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_dma_test - vstub's VFIO personality, proven with real DMA from
 * QEMU's edu device: container/group/device ioctls, Type1 MAP/UNMAP rules
 * and errnos, IOMMU protection (DMA to unmapped IOVAs is blocked), unload
 * and hot-remove while open, two groups in one container, and
 * vfio_compat=1.  Pinning and accounting: vstub_vfio_pin_test.
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "vstub_test.h"
#include "vstub_vfio_util.h"
#include "vstub_vfio_dma.h"

/* Find a capability in the standard list of config space. */
static int cfg_find_cap(int device, uint8_t id)
{
	uint8_t pos, cap[2];
	int n;

	if (vfio_cfg_read(device, PCI_CAPABILITY_LIST, &pos, 1))
		return -EIO;
	for (n = 0; pos >= 0x40 && n < 48; n++) {
		if (vfio_cfg_read(device, pos, cap, 2))
			return -EIO;
		if (cap[0] == id)
			return pos;
		pos = cap[1];
	}
	return -ENOENT;
}

/* The node /dev/.../vfio is vstub's own (not vfio.ko's). */
static bool node_is_vstub(const char *path)
{
	unsigned int maj, min;
	char buf[32];
	struct stat st;

	if (stat(path, &st) || !S_ISCHR(st.st_mode))
		return false;
	if (sysfs_read("/sys/class/vstub/vfio/dev", buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%u:%u", &maj, &min) != 2)
		return false;
	return major(st.st_rdev) == maj && minor(st.st_rdev) == min;
}

TEST_F_TIMEOUT(dma, container_info, 120)
{
	struct vfio_iommu_type1_info small = { .argsz = sizeof(small) };
	struct vfio_iommu_type1_info_cap_iova_range *r;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	bool has_a = false, has_msi = false;
	uint32_t i;

	EXPECT_EQ(1, ioctl(self->v.container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1_IOMMU));
	EXPECT_EQ(1, ioctl(self->v.container, VFIO_CHECK_EXTENSION,
			   VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, ioctl(self->v.container, VFIO_CHECK_EXTENSION,
			   VFIO_UNMAP_ALL));
	EXPECT_EQ(0, ioctl(self->v.container, VFIO_CHECK_EXTENSION,
			   VFIO_NOIOMMU_IOMMU));
	EXPECT_EQ(0, ioctl(self->v.container, VFIO_CHECK_EXTENSION,
			   VFIO_UPDATE_VADDR));

	/* Too small for the capabilities: CAPS set, argsz raised, success. */
	ASSERT_EQ(0, ioctl(self->v.container, VFIO_IOMMU_GET_INFO, &small));
	EXPECT_TRUE(small.flags & VFIO_IOMMU_INFO_PGSIZES);
	EXPECT_TRUE(small.flags & VFIO_IOMMU_INFO_CAPS);
	EXPECT_TRUE(small.iova_pgsizes & PG);
	EXPECT_GT(small.argsz, sizeof(small));
	EXPECT_EQ(0, small.cap_offset);

	info = calloc(1, small.argsz);
	ASSERT_NE(NULL, info);
	info->argsz = small.argsz;
	ASSERT_EQ(0, ioctl(self->v.container, VFIO_IOMMU_GET_INFO, info));
	ASSERT_EQ(sizeof(*info), info->cap_offset);
	r = (void *)find_cap(info, info->argsz, info->cap_offset,
			     VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, r);
	ASSERT_GT(r->nr_iovas, 0);
	for (i = 0; i < r->nr_iovas; i++) {
		TH_LOG("valid IOVA range %u: 0x%llx-0x%llx", i,
		       (unsigned long long)r->iova_ranges[i].start,
		       (unsigned long long)r->iova_ranges[i].end);
		if (r->iova_ranges[i].start <= IOVA_A &&
		    r->iova_ranges[i].end >= IOVA_C + PG)
			has_a = true;
		if (r->iova_ranges[i].start <= IOVA_MSI &&
		    r->iova_ranges[i].end >= IOVA_MSI)
			has_msi = true;
	}
	EXPECT_TRUE(has_a);
	EXPECT_FALSE(has_msi) TH_LOG("the MSI window must be excluded");
	avail = (void *)find_cap(info, info->argsz, info->cap_offset,
				 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_EQ(65535, avail->avail);
	free(info);

	/* Bad argsz. */
	small.argsz = 8;
	EXPECT_EQ(-1, ioctl(self->v.container, VFIO_IOMMU_GET_INFO, &small));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F_TIMEOUT(dma, device_info_and_config, 120)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	uint32_t bar, all = 0xffffffff, id, val;
	uint16_t vid, did, ctl, ctl2;
	uint64_t bar0_off = (uint64_t)VFIO_PCI_BAR0_REGION_INDEX << 40;
	char buf[8];
	int msi;

	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_TRUE(di.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_EQ(VFIO_PCI_NUM_REGIONS, di.num_regions);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, di.num_irqs);

	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(1 << 20, ri.size);
	EXPECT_EQ(0, ri.offset);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP, ri.flags);
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40, ri.offset);
	EXPECT_GE(ri.size, 256);
	EXPECT_FALSE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	/* As vfio-pci: no VGA region on a non-VGA device. */
	ri.index = VFIO_PCI_VGA_REGION_INDEX;
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);
	ri.index = VFIO_PCI_NUM_REGIONS;
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);
	ri.index = 0;
	ri.argsz = 4;
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);

	ii.index = VFIO_PCI_MSI_IRQ_INDEX;
	EXPECT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	ii.index = VFIO_PCI_NUM_IRQS;
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	/* Identity through the config region. */
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, PCI_VENDOR_ID, &vid, 2));
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, PCI_DEVICE_ID, &did, 2));
	EXPECT_EQ(EDU_VENDOR, vid);
	EXPECT_EQ(EDU_DEVICE, did);

	/* BAR sizing on the virtual BAR; the device keeps decoding. */
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, PCI_BASE_ADDRESS_0, &bar, 4));
	ASSERT_EQ(0, vfio_cfg_write(self->v.device, PCI_BASE_ADDRESS_0, &all, 4));
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, PCI_BASE_ADDRESS_0, &val, 4));
	EXPECT_EQ(0xfff00000, val & ~0xfU) TH_LOG("BAR0 reads 0x%x", val);
	EXPECT_EQ(bar & 0xfU, val & 0xfU);
	ASSERT_EQ(0, vfio_cfg_write(self->v.device, PCI_BASE_ADDRESS_0, &bar, 4));
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, PCI_BASE_ADDRESS_0, &val, 4));
	EXPECT_EQ(bar, val);

	/* Command register: decode/master bits pass, others do not. */
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, PCI_COMMAND, &ctl, 2));
	EXPECT_TRUE(ctl & PCI_COMMAND_MASTER);
	ctl2 = ctl | PCI_COMMAND_SERR | PCI_COMMAND_PARITY;
	ctl2 &= ~PCI_COMMAND_MASTER;
	ASSERT_EQ(0, vfio_cfg_write(self->v.device, PCI_COMMAND, &ctl2, 2));
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, PCI_COMMAND, &ctl2, 2));
	EXPECT_EQ(ctl & ~PCI_COMMAND_MASTER, ctl2);
	ASSERT_EQ(0, vfio_cfg_write(self->v.device, PCI_COMMAND, &ctl, 2));

	/* MMIO through mmap and through pread/pwrite. */
	EXPECT_EQ(0x010000ed, edu_read(self->v.bar0, EDU_REG_ID));
	ASSERT_EQ(4, pread(self->v.device, &id, 4, bar0_off + EDU_REG_ID));
	EXPECT_EQ(0x010000ed, id);
	val = 0x12345678;
	ASSERT_EQ(4, pwrite(self->v.device, &val, 4,
			    bar0_off + EDU_REG_LIVENESS));
	ASSERT_EQ(4, pread(self->v.device, &val, 4,
			   bar0_off + EDU_REG_LIVENESS));
	EXPECT_EQ((uint32_t)~0x12345678, val);
	EXPECT_EQ((uint32_t)~0x12345678,
		  edu_read(self->v.bar0, EDU_REG_LIVENESS));

	/* Out of the region. */
	EXPECT_EQ(-1, pread(self->v.device, buf, 4, bar0_off + (1 << 20)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(self->v.device, buf, 4, 9ULL << 40));
	EXPECT_EQ(EINVAL, errno);

	/* MSI cannot be enabled behind vstub's back. */
	msi = cfg_find_cap(self->v.device, PCI_CAP_ID_MSI);
	ASSERT_GT(msi, 0);
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, msi + PCI_MSI_FLAGS,
				   &ctl, 2));
	ctl2 = ctl | PCI_MSI_FLAGS_ENABLE;
	ASSERT_EQ(0, vfio_cfg_write(self->v.device, msi + PCI_MSI_FLAGS,
				    &ctl2, 2));
	ASSERT_EQ(0, vfio_cfg_read(self->v.device, msi + PCI_MSI_FLAGS,
				   &ctl2, 2));
	EXPECT_EQ(ctl, ctl2);
	EXPECT_FALSE(ctl2 & PCI_MSI_FLAGS_ENABLE);

	/* Not implemented yet: interrupts. */
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_SET_IRQS, buf));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F_TIMEOUT(dma, roundtrip, 120)
{
	fill_pattern(self->a, DMA_LEN, 3);
	memset(self->b, 0, PG);
	/* The device only reads a, only writes b. */
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG,
			      VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, vfio_map(self->v.container, self->b, IOVA_B, PG,
			      VFIO_DMA_MAP_FLAG_WRITE));
	EXPECT_EQ(self->lck0 + 8, vstub_vmlck_kb(getpid()));
	EXPECT_EQ(self->pins0 + 2, vstub_pins_held());

	ASSERT_EQ(0, edu_roundtrip(self->v.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));

	/* A second pass with other data, same mappings. */
	fill_pattern(self->a, DMA_LEN, 99);
	ASSERT_EQ(0, edu_roundtrip(self->v.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));

	EXPECT_EQ(PG, vfio_unmap(self->v.container, IOVA_A, PG, 0));
	EXPECT_EQ(PG, vfio_unmap(self->v.container, IOVA_B, PG, 0));
	EXPECT_EQ(self->lck0, vstub_vmlck_kb(getpid()));
	EXPECT_EQ(self->pins0, vstub_pins_held());
}

TEST_F_TIMEOUT(dma, blocked_when_unmapped, 120)
{
	uint8_t sentinel[PG];
	int i;

	fill_pattern(self->a, DMA_LEN, 5);
	memset(self->b, 0x5a, PG);
	memcpy(sentinel, self->b, PG);
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG, VFIO_RW));
	ASSERT_EQ(0, vfio_map(self->v.container, self->b, IOVA_B, PG, VFIO_RW));
	EXPECT_EQ(PG, vfio_unmap(self->v.container, IOVA_B, PG, 0));

	/* Into the device, then out to the IOVA that was just unmapped... */
	ASSERT_EQ(0, edu_dma(self->v.bar0, IOVA_A, EDU_DEV_BUF, DMA_LEN, 0,
			     DMA_MS));
	ASSERT_EQ(0, edu_dma(self->v.bar0, EDU_DEV_BUF, IOVA_B, DMA_LEN, 1,
			     DMA_MS));
	/* ...and to one never mapped. */
	ASSERT_EQ(0, edu_dma(self->v.bar0, EDU_DEV_BUF, IOVA_C, DMA_LEN, 1,
			     DMA_MS));
	EXPECT_EQ(0, memcmp(self->b, sentinel, PG))
		TH_LOG("DMA reached memory that is no longer mapped");

	if (!strcmp(vstub_iommu(), "vtd")) {
		for (i = 0; i < 60; i++) {
			if (dmesg_line_since(self->mark, "DMAR", "fault"))
				break;
			vstub_msleep(50);
		}
		EXPECT_TRUE(dmesg_line_since(self->mark, "DMAR", "fault"))
			TH_LOG("VT-d logged no DMA fault");
	}

	/* The mapped buffer still works afterwards. */
	ASSERT_EQ(0, vfio_map(self->v.container, self->b, IOVA_B, PG, VFIO_RW));
	memset(self->b, 0, PG);
	ASSERT_EQ(0, edu_roundtrip(self->v.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));
}

TEST_F_TIMEOUT(dma, map_unmap_errors, 120)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = VFIO_RW,
		.vaddr = (uintptr_t)self->a, .iova = IOVA_A, .size = PG,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = IOVA_A, .size = PG,
	};
	int c = self->v.container;

	map.argsz = 8;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(EINVAL, errno);
	map.argsz = sizeof(map);
	map.flags = VFIO_RW | (1 << 7);
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(EINVAL, errno);
	map.flags = 0;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(EINVAL, errno);

	/* Misaligned, empty, wrapping, reserved. */
	EXPECT_EQ(-EINVAL, vfio_map(c, self->a, IOVA_A + 1, PG, VFIO_RW));
	EXPECT_EQ(-EINVAL, vfio_map(c, self->a + 8, IOVA_A, PG, VFIO_RW));
	EXPECT_EQ(-EINVAL, vfio_map(c, self->a, IOVA_A, 100, VFIO_RW));
	EXPECT_EQ(-EINVAL, vfio_map(c, self->a, IOVA_A, 0, VFIO_RW));
	/* Wrapping IOVA or vaddr: EOVERFLOW, as the newest type1. */
	EXPECT_EQ(-EOVERFLOW, vfio_map(c, self->a, ~0ULL - PG + 1, 2 * PG,
				       VFIO_RW));
	EXPECT_EQ(-EOVERFLOW, vfio_map(c, (void *)(~0UL - PG + 1), IOVA_A,
				       2 * PG, VFIO_RW));
	EXPECT_EQ(-EOVERFLOW, vfio_unmap(c, ~0ULL - PG + 1, 2 * PG, 0));
	EXPECT_EQ(-EINVAL, vfio_map(c, self->a, IOVA_MSI, PG, VFIO_RW));
	/* Not memory of this process. */
	EXPECT_EQ(-EFAULT, vfio_map(c, NULL, IOVA_A, PG, VFIO_RW));
	EXPECT_EQ(self->pins0, vstub_pins_held());

	/* Overlaps. */
	ASSERT_EQ(0, vfio_map(c, self->a, IOVA_A, 2 * PG, VFIO_RW));
	EXPECT_EQ(-EEXIST, vfio_map(c, self->b, IOVA_A + PG, PG, VFIO_RW));
	EXPECT_EQ(-EEXIST, vfio_map(c, self->b, IOVA_A - PG, 2 * PG, VFIO_RW));
	EXPECT_EQ(-EEXIST, vfio_map(c, self->b, IOVA_A, PG, VFIO_RW));
	ASSERT_EQ(0, vfio_map(c, self->b, IOVA_B, 2 * PG, VFIO_RW));

	/* Type1v2 does not bisect. */
	EXPECT_EQ(-EINVAL, vfio_unmap(c, IOVA_A, PG, 0));
	EXPECT_EQ(-EINVAL, vfio_unmap(c, IOVA_A + PG, PG, 0));
	EXPECT_EQ(-EINVAL, vfio_unmap(c, IOVA_A + 1, PG, 0));
	EXPECT_EQ(0, vfio_unmap(c, IOVA_C, PG, 0));	/* nothing there */

	unmap.argsz = 8;
	EXPECT_EQ(-1, ioctl(c, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, vfio_unmap(c, IOVA_A, 2 * PG, 1 << 5));
	EXPECT_EQ(-EINVAL, vfio_unmap(c, IOVA_A, 0, VFIO_DMA_UNMAP_FLAG_ALL));
	EXPECT_EQ(-EINVAL, vfio_unmap(c, 0, PG, VFIO_DMA_UNMAP_FLAG_ALL));

	EXPECT_EQ(2 * PG, vfio_unmap(c, IOVA_A, 2 * PG, 0));
	EXPECT_EQ(0, vfio_map(c, self->a, IOVA_A, PG, VFIO_RW));
	EXPECT_EQ(3 * PG, vfio_unmap(c, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL));
	EXPECT_EQ(self->pins0, vstub_pins_held());
	EXPECT_EQ(self->lck0, vstub_vmlck_kb(getpid()));
}

TEST_F_TIMEOUT(dma, group_and_container_errors, 120)
{
	char path[64];
	struct vfio_ctx w;
	int fd;

	vfio_ctx_init(&w);
	/* Group node opened once at a time. */
	snprintf(path, sizeof(path), VSTUB_NODE_DIR "/%d", self->v.groupnr);
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(EBUSY, errno);

	/* Device fds: wrong names. */
	EXPECT_EQ(-1, ioctl(self->v.group, VFIO_GROUP_GET_DEVICE_FD,
			    "0000:00:1f.0"));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(self->v.group, VFIO_GROUP_GET_DEVICE_FD, "edu"));
	EXPECT_EQ(ENODEV, errno);
	/* A second device fd of the same device is fine. */
	fd = ioctl(self->v.group, VFIO_GROUP_GET_DEVICE_FD, self->edu);
	EXPECT_GE(fd, 0);
	if (fd >= 0)
		close(fd);

	/* Cannot leave the container while a device is open. */
	EXPECT_EQ(-1, ioctl(self->v.group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(EBUSY, errno);
	/* Already in a container. */
	EXPECT_EQ(-1, ioctl(self->v.group, VFIO_GROUP_SET_CONTAINER,
			    &self->v.container));
	EXPECT_EQ(EINVAL, errno);
	/* IOMMU already set. */
	EXPECT_EQ(-1, ioctl(self->v.container, VFIO_SET_IOMMU,
			    VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(EINVAL, errno);
	/* Not a container fd. */
	EXPECT_EQ(-1, ioctl(self->v.group, VFIO_GROUP_SET_CONTAINER,
			    &self->v.device));
	EXPECT_EQ(EINVAL, errno);

	/* A fresh container: nothing works before a group and an IOMMU. */
	ASSERT_EQ(0, vfio_open_container(&w, VSTUB_NODE_DIR));
	EXPECT_EQ(-1, ioctl(w.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, vfio_map(w.container, self->a, IOVA_A, PG, VFIO_RW));
	EXPECT_EQ(-EINVAL, vfio_unmap(w.container, 0, 0,
				      VFIO_DMA_UNMAP_FLAG_ALL));
	vfio_ctx_close(&w);

	/* Once the device is closed the group may leave, and come back. */
	munmap(self->v.bar0, self->v.bar0_size);
	self->v.bar0 = NULL;
	close(self->v.device);
	self->v.device = -1;
	EXPECT_EQ(0, ioctl(self->v.group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(-1, ioctl(self->v.group, VFIO_GROUP_UNSET_CONTAINER));
	EXPECT_EQ(EINVAL, errno);
	/* No container, no device. */
	EXPECT_EQ(-1, ioctl(self->v.group, VFIO_GROUP_GET_DEVICE_FD,
			    self->edu));
	EXPECT_EQ(EINVAL, errno);
	/* The container lost its IOMMU with its last group. */
	EXPECT_EQ(-EINVAL, vfio_map(self->v.container, self->a, IOVA_A, PG,
				    VFIO_RW));
	ASSERT_EQ(0, ioctl(self->v.group, VFIO_GROUP_SET_CONTAINER,
			   &self->v.container));
	ASSERT_EQ(0, ioctl(self->v.container, VFIO_SET_IOMMU,
			   VFIO_TYPE1_IOMMU));
	self->v.device = ioctl(self->v.group, VFIO_GROUP_GET_DEVICE_FD,
			       self->edu);
	ASSERT_GE(self->v.device, 0);
	ASSERT_EQ(0, vfio_mmap_bar(self->v.device, 0, &self->v.bar0,
				   &self->v.bar0_size));
	ASSERT_EQ(0, vfio_enable_dma(self->v.device));

	/* Type1 (v1) unmaps whole mappings that start in the range. */
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, 2 * PG,
			      VFIO_RW));
	EXPECT_EQ(2 * PG, vfio_unmap(self->v.container, IOVA_A, PG, 0));
	/*
	 * As type1: in IOVA order from the first overlapping mapping, so a
	 * range whose first overlap starts before it unmaps nothing, whatever
	 * the tree's shape (three mappings: the middle one is the root).
	 */
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, 2 * PG,
			      VFIO_RW));
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A + 2 * PG, PG,
			      VFIO_RW));
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A + 3 * PG, PG,
			      VFIO_RW));
	EXPECT_EQ(0, vfio_unmap(self->v.container, IOVA_A + PG, 3 * PG, 0));
	EXPECT_EQ(4 * PG, vfio_unmap(self->v.container, IOVA_A, 4 * PG, 0));
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG, VFIO_RW));
	ASSERT_EQ(0, vfio_map(self->v.container, self->b, IOVA_B, PG, VFIO_RW));
	fill_pattern(self->a, DMA_LEN, 11);
	ASSERT_EQ(0, edu_roundtrip(self->v.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));
}

/* ---- standalone tests: each loads vstub itself -------------------------- */

/* Module unload is refused while any vstub file is open. */
TEST_F_TIMEOUT(dma, unload_refused_while_open, 120)
{
	EXPECT_EQ(-1, syscall(SYS_delete_module, VSTUB_MODNAME, O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY);
	vfio_ctx_close(&self->v);
	EXPECT_EQ(0, vstub_unload());
}

/* Hot-remove while everything is open and mapped. */
TEST_F_TIMEOUT(dma, hot_remove_while_open, 180)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	unsigned long gone;
	uint32_t val;
	int status, i;
	pid_t pid;

	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG, VFIO_RW));
	EXPECT_EQ(self->pins0 + 1, vstub_pins_held());
	EXPECT_EQ(0x010000ed, edu_read(self->v.bar0, EDU_REG_ID));

	ASSERT_EQ(0, pci_write_attr(self->edu, "remove", "1"));
	/* Gone (the guest may have other edus). */
	EXPECT_FALSE(pci_driver_is(self->edu, "vstub"));
	EXPECT_NE(0, pci_read_ulong(self->edu, "vendor", &gone));

	/* Revoked: ioctls, reads and the BAR mapping fail. */
	EXPECT_EQ(-1, ioctl(self->v.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-ENODEV, vfio_cfg_read(self->v.device, 0, &val, 4));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		val = edu_read(self->v.bar0, EDU_REG_ID);
		_exit(val == 0x010000ed ? 1 : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("BAR access after removal: status 0x%x", status);

	/* The group left the container: its IOMMU and pins are gone. */
	EXPECT_EQ(self->pins0, pins_settle(self->pins0));
	EXPECT_EQ(-EINVAL, vfio_map(self->v.container, self->b, IOVA_B, PG,
				    VFIO_RW));
	vfio_ctx_close(&self->v);

	/* Bring it back: captured again by ID, usable again. */
	ASSERT_EQ(0, sysfs_write("/sys/bus/pci/rescan", "1"));
	for (i = 0; i < 100 && !pci_driver_is(self->edu, "vstub"); i++)
		vstub_msleep(50);
	ASSERT_TRUE(pci_driver_is(self->edu, "vstub"));
	ASSERT_EQ(0, vfio_open_device(&self->v, VSTUB_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_enable_dma(self->v.device));
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG, VFIO_RW));
	ASSERT_EQ(0, vfio_map(self->v.container, self->b, IOVA_B, PG, VFIO_RW));
	fill_pattern(self->a, DMA_LEN, 21);
	memset(self->b, 0, PG);
	ASSERT_EQ(0, edu_roundtrip(self->v.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));
}

/* e1000e (captured by address) joins edu's container; DMA still works. */
TEST_F_TIMEOUT(dma, two_groups_one_container, 180)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_ctx w;
	char nic[BDF_LEN];
	uint8_t sig[2];
	int i, dev;

	vfio_ctx_init(&w);
	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, nic, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	/* One mapping before the second group joins... */
	fill_pattern(self->a, DMA_LEN, 31);
	ASSERT_EQ(0, vfio_map(self->v.container, self->a, IOVA_A, PG, VFIO_RW));

	ASSERT_EQ(0, vstub_write("capture", nic));
	for (i = 0; i < 100 && !pci_driver_is(nic, "vstub"); i++)
		vstub_msleep(50);
	ASSERT_TRUE(pci_driver_is(nic, "vstub"));
	ASSERT_NE(self->v.groupnr, vfio_group_of(nic));
	ASSERT_EQ(0, vfio_open_group(&w, VSTUB_NODE_DIR, nic));
	ASSERT_EQ(0, ioctl(w.group, VFIO_GROUP_SET_CONTAINER,
			   &self->v.container));
	dev = ioctl(w.group, VFIO_GROUP_GET_DEVICE_FD, nic);
	ASSERT_GE(dev, 0);
	w.device = dev;

	/* The NIC's expansion ROM, if QEMU gave it one, starts 55 aa. */
	ri.index = VFIO_PCI_ROM_REGION_INDEX;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
	if (ri.size) {
		EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ, ri.flags);
		ASSERT_EQ(2, pread(dev, sig, 2, ri.offset));
		EXPECT_EQ(0x55, sig[0]);
		EXPECT_EQ(0xaa, sig[1]);
		EXPECT_EQ(-1, pwrite(dev, sig, 2, ri.offset));
		EXPECT_EQ(EINVAL, errno);
	}
	/* Reset: offered and working, or refused. */
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_INFO, &di));
	if (di.flags & VFIO_DEVICE_FLAGS_RESET) {
		EXPECT_EQ(0, ioctl(dev, VFIO_DEVICE_RESET));
	} else {
		EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_RESET));
		EXPECT_EQ(EINVAL, errno);
	}
	TH_LOG("e1000e: ROM %llu bytes, reset %s",
	       (unsigned long long)ri.size,
	       di.flags & VFIO_DEVICE_FLAGS_RESET ? "offered" : "not offered");

	/* ...and one after. */
	memset(self->b, 0, PG);
	ASSERT_EQ(0, vfio_map(self->v.container, self->b, IOVA_B, PG, VFIO_RW));
	ASSERT_EQ(0, edu_roundtrip(self->v.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));

	/*
	 * Released while its device fd is open: the NIC's fd is revoked (and
	 * the NIC reset under the PCI core's device lock), its group leaves
	 * the container, edu keeps the domain and its mappings, and e1000e
	 * gets the NIC back.
	 */
	EXPECT_EQ(0, vstub_write("release", nic));
	for (i = 0; i < 100 && !pci_driver_is(nic, "e1000e"); i++)
		vstub_msleep(50);
	EXPECT_TRUE(pci_driver_is(nic, "e1000e"));
	EXPECT_EQ(-1, ioctl(w.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(ENODEV, errno);
	memset(self->b, 0, PG);
	ASSERT_EQ(0, edu_roundtrip(self->v.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));
	vfio_ctx_close(&w);
	EXPECT_EQ(self->pins0 + 2, vstub_pins_held());
}

/* ---- interrupt isolation ------------------------------------------------ */

TEST_F_TIMEOUT(dma, interrupt_isolation, 120)
{
	struct vfio_ctx w;
	char mark[128];

	vfio_ctx_close(&self->v);
	vfio_ctx_init(&w);
	ASSERT_EQ(0, vstub_load_edu(NULL, true, self->edu));
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	ASSERT_EQ(0, vfio_open_container(&w, VSTUB_NODE_DIR));
	ASSERT_EQ(0, vfio_open_group(&w, VSTUB_NODE_DIR, self->edu));
	if (!vstub_no_intremap()) {
		EXPECT_EQ(0, ioctl(w.group, VFIO_GROUP_SET_CONTAINER,
				   &w.container));
		vfio_ctx_close(&w);
		return;
	}
	EXPECT_EQ(-1, ioctl(w.group, VFIO_GROUP_SET_CONTAINER, &w.container));
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(dmesg_line_since(mark, "interrupt remapping is missing",
				     "allow_unsafe_interrupts=1"));
	ASSERT_EQ(0, sysfs_write("/sys/module/vstub/parameters/allow_unsafe_interrupts",
				 "1"));
	EXPECT_EQ(0, ioctl(w.group, VFIO_GROUP_SET_CONTAINER, &w.container));
	vfio_ctx_close(&w);
}

/* ---- a group that a DMA-API driver makes non-viable --------------------- */

TEST_F_TIMEOUT(solo, not_viable, 120)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char edu[BDF_LEN], lpc[BDF_LEN], mark[128];
	struct vfio_ctx w;
	int i;

	vfio_ctx_init(&w);
	ASSERT_EQ(0, pci_find(EDU_VENDOR, EDU_DEVICE, 0, edu, BDF_LEN));
	/* q35's 00:1f.x share a group; 1f.2 (ahci) uses the DMA API. */
	if (pci_iommu_group("0000:00:1f.3") < 0 ||
	    pci_iommu_group("0000:00:1f.3") != pci_iommu_group("0000:00:1f.2") ||
	    !pci_driver_is("0000:00:1f.2", "ahci"))
		SKIP(return, "no shared group with an ahci device here");
	snprintf(lpc, sizeof(lpc), "0000:00:1f.3");
	ASSERT_EQ(0, vstub_load_edu(NULL, false, edu));
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	ASSERT_EQ(0, vstub_write("capture", lpc));
	for (i = 0; i < 100 && !pci_driver_is(lpc, "vstub"); i++)
		vstub_msleep(50);
	ASSERT_TRUE(pci_driver_is(lpc, "vstub"));
	ASSERT_EQ(0, vfio_open_container(&w, VSTUB_NODE_DIR));
	EXPECT_EQ(-EPERM, vfio_open_group(&w, VSTUB_NODE_DIR, lpc));
	ASSERT_EQ(0, ioctl(w.group, VFIO_GROUP_GET_STATUS, &st));
	EXPECT_FALSE(st.flags & VFIO_GROUP_FLAGS_VIABLE);
	EXPECT_EQ(-1, ioctl(w.group, VFIO_GROUP_SET_CONTAINER, &w.container));
	EXPECT_EQ(EPERM, errno);
	EXPECT_TRUE(dmesg_line_since(mark, "not viable", "ahci"));
	vfio_ctx_close(&w);
	EXPECT_EQ(0, vstub_unload());
}

/* ---- vfio_compat=1: the /dev/vfio names, and vfio.ko --------------------- */

/* Modules of vfio.ko's family, in unload order. */
static int load_one_module(const char *name)
{
	char path[512];
	int fd, ret;

	snprintf(path, sizeof(path), "/lib/modules/%s/%s.ko",
		 vstub_env("VSTUB_KVER", ""), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

TEST_F_TIMEOUT(dma, vfio_compat, 180)
{
	struct vfio_ctx w;
	char mark[128];

	vfio_ctx_close(&self->v);
	vfio_ctx_init(&w);
	ASSERT_EQ(0, vstub_unload());
	if (!path_exists("/sys/module/vfio"))
		ASSERT_EQ(0, load_one_module("vfio"));

	/* Refused while vfio.ko holds /dev/vfio. */
	ASSERT_EQ(0, kmsg_mark(mark, sizeof(mark)));
	EXPECT_EQ(-EBUSY, vstub_load_edu("vfio_compat=1", false, self->edu));
	EXPECT_TRUE(dmesg_since(mark, "vfio_compat=1 refused"));

	ASSERT_EQ(0, vstub_unload_vfio());
	ASSERT_EQ(0, vstub_load_edu("vfio_compat=1", false, self->edu));
	EXPECT_TRUE(node_is_vstub(VFIO_NODE_DIR "/vfio"));
	ASSERT_EQ(0, vfio_open_device(&w, VFIO_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, vfio_enable_dma(w.device));
	ASSERT_EQ(0, vfio_map(w.container, self->a, IOVA_A, PG, VFIO_RW));
	ASSERT_EQ(0, vfio_map(w.container, self->b, IOVA_B, PG, VFIO_RW));
	fill_pattern(self->a, DMA_LEN, 41);
	ASSERT_EQ(0, edu_roundtrip(w.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));

	/* vfio.ko loaded afterwards: it loads, vstub keeps its nodes. */
	EXPECT_EQ(0, load_one_module("vfio"));
	EXPECT_TRUE(node_is_vstub(VFIO_NODE_DIR "/vfio"));
	memset(self->b, 0, PG);
	ASSERT_EQ(0, edu_roundtrip(w.bar0, IOVA_A, IOVA_B, DMA_LEN));
	EXPECT_EQ(0, memcmp(self->a, self->b, DMA_LEN));
	vfio_ctx_close(&w);
	ASSERT_EQ(0, vfio_open_device(&w, VFIO_NODE_DIR, self->edu,
				      VFIO_TYPE1_IOMMU));
	vfio_ctx_close(&w);

	/* Back to the boot state: vfio's own nodes again. */
	EXPECT_EQ(0, vstub_unload());
	EXPECT_EQ(0, vstub_unload_vfio());
	vstub_reload_boot_modules();
}

TEST_HARNESS_MAIN
