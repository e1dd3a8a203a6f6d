#!/usr/bin/env bash
# test-gui.sh runs the desktop app for real under Xvfb, with a real tray host
# (xfce4-panel under its own DBus session bus), and checks what a person would:
#
#   1. end to end (app/desktop's test binary, TAPEDECK_GUI_E2E=1), an
#      editor-side MCP client against the app: (a) with none of the app's
#      windows in view, the editor loads a component (js-fetch) and calls it;
#      its request to a local HTTP server, as localhost (the policy lists only
#      the address 127.0.0.1: non-public addresses are refused, never asked
#      about, unless listed; no rule names localhost), raises the question window (naming
#      the component, the client and host:port) and a desktop notification
#      (the Notify call, watched with dbus-monitor, names the component);
#      xdotool clicks "Allow once", the call returns the page and the server
#      saw one request; the next call asks again, Escape denies it and the
#      server sees nothing new; (b) with the Components window in view, the
#      editor asks to widen a component's policy, the question window shows
#      (and no notification), xdotool clicks "Allow once", the grant goes
#      through;
#   2. the real binary (build/tapedeck): its tray item registers with the
#      StatusNotifierWatcher and its menu is readable over DBus (dbusmenu);
#   3. the real binary with no session bus at all: its window opens instead of
#      a tray, and quitting from it exits 0;
#   4. the app and `tapedeck mcp` together (app/desktop/internal/appe2e): an
#      editor's go-sdk client runs `build/tapedeck mcp` (a headless owner
#      starts) and loads a component; the tray app starts and takes over (the
#      headless owner exits, the app holds the owner lock); through the same
#      relay the editor asks for a network grant, the app's question window
#      shows, the keyboard answers Allow once, and get-policy shows the host.
#
# Each DBus session also runs a notification server (dunst), as a desktop
# would. Screenshots and logs go to build/test-output/. Usage (from the Makefile):
#   scripts/test-gui.sh BUILD_DIR      # e.g. build
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
out="$build/test-output"
mkdir -p "$out"
export TAPEDECK_TEST_OUTPUT="$out"
export FYNE_SCALE=1 LANG=C.UTF-8
export TAPEDECK_TEST_COMPONENTS=${TAPEDECK_TEST_COMPONENTS:-$build/components}
export TAPEDECK_TEST_CACHE_DIR=${TAPEDECK_TEST_CACHE_DIR:-$build/cache/wazero}

# The tests get a home of their own below; keep Go's caches where they are.
export GOPATH=${GOPATH:-$(go env GOPATH)} GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)} GOCACHE=${GOCACHE:-$(go env GOCACHE)}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Part 4's owners run in sessions of their own: end whichever still holds
  # its data dir (only while the lock is held, so a stale pid is left alone).
  if [ -f "$work/appe2e-data/owner.lock" ] && ! flock -n "$work/appe2e-data/owner.lock" true; then
    owner=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$work/appe2e-data/owner.lock")
    [ -n "$owner" ] && kill "$owner" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "test-gui: FAIL: $*" >&2; exit 1; }
# part announces a part and says how long the one before it took.
part_at=$SECONDS
part() {
  [ -z "${part_no:-}" ] || echo "test-gui: part $part_no took $((SECONDS - part_at)) s"
  part_no=${1%%/*} part_at=$SECONDS
  echo "test-gui: $*"
}

# A display of our own: the first free number from 90.
display=90
while [ -e "/tmp/.X11-unix/X$display" ] || [ -e "/tmp/.X$display-lock" ]; do display=$((display + 1)); done
# -noreset: by default Xvfb resets when its last client leaves, and refuses
# connections meanwhile; between two parts that is the next part's app.
Xvfb ":$display" -screen 0 1280x800x24 -nolisten tcp -noreset >"$out/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=":$display"
for _ in $(seq 100); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo >/dev/null 2>&1 || fail "Xvfb did not start (see $out/xvfb.log)"

# A home for the panel and the app, with the panel's configuration provisioned
# so xfce4-panel does not wait on its first-run "default or empty panel" dialog.
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
  XDG_CACHE_HOME="$work/home/.cache" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$XDG_CONFIG_HOME/xfce4/xfconf/xfce-perchannel-xml" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
cat >"$XDG_CONFIG_HOME/xfce4/xfconf/xfce-perchannel-xml/xfce4-panel.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="30"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray"/>
  </property>
</channel>
XML

# Inside one DBus session: start the panel and a notification server (dunst),
# wait for the panel's StatusNotifierWatcher and for dunst to own
# org.freedesktop.Notifications.
session_script="$work/session.sh"
cat >"$session_script" <<'SESSION'
#!/usr/bin/env bash
set -euo pipefail
xfce4-panel --disable-wm-check >"$TAPEDECK_TEST_OUTPUT/xfce4-panel.log" 2>&1 &
panel=$!
dunst >>"$TAPEDECK_TEST_OUTPUT/dunst.log" 2>&1 &
notifier=$!
trap 'kill $panel $notifier 2>/dev/null || true' EXIT
owned() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:"$1" 2>/dev/null | grep -q 'boolean true'
}
for _ in $(seq 300); do owned org.kde.StatusNotifierWatcher && owned org.freedesktop.Notifications && break; sleep 0.1; done
owned org.kde.StatusNotifierWatcher || { echo "test-gui: FAIL: xfce4-panel registered no StatusNotifierWatcher (see xfce4-panel.log)" >&2; exit 1; }
owned org.freedesktop.Notifications || { echo "test-gui: FAIL: dunst did not take org.freedesktop.Notifications (see dunst.log)" >&2; exit 1; }
"$@"
SESSION
chmod +x "$session_script"

part "1/4 end to end: a component's own access and an editor's grant request, the dialog, the notification"
(cd "$(dirname "$0")/.." && go test -c -o "$build/desktop.test" ./app/desktop)
TAPEDECK_GUI_E2E=1 dbus-run-session -- "$session_script" "$build/desktop.test" 2>&1 | tee "$out/e2e.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "end to end (see $out/e2e.log)"
grep -q '^PASS: GUI end-to-end' "$out/e2e.log" || fail "end to end did not report success"

if [ ! -x "$build/tapedeck" ]; then
  fail "$build/tapedeck is missing: run 'make build' first"
fi

part "2/4 the tray item registers, its menu reads over DBus, a second launch hands over"
tray_check="$work/tray.sh"
cat >"$tray_check" <<'TRAY'
#!/usr/bin/env bash
set -euo pipefail
"$TAPEDECK_BIN" >"$TAPEDECK_TEST_OUTPUT/tray-app.log" 2>&1 &
app=$!
trap 'kill $app 2>/dev/null || true' EXIT
items() {
  dbus-send --session --print-reply --dest=org.kde.StatusNotifierWatcher /StatusNotifierWatcher \
    org.freedesktop.DBus.Properties.Get string:org.kde.StatusNotifierWatcher string:RegisteredStatusNotifierItems 2>/dev/null |
    sed -n 's/.*string "\(.*\)".*/\1/p'
}
item=""
for _ in $(seq 300); do item=$(items | head -1); [ -n "$item" ] && break; sleep 0.1; done
[ -n "$item" ] || { echo "test-gui: FAIL: no tray item registered (see tray-app.log)" >&2; exit 1; }
bus=${item%%/*}
path=/${item#*/}
[ "$path" = "/$bus" ] && path=/StatusNotifierItem
menu=$(dbus-send --session --print-reply --dest="$bus" "$path" org.freedesktop.DBus.Properties.Get \
  string:org.kde.StatusNotifierItem string:Menu | sed -n 's/.*object path "\(.*\)".*/\1/p')
[ -n "$menu" ] || { echo "test-gui: FAIL: the tray item names no menu" >&2; exit 1; }
layout=$(dbus-send --session --print-reply --dest="$bus" "$menu" com.canonical.dbusmenu.GetLayout \
  int32:0 int32:-1 array:string:)
echo "$layout" >"$TAPEDECK_TEST_OUTPUT/tray-menu.txt"
for want in "Running" "Components…" "Connect editors…" "Activity…" "Pause all tools" "Start at login" "About Tapedeck" "Quit"; do
  grep -qF "$want" <<<"$layout" || { echo "test-gui: FAIL: the tray menu lacks \"$want\" (see tray-menu.txt)" >&2; exit 1; }
done
import -window root "$TAPEDECK_TEST_OUTPUT/tray.png"
# A second launch hands over to the running one and exits.
second=$(timeout 60 "$TAPEDECK_BIN" 2>&1) || { echo "test-gui: FAIL: a second launch failed: $second" >&2; exit 1; }
grep -q "already running" <<<"$second" || { echo "test-gui: FAIL: a second launch did not hand over: $second" >&2; exit 1; }
kill -0 $app || { echo "test-gui: FAIL: the first instance is gone after a second launch" >&2; exit 1; }
kill -TERM $app
wait $app || true
TRAY
chmod +x "$tray_check"
TAPEDECK_BIN="$build/tapedeck" dbus-run-session -- "$session_script" "$tray_check" || fail "tray (see $out/tray-app.log)"

part "3/4 no session bus: the window opens, Quit exits 0"
rm -rf "$HOME/.local/share/tapedeck" # a fresh owner
env -u DBUS_SESSION_BUS_ADDRESS "$build/tapedeck" >"$out/nobus-app.log" 2>&1 &
app=$!
pids+=($app)
win=""
# Polled rather than --sync: windows coming and going make xdotool's --sync fail with BadWindow.
for _ in $(seq 600); do
  win=$(xdotool search --onlyvisible --name '^Tapedeck$' 2>/dev/null | head -1) || true
  [ -n "$win" ] && break
  kill -0 $app 2>/dev/null || fail "the app exited instead of opening its window (see $out/nobus-app.log)"
  sleep 0.2
done
[ -n "$win" ] || fail "no window opened without a session bus (see $out/nobus-app.log)"
sleep 1 # let it paint for the screenshot (the result does not depend on it)
import -window root "$out/nobus-window.png"
# Keyboard to the Quit button: Tab moves focus through Components…, Activity…, Quit.
# The keys go to the focused window rather than --window, which would send a
# key's release as a synthetic event (ignored by the server: the key stays held)
# once the window it was aimed at has gone.
xdotool windowfocus --sync "$win" key Tab Tab Tab space
if ! timeout 60 tail --pid=$app -f /dev/null; then
  fail "the app did not quit from its window"
fi
wait $app && status=0 || status=$?
[ "$status" -eq 0 ] || fail "the app exited $status after Quit (see $out/nobus-app.log)"

part "4/4 the app and tapedeck mcp: take-over from a headless owner, then a grant answered in the dialog"
(cd "$(dirname "$0")/.." && go build -o "$build/appe2e" ./app/desktop/internal/appe2e)
mkdir -p "$work/appe2e-data"
TAPEDECK_DATA_DIR="$work/appe2e-data" timeout 300 dbus-run-session -- "$session_script" \
  "$build/appe2e" -tapedeck "$build/tapedeck" -component "$TAPEDECK_TEST_COMPONENTS/c-tool.wasm" -out "$out" 2>&1 |
  tee "$out/appe2e.log"
status=${PIPESTATUS[0]}
cp "$work/appe2e-data/owner.log" "$out/appe2e-owner.log" 2>/dev/null || true
[ "$status" -eq 0 ] || fail "the app and tapedeck mcp (see $out/appe2e.log, appe2e-app.log, appe2e-owner.log)"
grep -q '^PASS: app and tapedeck mcp' "$out/appe2e.log" || fail "the app and tapedeck mcp did not report success"
part "done"
echo "test-gui: PASS (screenshots in $out)"
