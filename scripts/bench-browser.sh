#!/usr/bin/env bash
# The site's browser benchmark (headless Chromium, 30 fps fake camera, one face), not part of the test run: writes
# bench/browser.json (frames analysed per second, first emoji after the camera starts, ms per stage, gzip size).
# Builds the site first. The 5-minute memory soak is a test (tests/browser.rs), run by scripts/test.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
trunk build --release
cargo test --release -p emoji-mirror-site --test browser_bench -- --ignored --test-threads=1 --nocapture
