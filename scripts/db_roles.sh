#!/usr/bin/env bash
# Creates, idempotently, the two PostgreSQL roles of origami and its database (README, Security):
#   POSTGRES_OWNER_USER (origami_owner): owns the database and its schema, runs the migrations
#     (`manage.py migrate --database owner`); may create databases (the test suite's);
#   POSTGRES_USER (origami_app): what the app connects as; owns nothing, no superuser, no
#     TRUNCATE, no UPDATE/DELETE on the append-only tables (granted after each migration by
#     origami/db_roles.py).
# Connects as POSTGRES_SUPERUSER (postgres) with PGPASSWORD if the server asks for one (CI and
# this project's machines use trust authentication on 127.0.0.1). Passwords are set only when
# POSTGRES_OWNER_PASSWORD / POSTGRES_PASSWORD are given.
# A database that already exists is handed to the owner with its tables and functions (a
# database made before the roles existed), and so is its test database (test_<POSTGRES_DB>).
set -euo pipefail

HOST="${POSTGRES_HOST:-127.0.0.1}"
PORT="${POSTGRES_PORT:-5432}"
SUPERUSER="${POSTGRES_SUPERUSER:-postgres}"
DB="${POSTGRES_DB:-origami}"
OWNER="${POSTGRES_OWNER_USER:-origami_owner}"
APP="${POSTGRES_USER:-origami_app}"

if [ "$OWNER" = "$APP" ] || [ "$APP" = "$SUPERUSER" ]; then
  echo "POSTGRES_USER must be its own role, neither the owner nor the superuser" >&2
  exit 1
fi

run() {  # run DBNAME: SQL on stdin
  psql -X -q -h "$HOST" -p "$PORT" -U "$SUPERUSER" -d "$1" -v ON_ERROR_STOP=1 \
    -v owner="$OWNER" -v app="$APP" -v db="$DB" \
    -v owner_password="${POSTGRES_OWNER_PASSWORD:-}" -v app_password="${POSTGRES_PASSWORD:-}"
}

run postgres <<'SQL'
SELECT format('CREATE ROLE %I', :'owner')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE ROLE %I', :'app')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
ALTER ROLE :"owner" LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
SELECT format('ALTER ROLE %I PASSWORD %L', :'owner', :'owner_password')
  WHERE :'owner_password' <> '' \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'app', :'app_password')
  WHERE :'app_password' <> '' \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', datname, :'owner')
  FROM pg_database WHERE datname IN (:'db', 'test_' || :'db', :'db' || '_chaos') \gexec
SQL

adopt() {  # hand the public schema's objects of database $1 to the owner
  run "$1" <<'SQL'
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('ALTER %s public.%I OWNER TO %I',
              CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                             WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
              c.relname, :'owner')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
    AND pg_get_userbyid(c.relowner) <> :'owner'
    -- sequences of identity columns follow their table
    AND NOT (c.relkind = 'S' AND EXISTS (
      SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
\gexec
SELECT format('ALTER FUNCTION public.%I(%s) OWNER TO %I',
              p.proname, pg_get_function_identity_arguments(p.oid), :'owner')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :'owner' \gexec
SQL
}
adopt "$DB"
if psql -X -h "$HOST" -p "$PORT" -U "$SUPERUSER" -d postgres -Atc \
    "SELECT 1 FROM pg_database WHERE datname = 'test_$DB'" | grep -q 1; then
  adopt "test_$DB"
fi
# The app's rights on the tables come with the next `manage.py migrate --database owner`
# (origami/db_roles.py, after every migrate, even with nothing to apply).
echo "database roles ready: owner $OWNER, app $APP, database $DB"
