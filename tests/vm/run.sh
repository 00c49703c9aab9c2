#!/usr/bin/env bash
# Usage: tests/vm/run.sh [ARCH...]        ARCH: x86_64, aarch64 (default: both)
#
# Boots Debian's Linux 6.1 for each ARCH under QEMU's TCG emulation, with an initramfs holding
# Debian's busybox-static, that ARCH's hutch (target/ARCH-unknown-linux-musl/release/hutch,
# which `make test-vm` builds first), tests/vm/init.sh as /init and tests/vm/checks.sh, and
# reports the checks the VM prints on its serial console. One emulated CPU per VM, one VM after
# the other (two cores run them in parallel no sooner). Exits non-zero if a check failed, a VM
# did not finish its checks, or QEMU, a kernel or a hutch binary cannot be had: nothing that
# cannot run passes.
#
# Downloads are cached in $HUTCH_VM_CACHE (default target/vm-cache); each VM's console log is
# kept in target/vm/ARCH/console.log. HUTCH_VM_TIMEOUT (default 120) bounds each VM in seconds.
set -uo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-target}
cache=${HUTCH_VM_CACHE:-$target/vm-cache}
timeout=${HUTCH_VM_TIMEOUT:-120}
# Kernel modules the checks need (--overlay); their dependencies come along.
modules=overlay
[ $# -gt 0 ] || set -- x86_64 aarch64

# The Debian architecture, QEMU command and console device of ARCH.
machine() {
  case $1 in
    x86_64) debarch=amd64 console=ttyS0 qemu=(qemu-system-x86_64 -M pc -vga none) ;;
    # -cpu max would emulate several times slower.
    aarch64) debarch=arm64 console=ttyAMA0 qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57) ;;
    *) echo "run.sh: unknown ARCH $1 (x86_64, aarch64)" >&2; return 1 ;;
  esac
}

# Fetches the kernel and busybox, builds the test tools and the initramfs:
# target/vm/ARCH/initramfs.cpio.
prepare() {
  local arch=$1 work=$target/vm/$1 triple=$1-unknown-linux-musl
  machine "$arch" || return 1
  command -v "${qemu[0]}" >/dev/null || { echo "run.sh: ${qemu[0]} is not installed" >&2; return 1; }
  local hutch=$target/$triple/release/hutch
  [ -x "$hutch" ] || { echo "run.sh: $hutch is missing (make build TARGET=$triple)" >&2; return 1; }
  bash tests/vm/fetch.sh "$debarch" "$cache/$debarch" $modules || return 1

  local root=$work/initramfs tool
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/lib/modules"
  # The test tools, tests/vm/*.rs: static programs for the VM's architecture.
  local flags=(--edition 2021 --target "$triple" -C opt-level=s -C panic=abort -C strip=symbols
    -C target-feature=+crt-static)
  # The same linker as in .cargo/config.toml.
  [ "$arch" = aarch64 ] && flags+=(-C linker=rust-lld -C linker-flavor=ld.lld)
  for tool in nosys escape; do
    if [ ! "$work/$tool" -nt "tests/vm/$tool.rs" ]; then
      "${RUSTC:-rustc}" "${flags[@]}" "tests/vm/$tool.rs" -o "$work/$tool" || return 1
    fi
    cp "$work/$tool" "$root/bin/"
  done
  cp "$cache/$debarch/busybox" "$hutch" "$root/bin/"
  cp "$cache/$debarch/modules/"* "$root/lib/modules/"
  install -m 0755 tests/vm/init.sh "$root/init"
  cp tests/vm/checks.sh "$root/checks.sh"
  # Uncompressed: the emulated CPU would be slower to unpack it than QEMU is to load it.
  (cd "$root" && find . | LC_ALL=C sort | busybox cpio -o -H newc -R 0:0 >../initramfs.cpio 2>../cpio.err) ||
    { cat "$work/cpio.err" >&2; return 1; }
}

# Boots ARCH's VM and prints its report; fails if any check failed or the checks did not finish.
boot() {
  local arch=$1 work=$target/vm/$1 start status=0
  machine "$arch" || return 1
  local log=$work/console.log
  rm -f "$log"
  start=$(date +%s%N)
  timeout "$timeout" "${qemu[@]}" -accel tcg -smp 1 -m 256M -nodefaults -no-user-config \
    -display none -monitor none -serial "file:$log" -no-reboot \
    -kernel "$cache/$debarch/kernel" -initrd "$work/initramfs.cpio" \
    -append "console=$console panic=-1 loglevel=3 cryptomgr.notests" </dev/null >"$work/qemu.err" 2>&1 ||
    status=$?
  local wall=$(( ($(date +%s%N) - start) / 1000000 ))
  # Kernel messages may share a line with a marker, so markers are found anywhere in a line.
  cat "$log" 2>/dev/null | tr -d '\r' | sed -n 's/.*\(HUTCH-[A-Z]* \)/\1/p' |
    awk -v work="$work" -v arch="$arch" -v wall="$wall" -v status="$status" -v timeout="$timeout" -v kernel="$(cat "$cache/$debarch/release")" '
      $1 == "HUTCH-BOOT" { boot = $2 }
      $1 == "HUTCH-DONE" { done = 1; count = $2; end = $3 }
      $1 != "HUTCH-CHECK" { next }
      {
        n++; st = $2; name = $3; $1 = $2 = $3 = ""; sub(/^ +/, "")
        if (st == "ok") { ok++; printf "  ok    %s\n", name }
        else if (st == "skip") { skipped++; printf "  skip  %s %s\n", name, $0 }
        else { failed++; printf "  FAIL  %s: %s\n", name, $0 }
      }
      END {
        if (!done) {
          failed++
          why = status == 124 ? "timed out after " timeout " s" : "QEMU exited with " status
          printf "  FAIL  the VM did not finish its checks (%s)\n", why
        } else if (count != n) {
          failed++; printf "  FAIL  the VM ran %d checks, %d were read from its console\n", count, n
        }
        printf "%s: %d ok, %d failed, %d skipped. Linux %s", arch, ok, failed, skipped, kernel
        if (boot != "") printf ", at /init after %.1f s", boot
        if (done) printf ", checks took %.1f s", end - boot
        printf "; VM %.1f s wall\n", wall / 1000
        print ok + 0, failed + 0 > (work "/counts")
        exit (failed > 0)
      }' || {
    echo "  console log: $log; its last lines:"
    tail -n 25 "$log" 2>/dev/null | tr -d '\r' | sed 's/^/    /'
    sed 's/^/    qemu: /' "$work/qemu.err"
    return 1
  }
}

rc=0 passed=0 failed=0
for arch in "$@"; do
  rm -f "$target/vm/$arch/counts"
  if prepare "$arch"; then
    boot "$arch" || rc=1
  else
    echo "$arch: FAIL: cannot prepare the VM"
    rc=1
  fi
  read -r p f 2>/dev/null <"$target/vm/$arch/counts" || { p=0 f=1; }
  passed=$((passed + p)) failed=$((failed + f))
done
# The plain closing line test reports are read by.
echo "vm: $passed passed, $failed failed"
exit $rc
