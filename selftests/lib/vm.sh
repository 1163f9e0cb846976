# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034
#
# Shared by selftests/run and selftests/demo/run (sourced, not executed):
# the VM configurations, building the module, the tests and the initramfs
# for a kernel, and booting one QEMU guest.  Expects $TOP (repository root).

VSTUB_CACHE=${VSTUB_CACHE:-/var/cache/vstub}
# VSTUB_BUILD: another build directory, e.g. for two people sharing one tree.
BUILD=${VSTUB_BUILD:-$TOP/build}
LOGS=$BUILD/logs

# Modules every guest loads (with dependencies), before any test runs.
GUEST_MODULES=(e1000e nvme ahci sd_mod xhci_pci bochs virtio_iommu vfio vfio_pci vfio_iommu_type1)

# ---- the configuration matrix --------------------------------------------
# Each configuration: kernel family (6.1 | 6.12), QEMU arguments, extra
# kernel command line, and the environment handed to the tests.
CONFIGS=(6.1-vtd 6.12-vtd 6.1-amd 6.12-amd 6.12-virtio 6.12-vtd-nointremap
	 6.12-debug 6.12-debug-sweep)
# CFG_SLOW: factor for the time limits; CFG_TESTS: the test programs of a
# configuration that runs its own instead of the suite; CFG_TAIL: QEMU
# arguments after the common devices (so that these keep their addresses).
declare -A CFG_KERNEL CFG_QEMU CFG_APPEND CFG_ENV CFG_SLOW CFG_TESTS CFG_TAIL

NVME_SRIOV="-device nvme-subsys,id=subsys0 -device nvme,serial=deadbeef,subsys=subsys0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2"
VTD="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on"
VTD_NOIR="-machine q35,kernel-irqchip=split -device intel-iommu,intremap=off,caching-mode=on"
AMD="-machine q35,kernel-irqchip=split -device amd-iommu,intremap=on"
VIRTIO="-machine q35 -device virtio-iommu-pci"
# A PCIe root port with a multifunction pair of edus behind it (bus 01, so
# sorted after every device of bus 00): a slot/bus reset there resets both
# functions (VFIO_DEVICE_PCI_HOT_RESET).  On AMD-Vi too, although QEMU
# 7.2's AMD-Vi does not translate DMA from behind a root port (reads give
# zeros, no fault is reported): resets, config and BAR access work there.
ROOT_PORT="-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1 -device edu,bus=rp1,addr=0.0,multifunction=on -device edu,bus=rp1,addr=0.1"
# vstub_dpdk_test (Debian's DPDK testpmd after "vstubctl handoff BDF
# vfio-pci"): two more e1000e on pcie.0, after every other device (so that
# the others keep their addresses and the first e1000e stays the first),
# wired to each other through a QEMU hub: what one sends, the other
# receives.  DPDK's binaries need a CPU newer than QEMU's default qemu64
# ("Illegal instruction" there): -cpu max.  VSTUB_DPDK=1 tells the test.
DPDK_QEMU="-cpu max"
DPDK_TAIL="-netdev hubport,id=vdp0,hubid=1 -device e1000e,netdev=vdp0 -netdev hubport,id=vdp1,hubid=1 -device e1000e,netdev=vdp1"

for k in 6.1 6.12; do
	CFG_KERNEL[$k-vtd]=$k
	CFG_QEMU[$k-vtd]="$VTD $NVME_SRIOV $DPDK_QEMU"
	CFG_TAIL[$k-vtd]="$ROOT_PORT $DPDK_TAIL"
	CFG_ENV[$k-vtd]="VSTUB_IOMMU=vtd VSTUB_INTREMAP=1 VSTUB_SRIOV=1 VSTUB_DPDK=1"
	CFG_KERNEL[$k-amd]=$k
	CFG_QEMU[$k-amd]="$AMD $NVME_SRIOV $DPDK_QEMU"
	CFG_TAIL[$k-amd]="$ROOT_PORT $DPDK_TAIL"
	CFG_ENV[$k-amd]="VSTUB_IOMMU=amd VSTUB_INTREMAP=1 VSTUB_SRIOV=1 VSTUB_DPDK=1"
done
CFG_KERNEL[6.12-virtio]=6.12
CFG_QEMU[6.12-virtio]="$VIRTIO $NVME_SRIOV $DPDK_QEMU"
CFG_TAIL[6.12-virtio]="$ROOT_PORT $DPDK_TAIL"
CFG_ENV[6.12-virtio]="VSTUB_IOMMU=virtio VSTUB_INTREMAP=0 VSTUB_SRIOV=1 VSTUB_DPDK=1"
CFG_KERNEL[6.12-vtd-nointremap]=6.12
CFG_QEMU[6.12-vtd-nointremap]="$VTD_NOIR $NVME_SRIOV $DPDK_QEMU"
CFG_TAIL[6.12-vtd-nointremap]="$ROOT_PORT $DPDK_TAIL"
CFG_ENV[6.12-vtd-nointremap]="VSTUB_IOMMU=vtd VSTUB_INTREMAP=0 VSTUB_SRIOV=1 VSTUB_DPDK=1"
# The debug kernel (scripts/debug-kernel.sh: KASAN, lockdep, kmemleak, fault
# injection): the whole suite, and separately (lockdep is off after the
# first KASAN report of a boot) the fail-nth sweep.
for c in 6.12-debug 6.12-debug-sweep; do
	CFG_KERNEL[$c]=debug
	CFG_QEMU[$c]="$VTD $NVME_SRIOV"
	CFG_APPEND[$c]="log_buf_len=16M kasan_multi_shot"
	CFG_ENV[$c]="VSTUB_IOMMU=vtd VSTUB_INTREMAP=1 VSTUB_SRIOV=1 VSTUB_DEBUG=1 VSTUB_TIME_SCALE=4"
	CFG_SLOW[$c]=4
done
CFG_TESTS[6.12-debug-sweep]=vstub_sweep
CFG_TAIL[6.12-debug]=$ROOT_PORT	# the sweep does not need it

# Devices present in every guest.  The e1000e is on QEMU's user network,
# the added ich9-ahci has a disk (a fresh image per boot, boot_vm), the
# qemu-xhci a keyboard, the std VGA is bochs-drm's (all used by the
# device-class tests).  The second edu on pcie.0 comes after every other
# device, so that lookups by ID still find the first one first (it is the
# peer a foreign BAR mapping reads from, on vfio-pci).
QEMU_DEVICES="-device edu -netdev user,id=vnet0 -device e1000e,netdev=vnet0 -device pci-testdev \
-device ich9-ahci,id=vsata -device ide-hd,drive=vsatadisk,bus=vsata.0,serial=vstub-sata \
-device qemu-xhci,id=vxhci -device usb-kbd,bus=vxhci.0 -device VGA -device edu"
CMDLINE_BASE="console=ttyS0 panic=-1 quiet"

# ---- kernels ----------------------------------------------------------------
# Sets KVERS (array) from $VSTUB_KVERS or scripts/deps.sh (which installs
# whatever is missing), and KVER_OF[6.1|6.12].
declare -A KVER_OF
resolve_kernels()
{
	local line k
	if [ -n "${VSTUB_KVERS:-}" ]; then
		line="KVERS=$VSTUB_KVERS"
	else
		line=$("$TOP/scripts/deps.sh" | tail -n1)
	fi
	[[ $line == KVERS=* ]] || { echo "cannot tell the kernel versions (deps.sh said: $line)" >&2; return 1; }
	read -r -a KVERS <<<"${line#KVERS=}"
	for k in "${KVERS[@]}"; do
		case $k in
		6.1.*)	KVER_OF[6.1]=$k ;;
		6.12.*)	KVER_OF[6.12]=$k ;;
		esac
	done
}

# Sets KVER_OF[debug], building the debug kernel unless it is cached.
resolve_debug_kernel()
{
	local line
	line=$("$TOP/scripts/debug-kernel.sh" | tail -n1) || return 1
	[[ $line == DEBUG_KVER=* ]] || { echo "no debug kernel (debug-kernel.sh said: $line)" >&2; return 1; }
	KVER_OF[debug]=${line#DEBUG_KVER=}
}

# The build tree for KVER: the installed headers, or a tree next to the
# staged kernel (the debug kernel's).
kdir_of()
{
	if [ -d "/lib/modules/$1/build" ]; then
		echo "/lib/modules/$1/build"
	else
		echo "$VSTUB_CACHE/kernel/$1/lib/modules/$1/build"
	fi
}

# ---- builds -----------------------------------------------------------------
# build_module KVER: build/KVER/vstub.ko from a copy of Kbuild and kmod/.
build_module()
{
	local k=$1 dir=$BUILD/$1 log=$LOGS/build-$1.log
	mkdir -p "$dir/kmod" "$LOGS"
	cp -a "$TOP/Kbuild" "$dir/"
	cp -a "$TOP/kmod/." "$dir/kmod/"
	if ! make -C "$(kdir_of "$k")" M="$dir" -j"$(nproc)" modules >"$log" 2>&1; then
		echo "module build for $k failed ($log):" >&2
		tail -n 30 "$log" >&2
		return 1
	fi
}

# build_tests: the static test programs and helpers into build/selftests,
# and the static user helper (user/vstubctl.static, when user/ has a
# Makefile) into build/vm-bin/vstubctl, which the guest has in its PATH.
build_tests()
{
	local log=$LOGS/build-selftests.log
	mkdir -p "$LOGS"
	if ! make -C "$TOP/selftests" -j"$(nproc)" BUILD="$BUILD" \
			O="$BUILD/selftests" >"$log" 2>&1; then
		echo "selftests build failed ($log):" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
	[ -f "$TOP/user/Makefile" ] || return 0
	log=$LOGS/build-user.log
	if ! make -C "$TOP/user" -j"$(nproc)" O="$BUILD/user" \
			"$BUILD/user/vstubctl.static" >"$log" 2>&1; then
		echo "user helper build failed ($log):" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
	mkdir -p "$BUILD/vm-bin"
	cp "$BUILD/user/vstubctl.static" "$BUILD/vm-bin/vstubctl"
}

# build_initramfs KVER: build/KVER/initramfs.cpio.gz
build_initramfs()
{
	local k=$1
	"$TOP/selftests/lib/mkinitramfs" "$k" "$VSTUB_CACHE/kernel/$k" \
		"$BUILD/$k/vstub.ko" "$BUILD/selftests" \
		"$BUILD/$k/initramfs.cpio.gz" "${GUEST_MODULES[@]}"
}

# build_dpdk_overlay: build/dpdk.cpio.gz, Debian's dpdk-testpmd with its
# libraries and the two PMDs it needs (selftests/lib/mkdpdk), appended to
# the initrd only of guests that run vstub_dpdk_test (VM_INITRD_EXTRA).
# Kernel-independent.  Nothing (and no error) without dpdk-testpmd or with
# VSTUB_GUEST_DPDK=0: the test then skips.
DPDK_OVERLAY=$BUILD/dpdk.cpio.gz
build_dpdk_overlay()
{
	rm -f "$DPDK_OVERLAY"
	[ "${VSTUB_GUEST_DPDK:-1}" != 0 ] || return 0
	"$TOP/selftests/lib/mkdpdk" "$DPDK_OVERLAY"
}

# ---- booting ----------------------------------------------------------------
# boot_vm CONFIG OUTDIR TIMEOUT [VAR=VALUE...]
# Boots CONFIG's kernel with the base initramfs plus a /vstub.conf holding
# VSTUB_CONFIG/VSTUB_KVER/VSTUB_ENV (the configuration's environment plus
# $VSTUB_EXTRA_ENV) and the given variables.  Leaves
# OUTDIR/console.log (ttyS0, kernel), OUTDIR/tap.log (ttyS1, results),
# OUTDIR/qemu.log, OUTDIR/cmdline.  Returns QEMU's status: 85 when the
# guest left through vm_exit, 124 on timeout.  VM_INITRD_EXTRA in the
# environment: more cpio archives, appended after the base initramfs.  With VSTUB_SHELL=1 among the
# variables the console is on this terminal instead.  With VM_READY_TMO=N
# in the environment, a guest whose /init has not reported READY (the
# distribution's modules loaded, vstub not yet) within N seconds is stopped
# and boot_vm returns 86, so that the caller may retry it.
boot_vm()
{
	local cfg=$1 out=$2 tmo=$3 k kroot append rc=0 shell=0 serial0
	shift 3
	k=${KVER_OF[${CFG_KERNEL[$cfg]}]}
	kroot=$VSTUB_CACHE/kernel/$k
	mkdir -p "$out/conf"
	rm -f "$out/console.log" "$out/tap.log" "$out/qemu.log"
	{
		echo "VSTUB_CONFIG='$cfg'"
		echo "VSTUB_KVER='$k'"
		echo "VSTUB_ENV='${CFG_ENV[$cfg]} ${VSTUB_EXTRA_ENV:-}'"
		for v in "$@"; do
			echo "${v%%=*}='${v#*=}'"
			[ "$v" = VSTUB_SHELL=1 ] && shell=1
		done
	} >"$out/conf/vstub.conf"
	(cd "$out/conf" && echo vstub.conf | cpio --quiet -o -H newc -R 0:0) |
		gzip -1 >"$out/conf.cpio.gz"
	# shellcheck disable=SC2086 # VM_INITRD_EXTRA: a list of archives
	cat "$BUILD/$k/initramfs.cpio.gz" ${VM_INITRD_EXTRA:-} "$out/conf.cpio.gz" >"$out/initrd.gz"

	append="$CMDLINE_BASE ${CFG_APPEND[$cfg]:-}"
	if grep -qs '^CONFIG_DEBUG_KMEMLEAK=y' "$kroot/boot/config-$k"; then
		append+=" kmemleak=on"
	fi
	rm -f "$out/sata.img"
	truncate -s 8M "$out/sata.img"
	serial0="-serial file:$out/console.log"
	[ $shell = 1 ] && serial0="-serial mon:stdio"
	# shellcheck disable=SC2086 # word splitting of the argument strings is wanted
	set -- qemu-system-x86_64 -accel tcg,thread=multi -smp 2 -m "${VSTUB_QEMU_MEM:-1G}" \
		-no-reboot -display none -vga none -nic none \
		$serial0 -serial "file:$out/tap.log" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$kroot/boot/vmlinuz-$k" -initrd "$out/initrd.gz" \
		-append "$append" ${CFG_QEMU[$cfg]} \
		-drive "if=none,id=vsatadisk,format=raw,file=$out/sata.img" \
		$QEMU_DEVICES ${CFG_TAIL[$cfg]:-}
	[ $shell = 1 ] || set -- "$@" -monitor none
	printf '%q ' "$@" >"$out/cmdline"
	echo >>"$out/cmdline"
	if [ $shell = 1 ]; then
		"$@" || rc=$?
	else
		timeout -k 5 "$tmo" "$@" </dev/null >"$out/qemu.log" 2>&1 &
		local pid=$! waited=0
		while [ -n "${VM_READY_TMO:-}" ] && kill -0 $pid 2>/dev/null &&
			! grep -qa '^@@VSTUB@@ READY' "$out/tap.log" 2>/dev/null; do
			if [ $waited -ge "$VM_READY_TMO" ]; then
				echo "vstub: no READY from /init after ${waited} s: guest stopped" >>"$out/qemu.log"
				kill $pid 2>/dev/null
				wait $pid 2>/dev/null
				return 86
			fi
			sleep 2
			waited=$((waited + 2))
		done
		wait $pid || rc=$?
	fi
	return $rc
}

# boot_vm_retry CONFIG OUTDIR TIMEOUT [VAR=VALUE...]: boot_vm, booted again
# (up to three times) while the guest dies or hangs before its /init is
# READY - before vstub is loaded: a TCG hiccup such as an early "Oops:
# int3" or "timer doesn't work through Interrupt-remapped IO-APIC" on a
# loaded machine.  Returns boot_vm's status.
boot_vm_retry()
{
	local out=$2 try rc=0

	for try in 1 2 3; do
		rc=0
		VM_READY_TMO=${VM_READY_TMO:-150} boot_vm "$@" || rc=$?
		grep -qa '^@@VSTUB@@ READY' "$out/tap.log" 2>/dev/null && return $rc
		echo "$1: the guest died before its /init was ready (qemu status $rc), try $try:" >&2
		tail -n 3 "$out/console.log" 2>/dev/null | sed 's/^/  /' >&2
		cp "$out/console.log" "$out/console.try$try.log" 2>/dev/null || :
	done
	return $rc
}
