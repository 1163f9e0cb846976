#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the benchmark guest (VSTUB_MAIN of selftests/lib/init): one
# e1000e goes to vstub, the other to vfio-pci, whose groups are served by
# the peer container, and vstub_bench measures both through the same VFIO
# ABI, next to the floor module's bare pin and io_uring's buffer
# registration of the same buffers.  The peer (VSTUB_BENCH_PEER):
#   type1    Debian's kernels: vfio_iommu_type1, its entry limit raised for
#            a fair run
#   iommufd  the iommufd kernel (scripts/kernel-build.sh iommufd): iommufd's
#            /dev/vfio/vfio compatibility (no vfio_iommu_type1 in that kernel)
# Output: vstub_bench's CSV lines on stdout.
set -u
# VSTUB_BENCH_ARGS, VSTUB_BENCH_HUGEPAGES, VSTUB_BENCH_PEER come from the host.
# shellcheck source=/dev/null # written by boot_vm (selftests/lib/vm.sh)
. /vstub.conf
peer=${VSTUB_BENCH_PEER:-type1}

ko=/lib/modules/$VSTUB_KVER
nics=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10d3 ] &&
		echo "${d##*/}"
done)
# shellcheck disable=SC2086 # one word per function
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

case $peer in
type1)
	# type1 with a limit that lets it reach a million mappings.
	rmmod vfio_pci vfio_pci_core vfio_iommu_type1 2>/dev/null
	ins vfio_iommu_type1 dma_entry_limit=4000000 || exit 1
	ins vfio_pci_core || exit 1
	ins vfio_pci || exit 1
	;;
iommufd)
	# /etc/vstub-modules loaded iommufd as vfio's dependency; the
	# container node must be iommufd's, not vfio's own.
	[ -e /sys/module/vfio_pci ] || { ins vfio_pci_core && ins vfio_pci; } || exit 1
	if [ ! -d /sys/module/iommufd ] || [ -d /sys/module/vfio_iommu_type1 ] ||
	   [ ! -c /dev/vfio/vfio ]; then
		echo "bench: no iommufd-provided /dev/vfio/vfio on $(uname -r)"
		exit 1
	fi
	echo "# iommufd: /dev/vfio/vfio is iommufd's, no vfio_iommu_type1"
	;;
*)
	echo "bench: unknown peer $peer"
	exit 1
	;;
esac
insmod /lib/modules/vstub.ko dma_entry_limit=4000000 || exit 1
# The benchmark's floor (bench/floor/): bare pin_user_pages_fast/unpin.
insmod /lib/modules/vstub_floor.ko || exit 1

echo "$a" >/sys/bus/pci/drivers/vstub/capture || exit 1
echo vfio-pci >"/sys/bus/pci/devices/$b/driver_override"
[ -e "/sys/bus/pci/devices/$b/driver" ] &&
	echo "$b" >"/sys/bus/pci/devices/$b/driver/unbind"
echo "$b" >/sys/bus/pci/drivers_probe
ga=$(basename "$(readlink "/sys/bus/pci/devices/$a/iommu_group")")
gb=$(basename "$(readlink "/sys/bus/pci/devices/$b/iommu_group")")
echo "# vstub: $a (group $ga); $peer: $b (group $gb, $(basename "$(readlink "/sys/bus/pci/devices/$b/driver")"))"

echo "${VSTUB_BENCH_HUGEPAGES:-160}" >/proc/sys/vm/nr_hugepages
echo "# hugepages: $(cat /proc/sys/vm/nr_hugepages), thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"

# VSTUB_BENCH_BDF_A/B: another BDF for a backend's device fd, or "-" for
# none (the harness's own checks: either must stop the run).
# shellcheck disable=SC2086 # the argument string is meant to be split
vstub_bench --backend "vstub=/dev/vstub/vfio,/dev/vstub/$ga,${VSTUB_BENCH_BDF_A:-$a}" \
	--backend "$peer=/dev/vfio/vfio,/dev/vfio/$gb,${VSTUB_BENCH_BDF_B:-$b}" \
	--floor /dev/vstub_floor --io-uring ${VSTUB_BENCH_ARGS:-}
rc=$?
echo "$a" >/sys/bus/pci/drivers/vstub/release
rmmod vstub_floor
rmmod vstub
exit $rc
