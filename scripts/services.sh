#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on their local ports, starting them the way this
# machine's image does when they do not. On another machine, start them your own way.
set -euo pipefail

if ! pg_isready -q -h "${POSTGRES_HOST:-127.0.0.1}" -p "${POSTGRES_PORT:-5432}"; then
  echo "PostgreSQL is not answering: starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis is not answering: starting it"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h "${POSTGRES_HOST:-127.0.0.1}" -p "${POSTGRES_PORT:-5432}"
redis-cli -h 127.0.0.1 -p 6379 ping
