#!/usr/bin/env bash
# Install noVNC (npm @novnc/novnc, pinned in vncauthproxy/web/package-lock.json) for the
# console viewer page the proxy serves. Cheap when already installed; skipped without npm.
set -euo pipefail
cd "$(dirname "$0")/../vncauthproxy/web"
lock_sum=$(sha256sum package-lock.json | cut -c1-16)
[[ -e node_modules/.installed-$lock_sum ]] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "[novnc] npm not found: the console page will not load noVNC (apt-get install npm)" >&2
  exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts --silent
touch "node_modules/.installed-$lock_sum"
