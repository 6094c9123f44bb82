# SPDX-License-Identifier: MIT
"""lab soak: nvmeta-soak in one guest for a given time, under every fault
tests/vm/soak.sh injects (controller resets, reformats, SIGKILL, a full
journal, removal and hot-add), with CPU-bound processes beside the guest
on the host.  The long soak; the test command runs the short one through
lab matrix --matrix tests/vm/matrix-soak.tsv."""
import os
import re
import subprocess

from .boot import qemu_cmd, run_boot
from .common import LAB_DIR, ROOT, die, kernel_info, log, parse_opts, preset_load


def seconds(text):
    """30, 30s, 10m, 2h: whole seconds."""
    m = re.fullmatch(r"([1-9][0-9]*)([smh]?)", text or "")
    if not m:
        die("soak: --duration takes a time such as 600, 600s, 10m or 2h: '%s'" % text)
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def cmd_soak(args, usage):
    opts, rest = parse_opts(args, {
        "--kernel": ("kernel", "val"), "--qemu": ("qemu", "val"), "--preset": ("preset", "val"),
        "--duration": ("duration", "val"), "--build": ("build", "val"),
        "--hogs": ("hogs", "val"), "--log": ("log", "val")},
        "soak: unknown option %s", usage)
    if rest:
        die("soak: takes no command")
    kernel, q = opts["kernel"] or "sid", opts["qemu"] or "10"
    secs = seconds(opts["duration"] or "10m")
    hogs = opts["hogs"] or "2"
    if not re.fullmatch(r"[0-9]+", hogs):
        die("soak: --hogs takes a count: '%s'" % hogs)
    build = os.path.abspath(opts["build"] or os.path.join(ROOT, "build"))
    if not os.access(build + "/examples/nvmeta-soak", os.X_OK):
        die("soak: no %s/examples/nvmeta-soak (build it first)" % build)
    p = preset_load(opts["preset"] or "512+16-pi1")
    k = kernel_info(kernel)
    qemu_cmd(q)
    # The namespace in a subsystem, so that the removed controller can
    # come back (device_add) and the journal be verified on it.
    os.environ["NVMETA_LAB_SUBSYS"] = "1"
    # QEMU fails the first write to 12 MiB into the namespace (blkdebug):
    # soak.sh's I/O error phase writes there, the other phases do not.
    os.environ.setdefault("NVMETA_LAB_INJECT_SECTOR", "24576")
    procs = []
    try:
        for _ in range(int(hogs)):
            procs.append(subprocess.Popen(["yes"], stdout=subprocess.DEVNULL))
        log("soak: %d s on %s, QEMU %s, %s, %s CPU-bound processes beside the guest" % (
            secs, kernel, q, p["name"], hogs))
        return run_boot(k, p, q, secs + 900, opts["log"], "", [build, LAB_DIR],
                        ["sh", LAB_DIR + "/soak.sh", build, str(secs)])
    finally:
        for h in procs:
            h.kill()
            h.wait()
