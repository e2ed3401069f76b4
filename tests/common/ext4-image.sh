# ext4-image.sh -- sourced by the test scripts that need a filesystem with
# a page cache, whatever the test directory is.
#
#   ext4_image SIZE [MKFS.EXT4 OPTION...]
#
# makes an ext4 image of SIZE in a fresh directory $work and mounts it
# (loop) on $work/mnt; both go when the script exits.  Exits 77 (skip)
# when not root, without mkfs.ext4, or where a loop device cannot be
# mounted.
ext4_image() {
	size=$1
	shift
	if [ "$(id -u)" -ne 0 ]; then
		echo "skip: mounting an ext4 image needs root" >&2
		exit 77
	fi
	command -v mkfs.ext4 >/dev/null || {
		echo "skip: mkfs.ext4 is missing (apt-get install e2fsprogs)" >&2
		exit 77
	}
	work=$(mktemp -d /tmp/vmmext4.XXXXXX) && chmod 755 "$work" || exit 2
	mkdir "$work/mnt" || exit 2
	trap 'umount "$work/mnt" 2>/dev/null; rm -rf "$work"' EXIT
	truncate -s "$size" "$work/fs.img" &&
		mkfs.ext4 -q -F "$@" "$work/fs.img" || exit 2
	if ! mount -o loop "$work/fs.img" "$work/mnt" 2>/dev/null; then
		echo "skip: cannot mount a loop device here" >&2
		exit 77
	fi
}
