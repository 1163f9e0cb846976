// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_config.c - the config space userspace sees.
 *
 * Reads come from the device except the BARs and the expansion ROM BAR,
 * which are virtual: writes are kept (masked by the BAR size, so sizing
 * works) and never reach the device.  In the header, writes reach the
 * device only for the command register, cache line size, latency timer,
 * BIST and interrupt line; every other header write is dropped silently
 * (as vfio-pci does for read-only bits).  Past the header vfio-pci's
 * per-capability table applies (vstub_config_perm.c): userspace cannot
 * enable message interrupts behind vstub's back (vstub enables them itself
 * through VFIO_DEVICE_SET_IRQS).  While INTx is handed to userspace the
 * command register's INTx disable bit is vstub's: userspace reads and
 * writes a virtual copy (vstub_irq_cmd_read()/vstub_irq_cmd_write()), so
 * it cannot unmask the line behind the automasking handler.
 *
 * Memory decode (as vfio-pci, the class of CVE-2020-12888): a write that
 * clears PCI_COMMAND_MEMORY zaps every BAR mmap of the function under
 * vdev->lock, the lock the fault handler and BAR read/write take; while the
 * bit is clear, faults get SIGBUS and BAR/ROM read/write -EIO (I/O BARs:
 * while PCI_COMMAND_IO is clear).  MMIO vstub itself does (MSI-X table)
 * runs between vstub_config_memory_enable() and _restore(), under the same
 * lock, so userspace can neither see decode turned on nor reach the BARs
 * meanwhile.
 *
 * SR-IOV VFs (as vfio-pci): vendor and device ID read as the PCI core
 * knows them (a VF's own read as all ones), BARs start from the types of
 * the VF's resources (its BAR registers read 0) and the memory enable bit
 * is virtual.
 */
#include <linux/mm.h>
#include <linux/pci.h>

#include "vstub_vfio.h"
#include "vstub_irq.h"

/* As vfio-pci: every bit written through (INTx disable via vstub_irq). */
#define VSTUB_CMD_WRITABLE	0xffff

/* The type bits of BAR @i as its resource says (a VF's BAR reads 0). */
static u32 vstub_bar_type(struct pci_dev *pdev, int i)
{
	unsigned long f = pci_resource_flags(pdev, i);
	u32 type;

	if (f & IORESOURCE_IO)
		return PCI_BASE_ADDRESS_SPACE_IO;
	type = PCI_BASE_ADDRESS_SPACE_MEMORY;
	if (f & IORESOURCE_MEM_64)
		type |= PCI_BASE_ADDRESS_MEM_TYPE_64;
	if (f & IORESOURCE_PREFETCH)
		type |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	return type;
}

/*
 * Called at first open: the virtual BARs start as the device's.  A VF's
 * BAR registers and memory enable are not its own (its PF's SR-IOV
 * capability has them): as vfio-pci, its BARs start as the type bits of
 * its resources and its memory enable bit is virtual, starting clear.
 */
int vstub_config_init(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (pdev->is_virtfn)
			vdev->vbar[i] = vdev->bar_size[i] ?
					vstub_bar_type(pdev, i) : 0;
		else
			pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i,
					      &vdev->vbar[i]);
	}
	vdev->vf_mem = false;
	pci_read_config_dword(pdev, PCI_ROM_ADDRESS, &vdev->vrom);
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		if (!vdev->bar_size[i] && !(i && (pci_resource_flags(pdev, i - 1) &
						 IORESOURCE_MEM_64)))
			vdev->vbar[i] = 0;
	if (!vdev->bar_size[PCI_ROM_RESOURCE])
		vdev->vrom = 0;
	return vstub_config_perm_init(vdev);
}

/*
 * Does the function decode memory (@bit PCI_COMMAND_MEMORY) or I/O
 * (PCI_COMMAND_IO) accesses now?  vdev->lock held.  A VF has no memory
 * enable of its own (its PF's SR-IOV control has it): always true.
 */
bool vstub_config_decodes(struct vstub_vdev *vdev, u16 bit)
{
	u16 cmd;

	lockdep_assert_held(&vdev->lock);
	if (vstub_pci_in_d3(vdev->pdev))	/* userspace's D3hot */
		return false;
	if (bit == PCI_COMMAND_MEMORY && vdev->pdev->no_command_memory)
		return true;
	if (pci_read_config_word(vdev->pdev, PCI_COMMAND, &cmd))
		return false;
	return cmd & bit;
}

/*
 * Turn memory decode on for MMIO of vstub's own (MSI-X table) while
 * vdev->lock is held.  Returns true when it was off; hand that to
 * vstub_config_memory_restore() before dropping the lock.
 */
bool vstub_config_memory_enable(struct vstub_vdev *vdev)
{
	if (vstub_config_decodes(vdev, PCI_COMMAND_MEMORY))
		return false;
	vstub_irq_cmd_write(vdev, PCI_COMMAND_MEMORY, PCI_COMMAND_MEMORY);
	return true;
}

void vstub_config_memory_restore(struct vstub_vdev *vdev, bool was_off)
{
	lockdep_assert_held(&vdev->lock);
	if (was_off)
		vstub_irq_cmd_write(vdev, PCI_COMMAND_MEMORY, 0);
}

/* What BAR register @i holds after userspace wrote @val to it. */
static u32 vstub_vbar_value(struct vstub_vdev *vdev, int i, u32 val)
{
	struct pci_dev *pdev = vdev->pdev;
	u64 size;
	u32 flags;

	/* Upper half of a 64-bit memory BAR. */
	if (i && (pci_resource_flags(pdev, i - 1) & IORESOURCE_MEM_64) &&
	    vdev->bar_size[i - 1])
		return val & upper_32_bits(~(vdev->bar_size[i - 1] - 1));

	size = vdev->bar_size[i];
	if (!size)
		return 0;
	if (pci_resource_flags(pdev, i) & IORESOURCE_IO) {
		flags = vdev->vbar[i] & ~PCI_BASE_ADDRESS_IO_MASK;
		return (val & PCI_BASE_ADDRESS_IO_MASK &
			lower_32_bits(~(size - 1))) | flags;
	}
	flags = vdev->vbar[i] & ~PCI_BASE_ADDRESS_MEM_MASK;
	return (val & PCI_BASE_ADDRESS_MEM_MASK & lower_32_bits(~(size - 1))) |
	       flags;
}

static u32 vstub_vrom_value(struct vstub_vdev *vdev, u32 val)
{
	u64 size = vdev->bar_size[PCI_ROM_RESOURCE];

	if (!size)
		return 0;
	return (val & PCI_ROM_ADDRESS_MASK & lower_32_bits(~(size - 1))) |
	       (val & PCI_ROM_ADDRESS_ENABLE);
}

static int vstub_cfg_read_dword(struct vstub_vdev *vdev, int where, u32 *val)
{
	int ret;

	if (where >= PCI_BASE_ADDRESS_0 && where <= PCI_BASE_ADDRESS_5) {
		*val = vdev->vbar[(where - PCI_BASE_ADDRESS_0) / 4];
		return 0;
	}
	if (where == PCI_ROM_ADDRESS) {
		*val = vdev->vrom;
		return 0;
	}
	/* A VF's IDs read as all ones: the PCI core took them from its PF. */
	if (where == PCI_VENDOR_ID && vdev->pdev->is_virtfn) {
		*val = vdev->pdev->vendor | (u32)vdev->pdev->device << 16;
		return 0;
	}
	ret = pci_user_read_config_dword(vdev->pdev, where, val);
	if (ret)
		return pcibios_err_to_errno(ret);
	if (where == PCI_COMMAND) {	/* and the status register above it */
		*val = (*val & 0xffff0000) | vstub_irq_cmd_read(vdev, *val);
		if (vdev->pdev->no_command_memory)
			*val = (*val & ~PCI_COMMAND_MEMORY) |
			       (vdev->vf_mem ? PCI_COMMAND_MEMORY : 0);
	}
	if (where >= PCI_STD_HEADER_SIZEOF)
		vstub_config_perm_read(vdev, where, val);
	return 0;
}

static int vstub_cfg_write_byte(struct vstub_vdev *vdev, int where, u32 val,
				u32 mask, int byte)
{
	int ret;

	if (!(mask & (0xffU << (8 * byte))))
		return 0;
	ret = pci_user_write_config_byte(vdev->pdev, where + byte,
					 (val >> (8 * byte)) & 0xff);
	return ret ? pcibios_err_to_errno(ret) : 0;
}

/* Write the bytes of @val selected by @mask into the dword at @where. */
static int vstub_cfg_write_dword(struct vstub_vdev *vdev, int where, u32 val,
				 u32 mask)
{
	bool mem_off;
	u16 bits;
	int i, ret;

	switch (where) {
	case PCI_BASE_ADDRESS_0 ... PCI_BASE_ADDRESS_5:
		i = (where - PCI_BASE_ADDRESS_0) / 4;
		vdev->vbar[i] = vstub_vbar_value(vdev, i,
						 (vdev->vbar[i] & ~mask) |
						 (val & mask));
		return 0;
	case PCI_ROM_ADDRESS:
		vdev->vrom = vstub_vrom_value(vdev, (vdev->vrom & ~mask) |
						    (val & mask));
		return 0;
	case PCI_COMMAND:	/* the status half is dropped */
		bits = VSTUB_CMD_WRITABLE & mask;
		if (!bits)
			return 0;
		mem_off = (bits & PCI_COMMAND_MEMORY) &&
			  !(val & PCI_COMMAND_MEMORY);
		/* A VF has no memory enable of its own: keep a virtual one. */
		if ((bits & PCI_COMMAND_MEMORY) &&
		    vdev->pdev->no_command_memory) {
			vdev->vf_mem = val & PCI_COMMAND_MEMORY;
			bits &= ~PCI_COMMAND_MEMORY;
		}
		ret = bits ? vstub_irq_cmd_write(vdev, bits, val) : 0;
		/*
		 * Decode off: no BAR page stays mapped (faults SIGBUS; a VF's
		 * refault, its decode being its PF's, as with vfio-pci).
		 */
		if (!ret && mem_off)
			vstub_bar_zap(vdev);
		return ret;
	case PCI_CACHE_LINE_SIZE:	/* and PCI_LATENCY_TIMER, PCI_BIST */
		ret = vstub_cfg_write_byte(vdev, where, val, mask, 0);
		if (!ret)
			ret = vstub_cfg_write_byte(vdev, where, val, mask, 1);
		if (!ret)
			ret = vstub_cfg_write_byte(vdev, where, val, mask, 3);
		return ret;
	case PCI_INTERRUPT_LINE:
		return vstub_cfg_write_byte(vdev, where, val, mask, 0);
	default:
		if (where >= PCI_STD_HEADER_SIZEOF)
			return vstub_config_perm_write(vdev, where, val, mask);
		return 0;
	}
}

/*
 * Read or write @count bytes of config space at @pos (checked by the
 * caller against cfg_size), one dword at a time; vdev->lock is held.
 */
int vstub_config_rw(struct vstub_vdev *vdev, u8 *buf, loff_t pos,
		    size_t count, bool write)
{
	size_t done = 0;
	int ret;

	lockdep_assert_held(&vdev->lock);
	while (done < count) {
		int where = (pos + done) & ~3;
		int shift = (pos + done) & 3;
		size_t n = min_t(size_t, 4 - shift, count - done);
		u32 val = 0, mask = 0;
		size_t b;

		if (write) {
			for (b = 0; b < n; b++) {
				val |= (u32)buf[done + b] << (8 * (shift + b));
				mask |= 0xffU << (8 * (shift + b));
			}
			ret = vstub_cfg_write_dword(vdev, where, val, mask);
		} else {
			ret = vstub_cfg_read_dword(vdev, where, &val);
			for (b = 0; !ret && b < n; b++)
				buf[done + b] = val >> (8 * (shift + b));
		}
		if (ret)
			return ret;
		done += n;
	}
	return 0;
}
