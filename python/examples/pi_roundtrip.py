#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write eight blocks with PI made on the host, read them back checked by
the device and by the host, then corrupt one reference tag on purpose
and see which block and field are named.  A scratch namespace only: it
writes LBA SLBA..SLBA+7.

    python3 pi_roundtrip.py /dev/ng0n1 [SLBA]
"""
import os
import sys

import nvmeta
from nvmeta import pi


def main(path, slba=0):
    with nvmeta.Device(path) as dev:
        info = dev.info
        print("%s: %s, %u+%u, PI type %u, kernel %s" % (
            path, info.model, info.lba_size, info.ms, info.pi_type, info.kernel.release))
        fmt = pi.Format.of(info)  # NvmetaError EPROTO without PI
        nlb = 8
        data = os.urandom(nlb * info.lba_size)
        checks = nvmeta.PRCHK_GUARD | nvmeta.PRCHK_REF
        meta = dev.write(slba, data, generate=True, prinfo=checks, layout="pinned")
        back, meta_back = dev.read(slba, nlb, prinfo=checks, verify=True)
        assert (back, meta_back) == (data, meta)
        print("wrote and read %u blocks with PI: byte for byte" % nlb)

        # A bad reference tag stored without device checks, found on the host.
        _, bad = pi.inject(fmt, data, meta, block=3, field="ref")
        dev.write(slba, data, bad)
        try:
            dev.read(slba, nlb, verify=True)
        except nvmeta.PIMismatch as e:
            for err in e.errors:
                print("bad block: LBA %u, %s: expected %#x, found %#x" % (
                    err.lba, err.field, err.expected, err.found))
        # The metadata buffer's path, as the library predicts it.
        buf = nvmeta.Buffer(info, nlb * info.ms, "misaligned")
        print("misaligned metadata:", nvmeta.predict(info, "meta", buf).reason)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    try:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 0)
    except nvmeta.NvmetaError as e:
        sys.exit("nvmeta: %s" % e)
