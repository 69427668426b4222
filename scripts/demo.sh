#!/usr/bin/env bash
# Quick start: installs what Portcullis needs, builds it, starts a demo PostgreSQL and a demo
# MariaDB with synthetic customer data, a demo SSH host and a stand-in Kubernetes API server in
# var/demo/, issues a token and runs the gateway in front of them.
#
#   scripts/demo.sh           set up (or reuse) everything, then run the gateway in the foreground
#   scripts/demo.sh prepare   only set up the demo servers, secrets and config; no build, no serve
#   scripts/demo.sh stop      stop the demo PostgreSQL, MariaDB, sshd and Kubernetes stand-in
#   scripts/demo.sh reset     stop them and delete var/demo/ (and the demo SSH account), so that
#                             the next run starts afresh
#   scripts/demo.sh portcullis ARGS...
#                             run portcullis with the demo's config and secrets, for example
#                             `scripts/demo.sh portcullis audit search` or `... audit verify`
#
# Environment:
#   DEMO_PG_PORT=54329        port of the demo PostgreSQL (127.0.0.1 only)
#   DEMO_MARIADB=0            leave the MariaDB out (PostgreSQL only)
#   DEMO_MARIADB_PORT=33069   port of the demo MariaDB (127.0.0.1 only)
#   DEMO_SSH=0                leave the SSH host out
#   DEMO_SSH_PORT=22229       port of the demo sshd (127.0.0.1 only)
#   DEMO_KUBE=0               leave the Kubernetes stand-in out
#   DEMO_KUBE_PORT=26443      port of the stand-in Kubernetes API server (127.0.0.1 only)
#   DEMO_SKIP_SETUP=1         do not run scripts/setup.sh (packages already installed)
#   DEMO_SKIP_BUILD=1         use the existing build/ as it is
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

DEMO_DIR=var/demo
PG_PORT=${DEMO_PG_PORT:-54329}
MARIADB_PORT=${DEMO_MARIADB_PORT:-33069}
GATEWAY_LISTEN=127.0.0.1:15432
GATEWAY_LISTEN_MYSQL=127.0.0.1:13306
GATEWAY_LISTEN_SSH=127.0.0.1:2222
GATEWAY_LISTEN_KUBE=127.0.0.1:16443
GATEWAY_LISTEN_HTTP=127.0.0.1:18080
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
# DEMO_SHOP_RW_PASSWORD and DEMO_SHOP_RO_PASSWORD in secrets.env. DEMO_MARIADB=0 leaves it out;
# DEMO_MARIADB_PORT=33069 moves it (127.0.0.1 only).
MARIADB_DIR=$REPO/$DEMO_DIR/mariadb
MARIADB_DATA=$MARIADB_DIR/data
MARIADB_LOG=$MARIADB_DIR/mariadbd.log
MARIADB_PID=$MARIADB_DIR/mariadbd.pid

mariadb_enabled() { [ "${DEMO_MARIADB:-1}" = 1 ]; }

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
# Passwords of the demo MariaDB users.
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

# --- The demo SSH host ------------------------------------------------------------------------
# A target for the SSH front end: an OpenSSH sshd of its own on 127.0.0.1:$SSH_PORT (config,
# host key, pid and log in var/demo/sshd/) that lets in one throw-away account, portcullis-demo,
# with one key, the gateway's (sshd/gateway_ed25519). The account's home holds customers.csv,
# the first demo customers, so that `cat customers.csv` through the gateway shows the masking.
# sshd must run as root to switch to the account: as another user the privileged steps go
# through sudo, and SSH is left out when sudo cannot be used. DEMO_SSH=0 leaves it out;
# DEMO_SSH_PORT=22229 moves it (127.0.0.1 only).
SSH_PORT=${DEMO_SSH_PORT:-22229}
SSH_USER=portcullis-demo
SSH_USER_HOME=/var/lib/$SSH_USER
# The account's comment marks it as this script's: reset deletes only an account made here.
SSH_USER_COMMENT="Portcullis demo SSH host (scripts/demo.sh)"
SSHD=/usr/sbin/sshd
SSHD_DIR=$REPO/$DEMO_DIR/sshd
SSHD_CONFIG=$SSHD_DIR/sshd_config
SSHD_HOST_KEY=$SSHD_DIR/ssh_host_ed25519_key
SSHD_PID=$SSHD_DIR/sshd.pid
SSHD_LOG=$SSHD_DIR/sshd.log
SSHD_AUTHORIZED_KEYS=$SSHD_DIR/authorized_keys
# The key the gateway logs in to the demo host with; portcullis.yaml names it.
SSH_GATEWAY_KEY=$SSHD_DIR/gateway_ed25519

ssh_enabled() { [ "${DEMO_SSH:-1}" = 1 ]; }

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
else
  as_root() { sudo -- "$@"; }
fi

# Root, or sudo that needs no password or has a terminal to ask for one on (as scripts/setup.sh).
can_be_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null 2>&1 || return 1
  sudo -n true 2>/dev/null || [ -t 0 ]
}

# The pid file alone could name a process that has since ended and whose number was reused:
# the process must be an sshd running this config (its title keeps the command line).
sshd_running() {
  local pid
  pid=$(cat "$SSHD_PID" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$SSHD -f $SSHD_CONFIG "
}

stop_sshd() {
  sshd_running || return 0
  say "Stopping the demo sshd"
  local pid waited=0
  pid=$(cat "$SSHD_PID")
  # SIGTERM stops the listener; a session still open ends on its own.
  as_root kill "$pid"
  while [ -d "/proc/$pid" ]; do
    [ "$waited" -lt 100 ] || die "the demo sshd ($pid) did not stop within 10s"
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$SSHD_PID" 2>/dev/null || true
}

# Made once and kept, so that the pinned host key and the authorised key stay valid.
make_ssh_keys() {
  install -d -m 0755 "$SSHD_DIR"
  if [ ! -f "$SSHD_HOST_KEY" ]; then
    say "Making the demo sshd's host key in $DEMO_DIR/sshd"
    ssh-keygen -q -t ed25519 -N '' -C portcullis-demo-sshd -f "$SSHD_HOST_KEY"
  fi
  if [ ! -f "$SSH_GATEWAY_KEY" ]; then
    say "Making the gateway's key for the demo SSH host in $DEMO_DIR/sshd/gateway_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C portcullis-gateway -f "$SSH_GATEWAY_KEY"
  fi
  if [ ! -f "$SSH_GATEWAY_KEY.pub" ]; then
    ssh-keygen -y -f "$SSH_GATEWAY_KEY" >"$SSH_GATEWAY_KEY.pub"
  fi
  # World-readable: sshd reads it as the demo account. Only the gateway's key gets in.
  install -m 0644 "$SSH_GATEWAY_KEY.pub" "$SSHD_AUTHORIZED_KEYS"
}

# The account the gateway logs in as, and the file with PII in its home.
prepare_ssh_user() {
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    say "Creating the throw-away account $SSH_USER (home $SSH_USER_HOME) for the demo SSH host"
    # Password '*': no password opens the account, yet it is not locked, which sshd without PAM
    # would refuse (useradd's default '!' locks it).
    as_root useradd --system --user-group --create-home --home-dir "$SSH_USER_HOME" \
      --shell /bin/sh --comment "$SSH_USER_COMMENT" --password '*' "$SSH_USER"
  fi
  local home
  home=$(getent passwd "$SSH_USER" | cut -d: -f6)
  as_root runuser -u "$SSH_USER" -- test -r "$SSHD_AUTHORIZED_KEYS" ||
    die "user $SSH_USER cannot read $SSHD_AUTHORIZED_KEYS; make its parent folders world-traversable (chmod o+x) or move the checkout"
  if ! as_root runuser -u "$SSH_USER" -- test -e "$home/customers.csv"; then
    say "Putting synthetic customers into $home/customers.csv"
    # Written by the account itself, not by root into a folder another user owns.
    as_root runuser -u "$SSH_USER" -- tee "$home/customers.csv" <examples/demo/customers.csv >/dev/null
  else
    say "Reusing $home/customers.csv (scripts/demo.sh reset starts afresh)"
  fi
}

# Only the account and key above get in, and only to run commands, a shell or sftp: no
# passwords, no forwarding. StrictModes is off because the files sit in the checkout, which
# belongs to whoever cloned it, not to the account.
write_sshd_config() {
  cat >"$SSHD_CONFIG.tmp" <<CONF
# Written by scripts/demo.sh on every run.
ListenAddress 127.0.0.1:$SSH_PORT
HostKey "$SSHD_HOST_KEY"
PidFile "$SSHD_PID"
AuthorizedKeysFile "$SSHD_AUTHORIZED_KEYS"
AllowUsers $SSH_USER
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
}

start_sshd() {
  if sshd_running; then
    if cmp -s "$SSHD_CONFIG.tmp" "$SSHD_CONFIG"; then
      rm -f "$SSHD_CONFIG.tmp"
      say "Reusing the running demo sshd on 127.0.0.1:$SSH_PORT"
      return
    fi
    say "Restarting the demo sshd for its new settings"
    stop_sshd
  fi
  mv "$SSHD_CONFIG.tmp" "$SSHD_CONFIG"
  if port_in_use "$SSH_PORT"; then
    die "port $SSH_PORT is taken by another program; choose another with DEMO_SSH_PORT=…"
  fi
  # sshd's privilege separation folder, which systemd makes for the packaged service.
  if [ ! -d /run/sshd ]; then as_root install -d -m 0755 /run/sshd; fi
  as_root "$SSHD" -t -f "$SSHD_CONFIG" || die "sshd refuses $SSHD_CONFIG"
  say "Starting the demo sshd on 127.0.0.1:$SSH_PORT"
  # Made here so that it is the caller's to read: sshd -E appends to it. sshd detaches into its
  # own session, so that Ctrl-C on the gateway in the foreground leaves it running.
  touch "$SSHD_LOG"
  as_root "$SSHD" -f "$SSHD_CONFIG" -E "$SSHD_LOG" </dev/null || {
    tail -n 30 "$SSHD_LOG" >&2 || true
    die "sshd did not start (log: $SSHD_LOG)"
  }
  local waited=0
  until sshd_running && port_in_use "$SSH_PORT"; do
    if [ "$waited" -ge 100 ]; then
      tail -n 30 "$SSHD_LOG" >&2 || true
      die "sshd did not start (log: $SSHD_LOG)"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# Deletes the account only when this script made it, with its home (customers.csv).
remove_ssh_user() {
  id "$SSH_USER" >/dev/null 2>&1 || return 0
  [ "$(getent passwd "$SSH_USER" | cut -d: -f5)" = "$SSH_USER_COMMENT" ] || return 0
  if ! can_be_root; then
    echo "Leaving the account $SSH_USER: deleting it needs root (userdel --remove $SSH_USER)." >&2
    return 0
  fi
  say "Deleting the account $SSH_USER and its home"
  as_root userdel --remove "$SSH_USER" 2>/dev/null ||
    echo "Could not delete the account $SSH_USER (is a session of it still open?)." >&2
}

prepare_ssh() {
  if ! can_be_root; then
    say "Leaving the demo SSH host out: its sshd must run as root, and sudo cannot be used here (run as root, or with DEMO_SSH=0 to leave it out quietly)"
    DEMO_SSH=0
    return
  fi
  if [ ! -x "$SSHD" ] || ! command -v ssh-keygen >/dev/null; then
    die "OpenSSH server not found (run scripts/setup.sh)"
  fi
  install -d -m 0755 "$DEMO_DIR"
  make_ssh_keys
  prepare_ssh_user
  write_sshd_config
  start_sshd
  # The pinned host key: type and key, without the comment.
  SSH_HOST_KEY_LINE=$(cut -d' ' -f1,2 "$SSHD_HOST_KEY.pub")
}

# --- The demo Kubernetes cluster: a stand-in --------------------------------------------------
# No Kubernetes API server is packaged for Debian, so the demo's cluster is the stand-in the
# tests use (tests/support/kube_standin_apiserver.py, Python's standard library only): an HTTPS
# API server on 127.0.0.1:$KUBE_PORT with a few namespaces, pods, config maps and secrets, enough
# for kubectl. Its certificate, token, pid and log are in var/demo/kube/. DEMO_KUBE=0 leaves it
# out; DEMO_KUBE_PORT=26443 moves it.
KUBE_PORT=${DEMO_KUBE_PORT:-26443}
KUBE_DIR=$REPO/$DEMO_DIR/kube
KUBE_STANDIN=$REPO/tests/support/kube_standin_apiserver.py
KUBE_PID=$KUBE_DIR/standin.pid
KUBE_LOG=$KUBE_DIR/standin.log

kube_enabled() { [ "${DEMO_KUBE:-1}" = 1 ]; }

kube_standin_running() {
  local pid
  pid=$(cat "$KUBE_PID" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$KUBE_STANDIN "
}

stop_kube_standin() {
  kube_standin_running || return 0
  say "Stopping the Kubernetes stand-in"
  local pid waited=0
  pid=$(cat "$KUBE_PID")
  kill "$pid"
  while [ -d "/proc/$pid" ]; do
    [ "$waited" -lt 100 ] || die "the Kubernetes stand-in ($pid) did not stop within 10s"
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$KUBE_PID"
}

prepare_kube() {
  install -d -m 0700 "$KUBE_DIR"
  if [ ! -f "$KUBE_DIR/standin.crt" ]; then
    say "Making the Kubernetes stand-in's certificate and token in $DEMO_DIR/kube"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj /CN=kubernetes-standin -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$KUBE_DIR/standin.key" -out "$KUBE_DIR/standin.crt" 2>/dev/null
    (umask 077 && openssl rand -hex 24 >"$KUBE_DIR/token")
  fi
  if kube_standin_running; then
    say "Reusing the running Kubernetes stand-in on 127.0.0.1:$KUBE_PORT"
    return
  fi
  if port_in_use "$KUBE_PORT"; then
    die "port $KUBE_PORT is taken by another program; choose another with DEMO_KUBE_PORT=…"
  fi
  say "Starting the Kubernetes stand-in (not a real cluster) on 127.0.0.1:$KUBE_PORT"
  # Its own session, so that Ctrl-C on the gateway in the foreground leaves it running.
  setsid python3 "$KUBE_STANDIN" --cert "$KUBE_DIR/standin.crt" --key "$KUBE_DIR/standin.key" \
    --token "$(cat "$KUBE_DIR/token")" --port "$KUBE_PORT" --log "$KUBE_DIR/requests.jsonl" \
    </dev/null >"$KUBE_LOG" 2>&1 &
  echo $! >"$KUBE_PID"
  local waited=0
  until port_in_use "$KUBE_PORT"; do
    if [ "$waited" -ge 100 ] || ! kube_standin_running; then
      tail -n 30 "$KUBE_LOG" >&2 || true
      die "the Kubernetes stand-in did not start (log: $KUBE_LOG)"
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

write_config() {
  say "Writing $CONFIG"
  install -d -m 0700 "$DEMO_DIR/state"
  # Lines marked @MARIADB@ are the MariaDB's: kept (without the mark) or dropped.
  local mariadb_lines=(-e '/# @MARIADB@$/d' -e 's/@SHOP@//g')
  if mariadb_enabled; then
    mariadb_lines=(-e 's/ *# @MARIADB@$//' -e 's/@SHOP@/, shop/g')
  fi
  # Likewise @SSH@ for the SSH host's. The host key's base64 may hold '/', hence the '|'.
  local ssh_lines=(-e '/# @SSH@$/d')
  if ssh_enabled; then
    ssh_lines=(-e 's/ *# @SSH@$//' -e "s/@LISTEN_SSH@/$GATEWAY_LISTEN_SSH/g"
      -e "s/@SSH_PORT@/$SSH_PORT/g" -e "s/@SSH_USER@/$SSH_USER/g"
      -e "s|@SSH_HOST_KEY@|$SSH_HOST_KEY_LINE|g")
  fi
  # And @KUBE@ for the Kubernetes stand-in's.
  local kube_lines=(-e '/# @KUBE@$/d')
  if kube_enabled; then
    kube_lines=(-e 's/ *# @KUBE@$//' -e "s/@LISTEN_KUBE@/$GATEWAY_LISTEN_KUBE/g"
      -e "s/@KUBE_PORT@/$KUBE_PORT/g")
  fi
  sed -e "s/@PG_PORT@/$PG_PORT/g" \
    -e "s/@LISTEN_POSTGRES@/$GATEWAY_LISTEN/g" \
    -e "s/@LISTEN_MYSQL@/$GATEWAY_LISTEN_MYSQL/g" \
    -e "s/@LISTEN_HTTP@/$GATEWAY_LISTEN_HTTP/g" \
    -e "s/@MARIADB_PORT@/$MARIADB_PORT/g" \
    "${mariadb_lines[@]}" \
    "${ssh_lines[@]}" \
    "${kube_lines[@]}" \
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
  if ssh_enabled; then
    prepare_ssh
  fi
  if kube_enabled; then
    prepare_kube
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
  local mariadb_backend='' mariadb_try='' ssh_backend='' ssh_try='' kube_backend='' kube_try=''
  if mariadb_enabled; then
    mariadb_backend="
  gateway        mysql://$GATEWAY_LISTEN_MYSQL (database shop)
  backend        MariaDB on 127.0.0.1:$MARIADB_PORT, database shop, users shop_rw / shop_ro"
    mariadb_try="
The same through MariaDB's own client, to the same customers in MariaDB (MYSQL_PWD keeps the
token off the command line):

  MYSQL_PWD=\"\$TOKEN\" mariadb -h 127.0.0.1 -P ${GATEWAY_LISTEN_MYSQL##*:} -u alice shop

  SELECT full_name, email, phone, credit_card FROM customers LIMIT 5;
  DELETE FROM orders WHERE id = 1;          -- refused: reads only
  /*!50000 DELETE FROM orders */;           -- refused too: executable comments are code
"
  fi
  if ssh_enabled; then
    ssh_backend="
  gateway        ssh://$GATEWAY_LISTEN_SSH (connection web)
  backend        sshd on 127.0.0.1:$SSH_PORT, account $SSH_USER, the gateway's key in $DEMO_DIR/sshd/"
    # The gateway makes its SSH host key on its first start, so there is nothing to pin before:
    # ssh learns it on first use (accept-new), into a known_hosts file of the demo's own, which
    # reset deletes with the key; the user's ~/.ssh/known_hosts never holds a stale entry.
    ssh_try="
Over SSH: a certificate for alice from her token (through the REST API), then a command on the
demo host through the gateway; its customers.csv comes back masked like the tables:

  PORTCULLIS_TOKEN=\"\$(cat $DEMO_DIR/alice.token)\" $PORTCULLIS ssh login --api http://$GATEWAY_LISTEN_HTTP --out $DEMO_DIR/ssh
  ssh -p ${GATEWAY_LISTEN_SSH##*:} -i $DEMO_DIR/ssh/id_ed25519 -o CertificateFile=$DEMO_DIR/ssh/id_ed25519-cert.pub \\
    -o UserKnownHostsFile=$DEMO_DIR/ssh/known_hosts -o StrictHostKeyChecking=accept-new \\
    web@${GATEWAY_LISTEN_SSH%:*} 'cat customers.csv'

  The same with 'rm customers.csv' or 'cat customers.csv | sh' is refused (exit status 126): alice's
  access names the programs she may run, and the command never reaches the host. Without a
  command, ssh opens a shell on the host: each line is decided when Enter is pressed, and the
  shell is recorded (masked); play it back with its session id from the journal:
  $PORTCULLIS sessions replay SESSION --api http://$GATEWAY_LISTEN_HTTP \\
    --token \"\$($PORTCULLIS token issue --config $CONFIG --subject sam --group security --ttl 1h)\"
"
  fi
  if kube_enabled; then
    kube_backend="
  gateway        https://$GATEWAY_LISTEN_KUBE/k8s/demo-cluster (kubectl)
  backend        a stand-in Kubernetes API server on 127.0.0.1:$KUBE_PORT (not a real cluster:
                 tests/support/kube_standin_apiserver.py), its token in $DEMO_DIR/kube/"
    kube_try="
With kubectl: a kubeconfig for alice (her token, the gateway's own certificate as the CA), then
requests to the stand-in cluster through the gateway; the config map's PII comes back masked:

  $PORTCULLIS kubeconfig --config $CONFIG --connection demo-cluster --token \"\$TOKEN\" > $DEMO_DIR/alice.kubeconfig
  kubectl --kubeconfig $DEMO_DIR/alice.kubeconfig get pods -n prod
  kubectl --kubeconfig $DEMO_DIR/alice.kubeconfig get configmap app-config -n prod -o yaml
  kubectl --kubeconfig $DEMO_DIR/alice.kubeconfig get secrets -n prod       # refused: no class secrets
  kubectl --kubeconfig $DEMO_DIR/alice.kubeconfig delete pod -n prod db-0   # refused: reads only
"
  fi
  cat <<TEXT

Portcullis demo
  gateway        postgres://$GATEWAY_LISTEN (dbname=demo)
  backend        PostgreSQL on 127.0.0.1:$PG_PORT, database app, roles app_rw / app_ro$mariadb_backend
                 (their passwords are in $SECRETS; callers never see them)$ssh_backend$kube_backend
  REST API       http://$GATEWAY_LISTEN_HTTP (the web console at /)

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
$mariadb_try$ssh_try$kube_try
For AI agents, the same controls over MCP at http://$GATEWAY_LISTEN_HTTP/mcp (docs/agents.md has
client configurations); by hand, a session, then a query whose answer comes back masked:

  MCP=(-H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' -H 'Accept: application/json')
  SID=\$(curl -s -D - -o /dev/null "\${MCP[@]}" http://$GATEWAY_LISTEN_HTTP/mcp -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' | tr -d '\r' | sed -n 's/^mcp-session-id: //Ip')
  curl -s "\${MCP[@]}" -H "Mcp-Session-Id: \$SID" http://$GATEWAY_LISTEN_HTTP/mcp -d '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query","arguments":{"connection":"demo","sql":"SELECT full_name, email FROM customers LIMIT 3"}}}'

A DBA token (connects as app_rw, sees data unmasked, may write; DROP and TRUNCATE are refused, and a DELETE or
UPDATE without WHERE is refused until approvals arrive):
  $PORTCULLIS token issue --config $CONFIG --subject bob --group dba --ttl 1h

The web console is at http://$GATEWAY_LISTEN_HTTP/ (sign in by pasting a token). With bob's DBA token,
'DELETE FROM orders;' waits in psql for a review; a second DBA signed in to the console sees it appear
and approves or rejects it there. The journal is for the security group, live sessions for oncall:
  $PORTCULLIS token issue --config $CONFIG --subject dana --group dba --ttl 1h       # a reviewer
  $PORTCULLIS token issue --config $CONFIG --subject sam --group security --ttl 1h  # the journal
  $PORTCULLIS token issue --config $CONFIG --subject olga --group oncall --ttl 1h   # sessions, kill, revoke

The gateway runs below; Ctrl-C stops it. The demo servers keep running:
stop them with scripts/demo.sh stop, or delete everything with scripts/demo.sh reset.

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

  local listen listeners=("$GATEWAY_LISTEN" "$GATEWAY_LISTEN_HTTP")
  if mariadb_enabled; then listeners+=("$GATEWAY_LISTEN_MYSQL"); fi
  if ssh_enabled; then listeners+=("$GATEWAY_LISTEN_SSH"); fi
  if kube_enabled; then listeners+=("$GATEWAY_LISTEN_KUBE"); fi
  for listen in "${listeners[@]}"; do
    if port_in_use "${listen##*:}"; then
      die "port ${listen##*:} is already in use: is another gateway still running?"
    fi
  done
  exec "$PORTCULLIS" serve --config "$CONFIG"
}

case "${1:-run}" in
  run | start) run_demo ;;
  prepare) prepare ;;
  stop)
    stop_postgres
    stop_mariadb
    stop_sshd
    stop_kube_standin
    ;;
  reset)
    stop_postgres
    stop_mariadb
    stop_sshd
    stop_kube_standin
    remove_ssh_user
    say "Deleting $DEMO_DIR"
    rm -rf "$DEMO_DIR" "/tmp/portcullis-demo-$PG_PORT" "/tmp/portcullis-demo-mariadb-$MARIADB_PORT"
    ;;
  portcullis)
    shift
    [ -x "$PORTCULLIS" ] || die "$PORTCULLIS is not built yet: run scripts/demo.sh first"
    [ -f "$CONFIG" ] || die "$CONFIG does not exist yet: run scripts/demo.sh first"
    load_or_make_secrets
    if mariadb_enabled; then load_or_make_mariadb_secrets; fi
    exec "$PORTCULLIS" --config "$CONFIG" "$@"
    ;;
  -h | --help | help) sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (try: scripts/demo.sh help)" ;;
esac
