# SPDX-License-Identifier: Apache-2.0
# tresor: `make run` and `make test` work on a fresh Debian 12 machine.
# The real build is Meson + Ninja; this file wraps it.

BUILD      ?= build
ASAN_BUILD ?= build-asan
DATA       ?= .tresor
LISTEN     ?= 127.0.0.1:8200
ENDPOINT   ?= http://$(LISTEN)

.PHONY: all deps deps-test build build-asan run test test-unit test-asan \
	bench clean fuzz fuzz-smoke fuzz-replay crash soak

BENCH_QUICK ?=
FUZZ_SECONDS ?= 60

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	CC=clang meson setup $(ASAN_BUILD) --buildtype=debug \
	    -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dc_args=-fno-sanitize-recover=all

build-asan: deps-test $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

run: build
	@if [ ! -e $(DATA)/root.key ]; then \
	    $(BUILD)/tresord init --data $(DATA) --endpoint $(ENDPOINT); \
	fi
	@echo
	@echo "tresord on $(ENDPOINT) (embedded SQLite, data in $(DATA))"
	@echo "admin profile: $$(cd $(DATA) && pwd)/admin/config (profile DEFAULT)"
	@echo "example: OCI_CLI_CONFIG_FILE=$(DATA)/admin/config" \
	    "node -e \"const c=require('oci-common'),k=require('oci-keymanagement');" \
	    "const v=new k.KmsVaultClient({authenticationDetailsProvider:new c.ConfigFileAuthenticationDetailsProvider('$(DATA)/admin/config')});" \
	    "v.endpoint='$(ENDPOINT)';v.listVaults({compartmentId:'<tenancy OCID from the config>'}).then(r=>console.log(r.items))\""
	@echo
	exec $(BUILD)/tresord serve --data $(DATA) --listen $(LISTEN)

# Every test: unit, integration and SDK interop, then again under
# AddressSanitizer and UndefinedBehaviorSanitizer.
test: deps-test build build-asan
	meson test -C $(BUILD) --print-errorlogs
	meson test -C $(ASAN_BUILD) --print-errorlogs
	$(MAKE) fuzz-smoke

test-unit: deps-test build
	meson test -C $(BUILD) --suite unit --print-errorlogs

# libFuzzer (clang, -fsanitize=fuzzer,address,undefined) on every parser of
# untrusted bytes: `make fuzz` runs each target FUZZ_SECONDS; the smoke
# (part of `make test`) replays corpora and regressions, then 5 s each.
fuzz: deps-test
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh run

fuzz-smoke: deps-test
	FUZZ_SECONDS=5 scripts/fuzz.sh smoke

fuzz-replay: deps-test
	scripts/fuzz.sh replay

# The long reliability runs (tests/crash: 50 SIGKILL rounds; tests/soak:
# 10 minutes of mixed load); `make test` runs a short crash test.
crash: build
	tests/crash/crash.sh

soak: build
	tests/soak/soak.sh

# Benchmarks (not tests): bench/results.md, and RESULT lines on stdout.
# BENCH_QUICK=1: a smoke run, every phase about 1 s.
bench:
	BENCH_QUICK=$(BENCH_QUICK) bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-release build-fuzz
