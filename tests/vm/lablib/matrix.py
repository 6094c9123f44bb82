# SPDX-License-Identifier: MIT
"""lab matrix: lab run for every row of a matrix (kernel, controller,
preset, kernel words), each result classified; the table, the failures,
and the JSON (lab matrix --json, lab matrix-json DIR)."""
import itertools
import json
import os
import re
import subprocess
import sys
import time

from .boot import qemu_version
from .common import (CACHE, LAB, LAB_DIR, QEMUS, SUITES, Exit, die, parse_opts, presets,
                     read_text, write_text)
from . import kernels
from .results import (analyse, series_of, boot_json, classify, evidence_text, kernel_words, ktap_judge,
                      parse_output, read_lines, read_result)

SUMMARY_FIELDS = ("kernel", "ver", "q", "preset", "res", "secs", "tag", "hangs")


def expand_kernel(name, say):
    """The kernels a matrix file's kernel column stands for: @series, every
    series the archive serves complete (oldest first), then rc when
    experimental's newest is a build of its own; @middle, one series
    between trixie's and sid's, by the day of the year; else the name."""
    if name == "@series":
        cat = kernels.catalog()
        out = kernels.available_series(cat)
        rc = kernels.resolve("rc", cat) if any("experimental" in b["suites"] and not b["missing"]
                                                 for b in cat["builds"]) else None
        if rc and rc["version"] != kernels.resolve(rc["series"], cat)["version"]:
            out.append("rc")
        return out
    if name == "@middle":
        cat = kernels.catalog()
        lo = kernels.series_key(kernels.resolve("trixie", cat)["series"])
        hi = kernels.series_key(kernels.resolve("sid", cat)["series"])
        mid = [x for x in kernels.available_series(cat) if lo < kernels.series_key(x) < hi]
        if not mid:
            return ["sid"]
        pick = mid[time.gmtime().tm_yday % len(mid)]
        print("matrix: @middle is %s today (one of %s, by the day of the year)" % (
            pick, " ".join(mid)), file=say, flush=True)
        return [pick]
    return [name]


def matrix_rows(kernels_, qemus, preset_names, mfile, say=sys.stderr):
    """(kernel, qemu, preset, [kernel words]) rows: each line of MFILE (words
    after the third column go on the kernel command line; @series and
    @middle in the kernel column are expanded: expand_kernel), else every
    combination.  The rows of @series lines go by series: each series
    through every such line before the next series."""
    if mfile:
        lines = [re.sub(r"#.*", "", line).split() for line in read_text(mfile).splitlines()]
        lines = [r for r in lines if len(r) >= 3]
        rows, series_lines = [], [r for r in lines if r[0] == "@series"]
        for r in lines:
            if r[0] != "@series":
                rows += [(k, r[1], r[2], r[3:]) for k in expand_kernel(r[0], say)]
        if series_lines:
            for k in expand_kernel("@series", say):
                rows += [(k, r[1], r[2], r[3:]) for r in series_lines]
        return rows
    return [(k, q, p, []) for k, q, p in itertools.product(kernels_, qemus, preset_names)]


def run_row(dir_, tag, k, q, p, words, timeout, files, cmd):
    """One lab run of the matrix, its output in DIR/TAG.*; returns whether
    the guest hung before /init."""
    env = dict(os.environ, NVMETA_LAB_RESULT="%s/%s.result" % (dir_, tag))
    argv = [sys.executable, LAB, "run", "--kernel", k, "--qemu", q, "--preset", p, "--timeout", timeout,
            "--log", "%s/%s.serial" % (dir_, tag)] + (["--append", words] if words else [])
    argv += [w for f in files for w in ("--file", f)] + ["--"] + cmd
    with open("%s/%s.out" % (dir_, tag), "wb") as out, open("%s/%s.err" % (dir_, tag), "wb") as err:
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        try:
            child.wait()
        finally:
            if child.poll() is None:  # interrupted: the run cleans up its guest
                child.terminate()
                child.wait()
    return any(x.startswith("lab: the guest did not reach /init within")
               for x in read_lines("%s/%s.err" % (dir_, tag)))


def cmd_matrix(args, usage):
    opts, cmd = parse_opts(args, {
        "--kernels": ("kernels", "val"), "--qemus": ("qemus", "val"),
        "--presets": ("presets", "val"), "--matrix": ("matrix", "val"),
        "--append": ("append", "words"), "--timeout": ("timeout", "val"),
        "--file": ("files", "list"), "--json": ("json", "flag"), "--series": ("series", "flag")},
        "matrix: unknown option %s", usage)
    if not cmd:
        die("matrix: no command (lab matrix ... -- CMD [ARGS...])")
    mfile = opts["matrix"] or (LAB_DIR + "/matrix-series.tsv" if opts["series"] else "")
    if not mfile and all(opts[x] is None for x in ("kernels", "qemus", "presets")):
        mfile = LAB_DIR + "/matrix-default.tsv"
    if mfile and not os.path.isfile(mfile):
        die("no matrix file " + mfile)
    given = lambda key, default: (default if opts[key] is None else opts[key].split())  # noqa: E731
    # --json: the JSON alone on stdout, the progress on stderr.
    say = sys.stderr if opts["json"] else sys.stdout
    rows = matrix_rows(given("kernels", SUITES), given("qemus", QEMUS),
                       (opts["presets"] or " ".join(p["name"] for p in presets())).split(), mfile, say)
    if not rows:
        die("matrix: nothing to run")
    n = len(rows)
    dir_ = "%s/logs/matrix-%s-%d" % (CACHE, time.strftime("%Y%m%d-%H%M%S"), os.getpid())
    os.makedirs(dir_)
    print("matrix: %d boots, logs in %s" % (n, dir_), file=say, flush=True)
    summary, counts = [], {"known": 0, "reset": 0, "fail": 0, "hung": 0}
    kcount = {True: 0, None: 0, False: 0, "none": 0}
    for i, (k, q, p, words) in enumerate(rows, 1):
        words = " ".join(words + opts["append"].split())
        tag = "%02d-%s-qemu%s-%s" % (i, k, q, p)
        print("[%d/%d] %s qemu-%s %s%s ... " % (i, n, k, q, p, " [%s]" % words if words else ""),
              end="", file=say, flush=True)
        # A guest that hangs before its /init (as seabios-nvme-metadata-at-0
        # in known-defects.tsv did: before the kernel's first line, so
        # neither the kernel nor nvmeta is under test yet) is booted once
        # more; the hung boot's logs stay as TAG.hang.* and the summary
        # counts it.
        hangs = 0
        while run_row(dir_, tag, k, q, p, words, opts["timeout"] or "300", opts["files"], cmd) \
                and not hangs:
            hangs = 1
            for ext in ("serial", "out", "err", "result"):
                if os.path.exists("%s/%s.%s" % (dir_, tag, ext)):
                    os.replace("%s/%s.%s" % (dir_, tag, ext), "%s/%s.hang.%s" % (dir_, tag, ext))
            print("hung before /init, booting again ... ", end="", file=say, flush=True)
        r = read_result("%s/%s.result" % (dir_, tag))
        res = classify(r["status"], r["rc"], r["resets"])
        if res not in ("PASS", "RESET"):
            a = analyse("%s/%s.out" % (dir_, tag), "%s/%s.err" % (dir_, tag), r["ver"], q, p,
                        r["status"], r["rc"])
            if a["evidence"]:
                write_text("%s/%s.out.defects" % (dir_, tag), evidence_text(a))
            res = "KNOWN-DEFECT" if a["ok"] else res
        # The checker's KTAP (guest-suite.sh: the same run as its JSON),
        # validated with prove and counted against the JSON: an invalid
        # one fails a boot that passed or found known defects only.
        kj = ktap_judge(parse_output(read_lines("%s/%s.out" % (dir_, tag))))
        for x in kj:
            kcount[x[1]] += 1
        kcount["none"] += not kj
        if kj:
            write_text("%s/%s.out.ktap" % (dir_, tag), "".join("%s: %s: %s\n" % (
                x[0], {True: "valid", None: "not judged", False: "INVALID"}[x[1]], x[2]) for x in kj))
        if any(x[1] is False for x in kj) and res in ("PASS", "KNOWN-DEFECT"):
            res = "FAIL(ktap)"
        key = {"PASS": None, "KNOWN-DEFECT": "known", "RESET": "reset", "TIMEOUT": "hung"}.get(res, "fail")
        if key:
            counts[key] += 1
        print("%s %s s%s" % (res, r["secs"], "".join("; KTAP %s %s: %s" % (
            x[0], {True: "valid", None: "not judged", False: "INVALID"}[x[1]], x[2]) for x in kj)
            or "; no KTAP: the checker did not run"), file=say, flush=True)
        summary.append(dict(zip(SUMMARY_FIELDS, (k, r["ver"], q, p, res, r["secs"], tag, hangs))))
        write_text(dir_ + "/summary", "".join("\t".join(str(s[f]) for f in SUMMARY_FIELDS) + "\n"
                                              for s in summary))
    say.write(matrix_table(dir_, summary) + matrix_failures(dir_, summary) + matrix_tally(summary))
    if opts["json"]:
        sys.stdout.write(matrix_json(dir_, summary))
        sys.stdout.flush()
    again = sum(int(x["hangs"] or 0) for x in summary)
    print("matrix: the checker's KTAP: %d valid with the JSON's counts, %d invalid, %d not judged "
          "(the guest died in the checker or the build has no --ktap); %d boots without a checker "
          "run" % (kcount[True], kcount[False], kcount[None], kcount["none"]), file=say)
    print("matrix: %d boots: %d passed, %d found a known defect again, %d reset by an NVMe timeout "
          "no test asked for (not passed), %d failed, %d hung%s" % (
              n, n - sum(counts.values()), counts["known"], counts["reset"], counts["fail"],
              counts["hung"], " (and %d hung before /init and booted again)" % again if again else ""),
          file=say)
    return 0 if counts["fail"] == 0 and counts["reset"] == 0 and counts["hung"] == 0 else 1


def matrix_tally(summary):
    """Boots, passed, known defects, reset, failed and hung per kernel and
    controller."""
    tally = {}
    for s in summary:
        t = tally.setdefault((s["kernel"], s["ver"], s["q"]), [0, 0, 0, 0, 0, 0])
        t[0] += 1
        t[{"PASS": 1, "KNOWN-DEFECT": 2, "RESET": 3, "TIMEOUT": 5}.get(s["res"], 4)] += 1
    out = "\n%-10s %-14s %-10s %5s %6s %5s %5s %6s %4s\n" % (
        "kernel", "version", "controller", "boots", "passed", "known", "reset", "failed", "hung")
    for (k, v, q), t in tally.items():
        out += "%-10s %-14s %-10s %5d %6d %5d %5d %6d %4d\n" % ((k, v, "qemu-" + q) + tuple(t))
    return out


def read_summary(dir_):
    return [dict(zip(SUMMARY_FIELDS, line.split("\t"))) for line in read_lines(dir_ + "/summary")]


def nvme_reset_lines(err_path, first=False):
    """The NVMe driver's timeout lines of a boot (lab run's "guest-nvme: "
    lines), without their time stamps; with first, the one that says what
    the driver did in the end: reset (or disabled) the controller, else the
    first."""
    lines = [re.sub(r"^(\[ *[0-9.]*\] )?", "", x[len("guest-nvme: "):])
             for x in read_lines(err_path) if x.startswith("guest-nvme: ")]
    if first:
        said = [x for x in lines if re.search(r"(reset|disable) controller|will reset", x)]
        return (said or lines or [""])[0]
    return lines


def matrix_table(dir_, summary):
    t = "\n%-22s %-10s %-17s %-12s %7s\n" % ("kernel", "controller", "preset", "result", "seconds")
    for s in summary:
        note = "  (after a boot that hung)" if int(s["hangs"] or 0) else ""
        if s["res"] == "RESET":
            note += "  (%s)" % nvme_reset_lines("%s/%s.err" % (dir_, s["tag"]), first=True)
        t += "%-22s %-10s %-17s %-12s %7s%s\n" % (
            s["kernel"] + " " + s["ver"], "qemu-" + s["q"], s["preset"], s["res"], s["secs"], note)
    return t


def tail(path, n, prefix, skip=()):
    lines = [x for x in read_lines(path) if not x.startswith(skip)] if skip else read_lines(path)
    return "".join(prefix + x + "\n" for x in lines[-n:])


def matrix_failures(dir_, summary):
    t = ""
    for s in summary:
        base = "%s/%s" % (dir_, s["tag"])
        if int(s["hangs"] or 0):
            t += "\n--- %s: hung before /init, booted again (the hung boot: %s.hang.*)\n" % (s["tag"], base)
            t += "".join("  serial| " + x[4:] + "\n" for x in read_lines(base + ".hang.err")
                         if x.startswith("  | "))
        if s["res"] == "PASS":
            continue
        if s["res"] == "RESET":
            t += ("\n--- %s: RESET: the guest's NVMe driver timed out a command, which no test asks "
                  "for (a command outlasted its timeout on a slow host, or the device hung): not a "
                  "pass, and not a test's failure; the driver's lines, then the output tail (full "
                  "logs %s.*)\n" % (s["tag"], base))
            t += "".join("  nvme| %s\n" % x for x in nvme_reset_lines(base + ".err"))
            t += tail(base + ".out", 20, "  out| ")
            # The last 20 lines of stderr, then those that are not the driver's.
            t += "".join("  err| %s\n" % x for x in read_lines(base + ".err")[-20:]
                         if not x.startswith("guest-nvme: "))
        elif s["res"] == "KNOWN-DEFECT":
            t += "\n--- %s: known defect found again (evidence; full logs %s.*)\n" % (s["tag"], base)
            t += "".join("  " + x + "\n" for x in read_lines(base + ".out.defects"))
        else:
            t += "\n--- %s: %s (output tail; full logs %s.*)\n" % (s["tag"], s["res"], base)
            t += "".join("  ktap| " + x + "\n" for x in read_lines(base + ".out.ktap"))
            t += tail(base + ".out", 20, "  out| ") + tail(base + ".err", 20, "  err| ")
    return t


def matrix_json(dir_, summary):
    """The matrix as JSON: one object per boot, in the order they ran (see
    results.boot_json); tests/vm/kernels-report turns it into
    docs/kernels.md."""
    qv, kr, boots = {}, {}, []
    for s in summary:
        k, q, base = s["kernel"], s["q"], "%s/%s" % (dir_, s["tag"])
        if q not in qv:
            qv[q] = qemu_version(q)
        if k not in kr:
            try:
                kr[k] = kernels.kernel_info(k, fetch=False) or {}
            except Exit:
                kr[k] = {}
        r = read_result(base + ".result")
        ki = kr[k] if kr[k].get("K_VERSION") == s["ver"] else {}
        b = {"kernel": k, "kernel_version": s["ver"], "kernel_release": ki.get("K_RELEASE", "?"),
             "kernel_series": series_of(s["ver"]), "kernel_build": ki.get("K_PKGVER", "?"),
             "kernel_from": ki.get("K_FROM", "?"), "qemu": q,
             "qemu_version": qv[q], "preset": s["preset"], "kernel_words": kernel_words(base + ".err"),
             "result": s["res"], "seconds": float(s["secs"]) if "." in s["secs"] else int(s["secs"]),
             "log": base, "boot_hangs": int(s["hangs"] or 0)}
        b.update(boot_json(base, s["res"], s["ver"], q, s["preset"], r["status"], r["rc"]))
        boots.append(b)
    return json.dumps(boots, indent=1, ensure_ascii=False) + "\n"


def cmd_matrix_json(args, usage):
    """lab matrix-json DIR: the JSON of a matrix that ran without --json,
    from its log directory."""
    if len(args) != 1:
        die("matrix-json: one argument, a matrix log directory")
    if not os.path.isfile(args[0] + "/summary"):
        die("matrix-json: no %s/summary: not a lab matrix log directory" % args[0])
    sys.stdout.write(matrix_json(os.path.abspath(args[0]), read_summary(args[0])))
    return 0

