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
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: mounting a $fs for the test needs root" >&2
	exit 77
fi
work=$(mktemp -d /tmp/vmmfullfs.XXXXXX) && chmod 755 "$work" || exit 2
mnt=$work/mnt
mkdir "$mnt" || exit 2
cleanup() {
	umount "$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
if [ $fs = ext4 ]; then
	command -v mkfs.ext4 >/dev/null || {
		echo "skip: mkfs.ext4 is missing (apt-get install e2fsprogs)" >&2
		exit 77
	}
	# no reserved blocks: the test may run as an unprivileged user
	truncate -s 32M "$work/fs.img" &&
		mkfs.ext4 -q -F -m 0 "$work/fs.img" || exit 2
	if ! mount -o loop "$work/fs.img" "$mnt" 2>/dev/null; then
		echo "skip: cannot mount a loop device here" >&2
		exit 77
	fi
elif ! mount -t tmpfs -o size=32M tmpfs "$mnt" 2>/dev/null; then
	echo "skip: cannot mount a tmpfs here" >&2
	exit 77
fi
VMMALLOC_TEST_DIR=$mnt "$run" "$lib" -s 256M -- "$prog" "$@"
