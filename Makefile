# The two set-up commands of the README, and the packager's install.
#   sudo make setup   build, install, register the entry, prove the chain (binfmt-reg status)
#   make check        install the test oracles, build, run every test
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift
CONFIG ?= release

BUILD_DEPS := libcap-dev gcc make
TEST_DEPS := libcap-dev gcc make elfutils patchelf musl-tools mandoc man-db gdb strace \
             libcap2-bin systemd util-linux g++ gcc-multilib file

.PHONY: all build deps test-deps check setup install

all: build

build:
	$(SWIFT) build -c $(CONFIG)

# Installs only what dpkg lacks, so a machine that has everything needs no root.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing:" $$missing; \
	  apt-get install -y -qq $$missing >/dev/null; fi
endef

deps:
	$(call apt_install,$(BUILD_DEPS))

test-deps:
	$(call apt_install,$(TEST_DEPS))

check: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test
