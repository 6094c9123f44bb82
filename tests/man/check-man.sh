#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The man pages against the two libraries' headers, version scripts and
# built objects, and against the tools:
#   - libnvmeta's functions are what lib/libnvmeta.map exports, what the
#     built libnvmeta.so exports, the static inline functions of
#     <nvmeta.h> and <nvmeta/*.h>, and NVMETA_VERSION_CHECK;
#     libnvmeta-check's are what lib/check/libnvmeta-check.map exports,
#     what the built libnvmeta-check.so exports (when it is found next to
#     libnvmeta.so) and the static inline functions of <nvmeta-check.h>;
#     no name is in both;
#   - every one of them has man3/<name>.3; a page that is a ".so" link
#     points to a page that exists, and the page it lands on names the
#     function in its NAME section;
#   - the SYNOPSIS of that page includes the function's own header:
#     <nvmeta.h> (or <nvmeta/*.h>) for libnvmeta, <nvmeta-check.h> and
#     -lnvmeta-check for libnvmeta-check, and not the other library's;
#   - every man3 page of its own documents at least one of them (no page
#     left behind by a function that is gone);
#   - the section lists: the FUNCTIONS section of nvmeta(7) lists every
#     function of libnvmeta and nothing else (so none of libnvmeta-check),
#     and nvmeta(7) points to nvmeta-check(7); the FUNCTIONS section of
#     nvmeta-check(7) lists every function of libnvmeta-check and nothing
#     else.  An entry is a ".BR name (3)" (or ".B"/".IR") line there;
#   - a page of its own has the sections of its kind (man3: NAME, SYNOPSIS,
#     DESCRIPTION, RETURN VALUE, SEE ALSO);
#   - every tool (nvmeta-* executable in the given directories) has man1;
#   - every page formats with groff -man -ww without a single warning (and
#     passes mandoc -Tlint where mandoc is installed).
#
# usage: check-man.sh MANDIR INCLUDEDIR LIBNVMETA.so [TOOLDIR...]
# The version scripts are found from INCLUDEDIR: INCLUDEDIR/../lib/.
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
map=$inc/../lib/libnvmeta.map
checkmap=$inc/../lib/check/libnvmeta-check.map
for f in "$map" "$checkmap" "$inc/nvmeta.h" "$inc/nvmeta-check.h"; do
	[ -f "$f" ] || { echo "check-man: no $f" >&2; exit 2; }
done

# The global names of a version script: the lines "name;" between
# "global:" and "local:" or the node's end.
map_globals() {
	sed 's/#.*//' "$1" | awk '
		/global:/ { g = 1; next }
		/local:/ || /}/ { g = 0; next }
		g && /^[ \t]*[A-Za-z_][A-Za-z_0-9]*;[ \t]*$/ { gsub(/[ \t;]/, ""); print }'
}

# Exported functions and objects: version nodes (NVMETA_0.1, type A) are
# not symbols a program calls.  Names come as nvmeta_prep@@NVMETA_0.1.
exports() {
	nm -D --defined-only "$1" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }'
}

# The static functions a header defines: inline, or kept out of line on
# purpose (static __attribute__((...)), the name on the same line).
inlines() {
	grep -ho 'static \(inline \|__attribute__(([a-z_, ]*)) \)[a-z_ 0-9*]*[ *]\(nvmeta_[a-z_0-9]*\)(' "$@" |
		sed 's/.*[ *]\(nvmeta_[a-z_0-9]*\)(/\1/'
}

libexp=$(exports "$lib")
[ -n "$libexp" ] || { echo "check-man: $lib exports nothing" >&2; exit 2; }
libmap=$(map_globals "$map")
[ -n "$libmap" ] || { echo "check-man: $map exports nothing" >&2; exit 2; }
libfuncs=$( { echo "$libexp"; echo "$libmap"; inlines "$inc"/nvmeta.h "$inc"/nvmeta/*.h;
	echo NVMETA_VERSION_CHECK; } | sort -u)

# libnvmeta-check.so, where the build puts it: next to libnvmeta.so or in
# check/ below it.  Without it the version script alone speaks.
checklib=
for d in "$(dirname "$lib")/check" "$(dirname "$lib")"; do
	[ -f "$d/libnvmeta-check.so" ] && { checklib=$d/libnvmeta-check.so; break; }
done
chkmap=$(map_globals "$checkmap")
[ -n "$chkmap" ] || { echo "check-man: $checkmap exports nothing" >&2; exit 2; }
chkexp=
[ -n "$checklib" ] && chkexp=$(exports "$checklib")
chkfuncs=$( { echo "$chkmap"; [ -n "$chkexp" ] && echo "$chkexp"; inlines "$inc"/nvmeta-check.h; } |
	sed '/^$/d' | sort -u)

# A name in both libraries is an error of the version scripts themselves.
for sym in $(printf '%s\n%s\n' "$libfuncs" "$chkfuncs" | sort | uniq -d); do
	err "$sym: exported by both libnvmeta and libnvmeta-check"
done

# What a program includes and links for a function of one library or the
# other, as its page's SYNOPSIS must say.
is_lib() { echo "$libfuncs" | grep -qx -- "$1"; }
is_chk() { echo "$chkfuncs" | grep -qx -- "$1"; }

# The page a name lands on: a ".so man3/x.3" link is followed, once.
resolve() {
	first=$(head -n 1 "$1")
	case $first in
	.so\ *) echo "$man/${first#.so }" ;;
	*) echo "$1" ;;
	esac
}

# A section of a page: the lines between ".SH NAME" (quoted or not) and
# the next .SH, without roff's \- escapes.
section() {
	awk -v want="$2" '
		/^\.SH/ { s = $0; sub(/^\.SH[ \t]+/, "", s); gsub(/"/, "", s); in_s = (s == want); next }
		in_s' "$1" | sed 's/\\-/-/g'
}

# The names a section list holds: ".BR name (3)" and the like.
list_entries() {
	section "$1" FUNCTIONS | sed -n 's/^\.[BI]R\{0,1\} \([A-Za-z_][A-Za-z_0-9]*\) (3).*/\1/p' | sort -u
}

nsyms=0
documented=
check_page() {	# name, library ("nvmeta" or "nvmeta-check")
	sym=$1 which=$2
	nsyms=$((nsyms + 1))
	page=$man/man3/$sym.3
	if [ ! -f "$page" ]; then
		err "$sym ($which): no man page ($page)"
		return
	fi
	target=$(resolve "$page")
	if [ ! -f "$target" ]; then
		err "$page: .so link to $target, which does not exist"
		return
	fi
	documented="$documented $target"
	section "$target" NAME | grep -qw -- "$sym" ||
		err "$sym: $target does not name it in its NAME section"
	syn=$(section "$target" SYNOPSIS)
	case $which in
	nvmeta)
		echo "$syn" | grep -q '#include <nvmeta\(/[a-z]*\)\{0,1\}\.h>' ||
			err "$sym: the SYNOPSIS of $target does not include <nvmeta.h>"
		echo "$syn" | grep -q 'nvmeta-check' &&
			err "$sym: the SYNOPSIS of $target names libnvmeta-check, which $sym is not part of"
		;;
	nvmeta-check)
		echo "$syn" | grep -q '#include <nvmeta-check\.h>' ||
			err "$sym: the SYNOPSIS of $target does not include <nvmeta-check.h>"
		echo "$syn" | grep -q -- '-lnvmeta-check' ||
			err "$sym: the SYNOPSIS of $target does not say to link with -lnvmeta-check"
		;;
	esac
}
for sym in $libfuncs; do
	check_page "$sym" nvmeta
done
for sym in $chkfuncs; do
	check_page "$sym" nvmeta-check
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
	case $page in
	*.3)
		case " $documented " in
		*" $page "*) ;;
		*) err "$page: documents no function of libnvmeta or libnvmeta-check" ;;
		esac
		;;
	esac
done

# The section lists of the two overviews.
seven=$man/man7/nvmeta.7 chkseven=$man/man7/nvmeta-check.7
for page in "$seven" "$chkseven"; do
	[ -f "$page" ] || err "no $(basename "$page" .7)(7) ($page)"
done
if [ -f "$seven" ]; then
	listed=$(list_entries "$seven")
	[ -n "$listed" ] || err "$seven: no FUNCTIONS section listing the functions"
	for sym in $libfuncs; do
		echo "$listed" | grep -qx -- "$sym" ||
			err "$sym: not in the FUNCTIONS list of nvmeta(7)"
	done
	for sym in $listed; do
		if is_chk "$sym"; then
			err "$sym: in the FUNCTIONS list of nvmeta(7), but it is libnvmeta-check's: list it in nvmeta-check(7)"
		elif ! is_lib "$sym"; then
			err "$sym: in the FUNCTIONS list of nvmeta(7), but libnvmeta has no such function"
		fi
	done
	sed 's/\\-/-/g' "$seven" | grep -q '^\.BR nvmeta-check (7)' ||
		err "$seven: no pointer to nvmeta-check(7)"
fi
if [ -f "$chkseven" ]; then
	listed=$(list_entries "$chkseven")
	[ -n "$listed" ] || err "$chkseven: no FUNCTIONS section listing the functions"
	for sym in $chkfuncs; do
		echo "$listed" | grep -qx -- "$sym" ||
			err "$sym: not in the FUNCTIONS list of nvmeta-check(7)"
	done
	for sym in $listed; do
		is_chk "$sym" ||
			err "$sym: in the FUNCTIONS list of nvmeta-check(7), but libnvmeta-check has no such function"
	done
fi

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
echo "check-man: $nsyms functions with a page and in their library's list, $ntools tools with a page, $npages pages format cleanly"
exit 0
