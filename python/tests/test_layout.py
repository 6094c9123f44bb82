# SPDX-License-Identifier: MIT
"""The extension's struct layouts are the C compiler's (cffi API mode):
compare them with a program compiled here against the same headers.
Needs a C compiler and the headers (skipped without, as in the guest)."""
import os
import shutil
import subprocess

import pytest

from nvmeta import ffi

STRUCTS = {
    "nvmeta_dev_info": ["nsze", "lba_size", "ms", "pi_type", "guard_bits", "limits", "kernel",
                        "subsys_name"],
    "nvmeta_io": ["opcode", "flags", "nlb", "slba", "reftag", "data", "meta", "pi_checks"],
    "nvmeta_pi_format": ["block_size", "ms", "pi_type", "extended"],
    "nvmeta_pi_tags": ["ref_tag", "app_tag", "app_mask", "checks", "lba"],
    "nvmeta_pi_error": ["lba", "block", "field", "expected", "found"],
    "nvmeta_request": ["io", "pi", "pi_errors", "pi_errors_max"],
    "nvmeta_prediction": ["path", "segments", "reason"],
    "nvmeta_check_result": ["verdict", "pred", "observed", "err", "where", "bad_lba",
                            "detail"],
    "nvmeta_check_probes": ["count", "probe"],
}


def include_dirs():
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [d for d in os.environ.get("NVMETA_INCLUDE_DIR", "").split(":") if d]
    tree = os.path.join(here, "..", "..", "include")
    if os.path.exists(os.path.join(tree, "nvmeta.h")):
        dirs.append(tree)
    return dirs


@pytest.mark.skipif(not shutil.which("cc"), reason="no C compiler")
def test_layouts_match_the_compiler(tmp_path):
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <nvmeta.h>",
             "#include <nvmeta-check.h>", "int main(void) {"]
    for s, fields in STRUCTS.items():
        lines.append('printf("%s %%zu\\n", sizeof(struct %s));' % (s, s))
        for f in fields:
            lines.append('printf("%s.%s %%zu\\n", offsetof(struct %s, %s));' % (s, f, s, f))
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    cmd = ["cc", "-o", str(exe), str(src)] + ["-I" + d for d in include_dirs()]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode and "No such file" in r.stderr:
        pytest.skip("headers not found: " + r.stderr.splitlines()[0])
    assert r.returncode == 0, r.stderr
    c = dict(line.rsplit(" ", 1) for line in subprocess.run(
        [str(exe)], capture_output=True, text=True, check=True).stdout.splitlines())
    for s, fields in STRUCTS.items():
        assert int(c[s]) == ffi.sizeof("struct " + s), s
        for f in fields:
            assert int(c[s + "." + f]) == ffi.offsetof("struct " + s, f), s + "." + f
