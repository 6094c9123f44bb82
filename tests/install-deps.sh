#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what nvmeta needs on Debian 12 (root): build tools, the libraries
# it links, Criterion, gnuplot (bench/plot.sh), clang (libFuzzer for
# tests/fuzz), groff (tests/man checks the man pages), debhelper, dpkg-dev
# and lintian (the Debian packages of debian/), perl (prove reads
# nvmeta-check's KTAP), and what the VM lab runs on.  Idempotent and quiet
# when everything is there already.
set -euo pipefail

PKGS=(
	build-essential cmake pkg-config
	liburing-dev libnvme-dev libjson-c-dev libssl-dev libisal-dev
	libcriterion-dev gnuplot-nox clang
	groff-base jq
	debhelper dpkg-dev lintian perl
	qemu-system-x86 busybox-static cpio xz-utils zstd kmod
	python3-cffi python3-dev python3-pytest python3-setuptools python3-pip python3-venv
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q </dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
