#!/usr/bin/env bash
# Start-to-exit time of a container running /bin/true: hutch against util-linux unshare with
# the same namespaces (and bwrap, crun, runc where installed), in one hyperfine run so the
# machine's state is the same for all. Prints each median and its ratio to unshare's.
set -euo pipefail
hutch=$(realpath "$1")
runs=${BENCH_RUNS:-300}
work=$(mktemp -d /tmp/hutch-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

root=$work/rootfs
mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
cp "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/true"
ln -s busybox "$root/bin/sh"

names=(hutch unshare)
cmds=("$hutch run $root /bin/true"
      "unshare --fork --pid --mount --uts --ipc --net --root=$root --mount-proc /bin/true")
if command -v bwrap >/dev/null; then
  names+=(bwrap)
  cmds+=("bwrap --unshare-all --die-with-parent --bind $root / --proc /proc --dev /dev /bin/true")
fi
for rt in crun runc; do
  command -v $rt >/dev/null || continue
  b=$work/bundle-$rt
  mkdir -p "$b"
  (cd "$b" && $rt spec)
  sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"\/bin\/true"/' \
    -e "s|\"path\": \"rootfs\"|\"path\": \"$root\"|" "$b/config.json"
  cmd="$rt run --bundle $b hutch-bench-$rt-$$"
  # crun, for one, refuses hybrid cgroup hosts; leave out what cannot run here.
  if ! out=$($cmd 2>&1); then
    echo "skipping $rt: $out" >&2
    continue
  fi
  names+=("$rt")
  cmds+=("$cmd")
done

hyperfine -N --style none --warmup 20 --runs "$runs" --export-json "$work/out.json" "${cmds[@]}" \
  >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
mapfile -t medians < <(grep -o '"median": *[0-9.e-]*' "$work/out.json" | sed 's/.*: *//')
base=${medians[1]}
printf '%-8s %12s %8s   (%s runs each, median)\n' runtime 'median ms' 'x unshare' "$runs"
for i in "${!names[@]}"; do
  awk -v n="${names[$i]}" -v m="${medians[$i]}" -v b="$base" \
    'BEGIN { printf "%-8s %12.3f %8.2f\n", n, m * 1000, m / b }'
done
