#!/bin/sh
# readaround.sh RUN-PRELOADED LIB PROGRAM -- runs PROGRAM preloaded with a
# 1 GiB pool on an ext4 image mounted (loop) for the test: a filesystem
# with a page cache and readahead, whatever the test directory is.
set -u
run=$1 lib=$2 prog=$3
. "$(dirname "$0")/../common/ext4-image.sh"
ext4_image 256M
# read around as far as this machine's virtual disk does (8 MiB), not a
# loop device's 128 KiB
dev=$(findmnt -no SOURCE "$work/mnt") && blockdev --setra 16384 "$dev" || exit 2
VMMALLOC_TEST_DIR=$work/mnt "$run" "$lib" -s 1G -- "$prog"
