#!/usr/bin/env bash
# Sets up (first run only), builds and serves the site with the shipped models at http://127.0.0.1:8080/
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh site
# No auto-reload: trunk would inject an inline script and a websocket, which the page's Content Security Policy
# (no inline script, no other connection) refuses.
exec trunk serve --release --no-autoreload --address 127.0.0.1 --port "${PORT:-8080}"
