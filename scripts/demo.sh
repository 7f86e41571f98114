#!/usr/bin/env bash
# Loads the demo data. Linking the demo practitioners to Ordoclic needs the sandbox to answer, so
# when it is not running yet this starts it for the duration of the command.
set -euo pipefail
BIN=${BIN:-.venv/bin}
PORT=${SANDBOX_PORT:-8765}
started=""
if ! curl -fs "http://127.0.0.1:${PORT}/_sandbox/ledger?per_page=1" >/dev/null 2>&1; then
  mkdir -p var
  "$BIN/python" -m ordoclic_client.sandbox --host 127.0.0.1 --port "$PORT" --state var/sandbox \
    >var/sandbox-demo.log 2>&1 &
  started=$!
  trap 'kill "$started" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do
    curl -fs "http://127.0.0.1:${PORT}/_sandbox/ledger?per_page=1" >/dev/null 2>&1 && break
    sleep 0.2
  done
fi
"$BIN/python" manage.py demo_data
# The drug memory starts with the committed BDPM extract (about 400 products, a second or two):
# the demo's drug search answers even with the sandbox stopped.
"$BIN/python" manage.py drugs_import_bdpm tests/data/bdpm --quiet
