# gpumesh — `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BUILD_DIR := build
TOOLS_DIR := $(abspath $(BUILD_DIR)/tools)

# Tool versions. The protobuf generators follow go.mod, so generated code
# always matches the runtime libraries it links against.
BUF_VERSION          := v1.64.0
GOLANGCI_VERSION     := v2.15.0
GOGOPROTO_VERSION    := $(shell $(GO) list -m -f '{{.Version}}' github.com/cosmos/gogoproto)
GRPC_GATEWAY_VERSION := $(shell $(GO) list -m -f '{{.Version}}' github.com/grpc-ecosystem/grpc-gateway)
# The sidecar's API (proto/gpumesh/sidecar) uses standard Go protobuf, gRPC
# and grpc-gateway v2; these generators are pinned the same way.
PROTOBUF_VERSION        := $(shell $(GO) list -m -f '{{.Version}}' google.golang.org/protobuf)
GRPC_GATEWAY_V2_VERSION := $(shell $(GO) list -m -f '{{.Version}}' github.com/grpc-ecosystem/grpc-gateway/v2)
GO_GRPC_VERSION         := v1.6.2

# Version and commit stamped into the binaries: the latest v* tag (or
# v0.1.0-dev) with the commit as build metadata, e.g. v0.1.0-dev+3f2a1b9c0d1e.
COMMIT       := $(or $(shell git rev-parse --verify -q HEAD 2>/dev/null),unknown)
SHORT_COMMIT := $(or $(shell git rev-parse --verify -q --short=12 HEAD 2>/dev/null),unknown)
BASE_VERSION := $(shell git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || echo v0.1.0-dev)
DIRTY        := $(shell git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo .dirty)
VERSION      ?= $(BASE_VERSION)+$(SHORT_COMMIT)$(DIRTY)

VERSION_PKG := github.com/cosmos/cosmos-sdk/version
LDFLAGS := -X $(VERSION_PKG).Name=gpumesh -X $(VERSION_PKG).AppName=gpumeshd \
           -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Commit=$(COMMIT)

# Test timeouts: the whole `make test` must stay well inside CI's budget.
UNIT_TIMEOUT ?= 15m
E2E_TIMEOUT  ?= 15m

.PHONY: help build install demo test test-unit test-e2e test-race bench bench-micro \
        proto-gen proto-lint openapi lint localnet-start localnet-stop clean tools

## help: list the targets
help:
	@sed -n 's/^## \([a-z0-9-]*\): /\1\t/p' $(MAKEFILE_LIST) | awk -F'\t' '{printf "  %-16s %s\n", $$1, $$2}'

## build: build build/gpumeshd and build/gpumesh-provider (and, for the demo and e2e tests only, build/gpumesh-provider-faulty with --fault)
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/gpumeshd ./cmd/gpumeshd
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/gpumesh-provider ./cmd/gpumesh-provider
	$(GO) build -tags gpumesh_faults -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/gpumesh-provider-faulty ./cmd/gpumesh-provider

## install: install gpumeshd and gpumesh-provider into GOBIN
install:
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/gpumeshd ./cmd/gpumesh-provider

## demo: the main job: the whole market on a local chain with three mock-GPU sidecars, then stop it
demo: build
	$(GO) run ./scripts/demo

## test: everything CI runs: unit, integration and end-to-end tests
test: test-unit test-e2e

## test-unit: unit and in-process integration tests
test-unit:
	$(GO) test -count=1 -timeout $(UNIT_TIMEOUT) ./...
	$(GO) test -count=1 -tags gpumesh_faults ./cmd/gpumesh-provider/cmd/ ./cmd/gpumesh-provider/prover/

## test-e2e: end-to-end tests with real gpumeshd processes on loopback
test-e2e: build
	GPUMESHD=$(abspath $(BUILD_DIR)/gpumeshd) GPUMESH_PROVIDER=$(abspath $(BUILD_DIR)/gpumesh-provider) GPUMESH_PROVIDER_FAULTY=$(abspath $(BUILD_DIR)/gpumesh-provider-faulty) $(GO) test -count=1 -tags e2e -timeout $(E2E_TIMEOUT) ./testutil/e2e/...

## test-race: unit tests under the race detector
test-race:
	$(GO) test -race -count=1 -timeout 30m ./...

BENCH_OUT     ?= $(BUILD_DIR)/bench
BENCH_TIMEOUT ?= 20m

## bench: the benchmark suite (in-process and 4-validator network); writes docs/benchmarks.md and its plots
# Every in-process suite runs in a process of its own, one at a time: the
# SDK never closes a chain's IAVL trees, so a suite's 100 000-lease state
# would stay in the heap and slow the collector under the next suite, and
# no suite's timings share the cores with another's.
bench: build
	rm -rf $(BENCH_OUT) && mkdir -p $(BENCH_OUT)
	for pkg in ./testutil/bench/ ./testutil/bench/proofcost/; do \
		suites=$$($(GO) test -list '^Test' $$pkg | grep '^Test') || exit 1; \
		for suite in $$suites; do \
			GPUMESH_BENCH_OUT=$(abspath $(BENCH_OUT)) $(GO) test -count=1 -timeout $(BENCH_TIMEOUT) \
				-run "^$$suite\$$" -v $$pkg || exit 1; \
		done; \
	done 2>&1 | tee $(BENCH_OUT)/inprocess.log | grep -E '^(---|ok|FAIL|panic)'
	GPUMESH_BENCH_OUT=$(abspath $(BENCH_OUT)) GPUMESHD=$(abspath $(BUILD_DIR)/gpumeshd) \
		GPUMESH_PROVIDER=$(abspath $(BUILD_DIR)/gpumesh-provider) \
		GPUMESH_PROVIDER_FAULTY=$(abspath $(BUILD_DIR)/gpumesh-provider-faulty) $(GO) test -count=1 -tags e2e -timeout $(BENCH_TIMEOUT) \
		-run '^TestBench' -v ./testutil/e2e/ 2>&1 | tee $(BENCH_OUT)/network.log | grep -E '^(---|ok|FAIL|panic)'
	$(GO) run ./testutil/bench/report -in $(BENCH_OUT) -out docs/benchmarks.md

## bench-micro: the Go micro-benchmarks (proof math, escrow queues, EndBlock) with -benchmem
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## proto-gen: regenerate *.pb.go and *.pb.gw.go from proto/ (reproducible)
proto-gen: $(TOOLS_DIR)/.buf-$(BUF_VERSION) $(TOOLS_DIR)/.gocosmos-$(GOGOPROTO_VERSION) $(TOOLS_DIR)/.grpc-gateway-$(GRPC_GATEWAY_VERSION) \
           $(TOOLS_DIR)/.go-$(PROTOBUF_VERSION) $(TOOLS_DIR)/.go-grpc-$(GO_GRPC_VERSION) $(TOOLS_DIR)/.grpc-gateway-v2-$(GRPC_GATEWAY_V2_VERSION)
	PATH="$(TOOLS_DIR):$$PATH" ./scripts/protocgen.sh gen

## proto-lint: lint proto/ with buf
proto-lint: $(TOOLS_DIR)/.buf-$(BUF_VERSION)
	PATH="$(TOOLS_DIR):$$PATH" ./scripts/protocgen.sh lint

## openapi: regenerate docs/openapi.yaml from the modules' REST query routes (reproducible)
openapi: $(TOOLS_DIR)/.buf-$(BUF_VERSION) $(TOOLS_DIR)/.openapiv2-$(GRPC_GATEWAY_V2_VERSION)
	PATH="$(TOOLS_DIR):$$PATH" ./scripts/protocgen.sh openapi

# Import paths of the state-machine packages (app and every module's keeper
# and types), where tools/maprange rejects ranging over a Go map;
# tools/maprange/repo_test.go selects the same packages, so that `make test`
# enforces the rule too.
STATE_MACHINE_PKG_RE := /app$$|/x/[^/]+/(keeper|types)$$

## lint: go vet, maprange on the state-machine packages, and golangci-lint
lint: $(TOOLS_DIR)/.golangci-lint-$(GOLANGCI_VERSION)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./testutil/e2e/...
	pkgs=$$($(GO) list ./app/... ./x/... | grep -E '$(STATE_MACHINE_PKG_RE)'); \
		$(GO) run ./tools/maprange/cmd/maprange -test=false $$pkgs
	$(TOOLS_DIR)/golangci-lint run ./...

## tools: install the pinned code generators and linters into build/tools
tools: $(TOOLS_DIR)/.buf-$(BUF_VERSION) $(TOOLS_DIR)/.gocosmos-$(GOGOPROTO_VERSION) \
       $(TOOLS_DIR)/.grpc-gateway-$(GRPC_GATEWAY_VERSION) $(TOOLS_DIR)/.golangci-lint-$(GOLANGCI_VERSION) \
       $(TOOLS_DIR)/.go-$(PROTOBUF_VERSION) $(TOOLS_DIR)/.go-grpc-$(GO_GRPC_VERSION) $(TOOLS_DIR)/.grpc-gateway-v2-$(GRPC_GATEWAY_V2_VERSION)

$(TOOLS_DIR)/.buf-%:
	GOBIN=$(TOOLS_DIR) $(GO) install github.com/bufbuild/buf/cmd/buf@$*
	touch $@
$(TOOLS_DIR)/.gocosmos-%:
	GOBIN=$(TOOLS_DIR) $(GO) install github.com/cosmos/gogoproto/protoc-gen-gocosmos@$*
	touch $@
$(TOOLS_DIR)/.grpc-gateway-%:
	GOBIN=$(TOOLS_DIR) $(GO) install github.com/grpc-ecosystem/grpc-gateway/protoc-gen-grpc-gateway@$*
	touch $@
$(TOOLS_DIR)/.go-grpc-%:
	GOBIN=$(TOOLS_DIR) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$*
	touch $@
$(TOOLS_DIR)/.go-%:
	GOBIN=$(TOOLS_DIR) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$*
	touch $@
# The v2 gateway plugin has the v1 plugin's name: install it aside and rename.
$(TOOLS_DIR)/.grpc-gateway-v2-%:
	rm -rf $(TOOLS_DIR)/gw2 && mkdir -p $(TOOLS_DIR)/gw2
	GOBIN=$(TOOLS_DIR)/gw2 $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$*
	mv $(TOOLS_DIR)/gw2/protoc-gen-grpc-gateway $(TOOLS_DIR)/protoc-gen-grpc-gateway-v2 && rm -rf $(TOOLS_DIR)/gw2
	touch $@
$(TOOLS_DIR)/.openapiv2-%:
	GOBIN=$(TOOLS_DIR) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$*
	touch $@
$(TOOLS_DIR)/.golangci-lint-%:
	GOBIN=$(TOOLS_DIR) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$*
	touch $@

## localnet-start: start a local network (VALIDATORS=N, default 1)
localnet-start:
	./scripts/localnet.sh start --validators $(or $(VALIDATORS),1)

## localnet-stop: stop the local network
localnet-stop:
	./scripts/localnet.sh stop

## clean: remove binaries, local networks and generator scratch space (keeps build/tools)
clean:
	-./scripts/localnet.sh stop 2>/dev/null
	rm -rf $(BUILD_DIR)/gpumeshd $(BUILD_DIR)/gpumesh-provider $(BUILD_DIR)/gpumesh-provider-faulty .localnet .protodeps .protogen
