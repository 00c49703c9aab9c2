# hutch: build, test, demo, measure. Works as root on a fresh Debian machine: missing
# pieces (the musl Rust targets, busybox-static, uidmap, podman, QEMU, hyperfine for bench) are installed first.
TARGET  ?= x86_64-unknown-linux-musl
# The architectures `make size` and `make test-vm` cover.
ARCHS   ?= x86_64 aarch64
BIN     := target/$(TARGET)/release/hutch
PREFIX  ?= /usr/local
CARGO   ?= cargo
APT     := DEBIAN_FRONTEND=noninteractive apt-get -y -qq

.PHONY: all build aarch64 test test-vm demo size bench install deps-build deps-test deps-oci deps-vm deps-bench clean

all: build

build: deps-build
	$(CARGO) build --release --target $(TARGET)

aarch64:
	@$(MAKE) --no-print-directory build TARGET=aarch64-unknown-linux-musl

deps-build:
	@rustup target list --installed 2>/dev/null | grep -qx '$(TARGET)' || rustup target add $(TARGET)

# Debian's busybox-static is the tests' and the demo's container userland; uidmap brings
# newuidmap/newgidmap for the rootless tests with subordinate id ranges.
deps-test: deps-build
	@dpkg -s busybox-static >/dev/null 2>&1 || { $(APT) update && $(APT) install busybox-static; }
	@dpkg -s uidmap >/dev/null 2>&1 || { $(APT) update && $(APT) install uidmap; }

# tests/podman.rs: podman drives hutch as its OCI runtime, with conmon, the CNI plugins
# (its bridge network), iptables (the plugins' NAT rules, in the test's network namespace)
# and iproute2 (the test brings that namespace's lo up). tests/containerd.rs: containerd's
# runc shim drives it, with ctr as the client.
deps-oci:
	@pkgs=; \
	for p in podman conmon containernetworking-plugins iptables iproute2 containerd; do \
	  dpkg -s $$p >/dev/null 2>&1 || pkgs="$$pkgs $$p"; \
	done; \
	[ -z "$$pkgs" ] || { $(APT) update && $(APT) install $$pkgs; }

# QEMU runs the VM tests; xz unpacks the x86_64 kernel. --no-install-recommends: no GUI.
deps-vm: deps-test
	@pkgs=; \
	command -v qemu-system-x86_64 >/dev/null || pkgs="$$pkgs qemu-system-x86"; \
	command -v qemu-system-aarch64 >/dev/null || pkgs="$$pkgs qemu-system-arm"; \
	command -v xz >/dev/null || pkgs="$$pkgs xz-utils"; \
	[ -z "$$pkgs" ] || { $(APT) update && $(APT) install --no-install-recommends $$pkgs; }

deps-bench: deps-test
	@command -v hyperfine >/dev/null || { $(APT) update && $(APT) install hyperfine; }

# Unit tests (pure logic) and end-to-end tests (the release binary against the real kernel),
# then the VM tests.
test: deps-test deps-oci
	$(CARGO) test --release --target $(TARGET)
	@$(MAKE) --no-print-directory test-vm

# Debian's Linux 6.1 under QEMU with hutch inside, for each of ARCHS (tests/vm/run.sh): / an
# initramfs, cgroup v2 only, old-kernel fallbacks. Kernels and busybox are downloaded once
# into target/vm-cache.
test-vm: deps-vm
	@for a in $(ARCHS); do $(MAKE) --no-print-directory build TARGET=$$a-unknown-linux-musl || exit 1; done
	bash tests/vm/run.sh $(ARCHS)

demo: build deps-test
	@root=$$(mktemp -d /tmp/hutch-demo.XXXXXX) && trap 'rm -rf "$$root"' EXIT && \
	mkdir -p "$$root/bin" && cp "$$(command -v busybox)" "$$root/bin/busybox" && \
	for a in sh cat hostname echo ps; do ln -s busybox "$$root/bin/$$a"; done && \
	$(BIN) run --hostname demo "$$root" /bin/sh -c \
	  'echo "PID: $$$$"; echo "hostname: $$(hostname)"; echo "processes:"; ps; echo "mounts:"; cat /proc/mounts'

size:
	@for a in $(ARCHS); do $(MAKE) --no-print-directory build TARGET=$$a-unknown-linux-musl || exit 1; done
	@for a in $(ARCHS); do b=target/$$a-unknown-linux-musl/release/hutch; printf '%s: %s bytes\n' $$b "$$(stat -c %s $$b)"; done

bench: build deps-bench
	@bash tests/bench.sh $(BIN)

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/hutch

clean:
	$(CARGO) clean
