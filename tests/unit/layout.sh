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

# the object files (by source name) that define or use a symbol
defining() {
	for o in "$@"; do
		nm --defined-only "$o" 2>/dev/null |
			awk -v s="$sym" '$2 ~ /^[TW]$/ && $3 == s { f = 1 } END { exit !f }' &&
			basename "$o" .o
	done | sort | tr '\n' ' ' | sed 's/ $//'
}
using() {
	for o in "$@"; do
		nm --undefined-only "$o" 2>/dev/null |
			awk -v s="$sym" '$2 == s || $2 ~ "^" s "@" { f = 1 } END { exit !f }' &&
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
	expect "defined by" "$sym" override.c "$(defining "$@")"
done
for sym in __libc_free __libc_realloc; do
	expect "used by" "$sym" override.c "$(using "$@")"
done
sym=pthread_atfork
expect "used by" "$sym" fork.c "$(using "$@")"
sym=fallocate
expect "used by" "$sym" pool.c "$(using "$@")"
[ $fail -eq 0 ] && echo "layout: $(echo "$names" | wc -l) exported names, fork, foreign and backing boundaries hold in $# objects"
exit $fail
