#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The man pages against the built library and tools:
#   - every symbol the shared library exports, every static inline function
#     of the public headers, and NVMETA_VERSION_CHECK have man3/<name>.3;
#   - a page that is a ".so" link points to a page that exists, and the page
#     it lands on names the symbol in its NAME section;
#   - a page of its own has the sections of its kind (man3: NAME, SYNOPSIS,
#     DESCRIPTION, RETURN VALUE, SEE ALSO);
#   - every tool (nvmeta-* executable in the given directories) has man1;
#   - every page formats with groff -man -ww without a single warning (and
#     passes mandoc -Tlint where mandoc is installed).
#
# usage: check-man.sh MANDIR INCLUDEDIR LIBNVMETA.so [TOOLDIR...]
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 MANDIR INCLUDEDIR LIBNVMETA.so [TOOLDIR...]" >&2
	exit 2
fi
man=$1 inc=$2 lib=$3
shift 3
fail=0
err() {
	echo "check-man: $*" >&2
	fail=1
}

for tool in nm groff; do
	command -v $tool >/dev/null || { echo "check-man: $tool not installed" >&2; exit 2; }
done
[ -d "$man/man3" ] || { echo "check-man: no $man/man3" >&2; exit 2; }
[ -f "$lib" ] || { echo "check-man: no $lib" >&2; exit 2; }

# Exported functions and objects: version nodes (NVMETA_0.1, type A) are
# not symbols a program calls.  Names come as nvmeta_prep@@NVMETA_0.1.
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ -n "$exported" ] || { echo "check-man: $lib exports nothing" >&2; exit 2; }
inline=$(grep -ho 'static inline [a-z_ 0-9*]*[ *]\(nvmeta_[a-z_0-9]*\)(' "$inc"/nvmeta.h "$inc"/nvmeta/*.h |
	sed 's/.*[ *]\(nvmeta_[a-z_0-9]*\)(/\1/' | sort -u)

# The page a name lands on: a ".so man3/x.3" link is followed, once.
resolve() {
	first=$(head -n 1 "$1")
	case $first in
	.so\ *) echo "$man/${first#.so }" ;;
	*) echo "$1" ;;
	esac
}

# The NAME section of a page: the lines between ".SH NAME" and the next .SH.
name_section() {
	sed -n '/^\.SH NAME/,/^\.SH/p' "$1" | sed '1d;$d'
}

nsyms=0
for sym in $exported $inline NVMETA_VERSION_CHECK; do
	nsyms=$((nsyms + 1))
	page=$man/man3/$sym.3
	if [ ! -f "$page" ]; then
		err "$sym: no man page ($page)"
		continue
	fi
	target=$(resolve "$page")
	if [ ! -f "$target" ]; then
		err "$page: .so link to $target, which does not exist"
		continue
	fi
	name_section "$target" | grep -qw -- "$sym" ||
		err "$sym: $target does not name it in its NAME section"
done

# Pages of their own: the sections of their kind.  Links: one line.
for page in "$man"/man[137]/*.[137]; do
	first=$(head -n 1 "$page")
	case $first in
	.so\ *)
		[ "$(wc -l < "$page")" -eq 1 ] || err "$page: a .so link must be one line"
		[ -f "$man/${first#.so }" ] || err "$page: .so link to ${first#.so }, which does not exist"
		continue
		;;
	esac
	case $page in
	*.3) sections="NAME SYNOPSIS DESCRIPTION RETURN_VALUE SEE_ALSO" ;;
	*) sections="NAME SYNOPSIS DESCRIPTION SEE_ALSO" ;;
	esac
	for s in $sections; do
		grep -q "^\.SH \"\{0,1\}$(echo $s | tr _ ' ')\"\{0,1\}\$" "$page" ||
			err "$page: no $(echo $s | tr _ ' ') section"
	done
	grep -q '^\.TH ' "$page" || err "$page: no .TH line"
done

# Tools: every nvmeta-* executable built.
ntools=0
for dir in "$@"; do
	for exe in "$dir"/nvmeta-*; do
		[ -f "$exe" ] && [ -x "$exe" ] || continue
		ntools=$((ntools + 1))
		[ -f "$man/man1/$(basename "$exe").1" ] ||
			err "$(basename "$exe"): no man page ($man/man1/$(basename "$exe").1)"
	done
done
[ -f "$man/man7/nvmeta.7" ] || err "no nvmeta(7) ($man/man7/nvmeta.7)"

# Formatting: groff resolves .so against the current directory, as man(1)
# does against the manual's root.  Any warning fails the page.
npages=0
for page in "$man"/man[137]/*.[137]; do
	npages=$((npages + 1))
	rel=${page#"$man"/}
	out=$(cd "$man" && LC_ALL=C groff -man -Tutf8 -ww -z "$rel" 2>&1)
	[ -z "$out" ] || err "$rel: groff: $out"
	if command -v mandoc >/dev/null; then
		out=$(cd "$man" && mandoc -Tlint -W warning "$rel" 2>&1)
		[ -z "$out" ] || err "$rel: mandoc: $out"
	fi
done

if [ $fail -ne 0 ]; then
	echo "check-man: FAILED" >&2
	exit 1
fi
echo "check-man: $nsyms symbols with a page, $ntools tools with a page, $npages pages format cleanly"
exit 0
