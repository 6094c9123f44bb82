# SPDX-License-Identifier: MIT
"""Exceptions carry the library's errno and message."""
import errno
import os

import pytest

import nvmeta


def test_version():
    # The library the module loaded is the release the package says it is.
    from importlib.metadata import version
    assert nvmeta.version().split(".")[:2] == version("nvmeta").split(".")[:2]


def test_open_dev_null():
    with pytest.raises(nvmeta.NvmetaError) as ei:
        nvmeta.Device("/dev/null")
    e = ei.value
    assert isinstance(e, OSError)
    assert e.errno == errno.ENODEV
    assert "/dev/null" in e.message and "not an NVMe namespace" in e.message
    assert e.strerror == e.message and str(e) == "[Errno %d] %s" % (errno.ENODEV, e.message)
    assert e.status is None


def test_open_missing(tmp_path):
    path = str(tmp_path / "ng9n9")
    with pytest.raises(nvmeta.NvmetaError) as ei:
        nvmeta.Device(path)
    assert ei.value.errno == errno.ENOENT and path in ei.value.message


def test_open_regular_file(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"x")
    with pytest.raises(OSError) as ei:
        nvmeta.Device(str(p))
    assert ei.value.errno in (errno.ENODEV, errno.ENOTBLK) and ei.value.strerror


def test_kernel():
    k = nvmeta.kernel()
    assert k.release == os.uname().release
    assert (k.major, k.minor) >= (5, 0)
