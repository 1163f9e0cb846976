# SPDX-License-Identifier: GPL-2.0
#
# vstub - top-level Makefile.  The module itself is described by ./Kbuild
# (kbuild reads that, never this file); this file drives builds, install,
# checks and the demo.
#
#   make                 module for the running kernel (or KVER=/KDIR=),
#                        the user helper (if user/ has a Makefile), the tests
#   make modules KVER=K  build/K/vstub.ko
#   make install         install the module for KVER (kbuild modules_install
#                        into updates/, depmod) and the helper (vstubctl,
#                        man page, completion, unit enabled, udev rule,
#                        initramfs-tools hook); DESTDIR= for a staging root
#   make uninstall       remove exactly what install put there
#   make deb             build/deb/vstub-dkms_*.deb and vstubctl_*.deb
#   make dkms-install    register and install the module with DKMS
#   make tests           the static selftests (build/selftests/)
#   make check           everything CI runs: deps, builds, checkpatch,
#                        sparse + W=1 on both kernels, DKMS builds, VM tests
#                        (with the debug kernel and its fail-nth sweep), and
#                        the debug checks against a broken fixture module
#   make demo [KVER=K]   boot a VT-d guest and show vstub at work
#   make bench           vstub vs vfio_iommu_type1 (both kernels) and vs
#                        iommufd, next to the bare-pin floor and io_uring
#   make clean

TOP	:= $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
VERSION	:= $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)
CACHE	?= /var/cache/vstub
CHECKPATCH ?= $(CACHE)/kselftest/scripts/checkpatch.pl

# Which kernel: KVER, or the one KDIR was configured for, or the running one.
ifneq ($(KDIR),)
KVER	?= $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)
endif
ifeq ($(origin KVER),undefined)
KVER_GIVEN :=
KVER	:= $(shell uname -r)
else
KVER_GIVEN := $(KVER)
endif
KDIR	?= /lib/modules/$(KVER)/build
OBJ	:= $(TOP)/build/$(KVER)

# The kernels `make check` covers: resolved by scripts/deps.sh.
VSTUB_KVERS ?=

.NOTPARALLEL:

all: modules user tests

modules:
	@test -d $(KDIR) || { echo "no kernel build tree $(KDIR):" \
		"install its headers or pass KVER=/KDIR=" \
		"(have: $(patsubst /lib/modules/%/build,%,$(wildcard /lib/modules/*/build)))" >&2; exit 1; }
	mkdir -p $(OBJ)/kmod
	cp -a $(TOP)/Kbuild $(OBJ)/
	cp -a $(TOP)/kmod/. $(OBJ)/kmod/
	$(MAKE) -C $(KDIR) M=$(OBJ) modules

user:
	$(if $(wildcard $(TOP)/user/Makefile),$(MAKE) -C $(TOP)/user O=$(TOP)/build/user,@:)

tests:
	$(MAKE) -C $(TOP)/selftests

install: modules
	$(MAKE) -C $(KDIR) M=$(OBJ) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)
	$(MAKE) -C $(TOP)/user O=$(TOP)/build/user install
	@echo "installed; with a boot configuration, run: update-initramfs -u -k all"

uninstall:
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/vstub.ko*
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)
	$(MAKE) -C $(TOP)/user O=$(TOP)/build/user uninstall
	@echo "uninstalled; if the initramfs had vstub, run: update-initramfs -u -k all"

# Debian packages vstub-dkms and vstubctl (debian/), built from a copy of
# the tree so that dpkg-buildpackage's output stays in build/.
deb:
	rm -rf $(TOP)/build/deb && mkdir -p $(TOP)/build/deb/vstub-$(VERSION)
	tar -C $(TOP) --exclude=./build --exclude=./.git -cf - . | \
		tar -C $(TOP)/build/deb/vstub-$(VERSION) -xf -
	cd $(TOP)/build/deb/vstub-$(VERSION) && dpkg-buildpackage -us -uc -b
	@ls $(TOP)/build/deb/*.deb

dkms-install:
	rm -rf /usr/src/vstub-$(VERSION)
	mkdir -p /usr/src/vstub-$(VERSION)
	cp -a $(TOP)/Kbuild $(TOP)/kmod $(TOP)/Makefile $(TOP)/dkms.conf \
		/usr/src/vstub-$(VERSION)/
	dkms install -m vstub -v $(VERSION)

dkms-remove:
	dkms remove -m vstub -v $(VERSION) --all
	rm -rf /usr/src/vstub-$(VERSION)

# ---- checks -----------------------------------------------------------------

# The two long preparations start in the background at once, each under
# its own lock: the debug kernel's build (niced; most other checks here use
# one core) and the host test's Debian image (mostly downloads); the steps
# that need them wait for the lock, and build or report themselves if the
# background attempt failed.  The last lines (scripts/check-summary) name
# every failed step and check, so that the tail of a CI log says what broke.
check:
	@mkdir -p $(TOP)/build && touch $(TOP)/build/check.stamp && \
	kv=$$($(TOP)/scripts/deps.sh | tail -n1) && kv=$${kv#KVERS=} && \
	echo "== kernels: $$kv" && \
	{ $(TOP)/scripts/debug-kernel.sh >$(TOP)/build/debug-kernel.log 2>&1 & } && \
	{ VSTUB_KVERS="$$kv" $(TOP)/selftests/host/run --image-only \
		>$(TOP)/build/host-image.log 2>&1 & } && \
	{ $(MAKE) -k --no-print-directory VSTUB_KVERS="$$kv" check-build \
		checkpatch sparse dkms-check user-check ynl-check install-check \
		bench-smoke selftest debug-fixture host-check 2>&1; \
	  echo $$? >$(TOP)/build/check.rc; } | tee $(TOP)/build/check.log && \
	rc=$$(cat $(TOP)/build/check.rc) && \
	$(TOP)/scripts/check-summary $(TOP)/build/check.stamp $$rc \
		$(TOP)/build/check.log && exit $$rc

check-build: user tests
	@for k in $(VSTUB_KVERS); do \
		echo "== build for $$k"; \
		$(MAKE) --no-print-directory KVER=$$k modules >/dev/null || exit 1; \
	done

checkpatch:
	@echo "== checkpatch"
	@out=$$(perl $(CHECKPATCH) --no-tree -f --terse \
		$(wildcard $(TOP)/kmod/*.c $(TOP)/kmod/*.h $(TOP)/kmod/uapi/*.h) \
		2>&1 | sed 's|$(TOP)/||'); \
	echo "$$out" | grep -E 'ERROR:|WARNING:' && exit 1; \
	echo "checkpatch: clean"

# sparse (C=1) and W=1 from a fresh copy, so that every file is checked.
sparse:
	@for k in $(VSTUB_KVERS); do \
		echo "== sparse + W=1 for $$k"; \
		d=$(TOP)/build/check/$$k; rm -rf $$d; mkdir -p $$d; \
		cp -a $(TOP)/Kbuild $(TOP)/kmod $$d/; \
		$(MAKE) --no-print-directory -C /lib/modules/$$k/build M=$$d \
			C=1 W=1 modules >$$d/build.log 2>&1 || \
			{ cat $$d/build.log; exit 1; }; \
		if grep 'warning:' $$d/build.log; then exit 1; fi; \
	done; echo "sparse/W=1: clean"

# make install / make uninstall into a staging root: uninstall must leave
# exactly the files that were there before install.
install-check:
	@echo "== make install / uninstall (file lists)"
	@$(TOP)/selftests/host/install-check $(firstword $(VSTUB_KVERS))

# The full Debian 12 host: both .debs, persistence across reboots, on
# both kernels (selftests/host/run).
host-check: deb
	@echo "== lintian"
	@lintian --fail-on error,warning -I $(TOP)/build/deb/vstub_$(VERSION)_amd64.changes
	@echo "== Debian host test (packages, persistence, reboots)"
	@VSTUB_KVERS="$(VSTUB_KVERS)" $(TOP)/selftests/host/run $(HOSTFLAGS)

dkms-check:
	@echo "== dkms"
	@$(TOP)/selftests/lib/dkms-check $(VSTUB_KVERS)

# vstubctl's host-side unit and CLI tests, under valgrind (no kernel).
user-check:
	@echo "== vstubctl unit tests (valgrind)"
	@$(MAKE) --no-print-directory -C $(TOP)/user O=$(TOP)/build/user check

# The YNL spec of the netlink family against the uapi header (and the
# kernel's genetlink schema), and broken variants the check must refuse.
ynl-check:
	@echo "== YNL spec vs uapi header"
	@$(TOP)/scripts/ynl-check

# The benchmark program once with tiny sizes, so that it cannot rot; its
# times are printed, never compared.  The iommufd guest only if that kernel
# is cached already (~40 s more): check never builds it, make bench does.
bench-smoke:
	@echo "== benchmark smoke run (6.12, and iommufd if its kernel is built; tiny sizes)"
	@VSTUB_KVERS="$(VSTUB_KVERS)" $(TOP)/bench/run --quick --kernel 6.12 --iommufd-if-cached

# make bench: the full benchmark (never part of check): Debian 6.1 and 6.12
# (vstub vs type1) and the iommufd kernel (vstub vs iommufd; built once by
# scripts/kernel-build.sh iommufd), each against the floor and io_uring.
bench:
	@$(TOP)/bench/run $(BENCHFLAGS)

selftest:
	@echo "== VM tests"
	@VSTUB_KVERS="$(VSTUB_KVERS)" $(TOP)/selftests/run $(RUNFLAGS)

# The debug kernel's evaluation must fail on a deliberately broken module.
debug-fixture:
	@echo "== debug kernel: the detectors catch a broken fixture module"
	@$(TOP)/selftests/debug/fixture-check

demo:
	@$(TOP)/selftests/demo/run $(if $(KVER_GIVEN),--kernel $(KVER_GIVEN))

clean:
	rm -rf $(TOP)/build
	$(if $(wildcard $(TOP)/user/Makefile),$(MAKE) -C $(TOP)/user O=$(TOP)/build/user clean)

.PHONY: all modules user tests install uninstall deb dkms-install dkms-remove check \
	install-check host-check \
	check-build checkpatch sparse dkms-check user-check ynl-check bench-smoke bench \
	selftest debug-fixture demo clean
