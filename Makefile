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

# The patched sipgo copy (third_party/sipgo) is a module of its own,
# which ./... skips: its tests run from its directory.
test: cc
	scripts/test-deps.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	cd third_party/sipgo && $(GO) test -race -count=1 ./...

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

# Release packages: dist/deskpbx_VERSION_{amd64,arm64}.deb (see packaging/).
# nfpm runs as a pinned Go tool through go run: nothing of it enters go.mod,
# whose requirements stay the server's own. (v2.46+ needs a module host the
# Go proxy does not serve.)
NFPM := $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
DIST ?= dist
DEB_ARCHES := amd64 arm64
# Rises with every commit, so apt sees each build as an upgrade.
DEB_VERSION ?= $(shell git log -1 --format='0.1.0+git%cd.%h' --date=format:%Y%m%d%H%M%S 2>/dev/null || echo 0.1.0)
HOST_ARCH := $(shell $(GO) env GOHOSTARCH)
# cgo needs a C compiler for the target: the host's own, or Debian's cross one.
deb_cc = $(if $(filter $(HOST_ARCH),$(1)),$${CC:-gcc},$(if $(filter arm64,$(1)),aarch64-linux-gnu-gcc,x86_64-linux-gnu-gcc))

.PHONY: deb deb-cc $(DEB_ARCHES:%=deb-%)
deb: $(DEB_ARCHES:%=deb-%)

$(DEB_ARCHES:%=deb-%): deb-%: cc deb-cc
	mkdir -p $(DIST)/$*
	GOOS=linux GOARCH=$* CC=$(call deb_cc,$*) $(GO) build -trimpath -ldflags='-s -w' -o $(DIST)/$*/deskpbx ./cmd/deskpbx
	DEB_ARCH=$* DEB_VERSION=$(DEB_VERSION) DESKPBX_BIN=$(abspath $(DIST)/$*/deskpbx) $(NFPM) package -f packaging/nfpm.yaml -p deb -t $(DIST)/

# Installs Debian's arm64 cross compiler, the first time only.
deb-cc:
	@command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || [ "$(HOST_ARCH)" = arm64 ] || { \
		echo "installing gcc-aarch64-linux-gnu: cgo needs it to build SQLite for arm64"; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y gcc-aarch64-linux-gnu libc6-dev-arm64-cross; \
	}
