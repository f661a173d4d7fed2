# shakedown: `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := build/shakedown
OUT := out
FUZZTIME ?= 60s
PKGS := ./...
# VERSION is what `shakedown --version` and every results file say of a build.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_.-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build the shakedown binary into build/
	$(GO) build -ldflags "-X shakedown/version.release=$(VERSION)" -o $(BIN) ./cmd/shakedown

.PHONY: demo
demo: build ## the whole story on embedded defaults, ending in an HTML report
	$(BIN) demo --out $(OUT)/demo

.PHONY: deps
deps: ## install what the tests need (Debian packages; skips what is present)
	$(GO) mod download
	scripts/apt-install.sh $(APT_TEST_PACKAGES) $(APT_FIRMWARE_PACKAGES)

# Debian packages the tests use: services, and the firmware's toolchains and emulators.
APT_TEST_PACKAGES := ca-certificates postgresql mosquitto chromium
APT_FIRMWARE_PACKAGES := make gcc pkg-config gcc-avr avr-libc binutils-avr simavr libsimavr-dev libelf-dev \
	gcc-arm-none-eabi picolibc-arm-none-eabi gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf \
	qemu-system-arm qemu-system-misc gcc-xtensa-lx106 picolibc-xtensa-lx106-elf g++ \
	arduino-core-avr arduino-mk

.PHONY: test
test: tidy-check deps ## run every test: Go packages, the suites on a fleet and the emulated chips, the firmware (starts and stops PostgreSQL and mosquitto)
	gofmt_out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$gofmt_out" ]; then echo "gofmt needed: $$gofmt_out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(MAKE) -C boards/firmware agents
	SHAKEDOWN_REQUIRE_CHROMIUM=1 SHAKEDOWN_REQUIRE_EMULATORS=1 scripts/with-services.sh $(GO) test -count=1 -timeout 30m $(PKGS)
	@mkdir -p $(OUT)
	$(GO) test -count=1 -timeout 10m ./suites/ -args --fleet testdata/fleet.yaml -ginkgo.junit-report=$(CURDIR)/$(OUT)/junit-suites-fleet.xml
	# The ATmega328P's suite takes about 10 minutes on a quiet 2-core machine
	# and over 20 with both cores busy: an hour bounds a hang, not the chip.
	for chip in cortex-m3 rv32 nrf51 stm32f4 avr; do \
	  $(GO) test -count=1 -timeout 60m ./suites/ -args --emulated $$chip -ginkgo.junit-report=$(CURDIR)/$(OUT)/junit-suites-$$chip.xml || exit 1; \
	done
	$(MAKE) -C boards/firmware test-host test-chips test-agent size-cores arduino-uno

.PHONY: test-under-load
test-under-load: ## make test RUNS times in a row (default 3), each in a fresh clone of HEAD, under stress-ng --cpu 2; prints each run's time
	scripts/test-under-load.sh $(or $(RUNS),3)

.PHONY: screenshot
screenshot: ## photograph a report in headless Chromium for the README (docs/report.png)
	SHAKEDOWN_REQUIRE_CHROMIUM=1 SHAKEDOWN_UPDATE_SCREENSHOT=1 $(GO) test -count=1 -run TestReports ./reports -ginkgo.label-filter=browser

.PHONY: bench
bench: ## run the benchmarks and write docs-ready figures to out/bench.txt
	@mkdir -p $(OUT)
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./handshake/... ./server/registry/... ./harness/boardproto | tee $(OUT)/bench.txt
	scripts/with-services.sh $(GO) test -run '^$$' -bench 'NoiseHandshakeRate' -benchtime 3000x -count 5 ./server | tee -a $(OUT)/bench.txt
	$(GO) test -run '^$$' -bench '^BenchmarkServerCPU$$' -benchtime 3000x -count 5 -timeout 30m ./server/app | tee -a $(OUT)/bench.txt
	$(GO) run ./scripts/benchratio < $(OUT)/bench.txt | tee $(OUT)/ratios.txt

.PHONY: bench-sim
bench-sim: ## connect and publish knees of capacity searches on gateway noise, embedded plain, embedded TLS, mosquitto, and their ratios (DEVICES=5000 identities; MODE=fleet: one fixed fleet each)
	scripts/bench-sim.sh $(or $(DEVICES),5000)

.PHONY: bench-hostile
bench-hostile: ## legitimate devices' success and latency under each attack on the reference server, beside a quiet baseline (about 4 min)
	@mkdir -p $(OUT)
	$(GO) test -run '^$$' -bench '^BenchmarkHostile$$' -benchtime 1x -timeout 20m ./server/app | tee $(OUT)/bench-hostile.txt

.PHONY: bench-sim-scale
bench-sim-scale: ## DEVICES (100000) concurrent noise devices: sim shards against serve processes, judged pass/fail
	scripts/bench-sim-scale.sh $(or $(DEVICES),100000)

.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (default 60s)
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

.PHONY: lint
lint: tidy-check ## go.mod tidy, gofmt and go vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet $(PKGS)

# `go mod tidy -diff` changes nothing and exits 1, printing the diff, when
# go.mod or go.sum is not what tidy would write.
.PHONY: tidy-check
tidy-check: ## fail when go.mod or go.sum is not tidy
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run 'go mod tidy' and commit the result" >&2; exit 1; }

.PHONY: generate
generate: ## regenerate checked-in test vectors
	$(GO) generate ./...

.PHONY: clean
clean: ## remove build outputs
	rm -rf build $(OUT)
