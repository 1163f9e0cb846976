// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_vga.c - a captured VGA function's legacy ranges.
 *
 * The VGA region (VFIO_PCI_VGA_REGION_INDEX) is laid out as the ISA
 * addresses themselves: offsets 0xa0000-0xbffff are the legacy frame
 * buffer, 0x3b0-0x3bb and 0x3c0-0x3df the legacy I/O ports; everything
 * else in the region is a hole (-EINVAL), and an access never crosses from
 * one range into the next (it ends short at the range's end).  These
 * ranges are not the function's own BARs: the chipset and the bridges send
 * them to one VGA device at a time, so every access is made while the
 * kernel's VGA arbiter (vgaarb) routes that range to this function
 * (vga_get), and given back right after (vga_put).
 *
 * While vstub holds a VGA function it also answers the arbiter's question
 * of what the function decodes: everything, unless the administrator
 * loaded vstub with disable_vga=1 and the function sits alone behind a
 * bridge (then its legacy ranges are unreachable to userspace, and the
 * arbiter need not route them to it).  With disable_vga=1 no VGA region is
 * offered.  At capture, firmware frame buffers and vgacon that still drive
 * the function are removed (they would write to it behind the user's back).
 *
 * Locking: vga_get() may wait for another VGA user (an X server holding
 * /dev/vga_arbiter, say) for as long as it likes, so it is taken before
 * vdev->lock and never under it: vga_get -> vdev->lock.
 */
#include <linux/aperture.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/vgaarb.h>

#include "vstub_vfio.h"

static bool disable_vga;
module_param(disable_vga, bool, 0444);
MODULE_PARM_DESC(disable_vga,
		 "Offer no VGA region (legacy VGA memory and I/O) on captured VGA devices (default: offer it)");

#define VSTUB_VGA_MEM_START	0xa0000
#define VSTUB_VGA_MEM_END	0xc0000	/* exclusive, and the region's size */

struct vstub_vga_range {
	u32 start, end;		/* [start, end) */
	unsigned int rsrc;	/* VGA_RSRC_* the arbiter must give us */
	bool port;
};

static const struct vstub_vga_range vstub_vga_ranges[] = {
	{ 0x3b0, 0x3bc, VGA_RSRC_LEGACY_IO, true },
	{ 0x3c0, 0x3e0, VGA_RSRC_LEGACY_IO, true },
	{ VSTUB_VGA_MEM_START, VSTUB_VGA_MEM_END, VGA_RSRC_LEGACY_MEM, false },
};

static bool vstub_is_vga(struct pci_dev *pdev)
{
	return (pdev->class >> 8) == PCI_CLASS_DISPLAY_VGA;
}

/* The arbiter's decode callback (see the comment at the top). */
static unsigned int vstub_vga_decode(struct pci_dev *pdev, bool single_vga)
{
	unsigned int all = VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM |
			   VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM;
	struct pci_dev *other = NULL;
	unsigned char last_bus;

	if (!disable_vga || single_vga || pci_is_root_bus(pdev->bus))
		return all;
	/* Another VGA device below the same bridge needs the routing. */
	last_bus = pci_bus_max_busnr(pdev->bus);
	while ((other = pci_get_class(PCI_CLASS_DISPLAY_VGA << 8, other))) {
		if (other == pdev || pci_is_root_bus(other->bus) ||
		    pci_domain_nr(other->bus) != pci_domain_nr(pdev->bus))
			continue;
		if (other->bus->number >= pdev->bus->number &&
		    other->bus->number <= last_bus) {
			pci_dev_put(other);
			return all;
		}
	}
	return VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM;
}

/*
 * At capture (vstub_vfio_add_dev): take part in VGA arbitration for a VGA
 * function, and remove whatever firmware console still drives it.
 */
int vstub_vga_init(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int ret;

	if (!vstub_is_vga(pdev))
		return 0;
	ret = aperture_remove_conflicting_pci_devices(pdev, KBUILD_MODNAME);
	if (ret) {
		pci_err(pdev, "cannot remove the firmware frame buffer or console on this VGA device: %d\n",
			ret);
		return ret;
	}
	ret = vga_client_register(pdev, vstub_vga_decode);
	if (ret) {
		pci_err(pdev, "cannot register with the VGA arbiter: %d\n", ret);
		return ret;
	}
	vga_set_legacy_decoding(pdev, vstub_vga_decode(pdev, false));
	vdev->is_vga = true;
	vdev->has_vga = !disable_vga;
	return 0;
}

/* At release: the next driver starts from "decodes everything". */
void vstub_vga_exit(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;

	if (!vdev->is_vga)
		return;
	vga_client_unregister(pdev);
	vga_set_legacy_decoding(pdev, VGA_RSRC_NORMAL_IO | VGA_RSRC_NORMAL_MEM |
				      VGA_RSRC_LEGACY_IO | VGA_RSRC_LEGACY_MEM);
}

/* The VGA region's size, 0 when there is none. */
u64 vstub_vga_size(struct vstub_vdev *vdev)
{
	return vdev->has_vga ? VSTUB_VGA_MEM_END : 0;
}

static const struct vstub_vga_range *vstub_vga_range(u64 pos)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vstub_vga_ranges); i++)
		if (pos >= vstub_vga_ranges[i].start &&
		    pos < vstub_vga_ranges[i].end)
			return &vstub_vga_ranges[i];
	return NULL;
}

/*
 * How much of an access of @count bytes at @pos of the VGA region stays
 * in one range; 0 when @pos is in none.
 */
size_t vstub_vga_clamp(u64 pos, size_t count)
{
	const struct vstub_vga_range *r = vstub_vga_range(pos);

	return r ? min_t(u64, count, r->end - pos) : 0;
}

/*
 * Read or write @count bytes at @pos of the VGA region, inside one range
 * (vstub_vga_clamp()).  Takes the range from the VGA arbiter, then
 * vdev->lock (not held by the caller).
 */
int vstub_vga_rw(struct vstub_vdev *vdev, u8 *buf, u64 pos, size_t count,
		 bool write)
{
	const struct vstub_vga_range *r = vstub_vga_range(pos);
	struct pci_dev *pdev = vdev->pdev;
	void __iomem *io;
	size_t done = 0;
	int ret;

	if (!r || pos + count > r->end)
		return -EINVAL;
	if (r->port)
		io = ioport_map(r->start, r->end - r->start);
	else
		io = ioremap(r->start, r->end - r->start);
	if (!io)
		return -ENOMEM;

	ret = vga_get_interruptible(pdev, r->rsrc);
	if (ret)
		goto out_unmap;
	mutex_lock(&vdev->lock);
	if (vdev->revoked || !vdev->open_count) {
		ret = -ENODEV;
	} else {
		while (done < count) {
			u64 off = pos - r->start + done;

			done += vstub_io_access(io + off, buf + done, off,
						count - done, write);
		}
	}
	mutex_unlock(&vdev->lock);
	vga_put(pdev, r->rsrc);
out_unmap:
	if (r->port)
		ioport_unmap(io);
	else
		iounmap(io);
	return ret;
}
