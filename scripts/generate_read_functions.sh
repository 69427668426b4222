#!/usr/bin/env bash
# Regenerates src/sql/postgres/read_functions.inc: the pg_catalog functions a statement of class
# read may call (docs/policy.md, "Functions a read grant may call").
#
# The list starts from PostgreSQL's own catalog: every pg_catalog function, aggregate or window
# function whose overloads are all immutable or stable (a volatile function may change state).
# Volatility is a promise about results, not about what a function reaches, so the reviewed
# exclusions below take out stable functions that run SQL given as text, read the server's files
# or paths, or assign a transaction id; the reviewed inclusions add volatile functions that only
# read (clock, random numbers, sequence values already drawn, sizes, sleeping).
#
# Usage: scripts/generate_read_functions.sh [output]
#   Starts a throw-away PostgreSQL 15 (PG_BIN, default /usr/lib/postgresql/15/bin) as the user
#   RUN_AS (default portcullis-test when run as root) on PGPORT (default 25998), or uses the
#   server PGHOST/PGPORT point at when USE_RUNNING=1.
set -euo pipefail
export LC_ALL=C  # one sort order for comm and for the binary search over the output

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/src/sql/postgres/read_functions.inc}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PGPORT=${PGPORT:-25998}

# Stable or immutable, but not to be called through a read grant. One line each: name, reason.
EXCLUDE=$(cat <<'LIST'
query_to_xml               runs the SQL text it is given (classified as that text instead)
query_to_xmlschema         runs the SQL text it is given (classified as that text instead)
query_to_xml_and_xmlschema runs the SQL text it is given (classified as that text instead)
cursor_to_xml              fetches from a cursor the call does not show
cursor_to_xmlschema        describes a cursor the call does not show
table_to_xml               reads the table named by its argument (classified as a read of it)
table_to_xmlschema         describes the table named by its argument
table_to_xml_and_xmlschema reads the table named by its argument
schema_to_xml              reads every table of a schema
schema_to_xmlschema        describes every table of a schema
schema_to_xml_and_xmlschema reads every table of a schema
database_to_xml            reads every table of the database
database_to_xmlschema      describes every table of the database
database_to_xml_and_xmlschema reads every table of the database
ts_stat                    runs the SQL text it is given
ts_rewrite                 one overload runs the SQL text it is given
txid_current               assigns a transaction id (a write to the server's state)
pg_current_xact_id         assigns a transaction id (a write to the server's state)
pg_config                  shows the server's installation paths and build flags
pg_relation_filepath       shows paths in the server's data directory
pg_tablespace_location     shows paths on the server's file system
fmgr_c_validator           validates function definitions: for CREATE FUNCTION, not queries
fmgr_internal_validator    validates function definitions: for CREATE FUNCTION, not queries
fmgr_sql_validator         parses a function's SQL body: for CREATE FUNCTION, not queries
LIST
)

# Volatile, but only read. One line each: name, reason.
INCLUDE=$(cat <<'LIST'
clock_timestamp            reads the clock
timeofday                  reads the clock
random                     a random number
setseed                    seeds this session's random numbers only
gen_random_uuid            a random UUID
currval                    this session's last value of a sequence, draws none
lastval                    this session's last sequence value, draws none
pg_sequence_last_value     a sequence's last value, draws none (pg_sequences view)
pg_sleep                   waits; changes nothing
pg_sleep_for               waits; changes nothing
pg_sleep_until             waits; changes nothing
current_query              this session's own query text
pg_is_in_recovery          whether the server is a standby
pg_jit_available           whether JIT compilation is available
pg_database_size           a size (psql \l+)
pg_relation_size           a size (psql \dt+)
pg_table_size              a size (psql \dt+)
pg_indexes_size            a size
pg_total_relation_size     a size
pg_tablespace_size         a size (psql \db+)
pg_partition_tree          lists a partition tree (psql \d)
pg_partition_ancestors     lists a partition's ancestors
pg_lock_status             the lock table (pg_locks view)
pg_blocking_pids           which sessions block one
pg_safe_snapshot_blocking_pids which sessions block a safe snapshot
pg_notification_queue_usage how full the NOTIFY queue is
pg_xact_status             a transaction's status
txid_status                a transaction's status
pg_xact_commit_timestamp   a transaction's commit time
pg_last_committed_xact     the last committed transaction
pg_collation_actual_version a collation's version (psql \dO)
pg_database_collation_actual_version the database collation's version
pg_get_multixact_members   a multixact's members
pg_prepared_xact           the prepared transactions (pg_prepared_xacts view)
pg_stat_have_stats         whether statistics exist
pg_stat_get_xact_blocks_fetched statistics of this transaction
pg_stat_get_xact_blocks_hit statistics of this transaction
pg_stat_get_xact_function_calls statistics of this transaction
pg_stat_get_xact_function_self_time statistics of this transaction
pg_stat_get_xact_function_total_time statistics of this transaction
pg_stat_get_xact_numscans  statistics of this transaction
pg_stat_get_xact_tuples_deleted statistics of this transaction
pg_stat_get_xact_tuples_fetched statistics of this transaction
pg_stat_get_xact_tuples_hot_updated statistics of this transaction
pg_stat_get_xact_tuples_inserted statistics of this transaction
pg_stat_get_xact_tuples_returned statistics of this transaction
pg_stat_get_xact_tuples_updated statistics of this transaction
pg_export_snapshot         exports this transaction's snapshot (pg_dump --jobs)
lo_open                    opens a large object; writing through it needs lowrite
lo_close                   closes a large object descriptor
loread                     reads a large object
lo_get                     reads a large object
lo_lseek                   moves within a large object
lo_lseek64                 moves within a large object
lo_tell                    a position within a large object
lo_tell64                  a position within a large object
LIST
)

names() { awk 'NF { print $1 }' <<<"$1" | sort -u; }

QUERY="select proname from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'pg_catalog'
  group by proname
  having bool_and(prokind in ('f', 'a', 'w') and provolatile in ('i', 's'))
  order by 1"

if [[ ${USE_RUNNING:-0} == 1 ]]; then
  BASE=$(psql -X -At -c "$QUERY")
else
  RUN_AS=${RUN_AS:-}
  [[ -z $RUN_AS && $(id -u) == 0 ]] && RUN_AS=portcullis-test
  DIR=$(mktemp -d)
  [[ -n $RUN_AS ]] && chown "$RUN_AS" "$DIR"
  as_user() { if [[ -n $RUN_AS ]]; then su "$RUN_AS" -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  trap 'as_user "$PG_BIN/pg_ctl -D $DIR/data -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$DIR"' EXIT
  as_user "$PG_BIN/initdb -D $DIR/data -A trust -U postgres" >/dev/null
  as_user "$PG_BIN/pg_ctl -D $DIR/data -w -l $DIR/log -o '-p $PGPORT -k $DIR -c listen_addresses=' start" >/dev/null
  BASE=$(psql -X -At -h "$DIR" -p "$PGPORT" -U postgres -d postgres -c "$QUERY")
fi

BASE_SORTED=$(sort -u <<<"$BASE")
FINAL=$(comm -23 <(echo "$BASE_SORTED") <(names "$EXCLUDE") | cat - <(names "$INCLUDE") |
  LC_ALL=C sort -u)

{
  echo "// Generated by scripts/generate_read_functions.sh from PostgreSQL 15's pg_catalog; do not"
  echo "// edit: change the reviewed lists in the script and run it again. Sorted (C locale)."
  echo "// $(wc -l <<<"$BASE_SORTED") stable or immutable names, $(comm -12 <(echo "$BASE_SORTED") <(names "$EXCLUDE") | wc -l) excluded by review, $(names "$INCLUDE" | wc -l) volatile ones included: $(wc -l <<<"$FINAL")."
  while read -r name; do echo "\"$name\","; done <<<"$FINAL"
} >"$OUT"
echo "wrote $OUT: $(wc -l <<<"$FINAL") functions" >&2
