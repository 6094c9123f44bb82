# SPDX-License-Identifier: MIT
"""Devices, their info, buffers laid out for a path, and prediction."""
import errno as _errno

from ._lib import (NvmetaError, PIMismatch, Record, check, ffi, from_buffer, lib, lookup,
                   names, text, to_py)

LAYOUTS = names("LAYOUT", ["PINNED", "MISALIGNED", "FRAGMENTED", "HUGE_SPAN", "PAGE",
                           "MALLOC"])
BACKINGS = names("BACKING", ["ANON", "MEMFD", "HUGE"])
KINDS = {"meta": lib.NVMETA_KIND_META, "data": lib.NVMETA_KIND_DATA}


def _fill(cstruct, values, where):
    """Set the fields of a C struct from a dict (nested dicts for nested
    structs, str for char arrays)."""
    fields = dict(ffi.typeof(cstruct).fields)
    for name, v in values.items():
        if name not in fields:
            raise TypeError("%s has no field %r" % (where, name))
        ft = fields[name].type
        if ft.kind == "struct":
            _fill(getattr(cstruct, name), v if isinstance(v, dict) else vars(v),
                  "%s.%s" % (where, name))
        elif ft.kind == "array" and ft.item.cname == "char":
            setattr(cstruct, name, v.encode() if isinstance(v, str) else v)
        else:
            setattr(cstruct, name, v)


class Info:
    """What identify and sysfs say about a namespace (struct
    nvmeta_dev_info): info.lba_size, info.ms, info.pi_type, info.limits.
    dma_alignment, info.kernel.release, ...  Info(**fields) makes a
    synthetic one (nested dicts for limits and kernel; the rest zero), for
    predict() and nvmeta.pi.Format.of() without a device."""

    def __init__(self, **fields):
        self._c = ffi.new("struct nvmeta_dev_info *")
        _fill(self._c[0], fields, "nvmeta_dev_info")

    @classmethod
    def _copy(cls, ptr):
        self = cls.__new__(cls)
        self._c = ffi.new("struct nvmeta_dev_info *")
        ffi.memmove(self._c, ptr, ffi.sizeof("struct nvmeta_dev_info"))
        return self

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return to_py(getattr(self._c, name))
        except AttributeError:
            raise AttributeError("Info has no field %r" % name) from None

    def as_dict(self):
        return {k: (vars(v) if isinstance(v, Record) else v)
                for k, v in vars(to_py(self._c[0])).items()}

    def __repr__(self):
        return "Info(%s %s, %u+%u, pi_type %u)" % (
            self.generic_path or "synthetic", self.model, self.lba_size, self.ms, self.pi_type)


def kernel():
    """The running kernel (struct nvmeta_kernel): major, minor, patch,
    release."""
    k = ffi.new("struct nvmeta_kernel *")
    check(lib.nvmeta_kernel_read(k))
    return to_py(k[0])


class Buffer:
    """Memory laid out as nvmeta_buf_alloc() lays it out for @info: layout
    "pinned", "misaligned" (offset), "fragmented" (segments), "huge_span",
    "page" (offset) or "malloc"; data=True for a data buffer.  It starts
    zeroed.  .addr, .len, .layout (what it became), .note, .view() (a
    writable memoryview), bytes(buf).  Freed by close() or when
    collected; never while a command uses it (the calls here are
    synchronous)."""

    def __init__(self, info, length, layout="pinned", *, offset=0, segments=0,
                 backing="anon", data=False, canary=False, fallback=False):
        spec = ffi.new("struct nvmeta_buf_spec *")
        spec.layout = lookup(LAYOUTS, "layout", layout)
        spec.backing = lookup(BACKINGS, "backing", backing)
        spec.len = length
        spec.offset = offset
        spec.segments = segments
        spec.flags = ((lib.NVMETA_BUF_DATA if data else 0) |
                      (lib.NVMETA_BUF_CANARY if canary else 0) |
                      (lib.NVMETA_BUF_FALLBACK if fallback else 0))
        bp = ffi.new("struct nvmeta_buf **")
        check(lib.nvmeta_buf_alloc(info._c, spec, bp))
        self._b = ffi.gc(bp[0], lib.nvmeta_buf_free)

    addr = property(lambda self: int(ffi.cast("uintptr_t", self._b.addr)))
    len = property(lambda self: self._b.len)
    layout = property(lambda self: text(lib.nvmeta_layout_name(self._b.layout)))
    note = property(lambda self: text(self._b.note))

    def __len__(self):
        return self._b.len

    def view(self):
        return memoryview(ffi.buffer(self._b.addr, self._b.len))

    def __bytes__(self):
        return ffi.buffer(self._b.addr, self._b.len)[:]

    def check_canaries(self):
        """Raise NvmetaError (EFAULT) when a byte around the buffer moved."""
        bad = ffi.new("ptrdiff_t *")
        check(lib.nvmeta_buf_check_canaries(self._b, bad))

    def close(self):
        if self._b is not None:
            ffi.release(self._b)  # runs nvmeta_buf_free() now
            self._b = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Prediction(Record):
    """What nvmeta_predict() says: path ("pin", "bounce", "fail"), err,
    may_err, pages, segments, max_segments, assumed, segments_matter,
    reason."""


def _prediction(p):
    r = to_py(p)
    d = vars(r)
    d["path"] = text(lib.nvmeta_path_name(p.path))
    return Prediction(**d)


def predict(info, kind, buf=None, *, addr=None, length=None):
    """The path the running kernel gives a @kind ("meta" or "data")
    buffer: a Buffer, any object with the buffer protocol, or addr= and
    length= (an address is only looked at, never dereferenced)."""
    if buf is not None:
        if isinstance(buf, Buffer):
            ptr, n = buf._b.addr, buf.len
        else:
            ptr, n = from_buffer(buf, False)
    else:
        ptr, n = ffi.cast("void *", addr), length
    if length is not None:
        n = length
    p = ffi.new("struct nvmeta_prediction *")
    check(lib.nvmeta_predict(info._c, KINDS[kind], ptr, n, p))
    return _prediction(p[0])


class Device:
    """An open namespace (nvmeta_dev_open()) with a ring of its own
    (nvmeta_ring_init()).  Use it from one thread at a time."""

    def __init__(self, path, depth=8):
        devp = ffi.new("struct nvmeta_dev **")
        check(lib.nvmeta_dev_open(path.encode() if isinstance(path, str) else path, devp))
        self._dev = devp[0]
        self._ring = ffi.new("struct io_uring *")
        rc = lib.nvmeta_ring_init(self._ring, depth)
        if rc < 0:
            msg = text(lib.nvmeta_last_error())
            lib.nvmeta_dev_close(self._dev)
            self._dev = None
            raise NvmetaError(-rc, msg)
        self.path = path
        self._info = Info._copy(lib.nvmeta_dev_info(self._dev))

    def close(self):
        if getattr(self, "_dev", None) is not None:
            lib.nvmeta_ring_exit(self._ring)
            lib.nvmeta_dev_close(self._dev)
            self._dev = None

    __del__ = close

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _open(self):
        if self._dev is None:
            raise NvmetaError(_errno.EBADF, "the device is closed")
        return self._dev

    @property
    def info(self):
        """Identify and limits (a copy, taken at open or refresh())."""
        return self._info

    def _c_info(self):
        return lib.nvmeta_dev_info(self._open())

    @property
    def fd(self):
        return lib.nvmeta_dev_fd(self._open())

    def check(self):
        """nvmeta_dev_check(): raise NvmetaError (ESTALE) when the format
        changed."""
        check(lib.nvmeta_dev_check(self._open()))

    def refresh(self):
        """Identify again; True when the format changed."""
        changed = check(lib.nvmeta_dev_refresh(self._open()))
        self._info = Info._copy(lib.nvmeta_dev_info(self._dev))
        return bool(changed)

    def _reftag(self, slba, reftag):
        if reftag is not None:
            return reftag
        if not self._info.pi_type:
            return 0
        from .pi import Format
        return lib.nvmeta_pi_ref_tag(Format.of(self._info)._c, slba)

    def _sync(self, io, nlb, verify, slba):
        rq = ffi.new("struct nvmeta_request *")
        rq.io = io[0]
        errs = ffi.new("struct nvmeta_pi_error[]", max(nlb, 1)) if verify else ffi.NULL
        rq.pi_errors = errs
        rq.pi_errors_max = nlb if verify else 0
        st = ffi.new("struct nvmeta_status *")
        rc = lib.nvmeta_request_sync(self._open(), self._ring, rq, st)
        if rc == 0:
            return
        msg = text(lib.nvmeta_last_error())
        if rc == -_errno.EILSEQ and verify and rq.pi.bad:
            from .pi import _errors
            raise PIMismatch(_errno.EILSEQ, msg, _errors(errs, rq.pi.listed))
        if st.status:
            raise NvmetaError(-rc, msg, st.status, text(lib.nvmeta_status_name(st)))
        raise NvmetaError(-rc, msg)

    def _io(self, opcode, slba, nlb, data, meta, prinfo, flags, reftag, apptag, appmask,
            storage_tag, checks):
        io = ffi.new("struct nvmeta_io *")
        io.opcode = opcode
        io.slba = slba
        io.nlb = nlb
        io.prinfo = prinfo
        io.flags = flags
        io.reftag = self._reftag(slba, reftag)
        io.apptag = apptag
        io.appmask = appmask
        io.storage_tag = storage_tag
        io.pi_checks = checks
        io.data = data._b.addr
        io.data_len = data.len
        if meta is not None:
            io.meta = meta._b.addr
            io.meta_len = meta.len
        return io

    def _buffers(self, nlb, layout, offset, meta_buf):
        info = self._info
        ext = info.extended_lba
        data = Buffer(info, nlb * (info.lba_size + (info.ms if ext else 0)), "page", data=True)
        if ext or not info.ms:
            return data, None
        if meta_buf is not None:
            return data, meta_buf
        return data, Buffer(info, nlb * info.ms, layout, offset=offset)

    def read(self, slba, nlb=1, *, layout="page", offset=0, meta_buf=None, prinfo=0,
             verify=False, reftag=None, apptag=0, appmask=0xffff, storage_tag=0, checks=0,
             fua=False):
        """Read @nlb blocks from @slba with the metadata in a buffer laid
        out as @layout (default "page": page-aligned, nothing promised;
        "pinned" is refused where nothing can be pinned, as on kernels
        before 6.8), or in @meta_buf, a Buffer.  prinfo: PRCHK_* bits
        for the device; verify=True checks the PI on the host too (a bad
        block raises PIMismatch listing them).  reftag defaults to the
        one the LBA gives (nvmeta_pi_ref_tag()).  Returns (data, meta) as
        bytes; meta is None on an extended-LBA format or without
        metadata (the data then holds it)."""
        data, meta = self._buffers(nlb, layout, offset, meta_buf)
        flags = (lib.NVMETA_IO_PI_VERIFY if verify else 0) | (lib.NVMETA_IO_FUA if fua else 0)
        io = self._io(lib.NVMETA_OP_READ, slba, nlb, data, meta, prinfo, flags, reftag, apptag,
                      appmask, storage_tag, checks)
        self._sync(io, nlb, verify, slba)
        return bytes(data), (bytes(meta)[:nlb * self._info.ms] if meta is not None else None)

    def write(self, slba, data, meta=None, *, layout="page", offset=0, meta_buf=None,
              prinfo=0, generate=False, reftag=None, apptag=0, appmask=0xffff,
              storage_tag=0, fua=False):
        """Write @data (whole blocks) at @slba with @meta (nlb x ms bytes,
        or None for zeros) in a buffer laid out as @layout.  generate=True
        makes the PI on the host first (metadata outside the PI stays as
        given); prinfo: PRCHK_* bits for the device to check, PRACT.
        Returns the metadata as it went out (bytes), None without a
        separate buffer."""
        info = self._info
        per = info.lba_size + (info.ms if info.extended_lba else 0)
        if not data or len(data) % per:
            raise NvmetaError(_errno.EINVAL, "data of %u bytes is not whole blocks of %u"
                              % (len(data), per))
        nlb = len(data) // per
        dbuf, mbuf = self._buffers(nlb, layout, offset, meta_buf)
        dbuf.view()[:len(data)] = data
        if meta is not None:
            if mbuf is None:
                raise NvmetaError(_errno.EINVAL, "this format has no separate metadata")
            mbuf.view()[:len(meta)] = meta
        flags = (lib.NVMETA_IO_PI_GENERATE if generate else 0) | (lib.NVMETA_IO_FUA if fua else 0)
        io = self._io(lib.NVMETA_OP_WRITE, slba, nlb, dbuf, mbuf, prinfo, flags, reftag, apptag,
                      appmask, storage_tag, 0)
        self._sync(io, nlb, False, slba)
        return bytes(mbuf)[:nlb * info.ms] if mbuf is not None else None

    def __repr__(self):
        return "<nvmeta.Device %s %s>" % (self.path, "closed" if self._dev is None else "open")
