#!/bin/sh
# Run tempest against the whole stack (PostgreSQL, RabbitMQ, the real Ganeti sandbox).
# Options are passed on: --no-server, --regex R, --concurrency N, --keep, --url U --facts F.
set -e
cd "$(dirname "$0")/../.."
exec .venv/bin/python -m tests.tempest.run_tempest "$@"
