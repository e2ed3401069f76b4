#!/bin/sh
# devdax.sh CASE RUN-PRELOADED LIB PROGRAM -- one device DAX case (label
# devdax), with the pool on $VMMALLOC_TEST_DEVICE (/dev/daxX.Y: the pmem
# guest's devdax namespace; see devdax.c for the steps).  Without a
# device it is a skip: the host has none, and ctest -L devdax runs inside
# pmem.qemu.devdax.
# devdax.sh --list: the cases (the patterns of the `case` below), one a line:
# cmake/VmmTest.cmake registers devdax.<case>
set -u
if [ "${1:-}" = --list ]; then
	sed -n '/^case \$case in/,/^esac/s/^\([a-z][a-z0-9.-]*\)).*/\1/p' "$0"
	exit 0
fi
case=$1 run=$2 lib=$3 prog=$4
dev=${VMMALLOC_TEST_DEVICE:-}
if [ -z "$dev" ]; then
	echo "skip: VMMALLOC_TEST_DEVICE names no device DAX (the pmem guest sets it)" >&2
	exit 77
fi
fail() { echo "devdax.$case: $*" >&2; exit 1; }
pre() { "$run" "$lib" -- "$@"; }
sys=/sys/dev/char/$(printf '%d:%d' "0x$(stat -c %t "$dev")" "0x$(stat -c %T "$dev")")
size=$(cat "$sys/size") || fail "cannot read the size of $dev"
align=$(cat "$sys/align" 2>/dev/null || echo 2097152)
err=$(mktemp) || exit 2
trap 'rm -f "$err"' EXIT
case $case in
stale)	# an earlier user's bytes never show through malloc or calloc
	"$prog" fill "$dev" 0xa5 || fail "cannot fill $dev"
	pre "$prog" use 0xa5 0x5a || fail "the device's old bytes showed"
	pre "$prog" use 0x5a 0x3c || fail "the previous process's bytes showed" ;;
crash)	# a killed process leaves the device free and its data unseen
	pre "$prog" crash 0x77
	st=$?
	[ $st = 137 ] || fail "the crash step exited $st, expected 137 (SIGKILL)"
	pre "$prog" use 0x77 0x00 || fail "after the crash" ;;
range)	pre "$prog" range || exit 1
	# the whole device, and the statistics name the backing
	VMMALLOC_POOL_SIZE=$size pre "$prog" range || fail "a pool of the whole device"
	lib_dbg=$(dirname "$lib")/vmem_debug/$(basename "$lib")
	if [ -f "$lib_dbg" ]; then
		VMMALLOC_LOG_STATS=json VMMALLOC_LOG_LEVEL=1 "$run" "$lib_dbg" -- "$prog" range 2>"$err" ||
			{ cat "$err" >&2; fail "debug variant"; }
		grep -q '"backing": "device dax"' "$err" || { cat "$err" >&2; fail "stats do not say device dax"; }
		grep -q "pool backing: device dax $dev" "$err" || { cat "$err" >&2; fail "log does not name the device"; }
	fi ;;
size)	# more than the device: one clear line naming it, nothing runs
	VMMALLOC_POOL_SIZE=$((size + 4096)) pre /bin/true 2>"$err" && fail "a pool larger than the device started"
	grep -q "larger than the device DAX $dev" "$err" || { cat "$err" >&2; fail "no clear message"; } ;;
lock)	# over half the device: no room for another range
	VMMALLOC_POOL_SIZE=$((size / 2 + align)) pre "$prog" lock ;;
ranges)	# a third of it: the program and the one it runs side by side
	VMMALLOC_POOL_SIZE=$((size / 3)) pre "$prog" ranges ;;
fork1)	# mode 1 cannot be done on a device: refused at start-up, named
	"$run" "$lib" -e VMMALLOC_FORK=1 -- /bin/true 2>"$err" && fail "VMMALLOC_FORK=1 started"
	grep -q "VMMALLOC_FORK=1 cannot work on the device DAX $dev" "$err" || { cat "$err" >&2; fail "no clear message"; }
	# unset: mode 2, the child's copy in a memfd
	(unset VMMALLOC_FORK; pre "$prog" fork) || fail "fork with the default mode" ;;
*)	fail "unknown case" ;;
esac
