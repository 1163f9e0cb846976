// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_config_perm.c - what userspace may write in config space past the
 * standard header (0x40 on), capability by capability, with vfio-pci's
 * semantics (vfio-pci is the reference):
 *
 *   bytes in no capability      read and written through (devices hide
 *                               registers there; hardware isolation holds)
 *   a capability vstub knows    read through, writes dropped, except:
 *     Power Management          PMCSR written through but for the power
 *                               state (vstub moves the function itself,
 *                               D3hot zaps the BAR mmaps and stops BAR
 *                               access as decode off does) and PME_En /
 *                               PME_Status (virtual, read as 0)
 *     MSI                       control (low byte), address and data are a
 *                               virtual copy that never reaches the device
 *                               (vstub programs MSI itself through SET_IRQS);
 *                               the enable bit reads vstub's state and the
 *                               queue size is clamped; mask bits written
 *                               through
 *     MSI-X                     read-only (vstub programs it)
 *     PCI Express               device control written through but for
 *                               phantom functions (read-only), MPS (a virtual
 *                               copy), MRRS (virtual, the device gets at
 *                               least its MPS) and FLR (a function reset);
 *                               device control 2 but for ARI
 *     PCI-X                     command and ECC control/status
 *     Advanced Features         FLR (a function reset)
 *     vendor-specific           written through, whole
 *     AER (extended)            the error status, mask and severity bits
 *                               the spec defines, ECRC enables
 *     Power Budgeting           the data select register
 *     vendor-specific extended  written through, whole
 *   a capability vfio-pci hides from the chain (unknown or length 0):
 *                               as bytes in no capability
 *   extended capability headers read-only
 *
 * The table is built per device at first open (vstub_config_perm_init())
 * from the device's capability lists: one write mask and one "virtual"
 * mask per byte, and the virtual values.  vdev->lock protects all of it.
 * Not done: VPD (read-only here, vfio-pci emulates its address/data
 * registers).
 */
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vstub_vfio.h"
#include "vstub_irq.h"

/**
 * struct vstub_cfg_perm - config space permissions of one open device
 * @size:    config space size (pdev->cfg_size)
 * @msi:     offset of the MSI capability, 0 without
 * @pm:      offset of the PM capability, 0 without
 * @exp:     offset of the PCI Express capability, 0 without
 * @af:      offset of the Advanced Features capability, 0 without
 * @pm_save: config state saved when userspace put a function that loses
 *           it in D3hot (NoSoftRst-), restored when it returns to D0
 * @wmask:   per byte, the bits userspace may write
 * @vmask:   per byte, the bits that are virtual (@vcfg, not the device)
 * @vcfg:    virtual values
 * @bytes:   storage of @wmask, @vmask and @vcfg (@size bytes each)
 */
struct vstub_cfg_perm {
	unsigned int size;
	unsigned int msi, pm, exp, af;
	struct pci_saved_state *pm_save;
	u8 *wmask;
	u8 *vmask;
	u8 *vcfg;
	u8 bytes[];
};

static void perm_set(struct vstub_cfg_perm *p, unsigned int off,
		     unsigned int len, u32 virt, u32 write)
{
	unsigned int i;

	for (i = 0; i < len && off + i < p->size; i++) {
		p->vmask[off + i] = virt >> (8 * i);
		p->wmask[off + i] = write >> (8 * i);
	}
}

static void perm_write_all(struct vstub_cfg_perm *p, unsigned int off,
			   unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len && off + i < p->size; i++) {
		p->wmask[off + i] = 0xff;
		p->vmask[off + i] = 0;
	}
}

static void perm_readonly(struct vstub_cfg_perm *p, unsigned int off,
			  unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len && off + i < p->size; i++)
		p->wmask[off + i] = p->vmask[off + i] = 0;
}

/* Fill @p->vcfg[@off, @off + @len) from the device. */
static void perm_fill(struct pci_dev *pdev, struct vstub_cfg_perm *p,
		      unsigned int off, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len && off + i < p->size; i++)
		pci_read_config_byte(pdev, off + i, &p->vcfg[off + i]);
}

/* Length of the MSI capability at @pos. */
static unsigned int msi_len(struct pci_dev *pdev, unsigned int pos)
{
	unsigned int len = 10;
	u16 flags;

	pci_read_config_word(pdev, pos + PCI_MSI_FLAGS, &flags);
	if (flags & PCI_MSI_FLAGS_64BIT)
		len += 4;
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		len += 10;
	return len;
}

/* Length of standard capability @id at @pos as vfio-pci sizes it; 0: hidden. */
static unsigned int cap_len(struct pci_dev *pdev, u8 id, unsigned int pos)
{
	u16 word;
	u8 byte;

	switch (id) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_AGP:
		return PCI_AGP_SIZEOF;
	case PCI_CAP_ID_VPD:
		return PCI_CAP_VPD_SIZEOF;
	case PCI_CAP_ID_MSI:
		return msi_len(pdev, pos);
	case PCI_CAP_ID_PCIX:
		pci_read_config_word(pdev, pos + PCI_X_CMD, &word);
		return PCI_X_CMD_VERSION(word) ? PCI_CAP_PCIX_SIZEOF_V2 :
						 PCI_CAP_PCIX_SIZEOF_V0;
	case PCI_CAP_ID_HT:
		pci_read_config_byte(pdev, pos + 3, &byte);
		return (byte & HT_3BIT_CAP_MASK) ? HT_CAP_SIZEOF_SHORT :
						   HT_CAP_SIZEOF_LONG;
	case PCI_CAP_ID_VNDR:
		pci_read_config_byte(pdev, pos + PCI_CAP_FLAGS, &byte);
		return byte;
	case PCI_CAP_ID_EXP:
		if ((pcie_caps_reg(pdev) & PCI_EXP_FLAGS_VERS) == 1)
			return pci_pcie_type(pdev) == PCI_EXP_TYPE_RC_END ?
			       PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1 :
			       PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
		return pci_pcie_type(pdev) == PCI_EXP_TYPE_RC_END ?
		       PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2 :
		       PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_SATA:
		pci_read_config_byte(pdev, pos + PCI_SATA_REGS, &byte);
		return (byte & PCI_SATA_REGS_MASK) == PCI_SATA_REGS_INLINE ?
		       PCI_SATA_SIZEOF_LONG : PCI_SATA_SIZEOF_SHORT;
	case PCI_CAP_ID_AF:
		return PCI_CAP_AF_SIZEOF;
	default:	/* slot ID, hot swap, debug, bridge-only, unknown... */
		return 0;
	}
}

/* Length of a Virtual Channel (or MFVC) extended capability at @pos. */
static unsigned int vc_len(struct pci_dev *pdev, unsigned int pos)
{
	unsigned int len = PCI_CAP_VC_BASE_SIZEOF, arb = 0;
	u32 cap1 = 0, cap2 = 0;

	pci_read_config_dword(pdev, pos + PCI_VC_PORT_CAP1, &cap1);
	pci_read_config_dword(pdev, pos + PCI_VC_PORT_CAP2, &cap2);
	if (cap2 & PCI_VC_CAP2_128_PHASE)
		arb = 128;
	else if (cap2 & PCI_VC_CAP2_64_PHASE)
		arb = 64;
	else if (cap2 & PCI_VC_CAP2_32_PHASE)
		arb = 32;
	len += (1 + (cap1 & PCI_VC_CAP1_EVCC)) * PCI_CAP_VC_PER_VC_SIZEOF;
	if (arb)
		len = round_up(len, 16) + arb * 4 / 8;
	return len;
}

/* Length of extended capability @id at @pos as vfio-pci sizes it; 0: hidden. */
static unsigned int ecap_len(struct pci_dev *pdev, u16 id, unsigned int pos)
{
	u32 dword = 0;
	u8 byte = 0;

	switch (id) {
	case PCI_EXT_CAP_ID_ERR:
		return PCI_ERR_ROOT_COMMAND;
	case PCI_EXT_CAP_ID_VC:
	case PCI_EXT_CAP_ID_VC9:
	case PCI_EXT_CAP_ID_MFVC:
		return vc_len(pdev, pos);
	case PCI_EXT_CAP_ID_DSN:
		return PCI_EXT_CAP_DSN_SIZEOF;
	case PCI_EXT_CAP_ID_PWR:
		return PCI_EXT_CAP_PWR_SIZEOF;
	case PCI_EXT_CAP_ID_VNDR:
		pci_read_config_dword(pdev, pos + PCI_VSEC_HDR, &dword);
		return dword >> PCI_VSEC_HDR_LEN_SHIFT;
	case PCI_EXT_CAP_ID_ACS:
		pci_read_config_byte(pdev, pos + PCI_ACS_CAP, &byte);
		if (byte & PCI_ACS_EC) {
			pci_read_config_byte(pdev, pos + PCI_ACS_EGRESS_BITS,
					     &byte);
			return 8 + (byte ? round_up(byte, 32) : 256) / 8;
		}
		return 8;
	case PCI_EXT_CAP_ID_ARI:
		return PCI_EXT_CAP_ARI_SIZEOF;
	case PCI_EXT_CAP_ID_ATS:
		return PCI_EXT_CAP_ATS_SIZEOF;
	case PCI_EXT_CAP_ID_SRIOV:
		return PCI_EXT_CAP_SRIOV_SIZEOF;
	case PCI_EXT_CAP_ID_MCAST:
		return PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF;
	case PCI_EXT_CAP_ID_PRI:
		return PCI_EXT_CAP_PRI_SIZEOF;
	case PCI_EXT_CAP_ID_REBAR:
		pci_read_config_byte(pdev, pos + PCI_REBAR_CTRL, &byte);
		return 4 + ((byte & PCI_REBAR_CTRL_NBAR_MASK) >>
			    PCI_REBAR_CTRL_NBAR_SHIFT) * 8;
	case PCI_EXT_CAP_ID_DPA:
		pci_read_config_byte(pdev, pos + PCI_DPA_CAP, &byte);
		return PCI_DPA_BASE_SIZEOF + (byte & PCI_DPA_CAP_SUBSTATE_MASK) + 1;
	case PCI_EXT_CAP_ID_TPH:
		pci_read_config_dword(pdev, pos + PCI_TPH_CAP, &dword);
		if ((dword & PCI_TPH_CAP_LOC_MASK) == PCI_TPH_LOC_CAP)
			return PCI_TPH_BASE_SIZEOF + 2 +
			       ((dword & PCI_TPH_CAP_ST_MASK) >>
				PCI_TPH_CAP_ST_SHIFT) * 2;
		return PCI_TPH_BASE_SIZEOF;
	case PCI_EXT_CAP_ID_LTR:
		return PCI_EXT_CAP_LTR_SIZEOF;
	default:
		return 0;
	}
}

static void perm_cap(struct pci_dev *pdev, struct vstub_cfg_perm *p, u8 id,
		     unsigned int pos, unsigned int len)
{
	u16 flags;

	perm_readonly(p, pos, len);
	switch (id) {
	case PCI_CAP_ID_PM:
		p->pm = pos;
		perm_set(p, pos + PCI_PM_CTRL, 4,
			 PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
			 ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS |
			   PCI_PM_CTRL_STATE_MASK));
		/* PME_En and PME_Status read as 0. */
		p->vcfg[pos + PCI_PM_CTRL] &= ~PCI_PM_CTRL_PME_ENABLE;
		p->vcfg[pos + PCI_PM_CTRL + 1] &= ~(PCI_PM_CTRL_PME_STATUS >> 8);
		break;
	case PCI_CAP_ID_MSI:
		p->msi = pos;
		pci_read_config_word(pdev, pos + PCI_MSI_FLAGS, &flags);
		perm_set(p, pos + PCI_MSI_FLAGS, 1, 0xff, 0xff);
		perm_set(p, pos + PCI_MSI_ADDRESS_LO, 4, ~0U, ~0U);
		if (flags & PCI_MSI_FLAGS_64BIT) {
			perm_set(p, pos + PCI_MSI_ADDRESS_HI, 4, ~0U, ~0U);
			perm_set(p, pos + PCI_MSI_DATA_64, 2, 0xffff, 0xffff);
			if (flags & PCI_MSI_FLAGS_MASKBIT) {
				perm_set(p, pos + PCI_MSI_MASK_64, 4, 0, ~0U);
				perm_set(p, pos + PCI_MSI_PENDING_64, 4, 0, ~0U);
			}
		} else {
			perm_set(p, pos + PCI_MSI_DATA_32, 2, 0xffff, 0xffff);
			if (flags & PCI_MSI_FLAGS_MASKBIT) {
				perm_set(p, pos + PCI_MSI_MASK_32, 4, 0, ~0U);
				perm_set(p, pos + PCI_MSI_PENDING_32, 4, 0, ~0U);
			}
		}
		break;
	case PCI_CAP_ID_PCIX:
		perm_set(p, pos + PCI_X_CMD, 2, 0, 0xffff);
		if (len > PCI_X_ECC_CSR)
			perm_set(p, pos + PCI_X_ECC_CSR, 4, 0, ~0U);
		break;
	case PCI_CAP_ID_VNDR:
		perm_write_all(p, pos, len);
		break;
	case PCI_CAP_ID_EXP:
		p->exp = pos;
		perm_set(p, pos + PCI_EXP_DEVCTL, 2,
			 PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD |
			 PCI_EXP_DEVCTL_READRQ, (u16)~PCI_EXP_DEVCTL_PHANTOM);
		p->vcfg[pos + PCI_EXP_DEVCTL + 1] &=
			~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
		if (len > PCI_EXP_DEVCTL2)
			perm_set(p, pos + PCI_EXP_DEVCTL2, 2, 0,
				 (u16)~PCI_EXP_DEVCTL2_ARI);
		break;
	case PCI_CAP_ID_AF:
		p->af = pos;
		perm_set(p, pos + PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR,
			 PCI_AF_CTRL_FLR);
		p->vcfg[pos + PCI_AF_CTRL] &= ~PCI_AF_CTRL_FLR;
		break;
	}
}

static void perm_ecap(struct vstub_cfg_perm *p, u16 id, unsigned int pos,
		      unsigned int len)
{
	u32 unc = PCI_ERR_UNC_UND | PCI_ERR_UNC_DLP | PCI_ERR_UNC_SURPDN |
		  PCI_ERR_UNC_POISON_TLP | PCI_ERR_UNC_FCP |
		  PCI_ERR_UNC_COMP_TIME | PCI_ERR_UNC_COMP_ABORT |
		  PCI_ERR_UNC_UNX_COMP | PCI_ERR_UNC_RX_OVER |
		  PCI_ERR_UNC_MALF_TLP | PCI_ERR_UNC_ECRC | PCI_ERR_UNC_UNSUP |
		  PCI_ERR_UNC_ACSV | PCI_ERR_UNC_INTN | PCI_ERR_UNC_MCBTLP |
		  PCI_ERR_UNC_ATOMEG | PCI_ERR_UNC_TLPPRE;
	u32 cor = PCI_ERR_COR_RCVR | PCI_ERR_COR_BAD_TLP |
		  PCI_ERR_COR_BAD_DLLP | PCI_ERR_COR_REP_ROLL |
		  PCI_ERR_COR_REP_TIMER | PCI_ERR_COR_ADV_NFAT |
		  PCI_ERR_COR_INTERNAL | PCI_ERR_COR_LOG_OVER;

	perm_readonly(p, pos, len);
	switch (id) {
	case PCI_EXT_CAP_ID_ERR:
		perm_set(p, pos + PCI_ERR_UNCOR_STATUS, 4, 0, unc);
		perm_set(p, pos + PCI_ERR_UNCOR_MASK, 4, 0, unc);
		perm_set(p, pos + PCI_ERR_UNCOR_SEVER, 4, 0, unc);
		perm_set(p, pos + PCI_ERR_COR_STATUS, 4, 0, cor);
		perm_set(p, pos + PCI_ERR_COR_MASK, 4, 0, cor);
		perm_set(p, pos + PCI_ERR_CAP, 4, 0,
			 PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE);
		break;
	case PCI_EXT_CAP_ID_PWR:
		perm_set(p, pos + PCI_PWR_DATA, 1, 0, 0xff);
		break;
	case PCI_EXT_CAP_ID_VNDR:
		perm_write_all(p, pos, len);
		break;
	}
}

static void perm_walk_caps(struct pci_dev *pdev, struct vstub_cfg_perm *p)
{
	int loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / PCI_CAP_SIZEOF;
	u8 pos = 0, id, next;
	u16 status;

	pci_read_config_word(pdev, PCI_STATUS, &status);
	if (!(status & PCI_STATUS_CAP_LIST))
		return;
	pci_read_config_byte(pdev, PCI_CAPABILITY_LIST, &pos);
	while (pos >= PCI_STD_HEADER_SIZEOF && loops--) {
		unsigned int len;

		pci_read_config_byte(pdev, pos + PCI_CAP_LIST_ID, &id);
		pci_read_config_byte(pdev, pos + PCI_CAP_LIST_NEXT, &next);
		len = id ? cap_len(pdev, id, pos) : 0;
		if (len) {
			perm_fill(pdev, p, pos, len);
			perm_cap(pdev, p, id, pos, len);
		}
		pos = next & ~3;
	}
}

static void perm_walk_ecaps(struct pci_dev *pdev, struct vstub_cfg_perm *p)
{
	int loops = (p->size - PCI_CFG_SPACE_SIZE) / PCI_CAP_SIZEOF;
	unsigned int pos = PCI_CFG_SPACE_SIZE;
	bool first = true;
	u32 header;

	if (p->size <= PCI_CFG_SPACE_SIZE)
		return;
	while (loops-- > 0 && pos >= PCI_CFG_SPACE_SIZE) {
		unsigned int len;
		u16 id;

		if (pci_read_config_dword(pdev, pos, &header) || !header)
			return;
		id = PCI_EXT_CAP_ID(header);
		len = ecap_len(pdev, id, pos);
		if (len) {
			perm_fill(pdev, p, pos, len);
			perm_ecap(p, id, pos, len);
		} else if (first) {
			/* vfio-pci keeps a hidden first one as an anchor. */
			perm_readonly(p, pos, PCI_CAP_SIZEOF);
		}
		first = false;
		pos = PCI_EXT_CAP_NEXT(header);
	}
}

/* Build @vdev's table at first open.  vdev->lock held. */
int vstub_config_perm_init(struct vstub_vdev *vdev)
{
	struct pci_dev *pdev = vdev->pdev;
	unsigned int size = pdev->cfg_size;
	struct vstub_cfg_perm *p;

	p = kvzalloc(struct_size(p, bytes, 3 * size), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->size = size;
	p->wmask = p->bytes;
	p->vmask = p->bytes + size;
	p->vcfg = p->bytes + 2 * size;
	/* Bytes in no capability: read and written through. */
	memset(p->wmask + PCI_STD_HEADER_SIZEOF, 0xff,
	       size - PCI_STD_HEADER_SIZEOF);
	perm_walk_caps(pdev, p);
	if (pci_is_pcie(pdev) || pci_find_capability(pdev, PCI_CAP_ID_PCIX))
		perm_walk_ecaps(pdev, p);
	vdev->cfg_perm = p;
	return 0;
}

/* Put the function in @state as userspace asked through PMCSR. */
static void vstub_config_set_power(struct vstub_vdev *vdev, pci_power_t state)
{
	struct vstub_cfg_perm *p = vdev->cfg_perm;
	struct pci_dev *pdev = vdev->pdev;
	bool soft_reset;
	u16 pmcsr;

	pci_read_config_word(pdev, p->pm + PCI_PM_CTRL, &pmcsr);
	soft_reset = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
	/* Leaving D0: no BAR page stays mapped, as with decode off. */
	if (state == PCI_D3hot) {
		vstub_bar_zap(vdev);
		if (soft_reset && !vstub_pci_in_d3(pdev)) {
			pci_save_state(pdev);
			kfree(p->pm_save);
			p->pm_save = pci_store_saved_state(pdev);
		}
	}
	if (pci_set_power_state(pdev, state))
		return;
	if (state == PCI_D0 && p->pm_save) {
		pci_load_and_free_saved_state(pdev, &p->pm_save);
		pci_restore_state(pdev);
		vstub_irq_reset_done(vdev);
	}
}

/* Bring the function back to D0 (before a reset, at last close). */
void vstub_config_power_d0(struct vstub_vdev *vdev)
{
	lockdep_assert_held(&vdev->lock);
	if (vdev->cfg_perm && vdev->cfg_perm->pm &&
	    vdev->pdev->current_state != PCI_D0)
		vstub_config_set_power(vdev, PCI_D0);
}

/* Last close: the function back in D0, the table freed.  vdev->lock held. */
void vstub_config_perm_exit(struct vstub_vdev *vdev)
{
	struct vstub_cfg_perm *p = vdev->cfg_perm;

	if (!p)
		return;
	vstub_config_power_d0(vdev);
	kfree(p->pm_save);
	kvfree(p);
	vdev->cfg_perm = NULL;
}

/* The function reset behind an FLR bit (PCIe or AF) userspace set. */
static void vstub_config_flr(struct vstub_vdev *vdev)
{
	bool off;

	vstub_bar_zap(vdev);
	off = vstub_config_memory_enable(vdev);
	if (pci_try_reset_function(vdev->pdev))
		pci_dbg(vdev->pdev, "FLR asked through config space failed\n");
	vstub_irq_reset_done(vdev);
	vstub_config_memory_restore(vdev, off);
}

/*
 * After a write of the @mask bytes of @val at @where (@old: the virtual
 * values there before it): act on what it asked for.
 */
static void vstub_config_perm_after(struct vstub_vdev *vdev, int where,
				    u32 val, u32 mask, u32 old)
{
	struct vstub_cfg_perm *p = vdev->cfg_perm;
	struct pci_dev *pdev = vdev->pdev;
	u16 flags, devctl, qmax;
	int readrq;
	u32 cap;
	u8 *v;

	/* MSI control: vstub's enable state, queue size within the table. */
	if (p->msi && where == p->msi && (mask & 0x00ff0000)) {
		v = &p->vcfg[p->msi + PCI_MSI_FLAGS];
		pci_read_config_word(pdev, p->msi + PCI_MSI_FLAGS, &flags);
		*v = (*v & ~PCI_MSI_FLAGS_ENABLE) |
		     (flags & PCI_MSI_FLAGS_ENABLE);
		qmax = (flags & PCI_MSI_FLAGS_QMASK) >> 1;
		*v = (*v & ~PCI_MSI_FLAGS_QMASK) | (qmax << 1);
		if (((*v & PCI_MSI_FLAGS_QSIZE) >> 4) > qmax)
			*v = (*v & ~PCI_MSI_FLAGS_QSIZE) | (qmax << 4);
	}

	/* Power state: vstub moves the function. */
	if (p->pm && where == p->pm + PCI_PM_CTRL && (mask & 0xff)) {
		static const pci_power_t states[] = {
			PCI_D0, PCI_D1, PCI_D2, PCI_D3hot
		};

		vstub_config_set_power(vdev,
				       states[val & PCI_PM_CTRL_STATE_MASK]);
	}

	/* PCIe device control: FLR and MRRS. */
	if (p->exp && where == p->exp + PCI_EXP_DEVCTL && (mask & 0xffff)) {
		v = &p->vcfg[p->exp + PCI_EXP_DEVCTL];
		devctl = v[0] | v[1] << 8;
		if (devctl & PCI_EXP_DEVCTL_BCR_FLR) {
			v[1] &= ~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
			pci_read_config_dword(pdev, p->exp + PCI_EXP_DEVCAP,
					      &cap);
			if (cap & PCI_EXP_DEVCAP_FLR)
				vstub_config_flr(vdev);
		}
		if ((devctl ^ old) & PCI_EXP_DEVCTL_READRQ) {
			readrq = 128 << ((devctl & PCI_EXP_DEVCTL_READRQ) >> 12);
			pcie_set_readrq(pdev, max_t(int, readrq,
						    pcie_get_mps(pdev)));
		}
	}

	/* Advanced Features: FLR. */
	if (p->af && where == ((p->af + PCI_AF_CTRL) & ~3) &&
	    (mask & (0xffU << (8 * ((p->af + PCI_AF_CTRL) & 3))))) {
		v = &p->vcfg[p->af + PCI_AF_CTRL];
		if (*v & PCI_AF_CTRL_FLR) {
			u8 afcap;

			*v &= ~PCI_AF_CTRL_FLR;
			pci_read_config_byte(pdev, p->af + PCI_AF_CAP, &afcap);
			if ((afcap & PCI_AF_CAP_FLR) && (afcap & PCI_AF_CAP_TP))
				vstub_config_flr(vdev);
		}
	}
}

/* Config accesses of the bytes of @mask in the dword at @where. */
static int cfg_access(struct pci_dev *pdev, int where, u32 mask, u32 *val,
		      bool write)
{
	int ret = 0, b, n;

	for (b = 0; b < 4 && !ret; b += n) {
		u32 m = 0xffU << (8 * b);

		n = 1;
		if (!(mask & m))
			continue;
		if (!b && mask == ~0U) {
			n = 4;
			ret = write ? pci_user_write_config_dword(pdev, where, *val) :
				      pci_user_read_config_dword(pdev, where, val);
		} else if (!(b & 1) && (mask >> (8 * b) & 0xffff) == 0xffff) {
			u16 w = *val >> (8 * b);

			n = 2;
			if (write) {
				ret = pci_user_write_config_word(pdev, where + b, w);
			} else {
				ret = pci_user_read_config_word(pdev, where + b, &w);
				*val = (*val & ~(0xffffU << (8 * b))) |
				       (u32)w << (8 * b);
			}
		} else {
			u8 c = *val >> (8 * b);

			if (write) {
				ret = pci_user_write_config_byte(pdev, where + b, c);
			} else {
				ret = pci_user_read_config_byte(pdev, where + b, &c);
				*val = (*val & ~m) | (u32)c << (8 * b);
			}
		}
	}
	return ret ? pcibios_err_to_errno(ret) : 0;
}

/*
 * Userspace writes the bytes of @mask of @val to the dword at @where
 * (>= PCI_STD_HEADER_SIZEOF).  vdev->lock held.
 */
int vstub_config_perm_write(struct vstub_vdev *vdev, int where, u32 val,
			    u32 mask)
{
	struct vstub_cfg_perm *p = vdev->cfg_perm;
	u32 w = 0, virt = 0, old = 0, phys = 0;
	int b, ret;

	lockdep_assert_held(&vdev->lock);
	if (!p)
		return 0;
	for (b = 0; b < 4; b++) {
		if (!(mask & (0xffU << (8 * b))) || where + b >= p->size)
			continue;
		w |= (u32)p->wmask[where + b] << (8 * b);
		virt |= (u32)p->vmask[where + b] << (8 * b);
		old |= (u32)p->vcfg[where + b] << (8 * b);
	}
	if (!w)
		return 0;	/* as vfio-pci: read-only bits, dropped */
	for (b = 0; b < 4; b++) {
		u8 bits = (w & virt) >> (8 * b);

		if (bits)
			p->vcfg[where + b] = (p->vcfg[where + b] & ~bits) |
					     ((val >> (8 * b)) & bits);
	}
	if (w & ~virt) {
		ret = cfg_access(vdev->pdev, where, mask, &phys, false);
		if (ret)
			return ret;
		phys = (phys & ~(w & ~virt)) | (val & w & ~virt);
		ret = cfg_access(vdev->pdev, where, mask, &phys, true);
		if (ret)
			return ret;
	}
	vstub_config_perm_after(vdev, where, val, mask, old);
	return 0;
}

/* The virtual bits of the dword at @where (>= 0x40) into @val. */
void vstub_config_perm_read(struct vstub_vdev *vdev, int where, u32 *val)
{
	struct vstub_cfg_perm *p = vdev->cfg_perm;
	int b;

	if (!p)
		return;
	for (b = 0; b < 4 && where + b < p->size; b++) {
		u32 vm = (u32)p->vmask[where + b] << (8 * b);

		*val = (*val & ~vm) | (((u32)p->vcfg[where + b] << (8 * b)) & vm);
	}
}
