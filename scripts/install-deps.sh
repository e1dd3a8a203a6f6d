#!/usr/bin/env bash
# install-deps.sh installs the Debian packages Tapedeck's build and tests need,
# skipping those already present. It is idempotent and safe to run on every `make`.
#
# Usage: scripts/install-deps.sh [build|test|gui|windows]...   (default: build test)
set -euo pipefail

want_build=(gcc pkg-config libgl1-mesa-dev xorg-dev)
# Toolchains that build the test components from our own sources (see testdata/components);
# for scripts/test-gui.sh a tray host (xfce4-panel) and a notification server (dunst).
want_test=(clang lld wasi-libc libclang-rt-dev-wasm32 rustc libstd-rust-dev-wasm32
  xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools
  xfce4-panel dunst xdotool x11-utils imagemagick util-linux)
# The MinGW-w64 cross compiler `make cross-windows` builds the desktop app for Windows with,
# and Wine, which `make test-windows` runs the Windows-only code's tests in (~105 MB, Wine 8.0).
want_windows=(gcc-mingw-w64-x86-64 wine64)

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build test)

pkgs=()
for g in "${groups[@]}"; do
  case "$g" in
    build|gui) pkgs+=("${want_build[@]}") ;;
    test) pkgs+=("${want_test[@]}") ;;
    windows) pkgs+=("${want_windows[@]}") ;;
    *) echo "install-deps: unknown group '$g' (want build, test, gui or windows)" >&2; exit 2 ;;
  esac
done

missing=()
# node and npm may come from elsewhere than Debian (the machine image ships Node 20 with npm 11,
# and Debian's npm conflicts with that nodejs): install Debian's only when none is on PATH.
command -v node >/dev/null && command -v npm >/dev/null || [[ " ${groups[*]} " != *" test "* ]] || pkgs+=(nodejs npm)
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
