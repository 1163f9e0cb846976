#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (once) a guest kernel of one FLAVOUR from Debian's linux-source-6.12
# with `make allnoconfig` and a config fragment kept in the tree, and stage
# it like the Debian kernels that scripts/deps.sh unpacks:
#
#   scripts/kernel-build.sh debug|iommufd
#
#   debug    selftests/debug/debug.config: KASAN, lockdep, kmemleak, fault
#            injection (selftests/run's 6.12-debug configurations);
#            KVER 6.12.N-vstubdbg-KEY, prints "DEBUG_KVER=KVER"
#   iommufd  bench/iommufd.config: iommufd serving /dev/vfio/vfio
#            (IOMMUFD_VFIO_CONTAINER, no VFIO_CONTAINER), for make bench;
#            KVER 6.12.N-vstubiofd-KEY, prints "IOMMUFD_KVER=KVER"
#
#   $VSTUB_CACHE/kernel/KVER/boot/{vmlinuz,config,System.map}-KVER
#   $VSTUB_CACHE/kernel/KVER/lib/modules/KVER/   (build -> the build tree)
#   $VSTUB_CACHE/FLAVOUR/build-KEY/              (the tree: KDIR for modules)
#
# KEY hashes the linux-source package version, the fragment and the
# flavour's recipe number, and is part of KVER, so that a changed fragment
# gives a new kernel next to the old one.  The KVER=... line is the last
# line of the output.  Runs niced, one build per flavour at a time
# (flock: several worktrees share the cache).  Measured: debug ~950 CPU-s,
# iommufd ~1,050 CPU-s (30 min wall on a loaded 2-core machine).
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VSTUB_CACHE:-/var/cache/vstub}

flavour=${1:-}
# RECIPE: bump when the build steps below change what that flavour
# produces (the debug kernel's number and key inputs must stay as they are,
# or its cached build is rebuilt).
case $flavour in
debug)
	FRAGMENT=$TOP/selftests/debug/debug.config
	RECIPE=2 LOCAL=vstubdbg VAR=DEBUG_KVER ;;
iommufd)
	FRAGMENT=$TOP/bench/iommufd.config
	RECIPE=1 LOCAL=vstubiofd VAR=IOMMUFD_KVER ;;
*)
	echo "usage: $0 debug|iommufd" >&2
	exit 2 ;;
esac

log() { printf '%s-kernel: %s\n' "$flavour" "$*" >&2; }

tarball=
for f in /usr/src/linux-source-6.12.tar.*; do
	[ -f "$f" ] && { tarball=$f; break; }
done
[ -n "$tarball" ] || { log "no /usr/src/linux-source-6.12.tar.*: run scripts/deps.sh"; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %s "$tarball")
key=$({ echo "$srcver $RECIPE"; cat "$FRAGMENT"; } | sha256sum | cut -c1-10)
dir=$CACHE/$flavour
tree=$dir/build-$key
stamp=$dir/$key.kver

# --key: only print the key (the kernel's cache identity), build nothing.
[ "${2:-}" = --key ] && { echo "$key"; exit 0; }
# --cached: print the KVER line if this kernel is built, fail otherwise.
cached() {
	local kver
	[ -f "$stamp" ] || return 1
	kver=$(cat "$stamp")
	[ -f "$CACHE/kernel/$kver/.done" ] && [ -f "$tree/Module.symvers" ] || return 1
	echo "$VAR=$kver"
}
if [ "${2:-}" = --cached ]; then
	cached
	exit
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
cached && exit 0

t0=$SECONDS
log "building the $flavour kernel $key from $tarball ($srcver), niced"
rm -rf "$tree"
mkdir -p "$tree"
tar -C "$tree" --strip-components=1 -xf "$tarball"
cd "$tree"
mk() { nice -n 10 make -s -j"$(nproc)" LOCALVERSION="-$LOCAL-$key" "$@"; }
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
	got=$(grep -E "^(# )?${sym}[= ]" .config || echo "# $sym is not set")
	if [ "$got" != "$want" ]; then
		log "fragment wants '$want', the kernel config has '$got'"
		bad=1
	fi
done <"$FRAGMENT"
[ $bad = 0 ] || { log "fix ${FRAGMENT#"$TOP"/} (dependencies)"; exit 1; }

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
echo "$VAR=$kver"
