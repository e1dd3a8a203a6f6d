#!/usr/bin/env bash
# test-editor-clis.sh checks that the editors' own command-line tools see the
# entry `tapedeck clients connect` writes, and no longer see it after
# `tapedeck clients disconnect`.
#
# The CLIs are installed from npm at the versions pinned in
# testdata/editor-clis/package.json (exact versions) and package-lock.json
# (every dependency), without install scripts, into build/editor-clis.
# `npm ci` cannot be used: opencode-ai lists a binary package per platform
# as optional dependencies, the registry here serves only the Linux ones,
# so the lockfile lacks the rest and `npm ci` calls it out of sync;
# `npm install` with the lockfile present installs exactly what it pins. Each runs with HOME set to a fresh temporary folder,
# self-update switched off and a timeout, so nothing of the machine's own
# configs is read or touched.
#
# Usage: scripts/test-editor-clis.sh   (from the repository root; needs go, node and npm)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=build/editor-clis
timeout_s=${EDITOR_CLI_TIMEOUT:-120}

command -v node >/dev/null && command -v npm >/dev/null ||
  { echo "test-editor-clis: needs node and npm (scripts/install-deps.sh test installs them)" >&2; exit 1; }

# Install the pinned CLIs, again only when the lockfile changed.
mkdir -p "$dir"
stamp="$dir/.lock-sha256"
want=$(sha256sum testdata/editor-clis/package-lock.json | cut -d' ' -f1)
if [ ! -d "$dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  cp testdata/editor-clis/package.json testdata/editor-clis/package-lock.json "$dir/"
  rm -rf "$dir/node_modules"
  (cd "$dir" && timeout 600 npm install --no-save --no-audit --no-fund --ignore-scripts --loglevel=error)
  # Of the install scripts, only these two are needed: they link each CLI's
  # platform binary, which came as an optional dependency (no download).
  (cd "$dir/node_modules/@anthropic-ai/claude-code" && timeout 120 node install.cjs)
  (cd "$dir/node_modules/opencode-ai" && timeout 120 node postinstall.mjs)
  echo "$want" >"$stamp"
fi
bin="$root/$dir/node_modules/.bin"

# A headless tapedeck outside any temporary folder, as an installed one would be.
CGO_ENABLED=0 go build -tags nogui -o "$dir/tapedeck" .
tapedeck="$root/$dir/tapedeck"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
fail() { echo "FAIL $1: $2" >&2; failed=$((failed + 1)); }

# check NAME CLIENT LIST-COMMAND... : connect, list, disconnect, list.
check() {
  local name=$1 client=$2
  shift 2
  local home="$work/$name"
  mkdir -p "$home"
  local env=(env -i PATH="${extra_path:+$extra_path:}$PATH" HOME="$home" XDG_CONFIG_HOME="$home/.config" TERM=dumb CI=1
    NO_COLOR=1 DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
    OPENCODE_DISABLE_AUTOUPDATE=true NO_UPDATE_NOTIFIER=1 TAPEDECK_DATA_DIR="$home/.tapedeck")
  # The editor's config folder exists, as after a first run; some hold a
  # setting already, so the connect edits a file rather than creating it.
  case $client in
  claude-code) mkdir -p "$home/.claude" ;;
  gemini-cli) mkdir -p "$home/.gemini" && printf '{\n  "general": {\n    "disableAutoUpdate": true\n  }\n}\n' >"$home/.gemini/settings.json" ;;
  codex) mkdir -p "$home/.codex" && printf '# pinned by the test\ncheck_for_update_on_startup = false\n' >"$home/.codex/config.toml" ;;
  copilot-cli) mkdir -p "$home/.copilot" ;;
  opencode) mkdir -p "$home/.config/opencode" ;;
  esac
  # A first run lets the CLI migrate or reformat its own files (Gemini CLI
  # rewrites settings.json), so the comparison at the end sees only ours.
  (cd "$home" && timeout "$timeout_s" "${env[@]}" "$@" >/dev/null 2>&1 </dev/null) || true
  local config before
  config=$("${env[@]}" "$tapedeck" clients list -o json --command "$tapedeck" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).find(r=>r.name===process.argv[1]).config_path))' "$client")
  before=$(sha256sum "$config" 2>/dev/null || echo "missing")

  if ! out=$("${env[@]}" "$tapedeck" clients connect "$client" --command "$tapedeck" 2>&1); then
    fail "$name" "connect: $out"
    return
  fi
  if ! out=$(cd "$home" && timeout "$timeout_s" "${env[@]}" "$@" 2>&1 </dev/null); then
    fail "$name" "'$*' failed after connect: $out"
    return
  fi
  if ! grep -q 'tapedeck' <<<"$out"; then
    fail "$name" "'$*' does not list tapedeck after connect: $out"
    return
  fi
  echo "$name sees Tapedeck:"
  grep 'tapedeck' <<<"$out" | sed 's/^/    /'

  if ! out=$("${env[@]}" "$tapedeck" clients disconnect "$client" 2>&1); then
    fail "$name" "disconnect: $out"
    return
  fi
  if ! out=$(cd "$home" && timeout "$timeout_s" "${env[@]}" "$@" 2>&1 </dev/null); then
    fail "$name" "'$*' failed after disconnect: $out"
    return
  fi
  if grep -q 'tapedeck' <<<"$out"; then
    fail "$name" "'$*' still lists tapedeck after disconnect: $out"
    return
  fi
  # The config is back as it was (or gone again, if connect created it).
  local after
  after=$(sha256sum "$config" 2>/dev/null || echo "missing")
  if [ "$after" != "$before" ]; then
    fail "$name" "$config is not as it was before connect"
    return
  fi
  passed=$((passed + 1))
}

# Claude Code twice: Tapedeck edits ~/.claude.json itself, and, with the
# claude command on PATH, has it do the edit (claude mcp add-json).
check claude-code claude-code "$bin/claude" mcp list
extra_path=$bin check claude-code-via-its-cli claude-code "$bin/claude" mcp list
check gemini-cli gemini-cli "$bin/gemini" mcp list
check codex codex "$bin/codex" mcp list
check copilot-cli copilot-cli "$bin/copilot" mcp list
check opencode opencode "$bin/opencode" mcp list

echo "editor CLIs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
