#!/usr/bin/env bash
# build-components.sh builds Tapedeck's test components from the sources in
# testdata/components with real toolchains (componentize-js, clang + wasi-libc, Debian's
# rustc, Go, jco) into OUTDIR (see testdata/components/README.md for the list).
#
# Usage: scripts/build-components.sh OUTDIR
#
# Each OUTDIR/NAME.wasm is rebuilt only when the hash of what it is built from (its
# source folders, this script and its helpers, the npm lockfile, the toolchain versions)
# changed; the hash is kept in OUTDIR/NAME.hash. Builds run in parallel (one per core).
# A failed build stops with a non-zero status, naming the component and showing the
# tool's error. Beside the components:
#   OUTDIR/fixtures/NAME.wasm       hand-written fixtures (jco parse of fixtures/NAME.wat)
#   OUTDIR/transpiled/NAME/         `jco transpile` of each component, for scripts/jco-call.mjs
#   OUTDIR/../npm/                  the pinned npm tools (npm ci of package-lock.json)
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=$root/testdata/components
mkdir -p "$1"
out=$(cd "$1" && pwd)
npm_dir=$(dirname "$out")/npm
logs=$out/.logs
mkdir -p "$logs" "$out/fixtures" "$out/transpiled"

rustc=${RUSTC:-/usr/bin/rustc} # Debian's rustc: a rustup one earlier on PATH is not on CI
go=${GO:-go}
jobs=${BUILD_COMPONENTS_JOBS:-$(nproc 2>/dev/null || echo 2)}

export TAPEDECK_NPM_MODULES=$npm_dir/node_modules

die() {
  echo "build-components: $*" >&2
  exit 1
}

for tool in node npm clang "$rustc" "$go" sha256sum; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh build test (or make testdata)"
done

# --- npm tools: installed from the lockfile into build/, reused while it is unchanged.
if ! cmp -s "$src/package-lock.json" "$npm_dir/.installed-lock.json"; then
  echo "build-components: installing npm tools into $npm_dir"
  mkdir -p "$npm_dir"
  cp "$src/package.json" "$src/package-lock.json" "$npm_dir/"
  if ! npm ci --prefix "$npm_dir" --no-audit --no-fund --loglevel=error >"$logs/npm.log" 2>&1; then
    cat "$logs/npm.log" >&2
    die "npm ci failed in $npm_dir (log above)"
  fi
  cp "$src/package-lock.json" "$npm_dir/.installed-lock.json"
fi

jco() { node "$root/scripts/jco.mjs" "$@"; }
jco_old() { node "$root/scripts/jco.mjs" --old "$@"; }

# Everything a change to which must rebuild every component.
common_hash=$({
  cat "${BASH_SOURCE[0]}" "$root/scripts/componentize.mjs" "$root/scripts/jco.mjs" \
    "$root/scripts/npm-import.mjs" "$root/scripts/build-fixtures.mjs" "$src/package-lock.json"
  node --version
  clang --version | head -n 1
  "$rustc" --version
  "$go" version
} | sha256sum | cut -d' ' -f1)

# source_hash DIR... prints a hash of the files under the folders (names and contents).
source_hash() {
  {
    echo "$common_hash"
    (cd "$src" && find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

# check_component FILE: the first 8 bytes must be the component preamble
# (magic "\0asm", version 0x0d, layer 1), and jco must be able to print its WIT.
check_component() {
  local magic
  magic=$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')
  [ "$magic" = 0061736d0d000100 ] || { echo "$1: not a component (starts with $magic)"; return 1; }
  jco wit "$1" >"$1.wit"
}

# transpile NAME: the reference host's copy of OUTDIR/NAME.wasm (see scripts/jco-call.mjs).
transpile() {
  local dir=$out/transpiled/$1
  rm -rf "$dir.tmp"
  jco transpile "$out/$1.wasm" --instantiation async --no-typescript --quiet -o "$dir.tmp"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
}

# Builders. Each writes $work/component.wasm; $work is a private scratch folder.

build_js() { # build_js NAME DISABLED_FEATURES
  node "$root/scripts/componentize.mjs" "$src/$1/component.js" "$src/$1/world.wit" "$1" \
    "$work/component.wasm" --disable "$2"
}

# c_core NAME DIR: a WASI reactor core module from DIR/*.c with its WIT embedded.
c_core() {
  clang --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror -Wl,--strip-debug \
    -o "$work/core.wasm" "$src/$2"/*.c
  jco embed --wit "$src/$2/world.wit" -n "$2" -o "$work/embed.wasm" "$work/core.wasm"
}

build_c() { # build_c NAME: clang, then the current jco's reactor adapter
  c_core "$1" "$1"
  jco new --wasi-reactor -o "$work/component.wasm" "$work/embed.wasm"
}

build_c_old() { # build_c_old NAME DIR: the same core, componentized by jco 1.11.1 (older layout)
  c_core "$1" "$2"
  jco_old new --wasi-reactor -o "$work/component.wasm" "$work/embed.wasm"
}

build_rust() { # build_rust NAME DIR [RUSTC_FLAGS...]
  local name=$1 dir=$2
  shift 2
  "$rustc" --edition 2021 --crate-type cdylib --target wasm32-wasi -C opt-level=2 \
    -C strip=debuginfo "$@" -o "$work/core.wasm" "$src/$dir/lib.rs"
  jco embed --wit "$src/$dir/world.wit" -n "$dir" -o "$work/embed.wasm" "$work/core.wasm"
  jco new --wasi-reactor -o "$work/component.wasm" "$work/embed.wasm"
}

build_go() { # build_go NAME: a wasip1 command, adapted to export wasi:cli/run
  (cd "$src/$1" && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 "$go" build -trimpath -o "$work/core.wasm" .)
  jco new --wasi-command -o "$work/component.wasm" "$work/core.wasm"
}

# The components: NAME|SOURCE FOLDERS|BUILD COMMAND|TRANSPILE (yes/no).
# Names are a contract with the tests (internal/testcomponents); keep the README in step.
components=(
  "js-alltypes|js-alltypes|build_js js-alltypes stdio,random,clocks,http,fetch-event|yes"
  "js-wasi|js-wasi|build_js js-wasi http,fetch-event|yes"
  "js-fetch|js-fetch|build_js js-fetch fetch-event|yes"
  "js-nowasi|js-nowasi|build_js js-nowasi stdio,random,clocks,http,fetch-event|yes"
  "c-tool|c-tool c-common|build_c c-tool|yes"
  "c-tool-old|c-tool c-common|build_c_old c-tool-old c-tool|yes"
  "c-files|c-files c-common|build_c c-files|yes"
  "c-env|c-env c-common|build_c c-env|yes"
  "c-limits|c-limits c-common|build_c c-limits|no"
  "rust-tool|rust-tool|build_rust rust-tool rust-tool|yes"
  "rust-noinit|rust-tool|build_rust rust-noinit rust-tool --cfg noinit|yes"
  "go-cmd|go-cmd|build_go go-cmd|yes"
)

# build_one ENTRY: runs in a subshell; its output goes to $logs/NAME.log.
build_one() {
  local name dirs cmd want_transpile hash start
  IFS='|' read -r name dirs cmd want_transpile <<<"$1"
  hash=$2
  start=$(date +%s%N)
  work=$(mktemp -d "$out/.work-$name.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # A failed build must not leave the previous component for the tests to pass on.
  rm -f "$out/$name.hash" "$out/$name.wasm" "$out/$name.wit"
  $cmd
  check_component "$work/component.wasm"
  mv "$work/component.wasm.wit" "$out/$name.wit"
  mv "$work/component.wasm" "$out/$name.wasm"
  if [ "$want_transpile" = yes ]; then transpile "$name"; fi
  echo "$hash" >"$out/$name.hash"
  printf 'built %-12s %5d ms  %s\n' "$name" $((($(date +%s%N) - start) / 1000000)) \
    "$(du -h "$out/$name.wasm" | cut -f1)" >"$logs/$name.done"
}

failed=()
declare -A running=() # pid -> component name

# reap waits for one job to end and reports it.
reap() {
  local pid status=0 name
  wait -n -p pid || status=$?
  name=${running[$pid]}
  unset "running[$pid]"
  if [ "$status" -eq 0 ]; then
    cat "$logs/$name.done"
  else
    failed+=("$name")
    {
      echo "build-components: $name failed (exit $status); its log ($logs/$name.log):"
      tail -n 40 "$logs/$name.log" | sed 's/^/    /'
    } >&2
  fi
}

for entry in "${components[@]}"; do
  IFS='|' read -r name dirs _ _ <<<"$entry"
  # shellcheck disable=SC2086 # dirs is a space-separated list of folders
  hash=$(source_hash $dirs)
  if [ -f "$out/$name.wasm" ] && [ "$(cat "$out/$name.hash" 2>/dev/null)" = "$hash" ]; then
    continue
  fi
  while [ "${#running[@]}" -ge "$jobs" ]; do reap; done
  (build_one "$entry" "$hash") >"$logs/$name.log" 2>&1 &
  running[$!]=$name
done

# The fixtures, in one node process: cheap, so they are rebuilt whenever any changed.
fixtures_hash=$(source_hash fixtures)
if [ "$(cat "$out/fixtures/.hash" 2>/dev/null)" != "$fixtures_hash" ]; then
  while [ "${#running[@]}" -ge "$jobs" ]; do reap; done
  (
    rm -f "$out/fixtures/.hash"
    node "$root/scripts/build-fixtures.mjs" "$src/fixtures" "$out/fixtures"
    echo "$fixtures_hash" >"$out/fixtures/.hash"
    echo "built fixtures ($(find "$out/fixtures" -name '*.wasm' | wc -l) files)" >"$logs/fixtures.done"
  ) >"$logs/fixtures.log" 2>&1 &
  running[$!]=fixtures
fi

while [ "${#running[@]}" -gt 0 ]; do reap; done

if [ "${#failed[@]}" -gt 0 ]; then
  die "failed: ${failed[*]}"
fi
