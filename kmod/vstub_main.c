// SPDX-License-Identifier: GPL-2.0
/*
 * vstub - capture PCI functions away from host drivers and hand them to
 * userspace drivers and guests through the VFIO userspace ABI, implemented
 * on the kernel IOMMU API.
 *
 * This file only brings the parts up and down.
 */
#include <linux/module.h>

#include "vstub.h"

static int __init vstub_init(void)
{
	int ret;

	ret = vstub_vfio_init();
	if (ret)
		return ret;
	ret = vstub_pci_init();
	if (ret)
		goto err_vfio;
	ret = vstub_nl_init();
	if (ret)
		goto err_pci;
	return 0;

err_pci:
	vstub_pci_exit();
err_vfio:
	vstub_vfio_exit();
	return ret;
}

static void __exit vstub_exit(void)
{
	vstub_nl_exit();
	vstub_pci_exit();
	vstub_vfio_exit();
}

module_init(vstub_init);
module_exit(vstub_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Capture PCI functions and expose them through the VFIO userspace ABI");
MODULE_AUTHOR("The vstub developers");
MODULE_VERSION("0.1.0");
