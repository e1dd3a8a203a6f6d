#!/usr/bin/env bash
# test-windows.sh runs the Windows-only code's tests for real, as Windows
# programs under Wine: the named pipe (mcpbridge/winpipe), the local socket
# on it (internal/localsock), the control socket, the relay and the MCP
# server over it (mcpbridge: sessions, hand-over between processes), and the
# owner lock's LockFileEx. Each package's tests are cross-compiled
# (CGO_ENABLED=0 GOOS=windows) and run by wine64 in a prefix of our own,
# build/wine/prefix, with a timeout; any failing package fails the script.
#
# Wine is not Windows. Where Wine lacks what Windows has, the test skips
# under Wine only and says which call (internal/wintest); the summary lists
# those skips. Two things Debian 12's Wine 8.0 lacks are made up here, for
# the test prefix only:
#   - bcryptprimitives.dll (ProcessPrng), without which no Go 1.22+ program
#     starts: scripts/wine/bcryptprimitives.c, built with MinGW-w64;
#   - FileDispositionInformationEx, which Go's os.RemoveAll uses: tests make
#     their folders with wintest.TempDir, and the tests that load components
#     into a real store (whose clean-up is os.RemoveAll) skip under Wine.
#
# Usage (from the Makefile): scripts/test-windows.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
out="$build/wine"
mkdir -p "$out"

# Debian's wine64 package (without its recommends) installs the loader
# beside wineserver, not on PATH.
wine=$(command -v wine64 || true)
[ -n "$wine" ] || wine=/usr/lib/wine/wine64
[ -x "$wine" ] || { echo "test-windows: wine64 not found (scripts/install-deps.sh windows installs it)" >&2; exit 1; }
wineserver=$(command -v wineserver || true)
[ -n "$wineserver" ] || wineserver=/usr/lib/wine/wineserver

pkgs=(./mcpbridge/winpipe ./internal/localsock ./internal/control ./mcpbridge/relay ./internal/ownerlock ./mcpbridge ./internal/wintest)

export WINEPREFIX="$out/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export TAPEDECK_TEST_UNDER_WINE=1

shim="$out/bcryptprimitives.dll"
if [ ! -f "$shim" ] || [ scripts/wine/bcryptprimitives.c -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -s -o "$shim" scripts/wine/bcryptprimitives.c \
    scripts/wine/bcryptprimitives.def -lbcrypt
fi
if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
  echo "test-windows: creating the Wine prefix $WINEPREFIX (once)"
  "$wine" wineboot --init >/dev/null 2>&1 || true
  "$wineserver" -w
fi
cp "$shim" "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"

for p in "${pkgs[@]}"; do
  CGO_ENABLED=0 GOOS=windows GOARCH=amd64 "${GO:-go}" test -c -tags nogui -o "$out/$(basename "$p").test.exe" "$p"
done

failed=()
for p in "${pkgs[@]}"; do
  name=$(basename "$p")
  log="$out/$name.log"
  # -test.v so that skips and their reasons are in the log.
  if timeout 180 "$wine" "$out/$name.test.exe" -test.v -test.count=1 -test.timeout=150s >"$log" 2>&1; then
    echo "ok    $p (under Wine)"
  else
    echo "FAIL  $p (under Wine): $log"
    grep -E '^\s*(--- FAIL|panic|fatal error|\S+_test\.go:[0-9]+:)' "$log" | head -30 || true
    failed+=("$p")
  fi
  # What skipped, and why: a skip's reason is the log line before its
  # --- SKIP line, or (for subtests, reported after their parent) names Wine.
  grep -E '^\s*--- SKIP' "$log" | sed -E 's/^\s*--- SKIP: /      skip  /' || true
  { grep -h -B1 -E '^\s*--- SKIP' "$log" | grep -E '_test\.go:[0-9]+: '; grep -E '_test\.go:[0-9]+: .*Wine' "$log"; } |
    sed -E 's/^\s+/        /' | sort -u || true
done
"$wineserver" -k 2>/dev/null || true

if [ ${#failed[@]} -gt 0 ]; then
  echo "test-windows: ${#failed[@]} package(s) failed under Wine: ${failed[*]}" >&2
  exit 1
fi
