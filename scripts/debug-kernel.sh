#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel of selftests/run's 6.12-debug configurations
# (scripts/kernel-build.sh debug): built once, cached; prints
# "DEBUG_KVER=KVER" on its last line.
exec "$(dirname "$0")/kernel-build.sh" debug "$@"
