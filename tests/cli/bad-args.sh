#!/bin/sh
# SPDX-License-Identifier: MIT
# No device needed: nvmeta-io, nvmeta-check, nvmeta-blockstore and
# nvmeta-soak refuse numbers they cannot represent and files they cannot
# use, with exit status 2 and a message naming the option and the bad
# text, before they open the device (the device path given here does not
# exist).
# Usage: bad-args.sh EXAMPLES_DIR
X=${1:?usage: bad-args.sh EXAMPLES_DIR}
IO=$X/nvmeta-io
CHECK=$X/nvmeta-check
DEV=/nonexistent/ng0n1
W=$(mktemp -d) || exit 1
trap 'rm -rf "$W"' EXIT
failed=0
PAGE=$(getconf PAGESIZE)

. "$(dirname "$0")/../vm/expect.sh"

# Numbers: whole string, no sign, no overflow, within the field.
expect 2 "-c/--nlb '4294967297'" "$IO" $DEV read -d "$W/d" -c 4294967297
expect 2 "-c/--nlb '18446744073709551616'" "$IO" $DEV read -d "$W/d" -c 18446744073709551616
expect 2 "-s/--slba '12abc'" "$IO" $DEV read -d "$W/d" -s 12abc
expect 2 "-s/--slba '-1'" "$IO" $DEV read -d "$W/d" -s -1
expect 2 "-s/--slba ' 1'" "$IO" $DEV read -d "$W/d" -s " 1"
expect 2 "-s/--slba '+1'" "$IO" $DEV read -d "$W/d" -s +1
expect 2 "-s/--slba ''" "$IO" $DEV read -d "$W/d" -s ""
expect 2 "-c/--nlb '0x'" "$IO" $DEV read -d "$W/d" -c 0x
expect 2 "-c/--nlb '08'" "$IO" $DEV read -d "$W/d" -c 08
expect 2 "-p/--prinfo '256'" "$IO" $DEV read -d "$W/d" -p 256
expect 2 "-p/--prinfo '16'" "$IO" $DEV read -d "$W/d" -p 16
expect 2 "-a/--app-tag '0x11234'" "$IO" $DEV read -d "$W/d" -a 0x11234
expect 2 "-m/--app-tag-mask '65536'" "$IO" $DEV read -d "$W/d" --app-tag-mask 65536
expect 2 "-m/--app-tag-mask '0x10000'" "$IO" $DEV read -d "$W/d" -m 0x10000
expect 2 "-S/--storage-tag '0x10000000000000000'" "$IO" $DEV read -d "$W/d" -S 0x10000000000000000
expect 2 "-r/--ref-tag '0x10000000000000000'" "$IO" $DEV read -d "$W/d" -r 0x10000000000000000
expect 2 "-o/--offset '$PAGE'" "$IO" $DEV read -d "$W/d" -o "$PAGE"
expect 2 "--iovecs '0': out of range; must be 1 to 1024" "$IO" $DEV read -d "$W/d" --iovecs 0
expect 2 "--iovecs '1025': out of range; must be 1 to 1024" "$IO" $DEV read -d "$W/d" --iovecs 1025
expect 2 "--iovecs: write-zeroes moves no data; drop the option" "$IO" $DEV write-zeroes --iovecs 2
expect 2 "-r/--runs '-1'" "$CHECK" -r -1 $DEV
expect 2 "-r/--runs '0'" "$CHECK" -r 0 $DEV
expect 2 "-r/--runs '1000001'" "$CHECK" -r 1000001 $DEV
expect 2 "-r/--runs '5x'" "$CHECK" --runs 5x $DEV
expect 2 "-r/--runs '4294967297'" "$CHECK" -r 4294967297 $DEV

# Numbers the tools can carry pass parsing and reach the device, which
# does not exist (status 1): the library, not the tool, owns nlb's range
# (-c 65537 gets its EDOM in the lab test).
expect 1 "$DEV" "$IO" $DEV read -d "$W/d" -c 65536 -s 0x0 -p 15 -a 0xffff -m 0xffff \
	-r 0xffffffffffffffff -o $((PAGE - 1))
expect 1 "$DEV" "$IO" $DEV read -d "$W/d" -c 65537
expect 2 "$DEV" "$CHECK" -r 1000000 -K $DEV
rm -f "$W/d"

# Short options as nvme-cli has them: -M the metadata file, -m the app tag
# mask (a file name given to -m is a bad number, not a file).
: >"$W/m"
expect 2 "-m/--app-tag-mask '$W/m': not a number" "$IO" $DEV read -d "$W/d" -m "$W/m"
[ -e "$W/d" ] && fail "a refused read left $W/d behind"

# Host protection information: refused before the device is opened.
expect 2 "--inject 'crc': unknown field" "$IO" $DEV write -d /dev/zero --pi-gen --inject crc
expect 2 "--inject 'guard2': unknown field" "$IO" $DEV write -d /dev/zero --pi-gen --inject guard2
expect 2 "--inject '': unknown field" "$IO" $DEV write -d /dev/zero --pi-gen --inject ""
expect 2 "--inject LBA '12abc'" "$IO" $DEV write -d /dev/zero --pi-gen --inject ref:12abc
expect 2 "--inject guard:8: LBA 8 is outside the command's range, the 8 blocks from LBA 0" \
	"$IO" $DEV write -d /dev/zero --pi-gen -c 8 --inject guard:8
expect 2 "--inject app:99: LBA 99 is outside the command's range, the 1 blocks from LBA 100" \
	"$IO" $DEV write -d /dev/zero --pi-gen --inject app:99 -s 100
expect 2 "--inject guard: needs --pi-gen" "$IO" $DEV write -d /dev/zero --inject guard
# One fault a command: a second --inject is refused, and each is parsed
# whole on its own (the second neither keeps the first's LBA nor slips an
# unknown field through).
expect 2 "--inject 'app': given twice (first 'guard:3'); one field is corrupted a command" \
	"$IO" $DEV write -d /dev/zero --pi-gen -c 8 --inject guard:3 --inject app
expect 2 "--inject 'guard:1': given twice (first 'guard:1')" \
	"$IO" $DEV write -d /dev/zero --pi-gen -c 8 --inject guard:1 --inject guard:1
expect 2 "--inject 'crc': unknown field" "$IO" $DEV write -d /dev/zero --pi-gen --inject guard \
	--inject crc
expect 2 "--inject LBA 'x'" "$IO" $DEV write -d /dev/zero --pi-gen --inject guard --inject app:x
expect 2 "--pi-check: verification is for reads, not for write" \
	"$IO" $DEV write -d /dev/zero --pi-check
expect 2 "--pi-check: verification is for reads, not for compare" \
	"$IO" $DEV compare -d /dev/zero --pi-check
expect 2 "--pi-gen: generation is for the data a command sends (write, compare), not for read" \
	"$IO" $DEV read -d "$W/d" --pi-gen
expect 2 "--pi-check: -p/--prinfo 9 sets PRACT" "$IO" $DEV read -d "$W/d" --pi-check -p 9
expect 2 "--pi-gen: -p/--prinfo 8 sets PRACT" "$IO" $DEV write -d /dev/zero --pi-gen -p 8
[ -e "$W/d" ] && fail "a refused read left $W/d behind"
# What parses reaches the device (status 1); the LBA may name any block of
# the range, the last one included.
expect 1 "$DEV" "$IO" $DEV write -d /dev/zero --pi-gen -p 7 -s 100 -c 8 --inject ref:107 \
	-r 5 -a 0x1234 -m 0xff00 -S 0
expect 1 "$DEV" "$IO" $DEV write -d /dev/zero --pi-gen --inject storage
expect 1 "$DEV" "$IO" $DEV compare -d /dev/zero --pi-gen --inject data:0
expect 1 "$DEV" "$IO" $DEV read -d "$W/d" --pi-check -p 7 -M "$W/m"
rm -f "$W/d"

# -M where no metadata moves, -d where no data moves, no -d where it does.
expect 2 "-M/--metadata: write-zeroes moves no data" "$IO" $DEV write-zeroes -M "$W/m"
expect 2 "-M/--metadata: verify moves no data" "$IO" $DEV verify --metadata "$W/m"
expect 2 "-d/--data: write-zeroes moves no data" "$IO" $DEV write-zeroes -d "$W/m"
expect 2 "--data FILE is required" "$IO" $DEV read

# Files: the real error, found before the device is opened.
mkdir "$W/dir"
mkfifo "$W/fifo"
expect 2 "$W/dir: is a directory" "$IO" $DEV write -d "$W/dir"
expect 2 "$W/dir: is a directory" "$IO" $DEV read -d "$W/dir"
expect 2 "$W/dir: is a directory" "$IO" $DEV read -d "$W/d" -M "$W/dir"
expect 2 "$W/fifo: is a FIFO" "$IO" $DEV write -d "$W/fifo"
expect 2 "$W/fifo: is a FIFO" "$IO" $DEV read -d "$W/fifo"
expect 2 "$W/none: No such file or directory" "$IO" $DEV write -d "$W/none"
expect 2 "$W/no/such: No such file or directory" "$IO" $DEV read -d "$W/no/such"
[ -e "$W/d" ] && fail "a refused read left $W/d behind"

# A read that fails leaves an existing output file as it was, and creates
# none that did not exist.
echo keep >"$W/keep"
expect 1 "$DEV" "$IO" $DEV read -d "$W/keep" -M "$W/new"
[ "$(cat "$W/keep")" = keep ] || fail "a failed read truncated $W/keep"
[ -e "$W/new" ] && fail "a failed read left $W/new behind"

# The example block store: its numbers whole, its --help a success (the
# install check starts every tool with --help; a bad option once made it
# spin forever).
BS=$X/nvmeta-blockstore
expect 2 "bad number '12abc'" "$BS" --slba 12abc $DEV
expect 2 "bad number '18446744073709551616'" "$BS" --slba 18446744073709551616 $DEV
expect 2 "bad number '4097'" "$BS" --count 4097 $DEV
expect 2 "usage: nvmeta-blockstore" "$BS" --bogus $DEV
timeout 10 "$BS" --help </dev/null | grep -q "^usage: nvmeta-blockstore" ||
	fail "nvmeta-blockstore --help: no usage on stdout, or not within 10 s"

# The soak: numbers within their fields, a journal and a device needed,
# and nothing written (no journal made) when the device does not open.
SK=$X/nvmeta-soak
expect 2 "--time '0'" "$SK" --journal "$W/j" --time 0 $DEV
expect 2 "--qd '65'" "$SK" --journal "$W/j" --qd 65 $DEV
expect 2 "--writers '5x'" "$SK" --journal "$W/j" --writers 5x $DEV
expect 2 "--region-mb '-1'" "$SK" --journal "$W/j" --region-mb -1 $DEV
expect 2 "usage: nvmeta-soak" "$SK" $DEV
expect 2 "usage: nvmeta-soak" "$SK" --journal "$W/j" --self-test $DEV $DEV
expect 2 "$DEV" "$SK" --journal "$W/j" $DEV
[ -e "$W/j" ] && fail "nvmeta-soak made its journal before the device opened"
timeout 10 "$SK" --help </dev/null | grep -q "^usage: nvmeta-soak" ||
	fail "nvmeta-soak --help: no usage on stdout, or not within 10 s"

echo "bad-args: $failed failed"
[ "$failed" -eq 0 ]
