#!/usr/bin/env bash
# Sets up (first run only) and runs every test of the project: lint, the Rust pipeline and CLI, the wasm build,
# the site in headless Chromium with a fake camera, and the training code. The data set is read from
# ../shared/data/fer2013 (or $EMOJI_MIRROR_DATA).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

[ -d "$EMOJI_MIRROR_DATA/val" ] || { echo "error: FER2013 not found at $EMOJI_MIRROR_DATA (set EMOJI_MIRROR_DATA)" >&2; exit 1; }

log "setup"
bash scripts/setup.sh tests

log "format and lint (native and wasm32)"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings
# The site's wasm as trunk builds it: the worker with the pipeline as the site uses it (no `onnx` feature).
cargo clippy --release -p emoji-mirror-site --features worker --target wasm32-unknown-unknown -- -D warnings

log "site: trunk build --release (dist/ is what the browser tests serve)"
trunk build --release

# One feature set and one profile for the whole workspace (no second build of tract; `tests`: release code without
# the cross-crate LTO that made each test binary slow to link, Cargo.toml); the browser tests start Chromium each,
# so the tests run one at a time. The browser tests include a 5-minute memory soak.
log "Rust tests: pipeline, CLI, and the site in headless Chromium with a fake camera"
cargo test --profile tests --workspace -- --test-threads=1

log "wasm-bindgen tests of the site's browser glue (headless Chromium; webdriver.json names it)"
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test -p emoji-mirror-site --target wasm32-unknown-unknown --test glue

log "the worker's wasm SIMD against the plain code it replaces (built as the site's worker is; headless Chromium)"
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --profile wasm-release -p emoji-mirror-site --features worker --target wasm32-unknown-unknown \
  --lib --test wasm_kernels

log "training tests"
export EMOJI_MIRROR_BIN="$CARGO_TARGET_DIR/tests/emoji-mirror"
(cd training && "$EMOJI_MIRROR_VENV/bin/python" -m pytest -q tests)
