#!/bin/sh
# tools.sh RUN-PRELOADED LIB TOOL -- a real tool preloaded gives the same
# output as without the library.
set -u
run=$1 lib=$2 tool=$3
tmp=$(mktemp -d) || exit 2
chmod 755 "$tmp" # the input must be readable when run-preloaded runs as another user
trap 'rm -rf "$tmp"' EXIT
case $tool in
ls) set -- ls -l /usr/bin ;;
sort) seq 1 300000 | awk '{print ($1 * 7919) % 300007}' > "$tmp/in"
      set -- sort -n "$tmp/in" ;;
python3) command -v python3 >/dev/null || { echo "skip: no python3" >&2; exit 77; }
      set -- python3 -c 'd = {str(i): [i] * 3 for i in range(300000)}; print(sum(len(v) for v in d.values()))' ;;
*) echo "unknown tool $tool" >&2; exit 2 ;;
esac
"$@" > "$tmp/want" || exit 1
PYTHONMALLOC=malloc "$run" "$lib" -s 1G -- "$@" > "$tmp/got"
status=$?
[ $status -eq 77 ] && exit 77 # run-preloaded's skip (the tool unreachable as that user)
[ $status -eq 0 ] || exit 1
cmp "$tmp/want" "$tmp/got" || { echo "$tool: output differs with the library" >&2; exit 1; }
echo "$tool: $(wc -c < "$tmp/got") bytes of identical output"
