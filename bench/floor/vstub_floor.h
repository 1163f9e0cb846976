/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vstub_floor - the ioctl of the benchmark's floor module (bench/floor/),
 * shared by the module and bench/vstub_bench.c.
 */
#ifndef VSTUB_FLOOR_H
#define VSTUB_FLOOR_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct vstub_floor_pin - VSTUB_FLOOR_PIN: pin, then unpin, a user range
 * @addr:	start of the range (page aligned), in
 * @len:	length in bytes (a multiple of the page size), in
 * @batch:	pages per pin_user_pages_fast() call, 0 for 512, in
 * @pinned:	pages pinned (== @len / page size on success), out
 * @pin_ns:	time of the pinning loop, out
 * @unpin_ns:	time of unpin_user_pages() over every pinned page, out
 */
struct vstub_floor_pin {
	__u64 addr;
	__u64 len;
	__u32 batch;
	__u32 pad;
	__u64 pinned;
	__u64 pin_ns;
	__u64 unpin_ns;
};

#define VSTUB_FLOOR_PIN	_IOWR('F', 0x40, struct vstub_floor_pin)

#endif /* VSTUB_FLOOR_H */
