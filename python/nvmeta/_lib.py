# SPDX-License-Identifier: MIT
"""Loads the extension; the library it links comes from the dynamic
loader's usual places (an installed libnvmeta), or from the directories
in NVMETA_LIBRARY_PATH (e.g. a build tree's lib and lib/check), loaded
first so that the extension's libnvmeta.so.N resolves to them."""
import ctypes
import os
import types

_preloaded = []
for _d in [d for d in os.environ.get("NVMETA_LIBRARY_PATH", "").split(":") if d]:
    for _name in ("libnvmeta.so", "libnvmeta-check.so"):
        _p = os.path.join(_d, _name)
        if os.path.exists(_p):
            _preloaded.append(ctypes.CDLL(_p, mode=ctypes.RTLD_GLOBAL))

from ._nvmeta_cffi import ffi, lib  # noqa: E402


def text(p):
    """A C string (char * or char[]) as str."""
    if p == ffi.NULL:
        return None
    return ffi.string(p).decode("utf-8", "replace")


class NvmetaError(OSError):
    """A libnvmeta call failed: errno and the library's message (what
    failed: the device, the size, the alignment, the kernel limit or the
    NVMe status).  .status is the NVMe status (SCT << 8 | SC) when the
    device returned one, else None; .status_name libnvme's name of it."""

    def __init__(self, errno, message, status=None, status_name=None):
        super().__init__(errno, message)
        self.message = message
        self.status = status
        self.status_name = status_name

    def __str__(self):
        return "[Errno %d] %s" % (self.errno, self.message)


class PIMismatch(NvmetaError):
    """A read's host PI verification found bad blocks (EILSEQ): .errors
    lists them as nvmeta.pi.PIError."""

    def __init__(self, errno, message, errors):
        super().__init__(errno, message)
        self.errors = errors


def check(rc, checker=False):
    """Raise NvmetaError for a negative return; return it otherwise."""
    if rc < 0:
        msg = text(lib.nvmeta_check_last_error() if checker else lib.nvmeta_last_error())
        raise NvmetaError(-rc, msg or os.strerror(-rc))
    return rc


def names(prefix, values):
    """{lower-case name: value} of enum members NVMETA_<prefix>_<NAME>."""
    return {v.lower(): getattr(lib, "NVMETA_%s_%s" % (prefix, v)) for v in values}


def lookup(table, what, value):
    if isinstance(value, int):
        return value
    try:
        return table[value.lower().replace("-", "_")]
    except (KeyError, AttributeError):
        raise ValueError("unknown %s %r (one of %s)" % (what, value, ", ".join(table))) from None


class Record(types.SimpleNamespace):
    """A C struct's fields as attributes (nested structs are Records)."""


def to_py(cdata):
    """A plain Python value of a C value: numbers, str for char arrays,
    Records of fields for structs (nested), lists for other arrays."""
    t = ffi.typeof(cdata) if isinstance(cdata, ffi.CData) else None
    if t is None:
        return cdata
    if t.kind == "array" and t.item.cname == "char":
        return text(cdata)
    if t.kind == "array":
        return [to_py(x) for x in cdata]
    if t.kind == "struct":
        return Record(**{name: to_py(getattr(cdata, name)) for name, _ in t.fields})
    if t.kind == "pointer" and t.item.cname == "char":
        return text(cdata)
    return cdata


def from_buffer(obj, writable):
    """A char * into @obj's memory (bytes, bytearray, memoryview, any
    contiguous buffer) and its length."""
    if obj is None:
        return ffi.NULL, 0
    if isinstance(obj, bytes) and writable:
        raise TypeError("bytes are read-only")
    b = ffi.from_buffer("char[]", obj, require_writable=writable)
    return b, len(b)
