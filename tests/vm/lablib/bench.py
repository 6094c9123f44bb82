# SPDX-License-Identifier: MIT
"""lab bench: nvmeta-bench in a guest with a second namespace without
metadata, its result files brought back over the serial console."""
import base64
import glob
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

from .boot import qemu_cmd, run_boot
from .common import (CACHE, ROOT, check_seconds, die, elapsed, kernel_info, log, now,
                     parse_opts, preset_load, read_text, write_text)

# The guest side of lab bench (busybox sh): run "$@" (nvmeta-bench with its
# options) on the namespaces /init found by nsid (the "\r" of its progress
# line become line ends, as the host drops every "\r" from the serial log and
# the progress watcher reads lines), then print each result file
# gzipped and in base64 between marker lines with its size and SHA-256, so
# that the host can take it off the serial console and check it.
BENCH_GUEST = r'''G=/tmp/nvmeta-bench
[ -n "$NVMETA_NOMETA_DEV" ] || { echo "lab-bench: no second namespace in this guest"; exit 125; }
echo "lab-bench: $NVMETA_DEV (nsid 1) and --nometa $NVMETA_NOMETA_DEV (nsid 2)"
{ "$@" --nometa "$NVMETA_NOMETA_DEV" "$NVMETA_DEV"; echo $? >"$G/rc"; } 2>&1 | tr "\r" "\n"
rc=$(cat "$G/rc")
for f in bench.json bench.csv latency.csv; do
	[ -f "$G/$f" ] || continue
	echo "@@BENCH-FILE $f $(wc -c <"$G/$f") $(sha256sum <"$G/$f" | cut -d" " -f1)"
	gzip -c "$G/$f" | base64
	echo "@@BENCH-END $f"
done
exit $rc'''
# nvmeta-bench's progress line (on stderr, a terminal's "\r" updates):
# "PHASE I/N ...", where PHASE is "setting up", "warm-up" or "round R/N".
# Its own words, not a result: the results come back as its --json file.
PROGRESS = re.compile(r"^(setting up|warm-up|round [0-9]+/[0-9]+) ([0-9]+)/([0-9]+) ")


def progress(t0):
    """While the guest runs, print nvmeta-bench's progress as it reaches the
    serial log: the end of each phase (set-up, warm-up, each round: its last
    progress update, "I/N" with I = N), its messages and the guest's start."""
    def on_line(line):
        if re.search(r"@@LAB:[0-9a-f]+:CMD-START", line):
            log("bench: guest up, nvmeta-bench running (%s s)" % elapsed(t0))
            return
        m = re.search(r"@@LAB:[0-9a-f]+:LIVE (.*)", line)
        if not m:
            return
        line = m.group(1)
        p = PROGRESS.match(line)
        if p:
            if p.group(2) == p.group(3):
                phase = "set-up" if p.group(1) == "setting up" else p.group(1)
                log("bench: %s done (%s s)" % (phase, elapsed(t0)))
        elif re.match(r"^(nvmeta-bench|lab-bench):", line):
            log("bench: " + line)
    return on_line


def bench_split(guest_out, out):
    """The guest's output: result files (base64 of gzip) decoded into OUT
    and checked against the size and digest the guest gave, the rest
    (nvmeta-bench's table, summary and messages) into OUT/bench.txt without
    the progress updates and the empty line before each phase's first.
    Returns the names of the files that came back whole."""
    txt, got, blank, infile = [], [], 0, None
    for line in read_text(guest_out, "").splitlines():
        w = line.split()
        if infile:
            if w[:1] == ["@@BENCH-END"]:
                got += decode(out, *infile)
                infile = None
            else:
                infile[3].append(line)
        elif w[:1] == ["@@BENCH-FILE"] and len(w) >= 4 and re.fullmatch(r"[a-z.]+", w[1]):
            infile = (w[1], w[2], w[3], [])
        elif not line:
            blank += 1
        elif PROGRESS.match(line):
            blank = 0
        else:
            txt += [""] * blank + [line]
            blank = 0
    write_text(out + "/bench.txt", "".join(x + "\n" for x in txt))
    return got


def decode(out, name, size, digest, b64):
    try:
        data = gzip.decompress(base64.b64decode("".join(b64), validate=False))
    except (ValueError, OSError, EOFError):
        log("bench: %s came back damaged (base64 or gzip does not decode)" % name)
        return []
    path = os.path.join(out, name)
    with open(path, "wb") as f:
        f.write(data)
    if str(len(data)) != size or hashlib.sha256(data).hexdigest() != digest:
        log("bench: %s came back damaged (%d bytes, the guest wrote %s)" % (name, len(data), size))
        os.replace(path, path + ".damaged")
        return []
    return [name]


def bench_plot(out):
    """Plots with bench/plot.sh, where it and gnuplot are there."""
    plot = ROOT + "/bench/plot.sh"
    size = lambda f: os.path.getsize(f) if os.path.exists(f) else 0  # noqa: E731
    if not os.path.isfile(plot):
        log("bench: no plots: %s is missing" % plot)
    elif not shutil.which("gnuplot"):
        log("bench: no plots: gnuplot is not installed (apt-get install gnuplot-nox)")
    elif not size(out + "/bench.csv") or not size(out + "/latency.csv"):
        log("bench: no plots: the CSV files did not come back")
    else:
        with open(out + "/plot.log", "w") as f:
            rc = subprocess.run(["sh", plot, out + "/bench.csv", out + "/latency.csv", out],
                                stdout=f, stderr=subprocess.STDOUT).returncode
        if rc == 0:
            log("bench: plots: " + " ".join("./" + os.path.basename(x)
                                            for x in sorted(glob.glob(out + "/*.png"))) + " ")
        else:
            log("bench: plot.sh failed (exit %d); its messages:" % rc)
            sys.stderr.write("".join("  | " + x + "\n" for x in read_text(out + "/plot.log").splitlines()))


def cmd_bench(args, usage):
    opts, extra = parse_opts(args, {
        "--kernel": ("kernel", "val"), "--qemu": ("qemu", "val"), "--preset": ("preset", "val"),
        "--build": ("build", "val"), "--out": ("out", "val"), "--timeout": ("timeout", "val"),
        "--quick": ("quick", "flag"), "--summary": ("summary", "flag")},
        "bench: unknown option %s (nvmeta-bench's own options go after --)", usage)
    kernel, q = opts["kernel"] or "sid", opts["qemu"] or "10"
    # A full run under TCG takes minutes (about 70 variants, 6 slices each,
    # their set-up and the observation pass); the timeout only stops a hung
    # guest.  A full run took 106 s on 6.12 (2026-12-02).
    timeout = check_seconds(opts["timeout"] or ("600" if opts["quick"] else "900"))
    binary = os.path.abspath(opts["build"] or ROOT + "/build") + "/bench/nvmeta-bench"
    if not os.access(binary, os.X_OK):
        die("no %s: build first (cmake --build %s)" % (binary, opts["build"] or ROOT + "/build"))
    p = preset_load(opts["preset"] or "512+8")
    if p["ms"] <= 0:
        die("bench: preset %s has no metadata; pick one with metadata" % p["name"])
    k = kernel_info(kernel)
    qemu_cmd(q)
    out = opts["out"] or "%s/logs/bench-%s-%s-qemu%s-%s" % (
        CACHE, time.strftime("%Y%m%d-%H%M%S"), k["K_SUITE"], q, p["name"])
    try:
        os.makedirs(out, exist_ok=True)
    except OSError:
        die("cannot create " + out)
    out = os.path.realpath(out)
    for f in ["bench.json", "bench.csv", "latency.csv", "bench.txt", "guest.out"] + [
            os.path.basename(x) for x in glob.glob(out + "/*.png")]:
        if os.path.exists(os.path.join(out, f)):
            os.unlink(os.path.join(out, f))
    # The guest script adds --nometa and the device (/init finds them).
    g = "/tmp/nvmeta-bench/"
    bargs = [binary, "--json", g + "bench.json", "--csv", g + "bench.csv", "--lat-csv",
             g + "latency.csv"] + (["--quick"] if opts["quick"] else [])
    files = [binary]
    fio = CACHE + "/fio/bin/fio"
    if os.access(fio, os.X_OK):
        files.append(fio)
        bargs += ["--fio", fio]
    else:
        log("bench: no %s: the fio baseline is left out (tests/vm/build-fio.sh builds it)" % fio)
    bargs += extra
    log("bench: nvmeta-bench %s on %s, qemu %s, preset %s; timeout %d s" % (
        " ".join(bargs[1:]), k["K_SUITE"], q, p["name"], timeout))
    t0 = now()
    with open(out + "/guest.out", "w", encoding="utf-8", errors="surrogateescape") as gout:
        status = run_boot(k, p, q, timeout, out + "/serial.log", "", files,
                          ["sh", "-c", "mkdir -p /tmp/nvmeta-bench && " + BENCH_GUEST, "lab-bench"]
                          + bargs, nometa=True, out=gout, on_line=progress(t0))
    got = bench_split(out + "/guest.out", out)
    txt = read_text(out + "/bench.txt")
    if opts["summary"]:
        # nvmeta-bench's summary as it printed it, from its "Summary" line
        # on: shown, not read (its --json file holds the figures, not the
        # ratios report.c derives from them).
        lines = txt.splitlines(keepends=True)
        txt = "".join(next((lines[i:] for i, x in enumerate(lines) if x.startswith("Summary")), []))
    sys.stdout.write(txt)
    sys.stdout.flush()
    if got:
        bench_plot(out)
    else:
        log("bench: no result files came back (see %s/guest.out and %s/serial.log)" % (out, out))
    log("bench: exit %d; files in %s:" % (status, out))
    for pattern in ("*.json", "*.csv", "*.png", "*.damaged"):
        for f in sorted(glob.glob(out + "/" + pattern)):
            print("lab:   %-18s %8d bytes" % (os.path.basename(f), os.path.getsize(f)), file=sys.stderr)
    return status
