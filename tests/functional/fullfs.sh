#!/bin/sh
# fullfs.sh RUN-PRELOADED LIB PROGRAM [ARG...] -- runs PROGRAM [ARG...]
# preloaded with a 256 MiB pool on a 32 MiB tmpfs mounted for the test.
set -u
run=$1 lib=$2 prog=$3
shift 3
mnt=$(mktemp -d /tmp/vmmfullfs.XXXXXX) || exit 2
if ! mount -t tmpfs -o size=32M tmpfs "$mnt" 2>/dev/null; then
	rmdir "$mnt"
	echo "skip: cannot mount a tmpfs here (needs root)" >&2
	exit 77
fi
VMMALLOC_TEST_DIR=$mnt "$run" "$lib" -s 256M -- "$prog" "$@"
status=$?
umount "$mnt" && rmdir "$mnt"
exit $status
