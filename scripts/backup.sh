#!/usr/bin/env bash
# A backup that is known to restore: dump the configured database (pg_dump, custom format, with a
# manifest of row counts, triggers and prescription numbers), restore it into a scratch database,
# verify it, drop the scratch database. Exits non-zero if anything differs.
#
#   scripts/backup.sh [FILE]            dump to FILE (default var/backups/origami-<date>.dump) and check
#   scripts/backup.sh restore FILE DB   restore FILE into the new database DB and verify it
#
# Uses the POSTGRES_* variables of the settings (README, "Sauvegarde et restauration").
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
test -x "$PYTHON" || PYTHON=python
if [ "${1:-}" = "restore" ]; then
  exec "$PYTHON" manage.py backup restore "$2" --database "$3"
fi
exec "$PYTHON" manage.py backup check ${1:+--output "$1"}
