/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vstub_irq.h - interrupts of the VFIO device fd (vstub_irq.c).
 *
 * vstub_irq_init()/vstub_irq_free() bracket a vstub_vdev's life (free
 * only once vstub_irq_teardown() ran, or nothing was ever enabled);
 * vstub_irq_check(), vstub_irq_set(), vstub_irq_get_info(),
 * vstub_irq_cmd_read(), vstub_irq_cmd_write(), vstub_irq_reset_done() and
 * vstub_irq_teardown() are called with vdev->lock held; vstub_irq_error() and
 * vstub_irq_request() from any context that may take a spinlock.
 */
#ifndef _VSTUB_IRQ_H
#define _VSTUB_IRQ_H

#include <linux/types.h>
#include <uapi/linux/vfio.h>

struct vstub_vdev;
struct vstub_irqs;

int vstub_irq_init(struct vstub_vdev *vdev);
void vstub_irq_free(struct vstub_vdev *vdev);
int vstub_irq_get_info(struct vstub_vdev *vdev, struct vfio_irq_info *info);
int vstub_irq_check(struct vstub_vdev *vdev, struct vfio_irq_set *hdr,
		    size_t *data_size);
int vstub_irq_set(struct vstub_vdev *vdev, struct vfio_irq_set *hdr,
		  const void *data);
u16 vstub_irq_cmd_read(struct vstub_vdev *vdev, u16 cmd);
int vstub_irq_cmd_write(struct vstub_vdev *vdev, u16 bits, u16 val);
void vstub_irq_reset_done(struct vstub_vdev *vdev);
void vstub_irq_teardown(struct vstub_vdev *vdev);
void vstub_irq_error(struct vstub_vdev *vdev);
bool vstub_irq_request(struct vstub_vdev *vdev);

#endif /* _VSTUB_IRQ_H */
