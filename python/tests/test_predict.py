# SPDX-License-Identifier: MIT
"""Buffers and path prediction on synthetic namespaces: the library's
answers seen through Python, and its reasons."""
import errno

import pytest

import nvmeta


def info(major=6, minor=12, dma_alignment=3, max_integrity_segments=1):
    return nvmeta.Info(
        lba_size=4096, ms=16, pi_type=1, pif=2, guard_bits=64, pi_size=16,
        limits=dict(dma_alignment=dma_alignment, max_integrity_segments=max_integrity_segments,
                    max_segments=127, max_segment_size=1 << 20, max_hw_sectors_kb=512,
                    logical_block_size=4096, integrity_format="EXT-DIF-TYPE1-CRC64"),
        kernel=dict(major=major, minor=minor, patch=0, release="%d.%d.0" % (major, minor)))


def test_synthetic_info_fields():
    i = info()
    assert (i.lba_size, i.ms, i.guard_bits) == (4096, 16, 64)
    assert i.limits.dma_alignment == 3 and i.limits.integrity_format == "EXT-DIF-TYPE1-CRC64"
    assert i.kernel.release == "6.12.0" and i.generic_path == ""
    assert i.as_dict()["limits"]["max_segments"] == 127
    with pytest.raises(TypeError):
        nvmeta.Info(no_such_field=1)


def test_pinned_buffer_is_predicted_pinned():
    i = info()
    with nvmeta.Buffer(i, 64, "pinned") as b:
        assert b.layout == "pinned" and b.addr % 4 == 0 and bytes(b) == bytes(64)
        p = nvmeta.predict(i, "meta", b)
        assert p.path == "pin" and p.err == 0 and p.segments == 1
        assert "pinned" in p.reason


def test_misaligned_buffer_bounces_with_reason():
    i = info()
    b = nvmeta.Buffer(i, 64, "misaligned", offset=1)
    assert b.addr % 4 == 1
    p = nvmeta.predict(i, "meta", b)
    assert p.path == "bounce" and "not 4-byte aligned" in p.reason
    # The same by address and length alone.
    p2 = nvmeta.predict(i, "meta", addr=b.addr, length=64)
    assert p2.path == "bounce" and p2.reason == p.reason


def test_fragmented_buffer_exceeds_segments():
    i = info()
    b = nvmeta.Buffer(i, 8192, "fragmented", segments=2)
    p = nvmeta.predict(i, "meta", b)
    assert p.path == "bounce" and p.segments > p.max_segments == 1
    assert "max_integrity_segments" in p.reason


def test_old_kernel_always_bounces():
    p = nvmeta.predict(info(6, 1), "meta", nvmeta.Buffer(info(), 64, "pinned"))
    assert p.path == "bounce" and "before 6.8" in p.reason


def test_python_buffer_and_errors():
    i = info()
    ba = bytearray(100)
    assert nvmeta.predict(i, "meta", ba).path in ("pin", "bounce")
    with pytest.raises(nvmeta.NvmetaError) as ei:
        nvmeta.predict(i, "meta", ba, length=0)
    assert ei.value.errno == errno.EINVAL and "zero" in ei.value.message
    with pytest.raises(nvmeta.NvmetaError) as ei:
        nvmeta.Buffer(i, 0, "page")
    assert ei.value.errno == errno.EINVAL and ei.value.message


def test_checker_table():
    cases = nvmeta.check.cases()
    assert len(cases) > 20
    names = [c.name for c in cases]
    assert len(set(names)) == len(names)
    assert any("pi" in c.flags for c in cases)
    assert any(c.flags & nvmeta.check.DESTRUCTIVE for c in cases)
    assert all(c.kind in ("meta", "data") and c.dir in ("read", "write", "both") for c in cases)
