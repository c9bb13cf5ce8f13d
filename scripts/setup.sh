#!/usr/bin/env bash
# Installs what the site and the tests need, once; later runs find it in the cache and return quickly.
#   scripts/setup.sh site    Rust toolchain + wasm target, trunk, wasm-bindgen-cli, wasm-opt
#   scripts/setup.sh tests   all of the above, Chromium + chromedriver (apt), the Python venv for training/
set -euo pipefail
source "$(dirname "$0")/env.sh"
what="${1:-tests}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -q >/dev/null; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "$@" >/dev/null
}

setup_rust() {
  local channel
  channel="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$REPO_ROOT/rust-toolchain.toml")"
  if ! rustup target list --installed --toolchain "$channel" 2>/dev/null | grep -q wasm32-unknown-unknown; then
    log "rustup: toolchain $channel with wasm32-unknown-unknown"
    rustup toolchain install "$channel" --profile minimal --component rustfmt,clippy --target wasm32-unknown-unknown
  fi
}

# The wasm-bindgen CLI must match the library version in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$REPO_ROOT/Cargo.lock"
}

setup_web_tools() {
  mkdir -p "$EMOJI_MIRROR_TOOLS"
  if ! trunk --version 2>/dev/null | grep -q '0.21.14'; then
    log "cargo install trunk 0.21.14 (once; several minutes)"
    cargo install --locked trunk --version 0.21.14 --root "$EMOJI_MIRROR_TOOLS"
  fi
  local wb
  wb="$(wasm_bindgen_version)"
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$"; then
    # Not --locked: its lock file pins a crate version the registry no longer serves (TOOLCHAIN.md).
    log "cargo install wasm-bindgen-cli $wb (once)"
    cargo install wasm-bindgen-cli --version "$wb" --root "$EMOJI_MIRROR_TOOLS"
  fi
  if ! wasm-opt --version 2>/dev/null | grep -q 'version 132'; then
    # Debian's binaryen is too old for current rustc output; npm's build works.
    command -v npm >/dev/null || apt_install nodejs npm
    log "npm install binaryen@132.0.0 (wasm-opt)"
    mkdir -p "$EMOJI_MIRROR_TOOLS/npm"
    (cd "$EMOJI_MIRROR_TOOLS/npm" && npm install --no-audit --no-fund --silent binaryen@132.0.0)
  fi
}

setup_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    log "apt: chromium chromium-driver"
    apt_install chromium chromium-driver
  fi
}

setup_python() {
  local req="$REPO_ROOT/training/requirements.txt" stamp="$EMOJI_MIRROR_VENV/.requirements.sha256"
  local want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "python venv for training/ (once; torch brings ~3 GB)"
    python3 -m venv "$EMOJI_MIRROR_VENV"
    "$EMOJI_MIRROR_VENV/bin/pip" install -q -r "$req"
    echo "$want" >"$stamp"
  fi
}

setup_rust
setup_web_tools
if [ "$what" = tests ]; then
  setup_browser
  setup_python
fi
(cd "$REPO_ROOT" && cargo fetch -q)
