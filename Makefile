# blocpress — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN       := $(CURDIR)/bin
SERVICES  := ingest image-resize moderation render view-counter site
MODULES   := libs proto deploy $(addprefix services/,$(SERVICES))
PKGS      := $(addsuffix /...,$(addprefix ./,$(MODULES)))

# Pinned tool versions, installed with `go install` into ./bin.
MINIO_VERSION          := v0.0.0-20260212201848-7aac2a2c5b7c
BUF_VERSION            := v1.61.0
PROTOC_GEN_GO_VERSION  := v1.36.11

export PATH := $(BIN):$(PATH)

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: $(BIN)/minio $(BIN)/buf $(BIN)/protoc-gen-go redis chromium ## install what is missing: redis and chromium (Debian), minio, buf, protoc-gen-go (pinned, into ./bin)

$(BIN)/minio:
	@echo "installing minio $(MINIO_VERSION) into $(BIN) (takes a few minutes the first time)…"
	GOBIN=$(BIN) go install github.com/minio/minio@$(MINIO_VERSION)

$(BIN)/buf:
	GOBIN=$(BIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)

$(BIN)/protoc-gen-go:
	GOBIN=$(BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

# apt_ensure,COMMAND,PACKAGE installs PACKAGE from Debian's packages when
# COMMAND is missing (with sudo when not root; no prompt, no stdin).
define apt_ensure
@command -v $(1) >/dev/null || { \
  echo "installing $(2) from Debian's packages…"; \
  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2) </dev/null || \
  { $$SUDO apt-get update -q </dev/null && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(2) </dev/null; }; }
endef

redis:
	$(call apt_ensure,redis-server,redis-server)

# chromium drives the browser tests (chromedp) of the review desk.
chromium:
	$(call apt_ensure,chromium,chromium)

build: ## build every service into ./bin
	@for s in $(SERVICES); do go build -o $(BIN)/$$s ./services/$$s || exit 1; done
	go build -o $(BIN)/blocpress-local ./deploy/cmd/blocpress-local
	go build -o $(BIN)/blocpress-dlq ./deploy/cmd/blocpress-dlq
	go build -o $(BIN)/blocpress ./deploy/cmd/blocpress

run: deps build ## start the platform with demo tenants and the sample articles (Ctrl-C stops it)
	$(BIN)/blocpress-local -root $(CURDIR) -data $(CURDIR)/data -bin $(BIN) $(RUN_FLAGS)

test: deps ## every module's tests, with the race detector, against real NATS, MinIO and Redis
	go test -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) --no-print-directory check-generated

# import-legacy T=hungyen DIR=path/to/dumps imports legacy article pages into a
# tenant of the platform `make run` started (see `bin/blocpress import -h`).
import-legacy: build ## import legacy article pages: make import-legacy T=<tenant> DIR=<dumps> [IMPORT_FLAGS=--dry-run]
	@test -n "$(T)" -a -n "$(DIR)" || { echo "usage: make import-legacy T=<tenant> DIR=<dir or files> [IMPORT_FLAGS=…]"; exit 2; }
	$(call apt_ensure,jq,jq)
	$(BIN)/blocpress import --ingest http://localhost:8081 --tenant $(T) \
	  --key "$$(jq -r '.tenants["$(T)"].admin_key' data/credentials.json)" $(IMPORT_FLAGS) $(DIR)

bench: deps ## Go benchmarks of every module
	go test -run '^$$' -bench . -benchmem $(PKGS)

bench-images: deps ## image-resize against Debian's vipsthumbnail on real wallpapers (see services/image-resize/bench)
	services/image-resize/bench/run.sh

bench-render: deps ## a 10,000-article tenant rendered by blocpress and by Hugo (see services/render/bench)
	services/render/bench/run.sh

bench-publish: deps ## publishing one article into a 10,000-article tenant, end to end (render + S3 + site cache invalidated)
	go test -run '^$$' -bench PublishOneEndToEnd -benchtime 30x ./services/render

check-pages: deps build ## W3C validator, axe-core, Lighthouse and screenshots on the demo site (see services/render/check)
	services/render/check/run.sh

bench-views: deps ## view-counter beacons (wrk) against redis-benchmark INCR (see services/view-counter/bench)
	services/view-counter/bench/run.sh $(BENCH_VIEWS_ARGS)

generate: $(BIN)/buf $(BIN)/protoc-gen-go ## regenerate the Go code of proto/
	cd proto && rm -rf gen && $(BIN)/buf generate

check-generated: generate ## fail if the committed generated code is stale
	@git diff --exit-code --stat -- proto/gen || { echo "proto/gen is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git status --porcelain -- proto/gen)" || { echo "proto/gen has uncommitted files: run 'make generate' and commit"; exit 1; }

lint: $(BIN)/buf ## gofmt, go vet, buf lint, and buf breaking against main
	@out=$$(gofmt -l $(MODULES)); test -z "$$out" || { echo "gofmt would change:"; echo "$$out"; exit 1; }
	go vet $(PKGS)
	cd proto && $(BIN)/buf lint
	@if git rev-parse -q --verify main:proto/buf.yaml >/dev/null; then \
	  cd proto && $(BIN)/buf breaking --against '../.git#branch=main,subdir=proto'; fi

clean: ## remove built binaries (keeps ./data)
	rm -f $(addprefix $(BIN)/,$(SERVICES) blocpress-local blocpress-dlq)

.PHONY: help deps redis chromium build run import-legacy test bench bench-images bench-render bench-publish check-pages bench-views generate check-generated lint clean
