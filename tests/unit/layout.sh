#!/bin/sh
# unit.layout -- the boundaries docs/DESIGN.md ("Where things happen")
# names, checked in the library's object files rather than by grep, so that
# a comment or a string cannot pass or fail it:
#   - only override.c defines the exported names (libvmmalloc.map);
#   - only override.c calls glibc's own heap (foreign pointers);
#   - only fork.c registers fork handlers (pthread_atfork);
#   - only pool.c backs the pool (fallocate).
# usage: layout.sh MAP OBJECT...
set -u
map=$1
shift
fail=0

# the object files (by source name) that define (nm --defined-only, text
# or weak) or use (nm --undefined-only) the symbol $sym
objects() { # defined|undefined OBJECT...
	how=$1
	shift
	for o in "$@"; do
		nm --"$how"-only "$o" 2>/dev/null |
			awk -v s="$sym" -v how="$how" '
				how == "defined" && $2 ~ /^[TW]$/ && $3 == s { f = 1 }
				how == "undefined" && ($2 == s || index($2, s "@") == 1) { f = 1 }
				END { exit !f }' &&
			basename "$o" .o
	done | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # what, symbol, want, got
	if [ "$4" != "$3" ]; then
		echo "layout: $1 $2: want '$3', got '${4:-nothing}'"
		fail=1
	fi
}

names=$(sed -n '/global:/,/local:/p' "$map" | tr -d ' \t;' |
	grep -v -e '^global:' -e '^local:' -e '^$')
[ -n "$names" ] || { echo "layout: no names in $map"; exit 1; }
for sym in $names; do
	expect "defined by" "$sym" override.c "$(objects defined "$@")"
done
for sym in __libc_free __libc_realloc; do
	expect "used by" "$sym" override.c "$(objects undefined "$@")"
done
sym=pthread_atfork
expect "used by" "$sym" fork.c "$(objects undefined "$@")"
sym=fallocate
expect "used by" "$sym" pool.c "$(objects undefined "$@")"
[ $fail -eq 0 ] && echo "layout: $(echo "$names" | wc -l) exported names, fork, foreign and backing boundaries hold in $# objects"
exit $fail
