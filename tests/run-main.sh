#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: set everything up (packages, build, lab kernels and QEMU),
# boot the newest kernel with an NVMe namespace that carries metadata, and
# run nvmeta-info and the copy-back checker there.
#
#   tests/run-main.sh [--kernel SUITE] [--qemu 7.2|10] [--preset NAME] [--json]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KERNEL=sid
QEMU=7.2
PRESET=512+16-pi1
JSON=

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=$2; shift 2 ;;
	--qemu) QEMU=$2; shift 2 ;;
	--preset) PRESET=$2; shift 2 ;;
	--json) JSON=--json; shift ;;
	*) echo "usage: $0 [--kernel SUITE] [--qemu 7.2|10] [--preset NAME] [--json]" >&2; exit 2 ;;
	esac
done

"$ROOT/tests/install-deps.sh"
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$ROOT/build" -j "$(nproc)"
"$ROOT/tests/vm/lab" setup
"$ROOT/tests/vm/lab" run --kernel "$KERNEL" --qemu "$QEMU" --preset "$PRESET" \
	--file "$ROOT/build" -- sh -c \
	"'$ROOT/build/examples/nvmeta-info' $JSON /dev/ng0n1 && '$ROOT/build/examples/nvmeta-check' -q $JSON /dev/ng0n1"
