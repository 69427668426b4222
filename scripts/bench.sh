#!/usr/bin/env bash
# End-to-end benchmarks (issues 7 and 16): builds the gateway and a bare TCP relay, starts a
# private PostgreSQL 15 (fsync off, pgbench scale 10), PgBouncer (session mode), the relay and
# the gateway in four configurations (pass-through; full controls with the strict journal; the
# same with the batched journal; masking-heavy) and a fifth, over TLS, for idle memory; then a
# private MariaDB (sysbench tables) with its own relay and gateways (pass-through; full
# controls, strict and batched); then a private OpenSSH sshd with a throw-away login user and a
# gateway with an SSH listener in front of it (exec allowed, output masked); then the
# Kubernetes stand-in API server (tests/support/kube_standin_apiserver.py, 5 000 extra pods) and
# a gateway with a Kubernetes listener in front of it (read grant, responses masked); then
# several instances: a state database in the bench's PostgreSQL, HAProxy (mode tcp, leastconn,
# health checks on /api/v1/health) in front of one and of two gateway instances sharing it
# (full controls, strict journal); runs bench/end_to_end.py against all of them interleaved (it
# also times fdatasync on the disk of the strict journal, and the state database's commits and
# journal records per second during the runs through HAProxy), and writes a JSON report and a
# Markdown table with the performance goals, met or not. Everything it starts is stopped on
# exit, and the login user removed.
#
#   scripts/bench.sh           full run: 15 s per run, 2 repeats (about 40 minutes, plus the build)
#   scripts/bench.sh --quick   3 s per run: checks that everything works; figures are noise
#   scripts/bench.sh --only mysql   the MySQL/MariaDB workloads alone (sysbench)
#   scripts/bench.sh --only ssh     the SSH workloads alone (ssh-connect, ssh-throughput)
#   scripts/bench.sh --only kubernetes   the Kubernetes workloads alone (kube-get, kube-list)
#   scripts/bench.sh --only instances    HAProxy in front of one and two instances (ha-*)
#
# Options:
#   --duration S          seconds per pgbench or sysbench run (default 15; --quick: 3)
#   --repeats N           interleaved repeats (default 2)
#   --idle-connections N  idle clients held open for the memory figure (default 1000; 0: skip)
#   --only W1,W2          only these workloads (names as in the JSON report; `mysql` stands for
#                         every my-* workload, `ssh` for every ssh-* one, `kubernetes` for every
#                         kube-* one, `kube-list` for kube-list-json and kube-list-table,
#                         `instances` for every ha-* one); PostgreSQL, MariaDB, sshd, the
#                         stand-in or HAProxy is started only if needed
#   --ssh-connections N   sessions of `ssh … true` per target and repeat (default 30; --quick: 10)
#   --ssh-transfers N     sessions of `ssh … cat` (100 MB) per target and repeat (default 3)
#   --kube-runs N         kubectl runs per Kubernetes workload, target and repeat (default 20;
#                         --quick: 5)
#   --kube-requests N     raw HTTP requests over one connection, likewise (default 50; --quick: 10)
#   --kube-pods N         pods in the stand-in's namespace bench (default 5000)
#   --json PATH           JSON report (default docs/benchmarks.json;
#                         --quick: var/bench/benchmarks-quick.json)
#   --threads N           I/O threads of the gateway and the relay (default: nproc)
#   --build-dir DIR       where to build (default build-bench/, RelWithDebInfo)
#   --no-build            use the binaries already in the build folder
#   --port-base P         first of twenty-seven loopback ports used (default 25430)
#   --keep                keep the scratch folder (PostgreSQL data, configs) after the run
#
# Needs only what scripts/setup.sh installs (and python3, standard library only); installs
# nothing itself (the SSH workloads need openssh-server and openssh-client, and root to start
# sshd with a login user of its own; the Kubernetes ones kubectl and openssl; the instances
# ones haproxy). The Markdown table is written to var/bench/report-MODE.md, the logs of the
# last run to var/bench/logs/.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

DURATION=15
REPEATS=2
WARMUP=3
IDLE=1000
ONLY=
JSON=
THREADS=$(nproc)
BUILD_DIR=$REPO/build-bench
BUILD=1
# Below Linux's ephemeral range (32768-60999): an outgoing connection made during the run
# (pgbench, the proxies' backend connections) can neither take a listener's port nor leave it
# in TIME_WAIT before the listener binds.
PORT_BASE=25430
KEEP=
MODE=full
# pgbench's scale: 1 million rows in pgbench_accounts, ~160 MB, all in shared_buffers.
SCALE=10
# sysbench's tables for MariaDB: 4 × 100 000 rows, 92 MB with their indexes, all in the
# buffer pool; prepared in under 10 s here.
MY_TABLES=4
MY_TABLE_SIZE=100000
SUBJECT=bench
# MariaDB's benchmark user, which direct and relay runs log in as and the gateways use.
MY_USER=sbtest
# SSH: sessions per target and repeat, the size of the file that ssh-throughput cats, and the
# login user that the bench sshd's sessions run as (made for the run, removed after it).
SSH_CONNECTIONS=30
SSH_TRANSFERS=3
SSH_FILE_BYTES=100000000
SSH_OS_USER=portcullis-bench-ssh
# Kubernetes: kubectl runs and raw requests per workload, target and repeat, and the pods of
# the stand-in's namespace bench (the issue's list of 5 000 objects, about 15 MB of JSON).
KUBE_RUNS=20
KUBE_REQUESTS=50
KUBE_PODS=5000

say() {
  if [ -t 2 ]; then printf '\033[1m==> %s\033[0m\n' "$*" >&2; else printf '==> %s\n' "$*" >&2; fi
}
die() {
  printf 'bench: %s\n' "$*" >&2
  exit 1
}
usage() { sed -n '2,53p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) MODE=quick DURATION=3 WARMUP=1 SSH_CONNECTIONS=10 KUBE_RUNS=5 KUBE_REQUESTS=10 ;;
    --duration) DURATION=${2:?--duration needs seconds}; shift ;;
    --repeats) REPEATS=${2:?--repeats needs a number}; shift ;;
    --idle-connections) IDLE=${2:?--idle-connections needs a number}; shift ;;
    --ssh-connections) SSH_CONNECTIONS=${2:?--ssh-connections needs a number}; shift ;;
    --ssh-transfers) SSH_TRANSFERS=${2:?--ssh-transfers needs a number}; shift ;;
    --kube-runs) KUBE_RUNS=${2:?--kube-runs needs a number}; shift ;;
    --kube-requests) KUBE_REQUESTS=${2:?--kube-requests needs a number}; shift ;;
    --kube-pods) KUBE_PODS=${2:?--kube-pods needs a number}; shift ;;
    --only) ONLY=${2:?--only needs workload names}; shift ;;
    --json) JSON=${2:?--json needs a path}; shift ;;
    --threads) THREADS=${2:?--threads needs a number}; shift ;;
    --build-dir) BUILD_DIR=${2:?--build-dir needs a folder}; shift ;;
    --no-build) BUILD= ;;
    --port-base) PORT_BASE=${2:?--port-base needs a port}; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
  shift
done
for n in "$DURATION" "$REPEATS" "$IDLE" "$THREADS" "$PORT_BASE" "$SSH_CONNECTIONS" "$SSH_TRANSFERS" \
  "$KUBE_RUNS" "$KUBE_REQUESTS" "$KUBE_PODS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "'$n' is not a whole number"
done
if [ -z "$JSON" ]; then
  if [ "$MODE" = quick ]; then JSON=$REPO/var/bench/benchmarks-quick.json; else JSON=$REPO/docs/benchmarks.json; fi
fi
case "$JSON" in /*) ;; *) JSON=$PWD/$JSON ;; esac
# Which backends the chosen workloads need: MySQL workloads are named my-*, `mysql` stands for
# all of them; SSH ones ssh-*, `ssh` for all of them; Kubernetes ones kube-*, `kubernetes` for
# all of them; the instances ones ha-*, `instances` for all of them (PostgreSQL, gw-full and
# HAProxy's targets); every other name is a PostgreSQL workload.
RUN_PG=
RUN_MY=
RUN_SSH=
RUN_KUBE=
RUN_HA=
if [ -z "$ONLY" ]; then
  RUN_PG=1 RUN_MY=1 RUN_SSH=1 RUN_KUBE=1 RUN_HA=1
else
  IFS=, read -r -a only_names <<<"$ONLY"
  for name in "${only_names[@]}"; do
    case "$name" in
      my-* | mysql) RUN_MY=1 ;;
      ssh-* | ssh) RUN_SSH=1 ;;
      kube-* | kubernetes) RUN_KUBE=1 ;;
      ha-* | instances) RUN_HA=1 ;;
      *) RUN_PG=1 ;;
    esac
  done
fi
# The idle-connection figure is PostgreSQL's (bench/idle_connections.py speaks its protocol).
if [ -z "$RUN_PG" ]; then IDLE=0; fi
# The Markdown table goes beside the logs, never over docs/benchmarks.md: paste it by hand.
MARKDOWN=$REPO/var/bench/report-$MODE.md

PG_PORT=$PORT_BASE
PGBOUNCER_PORT=$((PORT_BASE + 1))
RELAY_PORT=$((PORT_BASE + 2))
GW_PASS_PORT=$((PORT_BASE + 3))
GW_FULL_PORT=$((PORT_BASE + 4))
GW_MASK_PORT=$((PORT_BASE + 5))
GW_TLS_PORT=$((PORT_BASE + 6))
GW_FULL_BATCHED_PORT=$((PORT_BASE + 7))
MY_PORT=$((PORT_BASE + 8))
MY_RELAY_PORT=$((PORT_BASE + 9))
MY_GW_PASS_PORT=$((PORT_BASE + 10))
MY_GW_FULL_PORT=$((PORT_BASE + 11))
MY_GW_FULL_BATCHED_PORT=$((PORT_BASE + 12))
SSHD_PORT=$((PORT_BASE + 13))
GW_SSH_PORT=$((PORT_BASE + 14))
GW_SSH_HTTP_PORT=$((PORT_BASE + 15))
KUBE_STANDIN_PORT=$((PORT_BASE + 16))
GW_KUBE_PORT=$((PORT_BASE + 17))
GW_KUBE_HTTP_PORT=$((PORT_BASE + 18))
# Several instances: HAProxy's two front ends, then each instance's PostgreSQL listener and
# HTTP API (which HAProxy's health checks read).
HA_ONE_PORT=$((PORT_BASE + 19))
HA_TWO_PORT=$((PORT_BASE + 20))
HA_ONE_A_PORT=$((PORT_BASE + 21))
HA_ONE_A_HTTP_PORT=$((PORT_BASE + 22))
HA_TWO_A_PORT=$((PORT_BASE + 23))
HA_TWO_A_HTTP_PORT=$((PORT_BASE + 24))
HA_TWO_B_PORT=$((PORT_BASE + 25))
HA_TWO_B_HTTP_PORT=$((PORT_BASE + 26))
# The state database the instances share, in the bench's PostgreSQL, and its owner.
STATE_DB=portcullis_state
STATE_ROLE=portcullis
PORTCULLIS=$BUILD_DIR/src/cli/portcullis
RELAY=$BUILD_DIR/bench/tcp_relay

# --- what this run started, stopped again by cleanup -------------------------------------
WORK=
PIDS=()
PG_STARTED=
RUNNER_PID=
SSH_USER_CREATED=

# PostgreSQL (and PgBouncer) refuse to run as root: as root, run them as the `postgres` account
# that Debian's package creates, as scripts/demo.sh does.
if [ "$(id -u)" -eq 0 ]; then
  PG_OS_USER=postgres
  as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
else
  PG_OS_USER=$(id -un)
  as_pg() { "$@"; }
fi
# mariadbd refuses to run as root too: as root it switches to the `mysql` account of Debian's
# package itself (--user), as scripts/demo.sh has it do.
MY_USER_OPTION=()
if [ "$(id -u)" -eq 0 ]; then
  MY_OS_USER=mysql
  MY_USER_OPTION=(--user="$MY_OS_USER")
else
  MY_OS_USER=$(id -un)
fi

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$RUNNER_PID" ]; then kill -TERM "$RUNNER_PID" 2>/dev/null; fi
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # After sshd and its sessions have stopped: userdel refuses a user with processes.
  if [ -n "$SSH_USER_CREATED" ]; then
    userdel "$SSH_OS_USER" 2>/dev/null || echo "bench: could not remove user $SSH_OS_USER (userdel $SSH_OS_USER)" >&2
  fi
  if [ -n "$PG_STARTED" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    rm -rf "$REPO/var/bench/logs"
    mkdir -p "$REPO/var/bench/logs"
    local log
    while IFS= read -r log; do
      cp "$log" "$REPO/var/bench/logs/$(echo "${log#"$WORK"/}" | tr / -)"
    done < <(find "$WORK" -maxdepth 3 -name '*.log' 2>/dev/null)
    if [ -n "$KEEP" ]; then
      echo "bench: scratch folder kept: $WORK" >&2
    else
      rm -rf "$WORK"
    fi
  fi
  if [ "$status" -ne 0 ] && [ -n "$WORK" ]; then echo "bench: failed; the logs of this run are in var/bench/logs/" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Waits until PID listens on PORT; dies with the end of LOG if it exits or takes too long.
wait_for_port() {
  local name=$1 pid=$2 port=$3 log=$4
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" >&2 2>/dev/null
      die "$name exited during start-up (log above: $log)"
    fi
    if port_in_use "$port"; then return; fi
    sleep 0.1
  done
  tail -n 20 "$log" >&2 2>/dev/null
  die "$name did not listen on 127.0.0.1:$port within 30 s (log: $log)"
}

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/15/bin $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
    if [ -x "$dir/postgres" ]; then
      echo "$dir"
      return
    fi
  done
  die "PostgreSQL server binaries not found in /usr/lib/postgresql (run scripts/setup.sh)"
}

# Debian keeps mariadbd in /usr/sbin, which is not on every user's PATH.
find_mariadb_bin() {
  local name=$1 dir
  for dir in /usr/sbin /usr/bin; do
    if [ -x "$dir/$name" ]; then
      echo "$dir/$name"
      return
    fi
  done
  command -v "$name" || die "MariaDB program $name not found (run scripts/setup.sh)"
}

check_tools() {
  local tool
  for tool in python3 cmake ninja; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
  done
  if [ -n "$RUN_PG" ] || [ -n "$RUN_HA" ]; then
    for tool in pgbench psql; do
      command -v "$tool" >/dev/null || die "$tool not found (run scripts/setup.sh)"
    done
    PG_BIN=$(find_pg_bin)
    PGBENCH=$(command -v pgbench)
    PSQL=$(command -v psql)
    if [ "$(id -u)" -eq 0 ]; then
      id "$PG_OS_USER" >/dev/null 2>&1 || die "user $PG_OS_USER missing (install the postgresql package: scripts/setup.sh)"
    fi
  fi
  if [ -n "$RUN_PG" ]; then
    command -v pgbouncer >/dev/null || die "pgbouncer not found (run scripts/setup.sh)"
    PGBOUNCER=$(command -v pgbouncer)
  fi
  if [ -n "$RUN_HA" ]; then
    HAPROXY=$(command -v haproxy || { [ -x /usr/sbin/haproxy ] && echo /usr/sbin/haproxy; }) ||
      die "haproxy not found (run scripts/setup.sh)"
  fi
  if [ -n "$RUN_MY" ]; then
    command -v sysbench >/dev/null || die "sysbench not found (run scripts/setup.sh)"
    SYSBENCH=$(command -v sysbench)
    MARIADBD=$(find_mariadb_bin mariadbd)
    MARIADB_INSTALL_DB=$(find_mariadb_bin mariadb-install-db)
    MARIADB=$(find_mariadb_bin mariadb)
    if [ "$(id -u)" -eq 0 ]; then
      id "$MY_OS_USER" >/dev/null 2>&1 || die "user $MY_OS_USER missing (install the mariadb-server package: scripts/setup.sh)"
    fi
  fi
  if [ -n "$RUN_SSH" ]; then
    [ -x /usr/sbin/sshd ] || die "/usr/sbin/sshd not found (apt-get install openssh-server)"
    for tool in ssh ssh-keygen; do
      command -v "$tool" >/dev/null || die "$tool not found (apt-get install openssh-client)"
    done
    if [ "$(id -u)" -eq 0 ]; then
      command -v useradd >/dev/null || die "useradd not found (passwd package)"
      if id "$SSH_OS_USER" >/dev/null 2>&1; then
        die "user $SSH_OS_USER exists already (left by an interrupted run? userdel $SSH_OS_USER)"
      fi
    fi
  fi
  if [ -n "$RUN_KUBE" ]; then
    command -v kubectl >/dev/null || die "kubectl not found (run scripts/setup.sh)"
    command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
  fi
}

# Every idle client costs the gateway two descriptors (client and backend sockets).
raise_file_limit() {
  local needed=$((2 * IDLE + 512)) hard
  hard=$(ulimit -Hn)
  if [ "$hard" != unlimited ] && [ "$hard" -lt "$needed" ]; then
    die "the open file limit is $hard; $needed are needed for $IDLE idle connections (raise it, or pass --idle-connections)"
  fi
  ulimit -n "$hard" 2>/dev/null || ulimit -n "$needed"
}

check_ports() {
  local port ports=()
  if [ -n "$RUN_PG" ]; then
    ports+=("$PG_PORT" "$PGBOUNCER_PORT" "$RELAY_PORT" "$GW_PASS_PORT" "$GW_FULL_PORT" "$GW_MASK_PORT" "$GW_TLS_PORT"
      "$GW_FULL_BATCHED_PORT")
  fi
  if [ -n "$RUN_MY" ]; then
    ports+=("$MY_PORT" "$MY_RELAY_PORT" "$MY_GW_PASS_PORT" "$MY_GW_FULL_PORT" "$MY_GW_FULL_BATCHED_PORT")
  fi
  if [ -n "$RUN_SSH" ]; then
    ports+=("$SSHD_PORT" "$GW_SSH_PORT" "$GW_SSH_HTTP_PORT")
  fi
  if [ -n "$RUN_KUBE" ]; then
    ports+=("$KUBE_STANDIN_PORT" "$GW_KUBE_PORT" "$GW_KUBE_HTTP_PORT")
  fi
  if [ -n "$RUN_HA" ]; then
    # PostgreSQL and gw-full too, when the PostgreSQL workloads do not start them.
    ports+=("$PG_PORT" "$GW_FULL_PORT" "$HA_ONE_PORT" "$HA_TWO_PORT" "$HA_ONE_A_PORT" "$HA_ONE_A_HTTP_PORT"
      "$HA_TWO_A_PORT" "$HA_TWO_A_HTTP_PORT" "$HA_TWO_B_PORT" "$HA_TWO_B_HTTP_PORT")
  fi
  for port in "${ports[@]}"; do
    if port_in_use "$port"; then
      die "port $port is in use (a previous run still going? see ps; or choose --port-base)"
    fi
  done
}

build() {
  say "Building the gateway and the relay (RelWithDebInfo) in $BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  cmake -S "$REPO" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPORTCULLIS_BENCH=ON -DPORTCULLIS_TESTS=OFF >"$BUILD_DIR/bench-configure.log" 2>&1 || {
    tail -n 30 "$BUILD_DIR/bench-configure.log" >&2
    die "cmake failed (log: $BUILD_DIR/bench-configure.log)"
  }
  grep -q '^build tcp_relay' "$BUILD_DIR/build.ninja" ||
    die "no tcp_relay target: bench/ needs Google Benchmark (libbenchmark-dev, scripts/setup.sh)"
  ninja -C "$BUILD_DIR" portcullis tcp_relay || die "build failed"
}

start_postgres() {
  say "Starting PostgreSQL ($("$PG_BIN/postgres" --version | sed 's/.*) //')) on 127.0.0.1:$PG_PORT, fsync off"
  local dir=$WORK/pg
  install -d -m 0700 "$dir" "$dir/run"
  if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER:" "$dir" "$dir/run"; fi
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale \
    --no-instructions >"$dir/initdb.log" 2>&1 || {
    tail -n 20 "$dir/initdb.log" >&2
    die "initdb failed (is $WORK reachable by user $PG_OS_USER?)"
  }
  as_pg tee "$dir/data/pg_hba.conf" >/dev/null <<'HBA'
# Written by scripts/bench.sh: a private benchmark cluster on loopback only.
local   all  all                 trust
host    all  all  127.0.0.1/32   trust
HBA
  # Room for the idle connections (each one through the gateway or the relay holds a backend).
  as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
# Written by scripts/bench.sh.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir/run'
max_connections = $((IDLE + 150))
shared_buffers = 256MB
fsync = off
CONF
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgresql.log" -w -t 60 start >/dev/null || {
    tail -n 30 "$dir/postgresql.log" >&2
    die "PostgreSQL did not start (log: $dir/postgresql.log)"
  }
  PG_STARTED=1
}

psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/pg/run" -p "$PG_PORT" -U postgres "$@"
}

load_data() {
  say "Creating the database: pgbench scale $SCALE and a 10 000-row table of synthetic PII"
  psql_admin -d postgres -c "CREATE ROLE $SUBJECT LOGIN" -c "CREATE DATABASE bench OWNER $SUBJECT"
  "$PGBENCH" -i -q -s "$SCALE" "host=127.0.0.1 port=$PG_PORT user=$SUBJECT dbname=bench" \
    >"$WORK/pgbench-init.log" 2>&1 || {
    tail -n 20 "$WORK/pgbench-init.log" >&2
    die "pgbench -i failed"
  }
  # The demo's synthetic customers (valid Luhn digits, IBAN check digits, reserved ranges),
  # 50 copies: every row holds an e-mail address, a phone number and more.
  psql_admin -d bench --single-transaction -c "SET ROLE $SUBJECT" \
    -f examples/demo/schema.sql -f examples/demo/data.sql >/dev/null
  psql_admin -d bench <<SQL
SET ROLE $SUBJECT;
CREATE TABLE bench_pii AS
  SELECT (row_number() OVER (ORDER BY copy, c.id))::int AS id,
         c.full_name, c.email, c.phone, c.us_ssn, c.credit_card, c.iban, c.ip_address, c.address
    FROM generate_series(1, 50) AS copy CROSS JOIN customers AS c;
ALTER TABLE bench_pii ADD PRIMARY KEY (id);
RESET ROLE;
VACUUM ANALYZE;
SQL
  cat >"$WORK/pii_1000_rows.sql" <<'SQL'
\set start random(1, 9001)
SELECT full_name, email, phone, us_ssn, credit_card, iban, ip_address, address
  FROM bench_pii WHERE id BETWEEN :start AND :start + 999;
SQL
}

start_pgbouncer() {
  say "Starting PgBouncer ($("$PGBOUNCER" --version | head -n 1)) in session mode on 127.0.0.1:$PGBOUNCER_PORT"
  local dir=$WORK/pgbouncer
  install -d -m 0700 "$dir"
  cat >"$dir/pgbouncer.ini" <<INI
; Written by scripts/bench.sh.
[databases]
bench = host=127.0.0.1 port=$PG_PORT dbname=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = session
max_client_conn = $((IDLE + 200))
default_pool_size = 64
logfile = $dir/pgbouncer.log
INI
  printf '"%s" ""\n' "$SUBJECT" >"$dir/userlist.txt"
  : >"$dir/pgbouncer.log"
  local user_option=()
  if [ "$(id -u)" -eq 0 ]; then
    chown -R "$PG_OS_USER:" "$dir"
    user_option=(-u "$PG_OS_USER")
  fi
  "$PGBOUNCER" "${user_option[@]}" "$dir/pgbouncer.ini" 2>>"$dir/pgbouncer.log" &
  PIDS+=($!)
  PGBOUNCER_PID=$!
  wait_for_port PgBouncer "$PGBOUNCER_PID" "$PGBOUNCER_PORT" "$dir/pgbouncer.log"
}

# Starts a relay from PORT to BACKEND_PORT, logging to LOG; sets RELAY_PID.
start_relay() {
  local port=$1 backend_port=$2 log=$3
  say "Starting the TCP relay on 127.0.0.1:$port to port $backend_port ($THREADS threads)"
  "$RELAY" "127.0.0.1:$port" "127.0.0.1:$backend_port" "$THREADS" 2>"$log" &
  PIDS+=($!)
  RELAY_PID=$!
  wait_for_port "the relay" "$RELAY_PID" "$port" "$log"
}

# --- Several instances: a shared state database and HAProxy ------------------------------

# The state database the instances share, in the bench's own PostgreSQL (fsync off, as the
# bench database: the figures are the gateways' and the store's work, not the disk's), owned
# by a role of its own that the first instance creates the schema as.
create_state_store() {
  say "Creating the state database $STATE_DB for the instances"
  psql_admin -d postgres -c "CREATE ROLE $STATE_ROLE LOGIN" \
    -c "CREATE DATABASE $STATE_DB OWNER $STATE_ROLE"
  install -d -m 0700 "$WORK/ha"
}

# Reads HAProxy's admin socket until EXPECTED servers are UP (their health checks, GET
# /api/v1/health on each instance's HTTP API, passed); dies after 30 s.
wait_for_haproxy_servers() {
  local socket=$1 expected=$2
  python3 - "$socket" "$expected" <<'PY' || die "HAProxy did not see every instance UP within 30 s (log: $WORK/haproxy/haproxy.log)"
import socket, sys, time
path, expected = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        up = [r for r in rows if r["svname"] not in ("FRONTEND", "BACKEND") and r["status"] == "UP"]
        if len(up) >= expected:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}

# HAProxy (Debian's) in front of the instances, as docs/operations.md has it: mode tcp,
# balance leastconn, health checks on each instance's /api/v1/health. Two front ends: ha-one
# to one instance, ha-two to two. Sets HAPROXY_PID.
start_haproxy() {
  local dir=$WORK/haproxy
  say "Starting HAProxy ($("$HAPROXY" -v | sed -n '1s/ - .*//p')) on 127.0.0.1:$HA_ONE_PORT (one instance) and :$HA_TWO_PORT (two)"
  install -d -m 0700 "$dir"
  cat >"$dir/haproxy.cfg" <<CFG
# Written by scripts/bench.sh.
global
    maxconn 1000
    stats socket $dir/admin.sock mode 600 level admin
    log stderr format raw local0 notice

defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 10m
    timeout server 10m
    timeout check 2s

frontend ha-one
    bind 127.0.0.1:$HA_ONE_PORT
    default_backend ha-one

frontend ha-two
    bind 127.0.0.1:$HA_TWO_PORT
    default_backend ha-two

backend ha-one
    balance leastconn
    option httpchk GET /api/v1/health
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
    server ha-one-a 127.0.0.1:$HA_ONE_A_PORT check port $HA_ONE_A_HTTP_PORT

backend ha-two
    balance leastconn
    option httpchk GET /api/v1/health
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
    server ha-two-a 127.0.0.1:$HA_TWO_A_PORT check port $HA_TWO_A_HTTP_PORT
    server ha-two-b 127.0.0.1:$HA_TWO_B_PORT check port $HA_TWO_B_HTTP_PORT
CFG
  "$HAPROXY" -c -q -f "$dir/haproxy.cfg" >"$dir/check.log" 2>&1 || {
    cat "$dir/check.log" >&2
    die "HAProxy refuses its configuration"
  }
  # -db: in the foreground, a child of this script.
  "$HAPROXY" -db -f "$dir/haproxy.cfg" </dev/null >/dev/null 2>"$dir/haproxy.log" &
  PIDS+=($!)
  HAPROXY_PID=$!
  wait_for_port HAProxy "$HAPROXY_PID" "$HA_TWO_PORT" "$dir/haproxy.log"
  wait_for_haproxy_servers "$dir/admin.sock" 3
}

# --- MariaDB and sysbench ----------------------------------------------------------------

my_admin_sql() {
  "$MARIADB" --no-defaults --batch --skip-column-names --socket="$WORK/mdb/mariadbd.sock" \
    --user=root "$@"
}

start_mariadb() {
  local dir=$WORK/mdb
  say "Starting MariaDB ($("$MARIADBD" --version | sed 's/^.*Ver //; s/ for .*//')) on 127.0.0.1:$MY_PORT, no fsync"
  install -d -m 0700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown "$MY_OS_USER:" "$dir"; fi
  # --no-defaults first: none of /etc/mysql, which is the system server's. root@localhost gets
  # an empty password (it is reachable only over the private socket) rather than unix_socket
  # authentication, which would admit only the OS user the server runs as.
  "$MARIADB_INSTALL_DB" --no-defaults "${MY_USER_OPTION[@]}" --datadir="$dir/data" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    >"$WORK/mariadb-install-db.log" 2>&1 || {
    tail -n 20 "$WORK/mariadb-install-db.log" >&2
    die "mariadb-install-db failed (is $WORK reachable by user $MY_OS_USER?)"
  }
  # The counterpart of PostgreSQL's settings above: everything in memory (sysbench's tables
  # take 92 MB), nothing synced, no binary log.
  "$MARIADBD" --no-defaults "${MY_USER_OPTION[@]}" --datadir="$dir/data" \
    --socket="$dir/mariadbd.sock" --port="$MY_PORT" --bind-address=127.0.0.1 \
    --skip-name-resolve --pid-file="$dir/mariadbd.pid" --log-error="$dir/mariadbd.log" \
    --skip-log-bin --performance-schema=OFF --max-connections=300 \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=0 \
    --innodb-flush-method=nosync </dev/null >/dev/null 2>&1 &
  PIDS+=($!)
  MARIADB_PID=$!
  # mariadbd opens its TCP port once InnoDB is up, but writes its log as another user: the
  # port is the signal, the log is what to show when it fails.
  wait_for_port MariaDB "$MARIADB_PID" "$MY_PORT" "$dir/mariadbd.log"
  my_admin_sql -e 'SELECT 1' >/dev/null || die "MariaDB does not answer on $dir/mariadbd.sock"
}

# The benchmark user (a password: the gateway's backend credentials need one) and sysbench's
# tables, made through TCP as sysbench itself connects.
load_mysql_data() {
  say "Creating sysbench's tables in MariaDB: $MY_TABLES × $MY_TABLE_SIZE rows"
  MY_PASSWORD=$(openssl rand -hex 16)
  my_admin_sql <<SQL
CREATE DATABASE bench;
CREATE USER $MY_USER@'127.0.0.1' IDENTIFIED BY '$MY_PASSWORD';
GRANT ALL ON bench.* TO $MY_USER@'127.0.0.1';
SQL
  "$SYSBENCH" oltp_read_only --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port="$MY_PORT" \
    --mysql-user="$MY_USER" --mysql-password="$MY_PASSWORD" --mysql-db=bench --mysql-ssl=off \
    --tables="$MY_TABLES" --table-size="$MY_TABLE_SIZE" --threads="$MY_TABLES" prepare \
    >"$WORK/sysbench-prepare.log" 2>&1 || {
    tail -n 20 "$WORK/sysbench-prepare.log" >&2
    die "sysbench prepare failed"
  }
  my_admin_sql -e "ANALYZE TABLE $(seq -s, -f 'bench.sbtest%g' 1 "$MY_TABLES")" >/dev/null
}

# --- OpenSSH ------------------------------------------------------------------------------

# A private sshd on loopback, as tests/support/sshd_server.cc starts one: its own host key,
# configuration and authorised key (the key that the gateway logs in with, which direct runs
# use too), public-key authentication only, no PAM. As root it needs a login user to switch
# to: a throw-away system account whose home is in the scratch folder (removed by cleanup).
# Not as root, sshd can log in only the user it runs as. Sets SSHD_PID, SSH_LOGIN,
# SSHD_HOST_KEY (the pinned "TYPE BASE64") and SSH_FILE (the file that ssh-throughput cats).
start_sshd() {
  local dir=$WORK/sshd
  say "Starting OpenSSH's sshd ($(ssh -V 2>&1 | sed 's/,.*//')) on 127.0.0.1:$SSHD_PORT"
  install -d -m 0755 "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    useradd --system --user-group --no-create-home --home-dir "$dir/home" --shell /bin/sh \
      --password '*' "$SSH_OS_USER" >"$dir/useradd.log" 2>&1 || {
      cat "$dir/useradd.log" >&2
      die "could not create user $SSH_OS_USER"
    }
    SSH_USER_CREATED=1
    SSH_LOGIN=$SSH_OS_USER
    install -d -m 0700 -o "$SSH_OS_USER" -g "$SSH_OS_USER" "$dir/home"
    # sshd, as root, chroots its pre-authentication children here; a machine where the
    # service never ran lacks it.
    install -d -m 0755 /run/sshd
  else
    SSH_LOGIN=$(id -un)
    install -d -m 0700 "$dir/home"
  fi
  ssh-keygen -q -t ed25519 -N '' -C portcullis-bench-host -f "$dir/ssh_host_ed25519_key" ||
    die "ssh-keygen failed"
  ssh-keygen -q -t ed25519 -N '' -C portcullis-bench-gateway -f "$dir/gateway_ed25519" ||
    die "ssh-keygen failed"
  SSHD_HOST_KEY=$(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")
  install -m 0644 "$dir/gateway_ed25519.pub" "$dir/authorized_keys"
  printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$SSHD_HOST_KEY" >"$dir/known_hosts"
  cat >"$dir/sshd_config" <<CONF
# Written by scripts/bench.sh: a private sshd on loopback for the SSH workloads.
ListenAddress 127.0.0.1
Port $SSHD_PORT
AddressFamily inet
HostKey $dir/ssh_host_ed25519_key
PidFile $dir/sshd.pid
UsePAM no
PubkeyAuthentication yes
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
AuthorizedKeysFile $dir/authorized_keys
# The keys live in the scratch folder, which sshd's ownership checks would refuse.
StrictModes no
AllowUsers $SSH_LOGIN
PermitRootLogin no
PermitUserEnvironment no
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
PrintLastLog no
Banner none
UseDNS no
# ssh-connect opens connections back to back; the default (10:30:100) could drop one.
MaxStartups 100
LogLevel INFO
CONF
  /usr/sbin/sshd -t -f "$dir/sshd_config" >"$dir/sshd-check.log" 2>&1 || {
    cat "$dir/sshd-check.log" >&2
    die "sshd refuses its configuration"
  }
  # -D: in the foreground, a child of this script; -e: log to stderr. Sessions get a clean
  # environment, not this script's.
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C /usr/sbin/sshd -D -e -f "$dir/sshd_config" \
    </dev/null >/dev/null 2>"$dir/sshd.log" &
  PIDS+=($!)
  SSHD_PID=$!
  wait_for_port sshd "$SSHD_PID" "$SSHD_PORT" "$dir/sshd.log"
  make_ssh_file "$dir/home/pii.txt"
  if [ -n "$SSH_USER_CREATED" ]; then chown "$SSH_OS_USER:" "$dir/home/pii.txt"; fi
  SSH_FILE=$dir/home/pii.txt
}

# SSH_FILE_BYTES of log-like text, one line in four with PII (e-mail addresses, SSNs, card
# numbers with valid Luhn digits, phone numbers, IPv4 addresses), the rest without.
make_ssh_file() {
  say "Writing $((SSH_FILE_BYTES / 1000000)) MB of text with PII for ssh-throughput"
  python3 - "$1" "$SSH_FILE_BYTES" <<'PY'
import random, sys
path, size = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
words = ("request served status ok latency cache miss worker queue retry upstream session "
         "user login logout order shipped invoice payment refund account updated").split()
def luhn(prefix, length=16):
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)
lines = []
for i in range(20000):
    text = " ".join(rng.choice(words) for _ in range(rng.randrange(6, 14)))
    stamp = f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z"
    kind = i % 16
    if kind == 0:
        text += f" contact={rng.choice(['ann', 'bob', 'carla', 'dev.ops'])}{i}@example.{rng.choice(['com', 'org', 'net'])}"
    elif kind == 4:
        text += f" ssn={rng.randrange(100, 665):03d}-{rng.randrange(10, 99):02d}-{rng.randrange(1000, 9999):04d}"
    elif kind == 8:
        card = luhn(rng.choice(["4", "51", "37"]), 15 if i % 3 == 0 else 16)
        text += f" card={card}"
    elif kind == 12:
        text += f" phone=+1-202-555-{rng.randrange(100, 199):04d} client=10.{i % 250}.{i % 200}.{i % 100}"
    lines.append(f"{stamp} app[{i % 97}]: {text}\n")
block = "".join(lines).encode()
with open(path, "wb") as f:
    written = 0
    while written + len(block) <= size:
        f.write(block)
        written += len(block)
    rest = block[: size - written]
    f.write(rest[: rest.rfind(b"\n") + 1] if b"\n" in rest else b"")
PY
}

# The gateway in front of the sshd: an SSH listener (and the HTTP API, for `portcullis ssh
# login`), the connection pinned to the sshd's host key, an exec grant with output masked by a
# profile of the nine detectors of the PostgreSQL gateways' default one, batched journal.
write_ssh_gateway_config() {
  local name=$1 port=$2 dir=$WORK/$1
  install -d -m 0700 "$dir" "$dir/state"
  cat >"$dir/portcullis.yaml" <<YAML
# Written by scripts/bench.sh: gateway configuration "$name".
listen:
  ssh: 127.0.0.1:$port
  http: 127.0.0.1:$GW_SSH_HTTP_PORT
state:
  url: sqlite://state/portcullis.db
identity:
  signing_key_file: state/signing.key
  ssh:
    host_key_file: state/ssh_host_ed25519
    ca_key_file: state/ssh_user_ca
connections:
  - name: bench
    kind: ssh
    address: 127.0.0.1:$SSHD_PORT
    host_key: "$SSHD_HOST_KEY"
    credentials:
      default: { user: $SSH_LOGIN, key_file: $WORK/sshd/gateway_ed25519 }
access:
  - name: bench
    who: { groups: [bench] }
    connections: [bench]
    allow: [exec]
    masking: pii
masking:
  profiles:
    pii:
      detectors: [email, credit_card, us_ssn, phone, iban, ipv4, aws_access_key, jwt, private_key]
audit:
  durability: batched
YAML
  "$PORTCULLIS" --config "$dir/portcullis.yaml" check-config >"$dir/check-config.log" 2>&1 || {
    cat "$dir/check-config.log" >&2
    die "configuration $name is not valid"
  }
}

# A client certificate from the SSH gateway (`portcullis ssh login` with its token) and the
# gateway's host key, which it logs at start, for the client's known_hosts.
ssh_login() {
  local dir=$WORK/gw-ssh
  PORTCULLIS_TOKEN=$GW_SSH_TOKEN "$PORTCULLIS" ssh login --api "http://127.0.0.1:$GW_SSH_HTTP_PORT" \
    --out "$dir/client" >"$dir/ssh-login.log" 2>&1 || {
    cat "$dir/ssh-login.log" >&2
    die "portcullis ssh login failed"
  }
  [ -f "$dir/client/id_ed25519-cert.pub" ] || die "portcullis ssh login wrote no certificate (log: $dir/ssh-login.log)"
  local key
  key=$(sed -n 's/.*event=ssh_host_key key="\([^"]*\)".*/\1/p' "$dir/gateway.log" | head -n 1)
  [ -n "$key" ] || die "no event=ssh_host_key in $dir/gateway.log"
  printf '[127.0.0.1]:%s %s\n' "$GW_SSH_PORT" "$key" >"$dir/known_hosts"
}

# The OpenSSH client's options, as a JSON array for targets.json: no user configuration, no
# agent, the server's host key pinned, errors only on stderr. Default ciphers on both sides.
ssh_argv_json() {
  local known_hosts=$1 port=$2 destination=$3
  shift 3
  local args=(ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes
    -o "UserKnownHostsFile=$known_hosts" -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes
    -o IdentityAgent=none -o ConnectTimeout=10 -o LogLevel=ERROR "$@" -p "$port" "$destination")
  local out='' arg
  for arg in "${args[@]}"; do out+="\"$arg\", "; done
  printf '[%s]' "${out%, }"
}

# The stand-in Kubernetes API server of the tests (no real one is packaged for Debian), on
# loopback with a certificate of its own (kubectl and the gateway check that it names
# 127.0.0.1), a bearer token, and --pods: namespace bench with KUBE_PODS pods whose annotation
# and env values hold PII-like text. Sets KUBE_STANDIN_PID.
start_kube_standin() {
  local dir=$WORK/kube
  say "Starting the stand-in Kubernetes API server on 127.0.0.1:$KUBE_STANDIN_PORT ($KUBE_PODS pods in namespace bench)"
  install -d -m 0700 "$dir" "$dir/direct-home" "$dir/gw-home"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=kube-standin -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$dir/standin-key.pem" -out "$dir/standin-cert.pem" >"$dir/openssl.log" 2>&1 ||
    die "openssl could not make the stand-in's certificate ($dir/openssl.log)"
  KUBE_CLUSTER_TOKEN=bench-cluster-$(openssl rand -hex 16)
  printf '%s' "$KUBE_CLUSTER_TOKEN" >"$dir/cluster-token"
  python3 "$REPO/tests/support/kube_standin_apiserver.py" --cert "$dir/standin-cert.pem" \
    --key "$dir/standin-key.pem" --token "$KUBE_CLUSTER_TOKEN" --port "$KUBE_STANDIN_PORT" \
    --pods "$KUBE_PODS" </dev/null >"$dir/standin.out" 2>"$dir/standin.log" &
  PIDS+=($!)
  KUBE_STANDIN_PID=$!
  wait_for_port "the stand-in API server" "$KUBE_STANDIN_PID" "$KUBE_STANDIN_PORT" "$dir/standin.log"
}

# A kubeconfig: SERVER, CA file, bearer token, and the target's own folder as HOME for kubectl.
write_kubeconfig() {
  local file=$1 server=$2 ca=$3 token=$4
  cat >"$file" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster:
    server: $server
    certificate-authority: $ca
users:
- name: bench
  user:
    token: $token
contexts:
- name: bench
  context: { cluster: bench, user: bench, namespace: prod }
current-context: bench
YAML
  chmod 0600 "$file"
}

# The gateway in front of the stand-in: a Kubernetes listener (its own certificate, made on
# first start), the stand-in's token as the cluster credential, a grant of `read` alone with a
# masking profile, so that every response is read whole (or line by line) and Secrets redacted,
# masked; batched journal, as the SSH gateway.
write_kube_gateway_config() {
  local name=$1 port=$2 dir=$WORK/$1
  install -d -m 0700 "$dir" "$dir/state"
  cat >"$dir/portcullis.yaml" <<YAML
# Written by scripts/bench.sh: gateway configuration "$name".
listen:
  kubernetes: 127.0.0.1:$port
  http: 127.0.0.1:$GW_KUBE_HTTP_PORT
state:
  url: sqlite://state/portcullis.db
identity:
  signing_key_file: state/signing.key
connections:
  - name: bench
    kind: kubernetes
    address: https://127.0.0.1:$KUBE_STANDIN_PORT
    ca_file: $WORK/kube/standin-cert.pem
    credentials:
      default: { token_file: $WORK/kube/cluster-token }
access:
  - name: bench
    who: { groups: [bench] }
    connections: [bench]
    allow: [read]
    masking: pii
masking:
  profiles:
    pii:
      detectors: [email, credit_card, us_ssn]
audit:
  durability: batched
YAML
  "$PORTCULLIS" --config "$dir/portcullis.yaml" check-config >"$dir/check-config.log" 2>&1 || {
    cat "$dir/check-config.log" >&2
    die "configuration $name is not valid"
  }
}

# The two kubeconfigs: direct, with the stand-in's token and certificate; through the gateway,
# from `portcullis kubeconfig` (the caller's gateway token, the gateway's own listener
# certificate as certificate-authority-data). Also the gateway's certificate alone, in a file,
# for the raw HTTP client.
write_kubeconfigs() {
  local dir=$WORK/kube
  write_kubeconfig "$dir/direct.kubeconfig" "https://127.0.0.1:$KUBE_STANDIN_PORT" \
    "$dir/standin-cert.pem" "$KUBE_CLUSTER_TOKEN"
  "$PORTCULLIS" --config "$WORK/gw-kube/portcullis.yaml" kubeconfig --connection bench \
    --token "$GW_KUBE_TOKEN" >"$dir/gw.kubeconfig" 2>"$dir/kubeconfig.log" || {
    cat "$dir/kubeconfig.log" >&2
    die "portcullis kubeconfig failed"
  }
  chmod 0600 "$dir/gw.kubeconfig"
  sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
    "$WORK/gw-kube/state/kubernetes_listener.pem" >"$dir/gw-ca.pem"
  [ -s "$dir/gw-ca.pem" ] || die "no certificate in $WORK/gw-kube/state/kubernetes_listener.pem"
}

# The gateway configurations; config syntax as in docs/configuration.md. gw-full and
# gw-full-batched differ only in the journal's durability. The instances behind HAProxy
# (ha-*, HTTP_PORT their API's port) are gw-full with the state in the shared PostgreSQL
# database, the signing key shared, and a name and a journal folder of their own.
write_gateway_config() {
  local name=$1 port=$2 http_port=${3:-} dir=$WORK/$1
  install -d -m 0700 "$dir" "$dir/state"
  {
    printf '# Written by scripts/bench.sh: gateway configuration "%s".\n' "$name"
    printf 'listen:\n  postgres: 127.0.0.1:%s\n' "$port"
    if [ -n "$http_port" ]; then printf '  http: 127.0.0.1:%s\n' "$http_port"; fi
    printf 'limits:\n  max_connections: %s\n' "$((IDLE + 200))"
    case "$name" in
      ha-*)
        cat <<YAML
instance: $name
state:
  url: postgresql://$STATE_ROLE@127.0.0.1:$PG_PORT/$STATE_DB
identity:
  signing_key_file: $WORK/ha/signing.key
YAML
        ;;
      *)
        cat <<'YAML'
state:
  url: sqlite://state/portcullis.db
identity:
  signing_key_file: state/signing.key
YAML
        ;;
    esac
    cat <<YAML
connections:
  - name: bench
    kind: postgres
    address: 127.0.0.1:$PG_PORT
    database: bench
    tls: disable
    credentials:
      default: { user: $SUBJECT }
YAML
    if [ "$name" = gw-tls ]; then
      cat <<YAML
tls:
  cert_file: $WORK/tls/cert.pem
  key_file: $WORK/tls/key.pem
YAML
    fi
    case "$name" in
      gw-pass | gw-tls)
        cat <<'YAML'
access:
  - name: bench
    who: { groups: [bench] }
    connections: [bench]
    allow: [read, write, ddl, dcl, admin]
    masking: none
audit:
  durability: batched
YAML
        ;;
      gw-full | gw-full-batched | ha-*)
        cat <<'YAML'
access:
  - name: bench
    who: { groups: [bench] }
    connections: [bench]
    allow: [read, write]
    masking: default
guardrails:
  - name: no-drops
    when: { statements: [drop_table, drop_database, drop_schema, truncate] }
    action: deny
    message: dropping or truncating tables is not allowed through the gateway
  - name: unbounded-writes-need-approval
    when: { statements: [delete, update], where: absent }
    action: review
    reviewers: { groups: [dba] }
    wait: 120s
  - name: no-server-files
    when: { functions: [pg_read_file, pg_read_binary_file, pg_ls_dir, lo_import, lo_export], statements: [copy_program] }
    action: deny
YAML
        case "$name" in
          gw-full) printf 'audit:\n  durability: strict\n' ;;
          ha-*) printf 'audit:\n  durability: strict\n  journal_dir: %s\n' "$dir/journal" ;;
          *) printf 'audit:\n  durability: batched\n' ;;
        esac
        ;;
      gw-mask)
        cat <<'YAML'
access:
  - name: bench
    who: { groups: [bench] }
    connections: [bench]
    allow: [read, write, ddl, dcl, admin]
    masking: default
audit:
  durability: batched
YAML
        ;;
    esac
    if [ "$name" != gw-pass ] && [ "$name" != gw-tls ]; then
      cat <<'YAML'
masking:
  profiles:
    default:
      detectors: [email, credit_card, us_ssn, phone, iban, ipv4, aws_access_key, jwt, private_key]
      columns:
        - { match: "*.password*", action: redact }
        - { match: "*.ssn", action: redact }
YAML
    fi
  } >"$dir/portcullis.yaml"
  "$PORTCULLIS" --config "$dir/portcullis.yaml" check-config >"$dir/check-config.log" 2>&1 || {
    cat "$dir/check-config.log" >&2
    die "configuration $name is not valid"
  }
}

# The MySQL gateways, the counterparts of gw-pass, gw-full and gw-full-batched. Full controls
# is a read-only grant here (sysbench's read workloads need no more), so the backend session is
# also made read-only (SET SESSION TRANSACTION READ ONLY). The guardrails are the MySQL
# spelling of the PostgreSQL ones.
write_mysql_gateway_config() {
  local name=$1 port=$2 dir=$WORK/$1
  install -d -m 0700 "$dir" "$dir/state"
  {
    cat <<YAML
# Written by scripts/bench.sh: gateway configuration "$name".
listen:
  mysql: 127.0.0.1:$port
limits:
  max_connections: 200
state:
  url: sqlite://state/portcullis.db
identity:
  signing_key_file: state/signing.key
connections:
  - name: bench
    kind: mysql
    address: 127.0.0.1:$MY_PORT
    database: bench
    tls: disable
    credentials:
      default: { user: $MY_USER, password_env: BENCH_MYSQL_PASSWORD }
YAML
    case "$name" in
      my-gw-pass)
        cat <<'YAML'
access:
  - name: bench
    who: { groups: [bench] }
    connections: [bench]
    allow: [read, write, ddl, dcl, admin]
    masking: none
audit:
  durability: batched
YAML
        ;;
      my-gw-full | my-gw-full-batched)
        cat <<'YAML'
access:
  - name: bench
    who: { groups: [bench] }
    connections: [bench]
    allow: [read]
    masking: default
guardrails:
  - name: no-drops
    when: { statements: [drop_table, drop_database, truncate] }
    action: deny
    message: dropping or truncating tables is not allowed through the gateway
  - name: unbounded-writes-need-approval
    when: { statements: [delete, update], where: absent }
    action: review
    reviewers: { groups: [dba] }
    wait: 120s
  - name: no-server-files
    when: { functions: [load_file], statements: [select_into_outfile, load_data] }
    action: deny
masking:
  profiles:
    default:
      detectors: [email, credit_card, us_ssn, phone, iban, ipv4, aws_access_key, jwt, private_key]
      columns:
        - { match: "*.password*", action: redact }
        - { match: "*.ssn", action: redact }
YAML
        if [ "$name" = my-gw-full ]; then
          printf 'audit:\n  durability: strict\n'
        else
          printf 'audit:\n  durability: batched\n'
        fi
        ;;
    esac
  } >"$dir/portcullis.yaml"
  BENCH_MYSQL_PASSWORD=$MY_PASSWORD "$PORTCULLIS" --config "$dir/portcullis.yaml" check-config \
    >"$dir/check-config.log" 2>&1 || {
    cat "$dir/check-config.log" >&2
    die "configuration $name is not valid"
  }
}

# Starts one gateway (an instance behind HAProxy takes its HTTP API's port third); sets
# GATEWAY_PID and GATEWAY_TOKEN.
start_gateway() {
  local name=$1 port=$2 dir=$WORK/$1
  say "Starting the gateway ($name) on 127.0.0.1:$port"
  # The listener the gateway is started for: the SSH one logs after the HTTP API's.
  local ready='event=listening'
  case "$name" in
    my-*) write_mysql_gateway_config "$name" "$port" ;;
    gw-ssh)
      write_ssh_gateway_config "$name" "$port"
      ready='event=listening protocol=ssh'
      ;;
    gw-kube)
      write_kube_gateway_config "$name" "$port"
      ready='protocol=kubernetes'
      ;;
    ha-*)
      # The third argument: the port of the instance's HTTP API.
      write_gateway_config "$name" "$port" "$3"
      ready='event=listening protocol=postgres'
      ;;
    *) write_gateway_config "$name" "$port" ;;
  esac
  # BENCH_MYSQL_PASSWORD: the MariaDB user's password, for the MySQL gateways' credentials.
  BENCH_MYSQL_PASSWORD=${MY_PASSWORD:-} PORTCULLIS_LOG_LEVEL=info "$PORTCULLIS" \
    --config "$dir/portcullis.yaml" serve --threads "$THREADS" 2>"$dir/gateway.log" &
  PIDS+=($!)
  GATEWAY_PID=$!
  for _ in $(seq 300); do
    grep -q "$ready" "$dir/gateway.log" 2>/dev/null && break
    if ! kill -0 "$GATEWAY_PID" 2>/dev/null; then
      tail -n 20 "$dir/gateway.log" >&2
      die "the gateway ($name) exited during start-up (log: $dir/gateway.log)"
    fi
    sleep 0.1
  done
  grep -q "$ready" "$dir/gateway.log" || {
    tail -n 20 "$dir/gateway.log" >&2
    die "the gateway ($name) did not start within 30 s (log: $dir/gateway.log)"
  }
  GATEWAY_TOKEN=$(BENCH_MYSQL_PASSWORD=${MY_PASSWORD:-} "$PORTCULLIS" --config "$dir/portcullis.yaml" token issue --subject "$SUBJECT" \
    --group bench --ttl 24h 2>"$dir/token.log") || {
    cat "$dir/token.log" >&2
    die "token issue failed for $name"
  }
}

# One entry of targets.json; USER defaults to the gateway subject (PostgreSQL's role too).
target_json() {
  local name=$1 label=$2 port=$3 pid=$4 password=$5 log=$6 description=$7 tls=${8:-false} user=${9:-$SUBJECT}
  printf '    {"name": "%s", "label": "%s", "port": %s, "user": "%s", "dbname": "bench", "pid": %s, "password": %s, "log": "%s", "description": "%s", "tls": %s}' \
    "$name" "$label" "$port" "$user" "$pid" "$password" "$log" "$description" "$tls"
}

# A throw-away self-signed certificate for the TLS listener (clients here do not verify it).
make_certificate() {
  install -d -m 0700 "$WORK/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" \
    >"$WORK/tls/openssl.log" 2>&1 || die "openssl could not make a certificate ($WORK/tls/openssl.log)"
}

write_targets() {
  local commit entries=() meta=() build_type
  # What the build folder was configured as (--no-build may point at another one).
  build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null)
  commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)
  if [ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ]; then commit="$commit (with uncommitted changes)"; fi
  if [ -n "$RUN_PG" ] || [ -n "$RUN_HA" ]; then
    meta+=("\"postgres\": \"$("$PG_BIN/postgres" --version)\","
      "\"scale\": $SCALE,"
      "\"postgres_settings\": \"fsync=off, shared_buffers=256MB, loopback TCP, trust authentication\",")
  fi
  if [ -n "$RUN_PG" ]; then
    meta+=("\"pgbouncer\": \"$("$PGBOUNCER" --version | head -n 1)\",")
    entries+=(
      "$(target_json direct "direct" "$PG_PORT" null null "$WORK/pg/postgresql.log" "PostgreSQL itself, no hop")"
      "$(target_json pgbouncer "PgBouncer (session)" "$PGBOUNCER_PORT" "$PGBOUNCER_PID" null "$WORK/pgbouncer/pgbouncer.log" "PgBouncer from Debian, session mode, auth_type trust")"
      "$(target_json relay "TCP relay" "$RELAY_PORT" "$RELAY_PID" null "$WORK/relay.log" "bench/tcp_relay: one hop, nothing inspected")"
      "$(target_json gw-pass "gateway, pass-through" "$GW_PASS_PORT" "$GW_PASS_PID" "\"$GW_PASS_TOKEN\"" "$WORK/gw-pass/gateway.log" "all statement classes, no guardrails, masking none, batched audit")"
      "$(target_json gw-full "gateway, full controls" "$GW_FULL_PORT" "$GW_FULL_PID" "\"$GW_FULL_TOKEN\"" "$WORK/gw-full/gateway.log" "read+write grant, INTERFACE.md guardrails, default masking profile, strict audit")"
      "$(target_json gw-full-batched "gateway, full controls, batched audit" "$GW_FULL_BATCHED_PORT" "$GW_FULL_BATCHED_PID" "\"$GW_FULL_BATCHED_TOKEN\"" "$WORK/gw-full-batched/gateway.log" "as gateway, full controls, but batched audit")"
      "$(target_json gw-mask "gateway, masking-heavy" "$GW_MASK_PORT" "$GW_MASK_PID" "\"$GW_MASK_TOKEN\"" "$WORK/gw-mask/gateway.log" "pass-through with the default masking profile on")"
      "$(target_json gw-tls "gateway, pass-through over TLS" "$GW_TLS_PORT" "$GW_TLS_PID" "\"$GW_TLS_TOKEN\"" "$WORK/gw-tls/gateway.log" "pass-through with a TLS listener; clients use TLS 1.3 (idle memory only)" true)"
    )
  elif [ -n "$RUN_HA" ]; then
    entries+=(
      "$(target_json direct "direct" "$PG_PORT" null null "$WORK/pg/postgresql.log" "PostgreSQL itself, no hop")"
      "$(target_json gw-full "gateway, full controls" "$GW_FULL_PORT" "$GW_FULL_PID" "\"$GW_FULL_TOKEN\"" "$WORK/gw-full/gateway.log" "read+write grant, INTERFACE.md guardrails, default masking profile, strict audit")"
    )
  fi
  local instances_setup=
  if [ -n "$RUN_HA" ]; then
    local haproxy_version
    haproxy_version=$("$HAPROXY" -v | sed -n '1s/ - .*//p')
    meta+=("\"haproxy\": \"$haproxy_version\",")
    # pid: HAProxy's (checked alive); cpu_pids: every process the target's CPU is summed over.
    entries+=(
      "$(printf '    {"name": "ha-one", "label": "HAProxy, one instance", "port": %s, "user": "%s", "dbname": "bench", "pid": %s, "cpu_pids": [%s, %s], "password": "%s", "log": "%s", "description": "%s", "tls": false}' \
        "$HA_ONE_PORT" "$SUBJECT" "$HAPROXY_PID" "$HAPROXY_PID" "$HA_ONE_A_PID" "$HA_ONE_TOKEN" "$WORK/ha-one-a/gateway.log" \
        "HAProxy (mode tcp, leastconn, health checks on /api/v1/health) in front of one instance: the controls of gateway, full controls (strict audit), state in the shared PostgreSQL database")"
      "$(printf '    {"name": "ha-two", "label": "HAProxy, two instances", "port": %s, "user": "%s", "dbname": "bench", "pid": %s, "cpu_pids": [%s, %s, %s], "password": "%s", "log": "%s", "description": "%s", "tls": false}' \
        "$HA_TWO_PORT" "$SUBJECT" "$HAPROXY_PID" "$HAPROXY_PID" "$HA_TWO_A_PID" "$HA_TWO_B_PID" "$HA_TWO_TOKEN" "$WORK/ha-two-a/gateway.log" \
        "the same HAProxy in front of two such instances (their own names, ports and journal folders; the signing key and the state database shared)")"
    )
    instances_setup="\"instances\": {\"haproxy\": \"$haproxy_version\", \"balance\": \"leastconn\", \"state_db\": \"$STATE_DB\", \"psql\": \"$PSQL\", \"host\": \"$WORK/pg/run\", \"port\": $PG_PORT, \"user\": \"postgres\", \"admin_socket\": \"$WORK/haproxy/admin.sock\", \"instance_pids\": {\"ha-one\": [$HA_ONE_A_PID], \"ha-two\": [$HA_TWO_A_PID, $HA_TWO_B_PID]}},"
  fi
  if [ -n "$RUN_MY" ]; then
    meta+=("\"mariadb\": \"$("$MARIADBD" --version)\","
      "\"sysbench\": \"$("$SYSBENCH" --version)\","
      "\"sysbench_tables\": $MY_TABLES,"
      "\"sysbench_table_size\": $MY_TABLE_SIZE,"
      "\"mariadb_settings\": \"innodb_buffer_pool_size=256M, innodb_flush_log_at_trx_commit=0, innodb_flush_method=nosync, no binary log, loopback TCP, mysql_native_password\",")
    entries+=(
      "$(target_json my-direct "direct" "$MY_PORT" null "\"$MY_PASSWORD\"" "$WORK/mdb/mariadbd.log" "MariaDB itself, no hop" false "$MY_USER")"
      "$(target_json my-relay "TCP relay" "$MY_RELAY_PORT" "$MY_RELAY_PID" "\"$MY_PASSWORD\"" "$WORK/my-relay.log" "bench/tcp_relay: one hop, nothing inspected" false "$MY_USER")"
      "$(target_json my-gw-pass "gateway, pass-through" "$MY_GW_PASS_PORT" "$MY_GW_PASS_PID" "\"$MY_GW_PASS_TOKEN\"" "$WORK/my-gw-pass/gateway.log" "all statement classes, no guardrails, masking none, batched audit")"
      "$(target_json my-gw-full "gateway, full controls" "$MY_GW_FULL_PORT" "$MY_GW_FULL_PID" "\"$MY_GW_FULL_TOKEN\"" "$WORK/my-gw-full/gateway.log" "read-only grant, guardrails, default masking profile, strict audit")"
      "$(target_json my-gw-full-batched "gateway, full controls, batched audit" "$MY_GW_FULL_BATCHED_PORT" "$MY_GW_FULL_BATCHED_PID" "\"$MY_GW_FULL_BATCHED_TOKEN\"" "$WORK/my-gw-full-batched/gateway.log" "as gateway, full controls, but batched audit")"
    )
  fi
  local ssh_setup=
  if [ -n "$RUN_SSH" ]; then
    meta+=("\"openssh\": \"$(ssh -V 2>&1)\","
      "\"ssh_settings\": \"private sshd on loopback, ed25519 keys, default ciphers on every leg, UsePAM no; gateway: exec grant, masking profile of nine detectors, batched audit\",")
    # The sshd's pid stands for direct (checked alive; no proxy CPU there).
    entries+=(
      "$(printf '    {"name": "ssh-direct", "label": "direct", "port": %s, "user": "%s", "pid": %s, "log": "%s", "description": "%s", "proxy": false, "ssh": %s}' \
        "$SSHD_PORT" "$SSH_LOGIN" "$SSHD_PID" "$WORK/sshd/sshd.log" "OpenSSH sshd itself, logged in to with the key the gateway uses" \
        "$(ssh_argv_json "$WORK/sshd/known_hosts" "$SSHD_PORT" "$SSH_LOGIN@127.0.0.1" -i "$WORK/sshd/gateway_ed25519")")"
      "$(printf '    {"name": "ssh-direct-x25519", "label": "direct, curve25519-sha256", "port": %s, "user": "%s", "pid": %s, "log": "%s", "description": "%s", "proxy": false, "ssh": %s}' \
        "$SSHD_PORT" "$SSH_LOGIN" "$SSHD_PID" "$WORK/sshd/sshd.log" "as direct, with the key exchange that the gateway negotiates (curve25519-sha256) instead of the default sntrup761x25519-sha512" \
        "$(ssh_argv_json "$WORK/sshd/known_hosts" "$SSHD_PORT" "$SSH_LOGIN@127.0.0.1" -i "$WORK/sshd/gateway_ed25519" -o KexAlgorithms=curve25519-sha256)")"
      "$(printf '    {"name": "ssh-gw", "label": "gateway, exec + masking", "port": %s, "user": "bench", "pid": %s, "log": "%s", "description": "%s", "proxy": true, "ssh": %s}' \
        "$GW_SSH_PORT" "$GW_SSH_PID" "$WORK/gw-ssh/gateway.log" "SSH listener, a certificate from portcullis ssh login, exec grant, output masked (nine detectors), batched audit" \
        "$(ssh_argv_json "$WORK/gw-ssh/known_hosts" "$GW_SSH_PORT" "bench@127.0.0.1" -i "$WORK/gw-ssh/client/id_ed25519" -o "CertificateFile=$WORK/gw-ssh/client/id_ed25519-cert.pub")")"
    )
    ssh_setup="\"ssh\": {\"file\": \"$SSH_FILE\", \"file_bytes\": $(stat -c %s "$SSH_FILE")},"
  fi
  local kube_setup=
  if [ -n "$RUN_KUBE" ]; then
    local kubectl_version
    kubectl_version=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -n 1)
    meta+=("\"kubectl\": \"${kubectl_version:-unknown}\","
      "\"kubernetes_settings\": \"stand-in API server (tests/support/kube_standin_apiserver.py, Python, HTTPS, one thread per connection, encoded lists kept while unchanged) with $KUBE_PODS pods in namespace bench; gateway: Kubernetes listener with its own certificate, read grant, masking profile email, credit_card, us_ssn, batched audit\",")
    # The stand-in's pid stands for direct (checked alive; no proxy CPU there).
    entries+=(
      "$(printf '    {"name": "kube-direct", "label": "direct", "port": %s, "pid": %s, "log": "%s", "description": "%s", "proxy": false, "kube": {"kubeconfig": "%s", "cache_dir": "%s", "home": "%s", "host": "127.0.0.1", "port": %s, "prefix": "", "ca_file": "%s", "token": "%s"}}' \
        "$KUBE_STANDIN_PORT" "$KUBE_STANDIN_PID" "$WORK/kube/standin.log" "the stand-in API server itself, with its own token and certificate" \
        "$WORK/kube/direct.kubeconfig" "$WORK/kube/direct-home/cache" "$WORK/kube/direct-home" "$KUBE_STANDIN_PORT" "$WORK/kube/standin-cert.pem" "$KUBE_CLUSTER_TOKEN")"
      "$(printf '    {"name": "kube-gw", "label": "gateway, read + masking", "port": %s, "pid": %s, "log": "%s", "description": "%s", "proxy": true, "kube": {"kubeconfig": "%s", "cache_dir": "%s", "home": "%s", "host": "127.0.0.1", "port": %s, "prefix": "/k8s/bench", "ca_file": "%s", "token": "%s"}}' \
        "$GW_KUBE_PORT" "$GW_KUBE_PID" "$WORK/gw-kube/gateway.log" "Kubernetes listener, kubeconfig from portcullis kubeconfig, read grant, responses masked (email, credit_card, us_ssn), batched audit" \
        "$WORK/kube/gw.kubeconfig" "$WORK/kube/gw-home/cache" "$WORK/kube/gw-home" "$GW_KUBE_PORT" "$WORK/kube/gw-ca.pem" "$GW_KUBE_TOKEN")"
    )
    kube_setup="\"kube\": {\"pods\": $KUBE_PODS, \"kubectl_version\": \"${kubectl_version:-unknown}\"},"
  fi
  local joined
  joined=$(printf '%s,\n' "${entries[@]}")
  cat >"$WORK/targets.json" <<JSON
{
  "host": "127.0.0.1",
  "work_dir": "$WORK",
  "pgbench": "${PGBENCH:-}",
  "pii_script": "$WORK/pii_1000_rows.sql",
  "sysbench": "${SYSBENCH:-}",
  $ssh_setup
  $kube_setup
  $instances_setup
  "meta": {
    "commit": "$commit",
$(printf '    %s\n' "${meta[@]}")
    "build": "$build_type",
    "threads": $THREADS
  },
  "targets": [
${joined%,}
  ]
}
JSON
  chmod 0600 "$WORK/targets.json"
}

main() {
  check_tools
  raise_file_limit
  check_ports
  if [ -n "$BUILD" ]; then build; fi
  [ -x "$PORTCULLIS" ] || die "$PORTCULLIS not found (drop --no-build)"
  # The relay is a PostgreSQL and MySQL target only.
  if [ -n "$RUN_PG" ] || [ -n "$RUN_MY" ]; then
    [ -x "$RELAY" ] || die "$RELAY not found (drop --no-build)"
  fi

  # A scratch folder on disk (strict audit fsyncs its journal there), reachable by the users
  # PostgreSQL and MariaDB run as; a new one every run.
  WORK=$(mktemp -d /var/tmp/portcullis-bench.XXXXXX)
  chmod 0755 "$WORK"
  local fsync_dir
  if [ -n "$RUN_PG" ] || [ -n "$RUN_HA" ]; then
    start_postgres
    load_data
  fi
  if [ -n "$RUN_PG" ]; then
    start_pgbouncer
    start_relay "$RELAY_PORT" "$PG_PORT" "$WORK/relay.log"
    start_gateway gw-pass "$GW_PASS_PORT"
    GW_PASS_PID=$GATEWAY_PID GW_PASS_TOKEN=$GATEWAY_TOKEN
    start_gateway gw-full "$GW_FULL_PORT"
    GW_FULL_PID=$GATEWAY_PID GW_FULL_TOKEN=$GATEWAY_TOKEN
    start_gateway gw-full-batched "$GW_FULL_BATCHED_PORT"
    GW_FULL_BATCHED_PID=$GATEWAY_PID GW_FULL_BATCHED_TOKEN=$GATEWAY_TOKEN
    start_gateway gw-mask "$GW_MASK_PORT"
    GW_MASK_PID=$GATEWAY_PID GW_MASK_TOKEN=$GATEWAY_TOKEN
    make_certificate
    start_gateway gw-tls "$GW_TLS_PORT"
    GW_TLS_PID=$GATEWAY_PID GW_TLS_TOKEN=$GATEWAY_TOKEN
    fsync_dir=$WORK/gw-full/state
  elif [ -n "$RUN_HA" ]; then
    # The reference of the instances' workloads: the same controls, SQLite state, no HAProxy.
    start_gateway gw-full "$GW_FULL_PORT"
    GW_FULL_PID=$GATEWAY_PID GW_FULL_TOKEN=$GATEWAY_TOKEN
    fsync_dir=$WORK/gw-full/state
  fi
  if [ -n "$RUN_HA" ]; then
    create_state_store
    # One after the other: the first creates the schema and the shared signing key.
    start_gateway ha-one-a "$HA_ONE_A_PORT" "$HA_ONE_A_HTTP_PORT"
    HA_ONE_A_PID=$GATEWAY_PID HA_ONE_TOKEN=$GATEWAY_TOKEN
    start_gateway ha-two-a "$HA_TWO_A_PORT" "$HA_TWO_A_HTTP_PORT"
    HA_TWO_A_PID=$GATEWAY_PID HA_TWO_TOKEN=$GATEWAY_TOKEN
    start_gateway ha-two-b "$HA_TWO_B_PORT" "$HA_TWO_B_HTTP_PORT"
    HA_TWO_B_PID=$GATEWAY_PID
    start_haproxy
  fi
  if [ -n "$RUN_MY" ]; then
    start_mariadb
    load_mysql_data
    start_relay "$MY_RELAY_PORT" "$MY_PORT" "$WORK/my-relay.log"
    MY_RELAY_PID=$RELAY_PID
    start_gateway my-gw-pass "$MY_GW_PASS_PORT"
    MY_GW_PASS_PID=$GATEWAY_PID MY_GW_PASS_TOKEN=$GATEWAY_TOKEN
    start_gateway my-gw-full "$MY_GW_FULL_PORT"
    MY_GW_FULL_PID=$GATEWAY_PID MY_GW_FULL_TOKEN=$GATEWAY_TOKEN
    start_gateway my-gw-full-batched "$MY_GW_FULL_BATCHED_PORT"
    MY_GW_FULL_BATCHED_PID=$GATEWAY_PID MY_GW_FULL_BATCHED_TOKEN=$GATEWAY_TOKEN
    # The same disk as gw-full's; this one is there when PostgreSQL is not.
    fsync_dir=${fsync_dir:-$WORK/my-gw-full/state}
  fi
  if [ -n "$RUN_SSH" ]; then
    start_sshd
    start_gateway gw-ssh "$GW_SSH_PORT"
    GW_SSH_PID=$GATEWAY_PID GW_SSH_TOKEN=$GATEWAY_TOKEN
    ssh_login
    # Not timed when no PostgreSQL or MySQL workload runs; the folder is there all the same.
    fsync_dir=${fsync_dir:-$WORK/gw-ssh/state}
  fi
  if [ -n "$RUN_KUBE" ]; then
    start_kube_standin
    start_gateway gw-kube "$GW_KUBE_PORT"
    GW_KUBE_PID=$GATEWAY_PID GW_KUBE_TOKEN=$GATEWAY_TOKEN
    write_kubeconfigs
    fsync_dir=${fsync_dir:-$WORK/gw-kube/state}
  fi
  write_targets

  mkdir -p "$(dirname "$JSON")"
  say "Running: $MODE mode, $DURATION s per run, $REPEATS repeats, $IDLE idle connections"
  local only=()
  if [ -n "$ONLY" ]; then only=(--only "$ONLY"); fi
  # In the background and waited for, so that a signal reaches the trap at once. fdatasync is
  # timed in the folder of a strict gateway's state store, where its journal is written.
  python3 "$REPO/bench/end_to_end.py" --targets "$WORK/targets.json" --json "$JSON" \
    --markdown "$MARKDOWN" --duration "$DURATION" --repeats "$REPEATS" --warmup "$WARMUP" \
    --idle-connections "$IDLE" --mode "$MODE" --fsync-dir "$fsync_dir" \
    --ssh-connections "$SSH_CONNECTIONS" --ssh-transfers "$SSH_TRANSFERS" \
    --kube-runs "$KUBE_RUNS" --kube-requests "$KUBE_REQUESTS" "${only[@]}" &
  RUNNER_PID=$!
  local status=0
  wait "$RUNNER_PID" || status=$?
  RUNNER_PID=
  [ "$status" -eq 0 ] || die "the benchmark runner failed (exit $status)"
  say "Reports: $JSON, $MARKDOWN"
}

# On one line, so that bash has read it all before running: editing the file during a run is
# then harmless.
main; exit "$?"
