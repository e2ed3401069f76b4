#!/bin/sh
# fullfs.sh [--ext4] RUN-PRELOADED LIB PROGRAM [ARG...] -- runs PROGRAM
# [ARG...] preloaded with a 256 MiB pool on a 32 MiB tmpfs mounted for the
# test, or with --ext4 on a 32 MiB ext4 image (loop): a filesystem with a
# page cache, where a fault reads a file mapping around the faulting page.
set -u
fs=tmpfs
if [ "$1" = --ext4 ]; then
	fs=ext4
	shift
fi
run=$1 lib=$2 prog=$3
shift 3
if [ $fs = ext4 ]; then
	. "$(dirname "$0")/../common/ext4-image.sh"
	# no reserved blocks: the program may run as an unprivileged user
	ext4_image 32M -m 0
	mnt=$work/mnt
else
	mnt=$(mktemp -d /tmp/vmmfullfs.XXXXXX) || exit 2
	if ! mount -t tmpfs -o size=32M tmpfs "$mnt" 2>/dev/null; then
		rmdir "$mnt"
		echo "skip: cannot mount a tmpfs here (needs root)" >&2
		exit 77
	fi
	trap 'umount "$mnt"; rmdir "$mnt"' EXIT
fi
VMMALLOC_TEST_DIR=$mnt "$run" "$lib" -s 256M -- "$prog" "$@"
