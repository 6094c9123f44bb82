# SPDX-License-Identifier: MIT
"""Kernels by series: what the Debian archive serves in the suites the
machine's apt sources reach (bookworm, bookworm-backports, trixie,
trixie-backports, sid, experimental), read from a private apt
configuration's package lists, and the cache of unpacked builds.

A kernel is named by
  - series, "6.17": the newest complete build of that series in any suite;
  - suite alias: bookworm, trixie, sid (and bookworm-backports,
    trixie-backports, experimental): that suite's newest complete build;
    rc: experimental's newest;
  - exact version: a package version ("6.17.8-1~bpo13+1") or an upstream
    one ("6.17.8": its newest package build).
A build is complete when the packages its linux-image package depends on
(linux-binary and linux-modules of the same version, from 6.19 on) are
all in the suite (linux-base, which holds neither image nor module, may
be missing: 6.18's is); the series of a build with none complete is
listed as unavailable, with the reason.  Nothing here names a series: a
new one in the archive is picked up as it comes.

Builds are downloaded and unpacked (dpkg-deb -x), never installed, into
$CACHE/kernels/VERSION (the three directories the lab used before,
kernels/bookworm, trixie and sid, stay valid builds), on first use.
The archive's lists are read again only by `lab setup --refresh` or
`lab list --refresh`, so a name means the same build until then."""
import fcntl
import glob
import json
import os
import re
import shutil
import subprocess
import time

from .common import CACHE, die, log, read_info, read_text, write_info, write_text

APT_NAME = "kernels"
KERNEL_SUITES = ["bookworm", "bookworm-backports", "trixie", "trixie-backports", "sid",
                 "experimental"]
ALIASES = {"bookworm": ["bookworm"], "trixie": ["trixie"], "sid": ["sid"],
           "bookworm-backports": ["bookworm-backports"], "trixie-backports": ["trixie-backports"],
           "experimental": ["experimental"], "rc": ["experimental"]}
FLAVOUR = "amd64"
PKG_RE = re.compile(r"^linux-(image|binary|modules|base)-([0-9][^ ]*)-%s$" % FLAVOUR)
CATALOG = os.path.join(CACHE, "kernels", "catalog.json")
REASONS = {"modules": "no linux-modules package in the archive: the nvme driver cannot be loaded",
           "binary": "no linux-binary package in the archive: no kernel image"}


# ------------------------------------------------------ Debian versions

def _order(c):
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _cmp_part(a, b):
    while a or b:
        na = re.match(r"^[^0-9]*", a).group(0)
        nb = re.match(r"^[^0-9]*", b).group(0)
        for i in range(max(len(na), len(nb))):
            ca = _order(na[i]) if i < len(na) else 0
            cb = _order(nb[i]) if i < len(nb) else 0
            if ca != cb:
                return -1 if ca < cb else 1
        a, b = a[len(na):], b[len(nb):]
        da = re.match(r"^[0-9]*", a).group(0)
        db = re.match(r"^[0-9]*", b).group(0)
        if int(da or 0) != int(db or 0):
            return -1 if int(da or 0) < int(db or 0) else 1
        a, b = a[len(da):], b[len(db):]
    return 0


def version_cmp(a, b):
    """dpkg's order of two package versions."""
    def split(v):
        e, _, rest = v.rpartition(":") if ":" in v else ("0", "", v)
        up, _, rev = rest.rpartition("-") if "-" in rest else (rest, "", "0")
        return int(e or 0), up, rev
    ea, ua, ra = split(a)
    eb, ub, rb = split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _cmp_part(ua, ub) or _cmp_part(ra, rb)


class VKey:
    def __init__(self, v):
        self.v = v

    def __lt__(self, o):
        return version_cmp(self.v, o.v) < 0


def series_of(version):
    """'6.17' of '6.17.8-1~bpo13+1', '7.3' of '7.3~rc7-1~exp1'."""
    m = re.match(r"^(\d+)\.(\d+)", version)
    return "%s.%s" % m.groups() if m else ""


def series_key(s):
    return tuple(int(x) for x in re.findall(r"\d+", s)) or (0,)


def upstream_of(version):
    return version.rsplit("-", 1)[0]


# ------------------------------------------------------ the archive

def _stanzas(path):
    out = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], capture_output=True,
                         text=True, errors="replace").stdout
    for block in out.split("\n\n"):
        f = {}
        for line in block.splitlines():
            if line[:1] not in (" ", "\t") and ":" in line:
                k, _, v = line.partition(":")
                f[k] = v.strip()
        if f:
            yield f


def _suite_of_list(path):
    m = re.search(r"_dists_([^_]+)_main_binary-", os.path.basename(path))
    return m.group(1) if m else ""


def build_catalog():
    """The kernel builds of every suite's package list, as the catalog:
    {"made": time, "builds": [{"version", "series", "abi", "suites",
    "packages": ["name=version"], "missing": [kinds]}]}."""
    from .setup import apt_home
    builds = {}
    for path in sorted(glob.glob(apt_home(APT_NAME) + "/lists/*_Packages*")):
        suite = _suite_of_list(path)
        if suite not in KERNEL_SUITES:
            continue
        have, images = set(), []
        for f in _stanzas(path):
            m = PKG_RE.match(f.get("Package", ""))
            if not m:
                continue
            have.add((f["Package"], f.get("Version", "")))
            if m.group(1) == "image":
                images.append((f, m.group(2)))
        for f, abi in images:
            ver = f.get("Version", "")
            need = [f["Package"]]
            for group in (f.get("Depends", "") + "," + f.get("Pre-Depends", "")).split(","):
                d = group.split("|")[0].split("(")[0].strip()
                if PKG_RE.match(d) and d not in need:
                    need.append(d)
            # linux-base holds the config and module lists, no image nor
            # module: a build without it (6.18 in trixie-backports) boots.
            absent = [d for d in need if (d, ver) not in have]
            missing = [PKG_RE.match(d).group(1) for d in absent
                       if PKG_RE.match(d).group(1) != "base"]
            b = builds.setdefault(ver, {"version": ver, "series": series_of(ver), "abi": abi,
                                        "suites": [], "packages": ["%s=%s" % (d, ver) for d in need
                                                                   if d not in absent],
                                        "missing": missing})
            if suite not in b["suites"]:
                b["suites"].append(suite)
            if not missing:  # complete in this suite
                b["missing"] = []
    cat = {"made": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "builds": sorted(builds.values(), key=lambda b: VKey(b["version"]))}
    os.makedirs(os.path.dirname(CATALOG), exist_ok=True)
    write_text(CATALOG + ".new", json.dumps(cat, indent=1) + "\n")
    os.replace(CATALOG + ".new", CATALOG)
    return cat


def catalog(refresh=False):
    """The catalog, made from the archive's lists the first time (and with
    refresh)."""
    from .setup import apt_have_lists, apt_init, apt_update
    if not refresh and os.path.isfile(CATALOG):
        return json.loads(read_text(CATALOG))
    apt_init(APT_NAME, KERNEL_SUITES)
    if refresh or not apt_have_lists(APT_NAME):
        apt_update(APT_NAME)
    return build_catalog()


def series_table(cat):
    """{series: {"build": newest complete build or None, "newest": newest
    build, "reason": why none is complete}}, ordered by series."""
    out = {}
    for b in cat["builds"]:
        s = out.setdefault(b["series"], {"build": None, "newest": None, "reason": ""})
        s["newest"] = b
        if not b["missing"]:
            s["build"] = b
    for s in out.values():
        if not s["build"]:
            kinds = sorted(set(s["newest"]["missing"]))
            s["reason"] = "; ".join(REASONS.get(k, "no linux-%s package in the archive" % k)
                                    for k in kinds)
    return dict(sorted(out.items(), key=lambda kv: series_key(kv[0])))


def available_series(cat=None):
    """Every series with a complete build, oldest first."""
    return [s for s, e in series_table(cat or catalog()).items() if e["build"]]


def resolve(name, cat=None):
    """The catalog's build a kernel name stands for (or die saying why)."""
    cat = cat or catalog()
    complete = [b for b in cat["builds"] if not b["missing"]]
    if name in ALIASES:
        c = [b for b in complete if set(b["suites"]) & set(ALIASES[name])]
        if not c:
            die("kernel '%s': no complete kernel build in %s" % (name, " ".join(ALIASES[name])))
        return c[-1]
    if re.fullmatch(r"\d+\.\d+", name):
        t = series_table(cat)
        if name not in t:
            die("kernel '%s': the archive serves no series %s (lab list shows those it does)"
                % (name, name))
        if not t[name]["build"]:
            die("kernel %s: %s (newest build %s)" % (name, t[name]["reason"],
                                                     t[name]["newest"]["version"]))
        return t[name]["build"]
    exact = [b for b in cat["builds"] if name in (b["version"], upstream_of(b["version"]))]
    if exact:
        b = exact[-1]
        if b["missing"]:
            die("kernel %s: %s" % (name, "; ".join(REASONS.get(k, k) for k in b["missing"])))
        return b
    die("kernel '%s': not a series (6.17), suite alias (%s) or version the archive serves "
        "(lab list)" % (name, ", ".join(ALIASES)))


# ------------------------------------------------------ the cache

def cached_dirs():
    """{package version: cache directory} of every unpacked build."""
    out = {}
    for f in sorted(glob.glob(os.path.join(CACHE, "kernels", "*", "info"))):
        d = os.path.dirname(f)
        if os.path.islink(d):
            continue
        v = read_info(f).get("K_PKGVER")
        if v and (v not in out or os.path.basename(d) == v):
            out[v] = d
    return out


def fetch_build(b):
    """Download and unpack build B into $CACHE/kernels/VERSION (once:
    other processes wait for the first)."""
    from .setup import fetch_deb, kernel_layout, prepare_modules, unpack_deb
    os.makedirs(os.path.join(CACHE, "kernels"), exist_ok=True)
    with open(os.path.join(CACHE, "kernels", ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        have = cached_dirs().get(b["version"])
        if have:
            return have
        t0 = time.time()
        log("kernel %s: fetching %s from %s (first use)" % (b["series"], b["version"],
                                                           " ".join(b["suites"])))
        d = os.path.join(CACHE, "kernels", b["version"])
        debs = [fetch_deb(APT_NAME, *p.split("=", 1)) for p in b["packages"]]
        new = d + ".new"
        shutil.rmtree(new, ignore_errors=True)
        os.makedirs(new + "/root")
        for deb in debs:
            unpack_deb(deb, new + "/root")
        rel, image, moddir, config = kernel_layout(new + "/root")
        prepare_modules(moddir, new + "/nvme-modules")
        write_info(new + "/info", {
            "K_SUITE": b["version"], "K_PKGS": " ".join(b["packages"]), "K_PKGVER": b["version"],
            "K_VERSION": upstream_of(b["version"]), "K_RELEASE": rel,
            "K_IMAGE": d + image[len(new):], "K_CONFIG": d + config[len(new):] if config else "",
            "K_SERIES": b["series"], "K_FROM": " ".join(b["suites"])})
        shutil.rmtree(d, ignore_errors=True)
        os.rename(new, d)
        log("kernel %s: ready %s in %.0f s" % (b["series"], rel, time.time() - t0))
        return d


def kernel_info(name, fetch=True):
    """The info of the build NAME stands for, fetched on first use:
    K_SUITE (its cache directory's name, which boot.py passes to kdir()),
    K_NAME (NAME), K_SERIES, K_FROM (the suites that serve it), K_PKGS,
    K_PKGVER, K_VERSION, K_RELEASE, K_IMAGE, K_CONFIG.  A name that is a
    cache directory of the lab before series (bookworm, trixie, sid) is
    used as it is when the archive's lists were never read."""
    legacy = os.path.join(CACHE, "kernels", name, "info")
    if not os.path.isfile(CATALOG) and os.path.isfile(legacy) and not os.path.islink(
            os.path.dirname(legacy)):
        k = read_info(legacy)
        b = {"series": series_of(k["K_PKGVER"]), "suites": [name]}
        d = os.path.dirname(legacy)
    else:
        b = resolve(name)
        d = cached_dirs().get(b["version"])
        if not d:
            if not fetch:
                return None
            d = fetch_build(b)
        k = read_info(d + "/info")
    k.setdefault("K_SERIES", b["series"])
    if not k.get("K_FROM"):
        k["K_FROM"] = " ".join(b["suites"])
    k["K_NAME"] = name
    k["K_SUITE"] = os.path.basename(d)
    return k
