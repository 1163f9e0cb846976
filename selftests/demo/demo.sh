#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The vstub demo, run inside the guest by /init (busybox sh; output goes to
# the host through the results serial port).  Started by `make demo`, i.e.
# selftests/demo/run.  It shows what an administrator types: every step is
# a vstubctl command, printed with a "# " prompt before its output.

KO=${VSTUB_KO:-/lib/modules/vstub.ko}

fail() { echo "DEMO FAILED: $*"; exit 1; }
say() { echo "$*"; }
# run CMD...: show the command as typed at a root prompt, then its output
run() { echo; echo "# $*"; "$@"; }

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

say "=== vstub demo: kernel $(uname -r), configuration $VSTUB_CONFIG"
EDU=$(bdf_of 1234 11e8) || fail "no edu device"
NIC=$(bdf_of 8086 10d3) || fail "no e1000e device"
SATA=0000:00:1f.2
NIC_DRV=$(driver_of "$NIC")
say "This guest has QEMU's edu test device at $EDU (a DMA engine, no driver),"
say "an e1000e NIC at $NIC (driver $NIC_DRV) and the q35 chipset's LPC/SATA/SMBus"
say "functions 00:1f.0/2/3, which share one IOMMU group."

# An ordinary user to give a device to.
grep -q '^root:' /etc/passwd 2>/dev/null || echo "root:x:0:0:root:/root:/bin/sh" >>/etc/passwd
grep -q '^root:' /etc/group 2>/dev/null || echo "root:x:0:" >>/etc/group
echo "demo:x:1000:1000:demo user:/tmp:/bin/sh" >>/etc/passwd
echo "demo:x:1000:" >>/etc/group

say
say "--- 1. Is there an IOMMU, does it remap interrupts? (works before vstub is loaded)"
run vstubctl status

say
say "--- 2. Load vstub (modprobe vstub on an installed system), watch its events"
echo "# modprobe vstub"
insmod "$KO" || fail "insmod $KO"
echo "# vstubctl watch &"
vstubctl watch >/tmp/watch.log 2>&1 &
WATCH=$!
sleep 1

say
say "--- 3. Capture the edu device for user 'demo', and the NIC for root only"
run vstubctl capture "$EDU" --owner demo:demo || fail "capture $EDU"
run vstubctl capture "$NIC" || fail "capture $NIC"
[ -e "/sys/bus/pci/devices/$NIC/net" ] && fail "the NIC still has a network interface"
say "  (the NIC's network interface is gone: e1000e let go of it)"
run vstubctl list || fail "list"
run vstubctl status || fail "status"

say
say "--- 4. A shared IOMMU group: which member keeps it from being usable?"
run vstubctl explain "$SATA" || fail "explain $SATA"
say
say "  vstub can only hand the group out once every member is captured or has no"
say "  DMA-using driver; capturing the SATA controller fixes it:"
run vstubctl capture "$SATA" || fail "capture $SATA"
run vstubctl explain "$SATA" || fail "explain $SATA"
run vstubctl release "$SATA" || fail "release $SATA"

say
say "--- 5. User 'demo' does DMA through vstub, without root"
say "  (vstub_demo_dma, an ordinary VFIO program, run as uid 1000 and, while it holds"
say "  the device, 'vstubctl list $EDU' and 'vstubctl memlock $EDU 1G')"
VSTUB_DEMO_USER=1000:1000 \
VSTUB_DEMO_HOLD="echo; echo '$ vstubctl list $EDU'; vstubctl list $EDU; echo; echo '$ vstubctl memlock $EDU 1G'; vstubctl memlock $EDU 1G; echo" \
	/demo/vstub_demo_dma "$EDU" || fail "vstub_demo_dma"
say
say "  The same user may not open the NIC's group (root-only node):"
echo "$ vstub_demo_dma $NIC"
VSTUB_DEMO_USER=1000:1000 /demo/vstub_demo_dma "$NIC" 2>&1 | grep -E 'FAILED' |
	sed 's/^  FAILED: /  refused: /'

say
say "--- 6. Give the NIC back"
run vstubctl release "$NIC" || fail "release $NIC"
sleep 1
[ "$(driver_of "$NIC")" = "$NIC_DRV" ] || fail "the NIC did not go back to $NIC_DRV"
say "  the NIC is back on $(driver_of "$NIC") (network interface: $(ls "/sys/bus/pci/devices/$NIC/net" 2>/dev/null))"

# disks: the host's SCSI disks (sd*), or "none"
disks() { d=$(ls /sys/block 2>/dev/null | grep '^sd' | tr '\n' ' '); echo "${d:-none}"; }
# a second ich9-ahci (not the chipset's 1f.2): it has a disk
AHCI=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x2922 ] &&
		[ "${d##*/}" != "$SATA" ] && AHCI=${d##*/}
done
if [ -n "$AHCI" ]; then
	say
	say "--- 6b. A whole SATA controller with its disk ($AHCI, driver $(driver_of "$AHCI"))"
	say "  the host's disks: $(disks)"
	run vstubctl capture "$AHCI" || fail "capture $AHCI"
	say "  the host's disks: $(disks)   (the disk went with its controller)"
	run vstubctl release "$AHCI" || fail "release $AHCI"
	i=0
	while [ $i -lt 50 ] && [ "$(disks)" = none ]; do sleep 0.2; i=$((i + 1)); done
	say "  the host's disks: $(disks)   (ahci has it again)"
fi

say
say "--- 7. What 'vstubctl watch' printed meanwhile"
kill "$WATCH" 2>/dev/null
wait "$WATCH" 2>/dev/null
sed 's/^/  /' /tmp/watch.log

say
say "--- 8. Unload vstub: every device goes back to the driver it had"
echo "# modprobe -r vstub"
rmmod vstub || fail "rmmod vstub"
say "  edu: $(driver_of "$EDU"); NIC: $(driver_of "$NIC"); SATA: $(driver_of "$SATA")"
say
say "=== demo finished"
