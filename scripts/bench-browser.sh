#!/usr/bin/env bash
# The site's browser benchmark (headless Chromium, 30 fps fake camera, one face), not part of the test run: writes
# bench/browser.json (frames analysed per second and ms per stage at full speed and with the CPU throttled 4x,
# first emoji after the camera starts, gzip size) and, from the same machine in the same hour, bench/native.json
# (`emoji-mirror bench`). Builds the site first. Pause other work (training) while it runs: the figures are only
# comparable on a quiet machine. The 5-minute memory soak is a test (tests/browser.rs), run by scripts/test.sh.
#
# `bash scripts/bench-browser.sh fullpath` runs the full path's browser benchmarks instead (tests/browser_fullpath.rs,
# about 8 minutes): 140 labelled val faces through the page's fake camera, scored against their labels beside the
# native pipeline on the same frames (bench/browser-fullpath.json), and how quickly and steadily the emoji follows
# a face (bench/browser-follow.json).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
trunk build --release
if [ "${1:-}" = fullpath ]; then
    exec cargo test --release -p emoji-mirror-site --test browser_fullpath -- --ignored --test-threads=1 --nocapture
fi
cargo test --release -p emoji-mirror-site --test browser_bench -- --ignored --test-threads=1 --nocapture
cargo run --release -q -p emoji-mirror-cli -- bench --json > bench/native.json
cat bench/native.json
