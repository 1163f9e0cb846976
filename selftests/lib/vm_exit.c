// SPDX-License-Identifier: GPL-2.0
/*
 * vm_exit - leave the QEMU guest through isa-debug-exit (iobase 0xf4).
 *
 * QEMU then exits with status (CODE << 1) | 1.  The harness's /init uses
 * CODE 0x2a (QEMU status 85) to say "the guest finished on its own".
 * Usage: vm_exit [CODE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT	0xf4

int main(int argc, char **argv)
{
	unsigned long code = argc > 1 ? strtoul(argv[1], NULL, 0) : 0x2a;

	if (ioperm(DEBUG_EXIT_PORT, 4, 1)) {
		perror("vm_exit: ioperm");
		return 1;
	}
	outl((unsigned int)code, DEBUG_EXIT_PORT);
	/* Only reached without an isa-debug-exit device. */
	fprintf(stderr, "vm_exit: no isa-debug-exit device at 0x%x\n",
		DEBUG_EXIT_PORT);
	return 1;
}
