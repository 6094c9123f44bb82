# SPDX-License-Identifier: MIT
"""lab setup: host packages, kernels and QEMU 10 into the cache, through a
private apt configuration (another suite's packages are downloaded and
unpacked with dpkg-deb, never installed on the machine)."""
import glob
import lzma
import gzip
import os
import re
import shutil
import subprocess
import sys

from .common import (CACHE, LAB_DIR, SUITES, die, elapsed, kernel_info, log, now,
                     parse_opts, qdir, qemu_version_of, read_info, read_text, write_info,
                     write_text)

KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
HOST_PKGS = ["qemu-system-x86", "busybox-static", "cpio", "xz-utils", "zstd", "kmod", "gzip",
             "coreutils", "libc-bin", "dpkg", "apt", "gpgv", "debian-archive-keyring"]

# ------------------------------------------------------------ apt plumbing


def host_codename():
    for line in read_text("/etc/os-release").splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    die("no VERSION_CODENAME in /etc/os-release")


def archive_uri():
    """URI of the Debian archive, taken from the machine's own apt sources:
    the deb entry that serves the machine's codename (not -security,
    -updates)."""
    want = host_codename()
    for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", read_text(f)):
            fields = {}
            for line in stanza.splitlines():
                k, _, v = line.partition(":")
                fields[k.strip()] = v.split()
            if (fields.get("Enabled") or ["yes"])[0] == "no":
                continue
            if "deb" in fields.get("Types", []) and want in fields.get("Suites", []) \
                    and fields.get("URIs"):
                return fields["URIs"][0].rstrip("/")
    for f in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        for line in read_text(f, "").splitlines():
            w = re.sub(r"\[[^]]*\]", "", line.split("#")[0]).split()
            if len(w) >= 3 and w[0] == "deb" and w[2] == want:
                return w[1].rstrip("/")
    die("no deb entry for '%s' in the machine's apt sources" % want)


def apt_home(name):
    return os.path.join(CACHE, "apt", name)


def apt_init(name, suites):
    """Private apt configuration NAME serving SUITES (main component only)."""
    home = apt_home(name)
    os.makedirs(os.path.join(home, "lists", "partial"), exist_ok=True)
    os.makedirs(os.path.join(home, "cache", "archives", "partial"), exist_ok=True)
    uri = archive_uri()
    write_text(home + "/sources.list.new",
               "".join("deb [signed-by=%s] %s %s main\n" % (KEYRING, uri, s) for s in suites))
    os.replace(home + "/sources.list.new", home + "/sources.list")


def apt_opts(name):
    # The archive this machine reaches can serve Release files whose
    # Valid-Until has passed (sid's said 6 Nov 2026 on 26 Nov): accept them,
    # as the machine's own apt configuration does; signatures are still checked.
    home = apt_home(name)
    o = ["Dir::Etc::SourceList=%s/sources.list" % home, "Dir::Etc::SourceParts=/dev/null",
         "Dir::State::Lists=%s/lists" % home, "Dir::Cache=%s/cache" % home,
         "Dir::Cache::pkgcache=pkgcache.bin", "Dir::Cache::srcpkgcache=srcpkgcache.bin",
         "APT::Sandbox::User=root", "Acquire::Languages=none", "Debug::NoLocking=1",
         "Acquire::Check-Valid-Until=false"]
    return [w for x in o for w in ("-o", x)]


def papt(name, tool, *args, **kw):
    """apt-get or apt-cache of the private configuration NAME."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run([tool] + apt_opts(name) + list(args), env=env, stdin=subprocess.DEVNULL,
                          text=True, **kw)


def apt_have_lists(name):
    return bool(glob.glob(apt_home(name) + "/lists/*_Packages*"))


def apt_update(name):
    """Update the private lists; apt checks each InRelease against the
    keyring and fails when a suite cannot be verified.  Also log who signed
    each one."""
    log("apt: update lists for " + name)
    ulog = apt_home(name) + "/update.log"
    with open(ulog, "w") as f:
        rc = papt(name, "apt-get", "-q", "update", stdout=f, stderr=subprocess.STDOUT).returncode
    text = read_text(ulog)
    if rc:
        sys.stderr.write(text)
        die("apt-get update failed for %s (signature or network problem?)" % name)
    bad = [line for line in text.splitlines() if re.match(r"^(W|E):", line)]
    if bad:
        sys.stderr.write("".join(line + "\n" for line in bad))
        die("apt-get update for %s reported problems (see above)" % name)
    for f in sorted(glob.glob(apt_home(name) + "/lists/*_InRelease")):
        out = subprocess.run(["gpgv", "--keyring", KEYRING, f], capture_output=True,
                             text=True).stderr
        signers = ";".join(re.findall(r'Good signature from "([^<]*) <', out))
        log("apt: %s verified: %s" % (f.split("dists_")[-1], signers or "NONE"))
        if not signers:
            die("no good signature on " + f)


def pkg_show(name, pkg):
    """The first stanza of apt-cache show PKG, as a dict of fields."""
    out = papt(name, "apt-cache", "show", "--no-all-versions", pkg, capture_output=True).stdout
    fields = {}
    for line in out.split("\n\n")[0].splitlines():
        if line[:1] not in (" ", "\t") and ":" in line:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def fetch_deb(name, pkg, ver):
    """Download PKG=VER into the shared .deb store unless it is there
    already; returns its path."""
    f = pkg_show(name, "%s=%s" % (pkg, ver))
    path = "%s/debs/%s_%s_%s.deb" % (CACHE, pkg, ver.replace(":", "%3a"), f.get("Architecture"))
    if os.path.getsize(path) if os.path.exists(path) else 0:
        log("have %s %s" % (pkg, ver))
        return path
    log("fetch %s %s (%d KiB)" % (pkg, ver, int(f.get("Size", 0)) // 1024))
    os.makedirs(CACHE + "/debs", exist_ok=True)
    papt(name, "apt-get", "-q", "download", "%s=%s" % (pkg, ver), cwd=CACHE + "/debs",
         stdout=subprocess.DEVNULL)
    if not (os.path.exists(path) and os.path.getsize(path)):
        die("download of %s %s did not produce %s" % (pkg, ver, path))
    return path


def unpack_deb(deb, root):
    log("unpack " + os.path.basename(deb))
    subprocess.run(["dpkg-deb", "-x", deb, root], check=True)


# ------------------------------------------------------------------ setup


def setup_host_packages():
    missing = [p for p in HOST_PKGS if subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}", p], capture_output=True,
        text=True).stdout != "installed"]
    if not missing:
        log("host packages: all present")
        return
    log("host packages: installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "-q", "update"],
                ["apt-get", "-q", "install", "-y", "--no-install-recommends"] + missing):
        subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr, check=True)


def kernel_layout(root):
    """Release, image, modules directory and config of an unpacked kernel."""
    mods = [d for d in sorted(glob.glob(root + "/lib/modules/*")) + sorted(
        glob.glob(root + "/usr/lib/modules/*")) if os.path.isdir(d + "/kernel")]
    if not mods:
        die("no modules directory under " + root)
    moddir = mods[0]
    rel = os.path.basename(moddir)
    first = lambda *c: next((x for x in c if os.path.isfile(x)), "")  # noqa: E731
    image = first("%s/boot/vmlinuz-%s" % (root, rel), moddir + "/vmlinuz")
    config = first("%s/boot/config-%s" % (root, rel), moddir + "/config")
    if not image:
        die("no kernel image for %s under %s" % (rel, root))
    return rel, image, moddir, config


def prepare_modules(moddir, out):
    """Decompress nvme and its dependencies (modinfo -F depends) into OUT,
    with the load order in OUT/order."""
    files = {}
    for d, _, names in os.walk(moddir):
        for n in names:
            if ".ko" in n:
                files[n.split(".ko")[0].replace("-", "_")] = os.path.join(d, n)
    builtin = read_text(moddir + "/modules.builtin", "").split()
    os.makedirs(out, exist_ok=True)
    order, seen = [], set()

    def add(name):
        key = name.replace("-", "_")
        if key in seen:
            return
        seen.add(key)
        f = files.get(key)
        if not f:
            if any(b.endswith("/%s.ko" % name) or b.endswith("/%s.ko" % key) for b in builtin):
                return  # built in
            die("module %s not found in %s" % (name, moddir))
        n = os.path.basename(f).split(".ko")[0]
        opener = {".xz": lzma.open, ".gz": gzip.open}.get(os.path.splitext(f)[1])
        if f.endswith(".zst"):
            with open(out + "/%s.ko" % n, "wb") as o:
                subprocess.run(["zstd", "-qdc", f], stdout=o, check=True)
        else:
            with (opener or open)(f, "rb") as i, open(out + "/%s.ko" % n, "wb") as o:
                shutil.copyfileobj(i, o)
        deps = subprocess.run(["modinfo", "-F", "depends", out + "/%s.ko" % n],
                              capture_output=True, text=True).stdout
        for d in deps.replace(",", " ").split():
            add(d)
        order.append(n)

    add("nvme")
    write_text(out + "/order", "".join(n + "\n" for n in order))
    log("modules: " + " ".join(order))


def qemu10_env(root):
    lib = root + "/usr/lib/x86_64-linux-gnu"
    env = {"QEMU_MODULE_DIR": lib + "/qemu"}
    if glob.glob(lib + "/*.so*"):
        env["LD_LIBRARY_PATH"] = lib
    return env


def qemu10_resolve():
    """Packages apt would install for qemu-system-x86 from
    bookworm-backports on this machine (simulated only; nothing is
    installed)."""
    out = papt("qemu10", "apt-get", "-s", "-q", "-t", host_codename() + "-backports", "install",
               "--no-install-recommends", "qemu-system-x86", capture_output=True).stdout
    return ["%s=%s" % m for m in re.findall(r"^Inst (\S+) .*?\((\S+) ", out, re.M)]


def relink_into_root(root):
    """Absolute symlinks in the unpacked packages (they name host paths such
    as /usr/share/seabios/...) are pointed into ROOT when ROOT holds the
    target: relative links, which survive the move."""
    for d, dirs, names in os.walk(root):
        for n in dirs + names:
            link = os.path.join(d, n)
            if os.path.islink(link):
                t = os.readlink(link)
                if t.startswith("/") and os.path.exists(root + t):
                    os.unlink(link)
                    os.symlink(os.path.relpath(root + t, d), link)


def qemu10_setup(refresh):
    d = qdir()
    if os.path.isfile(d + "/info") and not refresh:
        log("qemu 10: cached " + read_info(d + "/info")["Q_VERSION"])
        return
    c = host_codename()
    apt_init("qemu10", [c, c + "-updates", c + "-backports"])
    if refresh or not apt_have_lists("qemu10"):
        apt_update("qemu10")
    pkgs = qemu10_resolve()
    if not any(p.startswith("qemu-system-x86=") for p in pkgs):
        die("qemu-system-x86 not resolvable from %s-backports" % c)
    want = " ".join(pkgs)
    log("qemu 10: " + want)
    if os.path.isfile(d + "/info") and read_info(d + "/info")["Q_PKGS"] == want:
        log("qemu 10: up to date")
        return
    debs = [fetch_deb("qemu10", *p.split("=", 1)) for p in pkgs]
    new = d + ".new"
    shutil.rmtree(new, ignore_errors=True)
    os.makedirs(new + "/root")
    for deb in debs:
        unpack_deb(deb, new + "/root")
    relink_into_root(new + "/root")
    shutil.rmtree(d, ignore_errors=True)
    os.rename(new, d)
    root = d + "/root"
    v = qemu_version_of([root + "/usr/bin/qemu-system-x86_64"], dict(os.environ, **qemu10_env(root)))
    if not v:
        die("unpacked QEMU 10 does not run")
    write_info(d + "/info", {"Q_PKGS": want, "Q_VERSION": v})
    log("qemu 10: ready " + v)


def cmd_setup(args, usage):
    opts, _ = parse_opts(args, {"--refresh": ("refresh", "flag")}, "setup: unknown option %s", usage)
    t0 = now()
    if os.geteuid() != 0:
        die("setup needs root (apt-get)")
    setup_host_packages()
    os.makedirs(CACHE + "/logs", exist_ok=True)
    # The default kernels; every other one is fetched the first time a
    # run names it (lablib/kernels.py).
    from .kernels import catalog
    catalog(opts["refresh"])
    for s in SUITES:
        k = kernel_info(s)
        log("kernel %s: %s %s (%s)" % (s, k["K_SERIES"], k["K_RELEASE"], k["K_PKGVER"]))
    qemu10_setup(opts["refresh"])
    # fio with md_per_io_size for nvmeta-bench's fio baseline; a machine
    # that cannot build it goes on without it (the benchmark says so).
    if subprocess.run([LAB_DIR + "/build-fio.sh"] + (["--refresh"] if opts["refresh"] else []),
                      env=dict(os.environ, NVMETA_LAB_CACHE=CACHE)).returncode:
        log("fio not built (the reason is above): nvmeta-bench will skip its fio baseline")
    log("setup done in %s s (cache %s)" % (elapsed(t0), CACHE))
    return 0

