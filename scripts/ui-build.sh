#!/usr/bin/env bash
# Build the browser UI's vendored JavaScript: jQuery at the version pinned in ui/package.json
# and ui/package-lock.json, installed from npm with `npm ci`, copied into ui/static/ui/vendor/
# (served by the product, packaged by setup.py; never a CDN). Called by scripts/venv.sh.
# Idempotent: nothing happens while the stamp of the current lock file is present.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=ui/static/ui/vendor
stamp=$vendor/.built-$(sha256sum ui/package-lock.json | cut -c1-16)
[[ -e $stamp && -s $vendor/jquery.min.js ]] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  printf '\033[1m[ui-build]\033[0m installing npm (Debian)\n'
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
printf '\033[1m[ui-build]\033[0m npm ci (ui/package-lock.json) into %s\n' "$vendor"
npm ci --prefix ui --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
rm -rf "$vendor"
mkdir -p "$vendor"
cp ui/node_modules/jquery/dist/jquery.min.js "$vendor/jquery.min.js"
cp ui/node_modules/jquery/LICENSE.txt "$vendor/jquery.LICENSE.txt"
touch "$stamp"
