#!/usr/bin/env bash
# The site's browser benchmark and memory soak (headless Chromium, fake camera), not part of the test run:
#   bench/browser.json  frames analysed per second, first emoji after the camera starts, ms per stage, gzip size
#   the 5-minute memory soak (JS heap and wasm memory within 10% of their value after the first minute)
# Builds the site first. EMOJI_MIRROR_SOAK_SECONDS=60 shortens the soak.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
trunk build --release
cargo test --release -p emoji-mirror-site --test browser_bench -- --ignored --test-threads=1 --nocapture
