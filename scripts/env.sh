# Sourced by the other scripts: where everything slow to make is kept (outside the clone, reused between runs).
# shellcheck shell=bash
export EMOJI_MIRROR_CACHE="${EMOJI_MIRROR_CACHE:-$HOME/.cache/emoji-mirror}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$EMOJI_MIRROR_CACHE/target}"
export EMOJI_MIRROR_VENV="${EMOJI_MIRROR_VENV:-$EMOJI_MIRROR_CACHE/venv}"
export EMOJI_MIRROR_TOOLS="$EMOJI_MIRROR_CACHE/tools"
export PATH="$EMOJI_MIRROR_TOOLS/bin:$EMOJI_MIRROR_TOOLS/npm/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
export EMOJI_MIRROR_DATA="${EMOJI_MIRROR_DATA:-$REPO_ROOT/../shared/data/fer2013}"
mkdir -p "$EMOJI_MIRROR_CACHE"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
