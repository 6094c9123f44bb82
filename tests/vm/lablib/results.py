# SPDX-License-Identifier: MIT
"""What one boot of a matrix left (TAG.out, TAG.err, TAG.result): the guest
suite's steps, nvmeta-check's cases from its --json, the known defects
they match (known-defects.tsv), the result word and the boot's JSON."""
import json
import os
import re
import subprocess
import tempfile

from .common import DEFECTS_FILE, read_text

# Kernel log lines (guest-init.sh's KPATTERN matches) that a known defect
# explains, by its id in known-defects.tsv: in a boot where one of that
# defect's nvmeta-check cases matched, such lines are its evidence.  Any
# other kernel log line still fails the boot.  The heap overrun of the
# short-metadata bounce read is reported by slub_debug's red zones (BUG
# kmalloc-N ..., and on 6.12 and 7.2 a WARNING in mm/slub.c each), and the
# damaged heap may oops the checker afterwards.  The kernel's log is text
# only: these stay regular expressions over its lines.
KLOG_EXPLAINED = [
    ("kernel-short-metadata-heap",
     r"^\[ *[0-9.]+\] (BUG kmalloc-[0-9]+ \(|WARNING: (CPU: [0-9]+ PID: [0-9]+ at )?mm/slub\.c:"
     r"[0-9]+ |Call Trace:|Oops: general protection fault)"),
]
BAD_VERDICTS = ("KERNEL-DEFECT", "DEVICE-ERROR")
DEFECT_COLUMNS = ("id", "series", "fixed", "ctrl", "preset", "case", "evidence", "kills", "what")
# The guest suite's steps that run nvmeta-check, by road; their cases are
# judged one by one (a known defect may explain them), not by exit status.
CHECK_STEPS = {"nvmeta-check": "passthrough", "nvmeta-check-rw": "rw"}
# In a checker step that streams KTAP, the lines that are not KTAP's: the
# JSON's (which begin with a brace, a bracket, a space or a comma), and
# nvmeta-check's and libnvmeta's messages on stderr.
KTAP_NOT = ("{", "}", "[", "]", " ", ",", "nvmeta")


def known_defects():
    """known-defects.tsv: columns separated by two or more spaces."""
    rows = []
    for line in read_text(DEFECTS_FILE).splitlines():
        f = re.split(r"  +", line)
        if not line.startswith("#") and len(f) >= 8:
            rows.append(dict(zip(DEFECT_COLUMNS, f + [""])))
    return rows


def series_of(version):
    """The series of a kernel version: '6.17' of '6.17.13', '7.3' of '7.3~rc7'."""
    m = re.match(r"^(\d+)\.(\d+)", version or "")
    return "%s.%s" % m.groups() if m else ""


def _skey(s):
    return tuple(int(x) for x in s.split("."))


def series_in(series, spec):
    """Whether SERIES is in a known-defects.tsv range: '.' (any), '-'
    (none), or comma-separated items 'A' (that series), 'A-B' (A to B),
    'A-' (A and later), '-B' (up to B)."""
    if spec == ".":
        return True
    if spec == "-" or not series:
        return False
    k = _skey(series)
    for item in spec.split(","):
        lo, dash, hi = item.strip().partition("-")
        if not dash:
            if k == _skey(lo):
                return True
        elif (not lo or _skey(lo) <= k) and (not hi or k <= _skey(hi)):
            return True
    return False


def read_lines(path):
    text = read_text(path, "")
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n") if text else []


def read_result(path):
    """TAG.result (lab run's NVMETA_LAB_RESULT): status rc secs version resets."""
    w = read_text(path, "").split()
    if not w:
        return {"status": 125, "rc": "-", "secs": "0", "ver": "?", "resets": 0}
    w += ["0"] * (5 - len(w))
    return {"status": int(w[0]), "rc": w[1], "secs": w[2], "ver": w[3],
            "resets": int(w[4]) if w[4].isdigit() else 0}


def classify(status, rc, resets=0):
    """The result word of a boot.  RESET: the guest's NVMe driver timed out
    a command, whatever the command's status: no test asks for that, so
    the boot is neither a pass nor a verdict on the tests."""
    if rc != "-" and resets > 0:
        return "RESET"
    if status == 0:
        return "PASS"
    if status == 124:
        return "TIMEOUT" if rc == "-" else "FAIL(%s)" % rc
    if status == 125:
        return "BOOTFAIL" if rc == "-" else "FAIL(%s)" % rc
    if status == 126:
        return "KWARN" if rc in ("-", "0") else "FAIL(%s)" % rc
    return "FAIL(%d)" % status


def parse_output(lines):
    """The guest suite's steps ("@@STEP name" / "@@RESULT name status"
    lines), nvmeta-check's JSON within its steps (nvmeta-check: the
    passthrough road; nvmeta-check-rw: the attribute road, or its "@@ROAD
    rw closed: REASON" line), and nvmeta-info --json (nvmeta-info-json).
    nvmeta-check --json puts each case and each top-level member on a line
    of its own, line buffered, and a guest that dies leaves its JSON
    unfinished: read it a line at a time, not as one document."""
    steps, checks, cases, suite_end, step = [], {}, [], None, ""
    info_lines, info, road_rw, probe_buf = [], None, None, None
    ktap = {}
    for i, line in enumerate(lines):
        w = line.split()
        # "@@KTAP STEP" (guest-suite.sh's ktap_on): that checker step's run
        # streams its KTAP among its JSON (nvmeta-check --json --ktap -).
        if line.startswith("@@KTAP ") and len(w) > 1:
            ktap[w[1]] = {"lines": []}
            continue
        if line.startswith("@@KTAP-NONE ") and len(w) > 1:
            ktap[w[1]] = {"lines": [], "none": line.split(" ", 2)[2:]}
            continue
        if line.startswith("@@STEP "):
            step = w[1] if len(w) > 1 else ""
            steps.append({"step": step, "status": None, "first": i + 1, "last": None})
        elif line.startswith("@@RESULT ") and len(w) > 2:
            for s in reversed(steps):
                if s["step"] == w[1]:
                    s["status"], s["last"] = int(w[2]), i - 1
                    break
            if w[1] == "nvmeta-info-json":
                try:
                    info = json.loads("\n".join(info_lines[next(
                        (j for j, x in enumerate(info_lines) if x.startswith("{")), 0):]))
                except (ValueError, StopIteration):
                    info = None
        elif line.startswith("@@SUITE-END ") and len(w) > 1:
            suite_end = int(w[1])
        elif line.startswith("@@ROAD rw closed: "):
            road_rw = line[len("@@ROAD rw "):]
        elif step == "nvmeta-info-json":
            info_lines.append(line)
        elif step in CHECK_STEPS and step in ktap and not line.startswith(KTAP_NOT):
            ktap[step]["lines"].append(line)
        elif step in CHECK_STEPS:
            road, check = CHECK_STEPS[step], checks.setdefault(CHECK_STEPS[step], {})
            # nvmeta-check ends each case's line at once, the separator
            # before the next: ",  {...}" (older builds: "{...},").
            member = line.strip().lstrip(", ").rstrip(",")
            if probe_buf is not None:  # a "probes" object over several lines
                probe_buf.append(member)
                try:
                    check.update(json.loads("{%s}" % "\n".join(probe_buf)))
                    probe_buf = None
                except ValueError:
                    pass
                continue
            try:
                if member.startswith('{"case": '):
                    c = json.loads(member)
                    c["road"] = road
                    cases.append(c)
                elif re.match(r'"(device|kernel|format|road|summary|stopped|probes)": ', member):
                    check.update(json.loads("{%s}" % member))
            except ValueError:
                if member.startswith('"probes": '):
                    probe_buf = [member]
    if road_rw is None and "rw" in checks:
        road_rw = "open"
    return {"steps": steps, "check": checks.get("passthrough", {}), "check_rw": checks.get("rw", {}),
            "cases": cases, "suite_end": suite_end, "last_step": step, "info": info,
            "road_rw": road_rw, "ktap": ktap}


# TAP::Parser's reading of a KTAP file (prove's parser): passes (without
# skips and XFAILs), failures, skips, XFAILs, the plan, the test points
# run, whether the plan is good, a Bail out!, and the parse errors.
KTAP_COUNTS = r"""
use TAP::Parser;
my $p = TAP::Parser->new({ source => $ARGV[0] });
my ($x, $bail) = (0, 0);
while (my $r = $p->next) {
    $x++ if $r->is_test && $r->is_ok && $r->description =~ /# XFAIL /;
    $bail = 1 if $r->is_bailout;
}
printf "%d %d %d %d %d %d %d %d\n", scalar($p->passed) - scalar($p->skipped) - $x,
    scalar($p->failed), scalar($p->skipped), $x, $p->tests_planned // -1, $p->tests_run,
    $p->is_good_plan ? 1 : 0, $bail;
print "$_\n" for $p->parse_errors;
"""


def ktap_validate(lines, check):
    """One checker step's KTAP against the same run's JSON (CHECK: its
    top-level members): prove must read it (exit 0 unless a case failed or
    the run stopped), TAP::Parser find no parse error, the first line be
    'KTAP version 1', and the counts (pass, skip, xfail = kernel defects,
    fail = failures and device errors), the plan and the kselftest totals
    line be the JSON's.  Returns (ok, what): what says the counts, or why
    not."""
    if not lines:
        return False, "no KTAP (empty)"
    if lines[0] != "KTAP version 1":
        return False, "the first line is not 'KTAP version 1': %r" % lines[0][:80]
    # .tap: TAP::Parser reads the file as TAP (another name it would run as perl).
    with tempfile.NamedTemporaryFile("w", suffix=".tap", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    try:
        try:
            prove = subprocess.run(["prove", "--exec", "cat", f.name], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True)
            tp = subprocess.run(["perl", "-e", KTAP_COUNTS, f.name], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True)
        except OSError as e:
            return False, "prove or perl cannot run (apt install perl): %s" % e
    finally:
        os.unlink(f.name)
    out = tp.stdout.splitlines()
    if tp.returncode or not out or len(out[0].split()) != 8:
        return False, "TAP::Parser (perl) did not read it: %s" % " ".join(out)[:200]
    p, fl, sk, xf, plan, run, good, bail = (int(x) for x in out[0].split())
    # A run that stopped (Bail out!) ran short of its plan: so it says.
    errors = [x for x in out[1:] if not (bail and x.startswith("Bad plan."))]
    if errors:
        return False, "TAP::Parser: %s" % "; ".join(errors)[:300]
    got = "pass %d skip %d xfail %d fail %d, plan %d, %d points%s" % (
        p, sk, xf, fl, plan, run, ", Bail out!" if bail else "")
    s = check.get("summary")
    if s:
        want = (s["pass"], s["skip"], s["kernel_defect"], s["fail"] + s["device_error"])
        if (p, sk, xf, fl) != want:
            return False, "KTAP counts %s, the JSON pass %d skip %d xfail %d fail %d" % ((got,) + want)
        total = "# Totals: pass:%d fail:%d xfail:%d xpass:0 skip:%d error:0" % (
            want[0], want[3], want[2], want[1])
        if total not in lines:
            return False, "no '%s' line (the JSON's counts)" % total
        stopped = "stopped" in check
        if stopped != bool(bail) or good != (not stopped):
            return False, "KTAP %s, but the JSON %s" % (
                got, "stopped: %s" % check["stopped"] if stopped else "ran every case")
    elif plan != 0 and not bail:
        return False, "KTAP %s, but the JSON has no summary (the run never started)" % got
    bad = fl > 0 or bail
    if (prove.returncode != 0) != bad:
        return False, "prove exited %d on KTAP %s: %s" % (
            prove.returncode, got, " | ".join(prove.stdout.splitlines()[-3:]))
    return True, "%s, prove %s" % (got, "PASS" if not prove.returncode else "FAIL (as the JSON)")


def ktap_judge(o):
    """Each checker step's KTAP (its lines in the step, after guest-suite.sh's
    "@@KTAP STEP") judged by ktap_validate against its JSON.  A step that the
    guest died in has no whole KTAP to judge; a step that finished must have
    it.  Returns [(step, ok or None (not judged), what)]."""
    res = []
    for s in o["steps"]:
        if s["step"] not in CHECK_STEPS:
            continue
        k = o["ktap"].get(s["step"])
        if k and "none" in k:
            res.append((s["step"], None, "no KTAP: %s" % " ".join(k["none"])))
        elif s["status"] is None:
            res.append((s["step"], None, "not whole: the guest died in the step (%d KTAP lines)" % (
                len(k["lines"]) if k else 0)))
        elif not k:
            res.append((s["step"], False, "the step finished without saying it has KTAP (@@KTAP)"))
        else:
            ok, what = ktap_validate(k["lines"], o["check_rw"] if s["step"] == "nvmeta-check-rw"
                                     else o["check"])
            res.append((s["step"], ok, what))
    return res


def match_defect(defects, case, ver, q, p):
    """The first known-defects.tsv row that explains a case, or None: the
    kernel's series within the row's series (where it was seen) and not in
    its fixed (where it was seen fixed), its controller, preset and case
    name, and the evidence regex over the case's verdict and detail."""
    if case.get("verdict") not in BAD_VERDICTS:
        return None
    text = "%s %s" % (case["verdict"], case.get("detail", ""))
    s = series_of(ver)
    for d in defects:
        if d["case"] != "kernel-log" and (series_in(s, d["series"]) and not series_in(s, d["fixed"]) and re.search(d["ctrl"], q)
                and re.search(d["preset"], p) and re.search(d["case"], case.get("case", ""))
                and re.search(d["evidence"], text)):
            return d
    return None


def case_row(c):
    """A case as nvmeta-check's text table prints it (for people: the
    evidence lines of TAG.out.defects)."""
    skip = c.get("verdict") == "skip"
    return "%-26s %-4s %-5s %6u  %-11s %-7s %-7s %-13s %s" % (
        c.get("case"), c.get("subject"), c.get("dir"), c.get("nlb", 0),
        "-" if skip else c.get("layout"), "-" if skip else c.get("predicted"), c.get("observed"),
        c.get("verdict"), c.get("detail"))


def analyse(out_path, err_path, ver, q, p, status, rc):
    """A failed boot whose failures are all registered defects (kernel or
    emulated device) is a known defect.  Returns the boot's parsed output,
    each case's matched defect, the evidence lines (known_defect, kernel
    log) and whether the known defects explain the whole failure."""
    defects = known_defects()
    o = parse_output(read_lines(out_path))
    # The guest died (or hung) while the command ran.
    died = status in (124, 126) and rc == "-"
    # A kernel-log row (case "kernel-log": a kernel oops in no nvmeta-check
    # case) matches a kernel line of the boot, or of its serial console
    # when the guest died or hung; it explains the whole boot.
    klog = [x[len("guest-kernel: "):] for x in read_lines(err_path) if x.startswith("guest-kernel: ")]
    if died:
        klog += [x for x in read_lines(re.sub(r"\.out$", ".serial", out_path))
                 if re.match(r"^\[ *[0-9]+\.[0-9]+\] ", x) and x not in klog]
    s = series_of(ver)
    oops = next((d for d in defects if d["case"] == "kernel-log" and series_in(s, d["series"])
                 and not series_in(s, d["fixed"]) and re.search(d["ctrl"], q)
                 and re.search(d["preset"], p) and any(re.search(d["evidence"], x) for x in klog)),
                None)
    if oops:
        line = next(x for x in klog if re.search(oops["evidence"], x))
        ev = [("known", oops["id"], "known defect %s (kernel %s, qemu %s, %s): kernel log: %s" % (
            oops["id"], ver, q, p, line.strip()))]
        ev += [("klog", oops["id"], x) for x in klog]
        ok = not died or oops["kills"] == "yes"
        for c in o["cases"]:
            c["_defect"] = match_defect(defects, c, ver, q, p)
        return {"output": o, "evidence": ev, "ok": ok, "died": died}
    other = sum(1 for s in o["steps"] if s["status"] not in (None, 0) and s["step"] not in CHECK_STEPS)
    known, last, matched, evidence = 0, None, [], []
    for c in o["cases"]:
        c["_defect"] = d = match_defect(defects, c, ver, q, p)
        if c.get("verdict") == "FAIL" or (c.get("verdict") in BAD_VERDICTS and not d):
            other += 1
        elif d:
            known, last = known + 1, d
            matched.append(d["id"])
            evidence.append(("known", d["id"], "known defect %s (kernel %s, qemu %s, %s): %s" % (
                d["id"], ver, q, p, case_row(c))))
    # The guest's kernel log lines are on the run's stderr ("guest-kernel: ").
    for line in read_lines(err_path):
        if not line.startswith("guest-kernel: "):
            continue
        line = line[len("guest-kernel: "):]
        # A guest that died leaves its last kernel lines: kills=yes explains them.
        if died:
            evidence.append(("klog", last["id"] if last else None, line))
            continue
        who = next((i for i, rx in KLOG_EXPLAINED if i in matched and re.search(rx, line)), None)
        if who:
            evidence.append(("klog", who, line))
        else:
            other += 1
    ok = known > 0 and not other and (not died or (
        o["last_step"] in CHECK_STEPS and last["kills"] == "yes"))
    return {"output": o, "evidence": evidence, "ok": ok, "died": died}


def evidence_text(a):
    """TAG.out.defects: the matched cases and the kernel log they explain."""
    died = " (the guest died)" if a["died"] else ""
    return "".join(e[2] + "\n" if e[0] == "known" else "  kernel log%s: %s\n" % (died, e[2])
                   for e in a["evidence"])


def check_header(check, cases):
    """nvmeta-check's heading, as its text output words it, from its JSON
    (the cases of the first run: the text counts the whole table, which the
    lab's guest suite runs all of)."""
    if not check.get("device"):
        return ""
    f, runs = check.get("format", {}), max([c.get("run", 1) for c in cases] or [1])
    return "nvmeta-check %s: kernel %s, format %s+%s%s pi %s, road %s, %d cases x %d run%s" % (
        check["device"], check.get("kernel"), f.get("lba"), f.get("ms"),
        " extended" if f.get("extended_lba") else "", f.get("pi_type"),
        "rw (PI attribute)" if check.get("road") == "rw" else check.get("road"),
        sum(c.get("run", 1) == 1 for c in cases), runs, "" if runs == 1 else "s")


def check_summary(check):
    """The summary line of a run that finished, else None."""
    s = check.get("summary")
    if not s or "stopped" in check:
        return None
    return "%d passed, %d failed, %d skipped, %d kernel defects, %d device errors" % (
        s["pass"], s["fail"] + s["kernel_defect"] + s["device_error"], s["skip"],
        s["kernel_defect"], s["device_error"])


def boot_json(tag_path, res, ver, q, p, status, rc):
    """What one boot of the matrix left, as JSON members: the guest suite's
    steps and their exit status (null: the step never finished),
    nvmeta-check's cases (buffer kind, direction, blocks, layout, predicted
    and observed path, verdict, detail, and the id of the known-defects.tsv
    row that explains it), the known defects found (id and that row's
    description), the guest kernel's log lines they explain, all the
    guest's kernel log lines and, for a boot that failed otherwise, the last
    lines of each step that failed and the tails of its output and stderr.
    A case's defect is the row the matrix's own analysis matched, so what
    the JSON says matched is what the matrix counted."""
    a = analyse(tag_path + ".out", tag_path + ".err", ver, q, p, status, rc)
    o = a["output"]
    out_lines = read_lines(tag_path + ".out")
    err = read_lines(tag_path + ".err")
    b = {"suite_end": o["suite_end"],
         "steps": [{"step": s["step"], "status": s["status"]} for s in o["steps"]]}
    cases, kd = [], []
    for c in o["cases"]:
        d, skip = c["_defect"], c.get("verdict") == "skip"
        if d and {"id": d["id"], "what": d["what"]} not in kd:
            kd.append({"id": d["id"], "what": d["what"]})
        cases.append({"case": c.get("case"), "buf": c.get("subject"), "dir": c.get("dir"),
                      "blocks": c.get("nlb"), "layout": "-" if skip else c.get("layout"),
                      "predicted": "-" if skip else c.get("predicted"),
                      "observed": c.get("observed"), "verdict": c.get("verdict"),
                      "detail": c.get("detail"), "defect": d["id"] if d else None,
                      "road": c.get("road"), "errno": c.get("errno"),
                      "expected_errno": c.get("expected_errno")})
    pt = [c for c in cases if c["road"] == "passthrough"]
    rw = [c for c in cases if c["road"] == "rw"]
    for e in a["evidence"]:  # a kernel-log row explains the boot
        d = next((x for x in known_defects() if x["id"] == e[1]), None)
        if e[0] == "known" and d and {"id": d["id"], "what": d["what"]} not in kd:
            kd.append({"id": d["id"], "what": d["what"]})
    b["check"] = None if not o["check"] and not pt else {
        "header": check_header(o["check"], pt), "summary": check_summary(o["check"]),
        "cases": pt}
    if b["check"] and "probes" in o["check"]:
        b["check"]["probes"] = o["check"]["probes"]
    # --roads (guest-suite.sh): the attribute road's cases, whether the
    # kernel has the road ("open", or "closed: REASON"), and what
    # nvmeta-info --json reported.
    if o["check_rw"] or rw:
        b["check_rw"] = {"header": check_header(o["check_rw"], rw),
                         "summary": check_summary(o["check_rw"]), "cases": rw}
        if "probes" in o["check_rw"]:
            b["check_rw"]["probes"] = o["check_rw"]["probes"]
    if o["road_rw"]:
        b["road_rw"] = o["road_rw"]
    if o["info"] is not None:
        b["info"] = o["info"]
    b["known_defects"] = kd
    # The checker's KTAP of each step, judged (matrix.py fails the boot on
    # an invalid one): valid true, false, or null (the guest died first).
    b["ktap"] = [{"step": x[0], "valid": x[1], "what": x[2]} for x in ktap_judge(o)]
    # Evidence only where the matrix looked for known defects (not PASS,
    # not RESET), as TAG.out.defects holds it.
    b["evidence"] = [] if res in ("PASS", "RESET") else [
        {"defect": e[1], "line": e[2]} for e in a["evidence"] if e[0] == "klog"]
    b["kernel_log"] = [x[len("guest-kernel: "):] for x in err if x.startswith("guest-kernel: ")]
    # The NVMe driver timed out a command: why a boot is RESET.
    b["nvme_timeouts"] = [x[len("guest-nvme: "):] for x in err if x.startswith("guest-nvme: ")]
    if res not in ("PASS", "KNOWN-DEFECT"):
        # The last lines of each step that failed or never ended
        # (nvmeta-check: its cases are in "check").
        b["failed_steps"] = []
        for s in o["steps"]:
            if s["status"] == 0 or (s["step"] in CHECK_STEPS and any(
                    c["road"] == CHECK_STEPS[s["step"]] for c in cases)):
                continue
            last = s["last"] if s["last"] is not None else len(out_lines) - 1
            b["failed_steps"].append({"step": s["step"], "status": s["status"], "tail": out_lines[
                max(s["first"], last - 14):last + 1]})
        b["output_tail"] = out_lines[-20:]
        b["stderr_tail"] = [x for x in err if not x.startswith(("guest-kernel: ", "guest-nvme: "))][-20:]
    return b


def kernel_words(err_path):
    """The words the boot's kernel command line got, from lab run's "boot
    LABEL ..." line: the label ends in " [WORDS]" when any."""
    for line in read_lines(err_path):
        m = re.match(r"^lab: boot .* \[([^]]*)\] \.\.\.$", line)
        if m:
            return m.group(1)
    return ""

