#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The module graph of both libraries, from their object files.

A module is one source file.  Module A calls module B when A's object
needs a symbol B's defines.  Asserts:
  - within libnvmeta and within libnvmeta-check, no module calls one that
    calls it back, directly or around a circle: the modules form a stack;
  - libnvmeta-check calls into libnvmeta only through its exports (the
    names in lib/libnvmeta.map), never a hidden symbol;
  - libnvmeta calls nothing of libnvmeta-check.
Prints each library's modules bottom up, each with what it calls.

usage: module-graph.py LIBNVMETA_MAP NVMETA_OBJDIR CHECK_OBJDIR
"""
import re
import subprocess
import sys
from pathlib import Path


def symbols(obj):
    """(defined, undefined) global symbol names of one object file."""
    out = subprocess.run(["nm", "-g", str(obj)], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "U":
            undefined.add(f[1])
        elif len(f) == 3 and f[1] in "TDBRVW":
            defined.add(f[2])
    return defined, undefined


def modules(objdir):
    """{module: (defined, undefined)} of the objects under @objdir."""
    mods = {}
    for obj in sorted(Path(objdir).glob("*.o")):
        mods[obj.name.split(".")[0]] = symbols(obj)
    if not mods:
        sys.exit(f"module-graph: no object files in {objdir}")
    return mods


def edges(mods, owner):
    """{module: {callee module: [symbols]}} for calls inside one library."""
    out = {m: {} for m in mods}
    for m, (_, undef) in mods.items():
        for s in sorted(undef):
            o = owner.get(s)
            if o and o != m:
                out[m].setdefault(o, []).append(s)
    return out


def stack(name, graph):
    """Modules bottom up (callees first); exits naming a circle."""
    order, state = [], {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        if state.get(m) == "open":
            circle = path[path.index(m):] + [m]
            sys.exit(f"module-graph: {name}: circle {' -> '.join(circle)}")
        state[m] = "open"
        for callee in sorted(graph[m]):
            visit(callee, path + [callee])
        state[m] = "done"
        order.append(m)

    for m in sorted(graph):
        visit(m, [m])
    return order


def show(name, order, graph):
    print(f"{name}, bottom up:")
    for m in order:
        calls = ", ".join(sorted(graph[m])) or "-"
        print(f"  {m:12} calls {calls}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    exported = set(re.findall(r"^\s+(nvmeta_\w+);", Path(sys.argv[1]).read_text(), re.M))
    lib, chk = modules(sys.argv[2]), modules(sys.argv[3])
    lib_owner = {s: m for m, (d, _) in lib.items() for s in d}
    chk_owner = {s: m for m, (d, _) in chk.items() for s in d}

    lib_graph, chk_graph = edges(lib, lib_owner), edges(chk, chk_owner)
    bad = sorted({f"{m} -> {chk_owner[s]} ({s})" for m, (_, u) in lib.items()
                  for s in u if s in chk_owner})
    if bad:
        sys.exit("module-graph: libnvmeta calls libnvmeta-check: " + "; ".join(bad))
    bad = sorted({f"{m} uses {s} ({lib_owner[s]}.c)" for m, (_, u) in chk.items()
                  for s in u if s in lib_owner and s not in exported})
    if bad:
        sys.exit("module-graph: libnvmeta-check reaches past libnvmeta's API: " +
                 "; ".join(bad))
    show("libnvmeta", stack("libnvmeta", lib_graph), lib_graph)
    show("libnvmeta-check (on libnvmeta's exports)", stack("libnvmeta-check", chk_graph),
         chk_graph)
    print(f"module-graph: {len(lib)} + {len(chk)} modules, no circle; the checker uses "
          f"{len({s for _, u in chk.values() for s in u if s in exported})} of "
          f"{len(exported)} exports and nothing hidden")


if __name__ == "__main__":
    main()
