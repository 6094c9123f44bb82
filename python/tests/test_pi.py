# SPDX-License-Identifier: MIT
"""Host PI on bytes and buffers: check values, tuples byte for byte
against CRCs computed here, verify, inject, and the errors."""
import errno
import random
import struct

import pytest

import nvmeta
from nvmeta import pi

from refcrc import crc16_t10dif, crc32c, crc64_nvme

CHECK = b"123456789"


def test_crc_check_values():
    assert pi.crc16_t10dif(CHECK) == 0xD0DB
    assert pi.crc32c(CHECK) == 0xE3069283
    assert pi.crc64_nvme(CHECK) == 0xAE8B14860A799888
    assert pi.crc64_nvme(bytes(4096)) == 0x6482D367EB22B64E
    # Running CRCs: f(b, f(a, 0)) is the CRC of a||b.
    assert pi.crc32c(CHECK[4:], pi.crc32c(CHECK[:4])) == 0xE3069283
    assert pi.crc64_impl() in ("isa-l", "vpclmul", "clmul", "table")


def test_crc_against_definitions():
    rnd = random.Random(7)
    for n in (0, 1, 17, 512, 4096):
        b = bytes(rnd.getrandbits(8) for _ in range(n))
        assert pi.crc16_t10dif(b) == crc16_t10dif(b)
        assert pi.crc32c(b) == crc32c(b)
        if n <= 512:
            assert pi.crc64_nvme(b) == crc64_nvme(b)


def blocks(n, size, seed=1):
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(n * size))


def test_generate_16bit_guard_tuples():
    f = pi.Format(block_size=512, ms=8, pi_type=1, guard_bits=16)
    data = blocks(4, 512)
    d, meta = pi.generate(f, data, bytes(32), ref_tag=100, app_tag=0x1234)
    assert d is data and isinstance(meta, bytes) and len(meta) == 32
    for i in range(4):
        guard = crc16_t10dif(data[i * 512:(i + 1) * 512])
        assert meta[i * 8:(i + 1) * 8] == struct.pack(">HHI", guard, 0x1234, 100 + i)
    res = pi.verify(f, data, meta, ref_tag=100, app_tag=0x1234, lba=5000)
    assert res == [] and res.bad == 0 and res.unwritten == 0


def test_generate_64bit_guard_pi_last_covers_metadata():
    # 4096+16, PI in the last 16 bytes of 64 (ms 64): the guard covers
    # the data and the 48 metadata bytes before the PI.
    f = pi.Format(block_size=4096, ms=64, pi_type=1, guard_bits=64)
    assert f.pi_size == 16
    data = blocks(2, 4096, seed=2)
    meta = bytearray(blocks(2, 64, seed=3))
    before = bytes(meta)
    d, m = pi.generate(f, data, meta, ref_tag=0x123456789A, app_tag=0xBEEF)
    assert m is meta  # a bytearray is changed in place
    for i in range(2):
        blk = data[i * 4096:(i + 1) * 4096]
        md = meta[i * 64:(i + 1) * 64]
        assert md[:48] == before[i * 64:i * 64 + 48]  # outside the PI: untouched
        guard = pi.crc64_nvme(md[:48], pi.crc64_nvme(blk))
        assert guard == crc64_nvme(blk + md[:48])
        ref = 0x123456789A + i
        assert md[48:] == struct.pack(">QH", guard, 0xBEEF) + ref.to_bytes(6, "big")


def test_generate_32bit_guard_type3():
    # 80-bit tag space: a storage tag of 16 bits on top of a 64-bit
    # reference tag (the library wants at least 16 here).
    f = pi.Format(block_size=512, ms=16, pi_type=3, guard_bits=32, pi_first=True, sts=16)
    data = blocks(3, 512, seed=4)
    _, meta = pi.generate(f, data, bytes(48), ref_tag=77, app_tag=1, storage_tag=0xABCD)
    for i in range(3):
        guard = crc32c(data[i * 512:(i + 1) * 512])
        # type 3 keeps the reference tag for every block; 80-bit tag space
        tags = (0xABCD << 64 | 77).to_bytes(10, "big")
        assert meta[i * 16:(i + 1) * 16] == struct.pack(">IH", guard, 1) + tags
    assert pi.verify(f, data, meta, ref_tag=77, app_tag=1, storage_tag=0xABCD) == []
    res = pi.verify(f, data, meta, ref_tag=77, app_tag=1, storage_tag=0xABCE)
    assert [(e.field, e.expected, e.found) for e in res] == [("storage tag", 0xABCE, 0xABCD)] * 3


@pytest.mark.parametrize("field,name", [("guard", "guard"), ("app", "application tag"),
                                        ("ref", "reference tag"), ("data", "guard")])
def test_inject_reported_at_block_and_field(field, name):
    f = pi.Format(block_size=512, ms=8, pi_type=1, guard_bits=16)
    data = blocks(8, 512, seed=5)
    _, meta = pi.generate(f, data, bytes(64), ref_tag=1000, app_tag=0x55)
    bad_data, bad_meta = pi.inject(f, data, meta, block=5, field=field, offset=100)
    assert isinstance(bad_data, bytes) and isinstance(bad_meta, bytes)
    res = pi.verify(f, bad_data, bad_meta, ref_tag=1000, app_tag=0x55, lba=1000)
    assert res.bad == 1 and len(res) == 1
    e = res[0]
    assert (e.lba, e.block, e.field) == (1005, 5, name)
    tup = struct.unpack(">HHI", meta[40:48])
    if field == "data":
        # The guard recomputed over the changed byte, against the stored one.
        assert bad_data[5 * 512 + 100] == data[5 * 512 + 100] ^ 1
        assert (e.expected, e.found) == (crc16_t10dif(bad_data[5 * 512:6 * 512]), tup[0])
        return
    expected = {"guard": tup[0], "application tag": 0x55, "reference tag": 1005}[name]
    assert (e.expected, e.found) == (expected, expected ^ 1)  # the lowest bit, inverted


def test_verify_lists_every_bad_block_and_counts_unwritten():
    f = pi.Format(block_size=512, ms=8, pi_type=1, guard_bits=16)
    data = blocks(6, 512, seed=6)
    meta = bytearray(pi.generate(f, data, bytes(48), ref_tag=0)[1])
    meta[40:48] = b"\xff" * 8  # block 5 never written
    for blk in (1, 3):
        pi.inject(f, data, meta, block=blk, field="ref")
    res = pi.verify(f, data, meta, ref_tag=0)
    assert [(e.block, e.field) for e in res] == [(1, "reference tag"), (3, "reference tag")]
    assert res.bad == 2 and res.unwritten == 1
    # Only the guard compared: the reference tag errors are not seen.
    assert pi.verify(f, data, meta, ref_tag=0, checks=pi.CHECK_GUARD) == []


def test_format_of_info_and_ref_tag():
    info = nvmeta.Info(lba_size=4096, ms=16, pi_type=1, pif=2, guard_bits=64, pi_size=16)
    f = pi.Format.of(info)
    assert (f.block_size, f.ms, f.guard_bits, f.pi_size, f.pi_type) == (4096, 16, 64, 16, 1)
    assert f.ref_tag(0x1_0000_0000_0005) == 0x0000_0000_0005 | (0x1_0000_0000_0005 & (2**48 - 1))
    f16 = pi.Format(block_size=512, ms=8)
    assert f16.ref_tag(0x1_0000_0007) == 7  # 32-bit field wraps
    with pytest.raises(nvmeta.NvmetaError) as ei:
        pi.Format.of(nvmeta.Info(lba_size=512, ms=8, pi_type=0))
    assert ei.value.errno == errno.EPROTO


def test_errors_carry_errno_and_message():
    f = pi.Format(block_size=512, ms=8)
    with pytest.raises(nvmeta.NvmetaError) as ei:
        pi.generate(f, bytes(512), bytes(8), ref_tag=1 << 32)  # wider than 32 bits
    assert ei.value.errno == errno.EINVAL and isinstance(ei.value, OSError)
    assert "reference tag" in ei.value.message or "ref" in ei.value.message
    with pytest.raises(nvmeta.NvmetaError) as ei:
        pi.inject(f, bytes(512), bytes(8), block=3, field="guard")
    assert ei.value.errno == errno.EINVAL and ei.value.message
    with pytest.raises(ValueError):
        pi.inject(f, bytes(512), bytes(8), block=0, field="nonsense")
