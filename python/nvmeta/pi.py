# SPDX-License-Identifier: MIT
"""End-to-end protection information on bytes and buffers
(<nvmeta/pi.h>): generate, verify, inject, and the three guard CRCs.

Buffers: bytes, bytearray, memoryview or any contiguous buffer.
generate() and inject() change writable buffers in place; given bytes,
they work on a copy.  Both return (data, meta): the objects changed."""
import collections

from ._lib import check, ffi, from_buffer, lib, lookup, names, text

FIELDS = names("PI_FIELD", ["NONE", "GUARD", "APP", "REF", "STORAGE", "DATA"])
FIELDS.update({"application tag": lib.NVMETA_PI_FIELD_APP,
               "reference tag": lib.NVMETA_PI_FIELD_REF,
               "storage tag": lib.NVMETA_PI_FIELD_STORAGE})
CHECK_GUARD = lib.NVMETA_PI_CHECK_GUARD
CHECK_APP = lib.NVMETA_PI_CHECK_APP
CHECK_REF = lib.NVMETA_PI_CHECK_REF
CHECK_STORAGE = lib.NVMETA_PI_CHECK_STORAGE
CHECK_ALL = lib.NVMETA_PI_CHECK_ALL

# One bad block: its LBA (tags lba + block), index in the range, the
# first failing field by the library's name ("guard", "application tag",
# "reference tag", "storage tag"), expected and found values.
PIError = collections.namedtuple("PIError", "lba field expected found block")


class Verification(list):
    """verify()'s answer: the list of PIError (empty when all passed),
    with the counts .bad, .unwritten (all-ones PI, not checked) and
    .escaped (tags that disable checking)."""

    def __init__(self, errors, rep):
        super().__init__(errors)
        self.bad = rep.bad
        self.unwritten = rep.unwritten
        self.escaped = rep.escaped


def _errors(arr, n):
    return [PIError(arr[i].lba, text(lib.nvmeta_pi_field_name(arr[i].field)),
                    arr[i].expected, arr[i].found, arr[i].block) for i in range(n)]


class Format:
    """How a namespace lays out its PI (struct nvmeta_pi_format):
    Format(block_size=512, ms=8, pi_type=1, guard_bits=16, pi_size=8),
    or Format.of(info) for a device's (nvmeta.Info)."""

    _FIELDS = ("block_size", "ms", "pi_type", "guard_bits", "pi_size", "sts", "pi_first",
               "extended")

    def __init__(self, block_size, ms, pi_type=1, guard_bits=16, pi_size=None, sts=0,
                 pi_first=False, extended=False):
        self._c = ffi.new("struct nvmeta_pi_format *")
        self._c.block_size = block_size
        self._c.ms = ms
        self._c.pi_type = pi_type
        self._c.guard_bits = guard_bits
        self._c.pi_size = pi_size if pi_size is not None else (8 if guard_bits == 16 else 16)
        self._c.sts = sts
        self._c.pi_first = pi_first
        self._c.extended = extended

    @classmethod
    def of(cls, info):
        """The PI layout of the namespace @info describes (EPROTO: no PI)."""
        self = cls.__new__(cls)
        self._c = ffi.new("struct nvmeta_pi_format *")
        check(lib.nvmeta_pi_format_of(info._c, self._c))
        return self

    def __getattr__(self, name):
        if name in Format._FIELDS:
            return getattr(self._c, name)
        raise AttributeError(name)

    def ref_tag(self, lba):
        """The reference tag of a range starting at @lba (nvmeta_pi_ref_tag())."""
        return lib.nvmeta_pi_ref_tag(self._c, lba)

    def __repr__(self):
        return "Format(%s)" % ", ".join("%s=%r" % (f, getattr(self, f)) for f in Format._FIELDS)


def _tags(tags, kw):
    t = ffi.new("struct nvmeta_pi_tags *")
    t.app_mask = 0xffff
    t.checks = CHECK_ALL
    values = dict(tags or {})
    values.update(kw)
    for k, v in values.items():
        if k not in ("ref_tag", "storage_tag", "app_tag", "app_mask", "checks", "lba"):
            raise TypeError("unknown tag %r" % k)
        setattr(t, k, v)
    return t


def _nlb(fmt, data, nlb):
    if nlb is not None:
        return nlb
    per = fmt.block_size + (fmt.ms if fmt.extended else 0)
    return len(memoryview(data).cast("B")) // per


def _writable(obj):
    """(the object to change, its pointer): a copy when @obj is read-only."""
    if obj is None:
        return None, ffi.NULL
    try:
        return obj, from_buffer(obj, True)[0]
    except (TypeError, BufferError):
        copy = bytearray(obj)
        return copy, from_buffer(copy, True)[0]


def _result(orig, changed):
    if changed is None or changed is orig:
        return changed
    return bytes(changed)


def generate(fmt, data, meta=None, nlb=None, tags=None, **kw):
    """Write the PI of @nlb blocks (default: as many as @data holds):
    guards over the data, and the tags (ref_tag, app_tag, storage_tag;
    a dict in @tags or keywords).  Returns (data, meta)."""
    n = _nlb(fmt, data, nlb)
    t = _tags(tags, kw)
    d, dp = (data, from_buffer(data, False)[0]) if not fmt.extended else _writable(data)
    m, mp = _writable(meta)
    check(lib.nvmeta_pi_generate(fmt._c, dp, mp, n, t))
    return _result(data, d), _result(meta, m)


def verify(fmt, data, meta=None, nlb=None, tags=None, **kw):
    """Check the PI of @nlb blocks against their data and the tags
    (ref_tag, app_tag, app_mask (default 0xffff), storage_tag, checks:
    CHECK_* bits, default CHECK_ALL; lba: the range's first LBA, which the errors name).  Returns
    a Verification: the list of PIError, every bad block."""
    n = _nlb(fmt, data, nlb)
    t = _tags(tags, kw)
    rep = ffi.new("struct nvmeta_pi_report *")
    errs = ffi.new("struct nvmeta_pi_error[]", max(n, 1))
    dp = from_buffer(data, False)[0]
    mp = from_buffer(meta, False)[0] if meta is not None else ffi.NULL
    rc = lib.nvmeta_pi_verify_list(fmt._c, dp, mp, n, t, rep, errs, n)
    if rc < 0 and rep.bad == 0:
        check(rc)
    return Verification(_errors(errs, rep.listed), rep)


def inject(fmt, data, meta=None, nlb=None, *, block, field, offset=0):
    """Corrupt one field ("guard", "app", "ref", "storage", or "data" at
    byte @offset of the block's data) of block @block, the library's way
    (its lowest bit inverted).  Returns (data, meta)."""
    n = _nlb(fmt, data, nlb)
    inj = ffi.new("struct nvmeta_pi_injection *")
    inj.block = block
    inj.field = lookup(FIELDS, "field", field)
    inj.offset = offset
    d, dp = _writable(data)
    m, mp = _writable(meta)
    check(lib.nvmeta_pi_inject(fmt._c, dp, mp, n, inj))
    return _result(data, d), _result(meta, m)


def crc16_t10dif(data, crc=0):
    p, n = from_buffer(data, False)
    return lib.nvmeta_crc16_t10dif(p, n, crc)


def crc32c(data, crc=0):
    p, n = from_buffer(data, False)
    return lib.nvmeta_crc32c(p, n, crc)


def crc64_nvme(data, crc=0):
    p, n = from_buffer(data, False)
    return lib.nvmeta_crc64_nvme(p, n, crc)


def crc64_impl():
    """The CRC64 implementation this machine runs: "isa-l", "vpclmul", ..."""
    return text(lib.nvmeta_crc64_impl())
