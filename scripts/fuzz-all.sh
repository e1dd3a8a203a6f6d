#!/usr/bin/env bash
# fuzz-all.sh runs every Go fuzz target in the module for a while each.
# The seed corpora live in each package's testdata/fuzz/<Target>/ and run as
# ordinary tests in `make test`; new crashers the fuzzer finds are written
# there too, to be kept once fixed.
#
# Usage: scripts/fuzz-all.sh [FUZZTIME]   (default 30s per target)
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-30s}
failed=0
for pkg in $(go list ./sandbox/... ./mcpbridge/... ./internal/...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz: $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
      echo "fuzz: $pkg $target FAILED (the crasher is in that package's testdata/fuzz/$target/)" >&2
      failed=1
    fi
  done
done
exit $failed
