# hutch: build, test, demo, measure. Works as root on a fresh Debian machine: missing
# pieces (the musl Rust target, busybox-static, uidmap, hyperfine for bench) are installed first.
TARGET  ?= x86_64-unknown-linux-musl
BIN     := target/$(TARGET)/release/hutch
PREFIX  ?= /usr/local
CARGO   ?= cargo
APT     := DEBIAN_FRONTEND=noninteractive apt-get -y -qq

.PHONY: all build test unit demo size bench install deps-build deps-test deps-bench clean

all: build

build: deps-build
	$(CARGO) build --release --target $(TARGET)

deps-build:
	@rustup target list --installed 2>/dev/null | grep -qx '$(TARGET)' || rustup target add $(TARGET)

# Debian's busybox-static is the tests' and the demo's container userland; uidmap brings
# newuidmap/newgidmap for the rootless tests with subordinate id ranges.
deps-test: deps-build
	@dpkg -s busybox-static >/dev/null 2>&1 || { $(APT) update && $(APT) install busybox-static; }
	@dpkg -s uidmap >/dev/null 2>&1 || { $(APT) update && $(APT) install uidmap; }

deps-bench: deps-test
	@command -v hyperfine >/dev/null || { $(APT) update && $(APT) install hyperfine; }

# Unit tests (pure logic) and end-to-end tests (the release binary against the real kernel).
test: deps-test
	$(CARGO) test --release --target $(TARGET)

demo: build deps-test
	@root=$$(mktemp -d /tmp/hutch-demo.XXXXXX) && trap 'rm -rf "$$root"' EXIT && \
	mkdir -p "$$root/bin" && cp "$$(command -v busybox)" "$$root/bin/busybox" && \
	for a in sh cat hostname echo ps; do ln -s busybox "$$root/bin/$$a"; done && \
	$(BIN) run --hostname demo "$$root" /bin/sh -c \
	  'echo "PID: $$$$"; echo "hostname: $$(hostname)"; echo "processes:"; ps; echo "mounts:"; cat /proc/mounts'

size: build
	@printf '%s: %s bytes\n' '$(BIN)' "$$(stat -c %s $(BIN))"

bench: build deps-bench
	@bash tests/bench.sh $(BIN)

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/hutch

clean:
	$(CARGO) clean
