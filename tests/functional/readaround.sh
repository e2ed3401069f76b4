#!/bin/sh
# readaround.sh RUN-PRELOADED LIB PROGRAM -- runs PROGRAM preloaded with a
# 1 GiB pool on an ext4 image mounted (loop) for the test: a filesystem
# with a page cache and readahead, whatever the test directory is.
set -u
run=$1 lib=$2 prog=$3
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: mounting an ext4 image needs root" >&2
	exit 77
fi
command -v mkfs.ext4 >/dev/null || {
	echo "skip: mkfs.ext4 is missing (apt-get install e2fsprogs)" >&2
	exit 77
}
work=$(mktemp -d /tmp/vmmreadaround.XXXXXX) && chmod 755 "$work" || exit 2
mkdir "$work/mnt"
cleanup() {
	umount "$work/mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
truncate -s 256M "$work/fs.img" && mkfs.ext4 -q -F "$work/fs.img" || exit 2
if ! mount -o loop "$work/fs.img" "$work/mnt" 2>/dev/null; then
	echo "skip: cannot mount a loop device here" >&2
	exit 77
fi
# read around as far as this machine's virtual disk does (8 MiB), not a
# loop device's 128 KiB
dev=$(findmnt -no SOURCE "$work/mnt") && blockdev --setra 16384 "$dev" || exit 2
VMMALLOC_TEST_DIR=$work/mnt "$run" "$lib" -s 1G -- "$prog"
