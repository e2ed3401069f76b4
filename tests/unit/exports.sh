#!/bin/sh
# exports.sh LIB MAP [ALLOWED-LIBS] -- the library exports exactly the names
# of the version script: nm -D --defined-only against libvmmalloc.map.
set -eu
lib=$1 map=$2 allowed=${3:-}
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWiV]$/ {print $3}' | sed 's/@.*//' | sort)
want=$(sed -n '/global:/,/local:/p' "$map" | grep -o '^[[:space:]]*[A-Za-z_]*;' | tr -d ' \t;' | sort)
if [ "$got" != "$want" ]; then
	echo "exports of $lib differ from $map:" >&2
	diff -u "$(printf '%s\n' "$want" > /tmp/want.$$ && echo /tmp/want.$$)" \
		"$(printf '%s\n' "$got" > /tmp/got.$$ && echo /tmp/got.$$)" >&2 || true
	rm -f /tmp/want.$$ /tmp/got.$$
	exit 1
fi
n=$(printf '%s\n' "$got" | wc -l)
# the 11 of libvmmalloc(7) and jemalloc's 7 non-standard allocation calls
# (a gcov build adds src/coverage.c's: VMM_EXPORTS_COUNT)
want_n=${VMM_EXPORTS_COUNT:-18}
[ "$n" -eq "$want_n" ] || { echo "expected $want_n exports, got $n" >&2; exit 1; }
# needs nothing but libc (and libpthread, libdl where glibc splits them);
# not libm either: loading it cost every program 0.25 ms at start-up, and
# src/je_math.c has the three functions the jemalloc archive called there
extra=$(readelf -d "$lib" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
	grep -Ev '^(libc|libpthread|libdl|ld-linux[-a-z0-9_]*)\.so' |
	grep -Ev "^(${allowed:-^})\.so" || true)
[ -z "$extra" ] || { echo "unexpected run-time dependencies: $extra" >&2; exit 1; }
echo "$lib: $n exports, depends on libc${allowed:+ and $allowed} only"
