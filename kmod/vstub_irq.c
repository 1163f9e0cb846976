// SPDX-License-Identifier: GPL-2.0
/*
 * vstub_irq.c - interrupts of a captured device, delivered to userspace
 * through eventfds with the VFIO_DEVICE_GET_IRQ_INFO / VFIO_DEVICE_SET_IRQS
 * semantics:
 *
 *   INTx  (index 0) level triggered, masked automatically when it fires
 *                   (the command register's INTx disable bit) until
 *                   userspace unmasks it; MASK/UNMASK by userspace
 *   MSI   (index 1) and MSI-X (index 2): one eventfd per vector; a larger
 *                   start + count re-enables the index with that many
 *                   vectors; eventfd -1 de-assigns one vector; count 0
 *                   disables the index
 *   ERR   (index 3) signalled when the PCI core reports an AER error
 *   REQ   (index 4) signalled when vstub must get the device back (unbind,
 *                   release, hot-remove)
 *
 * ACTION_TRIGGER with DATA_NONE or DATA_BOOL is a software loopback that
 * signals the eventfds, as VFIO clients use to test their set-up.
 * Only one of INTx, MSI and MSI-X is enabled at a time.
 *
 * While INTx is enabled its handler stays requested (a shared line must
 * always have the handler of a device that may assert it); only the
 * eventfd is swapped, under vstub_irqs.lock.  The INTx disable bit of the
 * command register then belongs to vstub: userspace sees and writes a
 * virtual copy (vstub_irq_cmd_read()/vstub_irq_cmd_write()).
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vstub_vfio.h"
#include "vstub_irq.h"

/**
 * struct vstub_irq_vec - one interrupt vector handed to userspace
 * @trigger: eventfd signalled when it fires.  MSI/MSI-X: set before the
 *           handler is requested and cleared after it is freed, so the
 *           handler reads it without a lock.  INTx: under vstub_irqs.lock.
 * @irq:     Linux interrupt number while a handler is requested, else 0
 * @name:    name shown in /proc/interrupts
 */
struct vstub_irq_vec {
	struct eventfd_ctx *trigger;
	int irq;
	char name[40];
};

/**
 * struct vstub_irqs - interrupt state of one device
 * @lock:          spinlock protecting @intx_masked, the INTx trigger,
 *                 @err_trigger and @req_trigger (read by the interrupt
 *                 and PCI error paths), and serializing every change of
 *                 the command register while INTx is enabled
 * @index:         the enabled index among INTx/MSI/MSI-X, or -1
 * @count:         number of vectors of @index enabled
 * @vecs:          the vectors of @index: @count entries, or as many as the
 *                 MSI-X table has when MSI-X may grow while enabled
 * @intx_masked:   INTx is masked (by the handler or by userspace)
 * @intx_vdisable: the INTx disable bit as userspace wrote it (while INTx
 *                 is enabled, the real bit is vstub's)
 * @err_trigger:   eventfd of the ERR index or NULL
 * @req_trigger:   eventfd of the REQ index or NULL
 *
 * @index, @count, @vecs and @intx_vdisable change only under vdev->lock.
 */
struct vstub_irqs {
	spinlock_t lock;
	int index;
	unsigned int count;
	struct vstub_irq_vec *vecs;
	bool intx_masked;
	bool intx_vdisable;
	struct eventfd_ctx *err_trigger;
	struct eventfd_ctx *req_trigger;
};

int vstub_irq_init(struct vstub_vdev *vdev)
{
	struct vstub_irqs *irqs = kzalloc(sizeof(*irqs), GFP_KERNEL);

	if (!irqs)
		return -ENOMEM;
	spin_lock_init(&irqs->lock);
	irqs->index = -1;
	vdev->irqs = irqs;
	return 0;
}

/* The last reference to @vdev is gone: nothing may be left enabled. */
void vstub_irq_free(struct vstub_vdev *vdev)
{
	struct vstub_irqs *irqs = vdev->irqs;

	if (!irqs)
		return;
	WARN_ON(irqs->index >= 0 || irqs->err_trigger || irqs->req_trigger);
	kfree(irqs);
	vdev->irqs = NULL;
}

static unsigned int vstub_irq_count(struct pci_dev *pdev, unsigned int index)
{
	u8 pin = 0;
	int n;

	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		/* As vfio-pci: the pin decides (a VF never has INTx). */
		if (pdev->is_virtfn)
			return 0;
		pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
		return pin ? 1 : 0;
	case VFIO_PCI_MSI_IRQ_INDEX:
		n = pci_msi_vec_count(pdev);
		return n > 0 ? n : 0;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		n = pci_msix_vec_count(pdev);
		return n > 0 ? n : 0;
	case VFIO_PCI_ERR_IRQ_INDEX:
		return pci_is_pcie(pdev) ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
}

/*
 * VFIO_DEVICE_GET_IRQ_INFO for @info->index (already range-checked), as
 * vfio-pci answers it: the ERR index exists only on PCI Express functions
 * (-EINVAL otherwise); every index but INTx is NORESIZE, except MSI-X
 * where the kernel can add vectors to an enabled MSI-X (then vstub does).
 */
int vstub_irq_get_info(struct vstub_vdev *vdev, struct vfio_irq_info *info)
{
	if (info->index == VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(vdev->pdev))
		return -EINVAL;
	info->count = vstub_irq_count(vdev->pdev, info->index);
	info->flags = VFIO_IRQ_INFO_EVENTFD;
	if (info->index == VFIO_PCI_INTX_IRQ_INDEX)
		info->flags |= VFIO_IRQ_INFO_MASKABLE |
			       VFIO_IRQ_INFO_AUTOMASKED;
	else if (info->index != VFIO_PCI_MSIX_IRQ_INDEX ||
		 !vstub_msix_can_grow(vdev->pdev))
		info->flags |= VFIO_IRQ_INFO_NORESIZE;
	return 0;
}

static bool vstub_intx_enabled(struct vstub_irqs *irqs)
{
	return irqs->index == VFIO_PCI_INTX_IRQ_INDEX;
}

static irqreturn_t vstub_intx_handler(int irq, void *data)
{
	struct vstub_vdev *vdev = data;
	struct vstub_irqs *irqs = vdev->irqs;
	irqreturn_t ret = IRQ_NONE;
	unsigned long flags;

	spin_lock_irqsave(&irqs->lock, flags);
	/* Shared line: only claim it when our device asserts it. */
	if (!irqs->intx_masked && pci_check_and_mask_intx(vdev->pdev)) {
		irqs->intx_masked = true;
		if (irqs->vecs[0].trigger)
			vstub_eventfd_signal(irqs->vecs[0].trigger);
		ret = IRQ_HANDLED;
	}
	spin_unlock_irqrestore(&irqs->lock, flags);
	return ret;
}

static irqreturn_t vstub_msi_handler(int irq, void *data)
{
	struct vstub_irq_vec *vec = data;

	vstub_eventfd_signal(vec->trigger);
	return IRQ_HANDLED;
}

static void vstub_intx_mask(struct vstub_vdev *vdev, bool mask)
{
	struct vstub_irqs *irqs = vdev->irqs;
	unsigned long flags;

	spin_lock_irqsave(&irqs->lock, flags);
	if (mask && !irqs->intx_masked) {
		pci_intx(vdev->pdev, 0);
		irqs->intx_masked = true;
	} else if (!mask && irqs->intx_masked) {
		/* Still asserted: it stays masked and is reported again. */
		if (pci_check_and_unmask_intx(vdev->pdev))
			irqs->intx_masked = false;
		else if (irqs->vecs[0].trigger)
			vstub_eventfd_signal(irqs->vecs[0].trigger);
	}
	spin_unlock_irqrestore(&irqs->lock, flags);
}

/* Swap the INTx eventfd (its handler stays); the old one is returned. */
static struct eventfd_ctx *vstub_intx_swap(struct vstub_irqs *irqs,
					   struct eventfd_ctx *trigger)
{
	struct eventfd_ctx *old;
	unsigned long flags;

	spin_lock_irqsave(&irqs->lock, flags);
	old = irqs->vecs[0].trigger;
	irqs->vecs[0].trigger = trigger;
	spin_unlock_irqrestore(&irqs->lock, flags);
	return old;
}

/* Stop an MSI/MSI-X vector's handler and drop its eventfd. */
static void vstub_msi_release(struct vstub_irq_vec *vec)
{
	if (vec->irq) {
		free_irq(vec->irq, vec);
		vec->irq = 0;
	}
	if (vec->trigger) {
		eventfd_ctx_put(vec->trigger);
		vec->trigger = NULL;
	}
}

/*
 * Give vector @i the eventfd @trigger (NULL: none).  The reference on
 * @trigger is consumed, also on failure.
 */
static int vstub_vec_assign(struct vstub_vdev *vdev, unsigned int i,
			    struct eventfd_ctx *trigger)
{
	struct vstub_irqs *irqs = vdev->irqs;
	struct vstub_irq_vec *vec = &irqs->vecs[i];
	struct pci_dev *pdev = vdev->pdev;
	struct eventfd_ctx *old;
	int irq, ret;

	if (vstub_intx_enabled(irqs)) {
		old = vstub_intx_swap(irqs, trigger);
		if (old)
			eventfd_ctx_put(old);
		return 0;
	}

	vstub_msi_release(vec);
	if (!trigger)
		return 0;
	irq = pci_irq_vector(pdev, i);
	if (irq < 0) {
		ret = irq;
		goto err_put;
	}
	vec->trigger = trigger;
	ret = request_irq(irq, vstub_msi_handler, 0, vec->name, vec);
	if (ret) {
		vec->trigger = NULL;
		goto err_put;
	}
	vec->irq = irq;
	return 0;

err_put:
	pci_warn(pdev, "cannot set up interrupt %u for userspace: %d\n", i,
		 ret);
	eventfd_ctx_put(trigger);
	return ret;
}

/* Tear down INTx/MSI/MSI-X, whichever is enabled. */
static void vstub_irq_disable(struct vstub_vdev *vdev)
{
	struct vstub_irqs *irqs = vdev->irqs;
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;
	unsigned int i;

	if (irqs->index < 0)
		return;
	if (vstub_intx_enabled(irqs)) {
		/* Leave the line masked at the device: no handler from now. */
		spin_lock_irqsave(&irqs->lock, flags);
		pci_intx(pdev, 0);
		irqs->intx_masked = true;
		spin_unlock_irqrestore(&irqs->lock, flags);
		free_irq(pdev->irq, vdev);
		if (irqs->vecs[0].trigger)
			eventfd_ctx_put(irqs->vecs[0].trigger);
	} else {
		for (i = 0; i < irqs->count; i++)
			vstub_msi_release(&irqs->vecs[i]);
		pci_free_irq_vectors(pdev);
	}
	kvfree(irqs->vecs);
	irqs->vecs = NULL;
	irqs->count = 0;
	irqs->index = -1;
	irqs->intx_masked = false;
}

static int vstub_irq_enable(struct vstub_vdev *vdev, unsigned int index,
			    unsigned int count)
{
	struct vstub_irqs *irqs = vdev->irqs;
	struct pci_dev *pdev = vdev->pdev;
	unsigned int i, room;
	unsigned long flags;
	u16 cmd;
	int ret;

	/* A growable MSI-X gets room for its whole table (stable @vecs). */
	room = count;
	if (index == VFIO_PCI_MSIX_IRQ_INDEX && vstub_msix_can_grow(pdev))
		room = max(count, vstub_irq_count(pdev, index));
	irqs->vecs = kvcalloc(room, sizeof(*irqs->vecs), GFP_KERNEL);
	if (!irqs->vecs)
		return -ENOMEM;
	for (i = 0; i < room; i++)
		snprintf(irqs->vecs[i].name, sizeof(irqs->vecs[i].name),
			 "vstub-%s[%u](%s)",
			 index == VFIO_PCI_INTX_IRQ_INDEX ? "intx" :
			 index == VFIO_PCI_MSI_IRQ_INDEX ? "msi" : "msix",
			 i, pci_name(pdev));

	if (index != VFIO_PCI_INTX_IRQ_INDEX) {
		ret = pci_alloc_irq_vectors(pdev, count, count,
					    index == VFIO_PCI_MSI_IRQ_INDEX ?
					    PCI_IRQ_MSI : PCI_IRQ_MSIX);
		if (ret < 0)
			goto err_free;
		irqs->index = index;
		irqs->count = count;
		return 0;
	}

	/* A pin the platform routed nowhere: nothing to request. */
	if (!pdev->irq || pdev->irq == IRQ_NOTCONNECTED) {
		pci_warn(pdev, "INTx pin is not routed to an interrupt; use MSI or MSI-X\n");
		ret = -ENODEV;
		goto err_free;
	}

	/* INTx: masked until the handler is in place. */
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	irqs->intx_vdisable = cmd & PCI_COMMAND_INTX_DISABLE;
	pci_intx(pdev, 0);
	irqs->intx_masked = true;
	irqs->index = index;
	irqs->count = count;
	ret = request_irq(pdev->irq, vstub_intx_handler, IRQF_SHARED,
			  irqs->vecs[0].name, vdev);
	if (ret) {
		pci_warn(pdev, "cannot request INTx (irq %d) for userspace: %d\n",
			 pdev->irq, ret);
		irqs->index = -1;
		irqs->count = 0;
		irqs->intx_masked = false;
		goto err_free;
	}
	spin_lock_irqsave(&irqs->lock, flags);
	irqs->intx_masked = false;
	pci_intx(pdev, 1);
	spin_unlock_irqrestore(&irqs->lock, flags);
	return 0;

err_free:
	kvfree(irqs->vecs);
	irqs->vecs = NULL;
	return ret;
}

/*
 * Add MSI-X vectors up to @end (at most the table size, checked) to the
 * enabled MSI-X without touching the others.  On failure the vectors
 * added so far stay enabled.
 */
static int vstub_msix_grow(struct vstub_vdev *vdev, unsigned int end)
{
	struct vstub_irqs *irqs = vdev->irqs;
	int ret;

	while (irqs->count < end) {
		ret = vstub_msix_alloc_at(vdev->pdev, irqs->count);
		if (ret) {
			pci_warn(vdev->pdev, "cannot add MSI-X vector %u for userspace: %d\n",
				 irqs->count, ret);
			return ret;
		}
		irqs->count++;
	}
	return 0;
}

static void vstub_put_ctxs(struct eventfd_ctx **ctxs, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ctxs[i])
			eventfd_ctx_put(ctxs[i]);
	kfree(ctxs);
}

/*
 * DATA_EVENTFD on INTx/MSI/MSI-X.  Every eventfd is looked up before
 * anything changes, so a bad one leaves the device as it was.
 */
static int vstub_irq_set_eventfds(struct vstub_vdev *vdev,
				  struct vfio_irq_set *hdr, const s32 *fds)
{
	struct vstub_irqs *irqs = vdev->irqs;
	unsigned int end = hdr->start + hdr->count;	/* checked */
	struct eventfd_ctx **ctxs;
	bool fresh = false;
	unsigned int i;
	int ret;

	if (irqs->index >= 0 && irqs->index != hdr->index)
		return -EINVAL;	/* only one of INTx, MSI, MSI-X at a time */

	ctxs = kcalloc(hdr->count, sizeof(*ctxs), GFP_KERNEL);
	if (!ctxs)
		return -ENOMEM;
	for (i = 0; i < hdr->count; i++) {
		if (fds[i] == -1)
			continue;
		if (fds[i] < 0) {
			ret = -EINVAL;
			goto err_put;
		}
		ctxs[i] = eventfd_ctx_fdget(fds[i]);
		if (IS_ERR(ctxs[i])) {
			ret = PTR_ERR(ctxs[i]);
			ctxs[i] = NULL;
			goto err_put;
		}
	}

	/*
	 * Within the enabled vectors the eventfds are (re)assigned in place;
	 * a growable MSI-X gets the vectors added, with the others left as
	 * they are; else more vectors than enabled re-enable the index with
	 * start + count.
	 */
	if (irqs->index == VFIO_PCI_MSIX_IRQ_INDEX &&
	    hdr->index == VFIO_PCI_MSIX_IRQ_INDEX && end > irqs->count &&
	    vstub_msix_can_grow(vdev->pdev)) {
		ret = vstub_msix_grow(vdev, end);
		if (ret)
			goto err_put;
	} else if (irqs->index != hdr->index || end > irqs->count) {
		if (hdr->index == VFIO_PCI_INTX_IRQ_INDEX &&
		    !pci_intx_mask_supported(vdev->pdev)) {
			pci_warn(vdev->pdev, "INTx masking unsupported; use MSI or MSI-X\n");
			ret = -EOPNOTSUPP;
			goto err_put;
		}
		vstub_irq_disable(vdev);
		ret = vstub_irq_enable(vdev, hdr->index, end);
		if (ret)
			goto err_put;
		fresh = true;
	}

	for (i = 0; i < hdr->count; i++) {
		ret = vstub_vec_assign(vdev, hdr->start + i, ctxs[i]);
		ctxs[i] = NULL;		/* consumed */
		if (ret)
			goto err_unwind;
	}
	kfree(ctxs);
	return 0;

err_unwind:
	if (fresh) {
		vstub_irq_disable(vdev);
	} else {
		while (i--)
			vstub_vec_assign(vdev, hdr->start + i, NULL);
	}
err_put:
	vstub_put_ctxs(ctxs, hdr->count);
	return ret;
}

/* ERR and REQ: one eventfd each, swapped under the spinlock. */
static int vstub_irq_set_ctx(struct vstub_irqs *irqs,
			     struct eventfd_ctx **slot, s32 fd)
{
	struct eventfd_ctx *new = NULL, *old;
	unsigned long flags;

	if (fd >= 0) {
		new = eventfd_ctx_fdget(fd);
		if (IS_ERR(new))
			return PTR_ERR(new);
	} else if (fd != -1) {
		return -EINVAL;
	}
	spin_lock_irqsave(&irqs->lock, flags);
	old = *slot;
	*slot = new;
	spin_unlock_irqrestore(&irqs->lock, flags);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}

static bool vstub_irq_signal_ctx(struct vstub_irqs *irqs,
				 struct eventfd_ctx **slot)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&irqs->lock, flags);
	ret = *slot;
	if (ret)
		vstub_eventfd_signal(*slot);
	spin_unlock_irqrestore(&irqs->lock, flags);
	return ret;
}

static int vstub_irq_set_err_req(struct vstub_vdev *vdev,
				 struct vfio_irq_set *hdr, const void *data)
{
	struct vstub_irqs *irqs = vdev->irqs;
	struct eventfd_ctx **slot = hdr->index == VFIO_PCI_ERR_IRQ_INDEX ?
				    &irqs->err_trigger : &irqs->req_trigger;
	u32 what = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

	if (!(hdr->flags & VFIO_IRQ_SET_ACTION_TRIGGER))
		return -EINVAL;
	if (!hdr->count) {
		/* DATA_NONE, count 0: drop the eventfd */
		if (what != VFIO_IRQ_SET_DATA_NONE)
			return -EINVAL;
		return vstub_irq_set_ctx(irqs, slot, -1);
	}
	if (what == VFIO_IRQ_SET_DATA_EVENTFD)
		return vstub_irq_set_ctx(irqs, slot, *(const s32 *)data);
	if (what == VFIO_IRQ_SET_DATA_NONE || *(const u8 *)data)
		vstub_irq_signal_ctx(irqs, slot);
	return 0;
}

/* ACTION_TRIGGER with DATA_NONE or DATA_BOOL and count > 0: loopback. */
static int vstub_irq_loopback(struct vstub_vdev *vdev,
			      struct vfio_irq_set *hdr, const u8 *bools)
{
	struct vstub_irqs *irqs = vdev->irqs;
	struct eventfd_ctx *trigger;
	unsigned long flags;
	unsigned int i;

	if (irqs->index != hdr->index || hdr->start + hdr->count > irqs->count)
		return -EINVAL;
	for (i = 0; i < hdr->count; i++) {
		if (bools && !bools[i])
			continue;
		if (vstub_intx_enabled(irqs)) {
			spin_lock_irqsave(&irqs->lock, flags);
			trigger = irqs->vecs[0].trigger;
			if (trigger)
				vstub_eventfd_signal(trigger);
			spin_unlock_irqrestore(&irqs->lock, flags);
			continue;
		}
		/* MSI triggers change only under vdev->lock, held here. */
		trigger = irqs->vecs[hdr->start + i].trigger;
		if (trigger)
			vstub_eventfd_signal(trigger);
	}
	return 0;
}

/**
 * vstub_irq_set - VFIO_DEVICE_SET_IRQS
 * @vdev: the device (vdev->lock held)
 * @hdr:  the header, already copied and checked by vstub_irq_check()
 * @data: the payload (count bools or eventfds), or NULL for DATA_NONE
 *
 * Return: 0 or a negative errno.
 */
int vstub_irq_set(struct vstub_vdev *vdev, struct vfio_irq_set *hdr,
		  const void *data)
{
	struct vstub_irqs *irqs = vdev->irqs;
	u32 what = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	lockdep_assert_held(&vdev->lock);
	if (hdr->index == VFIO_PCI_ERR_IRQ_INDEX ||
	    hdr->index == VFIO_PCI_REQ_IRQ_INDEX)
		return vstub_irq_set_err_req(vdev, hdr, data);

	if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
		if (!hdr->count) {
			/* count 0: disable (DATA_NONE, or an empty set) */
			if (irqs->index == hdr->index)
				vstub_irq_disable(vdev);
			return 0;
		}
		if (what == VFIO_IRQ_SET_DATA_EVENTFD)
			return vstub_irq_set_eventfds(vdev, hdr, data);
		return vstub_irq_loopback(vdev, hdr,
					  what == VFIO_IRQ_SET_DATA_BOOL ?
					  data : NULL);
	}

	/* MASK / UNMASK: INTx only, as vfio-pci without MSI masking. */
	if (hdr->index != VFIO_PCI_INTX_IRQ_INDEX)
		return -EINVAL;
	if (what == VFIO_IRQ_SET_DATA_EVENTFD)
		return -EOPNOTSUPP;	/* no irqfd-style unmask */
	if (!vstub_intx_enabled(irqs) || hdr->start || hdr->count != 1)
		return -EINVAL;
	if (what == VFIO_IRQ_SET_DATA_NONE || *(const u8 *)data)
		vstub_intx_mask(vdev, action == VFIO_IRQ_SET_ACTION_MASK);
	return 0;
}

/**
 * vstub_irq_check - validate a VFIO_DEVICE_SET_IRQS header
 * @vdev:      the device
 * @hdr:       the header as copied from userspace
 * @data_size: set to the size of the payload that follows the header
 *
 * Exactly one data type and one action; index known; start within the
 * index's vectors and start + count too (without overflow); argsz covers
 * the payload.  The payload is thus at most 4 bytes per MSI-X vector.
 * Return: 0 or -EINVAL.
 */
int vstub_irq_check(struct vstub_vdev *vdev, struct vfio_irq_set *hdr,
		    size_t *data_size)
{
	u32 what = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	size_t minsz = offsetofend(struct vfio_irq_set, count);
	unsigned int max;
	u32 end;

	if (hdr->argsz < minsz || hdr->index >= VFIO_PCI_NUM_IRQS ||
	    hdr->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			   VFIO_IRQ_SET_ACTION_TYPE_MASK) ||
	    hweight32(what) != 1 || hweight32(action) != 1)
		return -EINVAL;
	max = vstub_irq_count(vdev->pdev, hdr->index);
	if (check_add_overflow(hdr->start, hdr->count, &end) ||
	    hdr->start >= max || end > max)
		return -EINVAL;
	switch (what) {
	case VFIO_IRQ_SET_DATA_NONE:
		*data_size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		*data_size = hdr->count * sizeof(u8);
		break;
	default:
		*data_size = hdr->count * sizeof(s32);
		break;
	}
	if (hdr->argsz - minsz < *data_size)
		return -EINVAL;
	return 0;
}

/*
 * The command register as userspace sees it: while INTx is enabled, its
 * disable bit is the virtual one (vdev->lock held).
 */
u16 vstub_irq_cmd_read(struct vstub_vdev *vdev, u16 cmd)
{
	struct vstub_irqs *irqs = vdev->irqs;

	lockdep_assert_held(&vdev->lock);
	if (!vstub_intx_enabled(irqs))
		return cmd;
	cmd &= ~PCI_COMMAND_INTX_DISABLE;
	return cmd | (irqs->intx_vdisable ? PCI_COMMAND_INTX_DISABLE : 0);
}

/*
 * Userspace writes the bits @bits of the command register with @val.
 * While INTx is enabled the INTx disable bit is only recorded, and the
 * other bits are changed under the lock the INTx handler masks with, so
 * that neither undoes the other.  Return: 0 or a negative errno.
 */
int vstub_irq_cmd_write(struct vstub_vdev *vdev, u16 bits, u16 val)
{
	struct vstub_irqs *irqs = vdev->irqs;
	struct pci_dev *pdev = vdev->pdev;
	unsigned long flags;
	u16 cmd, want;
	int ret;

	lockdep_assert_held(&vdev->lock);
	if (!vstub_intx_enabled(irqs)) {
		ret = pci_user_read_config_word(pdev, PCI_COMMAND, &cmd);
		if (ret)
			return pcibios_err_to_errno(ret);
		want = (cmd & ~bits) | (val & bits);
		if (want == cmd)
			return 0;
		ret = pci_user_write_config_word(pdev, PCI_COMMAND, want);
		return ret ? pcibios_err_to_errno(ret) : 0;
	}

	if (bits & PCI_COMMAND_INTX_DISABLE) {
		irqs->intx_vdisable = val & PCI_COMMAND_INTX_DISABLE;
		bits &= ~PCI_COMMAND_INTX_DISABLE;
	}
	if (!bits)
		return 0;
	spin_lock_irqsave(&irqs->lock, flags);
	ret = pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!ret) {
		want = (cmd & ~bits) | (val & bits);
		if (want != cmd)
			ret = pci_write_config_word(pdev, PCI_COMMAND, want);
	}
	spin_unlock_irqrestore(&irqs->lock, flags);
	return ret ? pcibios_err_to_errno(ret) : 0;
}

/*
 * After a function reset: the PCI core restored the command register as
 * it saved it before the reset, which may predate a masking by the INTx
 * handler.  Make the device's INTx disable bit agree with vstub's state
 * again (vdev->lock held).
 */
void vstub_irq_reset_done(struct vstub_vdev *vdev)
{
	struct vstub_irqs *irqs = vdev->irqs;
	unsigned long flags;

	lockdep_assert_held(&vdev->lock);
	if (!vstub_intx_enabled(irqs))
		return;
	spin_lock_irqsave(&irqs->lock, flags);
	pci_intx(vdev->pdev, !irqs->intx_masked);
	spin_unlock_irqrestore(&irqs->lock, flags);
}

/* An AER error on the device: tell userspace through the ERR eventfd. */
void vstub_irq_error(struct vstub_vdev *vdev)
{
	if (vdev->irqs)
		vstub_irq_signal_ctx(vdev->irqs, &vdev->irqs->err_trigger);
}

/*
 * vstub needs the device back: signal the REQ eventfd.  Returns false when
 * userspace did not ask to be told, so the caller need not wait for it.
 */
bool vstub_irq_request(struct vstub_vdev *vdev)
{
	return vdev->irqs &&
	       vstub_irq_signal_ctx(vdev->irqs, &vdev->irqs->req_trigger);
}

/*
 * Last device file closed, or the device revoked: every handler is freed,
 * vectors disabled and eventfd references dropped (vdev->lock held).
 */
void vstub_irq_teardown(struct vstub_vdev *vdev)
{
	struct vstub_irqs *irqs = vdev->irqs;

	if (!irqs)
		return;
	lockdep_assert_held(&vdev->lock);
	vstub_irq_disable(vdev);
	vstub_irq_set_ctx(irqs, &irqs->err_trigger, -1);
	vstub_irq_set_ctx(irqs, &irqs->req_trigger, -1);
}
