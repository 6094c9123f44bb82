#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: set everything up (packages, build, lab kernels and QEMU),
# boot the newest kernel with an NVMe namespace that carries metadata, and
# run nvmeta-info and the copy-back checker there; then end with a short
# nvmeta-bench run (--quick) on the newest kernel and controller, and print
# its summary: pinned against bounced metadata, the library against raw
# SQEs, no metadata against metadata.  The benchmark always runs on sid,
# QEMU 10, preset 512+8, whatever the options say: the options choose where
# nvmeta-info and the checker run.  Its JSON, CSV and plots stay in the
# directory it names (under /var/cache/nvmeta-lab/logs).
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
cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNVMETA_WERROR=ON >/dev/null
cmake --build "$ROOT/build" -j "$(nproc)"
"$ROOT/tests/vm/lab" setup
"$ROOT/tests/vm/lab" run --kernel "$KERNEL" --qemu "$QEMU" --preset "$PRESET" \
	--file "$ROOT/build" -- sh -c \
	"'$ROOT/build/examples/nvmeta-info' $JSON /dev/ng0n1 && '$ROOT/build/examples/nvmeta-check' -q $JSON /dev/ng0n1"
# With --json, stdout holds the JSON above alone: the summary goes to stderr.
if [ -n "$JSON" ]; then exec 3>&2; else exec 3>&1; fi
"$ROOT/tests/vm/lab" bench --quick --summary --kernel sid --qemu 10 --preset 512+8 \
	--build "$ROOT/build" >&3
