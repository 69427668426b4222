#!/usr/bin/env bash
# Quick start: installs what Portcullis needs, builds it, starts a demo PostgreSQL with
# synthetic customer data in var/demo/, issues a token and runs the gateway in front of it.
#
#   scripts/demo.sh           set up (or reuse) everything, then run the gateway in the foreground
#   scripts/demo.sh prepare   only set up the demo database, secrets and config; no build, no serve
#   scripts/demo.sh stop      stop the demo PostgreSQL
#   scripts/demo.sh reset     stop it and delete var/demo/, so that the next run starts afresh
#   scripts/demo.sh portcullis ARGS...
#                             run portcullis with the demo's config and secrets, for example
#                             `scripts/demo.sh portcullis audit search` or `... audit verify`
#
# Environment:
#   DEMO_PG_PORT=54329        port of the demo PostgreSQL (127.0.0.1 only)
#   DEMO_SKIP_SETUP=1         do not run scripts/setup.sh (packages already installed)
#   DEMO_SKIP_BUILD=1         use the existing build/ as it is
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

DEMO_DIR=var/demo
PG_PORT=${DEMO_PG_PORT:-54329}
MARIADB_PORT=${DEMO_MARIADB_PORT:-33069}
GATEWAY_LISTEN=127.0.0.1:15432
SECRETS=$DEMO_DIR/secrets.env
CONFIG=$DEMO_DIR/portcullis.yaml
PORTCULLIS=./build/src/cli/portcullis
# The demo backend's data lives here, owned by the user PostgreSQL runs as.
PG_DIR=$REPO/$DEMO_DIR/postgres
PGDATA=$PG_DIR/data
PG_LOG=$PG_DIR/postgresql.log

say() {
  if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
die() {
  printf 'demo: %s\n' "$*" >&2
  exit 1
}

# The PostgreSQL the project targets (15); a newer one installed alone also works.
find_pg_bin() {
  if [ -n "${DEMO_PG_BINDIR:-}" ]; then
    echo "$DEMO_PG_BINDIR"
    return
  fi
  local dir
  for dir in /usr/lib/postgresql/15/bin $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
    if [ -x "$dir/postgres" ]; then
      echo "$dir"
      return
    fi
  done
  die "PostgreSQL server binaries not found in /usr/lib/postgresql (run scripts/setup.sh)"
}

# PostgreSQL refuses to run as root: as root, run it as the `postgres` account that Debian's
# package creates; otherwise as the current user.
if [ "$(id -u)" -eq 0 ]; then
  PG_OS_USER=postgres
  as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
  PG_OS_USER=$(id -un)
  as_pg() { "$@"; }
fi

# Unix socket paths are limited to 107 bytes; a deep checkout falls back to /tmp.
socket_dir() {
  local dir=$PG_DIR/run
  if [ "${#dir}" -gt 80 ]; then
    dir=/tmp/portcullis-demo-$PG_PORT
  fi
  echo "$dir"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_running() { [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

# The superuser over the Unix socket; only the server's OS user (and root) can reach it.
psql_admin() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(socket_dir)" -p "$PG_PORT" -U postgres "$@"
}

stop_postgres() {
  PG_BIN=$(find_pg_bin)
  if pg_running; then
    say "Stopping the demo PostgreSQL"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  else
    echo "The demo PostgreSQL is not running." >&2
  fi
}

init_cluster() {
  if [ "$(id -u)" -eq 0 ]; then
    id "$PG_OS_USER" >/dev/null 2>&1 || die "user $PG_OS_USER missing (install the postgresql package: scripts/setup.sh)"
    as_pg test -x "$REPO/$DEMO_DIR" ||
      die "user $PG_OS_USER cannot reach $REPO/$DEMO_DIR; make its parent folders world-traversable (chmod o+x) or move the checkout"
  fi
  say "Creating the demo PostgreSQL cluster in $DEMO_DIR/postgres"
  rm -rf "$PG_DIR"
  install -d -m 0700 "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER:" "$PG_DIR"; fi
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --encoding=UTF8 --no-locale \
    --no-instructions >"$PG_DIR/initdb.log" 2>&1 || {
    cat "$PG_DIR/initdb.log" >&2
    die "initdb failed"
  }
  # Only the superuser over the private socket is trusted; the demo roles use SCRAM over TCP.
  as_pg tee "$PGDATA/pg_hba.conf" >/dev/null <<'HBA'
# Written by scripts/demo.sh.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
host    app       all       127.0.0.1/32   scram-sha-256
HBA
  echo "include 'portcullis_demo.conf'" | as_pg tee -a "$PGDATA/postgresql.conf" >/dev/null
}

# Rewritten on every run, so that DEMO_PG_PORT and the socket folder can change.
write_server_settings() {
  local sockets
  sockets=$(socket_dir)
  install -d -m 0700 "$sockets"
  if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER:" "$sockets"; fi
  as_pg tee "$PGDATA/portcullis_demo.conf" >/dev/null <<CONF
# Written by scripts/demo.sh on every run.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sockets'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
log_connections = on
CONF
}

start_postgres() {
  if pg_running; then
    local running_port
    running_port=$(sed -n 4p "$PGDATA/postmaster.pid")
    if [ "$running_port" = "$PG_PORT" ]; then
      say "Reusing the running demo PostgreSQL on 127.0.0.1:$PG_PORT"
      return
    fi
    say "Restarting the demo PostgreSQL to move it from port $running_port to $PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  if port_in_use "$PG_PORT"; then
    die "port $PG_PORT is taken by another program; choose another with DEMO_PG_PORT=…"
  fi
  say "Starting the demo PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t 60 start >/dev/null || {
    tail -n 30 "$PG_LOG" >&2 || true
    die "PostgreSQL did not start (log: $PG_LOG)"
  }
}

# Passwords are made once and kept, so that a running gateway and the database agree.
load_or_make_secrets() {
  if [ ! -f "$SECRETS" ]; then
    say "Generating passwords for app_rw and app_ro in $SECRETS"
    (
      umask 077
      cat >"$SECRETS" <<ENV
# Passwords of the demo database roles, generated by scripts/demo.sh. Portcullis reads them
# through password_env (see portcullis.yaml); clients never see them.
export DEMO_APP_RW_PASSWORD=$(openssl rand -hex 24)
export DEMO_APP_RO_PASSWORD=$(openssl rand -hex 24)
ENV
    )
  fi
  chmod 0600 "$SECRETS"
  # shellcheck source=/dev/null
  . "$SECRETS"
  if [ -z "${DEMO_APP_RW_PASSWORD:-}" ] || [ -z "${DEMO_APP_RO_PASSWORD:-}" ]; then
    die "$SECRETS lacks DEMO_APP_RW_PASSWORD or DEMO_APP_RO_PASSWORD; delete it to make new ones"
  fi
}

# Idempotent: creates what is missing and sets the passwords from secrets.env every time.
create_database() {
  say "Creating roles app_rw (read/write) and app_ro (read-only) and the database app"
  psql_admin -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN', name) FROM unnest(ARRAY['app_rw', 'app_ro']) AS name
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) \gexec
ALTER ROLE app_rw LOGIN PASSWORD '$DEMO_APP_RW_PASSWORD';
ALTER ROLE app_ro LOGIN PASSWORD '$DEMO_APP_RO_PASSWORD';
-- A second line of defence behind the gateway's own read-only enforcement.
ALTER ROLE app_ro SET default_transaction_read_only = on;
SELECT 'CREATE DATABASE app OWNER app_rw'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'app') \gexec
REVOKE ALL ON DATABASE app FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE app TO app_rw;
GRANT CONNECT ON DATABASE app TO app_ro;
SQL

  local loaded
  loaded=$(psql_admin -d app -At -c "SELECT to_regclass('public.customers') IS NOT NULL")
  if [ "$loaded" != t ]; then
    say "Loading the demo tables and synthetic data"
    psql_admin -d app --single-transaction -c 'SET ROLE app_rw' \
      -f examples/demo/schema.sql -f examples/demo/data.sql >/dev/null
  else
    say "Reusing the demo tables (scripts/demo.sh reset starts afresh)"
  fi

  psql_admin -d app <<'SQL'
GRANT USAGE ON SCHEMA public TO app_ro;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_ro;
ALTER DEFAULT PRIVILEGES FOR ROLE app_rw IN SCHEMA public GRANT SELECT ON TABLES TO app_ro;
SQL
}

# --- The demo MariaDB -------------------------------------------------------------------------
# A second backend for the MySQL front end: the same customers, products, orders and tickets in
# a database `shop`, with users shop_rw (read/write) and shop_ro (read-only) whose passwords are
# DEMO_SHOP_RW_PASSWORD and DEMO_SHOP_RO_PASSWORD in secrets.env. Off unless DEMO_MARIADB=1,
# until the gateway's config uses it; DEMO_MARIADB_PORT=33069 moves it (127.0.0.1 only).
MARIADB_DIR=$REPO/$DEMO_DIR/mariadb
MARIADB_DATA=$MARIADB_DIR/data
MARIADB_LOG=$MARIADB_DIR/mariadbd.log
MARIADB_PID=$MARIADB_DIR/mariadbd.pid

mariadb_enabled() { [ "${DEMO_MARIADB:-0}" = 1 ]; }

# Debian keeps mariadbd in /usr/sbin, which is not on every user's PATH.
find_mariadb_bin() {
  local name=$1 dir
  for dir in ${DEMO_MARIADB_BINDIR:-} /usr/sbin /usr/bin; do
    if [ -x "$dir/$name" ]; then
      echo "$dir/$name"
      return
    fi
  done
  command -v "$name" || die "MariaDB program $name not found (run scripts/setup.sh)"
}

# mariadbd refuses to run as root: as root it switches to the `mysql` account that Debian's
# package creates (--user); otherwise it runs as the current user. The administrator logs in
# over the private socket as the OS user it is (unix_socket authentication).
if [ "$(id -u)" -eq 0 ]; then
  MARIADB_OS_USER=mysql
  MARIADB_ADMIN=root
else
  MARIADB_OS_USER=$(id -un)
  MARIADB_ADMIN=$MARIADB_OS_USER
fi

mariadb_socket() {
  local socket=$MARIADB_DIR/run/mariadbd.sock
  if [ "${#socket}" -gt 100 ]; then
    socket=/tmp/portcullis-demo-mariadb-$MARIADB_PORT/mariadbd.sock
  fi
  echo "$socket"
}

mariadb_running() {
  [ -f "$MARIADB_PID" ] && kill -0 "$(cat "$MARIADB_PID")" 2>/dev/null
}

mariadb_admin_sql() {
  "$(find_mariadb_bin mariadb)" --no-defaults --batch --skip-column-names \
    --socket="$(mariadb_socket)" --user="$MARIADB_ADMIN" "$@"
}

stop_mariadb() {
  mariadb_running || return 0
  say "Stopping the demo MariaDB"
  local pid waited=0
  pid=$(cat "$MARIADB_PID")
  # SIGTERM is mariadbd's clean shutdown.
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    [ "$waited" -lt 600 ] || die "the demo MariaDB ($pid) did not stop within 60s"
    sleep 0.1
    waited=$((waited + 1))
  done
}

init_mariadb() {
  if [ "$(id -u)" -eq 0 ]; then
    id "$MARIADB_OS_USER" >/dev/null 2>&1 || die "user $MARIADB_OS_USER missing (install the mariadb-server package: scripts/setup.sh)"
    runuser -u "$MARIADB_OS_USER" -- test -x "$REPO/$DEMO_DIR" ||
      die "user $MARIADB_OS_USER cannot reach $REPO/$DEMO_DIR; make its parent folders world-traversable (chmod o+x) or move the checkout"
  fi
  say "Creating the demo MariaDB data directory in $DEMO_DIR/mariadb"
  rm -rf "$MARIADB_DIR"
  install -d -m 0700 "$MARIADB_DIR"
  if [ "$(id -u)" -eq 0 ]; then chown "$MARIADB_OS_USER:" "$MARIADB_DIR"; fi
  local as_user=()
  if [ "$(id -u)" -eq 0 ]; then as_user=(--user="$MARIADB_OS_USER"); fi
  "$(find_mariadb_bin mariadb-install-db)" --no-defaults "${as_user[@]}" --datadir="$MARIADB_DATA" \
    --auth-root-authentication-method=socket --auth-root-socket-user="$MARIADB_ADMIN" \
    --skip-test-db --skip-name-resolve >"$MARIADB_DIR/install.log" 2>&1 || {
    cat "$MARIADB_DIR/install.log" >&2
    die "mariadb-install-db failed"
  }
}

start_mariadb() {
  if mariadb_running; then
    local running_port
    running_port=$(mariadb_admin_sql -e 'SELECT @@port' 2>/dev/null || true)
    if [ "$running_port" = "$MARIADB_PORT" ]; then
      say "Reusing the running demo MariaDB on 127.0.0.1:$MARIADB_PORT"
      return
    fi
    say "Restarting the demo MariaDB to move it to port $MARIADB_PORT"
    stop_mariadb
  fi
  if port_in_use "$MARIADB_PORT"; then
    die "port $MARIADB_PORT is taken by another program; choose another with DEMO_MARIADB_PORT=…"
  fi
  local socket
  socket=$(mariadb_socket)
  install -d -m 0700 "$(dirname "$socket")"
  local as_user=()
  if [ "$(id -u)" -eq 0 ]; then
    chown "$MARIADB_OS_USER:" "$(dirname "$socket")"
    as_user=(--user="$MARIADB_OS_USER")
  fi
  say "Starting the demo MariaDB on 127.0.0.1:$MARIADB_PORT"
  # Its own session (setsid), so that Ctrl-C on the gateway in the foreground leaves it running,
  # as pg_ctl does for PostgreSQL. --no-defaults: none of /etc/mysql, which is the system server's.
  setsid "$(find_mariadb_bin mariadbd)" --no-defaults "${as_user[@]}" --datadir="$MARIADB_DATA" \
    --socket="$socket" --port="$MARIADB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --pid-file="$MARIADB_PID" --log-error="$MARIADB_LOG" --skip-log-bin \
    --innodb-buffer-pool-size=32M --performance-schema=OFF </dev/null >/dev/null 2>&1 &
  local server=$! waited=0
  until mariadb_admin_sql -e 'SELECT 1' >/dev/null 2>&1; do
    if ! kill -0 "$server" 2>/dev/null || [ "$waited" -ge 600 ]; then
      tail -n 30 "$MARIADB_LOG" >&2 || true
      die "MariaDB did not start (log: $MARIADB_LOG)"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Passwords are made once and kept beside the PostgreSQL ones.
load_or_make_mariadb_secrets() {
  if ! grep -q '^export DEMO_SHOP_RW_PASSWORD=' "$SECRETS"; then
    say "Generating passwords for shop_rw and shop_ro in $SECRETS"
    cat >>"$SECRETS" <<ENV
# Passwords of the demo MariaDB users (DEMO_MARIADB=1).
export DEMO_SHOP_RW_PASSWORD=$(openssl rand -hex 24)
export DEMO_SHOP_RO_PASSWORD=$(openssl rand -hex 24)
ENV
  fi
  # shellcheck source=/dev/null
  . "$SECRETS"
  if [ -z "${DEMO_SHOP_RW_PASSWORD:-}" ] || [ -z "${DEMO_SHOP_RO_PASSWORD:-}" ]; then
    die "$SECRETS lacks DEMO_SHOP_RW_PASSWORD or DEMO_SHOP_RO_PASSWORD; delete it to make new ones"
  fi
}

# The PostgreSQL demo data (examples/demo/data.sql) in MariaDB's dialect: timestamps without
# the offset (the session is in UTC), and no sequences to move (AUTO_INCREMENT follows).
mariadb_demo_data() {
  echo "SET time_zone = '+00:00';"
  sed -e '/^SELECT setval(/d' \
    -e "s/'\([0-9-]\{10\}\)T\([0-9:]\{8\}\)+00:00'/'\1 \2'/g" examples/demo/data.sql
}

# Idempotent: creates what is missing and sets the passwords from secrets.env every time.
create_mariadb_database() {
  say "Creating users shop_rw (read/write) and shop_ro (read-only) and the database shop"
  mariadb_admin_sql <<SQL
CREATE DATABASE IF NOT EXISTS shop CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS shop_rw@'127.0.0.1';
CREATE USER IF NOT EXISTS shop_ro@'127.0.0.1';
ALTER USER shop_rw@'127.0.0.1' IDENTIFIED BY '$DEMO_SHOP_RW_PASSWORD';
ALTER USER shop_ro@'127.0.0.1' IDENTIFIED BY '$DEMO_SHOP_RO_PASSWORD';
GRANT ALL ON shop.* TO shop_rw@'127.0.0.1';
-- A second line of defence behind the gateway's own read-only enforcement.
GRANT SELECT ON shop.* TO shop_ro@'127.0.0.1';
SQL

  # support_tickets is loaded last: without its rows the load did not finish.
  local loaded
  loaded=$(mariadb_admin_sql shop -e "SELECT COUNT(*) FROM information_schema.tables
    WHERE table_schema = 'shop' AND table_name = 'support_tickets'")
  if [ "$loaded" = 1 ]; then
    loaded=$(mariadb_admin_sql shop -e 'SELECT COUNT(*) > 0 FROM support_tickets')
  fi
  if [ "$loaded" != 1 ]; then
    say "Loading the demo tables and synthetic data into MariaDB"
    {
      echo 'DROP TABLE IF EXISTS support_tickets, orders, products, customers;'
      cat examples/demo/mariadb/schema.sql
      mariadb_demo_data
    } | mariadb_admin_sql shop >/dev/null
  else
    say "Reusing the demo MariaDB tables (scripts/demo.sh reset starts afresh)"
  fi
}

prepare_mariadb() {
  install -d -m 0755 "$DEMO_DIR"
  if [ ! -d "$MARIADB_DATA/mysql" ]; then
    init_mariadb
  fi
  start_mariadb
  load_or_make_mariadb_secrets
  create_mariadb_database
}

write_config() {
  say "Writing $CONFIG"
  install -d -m 0700 "$DEMO_DIR/state"
  sed -e "s/@PG_PORT@/$PG_PORT/g" \
    -e "s/@LISTEN_POSTGRES@/$GATEWAY_LISTEN/g" \
    examples/demo/portcullis.yaml.in >"$CONFIG.tmp"
  mv "$CONFIG.tmp" "$CONFIG"
}

prepare() {
  PG_BIN=$(find_pg_bin)
  install -d -m 0755 "$DEMO_DIR"
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    init_cluster
  fi
  write_server_settings
  start_postgres
  load_or_make_secrets
  create_database
  if mariadb_enabled; then
    prepare_mariadb
  fi
  write_config
}

build() {
  say "Building Portcullis (release)"
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPORTCULLIS_TESTS=OFF -DPORTCULLIS_BENCH=OFF
  cmake --build build
}

print_instructions() {
  local token=$1
  cat <<TEXT

Portcullis demo
  gateway        postgres://$GATEWAY_LISTEN (dbname=demo)
  backend        PostgreSQL on 127.0.0.1:$PG_PORT, database app, roles app_rw / app_ro
                 (their passwords are in $SECRETS; callers never see them)

Token for alice (group engineering: connects as the read-only role app_ro, sees PII masked,
valid 8h), also in $DEMO_DIR/alice.token:

$token

In another terminal:

  TOKEN=\$(cat $DEMO_DIR/alice.token)
  PGPASSWORD="\$TOKEN" psql "host=127.0.0.1 port=${GATEWAY_LISTEN##*:} user=alice dbname=demo"

  (plain TCP is accepted on loopback; add sslmode=disable if your psql insists on TLS)

and try:

  SELECT c.full_name, c.email, c.phone, c.credit_card, count(o.id) AS orders
    FROM customers c JOIN orders o ON o.customer_id = c.id
   GROUP BY c.id ORDER BY orders DESC LIMIT 5;
  DELETE FROM orders WHERE id = 1;   -- refused: alice's access allows reads only
  SELECT pg_read_file('/etc/passwd'); -- refused by the no-server-files guardrail

A DBA token (connects as app_rw, sees data unmasked, may write; DROP and TRUNCATE are refused, and a DELETE or
UPDATE without WHERE is refused until approvals arrive):
  $PORTCULLIS token issue --config $CONFIG --subject bob --group dba --ttl 1h

The gateway runs below; Ctrl-C stops it. The demo PostgreSQL keeps running:
stop it with scripts/demo.sh stop, or delete everything with scripts/demo.sh reset.

TEXT
}

run_demo() {
  if [ -z "${DEMO_SKIP_SETUP:-}" ]; then
    say "Installing packages (scripts/setup.sh)"
    scripts/setup.sh
  fi
  if [ -z "${DEMO_SKIP_BUILD:-}" ]; then
    build
  fi
  [ -x "$PORTCULLIS" ] || die "$PORTCULLIS not found; build it first (unset DEMO_SKIP_BUILD)"
  prepare

  local token
  token=$("$PORTCULLIS" token issue --config "$CONFIG" --subject alice --group engineering --ttl 8h)
  (
    umask 077
    printf '%s\n' "$token" >"$DEMO_DIR/alice.token"
  )
  print_instructions "$token"

  if port_in_use "${GATEWAY_LISTEN##*:}"; then
    die "port ${GATEWAY_LISTEN##*:} is already in use: is another gateway still running?"
  fi
  exec "$PORTCULLIS" serve --config "$CONFIG"
}

case "${1:-run}" in
  run | start) run_demo ;;
  prepare) prepare ;;
  stop)
    stop_postgres
    stop_mariadb
    ;;
  reset)
    stop_postgres
    stop_mariadb
    say "Deleting $DEMO_DIR"
    rm -rf "$DEMO_DIR" "/tmp/portcullis-demo-$PG_PORT" "/tmp/portcullis-demo-mariadb-$MARIADB_PORT"
    ;;
  portcullis)
    shift
    [ -x "$PORTCULLIS" ] || die "$PORTCULLIS is not built yet: run scripts/demo.sh first"
    [ -f "$CONFIG" ] || die "$CONFIG does not exist yet: run scripts/demo.sh first"
    load_or_make_secrets
    exec "$PORTCULLIS" --config "$CONFIG" "$@"
    ;;
  -h | --help | help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (try: scripts/demo.sh help)" ;;
esac
