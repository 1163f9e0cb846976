#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the benchmark guest (VSTUB_MAIN of selftests/lib/init): one
# e1000e goes to vstub, the other to vfio-pci with vfio_iommu_type1's entry
# limit raised for a fair run, and vstub_bench measures both through the
# same VFIO ABI.  Output: vstub_bench's CSV lines on stdout.
set -u
# VSTUB_BENCH_ARGS and VSTUB_BENCH_HUGEPAGES come from the host.
. /vstub.conf

ko=/lib/modules/$VSTUB_KVER
nics=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10d3 ] &&
		echo "${d##*/}"
done)
set -- $nics
if [ $# -lt 2 ]; then
	echo "bench: need two e1000e functions, found: $nics"
	exit 1
fi
a=$1 b=$2

# insmod NAME [PARAM...]: the module file may spell NAME with - or _.
ins() {
	n=$1
	shift
	for f in "$ko/$n.ko" "$ko/$(echo "$n" | tr _ -).ko"; do
		[ -e "$f" ] && { insmod "$f" "$@"; return; }
	done
	echo "bench: no module $n in $ko"
	return 1
}

# type1 with a limit that lets it reach a million mappings.
rmmod vfio_pci vfio_pci_core vfio_iommu_type1 2>/dev/null
ins vfio_iommu_type1 dma_entry_limit=4000000 || exit 1
ins vfio_pci_core || exit 1
ins vfio_pci || exit 1
insmod /lib/modules/vstub.ko dma_entry_limit=4000000 || exit 1

echo "$a" >/sys/bus/pci/drivers/vstub/capture || exit 1
echo vfio-pci >"/sys/bus/pci/devices/$b/driver_override"
[ -e "/sys/bus/pci/devices/$b/driver" ] &&
	echo "$b" >"/sys/bus/pci/devices/$b/driver/unbind"
echo "$b" >/sys/bus/pci/drivers_probe
ga=$(basename "$(readlink "/sys/bus/pci/devices/$a/iommu_group")")
gb=$(basename "$(readlink "/sys/bus/pci/devices/$b/iommu_group")")
echo "# vstub: $a (group $ga); type1: $b (group $gb, $(basename "$(readlink "/sys/bus/pci/devices/$b/driver")"))"

echo "${VSTUB_BENCH_HUGEPAGES:-160}" >/proc/sys/vm/nr_hugepages
echo "# hugepages: $(cat /proc/sys/vm/nr_hugepages), thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"

# shellcheck disable=SC2086 # the argument string is meant to be split
vstub_bench --backend "vstub=/dev/vstub/vfio,/dev/vstub/$ga" \
	--backend "type1=/dev/vfio/vfio,/dev/vfio/$gb" ${VSTUB_BENCH_ARGS:-}
rc=$?
echo "$a" >/sys/bus/pci/drivers/vstub/release
rmmod vstub
exit $rc
