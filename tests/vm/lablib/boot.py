# SPDX-License-Identifier: MIT
"""One boot: the initramfs (busybox, guest-init.sh as /init, the nvme
modules, the --file payload, a per-run /lab/env and /lab/cmd), QEMU under
TCG with the preset's namespace, the watch over its serial console, and
the command's output and exit status taken off that console."""
import hashlib
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

from .common import (BOOT_WATCH, CACHE, EXIT_NVME_RESET, INIT_TEMPLATE, LAB, NVME_TIMEOUT,
                     POLL_QUEUES, QEMU72, SMP, die, elapsed, kdir, lab_fail, log, now, qemu_version_of,
                     preset_device, preset_device_nometa, qdir, read_info, read_text, shquote,
                     write_text)
from .setup import qemu10_env

INITRD_FORMAT = 1  # bump when the initramfs layout changes


def inject_sector():
    """NVMETA_LAB_INJECT_SECTOR=N: QEMU fails the first write touching
    512-byte sector N of nsid 1 with EIO (blkdebug); the guest gets it as
    $NVMETA_LAB_INJECT_SECTOR.  "" when unset."""
    v = os.environ.get("NVMETA_LAB_INJECT_SECTOR", "")
    if v and not re.fullmatch(r"[0-9]+", v):
        die("NVMETA_LAB_INJECT_SECTOR takes a sector number: '%s'" % v)
    return v


def subsys():
    """NVMETA_LAB_SUBSYS=1: the controller in an NVMe subsystem, its
    namespace the subsystem's, so that a removed controller can be added
    back (lab soak sets it)."""
    return os.environ.get("NVMETA_LAB_SUBSYS", "0") == "1"
# Kernel log lines that fail a boot.  Kept as text: the kernel's log is
# only text (guest-init.sh greps dmesg with the same pattern).
KPATTERN = r"WARNING|BUG|Oops|KASAN|general protection|Call Trace"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b.")

# ------------------------------------------------------------- initramfs


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return os.path.isfile(path) and f.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_libs(path):
    """(DEST, SRC) of every library ldd lists for an ELF file, and the loader."""
    if not is_elf(path):
        return set()
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    libs = set()
    for line in out.splitlines():
        w = line.split()
        if "=> not found" in line:
            print("lab: warning: %s needs %s, not found on the host" % (path, w[0]), file=sys.stderr)
        elif len(w) > 2 and w[1] == "=>" and w[2].startswith("/"):
            libs.add((w[2], w[2]))
        elif w and w[0].startswith("/"):
            libs.add((w[0], w[0]))
    return libs


def payload(paths):
    """(DEST, SRC) for the --file arguments: each file itself (directories
    recursively) at its own absolute path, which keeps RUNPATHs into a
    build tree valid, and for ELF files every library plus the loader."""
    lines = set()
    for arg in paths:
        p = os.path.abspath(arg)
        if not os.path.exists(p):
            die("--file %s: no such file or directory" % arg)
        lines.add((p, p))
        files = [p] if not os.path.isdir(p) else [
            f for d, _, names in os.walk(p) for f in (os.path.join(d, n) for n in names)
            if os.path.isfile(f) and not os.path.islink(f)]
        for f in files:
            lines |= elf_libs(f)
    return sorted(lines)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def entry_digest(src):
    """A stable digest of a payload entry: content for files, a listing with
    modes, link targets and contents for directories."""
    if not os.path.isdir(src):
        return sha256_file(src)
    h = hashlib.sha256()
    for d, dirs, names in sorted(os.walk(src)):
        dirs.sort()
        for n in sorted(dirs + names):
            f = os.path.join(d, n)
            st = os.lstat(f)
            link = os.readlink(f) if stat.S_ISLNK(st.st_mode) else ""
            content = sha256_file(f) if stat.S_ISREG(st.st_mode) else ""
            h.update(("%s %s %o %s\n" % (os.path.relpath(f, src), link, st.st_mode, content)).encode(
                "utf-8", "surrogateescape"))
    return h.hexdigest()


def initrd_base(k, files, tmp):
    """The cached base initramfs for the kernel and the payload (built when
    missing); returns its path."""
    key = hashlib.sha256()
    key.update(("format %d %s %s\n" % (INITRD_FORMAT, k["K_RELEASE"], k["K_PKGVER"])).encode())
    for f in (INIT_TEMPLATE, "/bin/busybox"):
        key.update((sha256_file(f) + "\n").encode())
    key.update(read_text(kdir(k["K_SUITE"]) + "/nvme-modules/order").encode())
    for dest, src in files:
        key.update(("%s %s\n" % (dest, entry_digest(src))).encode("utf-8", "surrogateescape"))
    out = "%s/initrd/%s-%s.cpio" % (CACHE, k["K_SUITE"], key.hexdigest()[:32])
    if os.path.exists(out) and os.path.getsize(out):
        os.utime(out)  # recently used: kept by the pruning below
        return out
    week = time.time() - 7 * 86400
    for old in os.scandir(CACHE + "/initrd"):
        if old.name.endswith(".cpio") and old.stat().st_mtime < week:
            os.unlink(old.path)
    stage = tmp + "/stage"
    initrd_stage(stage, k, files)
    cpio(stage, out + ".%d" % os.getpid())
    shutil.rmtree(stage)
    os.rename(out + ".%d" % os.getpid(), out)
    return out


def initrd_stage(s, k, files):
    for d in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "proc", "sys", "dev", "tmp", "run",
              "root", "etc", "lab"):
        os.makedirs(os.path.join(s, d))
    for d in ("bin", "sbin", "lib", "lib64"):
        os.symlink("usr/" + d, os.path.join(s, d))
    os.chmod(s + "/tmp", 0o1777)
    shutil.copy("/bin/busybox", s + "/usr/bin/busybox")
    os.symlink("busybox", s + "/usr/bin/sh")
    os.mknod(s + "/dev/console", 0o600 | stat.S_IFCHR, os.makedev(5, 1))
    os.chmod(s + "/dev/console", 0o600)
    shutil.copyfile(INIT_TEMPLATE, s + "/init")
    os.chmod(s + "/init", 0o755)
    write_text(s + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
    write_text(s + "/etc/group", "root:x:0:\n")
    shutil.copytree(kdir(k["K_SUITE"]) + "/nvme-modules", s + "/lab/modules")
    for dest, src in files:
        os.makedirs(s + os.path.dirname(dest), exist_ok=True)
        if os.path.isdir(src):
            os.makedirs(s + dest, exist_ok=True)
            subprocess.run(["cp", "-a", src + "/.", s + dest + "/"], check=True)
        else:
            subprocess.run(["cp", "-L", "--preserve=mode", src, s + dest], check=True)


def cpio(top, out, names=None):
    """A newc archive of TOP's tree (or of NAMES under it), owned by root."""
    if names is None:
        names = sorted("./" + os.path.relpath(os.path.join(d, n), top)
                       for d, dirs, files in os.walk(top) for n in dirs + files)
    with open(out, "wb") as f:
        subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=top, stdout=f,
                       input="".join(n + "\n" for n in names).encode("utf-8", "surrogateescape"),
                       check=True)


def cwd():
    pwd = os.environ.get("PWD")
    try:
        if pwd and os.path.samefile(pwd, "."):
            return pwd
    except OSError:
        pass
    return os.getcwd()


def initrd_run(tmp, token, q, k, p, nometa, cmd):
    """The per-run part (appended cpio): /lab/env and /lab/cmd."""
    os.makedirs(tmp + "/run/lab")
    env = ["LAB_TOKEN=" + token,
           "LAB_CWD=" + shquote([cwd()]),
           "export NVMETA_PRESET=%s NVMETA_EXPECT_LBA=%d" % (shquote([p["name"]]), p["lba"]),
           "export NVMETA_EXPECT_MS=%d NVMETA_EXPECT_EXT=%d NVMETA_EXPECT_PI=%d" % (
               p["ms"], p["mset"], p["pi"]),
           "export NVMETA_EXPECT_PIF=%d NVMETA_EXPECT_PIL=%d" % (p["pif"], p["pil"]),
           "export NVMETA_EXPECT_MSGL=%d" % (q == "10"),
           "export NVMETA_LAB_QEMU=%s NVMETA_LAB_KERNEL=%s NVMETA_DEV=/dev/ng0n1" % (q, k["K_SUITE"])]
    # /init finds the two by nsid and sets NVMETA_DEV, NVMETA_NOMETA_DEV.
    if nometa:
        env.append("export NVMETA_LAB_NAMESPACES=2")
    if subsys():
        env.append("export NVMETA_LAB_SUBSYS=1")
    if inject_sector():
        env.append("export NVMETA_LAB_INJECT_SECTOR=%s" % inject_sector())
    write_text(tmp + "/run/lab/env", "".join(e + "\n" for e in env))
    write_text(tmp + "/run/lab/cmd", shquote(cmd))
    cpio(tmp + "/run", tmp + "/run.cpio", ["lab", "lab/cmd", "lab/env"])


# ------------------------------------------------------------------- QEMU


def qemu_cmd(q):
    """(environment additions, argv head) of QEMU 7.2 or 10."""
    if q == "7.2":
        if not os.access(QEMU72, os.X_OK):
            lab_fail("%s missing; run: %s setup" % (QEMU72, LAB))
        return {}, [QEMU72]
    if q == "10":
        root = qdir() + "/root"
        if not os.path.isfile(qdir() + "/info"):
            lab_fail("QEMU 10 is not in %s; run: %s setup" % (CACHE, LAB))
        return qemu10_env(root), [root + "/usr/bin/qemu-system-x86_64", "-L",
                                  root + "/usr/share/qemu", "-L", root + "/usr/share/seabios"]
    die("--qemu must be 7.2 or 10")


def qemu_version(q):
    """The exact QEMU version behind a controller word, "?" when that QEMU
    is not there."""
    if q == "10":
        f = qdir() + "/info"
        return (read_info(f).get("Q_VERSION") if os.path.isfile(f) else "") or "?"
    return qemu_version_of([QEMU72]) or "?"


def kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


class Boot:
    """A running QEMU and the watch over its serial log: the timeout, the
    boot watch, the guest's monitor requests, a progress hook."""

    def __init__(self, argv, env, logf, tmp, token, timeout, on_line=None):
        self.m = "@@LAB:%s:" % token
        # The lab's own -device arguments by id: what device_add ID adds back.
        self.devices = {m.group(1): d for d in argv for m in [re.search(r"(?:^|,)id=([^,]+)", d)]
                        if m and d.startswith("nvme,")}
        self.tmp, self.timeout, self.on_line = tmp, timeout, on_line
        self.hung = self.timed_out = self.init = self.cut = False
        self.pending, self.monitor_log = b"", b""
        os.mkfifo(tmp + "/mon.in")
        os.mkfifo(tmp + "/mon.out")
        # Opened read-write before QEMU starts, so that neither side blocks
        # in open() and the requests FIFO never sees an end.
        self.mon_in = os.open(tmp + "/mon.in", os.O_RDWR)
        self.mon_out = os.open(tmp + "/mon.out", os.O_RDWR | os.O_NONBLOCK)
        self.log = open(logf, "wb")
        self.reader = open(logf, "rb")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self):
        """Watch until QEMU ends; returns its exit status as timeout(1)
        gave it: 124 for a timeout."""
        kill_at = None
        while True:
            try:
                rc = self.proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                pass
            self.poll()
            t = time.monotonic() - self.t0
            if kill_at is None and (0 < self.timeout <= t or self.hung):  # 0: none
                self.timed_out = not self.hung
                kill_group(self.proc, signal.SIGTERM)
                kill_at = t + 5
            elif kill_at is not None and t >= kill_at:
                kill_group(self.proc, signal.SIGKILL)
        self.poll()
        if self.timed_out:
            return 124
        if self.cut:
            return 0
        return rc if rc >= 0 else 128 - rc

    def poll(self):
        self.drain_monitor()
        self.pending += self.reader.read()
        *lines, self.pending = self.pending.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "surrogateescape").replace("\r", "")
            if self.on_line:
                self.on_line(line)
            if self.m + "INIT " in line:
                self.init = True
            if self.m + "MONITOR " in line:
                self.monitor(line.rpartition(self.m + "MONITOR ")[2])
        if not self.init and time.monotonic() - self.t0 >= int(BOOT_WATCH):
            self.hung = True

    def monitor(self, request):
        """Hand a guest's request to QEMU's human monitor, for tests that
        take the controller away mid-run and bring it back.  A guest test
        asks with "lab-monitor device_del ID" or "lab-monitor device_add
        ID" (guest-init.sh); device_del of a device id is passed on, and
        device_add of an id the lab itself gave a -device at boot, with
        that device's own properties (the guest names no property).
        "lab-monitor power-cut" is not the monitor's: QEMU is killed
        (SIGKILL), the guest's power cut (soak-reboot.sh)."""
        if request == "power-cut":
            log("power cut: QEMU killed at %.0f s (the guest asked)" % (time.monotonic() - self.t0))
            self.cut = True
            kill_group(self.proc, signal.SIGKILL)
            return
        m = re.fullmatch(r"(device_del|device_add) ([A-Za-z0-9_-]+)", request)
        if not m or (m.group(1) == "device_add" and m.group(2) not in self.devices):
            log('monitor: refused the guest\'s request "%s" (only device_del ID, and device_add '
                'of a device the lab made: %s)' % (request, " ".join(sorted(self.devices))))
            return
        if m.group(1) == "device_add":
            request = "device_add " + self.devices[m.group(2)]
        log("monitor: %s (the guest asked)" % request)
        os.write(self.mon_in, (request + "\n").encode())

    def drain_monitor(self):
        """QEMU's replies, read so that the FIFO never fills (the result
        shows them)."""
        try:
            while True:
                b = os.read(self.mon_out, 65536)
                if not b:
                    break
                self.monitor_log += b
        except BlockingIOError:
            pass

    def close(self):
        if self.proc.poll() is None:
            kill_group(self.proc, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                kill_group(self.proc, signal.SIGKILL)
                self.proc.wait()
        for fd in (self.mon_in, self.mon_out):
            os.close(fd)
        self.log.close()
        self.reader.close()


def run_boot(k, p, q, timeout, logf, append, files, cmd, nometa=False, out=None, on_line=None,
             disk_dir=None):
    """Boot one guest, run CMD in it; prints its output on OUT (stdout) and
    returns the lab's exit status (see the usage).  DISK_DIR: the
    namespaces' images (nvm.img, nvm2.img) are that directory's, kept
    from boot to boot and made (64 MiB of zeros) only when missing; by
    default they are made fresh in the run's temporary directory."""
    if not re.fullmatch(r"[1-9][0-9]*", NVME_TIMEOUT):
        die("NVMETA_LAB_NVME_TIMEOUT takes whole seconds, at least 1: '%s'" % NVME_TIMEOUT)
    qenv, qargv = qemu_cmd(q)
    os.makedirs(CACHE + "/initrd", exist_ok=True)
    os.makedirs(CACHE + "/logs", exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="nvmeta-lab.")
    boot = None
    try:
        base = initrd_base(k, payload(files), tmp)
        token = secrets.token_hex(8)
        initrd_run(tmp, token, q, k, p, nometa, cmd)
        with open(tmp + "/initrd", "wb") as f:
            for part in (base, tmp + "/run.cpio"):
                with open(part, "rb") as i:
                    shutil.copyfileobj(i, f)
        drives = []
        for img, dev in [("nvm", preset_device(p))] + ([("nvm2", preset_device_nometa(p))] if nometa else []):
            src = "%s/%s.img" % (disk_dir or tmp, img)
            if not (disk_dir and os.path.exists(src)):
                with open(src, "wb") as f:
                    f.truncate(64 << 20)
            if img == "nvm" and inject_sector():
                # QEMU's own I/O error: the first write that touches
                # this 512-byte sector fails with EIO (blkdebug), which
                # the controller returns as an NVMe error status.
                write_text(tmp + "/blkdebug.conf", "[inject-error]\nevent = \"write_aio\"\n"
                           "errno = \"5\"\nsector = \"%s\"\nonce = \"on\"\n" % inject_sector())
                src = "blkdebug:%s/blkdebug.conf:%s" % (tmp, src)
            # discard=unmap: a Dataset Management deallocate (and a Write
            # Zeroes with DEAC) frees the blocks in the image, as an SSD
            # does, so they read as DLFEAT says; QEMU's default ignores
            # the discard and the blocks keep what they held.
            drives += ["-drive", "file=%s,if=none,id=%s,format=raw,discard=unmap" % (src, img)]
            if img == "nvm" and subsys():
                # The namespace belongs to the subsystem, not to the
                # controller: it outlives device_del nvme0 and comes back
                # with device_add nvme0 (QEMU takes no namespace hot-add).
                drives += ["-device", "nvme-subsys,id=nvmesubsys0,nqn=nvmeta-lab",
                           "-device", "nvme,serial=deadbeef,id=nvme0,subsys=nvmesubsys0"]
            elif img == "nvm":
                drives += ["-device", "nvme,serial=deadbeef,id=nvme0"]
            drives += ["-device", dev]
        logf = logf or "%s/logs/run-%s-%s-%s-%s-%d.log" % (
            CACHE, time.strftime("%Y%m%d-%H%M%S"), k["K_SUITE"], q, p["name"], os.getpid())
        label = "%s (%s) qemu-%s preset %s" % (k["K_SUITE"], k["K_VERSION"], q, p["name"])
        label += " + %d+0 (nsid 2)" % p["lba"] if nometa else ""
        label += " [%s]" % append if append else ""
        label += " (nvme-subsys)" if subsys() else ""
        label += " (images in %s)" % disk_dir if disk_dir else ""
        log("boot %s ..." % label)
        log("serial log: " + logf)
        t0 = now()
        # -boot strict=on: SeaBIOS leaves NVMe controllers without a boot
        # index alone.  Without it, the kernel's real-mode EDD read of LBA 0
        # through SeaBIOS made QEMU write a PI namespace's metadata to guest
        # address 0, over the interrupt vector table (a third of
        # 4096+64-pi2 boots hung).
        argv = qargv + [
            "-accel", "tcg", "-cpu", "max", "-smp", SMP, "-m", "2G", "-nographic", "-no-reboot",
            "-nodefaults", "-serial", "stdio", "-boot", "strict=on",
            "-chardev", "pipe,id=mon0,path=%s/mon" % tmp, "-mon", "chardev=mon0,mode=readline",
            "-kernel", k["K_IMAGE"], "-initrd", tmp + "/initrd",
            "-append", "console=ttyS0 panic=-1 quiet nvme.poll_queues=%s nvme_core.io_timeout=%s "
            "nvme_core.admin_timeout=%s%s" % (POLL_QUEUES, NVME_TIMEOUT, NVME_TIMEOUT,
                                              " " + append if append else "")] + drives
        boot = Boot(argv, dict(os.environ, **qenv), logf, tmp, token, timeout, on_line)
        qrc = boot.wait()
        return run_result(logf, token, boot, qrc, label, t0, k, out or sys.stdout)
    finally:
        # No second signal cuts the cleanup short.
        held = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM,
                                                              signal.SIGHUP)}
        if boot:
            boot.close()
        shutil.rmtree(tmp, ignore_errors=True)
        for s, handler in held.items():
            signal.signal(s, handler)


# ------------------------------------------------------------- results


def parse_serial(text, token):
    """The serial log's marker lines (guest-init.sh): the command's output
    (None when the guest never printed it), the output as it was streamed
    (all a dead guest leaves), the kernel lines, the NVMe driver's timeout
    and reset lines, the exit status, why /init failed, and when /init and
    the command started."""
    m = "@@LAB:%s:" % token
    r = {"out": None, "live": [], "klog": None, "nvme": None, "rc": "-", "fail": "-",
         "started": False, "init": "-", "cmd": "-"}
    section = None  # out, klog or nvme: inside that BEGIN/END pair
    buf = []

    def rest(word):
        return line[line.index(m + word) + len(m + word) + 1:]

    for line in text.replace("\r", "").split("\n"):
        if m + "LIVE" in line:
            r["live"].append(rest("LIVE"))
            continue
        if section:
            if m + section.upper() + "-END" in line:
                if section == "out":
                    r["out"] = "\n".join(buf)
                section = None
            else:
                buf.append(line)
            continue
        for word in ("NVME", "OUT", "KLOG"):
            if m + word + "-BEGIN" in line:
                # Kernel and NVMe lines count as they come, the output only
                # once it ended (the guest's last newline is its own).
                section, buf = word.lower(), []
                r[section] = "" if section == "out" else buf
        if section:
            continue
        for word, key in (("RC ", "rc"), ("FAIL ", "fail"), ("INIT ", "init"),
                          ("CMD-START", "cmd")):
            if m + word in line:
                r[key] = rest(word.strip())
        r["started"] |= m + "CMD-START" in line
    r["klog"] = r["klog"] or []
    r["nvme"] = r["nvme"] or []
    return r


def tail_of_log(text, n):
    lines = ANSI.sub("", text.replace("\r", "")).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join("  | %s\n" % x for x in lines[-n:])


def run_result(logf, token, boot, qrc, label, t0, k, out):
    """Turn the serial log into stdout, stderr and an exit status."""
    with open(logf, "rb") as f:
        text = f.read().decode("utf-8", "surrogateescape")
    r = parse_serial(text, token)
    secs = elapsed(t0)
    if r["out"] is not None:
        out.write(r["out"])
    elif r["live"]:
        out.write("\n".join(r["live"]) + "\n")
    out.flush()
    err = sys.stderr
    err.write("".join("guest-kernel: %s\n" % x for x in r["klog"]))
    err.write("".join("guest-nvme: %s\n" % x for x in r["nvme"]))
    resets = len(r["nvme"])
    # The monitor's replies but for its greeting and the echo of what it
    # was given: its complaints, if any.
    for x in ANSI.sub("", boot.monitor_log.decode("utf-8", "replace").replace("\r", "")).split("\n"):
        if x and not x.startswith("(qemu)") and " monitor - type " not in x:
            err.write("lab: monitor said: %s\n" % x)
    rc, fail = r["rc"], r["fail"]
    if rc != "-":
        status = int(rc) if rc.isdigit() else 1
        if r["klog"] and rc == "0":
            status = 126
        if resets:
            status = EXIT_NVME_RESET
            log("RESET: the guest's NVMe driver timed out a command (guest-nvme: lines above), "
                "which no test asks for: a command outlasted its timeout (the lab's "
                "nvme_core.io_timeout: %s s) on a slow host, or the device hung; not the "
                "command's verdict, which was exit %s" % (NVME_TIMEOUT, rc))
    elif boot.cut and r["started"]:
        status = 0
        log("power cut while the command ran, as the guest asked: its output is what it "
            "printed before (no exit status, no kernel log)")
    elif boot.hung:
        status = 125
        log("the guest did not reach /init within %s s (QEMU stopped); last serial lines:" % BOOT_WATCH)
        err.write(tail_of_log(text, 5))
    elif qrc in (124, 137):
        status = 124
        log("timeout after %s s (QEMU killed)" % secs)
    elif r["started"]:
        status = 126
        log("guest died while the command ran (QEMU exit %d); kernel lines:" % qrc)
        # The kernel's own words from the console: text is all a dead
        # guest leaves.
        err.write("".join("guest-kernel: %s\n" % x for x in text.replace("\r", "").split("\n")
                          if re.search(KPATTERN + "|Kernel panic", x)))
    else:
        status = 125
        if fail != "-":
            log("guest failed before the command: " + fail)
        else:
            log("guest never reached the command (QEMU exit %d); last serial lines:" % qrc)
        err.write(tail_of_log(text, 15))
    when = ""
    if r["init"] != "-":
        when = " (guest: /init at %s s" % r["init"]
        when += ", command at %s s" % r["cmd"] if r["cmd"] != "-" else ""
        when += ")"
    log("done %s: exit %d in %s s%s" % (label, status, secs, when))
    if os.environ.get("NVMETA_LAB_RESULT"):
        write_text(os.environ["NVMETA_LAB_RESULT"], "%d %s %s %s %d\n" % (
            status, rc, secs, k["K_VERSION"], resets))
    return status
