// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vfio_isolation_test - what userspace must not be able to do to a
 * device it holds, and what the host must get back, checked against vstub
 * and, as the reference, against the in-kernel vfio-pci in the same guest
 * (variant vfio_pci; skipped where vfio-pci cannot attach):
 *
 *   decode_off      clearing PCI_COMMAND_MEMORY through the config region:
 *                   BAR read/write -EIO, mmap touch SIGBUS, both work again
 *                   once it is set; ROM reads -EIO too (e1000e's ROM)
 *   msix_decode_off MSI-X set-up and teardown while userspace keeps memory
 *                   decode off still program the MSI-X table (read back
 *                   through the PCI core's sysfs resource file)
 *   msix_table      e1000e: BAR read/write never reach the MSI-X table
 *                   (reads all ones, writes dropped), the PBA stays
 *                   readable; the MSI-X BAR's region info carries
 *                   MSIX_MAPPABLE (isolated MSIs: whole BAR mmappable) or
 *                   else a sparse-mmap capability without the table page,
 *                   whose mmap is refused
 *   cache_coherency VFIO_DMA_CC_IOMMU as type1 answers it: 0 before
 *                   SET_IOMMU, then whether the IOMMU enforces snooping,
 *                   the same as vfio-pci's answer for the same device
 *   reset_on_return NVMe (FLR): a register userspace programmed is back
 *                   at its reset value whenever the device returns to the
 *                   host: close + release, release answered through REQ
 *                   (the close races the release's device lock), module
 *                   unload, REQ ignored (revoked)
 *
 * SR-IOV (a VF's config space, VFs on a PF in use): vstub_vfio_iso_sriov_test.
 *
 * Runs as root in a QEMU guest of selftests/run (edu unbound at boot).
 */
#include "kselftest_harness.h"
#include "vstub_vfio_iso.h"

/* ---- item 1: memory decode off ------------------------------------------ */

TEST_F_TIMEOUT(iso, decode_off, 120)
{
	int dev = self->v.device;
	volatile uint32_t *bar = (volatile uint32_t *)self->v.bar0;
	uint32_t val = 0, w = 0x5a5a1234;

	ASSERT_EQ(0, region_rw(dev, 0, EDU_REG_ID, &val, 4, false));
	EXPECT_EQ(EDU_ID, val);
	EXPECT_EQ(0, touch_in_child(bar));

	/* Decode off: no access reaches the BAR. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
	EXPECT_FALSE(pci_cmd_phys(self->edu) & PCI_COMMAND_MEMORY);
	EXPECT_EQ(-EIO, region_rw(dev, 0, EDU_REG_ID, &val, 4, false));
	EXPECT_EQ(-EIO, region_rw(dev, 0, EDU_REG_LIVENESS, &w, 4, true));
	EXPECT_EQ(-EIO, region_rw(dev, 0, EDU_DEV_BUF, &val, 1, false));
	EXPECT_EQ(-SIGBUS, touch_in_child(bar));
	EXPECT_EQ(-SIGBUS, touch_in_child(bar + 0x1000 / 4));
	/* Config space stays reachable. */
	EXPECT_EQ(0, vfio_cfg_read(dev, 0, &val, 4));
	EXPECT_EQ(0x11e81234U, val);

	/* Decode on again: both ways work, the mapping refaults. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, region_rw(dev, 0, EDU_REG_ID, &val, 4, false));
	EXPECT_EQ(EDU_ID, val);
	EXPECT_EQ(0, region_rw(dev, 0, EDU_REG_LIVENESS, &w, 4, true));
	EXPECT_EQ(~w, edu_read(self->v.bar0, EDU_REG_LIVENESS));
	EXPECT_EQ(0, touch_in_child(bar));
}

/* ROM and I/O BARs (e1000e has both; its ROM only if QEMU found one). */
TEST_F_TIMEOUT(iso, decode_off_rom_io, 120)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_ctx w;
	uint8_t sig[2];
	uint32_t val;
	int dev, bar, ret;

	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, self->other, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	vfio_ctx_init(&w);
	ASSERT_EQ(0, open_dev(variant, self->other, &w));
	dev = w.device;
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, true));

	ri.index = VFIO_PCI_ROM_REGION_INDEX;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
	if (ri.size) {
		ASSERT_EQ(0, region_rw(dev, VFIO_PCI_ROM_REGION_INDEX, 0, sig,
				       2, false));
		EXPECT_EQ(0x55, sig[0]);
		EXPECT_EQ(0xaa, sig[1]);
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
		ret = region_rw(dev, VFIO_PCI_ROM_REGION_INDEX, 0, sig, 2,
				false);
		/* vfio-pci's pci_map_rom() reads the ROM header: -ENOMEM */
		if (variant->vfio_pci) {
			EXPECT_TRUE(ret == -EIO || ret == -ENOMEM);
		} else {
			EXPECT_EQ(-EIO, ret);
		}
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
		EXPECT_EQ(0, region_rw(dev, VFIO_PCI_ROM_REGION_INDEX, 0,
				       sig, 2, false));
	} else {
		TH_LOG("e1000e has no ROM here: ROM part not checked");
	}

	/* vfio-pci lets I/O port access through with IO off; vstub does not. */
	for (bar = 0; bar < 6; bar++) {
		ri.index = bar;
		ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
		if (ri.size && !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) &&
		    ri.size <= 256)
			break;
	}
	if (bar < 6 && !variant->vfio_pci) {
		EXPECT_EQ(0, region_rw(dev, bar, 0, &val, 4, false));
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_IO, false));
		EXPECT_EQ(-EIO, region_rw(dev, bar, 0, &val, 4, false));
		ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_IO, true));
		EXPECT_EQ(0, region_rw(dev, bar, 0, &val, 4, false));
	}
	vfio_ctx_close(&w);
}

/*
 * MSI-X set-up and teardown program the table even when userspace keeps
 * memory decode off (e1000e, MSI-X table in a BAR nobody maps).
 */
TEST_F_TIMEOUT(iso, msix_decode_off, 120)
{
	uint32_t ent[4];
	struct vfio_ctx w;
	int32_t efd;
	int dev;

	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, self->other, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	vfio_ctx_init(&w);
	ASSERT_EQ(0, open_dev(variant, self->other, &w));
	dev = w.device;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);

	/* Set-up with decode off: the entry gets its message, unmasked. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
				      &efd));
	EXPECT_FALSE(pci_cmd_phys(self->other) & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, msix_entry(self->other, 0, ent));
	TH_LOG("entry 0 after set-up: %08x %08x %08x %08x", ent[0], ent[1],
	       ent[2], ent[3]);
	EXPECT_NE(0U, ent[0]);
	EXPECT_EQ(0U, ent[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);

	/* Again with decode on, so that the teardown below starts unmasked. */
	ASSERT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
				      &efd));
	ASSERT_EQ(0, msix_entry(self->other, 0, ent));
	ASSERT_EQ(0U, ent[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);

	/* Teardown with decode off: the entry ends masked. */
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, false));
	ASSERT_EQ(0, vfio_irq_set_none(dev, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0));
	EXPECT_FALSE(pci_cmd_phys(self->other) & PCI_COMMAND_MEMORY);
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	ASSERT_EQ(0, msix_entry(self->other, 0, ent));
	TH_LOG("entry 0 after teardown: %08x %08x %08x %08x", ent[0], ent[1],
	       ent[2], ent[3]);
	EXPECT_EQ(PCI_MSIX_ENTRY_CTRL_MASKBIT,
		  ent[3] & PCI_MSIX_ENTRY_CTRL_MASKBIT);
	close(efd);
	vfio_ctx_close(&w);
}

/* ---- item 6: the MSI-X table and PBA ----------------------------------- */

/* MSI-X layout of @bdf: table BIR/offset, PBA BIR/offset, vectors. */
static int msix_layout(const char *bdf, int *tbir, uint32_t *toff, int *pbir,
		       uint32_t *poff, unsigned int *nvec)
{
	uint8_t cfg[256];
	char path[256];
	unsigned int pos;
	int fd, hops;

	snprintf(path, sizeof(path), "%s/%s/config", PCI_DEVICES_DIR, bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg)) {
		close(fd);
		return -EIO;
	}
	close(fd);
	pos = cfg[PCI_CAPABILITY_LIST] & ~3;
	for (hops = 0; pos && hops < 48; hops++) {
		if (cfg[pos] == PCI_CAP_ID_MSIX) {
			uint32_t t, p;
			uint16_t f;

			memcpy(&f, cfg + pos + PCI_MSIX_FLAGS, 2);
			memcpy(&t, cfg + pos + PCI_MSIX_TABLE, 4);
			memcpy(&p, cfg + pos + PCI_MSIX_PBA, 4);
			*tbir = t & PCI_MSIX_TABLE_BIR;
			*toff = t & PCI_MSIX_TABLE_OFFSET;
			*pbir = p & PCI_MSIX_PBA_BIR;
			*poff = p & PCI_MSIX_PBA_OFFSET;
			*nvec = (f & PCI_MSIX_FLAGS_QSIZE) + 1;
			return 0;
		}
		pos = cfg[pos + 1] & ~3;
	}
	return -ENOENT;
}

/* The capability @id in a region info buffer of @size bytes, or NULL. */
static struct vfio_info_cap_header *region_cap(struct vfio_region_info *ri,
					       size_t size, uint16_t id)
{
	uint32_t off = ri->cap_offset;
	int hops;

	for (hops = 0; off && off + sizeof(struct vfio_info_cap_header) <= size &&
	     hops < 16; hops++) {
		struct vfio_info_cap_header *h = (void *)((char *)ri + off);

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

TEST_F_TIMEOUT(iso, msix_table, 120)
{
	struct vfio_region_info_cap_sparse_mmap *sp;
	struct vfio_region_info small = { .argsz = sizeof(small) };
	uint8_t buf[16], zero[16] = { 0 }, pba[8];
	uint32_t pattern[4] = { 0xfee0f00c, 0, 0x4321, 0 };
	uint32_t before[4], after[4], toff = 0, poff = 0;
	struct vfio_region_info *ri;
	unsigned int nvec = 0, i;
	int dev, tbir = 0, pbir = 0;
	struct vfio_ctx w;
	size_t rsize;
	int32_t efd;
	void *p;

	if (pci_find(E1000E_VENDOR, E1000E_DEVICE, 0, self->other, BDF_LEN))
		SKIP(return, "no e1000e in this guest");
	ASSERT_EQ(0, msix_layout(self->other, &tbir, &toff, &pbir, &poff,
				 &nvec));
	vfio_ctx_init(&w);
	ASSERT_EQ(0, open_dev(variant, self->other, &w));
	dev = w.device;
	ASSERT_EQ(0, cmd_bits(dev, PCI_COMMAND_MEMORY, true));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(efd, 0);
	ASSERT_EQ(0, vfio_irq_set_fds(dev, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1,
				      &efd));
	ASSERT_EQ(0, msix_entry(self->other, 0, before));
	ASSERT_NE(0U, before[0]);
	ASSERT_GE(nvec, 2U);
	ASSERT_EQ(0, msix_entry_clear(self->other, nvec - 1));

	/* Reads of the table: all ones, also one that straddles its end. */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, region_rw(dev, tbir, toff, buf, sizeof(buf), false));
	for (i = 0; i < sizeof(buf); i++)
		EXPECT_EQ(0xff, buf[i]);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, region_rw(dev, tbir, toff + nvec * 16 - 4, buf, 8,
			       false));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0xff, buf[i]);
	/*
	 * Writes: accepted and dropped.  The last entry is one the kernel
	 * does not use (one vector enabled): checked after the close, when
	 * the sysfs resource file may map the BAR again.
	 */
	EXPECT_EQ(0, region_rw(dev, tbir, toff, zero, sizeof(zero), true));
	EXPECT_EQ(0, region_rw(dev, tbir, toff + (nvec - 1) * 16, pattern,
			       sizeof(pattern), true));
	/* The PBA stays readable. */
	EXPECT_EQ(0, region_rw(dev, pbir, poff, pba, sizeof(pba), false));

	/* Region info: too small a buffer learns the size with CAPS. */
	small.index = tbir;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &small));
	EXPECT_TRUE(small.flags & VFIO_REGION_INFO_FLAG_MMAP);
	ASSERT_TRUE(small.flags & VFIO_REGION_INFO_FLAG_CAPS);
	ASSERT_GT(small.argsz, sizeof(small));
	EXPECT_EQ(0U, small.cap_offset);
	rsize = small.argsz;
	ri = calloc(1, rsize);
	ASSERT_NE(NULL, ri);
	ri->argsz = rsize;
	ri->index = tbir;
	ASSERT_EQ(0, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri));
	EXPECT_EQ(sizeof(*ri), ri->cap_offset);

	if (!vstub_no_intremap()) {
		/* Isolated MSIs: the whole BAR, table included, mappable. */
		EXPECT_NE(NULL, region_cap(ri, rsize,
					   VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
		EXPECT_EQ(NULL, region_cap(ri, rsize,
					   VFIO_REGION_INFO_CAP_SPARSE_MMAP));
		p = mmap(NULL, ri->size, PROT_READ, MAP_SHARED, dev,
			 ri->offset);
		EXPECT_NE(MAP_FAILED, p);
		if (p != MAP_FAILED)
			munmap(p, ri->size);
	} else {
		/* Not isolated: the table page is a hole of a sparse map. */
		uint64_t hole = toff & ~4095U;

		EXPECT_EQ(NULL, region_cap(ri, rsize,
					   VFIO_REGION_INFO_CAP_MSIX_MAPPABLE));
		sp = (void *)region_cap(ri, rsize,
					VFIO_REGION_INFO_CAP_SPARSE_MMAP);
		ASSERT_NE(NULL, sp);
		ASSERT_GE(sp->nr_areas, 1U);
		for (i = 0; i < sp->nr_areas; i++) {
			TH_LOG("sparse area %u: %#llx + %#llx", i,
			       (unsigned long long)sp->areas[i].offset,
			       (unsigned long long)sp->areas[i].size);
			EXPECT_TRUE(sp->areas[i].offset >= hole + 4096 ||
				    sp->areas[i].offset + sp->areas[i].size <=
				    hole);
			p = mmap(NULL, sp->areas[i].size, PROT_READ,
				 MAP_SHARED, dev,
				 ri->offset + sp->areas[i].offset);
			EXPECT_NE(MAP_FAILED, p);
			if (p != MAP_FAILED)
				munmap(p, sp->areas[i].size);
		}
		EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED,
					   dev, ri->offset + hole));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(MAP_FAILED, mmap(NULL, ri->size, PROT_READ,
					   MAP_SHARED, dev, ri->offset));
	}
	free(ri);
	close(efd);
	vfio_ctx_close(&w);
	ASSERT_EQ(0, msix_entry(self->other, nvec - 1, after));
	TH_LOG("entry %u after the user's write: %08x %08x %08x %08x",
	       nvec - 1, after[0], after[1], after[2], after[3]);
	EXPECT_NE(pattern[0], after[0]);
	EXPECT_NE(pattern[2], after[2]);
}

/* ---- item 2: reset whenever the device returns to the host ------------ */

TEST_F_TIMEOUT(iso, reset_on_return, 180)
{
	struct closer c = { 0 };
	struct vfio_ctx w;
	char *nvme = self->other;
	pthread_t th;

	if (variant->vfio_pci)
		SKIP(return, "vstub's own release paths");
	if (pci_find(NVME_VENDOR, NVME_DEVICE, 0, nvme, BDF_LEN))
		SKIP(return, "no NVMe in this guest");
	self->nvme_gone = true;
	ASSERT_EQ(0, nvme_unload());
	c.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_GE(c.efd, 0);
	c.w = &w;

	/* 1. Closed, then released. */
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	vfio_ctx_close(&w);
	ASSERT_EQ(0, vstub_write("release", nvme));
	EXPECT_TRUE(pci_driver_is(nvme, ""));
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));

	/* 2. Released while open; the user closes on REQ. */
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	ASSERT_EQ(0, vfio_irq_set_fds(w.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
				      &c.efd));
	ASSERT_EQ(0, pthread_create(&th, NULL, closer_thread, &c));
	EXPECT_EQ(0, vstub_write("release", nvme));
	ASSERT_EQ(0, pthread_join(th, NULL));
	EXPECT_TRUE(c.got);
	EXPECT_TRUE(pci_driver_is(nvme, ""));
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));

	/* 3. Module unload (an open device file pins the module). */
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	EXPECT_EQ(-EBUSY, vstub_unload());
	vfio_ctx_close(&w);
	vfio_ctx_close(&self->v);
	EXPECT_EQ(0, vstub_unload());
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));

	/* 4. REQ ignored: revoked after release_timeout_ms, still reset. */
	ASSERT_EQ(0, vstub_load_edu("release_timeout_ms=1000", false,
				    self->edu));
	ASSERT_EQ(0, vstub_capture_wait(nvme));
	ASSERT_EQ(0, nvme_program(nvme, &w));
	ASSERT_EQ(0, vfio_irq_set_fds(w.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1,
				      &c.efd));
	EXPECT_EQ(0, vstub_write("release", nvme));
	EXPECT_EQ(0, bar_reg_host(nvme, 0, NVME_REG_CC));
	vfio_ctx_close(&w);
	close(c.efd);
}

/* ---- item 7: cache coherency (IOMMU_CACHE, enforce_cache_coherency) --- */

TEST_F_TIMEOUT(iso, cache_coherency, 120)
{
	struct vfio_ctx w;
	int mine, ref;

	vfio_ctx_init(&w);
	ASSERT_EQ(0, vfio_open_container(&w, node_dir(variant)));
	EXPECT_EQ(0, ioctl(w.container, VFIO_CHECK_EXTENSION,
			   VFIO_DMA_CC_IOMMU));
	vfio_ctx_close(&w);
	mine = ioctl(self->v.container, VFIO_CHECK_EXTENSION,
		     VFIO_DMA_CC_IOMMU);
	TH_LOG("%s: VFIO_DMA_CC_IOMMU %d (%s)",
	       variant->vfio_pci ? "vfio-pci" : "vstub", mine,
	       vstub_env("VSTUB_IOMMU", "?"));
	EXPECT_TRUE(mine == 0 || mine == 1);
	if (variant->vfio_pci)
		return;
	if (vstub_no_intremap() || !path_exists("/sys/bus/pci/drivers/vfio-pci"))
		SKIP(return, "no vfio-pci to compare with here");
	/* The reference: vfio-pci with type1 on the same device. */
	vfio_ctx_close(&self->v);
	ASSERT_EQ(0, vstub_unload());
	ASSERT_EQ(0, pci_bind_override(self->edu, "vfio-pci"));
	ASSERT_EQ(0, vfio_open_device(&w, VFIO_NODE_DIR, self->edu,
				      VFIO_TYPE1v2_IOMMU));
	ref = ioctl(w.container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
	vfio_ctx_close(&w);
	pci_unbind_override(self->edu);
	EXPECT_EQ(ref, mine);
}

TEST_HARNESS_MAIN
