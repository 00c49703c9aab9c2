# The checks run inside the test VM (busybox sh, as root, / the initramfs), started by /init.
# Each check prints one line on the console, which tests/vm/run.sh parses:
#   HUTCH-CHECK ok NAME
#   HUTCH-CHECK fail NAME DETAILS
# and the last line is `HUTCH-DONE COUNT UPTIME`, so a script that dies early, or a line that a
# kernel message garbled, fails the run.
#
# Adding a check is appending a line:
#   t NAME STATUS PATTERN COMMAND [ARG...]
# passes when COMMAND exits with STATUS and its output (stdout and stderr, each run of
# whitespace made one space) matches PATTERN, an extended regular expression, case-insensitive
# ('' matches all).
# A check that needs more than one command is a function taking its NAME.
export PATH=/bin
R=/rootfs
n=0

ok() { n=$((n + 1)); echo "HUTCH-CHECK ok $1"; }
fail() { n=$((n + 1)); echo "HUTCH-CHECK fail $1 $2"; }

# A hung command fails its check, not the whole VM run; KILL because hutch forwards TERM to a
# container PID 1 that may ignore it. Every process costs tens of milliseconds under emulation,
# hence shell builtins where they do.
t() {
  name=$1 want=$2 pattern=$3
  shift 3
  out=$(timeout -s KILL 30 "$@" 2>&1)
  got=$?
  set -f
  out=$(echo $out)
  set +f
  if [ "$got" != "$want" ]; then
    fail "$name" "exit $got, want $want: ${out:0:300}"
  elif [ -n "$pattern" ] && ! printf '%s\n' "$out" | grep -qiE -- "$pattern"; then
    fail "$name" "output does not match '$pattern': ${out:0:300}"
  else
    ok "$name"
  fi
}

# --- The VM itself: what the checks below rely on -------------------------------------------

# Modules the kernel package has as .ko files, in dependency order (tests/vm/fetch.sh).
load_modules() {
  for m in $(cat /lib/modules/order); do
    msg=$(insmod "/lib/modules/$m.ko" 2>&1) || { fail "$1" "insmod $m: $msg"; return; }
  done
  ok "$1"
}
load_modules modules

# cgroup v2 only, as most servers now run: no v1 hierarchy is mounted, so every controller is on
# the unified one, enabled for the children of the root.
cgroup2_only() {
  mount -t cgroup2 cgroup2 /sys/fs/cgroup &&
    echo '+cpu +memory +pids' >/sys/fs/cgroup/cgroup.subtree_control || { fail "$1" "mounting cgroup2"; return; }
  if grep -q ' cgroup ' /proc/mounts; then fail "$1" "a cgroup v1 hierarchy is mounted"; return; fi
  ok "$1"
}
cgroup2_only cgroup2-only

# The container's root: busybox and its applets, a file that cannot be executed, and outside it
# a marker the container must never see.
mkdir -p $R/bin $R/etc /srv
cp /bin/busybox /bin/escape $R/bin/
# The links point to /bin/busybox, the path of the busybox running this: inside the container
# that is the copy.
busybox --install -s $R/bin
echo 'echo not executable' >$R/etc/noexec
echo hello >/srv/file
echo secret >/initramfs-marker
mounts_before=$(cat /proc/mounts)

t initramfs-root 0 '^rootfs / rootfs' head -n 1 /proc/mounts
# The premise of the fallback: pivot_root cannot move the initramfs away.
t pivot-root-fails-here 1 'invalid argument' unshare -m sh -c "mount --bind $R $R && cd $R && exec pivot_root . ."

# --- hutch run with / the initramfs (pivot_root falls back to MS_MOVE + chroot) -------------

t run 0 '^hello$' hutch run $R echo hello
# Prints the shell's pid and whether the initramfs marker is visible.
pid_marker='echo $$ $(test -e /initramfs-marker && echo visible || echo hidden)'
t initramfs-hidden 0 '^1 hidden$' hutch run $R sh -c "$pid_marker"
# The classic way out of a chroot (tests/vm/escape.rs) works from a plain chroot into a
# directory, but not from hutch's: ROOTFS is mounted over /, so walking up ends on / and is led
# back into the mount on top of it. Even as full root, the initramfs stays out of reach.
t escape-from-plain-chroot 0 '^escaped$' chroot $R /bin/escape /initramfs-marker
t initramfs-no-escape 0 '^confined$' hutch run $R escape /initramfs-marker
t pid1 0 '^1$' hutch run $R sh -c 'echo $$'
t pid-namespace 0 '^/proc/1$' hutch run $R sh -c 'exec ls -d /proc/[0-9]*'
t hostname 0 '^vmbox$' hutch run --hostname vmbox $R hostname
t hostname-default 0 '^hutch$' hutch run $R hostname
t proc 0 'proc /proc proc rw,nosuid,nodev,noexec' hutch run $R cat /proc/mounts
t mounts 0 'sysfs /sys sysfs ro,.* tmpfs /dev tmpfs .* devpts /dev/pts devpts .* tmpfs /dev/shm tmpfs' \
  hutch run $R cat /proc/mounts
t dev-null 0 '^ok$' hutch run $R sh -c 'test -c /dev/null && echo x >/dev/null && echo ok'
t lo-up 0 '<LOOPBACK,UP' hutch run $R ip -o link show lo
t cgroup-namespace 0 '^0::/$' hutch run $R cat /proc/self/cgroup
t fds 0 '^0 1 2 3$' sh -c "exec 7</dev/null; exec hutch run $R ls /proc/self/fd"
t exit-status 3 '' hutch run $R sh -c 'exit 3'
t exit-not-found 127 'no such file' hutch run $R /no/such/command
t exit-not-in-path 127 '' hutch run $R no-such-command
t exit-not-executable 126 'permission denied' hutch run $R /etc/noexec
t exit-no-rootfs 125 '^hutch: .*/no/such/rootfs' hutch run /no/such/rootfs true
t no-pivot 0 '^1 hidden$' hutch run --no-pivot $R sh -c "$pid_marker"
t overlay 0 '^written$' hutch run --overlay $R sh -c 'echo x >/new && rm /bin/cat && cat /new >/dev/null 2>&1; test -e /new && echo written'
t overlay-rootfs-unchanged 0 '' sh -c "test ! -e $R/new && test -e $R/bin/cat"
t read-only 1 'read-only file system' hutch run --ro $R touch /x
t volume-ro 0 '^hello ro$' hutch run -v /srv:/data:ro $R sh -c 'echo $(cat /data/file) $(touch /data/x 2>/dev/null && echo rw || echo ro)'
t tmpfs 0 'tmpfs /scratch tmpfs rw,nosuid,nodev' hutch run --tmpfs /scratch:size=1m $R cat /proc/mounts

# --- Old kernels: openat2, close_range and clone3 fail with ENOSYS (tests/vm/nosys.rs) --------

t old-kernel-run 0 '^1 hidden$' nosys hutch run $R sh -c "$pid_marker"
t old-kernel-mount-points 0 ' /data .* tmpfs /new/dir tmpfs ' \
  nosys hutch run --tmpfs /new/dir -v /srv:/data $R cat /proc/mounts
t old-kernel-fds 0 '^0 1 2 3$' sh -c "exec 7</dev/null; exec nosys hutch run $R ls /proc/self/fd"

# --- Cgroup limits, on cgroup v2 only ------------------------------------------------------

# The OOM killer takes the container's PID 1 (dd filling a 64 MiB buffer); hutch says why.
t cgroup-memory-oom 137 '^hutch: container killed: out of memory \(limit 32M\)$' \
  hutch run --memory 32m $R dd if=/dev/zero of=/dev/null bs=64M count=1
# A shell forking 40 sleepers hits the limit of 20 and fails to fork.
t cgroup-pids 2 "can't fork|resource temporarily unavailable" \
  hutch run --pids 20 $R sh -c 'for i in $(seq 40); do sleep 30 & done; echo all forked'

# Waits (10 s at most) for FILE to appear.
await() {
  i=0
  while [ $i -lt 500 ] && [ ! -e "$1" ]; do
    usleep 20000
    i=$((i + 1))
  done
}

# The container's cgroup, hutch-PID: the only one while a check runs.
container_cgroup() {
  find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name 'hutch-*' | head -n 1
}

# While the container waits for /sig/go, its cgroup has cpu.max "50000 100000"; after it exits,
# that cgroup is gone.
cpus_cgroup=
cgroup_cpus() {
  mkdir -p /sig
  rm -f /sig/go
  timeout -s KILL 30 hutch run --cpus 0.5 -v /sig:/sig $R sh -c 'until test -e /sig/go; do usleep 20000; done' &
  pid=$!
  i=0
  while [ $i -lt 500 ] && [ -z "$cpus_cgroup" ]; do
    cpus_cgroup=$(find /sys/fs/cgroup -mindepth 2 -name cpu.max -exec grep -lx '50000 100000' {} + | head -n 1)
    kill -0 $pid 2>/dev/null || break
    usleep 20000
    i=$((i + 1))
  done
  touch /sig/go
  wait $pid
  st=$?
  if [ -z "$cpus_cgroup" ]; then fail "$1" "no cgroup with cpu.max '50000 100000' (exit $st)"
  elif [ "$st" != 0 ]; then fail "$1" "exit $st"
  else ok "$1"; fi
}
cgroup_removed() {
  if [ -z "$cpus_cgroup" ]; then fail "$1" "no container cgroup was found"
  elif [ -e "${cpus_cgroup%/cpu.max}" ]; then fail "$1" "${cpus_cgroup%/cpu.max} is left behind"
  else ok "$1"; fi
}
cgroup_cpus cgroup-cpus
cgroup_removed cgroup-removed

# Every limit, written the v2 way (swap alone in memory.swap.max; cpuset enabled by hutch in
# the root's subtree_control), from before the command's first step: it sees its cgroup as /.
cgroup_v2_files() {
  rm -f /sig/go /sig/inside
  timeout -s KILL 30 hutch run --memory 32m --memory-swap 48m --pids 7 --cpus 1.5 --cpu-weight 300 \
    --cpuset-cpus 0 -v /sig:/sig $R sh -c 'cat /proc/self/cgroup >/sig/inside; until test -e /sig/go; do usleep 20000; done' &
  pid=$!
  await /sig/inside
  dir=$(container_cgroup)
  got=$(cd "${dir:-/nonexistent}" 2>/dev/null && echo $(cat memory.max memory.swap.max pids.max cpu.max cpu.weight cpuset.cpus))
  touch /sig/go
  wait $pid
  st=$?
  want='33554432 16777216 7 150000 100000 300 0'
  if [ "$got" != "$want" ]; then fail "$1" "${dir:-no cgroup}: got '$got', want '$want' (exit $st)"
  elif [ "$(cat /sig/inside)" != "0::/" ]; then fail "$1" "inside: $(cat /sig/inside)"
  elif [ -e "$dir" ]; then fail "$1" "$dir is left behind"
  elif [ "$st" != 0 ]; then fail "$1" "exit $st"
  else ok "$1"; fi
}
cgroup_v2_files cgroup-v2-files

# SIGTERM to hutch ends the container (its PID 1 traps it), and cgroup.kill takes the sleeper
# it leaves, so that the cgroup can go.
cgroup_sigterm() {
  rm -f /sig/ready
  timeout -s KILL 30 hutch run --pids 20 -v /sig:/sig $R sh -c 'trap "exit 7" TERM; sleep 1000 & touch /sig/ready; wait' &
  pid=$!
  await /sig/ready
  dir=$(container_cgroup)
  [ -n "$dir" ] && kill -TERM "${dir##*hutch-}"
  wait $pid
  st=$?
  if [ -z "$dir" ]; then fail "$1" "no container cgroup (exit $st)"
  elif [ "$st" != 7 ]; then fail "$1" "exit $st, want 7"
  elif [ -e "$dir" ]; then fail "$1" "$dir is left behind"
  else ok "$1"; fi
}
cgroup_sigterm cgroup-sigterm

# --cgroup-parent: an empty cgroup works; one holding a process cannot take controllers (the
# no-internal-process rule), which hutch explains.
mkdir -p /sys/fs/cgroup/box /sys/fs/cgroup/busy
t cgroup-parent 0 '^0::/$' hutch run --cgroup-parent /box --memory 32m $R cat /proc/self/cgroup
t cgroup-parent-removed 0 '^$' find /sys/fs/cgroup/box -mindepth 1 -type d
sleep 100 &
echo $! >/sys/fs/cgroup/busy/cgroup.procs
t cgroup-parent-busy 125 'processes of its own' hutch run --cgroup-parent /busy --memory 32m $R true
kill $! 2>/dev/null

# --- Confinement: seccomp and capabilities ---------------------------------------------------

t seccomp-filter 0 'seccomp:[[:space:]]*2' hutch run $R grep Seccomp: /proc/self/status
t seccomp-blocks-unshare 1 'operation not permitted' hutch run $R unshare -m true

# CAP_SYS_ADMIN (bit 21) is out of the bounding set.
t caps-bounding-set 0 '^dropped$' \
  hutch run $R sh -c 'b=$(sed -n "s/^CapBnd:[[:space:]]*//p" /proc/self/status); [ $((0x$b >> 21 & 1)) = 0 ] && echo dropped'

# --- The OCI runtime on an initramfs with only cgroup v2 -----------------------------------------

# A bundle from `hutch spec`, its command and limits changed; create, check the container
# waits with its memory limit in place, start it, see its output, delete it and its cgroup.
oci_lifecycle() {
  b=/oci
  mkdir -p $b && cd $b && hutch spec >/dev/null 2>&1 || { fail "$1" "spec failed"; return; }
  sed -i -e 's/"terminal":true/"terminal":false/' -e 's#"path":"rootfs"#"path":"/rootfs"#' \
    -e 's#"args":\["sh"\]#"args":["sh","-c","echo oci-ran-as-$$"]#' \
    -e 's#"resources":{#"resources":{"memory":{"limit":33554432},#' config.json
  timeout -s KILL 30 hutch create -b $b c1 >$b/out 2>&1 || { fail "$1" "create: $(cat $b/out)"; return; }
  st=$(hutch state c1)
  pid=$(echo "$st" | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
  cg=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
  mem=$(cat /sys/fs/cgroup$cg/memory.max 2>&1)
  case "$st" in *'"status":"created"'*) ;; *) fail "$1" "state: $st"; return;; esac
  [ "$mem" = 33554432 ] || { fail "$1" "memory.max of $cg: $mem"; return; }
  timeout -s KILL 30 hutch start c1 || { fail "$1" "start failed"; return; }
  i=0
  while ! hutch state c1 | grep -q '"status":"stopped"'; do
    i=$((i + 1)); [ $i -lt 100 ] || { fail "$1" "still running"; return; }; sleep 0.1
  done
  hutch delete c1 || { fail "$1" "delete failed"; return; }
  if [ "$(cat $b/out)" != oci-ran-as-1 ]; then fail "$1" "output: $(cat $b/out)"
  elif [ -d /sys/fs/cgroup$cg ]; then fail "$1" "cgroup $cg left"
  else ok "$1"; fi
  cd /
}
oci_lifecycle oci-create-start-delete

# --- Nothing leaked to the VM ------------------------------------------------------------------

no_mount_leak() {
  now=$(cat /proc/mounts)
  if [ "$now" = "$mounts_before" ]; then ok "$1"; else fail "$1" "$(printf '%s\n' "$now" | grep -vxF "$mounts_before")"; fi
}
no_mount_leak no-mount-leak
t host-hostname 0 '^testvm$' hostname

echo "HUTCH-DONE $n $(cut -d' ' -f1 /proc/uptime)"
