#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of tests/fuzz/corpus/ from real inputs: the
identify structures captured in the lab (tests/unit/data), sysfs values,
tracefs lines and uname releases of the lab's kernels.  Run once after a
harness's input format changes; the seeds are committed."""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "unit", "data")
OUT = os.path.join(HERE, "corpus")


def put(name, file, blob):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, file), "wb") as f:
        f.write(blob if isinstance(blob, bytes) else blob.encode())


def identify():
    # fuzz_identify.c: ctrl[0:1024] ns[0:512] nvm[0:512]; no nvm part
    # when the capture has none.
    for fn in sorted(os.listdir(DATA)):
        if not fn.startswith("identify-"):
            continue
        s = {"ctrl": bytearray(4096), "ns": bytearray(4096), "nvm": bytearray(4096)}
        seen = set()
        for line in open(os.path.join(DATA, fn)):
            name, off, hx = line.split()
            off = int(off, 16)
            b = bytes.fromhex(hx)
            s[name][off:off + len(b)] = b
            seen.add(name)
        blob = bytes(s["ctrl"][:1024]) + bytes(s["ns"][:512])
        if "nvm" in seen:
            blob += bytes(s["nvm"][:512])
        put("identify", fn.replace(".txt", ".bin"), blob)


def sysfs():
    # fuzz_sysfs.c: NUL-separated file contents in its files[] order;
    # "\xff" alone is an absent file.
    queue = ["1\n", "3\n", "128\n", "4294967295\n", "512\n", "4095\n", None, "0\n"]
    cases = {
        "512-none": ("512\n", "none\n", "0\n", "0\n", "2097152\n", "0\n"),
        "512+8-pi1": ("512\n", "T10-DIF-TYPE1-CRC\n", "2\n", "512\n", "2097152\n", "8\n"),
        "4096+16-pi1-g64": ("4096\n", "EXT-DIF-TYPE1-CRC64\n", "2\n", "4096\n",
                            "262144\n", "16\n"),
        "6.1-no-metadata_bytes": ("512\n", "nop\n", "0\n", "512\n", "2097152\n", None),
    }
    for name, (lbs, fmt, tag, pib, size, mdb) in cases.items():
        vals = [lbs if v is None else v for v in queue] + [fmt, tag, pib, size, mdb]
        put("sysfs", name, b"\0".join(b"\xff" if v is None else v.encode() for v in vals))


def kpath():
    # fuzz_kpath.c: a selector byte (odd: pid namespace 4026531836; the
    # rest: how many names fit), then the text.
    ns = 4026531836
    events = "".join("p:kprobes/nvmeta_%d_%d_%s %s\n" % (pid, ns, p, sym) for pid, p, sym in [
        (100, "meta_map", "blk_rq_integrity_map_user"),
        (200, "meta_copy", "bio_integrity_add_page"),
        (200, "data_map", "blk_rq_map_user_iov"),
        (301, "data_pin", "bio_iov_iter_get_pages")])
    events += "p:kprobes/myprobe do_sys_open\nr:kprobes/nvmeta_4_%d_meta_map x\n" % ns
    put("kpath", "events", b"\x09" + events.encode())
    profile = "".join("  %-44s %15u %15u\n" % ("nvmeta_100_%d_%s" % (ns, p), h, 0)
                      for p, h in [("meta_map", 12), ("meta_copy", 0), ("data_map", 12),
                                   ("data_pin", 7)])
    profile += "  %-44s %15u %15u\n" % ("myprobe", 3, 1)
    put("kpath", "profile", b"\x05" + profile.encode())


def pagemap():
    # fuzz_pagemap.c: a flag byte (odd: with kpageflags), then N pagemap
    # entries and N kpageflags words.  Present pages (bit 63) with soft-dirty
    # and exclusive bits as the kernel sets them; a THP's head and tails.
    present = (1 << 63) | (1 << 56) | (1 << 55)
    head, tail, thp = 1 << 15, 1 << 16, 1 << 22
    thp_run = [0x1a200 + i for i in range(8)]
    flags = [head | thp] + [tail | thp] * 7
    put("pagemap", "thp", struct.pack("<B", 1) +
        struct.pack("<8Q", *[present | p for p in thp_run]) + struct.pack("<8Q", *flags))
    pages = [0x3c001, 0x3c002, 0x51000, 0x51001]
    put("pagemap", "4k", struct.pack("<B", 1) +
        struct.pack("<4Q", *[present | p for p in pages]) + struct.pack("<4Q", *[1 << 5] * 4))
    put("pagemap", "hidden-and-absent", struct.pack("<B", 0) +
        struct.pack("<3Q", present, 0, present | 5) + struct.pack("<3Q", 0, 0, 0))


def kernel():
    for r in ["6.1.0-27-amd64", "6.12.117+deb13-amd64", "7.2.0-rc3-amd64", "6.8", "5.15.0",
              "6.1.0-rc7+"]:
        put("kernel", r, r)


def args():
    # fuzz_args.c: MIN, MAX, the text.
    for i, (lo, hi, text) in enumerate([(1, 65536, "128"), (0, 2**64 - 1, "0x1000"),
                                        (1, 4096, "010"), (0, 2**64 - 1, "18446744073709551615"),
                                        (1, 1000000, "12abc")]):
        put("args", "seed%d" % i, struct.pack("<QQ", lo, hi) + text.encode())


def pi():
    # fuzz_pi.c: struct hdr (packed), then the blocks' bytes.
    def hdr(bs, ms, typ, guard, pisz, sts, flags, nlb, ref, app, mask, checks, remap,
            ib, ifield, ioff):
        return struct.pack("<HBBBBBBBQHHBIBBH", bs, ms, typ, guard, pisz, sts, flags, nlb,
                           ref, app, mask, checks, remap, ib, ifield, ioff)
    blocks = bytes(range(256)) * 2
    put("pi", "512+8-t1-g16", hdr(512, 8, 1, 16, 8, 0, 0, 4, 100, 0x1234, 0xffff, 15, 7,
                                   1, 1, 0) + blocks)
    put("pi", "512+16-t2-g64-last", hdr(512, 16, 2, 64, 16, 0, 0, 2, 5, 0, 0xffff, 15, 9,
                                         0, 5, 100) + blocks)
    put("pi", "512+16-t1-g32-sts32-ext", hdr(512, 16, 1, 32, 16, 32, 3, 3, 1 << 40, 7, 0xff,
                                              15, 1, 2, 4, 0) + blocks)
    put("pi", "4096+64-t3-g64-sts8", hdr(4096, 64, 3, 64, 16, 8, 1, 2, 0xffffffff, 0xffff,
                                          0xffff, 15, 3, 1, 3, 0) + blocks)


for f in (identify, sysfs, pagemap, kpath, kernel, args, pi):
    f()
sys.exit(0)
