#!/bin/sh
# Regenerates every NAME.wasm fixture from its NAME.wat source with `jco parse`
# (which runs wasm-tools' text parser and does not validate, so invalid
# components can be written too), then the FuzzDecode seed corpus.
#
# Usage: sandbox/component/internal/binary/testdata/regen.sh
# Needs node; uses build/npm's jco when `make testdata` has installed it,
# else npx with the same pinned version.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../../.." && pwd)
jco="$root/build/npm/node_modules/.bin/jco"
if [ ! -x "$jco" ]; then
	jco="npx -y @bytecodealliance/jco@1.35.0"
fi
for wat in "$here"/valid/*.wat "$here"/invalid/*.wat; do
	$jco parse "$wat" -o "${wat%.wat}.wasm"
done
# Seed corpus: one file per fixture, in `go test fuzz v1` format.
rm -f "$here"/fuzz/FuzzDecode/valid-* "$here"/fuzz/FuzzDecode/invalid-*
mkdir -p "$here/fuzz/FuzzDecode"
for wasm in "$here"/valid/*.wasm "$here"/invalid/*.wasm; do
	dir=$(basename "$(dirname "$wasm")")
	name=$(basename "$wasm" .wasm)
	{
		printf 'go test fuzz v1\n[]byte("'
		od -An -v -tx1 "$wasm" | tr -d ' \n' | sed 's/\(..\)/\\x\1/g'
		printf '")\n'
	} >"$here/fuzz/FuzzDecode/$dir-$name"
done
# The expected errors of the invalid fixtures may move with the bytes:
echo "now run: go test ./sandbox/component/internal/binary -run TestDecodeInvalidFixtures -update, and review the diff"
