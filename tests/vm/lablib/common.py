# SPDX-License-Identifier: MIT
"""What every part of the lab shares: paths, settings from the environment,
messages and exit codes, the cache's info files, presets, option parsing."""
import os
import re
import shlex
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(LAB_DIR, "lab")
ROOT = os.path.dirname(os.path.dirname(LAB_DIR))
CACHE = os.environ.get("NVMETA_LAB_CACHE") or "/var/cache/nvmeta-lab"
# Guest CPUs.  One by default: with two, TCG now and then runs a stale
# translation of kernel text that another vCPU has just patched (an int3
# the kernel no longer expects: "Oops: int3" at boot in sched_clock code,
# and while nvmeta-check registers kprobes, in ttwu_do_activate; seen 3
# times in about 120 two-CPU boots on 2026-12-02).  NVMETA_LAB_SMP=2 for
# tests that need two.
SMP = os.environ.get("NVMETA_LAB_SMP") or "1"
# NVMe poll queues, so that IOPOLL rings work (queue/io_poll reads 1): the
# guest gets nvme.poll_queues=N on its kernel command line, which its /init
# passes to insmod as modprobe would.  QEMU's controller grants up to
# max_ioqpairs=64 I/O queues by default: enough for SMP + N.
# NVMETA_LAB_POLL_QUEUES=0 boots without them (io_poll 0).
POLL_QUEUES = os.environ.get("NVMETA_LAB_POLL_QUEUES") or "1"
# The guest NVMe driver's command timeouts, in seconds (nvme_core.io_timeout
# and admin_timeout on every boot's kernel command line; /init hands them to
# insmod).  The kernel's defaults, 30 s and 60 s, are host speed: under TCG
# on a loaded host a command of the signal storm test took longer, the
# driver aborted it and reset the controller, and the test failed with
# EINTR.  A boot whose kernel log shows a timeout anyway ends as RESET (exit
# 123), not as a test's failure nor a pass.  A command that never
# completes now outlasts the boot's --timeout (matrix: 300 s): TIMEOUT.
# --append nvme_core.io_timeout=N still wins (the later word).
NVME_TIMEOUT = os.environ.get("NVMETA_LAB_NVME_TIMEOUT") or "600"
# Seconds a guest has to reach /init.  A normal boot gets there in under
# 10 s (TCG, one CPU); a boot that hangs before the kernel prints anything
# (known-defects.tsv: seabios-nvme-metadata-at-0, before -boot strict=on)
# would otherwise wait out the whole command timeout.
BOOT_WATCH = os.environ.get("NVMETA_LAB_BOOT_WATCH") or "120"

PRESETS_FILE = os.path.join(LAB_DIR, "presets.tsv")
DEFECTS_FILE = os.path.join(LAB_DIR, "known-defects.tsv")
INIT_TEMPLATE = os.path.join(LAB_DIR, "guest-init.sh")
# The kernels lab setup prepares and the default --kernels of lab matrix:
# suite aliases (lablib/kernels.py resolves them and every other name).
SUITES = ["bookworm", "trixie", "sid"]
QEMUS = ["7.2", "10"]
QEMU72 = "/usr/bin/qemu-system-x86_64"
# Exit status of lab run when the guest's NVMe driver timed out a command
# (guest-init.sh's NPATTERN lines, on stderr as "guest-nvme: ").
EXIT_NVME_RESET = 123


class Exit(Exception):
    """Leave the lab with this status (raised so that cleanups run)."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def log(*words):
    print("lab:", *words, file=sys.stderr, flush=True)


def die(msg):
    log("error: " + msg)
    raise Exit(2)


def lab_fail(msg):  # the guest never ran the command
    log("error: " + msg)
    raise Exit(125)


def now():
    return time.time()


def elapsed(t0):
    return "%.1f" % (time.time() - t0)


def shquote(args):
    """POSIX single-quote quoting, for text that busybox sh evaluates."""
    return "".join("'" + a.replace("'", "'\\''") + "' " for a in args)


def read_text(path, default=None):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except OSError:
        if default is None:
            raise
        return default


def write_text(path, text):
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(text)


def read_info(path):
    """An info file of the cache: NAME=VALUE lines, VALUE shell-quoted (the
    bash driver wrote them with printf %q, this one with shlex.quote)."""
    info = {}
    for line in read_text(path).splitlines():
        name, eq, value = line.partition("=")
        if eq:
            info[name] = " ".join(shlex.split(value))
    return info


def write_info(path, info):
    write_text(path, "".join("%s=%s\n" % (k, shlex.quote(v)) for k, v in info.items()))


def kdir(suite):
    return os.path.join(CACHE, "kernels", suite)


def qdir():
    return os.path.join(CACHE, "qemu10")


def kernel_info(name):
    """The info of the kernel NAME stands for (a series, a suite alias or a
    version: lablib/kernels.py), fetched into the cache on first use:
    K_SUITE (its cache directory, for kdir()) K_NAME K_SERIES K_FROM K_PKGS
    K_PKGVER K_VERSION K_RELEASE K_IMAGE K_CONFIG."""
    from .kernels import kernel_info as resolve_and_fetch
    return resolve_and_fetch(name)


def qemu_version_of(argv, env=None):
    """'X.Y.Z' from QEMU's --version, or '' when it does not run."""
    try:
        out = subprocess.run(argv + ["--version"], env=env, capture_output=True, text=True).stdout
    except OSError:
        return ""
    m = re.search(r"version (\S+)", out.split("\n")[0])
    return m.group(1) if m else ""


# ---------------------------------------------------------------- presets

PRESET_FIELDS = ("name", "lba", "ms", "mset", "pi", "pif", "pil")


def presets():
    """presets.tsv as dicts, in file order (ints but for the name)."""
    rows = []
    for line in read_text(PRESETS_FILE).splitlines():
        f = line.split()
        if f and not line.startswith("#"):
            p = dict(zip(PRESET_FIELDS, f))
            for k in PRESET_FIELDS[1:]:
                p[k] = int(p.get(k, 0))
            rows.append(p)
    return rows


def preset_load(name):
    for p in presets():
        if p["name"] == name:
            return p
    die("unknown preset '%s' (see %s)" % (name, PRESETS_FILE))


def preset_device(p):
    """nvme-ns properties of nsid 1 for a preset."""
    d = "nvme-ns,drive=nvm,nsid=1,logical_block_size=%d,physical_block_size=%d" % (p["lba"], p["lba"])
    if p["ms"] > 0:
        d += ",ms=%d,mset=%d,pi=%d" % (p["ms"], p["mset"], p["pi"])
        d += ",pif=%d" % p["pif"] if p["pif"] else ""
        d += ",pil=%d" % p["pil"] if p["pil"] else ""
    return d


def preset_device_nometa(p):
    """The second namespace: the preset's block size, no metadata."""
    return "nvme-ns,drive=nvm2,nsid=2,logical_block_size=%d,physical_block_size=%d" % (p["lba"], p["lba"])


# ---------------------------------------------------------------- options

def parse_opts(args, spec, unknown, usage):
    """Options of a subcommand, as the bash driver took them.  spec maps an
    option to (key, kind): "val" (last wins), "list" (each one), "words"
    (joined with spaces) or "flag".  Returns (options, the words after --)."""
    opts = {key: ([] if kind == "list" else "" if kind == "words" else None)
            for key, kind in spec.values()}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return opts, args[i + 1:]
        if a in ("-h", "--help"):
            usage(sys.stdout)
            raise Exit(0)
        if a not in spec:
            die(unknown % a)
        key, kind = spec[a]
        if kind == "flag":
            opts[key] = True
        else:
            i += 1
            if i == len(args):
                die("%s needs a value" % a)
            if kind == "list":
                opts[key].append(args[i])
            elif kind == "words":
                opts[key] += " " + args[i]
            else:
                opts[key] = args[i]
        i += 1
    return opts, []


def check_seconds(value, what="--timeout takes whole seconds"):
    if not re.fullmatch(r"[0-9]+", value or ""):
        die(what)
    return int(value)
