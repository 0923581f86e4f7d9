#!/usr/bin/env bash
# Start PostgreSQL and RabbitMQ if they are down (no systemd needed), and make sure the
# current user has a PostgreSQL role and the database `test` the test suite connects to.
set -euo pipefail
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
log() { printf '\033[1m[services]\033[0m %s\n' "$*"; }
ME=$(id -un)

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  log "starting PostgreSQL"
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start" >&2; exit 1; }
if ! psql -h 127.0.0.1 -U "$ME" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
  log "creating PostgreSQL role $ME"
  $SUDO -u postgres psql -q -c "CREATE ROLE \"$ME\" LOGIN SUPERUSER" 2>/dev/null \
    || su postgres -c "psql -q -c 'CREATE ROLE \"$ME\" LOGIN SUPERUSER'"
fi
if ! psql -h 127.0.0.1 -U "$ME" -d test -tAc 'select 1' >/dev/null 2>&1; then
  log "creating database test"
  createdb -h 127.0.0.1 -U "$ME" test
fi

if ! $SUDO rabbitmqctl -q status >/dev/null 2>&1; then
  log "starting RabbitMQ"
  $SUDO rabbitmq-server -detached
  $SUDO rabbitmqctl -q await_startup --timeout 120 >/dev/null 2>&1 || {
    for _ in $(seq 1 120); do $SUDO rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 1; done; }
fi
$SUDO rabbitmqctl -q status >/dev/null 2>&1 || { echo "RabbitMQ did not start" >&2; exit 1; }
log "PostgreSQL and RabbitMQ are up"
