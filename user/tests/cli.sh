#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the vstubctl command line: help, usage errors, the
# configuration commands and "status" against a fake sysfs tree
# (VSTUB_SYSFS_ROOT).  No kernel module needed.  Every run goes through
# $VALGRIND (if set) and must be free of memory errors and leaks.
#   VSTUBCTL=path/to/vstubctl [VALGRIND=valgrind] tests/cli.sh
set -u
CTL=${VSTUBCTL:?set VSTUBCTL}
VG=()
[ -n "${VALGRIND:-}" ] && VG=("$VALGRIND" -q --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=99
	--suppressions="$(dirname "$0")/valgrind.supp")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0 n=0

# run EXPECTED_RC [env...] -- args: output in $T/out
run()
{
	local want=$1 rc
	shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" "${VG[@]}" "$CTL" "$@" >"$T/out" 2>&1
	rc=$?
	n=$((n + 1))
	if [ "$rc" != "$want" ]; then
		echo "FAIL: vstubctl $* exited $rc, expected $want:"; sed 's/^/  | /' "$T/out"
		fail=$((fail + 1))
		return 1
	fi
	return 0
}
has()
{
	n=$((n + 1))
	grep -qF -- "$1" "$T/out" || { echo "FAIL: output lacks '$1':"; sed 's/^/  | /' "$T/out"; fail=$((fail + 1)); }
}

# ---- help and usage --------------------------------------------------------
run 0 -- --help && has "vstubctl persist add"
run 0 -- --version && has "netlink family vstub"
run 2 --
run 2 -- nonsense && has "unknown command"
run 2 -- --bogus
for c in list capture release explain sriov handoff status watch apply memlock "ids add" "ids del" "ids list" "persist add" "persist list"; do
	# shellcheck disable=SC2086
	run 0 -- $c --help && has "usage:"
done
run 2 -- ids && has "missing subcommand"
run 2 -- ids frob && has "unknown subcommand"
run 2 -- capture && has "expected"
run 2 -- capture 00:02.x && has "malformed PCI address"
run 2 -- release 1:2:3:4.0
run 2 -- sriov 00:02.0 && has "expected"
run 2 -- sriov 00:02.0 -1
run 2 -- sriov 00:02.0 70000 && has "not a number of VFs"
run 2 -- watch --count && has "expected"
run 2 -- handoff 00:02.0 ../x && has "not a driver name"
run 2 -- handoff 00:02.0 vstub
run 2 -- apply --frob
run 2 -- list a b

# ---- without the module (netlink set-up and tear-down under valgrind) --------
if [ ! -e /sys/module/vstub ]; then
	run 3 -- list && has "not loaded"
	run 3 -- ids add 1234:11e8 && has "modprobe vstub"
	run 3 -- watch --count 1
fi

# ---- persist ----------------------------------------------------------------
S=$T/sys
mkdir -p "$S/sys/bus/pci/devices/0000:00:03.0" "$S/sys/bus/pci/drivers/e1000e" "$S/sys/module/e1000e"
echo 0x8086 >"$S/sys/bus/pci/devices/0000:00:03.0/vendor"
echo 0x10d3 >"$S/sys/bus/pci/devices/0000:00:03.0/device"
ln -s ../../../../bus/pci/drivers/e1000e "$S/sys/bus/pci/devices/0000:00:03.0/driver"
ln -s ../../../../module/e1000e "$S/sys/bus/pci/drivers/e1000e/module"
E=(VSTUB_CONF="$T/vstub.conf" VSTUB_MODPROBE_CONF="$T/modprobe.conf" VSTUB_SYSFS_ROOT="$S")
run 0 "${E[@]}" -- persist list && [ ! -s "$T/out" ] || { echo "FAIL: empty list"; fail=$((fail + 1)); }
run 0 "${E[@]}" -- persist add bdf 00:03.0
run 0 "${E[@]}" -- persist add id 1234:11E8
run 1 "${E[@]}" -- persist add id 1234:11e8 && has "already in"
run 2 "${E[@]}" -- persist add id 1234 && has "malformed ID"
run 2 "${E[@]}" -- persist add dev 1234:11e8
run 0 "${E[@]}" -- persist list && has "bdf 0000:00:03.0" && has "id 1234:11e8"
run 0 "${E[@]}" -- --json persist list && has '[{"kind":"bdf","value":"0000:00:03.0"},{"kind":"id","value":"1234:11e8"}]'
grep -q "^options vstub ids=1234:11e8$" "$T/modprobe.conf" || { echo "FAIL: no options line"; cat "$T/modprobe.conf"; fail=$((fail + 1)); }
grep -q "^softdep e1000e pre: vstub$" "$T/modprobe.conf" || { echo "FAIL: no softdep"; cat "$T/modprobe.conf"; fail=$((fail + 1)); }
grep -q "^options vstub bdfs=0000:00:03.0$" "$T/modprobe.conf" || { echo "FAIL: no bdfs= line"; cat "$T/modprobe.conf"; fail=$((fail + 1)); }
grep -q "^install vstub " "$T/modprobe.conf" && { echo "FAIL: install line (vstub applies its options itself)"; fail=$((fail + 1)); }
run 0 "${E[@]}" -- persist match 0000:00:03.0
run 1 "${E[@]}" -- persist match 0000:00:04.0
run 0 "${E[@]}" -- apply --dry-run && has "would capture 0000:00:03.0" && has "would add ID 1234:11e8"
# owners (bdf entries only), kept in the file and used by apply
run 0 "${E[@]}" -- persist add bdf 00:03.0 --owner 1000:1000 && has "owner=1000:1000"
run 0 "${E[@]}" -- persist list && has "bdf 0000:00:03.0 owner=1000:1000"
grep -q "^bdf 0000:00:03.0 owner=1000:1000$" "$T/vstub.conf" || { echo "FAIL: owner not saved"; cat "$T/vstub.conf"; fail=$((fail + 1)); }
run 0 "${E[@]}" -- --json persist list && has '{"kind":"bdf","value":"0000:00:03.0","owner":"1000:1000"}'
run 0 "${E[@]}" -- apply --dry-run && has "would capture 0000:00:03.0 for 1000:1000"
run 2 "${E[@]}" -- persist add id 1234:11e8 --owner 1000 && has "use 'bdf BDF --owner"
run 2 "${E[@]}" -- persist add bdf 00:03.0 --owner 'a:b:c' && has "malformed owner"
run 2 "${E[@]}" -- capture 1234:11e8 --owner 1000 && has "by its address"
run 2 "${E[@]}" -- capture 00:03.0 --owner && has "needs USER"
run 2 "${E[@]}" -- capture 00:03.0 --owner 'x y' && has "malformed owner"
run 1 "${E[@]}" -- capture 00:03.0 --owner no-such-user-here && has "no user 'no-such-user-here'"
run 0 "${E[@]}" -- persist del bdf 0000:00:03.0
run 1 "${E[@]}" -- persist del bdf 0000:00:03.0 && has "not in"
grep -q "^softdep" "$T/modprobe.conf" && { echo "FAIL: softdep left behind"; fail=$((fail + 1)); }
# The README's order: capture first, then persist.  The device is on vstub
# now; the softdep must name the driver vstub remembered, not vstub.
mkdir -p "$S/sys/bus/pci/drivers/vstub"
rm "$S/sys/bus/pci/devices/0000:00:03.0/driver"
ln -s ../../../../bus/pci/drivers/vstub "$S/sys/bus/pci/devices/0000:00:03.0/driver"
echo "0000:00:03.0 8086:10d3 bdf e1000e" >"$S/sys/bus/pci/drivers/vstub/captured"
run 0 "${E[@]}" -- persist add bdf 0000:00:03.0 && has "update-initramfs"
grep -q "^softdep e1000e pre: vstub$" "$T/modprobe.conf" || { echo "FAIL: no softdep from the remembered driver"; cat "$T/modprobe.conf"; fail=$((fail + 1)); }
grep -q "^softdep vstub" "$T/modprobe.conf" && { echo "FAIL: softdep on vstub itself"; fail=$((fail + 1)); }
# The device gone (unplugged, or persist run on another boot): its softdep stays.
mv "$S/sys/bus/pci/devices/0000:00:03.0" "$T/gone"
run 0 "${E[@]}" -- persist add id 8086:1234
grep -q "^softdep e1000e pre: vstub$" "$T/modprobe.conf" || { echo "FAIL: softdep of an absent device dropped"; cat "$T/modprobe.conf"; fail=$((fail + 1)); }
run 0 "${E[@]}" -- persist del bdf 0000:00:03.0 && has "vstubctl release"
grep -q "^softdep" "$T/modprobe.conf" && { echo "FAIL: softdep left after del"; cat "$T/modprobe.conf"; fail=$((fail + 1)); }
run 0 "${E[@]}" -- persist del id 8086:1234
run 0 "${E[@]}" -- persist add bdf 0000:00:05.0 --owner 0:0
grep -q "^options vstub bdfs=0000:00:05.0@0:0$" "$T/modprobe.conf" || { echo "FAIL: owner not in bdfs= as numbers"; cat "$T/modprobe.conf"; fail=$((fail + 1)); }
run 0 "${E[@]}" -- persist del bdf 0000:00:05.0
run 0 "${E[@]}" -- persist del id 1234:11e8
[ -e "$T/modprobe.conf" ] && { echo "FAIL: modprobe.d file left with nothing configured"; fail=$((fail + 1)); }
run 0 "${E[@]}" -- persist add id 1234:11e8
mv "$T/gone" "$S/sys/bus/pci/devices/0000:00:03.0"
echo "garbage here" >>"$T/vstub.conf"
run 1 "${E[@]}" -- persist list && has "vstub.conf:5: unknown keyword"

# ---- memlock planning (no module needed without a BDF) -----------------------
run 0 -- memlock 1G && has "pins 262144 pages" && has "ulimit -l 1048576" &&
	has "LimitMEMLOCK=1048576K" && has "memlock  1048576" && has "--ulimit memlock=1073741824"
run 0 -- --json memlock 4097 && has '"pages":2' && has '"needed_bytes":8192' && has '"recommended_kib":1024'
run 2 -- memlock && has "expected [BDF] SIZE"
run 2 -- memlock 0 && has "not a size"
run 2 -- memlock 12Q && has "not a size"
run 2 -- memlock 00:02.x 1M && has "malformed PCI address"
run 2 -- memlock 00:02.0 1M extra

# ---- status from a fake sysfs -------------------------------------------------
mkdir -p "$S/sys/class/iommu/dmar0/intel-iommu" "$S/sys/kernel/iommu_groups/0" \
	"$S/sys/kernel/iommu_groups/1" "$S/sys/firmware/acpi/tables" "$S/proc"
echo DMA >"$S/sys/kernel/iommu_groups/0/type"
echo identity >"$S/sys/kernel/iommu_groups/1/type"
touch "$S/sys/firmware/acpi/tables/DMAR"
echo 0xf0050da >"$S/sys/class/iommu/dmar0/intel-iommu/ecap"	# bit 3 (IR) set
printf '  0:  10  IR-IO-APIC    2-edge      timer\n' >"$S/proc/interrupts"
run 0 "${E[@]}" -- --json status && has '"iommu":{"enabled":true,"type":"vtd"' &&
	has '"interrupt_remapping":{"enabled":true,"hardware":true' && has '"identity":1' && has 'iommu=pt'
printf '  0:  10  IO-APIC    2-edge      timer\n' >"$S/proc/interrupts"
echo 0xf0050d2 >"$S/sys/class/iommu/dmar0/intel-iommu/ecap"
run 0 "${E[@]}" -- --json status && has '"interrupt_remapping":{"enabled":false,"hardware":false' && has "intremap=on"
run 0 "${E[@]}" -- status && has "interrupt remapping: OFF"
rm -rf "$S/sys/class/iommu/dmar0" "$S/sys/kernel/iommu_groups"
run 0 "${E[@]}" -- --json status && has '"enabled":false,"type":"none"' && has "intel_iommu=on"
rm "$S/sys/firmware/acpi/tables/DMAR"; touch "$S/sys/firmware/acpi/tables/IVRS"
run 0 "${E[@]}" -- status && has "amd_iommu=off"

echo "cli: $n checks, $fail failed"
[ $fail = 0 ]
