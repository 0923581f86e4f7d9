#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the product with pinned dependencies.
#   scripts/venv.sh        runtime dependencies
#   scripts/venv.sh test   runtime + test dependencies
# Re-running is cheap: nothing is reinstalled unless a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed" >&2; exit 1; }
[[ -x .venv/bin/python ]] || $PY -m venv .venv
scripts/ui-build.sh  # the browser UI's jQuery, from npm (pinned in ui/package-lock.json)
want=requirements.txt
[[ ${1:-} == test ]] && want=requirements-test.txt
stamp=.venv/.installed-$(cat requirements.txt requirements-test.txt setup.py pyproject.toml | sha256sum | cut -c1-16)-${1:-run}
if [[ ! -e $stamp ]]; then
  printf '\033[1m[venv]\033[0m installing %s into .venv\n' "$want"
  .venv/bin/pip install -q --disable-pip-version-check -r "$want"
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  touch "$stamp"
fi
