#!/bin/sh
# link.sh BUILD-DIR SOURCE-DIR -- link-time use: install into a temporary
# prefix, build a program with `pkg-config --cflags --libs libvmmalloc`
# (no LD_PRELOAD) and check its heap is in the pool.
set -eu
build=$1 src=$2
command -v pkg-config >/dev/null || { echo "skip: no pkg-config" >&2; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" --component dev >/dev/null
cmake --install "$build" --prefix "$tmp/prefix" --component runtime >/dev/null
pc=$(find "$tmp/prefix" -name libvmmalloc.pc)
export PKG_CONFIG_PATH=$(dirname "$pc")
cc -std=c11 -D_GNU_SOURCE -I"$src/tests/common" "$src/tests/functional/linked.c" \
	-o "$tmp/linked" $(pkg-config --cflags --libs libvmmalloc) \
	-Wl,-rpath,"$(pkg-config --variable=libdir libvmmalloc)"
readelf -d "$tmp/linked" | grep -q 'libvmmalloc.so.1' ||
	{ echo "not linked against libvmmalloc.so.1" >&2; exit 1; }
mkdir "$tmp/pool"
VMMALLOC_POOL_DIR=$tmp/pool VMMALLOC_POOL_SIZE=64M "$tmp/linked"
[ -z "$(ls -A "$tmp/pool")" ] || { echo "files left in the pool dir" >&2; exit 1; }
