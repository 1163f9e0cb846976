#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The vstub demo, run inside the guest by /init (busybox sh; output goes to
# the host through the results serial port).  Started by `make demo`, i.e.
# selftests/demo/run.

KO=${VSTUB_KO:-/lib/modules/vstub.ko}
DRV=/sys/bus/pci/drivers/vstub

say() { echo "$*"; }
fail() { echo "DEMO FAILED: $*"; exit 1; }

# bdf_of VENDOR DEVICE: the first PCI function with that ID
bdf_of()
{
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ] &&
			{ echo "${d##*/}"; return 0; }
	done
	return 1
}

driver_of()
{
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
	else
		echo "(no driver)"
	fi
}

group_of()
{
	if [ -e "/sys/bus/pci/devices/$1/iommu_group" ]; then
		g=$(basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")")
		echo "IOMMU group $g (members: $(echo $(ls "/sys/kernel/iommu_groups/$g/devices")))"
	else
		echo "no IOMMU group"
	fi
}

say "=== vstub demo: kernel $(uname -r), configuration $VSTUB_CONFIG"
say

# 1. The IOMMU.
iommus=$(echo $(ls /sys/class/iommu 2>/dev/null))
case $iommus in
dmar*)	kind="Intel VT-d" ;;
ivhd*)	kind="AMD-Vi" ;;
"")	kind= ;;
*)	kind="virtio-iommu" ;;
esac
if [ -n "$kind" ]; then
	say "IOMMU: $kind is present ($iommus)."
elif ls /sys/kernel/iommu_groups/ 2>/dev/null | grep -q .; then
	say "IOMMU: present (virtio-iommu), groups exist."
else
	say "IOMMU: none found: devices would have no isolation."
fi
if dmesg | grep -q -i 'Enabled IRQ remapping'; then
	say "Interrupt remapping: enabled."
else
	say "Interrupt remapping: not enabled."
fi
say

EDU=$(bdf_of 1234 11e8) || fail "no edu device"
NIC=$(bdf_of 8086 10d3) || fail "no e1000e device"
NIC_DRV=$(driver_of "$NIC")
say "Before vstub:"
say "  edu test device   $EDU  driver: $(driver_of "$EDU")"
say "  e1000e NIC        $NIC  driver: $NIC_DRV (network interface: $(ls "/sys/bus/pci/devices/$NIC/net" 2>/dev/null))"
say

# 2. Load vstub with the edu's ID.
say "Loading vstub with ids=1234:11e8 (the edu device's vendor:device)..."
insmod "$KO" ids=1234:11e8 || fail "insmod $KO"
say "  edu is now on: $(driver_of "$EDU")"
say

# 3. Capture the NIC by address.
say "Capturing the e1000e NIC by its address: echo $NIC > $DRV/capture"
echo "$NIC" >"$DRV/capture" || fail "capture $NIC"
if [ -e "/sys/bus/pci/devices/$NIC/net" ]; then
	say "  the NIC is now on: $(driver_of "$NIC"), but still has a network interface!"
else
	say "  the NIC is now on: $(driver_of "$NIC"); its network interface is gone."
fi
say

say "What vstub holds ($DRV/captured):"
while read -r bdf id reason orig; do
	case $reason in
	id)	why="its ID is in vstub's ID table" ;;
	bdf)	why="it was captured by address" ;;
	new_id)	why="its ID was written to new_id" ;;
	*)	why="reason '$reason'" ;;
	esac
	if [ "$orig" = - ]; then
		was="it had no driver before"
	else
		was="its original driver was $orig"
	fi
	say "  $bdf ($id): captured because $why; $was."
	say "      $(group_of "$bdf")"
done <"$DRV/captured"
say

# 4. Hook for the VFIO demo step: a real DMA through vstub's VFIO interface.
if [ -x /demo/vstub_demo_dma ]; then
	say "Running the DMA demo (vstub_demo_dma)..."
	/demo/vstub_demo_dma || fail "vstub_demo_dma"
	say
fi

# 5. Give the NIC back.
say "Releasing the NIC: echo $NIC > $DRV/release"
echo "$NIC" >"$DRV/release" || fail "release $NIC"
sleep 1
say "  the NIC is back on: $(driver_of "$NIC") (network interface: $(ls "/sys/bus/pci/devices/$NIC/net" 2>/dev/null))"
[ "$(driver_of "$NIC")" = "$NIC_DRV" ] || fail "the NIC did not go back to $NIC_DRV"
say

say "Unloading vstub: every device goes back to its original driver."
rmmod vstub || fail "rmmod vstub"
say "  edu: $(driver_of "$EDU"); e1000e: $(driver_of "$NIC")"
say
say "=== demo finished"
