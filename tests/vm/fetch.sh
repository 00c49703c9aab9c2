#!/usr/bin/env bash
# Usage: fetch.sh DEBARCH DIR MODULE...
#
# Fills DIR with what a test VM of Debian architecture DEBARCH (amd64, arm64) boots: `kernel`
# (Debian's 6.1 kernel; for amd64 the uncompressed vmlinux inside the vmlinuz, which QEMU boots
# through its PVH entry and saves the guest decompressing it under emulation), `busybox` (Debian's
# busybox-static) and `modules/` (each MODULE and what it depends on, as .ko files, with
# `modules/order` listing them in load order). Does nothing when DIR already holds all that.
#
# The packages come from apt-get download through a private apt state in DIR/apt, for DEBARCH
# whatever the host's architecture, so neither the host's dpkg architectures nor its apt lists nor
# /boot are touched, and the kernel is bookworm's whatever release the host runs. The .debs stay
# in DIR/debs, so that a changed MODULE list needs no new download; removing DIR fetches the
# newest kernel again.
set -euo pipefail
arch=$1
mkdir -p "$2"
dir=$(realpath "$2") # apt takes relative Dir:: paths as relative to /etc/apt
shift 2
modules="$*"
suite=bookworm

die() { echo "fetch.sh: $arch: $*" >&2; exit 1; }

# The Debian archives the host's own apt uses (deb822 .sources or one-line .list files), so the
# download goes wherever this machine's packages come from; HUTCH_VM_MIRROR and
# HUTCH_VM_SECURITY_MIRROR override them.
host_uris() {
  {
    sed -n 's/^URIs://p' /etc/apt/sources.list.d/*.sources 2>/dev/null
    sed -n 's/\[[^]]*\]//; s/^deb[[:space:]]\+\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | tr -s ' \t' '\n\n' | grep -v '^$' || true
}
mirror=${HUTCH_VM_MIRROR:-$(host_uris | grep -v -- '-security' | head -n 1)}
security=${HUTCH_VM_SECURITY_MIRROR:-$(host_uris | grep -- '-security' | head -n 1)}
[ -n "$mirror" ] || die "no Debian archive in the host's apt sources; set HUTCH_VM_MIRROR"

stamp="suite=$suite modules=$modules"
if [ -f "$dir/ready" ] && [ "$(cat "$dir/ready")" = "$stamp" ]; then
  exit 0
fi
rm -f "$dir/ready"

apt_dir=$dir/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/parts" "$dir/debs"
: >"$apt_dir/status"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r $keyring ] || die "$keyring is missing (Debian package debian-archive-keyring)"
{
  echo "deb [signed-by=$keyring] $mirror $suite main"
  [ -z "$security" ] || echo "deb [signed-by=$keyring] $security $suite-security main"
} >"$apt_dir/sources.list"
apt_opts=(
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
  -o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status"
  -o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives"
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=$apt_dir/parts"
  -o "Acquire::Languages=none" -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
  # The private directories belong to root; apt's _apt download user may not reach them.
  -o "APT::Sandbox::User=root"
)
apt_update() { apt-get -qq "${apt_opts[@]}" update || die "apt-get update failed (network? mirror $mirror)"; }

# linux-image-$arch is the metapackage; it depends on the versioned kernel package.
kernel_pkg() { apt-cache "${apt_opts[@]}" depends "linux-image-$arch" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }' || true; }
if [ ! -f "$dir/debs/kernel.deb" ] || [ ! -f "$dir/debs/busybox.deb" ]; then
  pkg=$(kernel_pkg)
  [ -n "$pkg" ] || { apt_update; pkg=$(kernel_pkg); }
  [ -n "$pkg" ] || die "no linux-image-$arch in $suite"
  echo "fetch.sh: $arch: downloading $pkg and busybox-static" >&2
  tmp=$(mktemp -d "$dir/debs/dl.XXXXXX")
  # A stale list names a version the mirror has dropped: refresh once and retry.
  (cd "$tmp" && { apt-get -qq "${apt_opts[@]}" download "$pkg" busybox-static ||
    { apt_update && apt-get -qq "${apt_opts[@]}" download "$(kernel_pkg)" busybox-static; }; }) ||
    die "apt-get download failed"
  mv "$tmp"/linux-image-*.deb "$dir/debs/kernel.deb"
  mv "$tmp"/busybox-static_*.deb "$dir/debs/busybox.deb"
  rmdir "$tmp"
fi

x=$(mktemp -d "$dir/x.XXXXXX")
trap 'rm -rf "$x"' EXIT
dpkg -x "$dir/debs/kernel.deb" "$x/k"
dpkg -x "$dir/debs/busybox.deb" "$x/b"
install -m 0755 "$x/b/bin/busybox" "$dir/busybox"

vmlinuz=$(echo "$x"/k/boot/vmlinuz-*)
[ -f "$vmlinuz" ] || die "no /boot/vmlinuz-* in the kernel package"
case $arch in
  amd64)
    # bzImage layout (Documentation/x86/boot.rst): the protected-mode code starts after
    # setup_sects+1 sectors; the compressed kernel is payload_length bytes at payload_offset
    # into it. The compressor appends the uncompressed size, hence --single-stream.
    num() { od -An -tu"$2" -j "$1" -N"$2" "$vmlinuz" | tr -d ' '; }
    start=$(( ($(num $((0x1f1)) 1) + 1) * 512 + $(num $((0x248)) 4) ))
    dd if="$vmlinuz" of="$x/payload" iflag=skip_bytes,count_bytes skip=$start count="$(num $((0x24c)) 4)" status=none
    if [ "$(od -An -tx1 -N4 "$x/payload" | tr -d ' ')" = fd377a58 ]; then # xz, as Debian builds it
      xz -dc --single-stream "$x/payload" >"$dir/kernel.tmp"
      [ "$(od -An -c -N4 "$dir/kernel.tmp" | tr -d ' ')" = '177ELF' ] || die "the kernel in $vmlinuz is not an ELF file"
      mv "$dir/kernel.tmp" "$dir/kernel"
    else # slower to boot, but boots
      cp "$vmlinuz" "$dir/kernel"
    fi ;;
  *) cp "$vmlinuz" "$dir/kernel" ;;
esac

# Each module's dependencies are in the depends= field of its .modinfo section; the package
# has no modules.dep (depmod runs at install time).
rm -rf "$dir/modules"
mkdir -p "$dir/modules"
: >"$dir/modules/order"
add_module() {
  local name=$1 ko dep
  grep -qxF "$name" "$dir/modules/order" && return
  ko=$(find "$x/k/lib/modules" \( -name "$name.ko" -o -name "${name//_/-}.ko" \) -print -quit)
  [ -n "$ko" ] || die "module $name is not in the kernel package"
  for dep in $(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
    add_module "$dep"
  done
  cp "$ko" "$dir/modules/$name.ko"
  echo "$name" >>"$dir/modules/order"
}
for m in $modules; do
  add_module "$m"
done
ls "$x/k/lib/modules" >"$dir/release"
echo "$stamp" >"$dir/ready"
