#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install (when missing) everything vstub's build, tests and demo need on a
# Debian 12 machine, by package name.  Kernel *images* are not installed into
# /boot: they are unpacked into $VSTUB_CACHE so that no initramfs is rebuilt
# and the build machine's own boot set-up is left alone.  Prints the two
# kernel versions it resolved as "KVERS=... ..." on its last line.
set -euo pipefail

CACHE=${VSTUB_CACHE:-/var/cache/vstub}
TOOLS=(qemu-system-x86 busybox-static cpio xz-utils zstd kmod gcc make
       libnl-3-dev libnl-genl-3-dev pkg-config sparse dkms perl
       linux-source-6.12 ipxe-qemu openssl valgrind python3-yaml
       python3-jsonschema mmdebstrap e2fsprogs debhelper dh-dkms lintian
       dpdk-dev	# dpdk-testpmd for vstub_dpdk_test (the package dpdk has none)
       flex bison bc libelf-dev libssl-dev)	# the last line: debug-kernel.sh
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

log() { printf 'deps: %s\n' "$*" >&2; }

apt_updated=
apt_update() {
	if [ -z "$apt_updated" ]; then
		log "apt-get update"
		$SUDO apt-get update -qq >&2
		apt_updated=1
	fi
}

missing=()
pkg_missing() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed' || return 0
	return 1
}

# Resolve the newest 6.1 and 6.12 kernels through Debian's meta packages.
resolve() {
	apt-cache depends "$1" 2>/dev/null | sed -n 's/^  Depends: linux-headers-\(.*\)$/\1/p' | head -n1
}

if [ -n "${VSTUB_KVERS:-}" ]; then
	read -r -a KVERS <<<"$VSTUB_KVERS"
else
	K61=$(resolve linux-headers-amd64)
	[ -n "$K61" ] || { apt_update; K61=$(resolve linux-headers-amd64); }
	K612=$(resolve linux-headers-6.12-amd64)
	[ -n "$K612" ] || { apt_update; K612=$(resolve linux-headers-6.12-amd64); }
	if [ -z "$K61" ] || [ -z "$K612" ]; then
		log "cannot resolve Debian's 6.1/6.12 kernels (is this Debian 12 with bookworm-backports or updates?)"
		exit 1
	fi
	KVERS=("$K61" "$K612")
fi

for p in "${TOOLS[@]}"; do pkg_missing "$p" && missing+=("$p"); done
for k in "${KVERS[@]}"; do pkg_missing "linux-headers-$k" && missing+=("linux-headers-$k"); done
if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	log "installing: ${missing[*]}"
	# INITRD=No: the kernel packages' postinst hooks then skip
	# update-initramfs, which the VM tests do not use (~85 s per kernel).
	$SUDO env DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >&2
fi

# Kernel images (vmlinuz + modules) unpacked into the cache.
mkdir -p "$CACHE/debs"
for k in "${KVERS[@]}"; do
	dest="$CACHE/kernel/$k"
	[ -f "$dest/.done" ] && continue
	apt_update
	log "fetching linux-image-$k-unsigned"
	rm -rf "$dest"
	mkdir -p "$dest"
	(cd "$CACHE/debs" && apt-get download -qq "linux-image-$k-unsigned" >&2)
	dpkg -x "$CACHE"/debs/linux-image-"$k"-unsigned_*.deb "$dest"
	depmod -b "$dest" "$k"
	rm -f "$CACHE"/debs/linux-image-"$k"-unsigned_*.deb
	touch "$dest/.done"
done

# from_source DIR WHAT PATTERN...: the files of the 6.12 source tarball that
# match the patterns, into DIR (once: DIR/.done marks it).
from_source() {
	local dir=$1 what=$2 tarball
	shift 2
	[ -f "$dir/.done" ] && return 0
	tarball=$(ls /usr/src/linux-source-6.12.tar.* | head -n1)
	log "extracting $what from $tarball"
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -C "$dir" --strip-components=1 --wildcards -xf "$tarball" "$@"
	touch "$dir/.done"
}

from_source "$CACHE/kselftest" "kselftest headers and checkpatch" \
	'*/tools/testing/selftests/kselftest.h' \
	'*/tools/testing/selftests/kselftest_harness.h' \
	'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
	'*/scripts/const_structs.checkpatch'
# The kernel's YNL schemas and library, for the spec check (make ynl-check).
from_source "$CACHE/ynl" "the YNL netlink schemas" \
	'*/Documentation/netlink/genetlink*.yaml' '*/tools/net/ynl/lib/*'

echo "KVERS=${KVERS[*]}"
