#!/bin/sh
# startsize.sh RUN-PRELOADED LIB PROGRAM -- start-up is O(1) in the pool
# size: PROGRAM prints the page faults the process took before main, run
# with a 64 MiB and with a 1 TiB pool on an ext4 image mounted (loop) for
# the test (a filesystem with a page cache, whatever the test directory
# is); the two counts must be within 16 of each other.
set -u
run=$1 lib=$2 prog=$3
. "$(dirname "$0")/../common/ext4-image.sh"
ext4_image 64M
faults() {
	VMMALLOC_TEST_DIR=$work/mnt "$run" "$lib" -s "$1" -- "$prog" |
		sed -n 's/^faults //p'
}
# the smallest of three runs of each: a stray fault is not the pool's
least() {
	m=
	for i in 1 2 3; do
		f=$(faults "$1") || exit 1
		[ -n "$f" ] || exit 1
		if [ -z "$m" ] || [ "$f" -lt "$m" ]; then m=$f; fi
	done
	echo "$m"
}
small=$(least 64M) || { echo "FAIL: no count with a 64 MiB pool"; exit 1; }
large=$(least 1T) || { echo "FAIL: no count with a 1 TiB pool"; exit 1; }
echo "faults before main: $small with a 64 MiB pool, $large with 1 TiB"
if [ $((large - small)) -gt 16 ]; then
	echo "FAIL: start-up grows with the pool size"
	exit 1
fi
