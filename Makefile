# deskpbx: `make run` and `make test` must work on a fresh Debian 12 box
# that has only Go installed.

GO ?= go
BIN := bin/deskpbx

# SQLite comes in through cgo. Without a C compiler Go silently builds
# with cgo off, and the binary would fail only when it opens its database.
export CGO_ENABLED := 1

# apt needs root; sudo only when we are not root already.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: build run test bench fmt vet cc fuzz

build: cc
	$(GO) build -o $(BIN) ./cmd/deskpbx

run: build
	./$(BIN) serve

test: cc
	scripts/test-deps.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# Every Go fuzz target (func FuzzXxx in a _test.go file), each for
# FUZZTIME: parsers of what the network or an upload sends. Found by grep,
# so a new target is fuzzed without editing this file. A crasher is saved
# under the package's testdata/fuzz and replayed by `make test` from then.
FUZZTIME ?= 10s
fuzz: cc
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do \
		pkg=./$$(dirname "$${f#./}"); \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
			$(GO) test "$$pkg" -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME); \
		done; \
	done

bench: cc
	scripts/bench.sh

fmt:
	gofmt -l -w .

vet: cc
	$(GO) vet ./...

# Installs the C compiler cgo needs, the first time only.
cc:
	@command -v "$${CC:-gcc}" >/dev/null 2>&1 || { \
		command -v apt-get >/dev/null 2>&1 || { echo "deskpbx needs a C compiler (gcc) for SQLite: please install one" >&2; exit 1; }; \
		echo "installing gcc: cgo needs it to build SQLite"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y gcc libc6-dev; \
	}
