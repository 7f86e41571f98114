#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on their local ports. When one does not answer, it is
# started; when it is not even installed, it is installed with apt first (run as root on Debian
# or Ubuntu, as scripts/chromium.sh does for the browser), else the script says in one line what
# to install. A PostgreSQL installed here trusts local TCP connections, like this project's
# machines: a development database, never a production one.
set -euo pipefail

PG_HOST="${POSTGRES_HOST:-127.0.0.1}"
PG_PORT="${POSTGRES_PORT:-5432}"

can_install() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; }

apt_install() {
  echo "Installing $* with apt"
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # wait_for <what> <command...>: at most 30 s
  local what="$1"
  shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "$what does not answer after 30 s" >&2
  return 1
}

pg_answers() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }
pg_cluster() { find /etc/postgresql -mindepth 2 -maxdepth 2 -name main 2>/dev/null | sort -V | tail -n1; }

postgresql() {
  if command -v pg_isready >/dev/null && pg_answers; then return 0; fi
  if [ -z "$(pg_cluster)" ]; then
    if ! can_install; then
      echo "PostgreSQL is not installed: install it (Debian: apt-get install postgresql) and start it, or set POSTGRES_HOST/POSTGRES_PORT to one that runs." >&2
      exit 1
    fi
    apt_install postgresql
    local hba
    hba="$(pg_cluster)/pg_hba.conf"
    # Before the packaged rules (first match wins): the app connects as postgres without a password.
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    action=restart # the package may have started it (where a service manager runs)
  fi
  local version
  version="$(basename "$(dirname "$(pg_cluster)")")"
  echo "PostgreSQL is not answering: starting it"
  if ! pg_ctlcluster --skip-systemctl-redirect "$version" main "${action:-start}"; then
    echo "PostgreSQL $version is installed but could not be started: start it (as root: scripts/services.sh)." >&2
    exit 1
  fi
  wait_for PostgreSQL pg_answers
}

redis_answers() { redis-cli -h 127.0.0.1 -p 6379 ping; }

redis() {
  if command -v redis-cli >/dev/null && redis_answers >/dev/null 2>&1; then return 0; fi
  if ! command -v redis-server >/dev/null; then
    if ! can_install; then
      echo "Redis is not installed: install it (Debian: apt-get install redis-server) and start it on 127.0.0.1:6379." >&2
      exit 1
    fi
    apt_install redis-server
    # The package may have started it already (where a service manager runs).
    if redis_answers >/dev/null 2>&1; then return 0; fi
  fi
  echo "Redis is not answering: starting it"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  if ! redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log; then
    echo "Redis is installed but could not be started: start it on 127.0.0.1:6379 (as root: scripts/services.sh)." >&2
    exit 1
  fi
  wait_for Redis redis_answers
}

postgresql
redis
pg_isready -h "$PG_HOST" -p "$PG_PORT"
redis_answers
