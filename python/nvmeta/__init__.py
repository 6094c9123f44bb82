# SPDX-License-Identifier: MIT
"""nvmeta: Python bindings of libnvmeta and libnvmeta-check (cffi, API
mode).  A thin layer: every decision (validation, layouts, PI, the path a
buffer takes, the checker's verdicts) is the C library's.

    with nvmeta.Device("/dev/ng0n1") as dev:
        data, meta = dev.read(0, 8, layout="pinned")

Every failure raises NvmetaError (an OSError) with the library's errno
and message."""
from ._lib import NvmetaError, PIMismatch, ffi, lib
from .device import Buffer, Device, Info, Prediction, kernel, predict, LAYOUTS
from . import pi, check

__all__ = ["Device", "Info", "Buffer", "Prediction", "NvmetaError", "PIMismatch",
           "predict", "kernel", "version", "pi", "check", "LAYOUTS",
           "PRCHK_GUARD", "PRCHK_APP", "PRCHK_REF", "PRCHK_ALL", "PRACT"]

PRCHK_REF = lib.NVMETA_PRCHK_REF
PRCHK_APP = lib.NVMETA_PRCHK_APP
PRCHK_GUARD = lib.NVMETA_PRCHK_GUARD
PRCHK_ALL = PRCHK_REF | PRCHK_APP | PRCHK_GUARD
PRACT = lib.NVMETA_PRACT


def version():
    """The running library's version, "MAJOR.MINOR.PATCH"."""
    return ffi.string(lib.nvmeta_version()).decode()


# The extension was built against these headers; the library loaded now
# must serve them (raises NvmetaError otherwise).
from ._lib import check as _check  # noqa: E402
_check(lib.nvmeta_version_check(lib.NVMETA_VERSION_MAJOR, lib.NVMETA_VERSION_MINOR))
del _check
