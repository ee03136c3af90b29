# Thin convenience wrapper over meson (meson.build is the real build).
#   make run [ARGS="run race"]   install missing deps, build, start the tutor
#   make test                    every test suite: plain, ASan+UBSan, TSan (and the
#                                browser test where Chromium is installed)
#   make test-browser            install Chromium if missing, then render the HTML pages
#   make bench                   the benchmark demos with their default sizes
#   make fuzz [FUZZ_SECONDS=60]   the parsers under libFuzzer, for longer
#   make deps | build | install | clean

BUILD  ?= build
ARGS   ?=
PREFIX ?= /usr/local

# Debian package for each pkg-config module and each tool the build needs.
PC_PKGS   := libedit:libedit-dev cmocka:libcmocka-dev jansson:libjansson-dev \
             sqlite3:libsqlite3-dev libmicrohttpd:libmicrohttpd-dev \
             libcurl:libcurl4-openssl-dev
TOOL_PKGS := meson:meson ninja:ninja-build pkg-config:pkg-config cc:gcc clang:clang
# libFuzzer's runtime, for the fuzz targets (make test runs them briefly)
FILE_PKGS := /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a:libclang-rt-14-dev

.PHONY: all deps build run test test-browser bench fuzz install clean

all: build

deps:
	@missing=""; \
	for pair in $(TOOL_PKGS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	for pair in $(FILE_PKGS); do \
	  ls $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
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

# The HTML pages in a real browser: headless Chromium from Debian.
test-browser: build
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "test-browser: run as root: apt-get update && apt-get install -y chromium"; exit 1; \
	  fi; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }
	tests/test-browser.sh $(BUILD)

# Every demo flagged as a benchmark, with its default (full) sizes.
bench: build
	@for demo in $$(./$(BUILD)/cmd/concur-tutor __benchmarks); do \
	  ./$(BUILD)/cmd/concur-tutor run $$demo || exit 1; \
	done

# The libFuzzer targets for as long as asked: make fuzz FUZZ_SECONDS=600
FUZZ_SECONDS ?= 60
fuzz: deps
	@test -f build-fuzz/build.ninja || CC=clang meson setup build-fuzz -Dfuzz=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dtests=disabled
	meson compile -C build-fuzz fuzz-params fuzz-words fuzz-options fuzz-lessons fuzz-decoder
	@for t in params words options lessons decoder; do \
	  echo "== fuzz-$$t for $(FUZZ_SECONDS) s"; \
	  mkdir -p build-fuzz/corpus/$$t && \
	  ./build-fuzz/tests/fuzz/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -artifact_prefix=build-fuzz/ build-fuzz/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

install: build
	meson install -C $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
