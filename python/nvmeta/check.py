# SPDX-License-Identifier: MIT
"""The copy-back checker of libnvmeta-check (<nvmeta-check.h>) as
objects: the cases of its table, the behaviour probes, and the verdict
of each case run on a device.  The verdicts are the library's."""
import collections

from ._lib import NvmetaError, Record, check, ffi, lib, text
from .device import _prediction

_KINDS = {lib.NVMETA_KIND_META: "meta", lib.NVMETA_KIND_DATA: "data"}
_DIRS = {lib.NVMETA_DIR_READ: "read", lib.NVMETA_DIR_WRITE: "write",
         lib.NVMETA_DIR_BOTH: "both"}
_SIZES = {lib.NVMETA_SIZE_ONE: "one", lib.NVMETA_SIZE_FEW: "few",
          lib.NVMETA_SIZE_MAX: "max"}
_FLAGS = {lib.NVMETA_CHECK_SHORT_META: "short_meta", lib.NVMETA_CHECK_REFORMAT: "reformat",
          lib.NVMETA_CHECK_UNTOUCHED: "untouched", lib.NVMETA_CHECK_READONLY: "readonly",
          lib.NVMETA_CHECK_PI: "pi", lib.NVMETA_CHECK_FIXED_BUF: "fixed_buf"}
# Cases run only when named: the RAW short-metadata probes overrun memory
# on purpose, and the reformat case erases the namespace (as nvmeta-check
# runs them only with --kernel-weakness and --reformat).
DESTRUCTIVE = frozenset({"short_meta", "reformat"})

# One line of the table: name, kind ("meta"/"data"), dir, size, layout,
# offset, expect_err, flags (a frozenset of words); index in the table.
Case = collections.namedtuple("Case", "name index kind dir size layout offset expect_err flags")


class CheckResult(Record):
    """One case's outcome (struct nvmeta_check_result): case (the name),
    verdict ("pass", "skip", "FAIL", "KERNEL-DEFECT", "DEVICE-ERROR"),
    detail, err, expect_err, where, bad_lba, bad_offset, expected, found,
    nlb, slba, layout, prediction (nvmeta.Prediction), observed ("pin",
    "bounce" or None without kprobes), evidence."""

    @property
    def passed(self):
        return self.verdict in ("pass", "skip")


def _table():
    cp = ffi.new("struct nvmeta_check_case **")
    n = lib.nvmeta_check_table(cp)
    return cp[0], n


def cases():
    """Every case of the built-in table, as Case."""
    c, n = _table()
    out = []
    for i in range(n):
        tc = c[i]
        out.append(Case(text(tc.name), i, _KINDS[tc.kind], _DIRS[tc.dir], _SIZES[tc.size],
                        text(lib.nvmeta_layout_name(tc.layout)), tc.offset, tc.expect_err,
                        frozenset(w for bit, w in _FLAGS.items() if tc.flags & bit)))
    return out


def probe(dev, kprobes=False):
    """The behaviour probes (nvmeta_check_probe()): {name: Record(known,
    value, text, how)}."""
    kp = _kpath(dev) if kprobes else ffi.NULL
    try:
        out = ffi.new("struct nvmeta_check_probes *")
        check(lib.nvmeta_check_probe(dev._open(), ffi.NULL, kp, out), checker=True)
        return {text(p.name): Record(known=bool(p.known), value=p.value, text=text(p.text),
                                     how=text(p.how))
                for p in (out.probe[i] for i in range(out.count))}
    finally:
        if kp != ffi.NULL:
            lib.nvmeta_kpath_close(kp)


_all_cases = cases


def _kpath(dev):
    kpp = ffi.new("struct nvmeta_kpath **")
    if lib.nvmeta_kpath_open(dev._c_info(), kpp) < 0:
        return ffi.NULL
    return kpp[0]


def _select(all_cases, wanted):
    if wanted is None:
        return [c for c in all_cases if not (c.flags & DESTRUCTIVE)]
    by_name = {c.name: c for c in all_cases}
    out = []
    for w in ([wanted] if isinstance(wanted, str) else wanted):
        if isinstance(w, Case):
            w = w.name
        if w not in by_name:
            raise NvmetaError(22, "no checker case named %r" % w)
        out.append(by_name[w])
    return out


def run(dev, cases=None, *, run=1, kprobes=False):
    """Run checker cases on an open nvmeta.Device: @cases None for every
    case but the destructive ones, else a list of names (or Case).  The
    probes run first, once, and every case is judged against them, as
    nvmeta-check does.  kprobes=True observes the path the kernel took
    (root and tracefs; silently without when they are missing).
    Returns a list of CheckResult.  A case that cannot run raises
    NvmetaError with the checker's message."""
    table, _ = _table()
    selected = _select(_all_cases(), cases)
    kp = _kpath(dev) if kprobes else ffi.NULL
    try:
        probes = ffi.new("struct nvmeta_check_probes *")
        check(lib.nvmeta_check_probe(dev._open(), ffi.NULL, kp, probes), checker=True)
        results = []
        for c in selected:
            dev.check()
            r = ffi.new("struct nvmeta_check_result *")
            check(lib.nvmeta_check_run_probed(dev._open(), ffi.NULL, dev._ring, kp, probes,
                                              ffi.addressof(table[c.index]), c.index, run, r),
                  checker=True)
            if "reformat" in c.flags:
                dev.refresh()
            results.append(_result(c, r[0]))
        return results
    finally:
        if kp != ffi.NULL:
            lib.nvmeta_kpath_close(kp)


def _result(c, r):
    return CheckResult(
        case=c.name, verdict=text(lib.nvmeta_verdict_name(r.verdict)), detail=text(r.detail),
        err=r.err, expect_err=r.expect_err, where=text(r.where), bad_lba=r.bad_lba,
        bad_offset=r.bad_offset, expected=r.expected, found=r.found, nlb=r.nlb, slba=r.slba,
        layout=text(lib.nvmeta_layout_name(r.layout)), prediction=_prediction(r.pred),
        observed=text(lib.nvmeta_path_name(r.observed)) if r.observed >= 0 else None,
        evidence=text(r.evidence))


def counts(results):
    """{verdict: how many} of a list of CheckResult."""
    return dict(collections.Counter(r.verdict for r in results))


__all__ = ["Case", "CheckResult", "cases", "probe", "run", "counts", "DESTRUCTIVE"]
