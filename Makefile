# The two set-up commands of the README, and the packager's install.
#   sudo make setup   build, install, register the entry, prove the chain (binfmt-reg status)
#   make check        install the test oracles, build, run every test
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
CONFIG ?= release

BUILD_DEPS := libcap-dev libstdc++-12-dev gcc make
# The program corpus (Tests/SystemTests/Programs/suite/run.sh) bottles these; busybox-static, not busybox, which
# conflicts with it: a statically linked program is copied into a bottle as it is.
PROGRAM_DEPS := default-jdk-headless python3 nodejs git perl ruby curl ca-certificates openssl sqlite3 jq \
             busybox-static bash tar libc6-dev binutils
# gcc-12-multilib, not gcc-multilib: Debian's gcc-multilib conflicts with every cross compiler,
# and the aarch64 build of runbottle needs gcc-aarch64-linux-gnu beside gcc -m32.
TEST_DEPS := libcap-dev gcc make elfutils patchelf musl-tools mandoc man-db gdb strace \
             libcap2-bin systemd util-linux g++ gcc-12-multilib file attr docker.io bubblewrap \
             valgrind ltrace podman uidmap gcc-aarch64-linux-gnu \
             qemu-system-x86 qemu-system-arm cpio xz-utils debootstrap python3-jsonschema \
             $(PROGRAM_DEPS)
BENCH_DEPS := hyperfine patchelf time binutils

.PHONY: all build deps test-deps test-services bench-deps bench check check-unit check-tool check-system \
        check-vm setup install uninstall release dist deb

all: build

# Extra `swift build` flags; install, setup, release, dist and deb use RELEASE_FLAGS.
SWIFT_BUILD_FLAGS ?=
# The Swift runtime, libcap, libstdc++ and libgcc linked in (binfmt-reg then needs only libc and
# libm), stripped, bound now; a build directory of its own, so that the development build is not
# rebuilt with other flags.
STATIC_LIBS := $(CURDIR)/.build-release/static-libs
RELEASE_FLAGS ?= --scratch-path .build-release --static-swift-stdlib --pkg-config-path $(STATIC_LIBS) \
    -Xlinker -s -Xlinker --no-export-dynamic -Xlinker -z -Xlinker now \
    -Xswiftc -Xclang-linker -Xswiftc -static-libgcc

# The shipped product only: the test kit (TestSupport) imports Testing, which a static build lacks.
build: $(STATIC_LIBS)/libcap.pc
	$(SWIFT) build -c $(CONFIG) $(SWIFT_BUILD_FLAGS) --product binfmt-reg

# SwiftPM puts the system's -lcap before any flag of ours; a pkg-config file naming a directory
# that holds only libcap.a (and libstdc++.a) is searched first, so both link statically.
$(STATIC_LIBS)/libcap.pc:
	mkdir -p $(STATIC_LIBS)
	ln -sf /usr/lib/$$(gcc -print-multiarch)/libcap.a $(STATIC_LIBS)/libcap.a
	ln -sf $$(gcc -print-file-name=libstdc++.a) $(STATIC_LIBS)/libstdc++.a
	printf 'Name: libcap\nDescription: libcap, linked statically\nVersion: 2\nLibs: -L%s -lcap\nCflags:\n' \
	    $(STATIC_LIBS) > $@

# Installs only what dpkg lacks, so a machine that has everything needs no root; the package
# lists are refreshed first, since a new container or cloud image starts with none.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing:" $$missing; \
	  apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; fi
endef

deps:
	$(call apt_install,$(BUILD_DEPS))

test-deps:
	$(call apt_install,$(TEST_DEPS))

bench-deps:
	$(call apt_install,$(BENCH_DEPS))

# Benchmarks print ratios side by side; they are never timed tests.
bench: bench-deps release
	bash Benchmarks/seal-vs-patchelf.sh
	$(SWIFT) build -c release --product binfmt-reg
	bash Benchmarks/startup.sh

# The context suite (ContextsSystemTests) runs sealed programs in real containers: it needs a
# Docker daemon, started here when none answers, and left running for the next run.
DOCKERD_LOG ?= /var/log/binfmt-bottle-dockerd.log
test-services: test-deps
	@docker info >/dev/null 2>&1 || { echo "starting dockerd (log: $(DOCKERD_LOG))"; \
	  (setsid dockerd >$(DOCKERD_LOG) 2>&1 &); \
	  for i in $$(seq 60); do docker info >/dev/null 2>&1 && exit 0; sleep 1; done; \
	  echo "dockerd did not start; see $(DOCKERD_LOG)" >&2; tail -5 $(DOCKERD_LOG) >&2; exit 1; }

# Every test, of the three layers below (Tests/UnitTests, Tests/ToolTests, Tests/SystemTests), with
# what the system layer needs first (check-system).
check: test-deps test-services deb release-static image-test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

# The unit layer alone: in-process tests of the parsers, plans and the registration model, no
# process spawned; seconds, with no test packages or services.
check-unit:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter 'UnitTests|FuzzRegressionTests'

# The tool layer alone: the built binfmt-reg and runbottle run on files the tests compile (glibc,
# musl, C++, 32-bit, aarch64), man pages linted; no namespace, tracer, container or VM.
check-tool: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter 'ToolTests'

# The system layer alone: user namespaces with binfmt_misc instances of their own (before Linux
# 6.7, which has none, their commands run in the VM of Tests/SystemTests/lib/instance-vm.sh), chroots,
# strace and gdb, Docker and Podman, the VMs, the program corpus, the package and the installer
# image. deb first: PackageSystemTests installs the package make deb wrote; DeploySystemTests
# builds the installer image from release-static's binfmt-reg and validates the DaemonSet with
# kubernetes-validate (image-test-deps).
check-system: test-deps test-services deb release-static image-test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter 'SystemTests'

# The VM suite alone (VMSystemTests runs it within `make check`): Debian's 5.10, 6.1, 6.12 and
# arm64 6.12 kernels under qemu, downloads cached in /var/cache/binfmt-bottle-vm.
check-vm: test-deps
	$(SWIFT) build
	bash Tests/SystemTests/VM/suite/run.sh --binfmt-reg $$($(SWIFT) build --show-bin-path)/binfmt-reg

# --- install and setup (binfmt-reg(8) FILES) ---
# binfmt-reg writes runbottle and the binfmt.d file itself (install --root: the package layout,
# /usr/libexec/runbottle and /usr/lib/binfmt.d/bottle.conf, nothing registered), so the file in
# the package is byte for byte what binfmt-reg would register. Without DESTDIR (a live system)
# no /usr/lib/binfmt.d file is written: binfmt-reg install writes /etc/binfmt.d, and uninstall
# removes it, so nothing re-registers the entries at boot behind uninstall's back.
BIN = $(shell $(SWIFT) build -c $(CONFIG) $(SWIFT_BUILD_FLAGS) --show-bin-path)
INSTALL_ROOT = $(if $(DESTDIR),$(abspath $(DESTDIR)),/)
BASH_COMPLETIONS := $(PREFIX)/share/bash-completion/completions
ZSH_COMPLETIONS := $(PREFIX)/share/zsh/vendor-completions
FISH_COMPLETIONS := $(PREFIX)/share/fish/vendor_completions.d
# The schema of binfmt-reg's --json documents, where binfmt-reg(8) names it.
SCHEMA_DIR := $(PREFIX)/share/binfmt-bottle
# gdb's system-wide gdbinit directory (Debian's gdb: --with-system-gdbinit-dir): every gdb reads
# runbottle.py from there, which lets `gdb -ex run` follow runbottle's userland exec.
GDBINITDIR ?= /etc/gdb/gdbinit.d

# What is installed is the self-contained build: it runs where Swift is not.
install uninstall setup: SWIFT_BUILD_FLAGS = $(RELEASE_FLAGS)
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(BASH_COMPLETIONS) \
	    $(DESTDIR)$(ZSH_COMPLETIONS) $(DESTDIR)$(FISH_COMPLETIONS) $(DESTDIR)$(GDBINITDIR) \
	    $(DESTDIR)$(SCHEMA_DIR)
	install -m 0755 $(BIN)/binfmt-reg $(DESTDIR)$(PREFIX)/bin/binfmt-reg
	$(BIN)/binfmt-reg install --root $(INSTALL_ROOT) $(if $(DESTDIR),,--no-persist)
	install -m 0644 gdb/runbottle.py $(DESTDIR)$(GDBINITDIR)/runbottle.py
	for page in $(wildcard man/*.5); do install -m 0644 $$page $(DESTDIR)$(PREFIX)/share/man/man5/; done
	for page in $(wildcard man/*.8); do install -m 0644 $$page $(DESTDIR)$(PREFIX)/share/man/man8/; done
	install -m 0644 man/binfmt-reg.schema.json $(DESTDIR)$(SCHEMA_DIR)/binfmt-reg.schema.json
	$(BIN)/binfmt-reg --generate-completion-script bash | sed '1{/^#!/d}' > $(DESTDIR)$(BASH_COMPLETIONS)/binfmt-reg
	$(BIN)/binfmt-reg --generate-completion-script zsh > $(DESTDIR)$(ZSH_COMPLETIONS)/_binfmt-reg
	$(BIN)/binfmt-reg --generate-completion-script fish > $(DESTDIR)$(FISH_COMPLETIONS)/binfmt-reg.fish

# Undoes install: without DESTDIR the entries and the /etc binfmt.d file go too.
uninstall:
	$(if $(DESTDIR),$(BIN)/binfmt-reg uninstall --root $(abspath $(DESTDIR)) --remove-interpreter,\
	    $(DESTDIR)$(PREFIX)/bin/binfmt-reg uninstall --remove-interpreter)
	rm -f $(DESTDIR)$(PREFIX)/bin/binfmt-reg $(DESTDIR)$(GDBINITDIR)/runbottle.py \
	    $(DESTDIR)$(BASH_COMPLETIONS)/binfmt-reg $(DESTDIR)$(ZSH_COMPLETIONS)/_binfmt-reg \
	    $(DESTDIR)$(FISH_COMPLETIONS)/binfmt-reg.fish
	for page in $(notdir $(wildcard man/*.5)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$$page; done
	for page in $(notdir $(wildcard man/*.8)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$$page; done
	rm -f $(DESTDIR)$(SCHEMA_DIR)/binfmt-reg.schema.json
	rmdir $(DESTDIR)$(SCHEMA_DIR) 2>/dev/null || true

# The README's first command: build, install, register the entries, prove the chain.
setup: deps install
	$(DESTDIR)$(PREFIX)/bin/binfmt-reg install
	$(DESTDIR)$(PREFIX)/bin/binfmt-reg status

# --- release: a self-contained binfmt-reg (no Swift runtime where it runs), the tarball, the .deb ---
VERSION := $(shell sed -n 's/.*version: "\(.*\)",/\1/p' Sources/binfmt-reg/BinfmtReg.swift)
ARCH := $(shell dpkg --print-architecture 2>/dev/null || uname -m)
DIST ?= dist
PACKAGE_DEPS := dpkg-dev lintian

release:
	$(MAKE) build CONFIG=release SWIFT_BUILD_FLAGS="$(RELEASE_FLAGS)"

# The tree a package installs, under $(DIST)/stage-NAME.
$(DIST)/stage-%: release
	rm -rf $@
	$(MAKE) install CONFIG=release SWIFT_BUILD_FLAGS="$(RELEASE_FLAGS)" DESTDIR=$(abspath $@) \
	    PREFIX=/usr

# binfmt-bottle-VERSION-ARCH.tar.gz: the package's tree (binaries, gzipped man pages,
# completions, binfmt.d file, gdb script) and LICENSE, NOTICE, README in its doc directory.
dist: $(DIST)/stage-dist
	find $< -path '*/man/*' -type f -name '*.[0-9]' -exec gzip -9nf {} +
	install -d $</usr/share/doc/binfmt-bottle
	install -m 0644 LICENSE NOTICE README.md $</usr/share/doc/binfmt-bottle/
	tar -C $< --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	    --transform 's,^\.,binfmt-bottle-$(VERSION),' -czf $(DIST)/binfmt-bottle-$(VERSION)-$(ARCH).tar.gz .
	@echo $(DIST)/binfmt-bottle-$(VERSION)-$(ARCH).tar.gz

# binfmt-bottle_VERSION_ARCH.deb (packaging/build-deb.sh), checked by lintian.
deb: $(DIST)/stage-deb
	$(call apt_install,$(PACKAGE_DEPS))
	sh packaging/build-deb.sh $(abspath $<) $(DIST) $(VERSION)
	lintian --fail-on error,warning $(DIST)/binfmt-bottle_$(VERSION)_$(ARCH).deb

# The installer image and the Kubernetes DaemonSet (deploy/README.md).
include deploy/image.mk
