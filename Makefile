SHELL := /bin/bash
# Everything a developer or CI runs. Go 1.26; tools are pinned and fetched
# through the module proxy, nothing is installed by hand.
GO          ?= go
FUZZTIME    ?= 30s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# package:target for every fuzz target of the project, found in the test
# files, so that a target the generator writes for a new kind is fuzzed too.
FUZZ_TARGETS = $(shell grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | \
               sed -E 's|^\./(.*)/[^/]*:func (Fuzz.*)|./\1/:\2|' | sort -u)
# Generated files live here; make test fails if generating changes them.
GENERATED    = wire docs fuzz internal/conform dissector

.PHONY: all generate check-generated build test fuzz bench lint clean wireshark

all: build

generate:
	$(GO) generate ./...

# check-generated regenerates and compares, so it works on a tree with
# uncommitted changes too: it fails only if the output is stale.
check-generated:
	@before=$$(find $(GENERATED) -type f | sort | xargs sha256sum); \
	$(GO) generate ./... || exit 1; \
	after=$$(find $(GENERATED) -type f | sort | xargs sha256sum); \
	if [ "$$before" != "$$after" ]; then \
		echo "generated files were stale; run 'make generate' and commit:"; \
		diff <(echo "$$before") <(echo "$$after"); exit 1; \
	fi

build:
	$(GO) build -o bin/ ./cmd/...

test: check-generated compat
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# compat fails on a breaking wire change of spec/mi.spec since COMPAT_REF
# that the spec does not acknowledge with a breaking statement (spec/README.md):
# by default the latest tag, else the commit that added the spec. Without
# that history (not a git checkout, a shallow clone) it says so and passes.
# gen reads the old spec from a temporary file but names it REF:spec/mi.spec.
COMPAT_REF ?= $(shell git describe --tags --abbrev=0 2>/dev/null || git log --diff-filter=A --format=%h -- spec/mi.spec 2>/dev/null | tail -1)

.PHONY: compat
compat:
	@ref='$(COMPAT_REF)'; \
	skip() { echo "compat: skipped: $$1; set COMPAT_REF to a commit or tag that has spec/mi.spec"; exit 0; }; \
	[ -n "$$ref" ] || skip "no git history for spec/mi.spec (not a git checkout?)"; \
	git cat-file -e "$$ref:spec/mi.spec" 2>/dev/null || skip "$$ref:spec/mi.spec is not in this checkout (a shallow clone?)"; \
	if [ "$$(git rev-parse --is-shallow-repository)" = true ] && \
		grep -qx "$$(git rev-parse "$$ref^{commit}")" "$$(git rev-parse --git-path shallow)" 2>/dev/null; then \
		skip "this clone is shallow and $$ref is where its history is cut, not a version of the spec"; \
	fi; \
	tmp=$$(mktemp -d) || exit 1; trap 'rm -rf "$$tmp"' EXIT; \
	old="$$tmp/mi.spec@$$(git rev-parse --short "$$ref")"; \
	git show "$$ref:spec/mi.spec" > "$$old" || exit 1; \
	echo "compat: spec/mi.spec against $$ref:spec/mi.spec"; \
	$(GO) run ./gen -spec spec/mi.spec -compat "$$old" -compat-name "$$ref:spec/mi.spec"

# fuzz runs every target for FUZZTIME, two at a time where the machine has
# the cores for it (one worker each on two cores), through .ci/fuzz, each
# new interesting input minimized for at most FUZZMINTIME.
CORES     := $(shell nproc 2>/dev/null || echo 1)
FUZZJOBS  ?= $(shell [ $(CORES) -ge 2 ] && echo 2 || echo 1)
FUZZMINTIME ?= 2s
fuzz:
	@FUZZTIME='$(FUZZTIME)' MINTIME='$(FUZZMINTIME)' JOBS='$(FUZZJOBS)' PAR=$$(( $(CORES) / $(FUZZJOBS) > 0 ? $(CORES) / $(FUZZJOBS) : 1 )) GO='$(GO)' ./.ci/fuzz $(FUZZ_TARGETS)

# fuzz-keep copies the inputs that fuzz runs found interesting, which go
# test keeps in its cache only, into each target's testdata/fuzz, where
# they become seeds every go test runs: review them, then commit.
.PHONY: fuzz-keep
fuzz-keep:
	@cache=$$($(GO) env GOCACHE)/fuzz; \
	for pt in $(FUZZ_TARGETS); do \
		pkg=$${pt%%:*}; t=$${pt##*:}; src="$$cache/$$($(GO) list $$pkg)/$$t"; \
		[ -d "$$src" ] || continue; \
		dst="$${pkg%/}/testdata/fuzz/$$t"; mkdir -p "$$dst"; n=0; \
		for f in "$$src"/*; do \
			[ -e "$$dst/$$(basename "$$f")" ] || { cp "$$f" "$$dst/"; n=$$((n+1)); }; \
		done; \
		echo "$$t: $$n new inputs in $$dst"; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin

# wireshark installs the generated dissector as a personal Lua plugin of
# Wireshark and tshark (4.0 and later); they load it when they start.
WIRESHARK_PLUGINS ?= $(HOME)/.local/lib/wireshark/plugins
wireshark:
	install -d '$(WIRESHARK_PLUGINS)'
	install -m 0644 dissector/mi.lua '$(WIRESHARK_PLUGINS)/mi.lua'
	@echo "installed $(WIRESHARK_PLUGINS)/mi.lua: restart Wireshark, or Analyze > Reload Lua Plugins"

.PHONY: demo demo-live demo-cluster
# Each says what it builds before Go compiles, which the first time (modules
# to fetch, nothing cached) takes a minute of silence otherwise.
BUILDING = echo "building $(1)... (the first build may take a minute)"

# The whole system on loopback: DNS, two nodes, two agents chatting. Built
# into a temporary directory, which the trap removes.
demo:
	@bin=$$(mktemp -d) || exit 1; trap 'rm -rf "$$bin"' EXIT; \
	$(call BUILDING,mi-demo); \
	$(GO) build -o "$$bin/mi-demo" ./cmd/mi-demo && "$$bin/mi-demo"

# One domain on three lumi-node processes sharing a redis-server (Debian's:
# apt-get install redis-server), agents calling across them, one node
# killed. mi-demo finds lumi-node beside itself: both are built into a
# temporary directory, which the trap removes.
demo-cluster:
	@bin=$$(mktemp -d) || exit 1; trap 'rm -rf "$$bin"' EXIT; \
	$(call BUILDING,mi-demo and lumi-node); \
	$(GO) build -o "$$bin/" ./cmd/mi-demo ./cmd/lumi-node && "$$bin/mi-demo" -cluster

# DNS and two nodes, left running to chat by hand with mi-agent; Ctrl-C
# stops them and exits 0. Built, not go run: go run exits 1 when it gets the
# terminal's SIGINT, whatever the program's status. mi-demo removes its own
# temporary directory; the trap removes the binary's.
demo-live:
	@bin=$$(mktemp -d) || exit 1; trap 'rm -rf "$$bin"' EXIT; \
	$(call BUILDING,mi-demo); \
	$(GO) build -o "$$bin/mi-demo" ./cmd/mi-demo && "$$bin/mi-demo" -live
