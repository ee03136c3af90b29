# Thin convenience wrapper over meson (meson.build is the real build).
#   make run [ARGS="run race"]   install missing deps, build, start the tutor
#   make test                    every test suite: plain, ASan+UBSan, TSan
#   make bench                   the benchmark demos with their default sizes
#   make deps | build | install | clean

BUILD  ?= build
ARGS   ?=
PREFIX ?= /usr/local

# Debian package for each pkg-config module and each tool the build needs.
PC_PKGS   := libedit:libedit-dev cmocka:libcmocka-dev jansson:libjansson-dev \
             sqlite3:libsqlite3-dev libmicrohttpd:libmicrohttpd-dev \
             libcurl:libcurl4-openssl-dev
TOOL_PKGS := meson:meson ninja:ninja-build pkg-config:pkg-config cc:gcc

.PHONY: all deps build run test bench install clean

all: build

deps:
	@missing=""; \
	for pair in $(TOOL_PKGS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	for pair in $(PC_PKGS); do \
	  { command -v pkg-config >/dev/null 2>&1 && pkg-config --exists $${pair%%:*}; } \
	    || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	echo "deps: missing:$$missing"; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "deps: run as root: apt-get update && apt-get install -y$$missing"; exit 1; \
	fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

build: deps $(BUILD)/build.ninja
	meson compile -C $(BUILD)

run: build
	@./$(BUILD)/cmd/concur-tutor $(ARGS)

test: deps
	tests/run-suites.sh

# Every demo flagged as a benchmark, with its default (full) sizes.
bench: build
	@for demo in $$(./$(BUILD)/cmd/concur-tutor __benchmarks); do \
	  ./$(BUILD)/cmd/concur-tutor run $$demo || exit 1; \
	done

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan
