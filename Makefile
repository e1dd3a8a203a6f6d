# Tapedeck's build. Two commands matter to a person: `make run` and `make test`.
# Everything they need is installed or built here, so both work on a fresh Debian/Ubuntu machine.

GO        ?= go
BUILD     := $(CURDIR)/build
BIN       := $(BUILD)/tapedeck
BIN_NOGUI := $(BUILD)/tapedeck-nogui

# One wazero compilation cache for every test package: a JS component takes seconds to compile.
export TAPEDECK_TEST_CACHE_DIR := $(BUILD)/cache/wazero
# Where `make testdata` leaves the test components (git-ignored), for the tests to find.
export TAPEDECK_TEST_COMPONENTS := $(BUILD)/components
# The secrets tests run against a real gnome-keyring (installed by deps-test): fail, never skip.
export TAPEDECK_REQUIRE_KEYRING := 1

# The packages that must build and test without cgo (and so without Fyne).
NOGUI_PKGS := ./sandbox/... ./mcpbridge/... ./internal/...
GUI_PKGS   := ./app/... .

GO_SOURCES := $(shell find . -name '*.go' -not -path './build/*' 2>/dev/null) go.mod go.sum

.PHONY: all run build build-nogui deps deps-test deps-windows testdata test test-go test-race test-gui \
        test-editor-clis test-mcp-clients warm-cache vet fmtcheck nocgo cross-windows test-windows bench fuzz clean

all: build

## deps: install the Debian packages the build needs (skips what is present).
deps: $(BUILD)/.deps-build
$(BUILD)/.deps-build: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	scripts/install-deps.sh build
	@touch $@

deps-test: $(BUILD)/.deps-test
$(BUILD)/.deps-test: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	scripts/install-deps.sh build test
	@touch $@

deps-windows: $(BUILD)/.deps-windows
$(BUILD)/.deps-windows: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	scripts/install-deps.sh windows
	@touch $@

## build: the desktop app (cgo + Fyne) at build/tapedeck.
build: $(BIN)
$(BIN): $(GO_SOURCES) | deps
	$(GO) build -o $@ .

## build-nogui: a headless binary (no cgo, no Fyne) for servers and CI.
build-nogui: $(BIN_NOGUI)
$(BIN_NOGUI): $(GO_SOURCES)
	CGO_ENABLED=0 $(GO) build -tags nogui -o $@ .

## cross-windows: the desktop app (cgo + Fyne) cross-compiled for Windows at build/tapedeck.exe
## with MinGW-w64, after vetting its packages for Windows. A cold build takes minutes (Fyne's
## cgo); a warm one seconds. macOS cannot be cross-compiled with cgo here: Debian has no SDK.
WINDOWS_CGO := CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc
cross-windows: $(BUILD)/tapedeck.exe
$(BUILD)/tapedeck.exe: $(GO_SOURCES) | deps-windows
	$(WINDOWS_CGO) $(GO) vet $(GUI_PKGS)
	$(WINDOWS_CGO) $(GO) build -o $@ .

## test-windows: the Windows-only code's tests (named pipe, local socket, control socket, relay,
## MCP server and hand-over, owner lock) cross-compiled and run as Windows programs under Wine;
## seconds warm. What Wine cannot check is skipped there with the reason (scripts/test-windows.sh).
test-windows: | deps-windows
	GO=$(GO) scripts/test-windows.sh $(BUILD)

## run: start Tapedeck: the tray app on a desktop, the headless server elsewhere.
run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then exec $(BIN); \
	else echo "no display: starting the headless server (tapedeck serve)"; exec $(BIN) serve; fi

## testdata: build the test components from their sources (cached by source hash).
testdata: deps-test
	scripts/build-components.sh $(TAPEDECK_TEST_COMPONENTS)

## test: everything CI runs.
test: fmtcheck vet nocgo testdata test-race test-gui test-editor-clis test-mcp-clients cross-windows test-windows

## test-mcp-clients: the MCP Inspector CLI, the TypeScript SDK clients (1.x and v2) and the conformance suite
## (pinned, from npm) against a headless Tapedeck.
test-mcp-clients: testdata
	scripts/test-mcp-clients.sh

## test-editor-clis: the editors' own CLIs (pinned, from npm) see what `tapedeck clients connect` writes.
test-editor-clis: deps-test
	scripts/test-editor-clis.sh

fmtcheck:
	@out=$$(gofmt -l $$(git ls-files '*.go'; git ls-files -o --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## vet: every package here; the headless ones also as Windows and macOS build them
## (cross-windows vets the desktop app's for Windows; for macOS only the app packages
## without Fyne can be, since Fyne needs cgo there and Debian has no macOS SDK).
APP_NOCGO_PKGS := ./app/autostart ./app/handover ./app/display
vet: deps
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet -tags nogui $(NOGUI_PKGS) .
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) vet -tags nogui $(NOGUI_PKGS) .
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) vet -tags nogui $(NOGUI_PKGS) $(APP_NOCGO_PKGS) .

## nocgo: the non-GUI packages (and the headless binary) build without cgo, here and for
## Windows and macOS.
nocgo:
	CGO_ENABLED=0 $(GO) build $(NOGUI_PKGS)
	CGO_ENABLED=0 $(GO) build -tags nogui -o /dev/null .
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -tags nogui -o /dev/null $(NOGUI_PKGS) .
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -tags nogui -o /dev/null $(NOGUI_PKGS) .

test-race: testdata warm-cache
	$(GO) test -race -timeout 30m $(NOGUI_PKGS)

# warm-cache compiles every test component once, natively and without the race
# detector, into the shared cache, so the packages tested in parallel under
# -race load them rather than each compiling them again.
warm-cache: testdata
	mkdir -p $(TAPEDECK_TEST_CACHE_DIR)
	$(GO) test -count=1 -run 'TestToolchainComponents|TestCustomHostImport' ./sandbox/component/

test-gui: deps-test build testdata
	$(GO) test -timeout 20m $(GUI_PKGS)
	scripts/test-gui.sh $(BUILD)

## bench: the speed figures each issue names, beside the same work done by a reference
## (jco transpile + node, or a native Go tool) measured in the same run, with ratios.
bench: testdata
	mkdir -p $(TAPEDECK_TEST_CACHE_DIR)
	rm -f $(BUILD)/speed-report.txt
	TAPEDECK_BENCH=1 TAPEDECK_BENCH_OUT=$(BUILD)/speed-report.txt \
		$(GO) test -count=1 -run 'SpeedReport' -v $(NOGUI_PKGS) | grep -v '^=== RUN'
	$(GO) test -run '^$$' -bench . -benchmem $(NOGUI_PKGS) | tee $(BUILD)/bench.txt
	@echo; echo "speed report (also in build/speed-report.txt):"; cat $(BUILD)/speed-report.txt

## fuzz: run each fuzz target briefly (FUZZTIME=30s by default); the corpus lives in testdata/fuzz.
FUZZTIME ?= 30s
fuzz:
	scripts/fuzz-all.sh $(FUZZTIME)

clean:
	rm -rf $(BUILD)
