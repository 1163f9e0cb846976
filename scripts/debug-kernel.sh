#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) the debug kernel of the 6.12-debug test configuration from
# Debian's linux-source-6.12 and selftests/debug/debug.config, and stage it
# like the Debian kernels that scripts/deps.sh unpacks:
#
#   $VSTUB_CACHE/kernel/KVER/boot/{vmlinuz,config,System.map}-KVER
#   $VSTUB_CACHE/kernel/KVER/lib/modules/KVER/   (build -> the build tree)
#   $VSTUB_CACHE/debug/build-KEY/                (the tree: KDIR for vstub.ko)
#
# KEY hashes the linux-source package version, the fragment and this
# script's build recipe, and is part of KVER (6.12.N-vstubdbg-KEY), so that
# a changed fragment gives a new kernel next to the old one.  Prints
# "DEBUG_KVER=KVER" on its last line.  Takes ~950 CPU-seconds; runs niced.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VSTUB_CACHE:-/var/cache/vstub}
FRAGMENT=$TOP/selftests/debug/debug.config
RECIPE=2	# bump when the build steps below change what is produced

log() { printf 'debug-kernel: %s\n' "$*" >&2; }

tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1 || true)
[ -n "$tarball" ] || { log "no /usr/src/linux-source-6.12.tar.*: run scripts/deps.sh"; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %s "$tarball")
key=$({ echo "$srcver $RECIPE"; cat "$FRAGMENT"; } | sha256sum | cut -c1-10)
tree=$CACHE/debug/build-$key
stamp=$CACHE/debug/$key.kver

mkdir -p "$CACHE/debug"
# One build at a time on this machine (several worktrees share the cache).
exec 9>"$CACHE/debug/.lock"
flock 9

if [ -f "$stamp" ]; then
	kver=$(cat "$stamp")
	if [ -f "$CACHE/kernel/$kver/.done" ] && [ -f "$tree/Module.symvers" ]; then
		echo "DEBUG_KVER=$kver"
		exit 0
	fi
fi

t0=$SECONDS
log "building the debug kernel $key from $tarball ($srcver): ~950 CPU-s"
rm -rf "$tree"
mkdir -p "$tree"
tar -C "$tree" --strip-components=1 -xf "$tarball"
cd "$tree"
mk() { nice -n 10 make -s -j"$(nproc)" LOCALVERSION="-vstubdbg-$key" "$@"; }
mk KCONFIG_ALLCONFIG="$FRAGMENT" allnoconfig >build.log 2>&1

# Every symbol the fragment sets must have survived dependency resolution.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		want=$line ;;
	"# CONFIG_"*" is not set")
		want=$line ;;
	*)	continue ;;
	esac
	sym=${want#\# }
	sym=${sym%%[= ]*}
	got=$(grep -E "^(# )?$sym[= ]" .config || echo "# $sym is not set")
	if [ "$got" != "$want" ]; then
		log "fragment wants '$want', the kernel config has '$got'"
		bad=1
	fi
done <"$FRAGMENT"
[ $bad = 0 ] || { log "fix selftests/debug/debug.config (dependencies)"; exit 1; }

if ! mk bzImage modules >>build.log 2>&1; then
	tail -n 40 build.log >&2
	log "build failed: $tree/build.log"
	exit 1
fi
kver=$(mk kernelrelease)
dest=$CACHE/kernel/$kver
rm -rf "$dest"
mkdir -p "$dest/boot"
mk INSTALL_MOD_PATH="$dest" modules_install >>build.log 2>&1
cp arch/x86/boot/bzImage "$dest/boot/vmlinuz-$kver"
cp .config "$dest/boot/config-$kver"
cp System.map "$dest/boot/System.map-$kver"
rm -f "$dest/lib/modules/$kver/build"
ln -s "$tree" "$dest/lib/modules/$kver/build"
depmod -b "$dest" "$kver"
touch "$dest/.done"
echo "$kver" >"$stamp"
log "built $kver in $((SECONDS - t0)) s (tree $(du -sh "$tree" | cut -f1), staged $(du -sh "$dest" | cut -f1))"
echo "DEBUG_KVER=$kver"
