#!/usr/bin/env bash
# Install the real kamaki 0.16 (Synnefo's own client; Python 2.7 only) into var/kamaki-py2 for the
# tests that drive it (tests/identity/test_v2_kamaki.py). Needs a CPython 2.7: $PYTHON2, else
# pyenv's 2.7.18, else python2.7 on PATH. Without one it says so and exits 0: the tests then skip
# locally and fail in CI, which is where the gap must show.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=var/kamaki-py2
log() { printf '\033[1m[kamaki]\033[0m %s\n' "$*"; }

PY2=${PYTHON2:-$HOME/.pyenv/versions/2.7.18/bin/python}
[[ -x $PY2 ]] || PY2=$(command -v python2.7 || true)
if [[ -z $PY2 || ! -x $PY2 ]]; then
  log "no Python 2.7 interpreter: kamaki not installed"
  exit 0
fi
if [[ -f $TARGET/bin/kamaki ]]; then
  log "kamaki already in $TARGET"
  exit 0
fi
log "installing kamaki 0.16 with $PY2 into $TARGET"
rm -rf "$TARGET.tmp"
"$PY2" -m pip install -q --disable-pip-version-check --no-warn-script-location --target "$TARGET.tmp" \
  kamaki==0.16 astakosclient==0.19 2>&1 | { grep -v -e 'is ignored: it is neither' -e DEPRECATION || true; }
rm -rf "$TARGET" && mv "$TARGET.tmp" "$TARGET"
