"""Runs the end-to-end benchmark suite against targets that scripts/bench.sh has started.

Every workload runs against every target in turn, repeat after repeat, so that the ratios
compare figures taken minutes apart under the same load on the machine. PostgreSQL workloads
run pgbench, MySQL ones (named my-*) sysbench against MariaDB, SSH ones (named ssh-*) the
OpenSSH client against a private sshd, directly and through the gateway. Reports TPS, mean and
p99 latency, ratios against direct / the bare relay / PgBouncer, the proxy's CPU seconds per
1000 transactions, its RSS per idle client connection, the fdatasync latency of the disk that
holds the strict journal and the group-commit limit derived from it; for SSH, the time per
connection and the throughput of a large `cat`; Kubernetes ones (named kube-*) time kubectl
and raw HTTP requests against the stand-in API server, directly and through the gateway; the
instances ones (named ha-*) run pgbench through HAProxy to one and to two gateway instances
that share a PostgreSQL state store, and sample the store's commits and journal records per
second during each run; checks the performance goals; writes a JSON report and prints a
Markdown one. Python 3 standard library only.

    python3 bench/end_to_end.py --targets TARGETS.json --json OUT.json --markdown OUT.md \
        [--duration 15] [--repeats 2] [--warmup 3] [--idle-connections 1000] [--mode full] \
        [--fsync-dir DIR] [--fsync-samples 300] [--only W1,W2] [--ssh-connections 30] \
        [--ssh-transfers 3] [--kube-runs 20] [--kube-requests 50]
"""

import argparse
import datetime
import glob
import http.client
import json
import os
import platform
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idle_connections  # noqa: E402

# Targets of the pgbench matrix, and of the PII workload (direct vs masking, with the hops
# that separate the cost of the hop from the cost of masking). gw-full journals strictly
# (a command waits for its event's fsync), gw-full-batched is the same gateway with the
# batched journal.
STANDARD_TARGETS = ["direct", "pgbouncer", "relay", "gw-pass", "gw-full", "gw-full-batched"]
PII_TARGETS = ["direct", "relay", "gw-pass", "gw-mask", "gw-full", "gw-full-batched"]
# Proxies whose memory per idle client connection is measured.
IDLE_TARGETS = ["gw-pass", "gw-full", "gw-tls", "pgbouncer", "relay"]
# Targets of the sysbench workloads, in front of MariaDB: the same hops as PostgreSQL's but
# PgBouncer, which has no MySQL counterpart here. Their ratios are taken against the MySQL
# direct and relay targets (REFERENCES_MYSQL).
MYSQL_TARGETS = ["my-direct", "my-relay", "my-gw-pass", "my-gw-full", "my-gw-full-batched"]
REFERENCES_POSTGRES = {"direct": "direct", "relay": "relay", "pgbouncer": "pgbouncer"}
REFERENCES_MYSQL = {"direct": "my-direct", "relay": "my-relay"}
# What --only mysql stands for.
MYSQL_FAMILY = "mysql"
# The SSH targets: the private sshd itself, logged in to with the key the gateway uses (with
# OpenSSH's default key exchange, sntrup761x25519-sha512, and with curve25519-sha256, the one
# the gateway negotiates with a client and with the sshd), and the gateway in front of it
# (exec allowed, output masked). What --only ssh stands for.
SSH_TARGETS = ["ssh-direct", "ssh-direct-x25519", "ssh-gw"]
SSH_FAMILY = "ssh"
# The Kubernetes targets: the stand-in API server (tests/support/kube_standin_apiserver.py)
# with its own token and CA, and the gateway's Kubernetes listener in front of it (a read grant
# with a masking profile, so that every response is read, redacted and masked). What
# --only kubernetes stands for; kube-list stands for both list workloads.
KUBE_TARGETS = ["kube-direct", "kube-gw"]
KUBE_FAMILY = "kubernetes"
KUBE_LIST_FAMILY = "kube-list"
# Several instances: HAProxy in front of one gateway instance and in front of two, both with
# gw-full's controls and their state in one PostgreSQL database; direct and gw-full (SQLite
# state, no HAProxy) as references. What --only instances stands for.
HA_TARGETS = ["ha-one", "ha-two"]
INSTANCES_TARGETS = ["direct", "gw-full", "ha-one", "ha-two"]
INSTANCES_FAMILY = "instances"
INSTANCES_DESCRIPTION = (
    "pgbench through HAProxy (mode tcp, balance leastconn, option httpchk GET /api/v1/health) "
    "to one gateway instance (ha-one) and to two (ha-two), each with the controls of gateway, "
    "full controls (strict journal, guardrails, masking) and its state and journal index in one "
    "PostgreSQL database on the bench's PostgreSQL server; gateway, full controls (SQLite "
    "state, no HAProxy) and direct as references. two/one is ha-two's TPS over ha-one's. The "
    "store's commits per second (pg_stat_database.xact_commit of the state database, every "
    "connection to it) and journal records per second (rows added to audit_events) are sampled "
    "during each run through HAProxy, from a fifth of the run after its start to a tenth "
    "before its end; records per pgbench transaction counts every row the run added, from "
    "just before it to when the index had caught up after it (audit_events unchanged for 2 s; "
    "the seconds after pgbench's end that took are the index's lag). Here the instances, HAProxy, the store, the bench's PostgreSQL and pgbench "
    "all share this machine's {cpus} CPU(s): on a 2-core machine a second instance cannot add "
    "CPU, only a second process to schedule, so two/one is expected near 1 or below where one "
    "instance is bound by CPU; above 1, what bounds one instance is something else it waits "
    "on by itself (such as its strict journal's fdatasync), and two instances on two "
    "machines would add CPU as well.")
# Where in a run through HAProxy the store is sampled: after this share of the run (the
# clients connected, the journal's index steady) and this share before its end.
STORE_SAMPLE_LEAD = 0.2
STORE_SAMPLE_TAIL = 0.1
# After a run, the index is caught up once audit_events stops growing for this long (the
# index thread gathers records for 50 ms per transaction), or this much time has passed.
STORE_SETTLE_S = 2.0
STORE_SETTLE_LIMIT_S = 60.0
STORE_POLL_S = 0.25
# What kubectl get asks for without -o (its Accept header), and with -o json.
ACCEPT_TABLE = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
ACCEPT_JSON = "application/json"
# The gateways take the token through mysql_clear_password, which Debian's libmariadb (that
# sysbench links) keeps in a plugin file loaded on first use; when sysbench's threads connect
# at once, every thread but the first can fail with "Plugin mysql_clear_password could not be
# loaded: it is already loaded". Named here, the library loads it once, at its initialisation.
SYSBENCH_ENVIRONMENT = {"LIBMYSQL_PLUGINS": "mysql_clear_password"}

# Share of transactions pgbench writes to its per-transaction log (for p99). Writing every
# line of a 60k TPS run costs pgbench a few per cent of a core that the targets need; one in
# ten still leaves thousands of samples per run. Slow workloads log everything.
SAMPLING_FAST = 0.1
SAMPLING_ALL = 1.0

# The performance goals, as ratios within one run (see check_goals).
GOAL_PASS_VS_PGBOUNCER = 1.0         # 1. gw-pass TPS vs PgBouncer, 8 and 32 clients
GOAL_FULL_BATCHED_VS_PGBOUNCER = 1.0  # 2. gw-full-batched TPS vs PgBouncer, 8 and 32 clients
GOAL_FULL_STRICT_VS_LIMIT = 0.9      # 3. gw-full TPS vs the group-commit limit
GOAL_PASS_LATENCY_VS_RELAY = 1.1     # 4. gw-pass single-client mean latency vs the relay
GOAL_IDLE_KIB = 16.0                 # 5. RSS per idle client connection, TLS included
GOAL_CPU_VS_PGBOUNCER = 1.0          # 6. gw-full CPU per transaction vs PgBouncer
GOAL_MYSQL_FULL_VS_RELAY = 0.9       # 7. MySQL gw-full TPS vs the relay, sysbench (issue 16)
GOAL_SSH_CONNECT_VS_DIRECT = 1.2     # 8. SSH: mean time per connection vs direct, at most
GOAL_SSH_THROUGHPUT_VS_DIRECT = 0.8  # 9. SSH: `cat` throughput with masking vs direct, at least
GOAL_KUBE_VS_DIRECT = 1.2            # 10, 11. Kubernetes: mean latency vs direct, at most
MULTI_CLIENTS = (8, 32)
# Gateways whose memory per idle connection goal 5 bounds.
IDLE_GOAL_TARGETS = ["gw-pass", "gw-full", "gw-tls"]

# fdatasync timing: a file preallocated to this size, then one block per sample.
FSYNC_FILE_BYTES = 4 << 20
FSYNC_BLOCK_BYTES = 4096


def workloads(pii_script, ssh=None, kube=None):
    return (postgres_workloads(pii_script) + mysql_workloads() + ssh_workloads(ssh or {})
            + kube_workloads(kube or {}) + instances_workloads())


def instances_workloads():
    """pgbench's select-only (prepared, 8 and 32 clients) and TPC-B (8 clients) through
    HAProxy to one and to two instances; PostgreSQL workloads, reported apart."""
    out = []
    for clients in (8, 32):
        out.append({
            "name": f"ha-select-prepared-{clients}",
            "family": "ha-select-prepared",
            "group": INSTANCES_FAMILY,
            "title": f"`-S -M prepared`, {clients} clients",
            "args": ["-S", "-M", "prepared"],
            "clients": clients,
            "targets": INSTANCES_TARGETS,
            "sampling": SAMPLING_FAST,
        })
    out.append({
        "name": "ha-tpcb-8",
        "family": "ha-tpcb",
        "group": INSTANCES_FAMILY,
        "title": "TPC-B (default script), 8 clients",
        "args": [],
        "clients": 8,
        "targets": INSTANCES_TARGETS,
        "sampling": SAMPLING_ALL,
    })
    return out


def in_matrix(workload):
    """The PostgreSQL matrix that the group-commit limit and the goals cover: every PostgreSQL
    workload but the instances ones, which have goals of their own to none."""
    return workload.get("group") != INSTANCES_FAMILY


def kube_workloads(kube):
    """Kubernetes: each workload is timed two ways per target and repeat. `kubectl` runs the
    command --kube-runs times in a row (process start to exit, so kubectl's own start-up,
    kubeconfig, TLS handshake and decoding are in every figure, as a user sees them); `http`
    sends the same request (the same path and Accept header as kubectl) --kube-requests times
    over one kept-alive HTTPS connection with http.client and reads the whole body, which leaves
    only the request's own latency."""
    pods = kube.get("pods", 0)
    return [
        {"name": "kube-get", "family": "kube-get", "protocol": "kubernetes", "tool": "kubectl",
         "title": "`kubectl get pods -n prod` (5 pods, Table)",
         "args": ["get", "pods", "-n", "prod"],
         "path": "/api/v1/namespaces/prod/pods", "accept": ACCEPT_TABLE,
         "clients": 1, "targets": KUBE_TARGETS},
        {"name": "kube-list-json", "family": "kube-list", "protocol": "kubernetes",
         "tool": "kubectl",
         "title": f"`kubectl get pods -n bench -o json` ({pods} pods, whole JSON list)",
         "args": ["get", "pods", "-n", "bench", "-o", "json"],
         "path": "/api/v1/namespaces/bench/pods", "accept": ACCEPT_JSON,
         "clients": 1, "targets": KUBE_TARGETS},
        {"name": "kube-list-table", "family": "kube-list", "protocol": "kubernetes",
         "tool": "kubectl",
         "title": f"`kubectl get pods -n bench` ({pods} pods, Table)",
         "args": ["get", "pods", "-n", "bench"],
         "path": "/api/v1/namespaces/bench/pods", "accept": ACCEPT_TABLE,
         "clients": 1, "targets": KUBE_TARGETS},
    ]


def ssh_workloads(ssh):
    """Connection set-up and bulk output, through OpenSSH's client, one session at a time.

    ssh-connect runs `ssh … true` --ssh-connections times in a row per target and repeat (key
    exchange, authentication, one exec request, exit status, close); ssh-throughput runs
    `ssh … 'cat FILE'` --ssh-transfers times, the output to /dev/null, FILE being a text file
    with PII-like lines in the sshd user's home (scripts/bench.sh makes it).
    """
    file = ssh.get("file", "FILE")
    size_mb = ssh.get("file_bytes", 0) / 1e6
    return [
        {
            "name": "ssh-connect",
            "family": "ssh-connect",
            "protocol": "ssh",
            "tool": "ssh",
            "title": "`ssh … true`, one connection after another",
            "args": ["true"],
            "clients": 1,
            "targets": SSH_TARGETS,
        },
        {
            "name": "ssh-throughput",
            "family": "ssh-throughput",
            "protocol": "ssh",
            "tool": "ssh",
            "title": f"`ssh … 'cat FILE'`, {size_mb:.0f} MB of text with PII, to /dev/null",
            "args": [f"cat {file}"],
            "clients": 1,
            "targets": SSH_TARGETS,
        },
    ]


def mysql_workloads():
    """sysbench's OLTP read workloads, 8 clients, with the text and the binary protocol.

    --db-ps-mode=disable sends every statement as COM_QUERY text; auto (sysbench's default)
    prepares each statement once per connection (COM_STMT_PREPARE) and runs it with
    COM_STMT_EXECUTE. oltp_read_only's transaction is BEGIN, ten point selects, four range
    selects (plain, SUM, ORDER BY, DISTINCT; 100 rows each) and COMMIT.
    """
    out = []
    for script, short in (("oltp_point_select", "point-select"),
                          ("oltp_read_only", "read-only")):
        for mode, ps_mode in (("text", "disable"), ("prepared", "auto")):
            out.append({
                "name": f"my-{short}-{mode}-8",
                "family": f"my-{short}-{mode}",
                "protocol": "mysql",
                "tool": "sysbench",
                "title": f"`{script} --db-ps-mode={ps_mode}`, 8 clients",
                "args": [script, f"--db-ps-mode={ps_mode}"],
                "clients": 8,
                "targets": MYSQL_TARGETS,
            })
    return out


def postgres_workloads(pii_script):
    out = []
    for mode in ("simple", "prepared"):
        for clients in (1, 8, 32):
            out.append({
                "name": f"select-{mode}-{clients}",
                "family": f"select-{mode}",
                "title": f"`-S -M {mode}`, {clients} client{'s' if clients > 1 else ''}",
                "args": ["-S", "-M", mode],
                "clients": clients,
                "targets": STANDARD_TARGETS,
                "sampling": SAMPLING_FAST,
            })
    out.append({
        "name": "tpcb-8",
        "family": "tpcb",
        "title": "TPC-B (default script), 8 clients",
        "args": [],
        "clients": 8,
        "targets": STANDARD_TARGETS,
        "sampling": SAMPLING_ALL,
    })
    out.append({
        "name": "pii-1000-rows-8",
        "family": "pii-1000-rows",
        "title": "1000 PII rows per transaction (`-M prepared`), 8 clients",
        "args": ["-M", "prepared", "-f", pii_script],
        "clients": 8,
        "targets": PII_TARGETS,
        "sampling": SAMPLING_ALL,
    })
    return out


def round_trip_workloads(workload_list):
    """Single-client runs of direct that give the round trip of the group-commit limit.

    For every multi-client workload through gw-full whose family has no single-client workload
    with direct in workload_list, a direct-only run of the same pgbench arguments at 1 client
    (for example tpcb-1). Appended to the run list; their rows are marked as references.
    """
    have = {w["family"] for w in workload_list if w["clients"] == 1 and "direct" in w["targets"]}
    out = []
    for w in workload_list:
        if (w["clients"] in MULTI_CLIENTS and "gw-full" in w["targets"] and in_matrix(w)
                and w["family"] not in have):
            have.add(w["family"])
            title = re.sub(r",? \d+ clients?$", "", w["title"])
            out.append({
                "name": f"{w['family']}-1",
                "family": w["family"],
                "title": f"{title}, 1 client (direct only: round trip for the group-commit limit)",
                "args": w["args"],
                "clients": 1,
                "targets": ["direct"],
                "sampling": w["sampling"],
                "reference": True,
            })
    return out


def say(text):
    print(text, file=sys.stderr, flush=True)


def fail(text):
    say(f"bench: {text}")
    sys.exit(1)


def clock_ticks():
    return os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of every thread of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / clock_ticks()


def proxy_pids(target):
    """The processes whose CPU a target's runs are charged: HAProxy and the instances behind
    it (cpu_pids), else the one proxy process."""
    if target.get("cpu_pids"):
        return target["cpu_pids"]
    return [target["pid"]] if target.get("pid") else []


def proxy_cpu_seconds(target):
    pids = proxy_pids(target)
    if not pids or not all(alive(pid) for pid in pids):
        return None
    return sum(cpu_seconds(pid) for pid in pids)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def tail(path, lines=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def check_alive(target):
    for pid in [target.get("pid"), *target.get("cpu_pids", [])]:
        if pid and not alive(pid):
            log = target.get("log", "")
            fail(f"{target['label']} (pid {pid}) has exited; last lines of {log}:\n{tail(log)}")


def store_sample(store):
    """The state database's committed transactions (pg_stat_database, as of its backends'
    last report: PostgreSQL 15 flushes a busy backend's counters about once a second) and the
    journal records its index holds; with the time of the sample."""
    query = ("SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = "
             "current_database()), (SELECT count(*) FROM audit_events), "
             "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
             "pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction'))")
    started = time.monotonic()
    done = subprocess.run([store["psql"], "-X", "-A", "-t", "-q", "-h", store["host"], "-p",
                           str(store["port"]), "-U", store["user"], "-d", store["state_db"],
                           "-c", query], capture_output=True, text=True, timeout=30)
    at = (started + time.monotonic()) / 2
    if done.returncode != 0:
        raise OSError(f"psql on the state database: {done.stderr.strip()}")
    commits, records, busy = done.stdout.strip().split("|")
    return {"at": at, "commits": int(commits), "records": int(records), "busy": int(busy)}


class StoreSampler:
    """Samples the state store twice during a run of DURATION seconds, in a thread: a share
    STORE_SAMPLE_LEAD into it and STORE_SAMPLE_TAIL before its end, so that neither the
    clients' connecting nor the index's last flush after the run is in the window: the rates
    the store took while the run went on. Also the journal records the whole run added, from
    just before it to when the index has caught up after it."""

    def __init__(self, store, duration):
        self.store = store
        self.duration = duration
        self.samples = []
        self.error = None
        self.before = None
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        try:
            self.before = store_sample(self.store)
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            self.error = str(e)
        self.started = time.monotonic()
        self.thread.start()

    def settled(self):
        """The sample at which audit_events reached the count it then kept for STORE_SETTLE_S,
        no other connection to the state database running a statement or inside a transaction
        meanwhile (the index had caught up: a large batch can take longer than that to insert),
        and whether that happened within STORE_SETTLE_LIMIT_S."""
        deadline = time.monotonic() + STORE_SETTLE_LIMIT_S
        first = store_sample(self.store)
        while time.monotonic() < deadline:
            time.sleep(STORE_POLL_S)
            now = store_sample(self.store)
            if now["records"] != first["records"] or now["busy"] or first["busy"]:
                first = now
            elif now["at"] - first["at"] >= STORE_SETTLE_S:
                return first, True
        return first, False

    def run(self):
        try:
            for offset in (self.duration * STORE_SAMPLE_LEAD,
                           self.duration * (1 - STORE_SAMPLE_TAIL)):
                time.sleep(max(0.0, self.started + offset - time.monotonic()))
                self.samples.append(store_sample(self.store))
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            self.error = str(e)

    def result(self, transactions, ended):
        self.thread.join()
        if self.error or len(self.samples) != 2:
            return {"store_error": self.error or "no samples"}
        try:
            after, caught_up = self.settled()
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            return {"store_error": str(e)}
        run_records = after["records"] - self.before["records"]
        # 0 when the index had caught up by the first sample after the run.
        catch_up = max(0.0, after["at"] - ended)
        first, last = self.samples
        window = last["at"] - first["at"]
        commits = last["commits"] - first["commits"]
        records = last["records"] - first["records"]
        return {
            "store_run_records": run_records,
            "store_records_per_tx": (round(run_records / transactions, 2)
                                     if transactions else None),
            "store_catch_up_s": round(catch_up, 1),
            "store_caught_up": caught_up,
            "store_window_s": round(window, 2),
            "store_commits": commits,
            "store_records": records,
            "store_commits_per_s": round(commits / window, 1),
            "store_records_per_s": round(records / window, 1),
            "store_records_per_commit": round(records / commits, 2) if commits else None,
        }


def conninfo(setup, target):
    return (f"host={setup['host']} port={target['port']} user={target['user']} "
            f"dbname={target['dbname']} sslmode=disable connect_timeout=10")


def environment(target):
    env = dict(os.environ)
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSSLMODE", "PGPASSWORD"):
        env.pop(key, None)
    if target.get("password"):
        env["PGPASSWORD"] = target["password"]
    return env


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values))) - 1))
    return sorted_values[index]


def read_latencies_us(prefix):
    """Per-transaction latencies from pgbench --log files (one per pgbench thread)."""
    values = []
    for path in glob.glob(prefix + ".*"):
        with open(path) as f:
            for line in f:
                # client_id transaction_no time script_no time_epoch time_us
                parts = line.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    values.append(int(parts[2]))
    values.sort()
    return values


def parse_pgbench(text):
    def number(pattern):
        match = re.search(pattern, text)
        return float(match.group(1)) if match else None

    return {
        "tps": number(r"tps = ([0-9.]+) \(without initial connection time\)"),
        "latency_mean_ms": number(r"latency average = ([0-9.]+) ms"),
        "transactions": number(r"number of transactions actually processed: ([0-9]+)"),
        "failed": number(r"number of failed transactions: ([0-9]+)"),
    }


def run_pgbench(setup, target, workload, duration, log_dir, sampling=None, store=None):
    clients = workload["clients"]
    jobs = min(clients, os.cpu_count() or 1)
    prefix = os.path.join(log_dir, "tx")
    for old in glob.glob(prefix + ".*"):
        os.remove(old)
    command = [setup["pgbench"], "-n", *workload["args"], "-c", str(clients), "-j", str(jobs),
               "-T", str(duration)]
    if sampling is not None:
        command += ["--log", f"--log-prefix={prefix}"]
        if sampling < 1.0:
            command.append(f"--sampling-rate={sampling}")
    command.append(conninfo(setup, target))
    cpu_before = proxy_cpu_seconds(target)
    sampler = StoreSampler(store, duration) if store else None
    started = time.monotonic()
    if sampler:
        sampler.start()
    try:
        done = subprocess.run(command, env=environment(target), capture_output=True, text=True,
                              timeout=duration + 120)
    except subprocess.TimeoutExpired:
        return {"error": f"pgbench did not finish within {duration + 120} s"}
    elapsed = time.monotonic() - started
    cpu_after = proxy_cpu_seconds(target) if cpu_before is not None else None
    result = parse_pgbench(done.stdout)
    result["wall_s"] = round(elapsed, 2)
    if sampler:
        result.update(sampler.result(result["transactions"], started + elapsed))
    if done.returncode != 0 or result["tps"] is None or not result["transactions"]:
        lines = (done.stderr.strip() or done.stdout.strip()).splitlines()
        return {"error": f"pgbench exited with {done.returncode}: " + " | ".join(lines[-4:])}
    if result["failed"]:
        result["error"] = f"{int(result['failed'])} failed transactions"
    if sampling is not None:
        latencies = read_latencies_us(prefix)
        result["latency_samples"] = len(latencies)
        p99 = percentile(latencies, 0.99)
        result["latency_p99_ms"] = round(p99 / 1000, 3) if p99 is not None else None
    if cpu_before is not None and cpu_after is not None:
        cpu = cpu_after - cpu_before
        result["proxy_cpu_s"] = round(cpu, 2)
        result["proxy_cpu_s_per_1000_tx"] = round(cpu / result["transactions"] * 1000, 4)
    return result


def parse_sysbench(text):
    def number(pattern):
        match = re.search(pattern, text)
        return float(match.group(1)) if match else None

    return {
        "tps": number(r"transactions:\s+\d+\s+\(([0-9.]+) per sec\.\)"),
        "qps": number(r"queries:\s+\d+\s+\(([0-9.]+) per sec\.\)"),
        "latency_mean_ms": number(r"avg:\s+([0-9.]+)"),
        "latency_p99_ms": number(r"99th percentile:\s+([0-9.]+)"),
        "transactions": number(r"transactions:\s+(\d+)"),
        "ignored_errors": number(r"ignored errors:\s+(\d+)"),
        "reconnects": number(r"reconnects:\s+(\d+)"),
    }


def run_sysbench(setup, target, workload, duration):
    """One sysbench run; p99 from sysbench's own latency histogram (--percentile=99).

    The password (a gateway token through the gateways) is on sysbench's command line, which
    has no other way to take it: both are throw-away values of this run's scratch folder.
    """
    meta = setup["meta"]
    command = [setup["sysbench"], *workload["args"], "--db-driver=mysql",
               f"--mysql-host={setup['host']}", f"--mysql-port={target['port']}",
               f"--mysql-user={target['user']}", f"--mysql-password={target['password'] or ''}",
               f"--mysql-db={target['dbname']}", "--mysql-ssl=off",
               "--mysql-ignore-errors=none",
               f"--tables={meta['sysbench_tables']}", f"--table-size={meta['sysbench_table_size']}",
               f"--threads={workload['clients']}", f"--time={duration}", "--percentile=99",
               "run"]
    pid = target.get("pid")
    cpu_before = cpu_seconds(pid) if pid else None
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=dict(os.environ) | SYSBENCH_ENVIRONMENT,
                              capture_output=True, text=True, timeout=duration + 120)
    except subprocess.TimeoutExpired:
        return {"error": f"sysbench did not finish within {duration + 120} s"}
    elapsed = time.monotonic() - started
    cpu_after = cpu_seconds(pid) if pid and alive(pid) else None
    result = parse_sysbench(done.stdout)
    result["wall_s"] = round(elapsed, 2)
    if done.returncode != 0 or result["tps"] is None or not result["transactions"]:
        lines = [line for line in (done.stdout + done.stderr).splitlines()
                 if "FATAL" in line or "error" in line.lower()]
        lines = lines or (done.stderr.strip() or done.stdout.strip()).splitlines()
        return {"error": f"sysbench exited with {done.returncode}: " + " | ".join(lines[-4:])}
    if result["ignored_errors"] or result["reconnects"]:
        result["error"] = (f"{int(result['ignored_errors'] or 0)} ignored errors, "
                           f"{int(result['reconnects'] or 0)} reconnects")
    if cpu_before is not None and cpu_after is not None:
        cpu = cpu_after - cpu_before
        result["proxy_cpu_s"] = round(cpu, 2)
        result["proxy_cpu_s_per_1000_tx"] = round(cpu / result["transactions"] * 1000, 4)
    return result


def ssh_command(target, command):
    return [*target["ssh"], command]


def run_ssh(setup, target, workload, count):
    """COUNT sessions of `ssh … COMMAND` in a row; the wall time of each, in seconds.

    Output goes to /dev/null; a session that exits non-zero (or says anything on stderr, with
    LogLevel=ERROR) fails the run. CPU of the proxy process, when the target has one.
    """
    pid = target.get("pid") if target.get("proxy") else None
    cpu_before = cpu_seconds(pid) if pid else None
    times = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            done = subprocess.run(ssh_command(target, workload["args"][0]),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=600)
        except subprocess.TimeoutExpired:
            return {"error": "ssh did not finish within 600 s"}
        elapsed = time.perf_counter() - started
        if done.returncode != 0 or done.stderr.strip():
            text = done.stderr.decode(errors="replace").strip().splitlines()
            return {"error": f"ssh exited with {done.returncode}: " + " | ".join(text[-4:])}
        times.append(elapsed)
    cpu_after = cpu_seconds(pid) if pid and alive(pid) else None
    result = {"sessions": count, "wall_s": round(sum(times), 3)}
    if workload["name"] == "ssh-connect":
        result["connect_ms"] = [round(t * 1000, 3) for t in times]
        result["connect_mean_ms"] = round(statistics.fmean(times) * 1000, 3)
    else:
        size = setup["ssh"]["file_bytes"]
        result["file_bytes"] = size
        result["mb_per_s"] = [round(size / 1e6 / t, 2) for t in times]
    if cpu_before is not None and cpu_after is not None:
        result["proxy_cpu_s"] = round(cpu_after - cpu_before, 3)
        result["proxy_cpu_s_per_session"] = round((cpu_after - cpu_before) / count, 4)
    return result


def check_ssh_masking(setup, targets):
    """The first megabyte of the PII file, directly and through the gateway: the gateway's
    copy must have lost the e-mail addresses that the direct one shows (masking is on)."""
    command = f"head -c 1000000 {setup['ssh']['file']}"
    pattern = re.compile(rb"[a-z0-9.]+@example\.(?:com|org|net)")
    counts = {}
    for name in SSH_TARGETS:
        done = subprocess.run(ssh_command(targets[name], command), stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=120)
        if done.returncode != 0:
            fail(f"ssh through {targets[name]['label']} failed: "
                 f"{done.stderr.decode(errors='replace').strip()}")
        counts[name] = {"bytes": len(done.stdout), "emails": len(pattern.findall(done.stdout))}
    if counts["ssh-direct"]["emails"] == 0:
        fail("the SSH benchmark file holds no e-mail address: nothing for masking to do")
    if counts["ssh-gw"]["emails"] >= counts["ssh-direct"]["emails"]:
        fail(f"the gateway did not mask the SSH output: {counts}")
    return counts


def kubectl_command(target, args):
    kube = target["kube"]
    return ["kubectl", "--kubeconfig", kube["kubeconfig"], "--cache-dir", kube["cache_dir"],
            *args]


def kubectl_environment(target):
    """No user kubeconfig or cache: HOME is the target's own folder."""
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = target["kube"]["home"]
    return env


def kube_connection(target):
    kube = target["kube"]
    context = ssl.create_default_context(cafile=kube["ca_file"])
    return http.client.HTTPSConnection(kube["host"], kube["port"], context=context, timeout=120)


def kube_get(conn, target, workload):
    """One request on CONN; the body, whole. Raises on anything but 200."""
    kube = target["kube"]
    conn.request("GET", kube["prefix"] + workload["path"],
                 headers={"Authorization": f"Bearer {kube['token']}",
                          "Accept": workload["accept"], "User-Agent": "portcullis-bench"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise OSError(f"HTTP {response.status}: {body[:300].decode(errors='replace')}")
    return body


def run_kube(setup, target, workload, runs, requests):
    """RUNS kubectl commands in a row, then REQUESTS raw requests over one connection (its
    set-up, handshake and the gateway's admission of the session, is timed apart and left out of
    the per-request figures). Wall time of each in ms, and the gateway's CPU for each part."""
    pid = target.get("pid") if target.get("proxy") else None
    result = {}
    cpu_before = cpu_seconds(pid) if pid else None
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        try:
            done = subprocess.run(kubectl_command(target, workload["args"]),
                                  env=kubectl_environment(target), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
        except subprocess.TimeoutExpired:
            return {"error": "kubectl did not finish within 300 s"}
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            text = done.stderr.decode(errors="replace").strip().splitlines()
            return {"error": f"kubectl exited with {done.returncode}: " + " | ".join(text[-4:])}
        times.append(elapsed)
    result["kubectl_ms"] = [round(t * 1000, 3) for t in times]
    result["kubectl_mean_ms"] = round(statistics.fmean(times) * 1000, 3)
    if cpu_before is not None and alive(pid):
        result["proxy_cpu_ms_per_kubectl"] = round((cpu_seconds(pid) - cpu_before) / runs * 1000, 3)
    cpu_before = cpu_seconds(pid) if pid else None
    times = []
    size = 0
    try:
        started = time.perf_counter()
        conn = kube_connection(target)
        conn.connect()
        first = kube_get(conn, target, workload)
        result["http_first_ms"] = round((time.perf_counter() - started) * 1000, 3)
        size = len(first)
        for _ in range(requests):
            started = time.perf_counter()
            kube_get(conn, target, workload)
            times.append(time.perf_counter() - started)
        conn.close()
    except (OSError, http.client.HTTPException) as e:
        return {**result, "error": f"raw HTTP request failed: {e}"}
    result["http_ms"] = [round(t * 1000, 3) for t in times]
    result["http_mean_ms"] = round(statistics.fmean(times) * 1000, 3)
    result["response_bytes"] = size
    if cpu_before is not None and alive(pid):
        result["proxy_cpu_ms_per_request"] = round(
            (cpu_seconds(pid) - cpu_before) / (requests + 1) * 1000, 3)
    return result


def check_kube_masking(setup, targets):
    """The JSON list of namespace bench, directly and through the gateway: the same number of
    items, and the gateway's copy without the e-mail addresses that the direct one holds
    (redaction and masking are on)."""
    workload = next(w for w in kube_workloads(setup["kube"]) if w["name"] == "kube-list-json")
    pattern = re.compile(rb"[a-z0-9.-]+@example\.(?:com|org|net)")
    counts = {}
    for name in KUBE_TARGETS:
        conn = kube_connection(targets[name])
        try:
            body = kube_get(conn, targets[name], workload)
        except (OSError, http.client.HTTPException) as e:
            fail(f"listing pods through {targets[name]['label']} failed: {e}")
        finally:
            conn.close()
        counts[name] = {"bytes": len(body), "items": len(json.loads(body)["items"]),
                        "emails": len(pattern.findall(body))}
    if counts["kube-direct"]["emails"] == 0:
        fail("the bench pods hold no e-mail address: nothing for masking to do")
    if counts["kube-gw"]["items"] != counts["kube-direct"]["items"]:
        fail(f"the gateway's list has not the same pods as the direct one: {counts}")
    if counts["kube-gw"]["emails"] != 0:
        fail(f"the gateway did not mask the pod list: {counts}")
    return counts


def run_workload(setup, target, workload, duration, log_dir, sampling=None):
    if target["name"] in HA_TARGETS and "instances" in setup:
        return run_pgbench(setup, target, workload, duration, log_dir, sampling=sampling,
                           store=setup["instances"])
    if workload.get("tool") == "kubectl":
        return run_kube(setup, target, workload, setup["kube"]["runs"],
                        setup["kube"]["requests"])
    if workload.get("tool") == "ssh":
        count = (setup["ssh"]["connections"] if workload["name"] == "ssh-connect"
                 else setup["ssh"]["transfers"])
        return run_ssh(setup, target, workload, count)
    if workload.get("tool") == "sysbench":
        return run_sysbench(setup, target, workload, duration)
    return run_pgbench(setup, target, workload, duration, log_dir, sampling=sampling)


def measure_idle(setup, target, count):
    """RSS of the proxy with no client, with count/2 and with count idle clients."""
    pid = target["pid"]
    check_alive(target)
    password = target.get("password")
    host, port = setup["host"], target["port"]
    # One connection first, so that code paths touched once (the handshake, the backend
    # connect, the token check) are not counted as per-connection memory.
    tls = bool(target.get("tls"))
    warm = idle_connections.open_connection(host, port, target["user"], target["dbname"],
                                            password, tls=tls)
    idle_connections.close_connections([warm])
    time.sleep(0.5)
    socks = []
    try:
        before = rss_kib(pid)
        half = count // 2
        started = time.monotonic()
        for i in range(count):
            if i == half:
                time.sleep(0.5)
                at_half = rss_kib(pid)
            socks.append(idle_connections.open_connection(host, port, target["user"],
                                                          target["dbname"], password, tls=tls))
        opened_s = time.monotonic() - started
        time.sleep(1.0)
        after = rss_kib(pid)
    finally:
        idle_connections.close_connections(socks)
    return {
        "connections": count,
        "rss_before_kib": before,
        "rss_half_kib": at_half,
        "rss_after_kib": after,
        "kib_per_connection": round((after - before) / count, 2),
        "kib_per_connection_second_half": round((after - at_half) / (count - half), 2),
        "open_seconds": round(opened_s, 1),
    }


def measure_fsync(folder, samples):
    """Latency of a 4 KiB pwrite + fdatasync in folder, the way a journal appends and syncs.

    The file is preallocated and zero-filled (and synced) first, so that every sample flushes
    one data block and no block allocation; the blocks go at increasing offsets.
    """
    path = os.path.join(folder, f"fsync-probe.{os.getpid()}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        zeros = bytes(1 << 20)
        for offset in range(0, FSYNC_FILE_BYTES, len(zeros)):
            os.pwrite(fd, zeros, offset)
        os.fsync(fd)
        block = bytes(range(256)) * (FSYNC_BLOCK_BYTES // 256)
        latencies = []
        blocks = FSYNC_FILE_BYTES // FSYNC_BLOCK_BYTES
        for i in range(samples):
            started = time.perf_counter()
            os.pwrite(fd, block, (i % blocks) * FSYNC_BLOCK_BYTES)
            os.fdatasync(fd)
            latencies.append((time.perf_counter() - started) * 1e6)
    finally:
        os.close(fd)
        os.remove(path)
    return latencies


def fsync_summary(folder, latencies_us):
    if not latencies_us:
        return None
    ordered = sorted(latencies_us)
    return {
        "folder": folder,
        "samples": len(ordered),
        "block_bytes": FSYNC_BLOCK_BYTES,
        "mean_us": round(statistics.fmean(ordered), 1),
        "median_us": round(statistics.median(ordered), 1),
        "p99_us": round(percentile(ordered, 0.99), 1),
        "min_us": round(ordered[0], 1),
        "max_us": round(ordered[-1], 1),
    }


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": round(statistics.median(values), 4), "min": min(values),
            "max": max(values)}


def ssh_summary(runs, workload):
    """Every session of every repeat pooled: mean, p50 and p95 per connection; the median
    throughput with min–max; ratios against ssh-direct."""
    rows = {}
    for name in workload["targets"]:
        mine = [r for r in runs if r["workload"] == workload["name"] and r["target"] == name
                and "error" not in r]
        if not mine:
            continue
        row = {"repeats": len(mine)}
        cpu = [r["proxy_cpu_s_per_session"] for r in mine if "proxy_cpu_s_per_session" in r]
        row["proxy_cpu_s_per_session"] = summarize(cpu)
        if workload["name"] == "ssh-connect":
            times = sorted(t for r in mine for t in r["connect_ms"])
            row.update({"connections": len(times),
                        "connect_mean_ms": round(statistics.fmean(times), 3),
                        "connect_p50_ms": round(statistics.median(times), 3),
                        "connect_p95_ms": percentile(times, 0.95),
                        "connect_min_ms": times[0], "connect_max_ms": times[-1]})
        else:
            rates = [m for r in mine for m in r["mb_per_s"]]
            row.update({"transfers": len(rates), "mb_per_s": summarize(rates),
                        "mb_per_s_mean": round(statistics.fmean(rates), 2)})
        rows[name] = row
    for reference, suffix in (("ssh-direct", ""), ("ssh-direct-x25519", "_x25519")):
        direct = rows.get(reference)
        for name, row in rows.items():
            if not direct or name == reference or (suffix and name != "ssh-gw"):
                continue
            if workload["name"] == "ssh-connect":
                for key in ("connect_mean_ms", "connect_p50_ms", "connect_p95_ms"):
                    row[key.replace("connect_", f"connect_vs_direct{suffix}_")
                        .replace("_ms", "")] = round(row[key] / direct[key], 3)
            else:
                row[f"mb_per_s_vs_direct{suffix}"] = round(
                    row["mb_per_s"]["median"] / direct["mb_per_s"]["median"], 3)
    return rows


def kube_summary(runs, workload):
    """Every kubectl run and every raw request of every repeat pooled: mean, p50 and p95 per
    target; the gateway's over direct's for each."""
    rows = {}
    for name in workload["targets"]:
        mine = [r for r in runs if r["workload"] == workload["name"] and r["target"] == name
                and "error" not in r]
        if not mine:
            continue
        row = {"repeats": len(mine), "response_bytes": mine[0].get("response_bytes")}
        for mode in ("kubectl", "http"):
            times = sorted(t for r in mine for t in r[f"{mode}_ms"])
            row[mode] = {"count": len(times), "mean_ms": round(statistics.fmean(times), 3),
                         "p50_ms": round(statistics.median(times), 3),
                         "p95_ms": percentile(times, 0.95), "min_ms": times[0],
                         "max_ms": times[-1]}
        row["http_first_ms"] = summarize([r.get("http_first_ms") for r in mine])
        row["proxy_cpu_ms_per_kubectl"] = summarize(
            [r.get("proxy_cpu_ms_per_kubectl") for r in mine])
        row["proxy_cpu_ms_per_request"] = summarize(
            [r.get("proxy_cpu_ms_per_request") for r in mine])
        rows[name] = row
    direct = rows.get("kube-direct")
    for name, row in rows.items():
        if not direct or name == "kube-direct":
            continue
        for mode in ("kubectl", "http"):
            for key in ("mean", "p50", "p95"):
                row[mode][f"{key}_vs_direct"] = round(
                    row[mode][f"{key}_ms"] / direct[mode][f"{key}_ms"], 3)
    return rows


def build_summary(runs, workload_list):
    summary = {}
    for workload in workload_list:
        if workload.get("protocol") == "kubernetes":
            summary[workload["name"]] = kube_summary(runs, workload)
            continue
        if workload.get("protocol") == "ssh":
            summary[workload["name"]] = ssh_summary(runs, workload)
            continue
        rows = {}
        for name in workload["targets"]:
            mine = [r for r in runs if r["workload"] == workload["name"] and r["target"] == name
                    and "tps" in r and r.get("tps") is not None]
            if not mine:
                continue
            rows[name] = {
                "tps": summarize([r["tps"] for r in mine]),
                **({"qps": summarize([r.get("qps") for r in mine])}
                   if workload.get("tool") == "sysbench" else {}),
                "latency_mean_ms": summarize([r["latency_mean_ms"] for r in mine]),
                "latency_p99_ms": summarize([r.get("latency_p99_ms") for r in mine]),
                "proxy_cpu_s_per_1000_tx": summarize(
                    [r.get("proxy_cpu_s_per_1000_tx") for r in mine]),
                "repeats": len(mine),
            }
            if name in HA_TARGETS:
                for key in ("store_commits_per_s", "store_records_per_s",
                            "store_records_per_commit", "store_records_per_tx",
                            "store_catch_up_s"):
                    rows[name][key] = summarize([r.get(key) for r in mine])
        references = (REFERENCES_MYSQL if workload.get("protocol") == "mysql"
                      else REFERENCES_POSTGRES)
        for name, row in rows.items():
            for reference in ("direct", "relay", "pgbouncer"):
                ref = rows.get(references.get(reference))
                key = f"tps_vs_{reference}"
                row[key] = (round(row["tps"]["median"] / ref["tps"]["median"], 3)
                            if ref and ref["tps"]["median"] else None)
            if workload.get("group") == INSTANCES_FAMILY:
                # Against the same controls without HAProxy, and against one instance.
                for reference in ("gw-full", "ha-one"):
                    ref = rows.get(reference)
                    row[f"tps_vs_{reference.replace('-', '_')}"] = (
                        round(row["tps"]["median"] / ref["tps"]["median"], 3)
                        if ref and ref["tps"]["median"] else None)
        summary[workload["name"]] = rows
    return summary


def median_of(summary, workload, target, key):
    stat = summary.get(workload, {}).get(target, {}).get(key)
    if isinstance(stat, dict):
        return stat.get("median")
    return stat


def group_commit_limits(summary, workload_list, fsync):
    """gw-full (strict journal) against the group-commit limit, per multi-client workload.

    With the strict journal a client's command is forwarded only once its event is on disk;
    one fdatasync commits the events of every client waiting at that moment (group commit).
    At best each client then spends, per transaction, one fdatasync plus one unloaded round
    trip to PostgreSQL, so that

        limit_tps = clients / (fsync_mean_s + direct_round_trip_s)

    where fsync_mean_s is the mean 4 KiB pwrite + fdatasync latency in the journal's folder
    (measured in this run) and direct_round_trip_s is the mean latency of direct, PostgreSQL
    without a hop, at 1 client with the same pgbench arguments (the workload's single-client
    sibling, or a direct-only reference run of it): the round trip without queueing, which the
    loaded latency at 8 or 32 clients on this machine is not. The formula counts one
    fdatasync per transaction, as the goal does; the journal waits for every command's event,
    so in TPC-B (seven commands per transaction) the limit overstates what strict can reach.
    """
    rows = []
    fsync_s = fsync["mean_us"] / 1e6 if fsync else None
    for w in workload_list:
        if w["clients"] not in MULTI_CLIENTS or "gw-full" not in w["targets"] or not in_matrix(w):
            continue
        single = next((x["name"] for x in workload_list
                       if x["family"] == w["family"] and x["clients"] == 1
                       and "direct" in x["targets"]), None)
        rtt_ms = median_of(summary, single, "direct", "latency_mean_ms") if single else None
        tps = median_of(summary, w["name"], "gw-full", "tps")
        limit = (w["clients"] / (fsync_s + rtt_ms / 1000)
                 if fsync_s is not None and rtt_ms else None)
        rows.append({
            "workload": w["name"],
            "title": w["title"],
            "clients": w["clients"],
            "fsync_mean_us": fsync["mean_us"] if fsync else None,
            "direct_round_trip_ms": rtt_ms,
            "round_trip_from": single,
            "limit_tps": round(limit, 1) if limit else None,
            "gw_full_tps": tps,
            "ratio": round(tps / limit, 3) if tps is not None and limit else None,
        })
    return rows


def verdict(parts):
    """A goal is met when every part is; not met when one is not; unknown otherwise."""
    if any(p["met"] is False for p in parts):
        return False
    if not parts or any(p["met"] is None for p in parts):
        return None
    return True


def goal(name, parts, protocol="postgres"):
    return {
        "goal": name,
        "protocol": protocol,
        "measured": "; ".join(p["measured"] for p in parts) or "not measured",
        "met": verdict(parts),
        "parts": parts,
    }


def check_goals(summary, all_workloads, idle, fsync, limits, protocols):
    """The performance goals, each over every workload (or proxy) that it covers.

    all_workloads is the whole suite, so that a goal whose workloads --only left out reads
    "not run" and is neither met nor failed. Only the goals of the protocols in `protocols`
    (those the run had workloads for) are returned: the six of issue 15 are PostgreSQL's, the
    seventh, of issue 16, MySQL's.
    """
    def workload_parts(selected, fn):
        return [fn(w) for w in all_workloads if selected(w)]

    def not_run(w):
        return {"workload": w["name"], "measured": f"{w['name']}: not run", "met": None}

    def metric_ratio(target, reference, key, describe, passes):
        """A part per workload: target's median `key` over reference's, judged by `passes`."""
        def part(w):
            if w["name"] not in summary:
                return not_run(w)
            mine = median_of(summary, w["name"], target, key)
            ref = median_of(summary, w["name"], reference, key)
            if mine is None or not ref:
                return {"workload": w["name"], "measured": f"{w['name']}: not measured",
                        "met": None}
            ratio = mine / ref
            return {"workload": w["name"], "ratio": round(ratio, 3),
                    "measured": f"{w['name']}: {ratio:.2f}× ({describe(mine, ref)})",
                    "met": passes(ratio)}
        return part

    def tps_ratio(target, reference, minimum):
        return metric_ratio(target, reference, "tps", lambda m, r: f"{m:.0f} vs {r:.0f} tps",
                            lambda ratio: ratio >= minimum)

    multi_vs_pgbouncer = (lambda w: w["clients"] in MULTI_CLIENTS
                          and "pgbouncer" in w["targets"])
    goals = []
    goals.append(goal(
        f"1. pass-through ≥ {GOAL_PASS_VS_PGBOUNCER:.1f}× PgBouncer (session) TPS, "
        f"8 and 32 clients, simple and prepared",
        workload_parts(multi_vs_pgbouncer,
                       tps_ratio("gw-pass", "pgbouncer", GOAL_PASS_VS_PGBOUNCER))))
    goals.append(goal(
        f"2. full controls, batched journal ≥ {GOAL_FULL_BATCHED_VS_PGBOUNCER:.1f}× PgBouncer "
        f"TPS, 8 and 32 clients",
        workload_parts(multi_vs_pgbouncer, tps_ratio("gw-full-batched", "pgbouncer",
                                                     GOAL_FULL_BATCHED_VS_PGBOUNCER))))

    by_workload = {row["workload"]: row for row in limits}

    def strict_part(w):
        row = by_workload.get(w["name"])
        if row is None:
            return not_run(w)
        if row["ratio"] is None:
            why = ("no fsync figure" if row["fsync_mean_us"] is None else
                   "no single-client direct latency" if row["direct_round_trip_ms"] is None else
                   "no gw-full figure")
            return {"workload": w["name"], "measured": f"{w['name']}: not measured ({why})",
                    "met": None}
        return {"workload": w["name"], "ratio": row["ratio"],
                "measured": f"{w['name']}: {row['ratio']:.2f}× ({row['gw_full_tps']:.0f} tps vs "
                            f"limit {row['limit_tps']:.0f} = {w['clients']} / "
                            f"({row['fsync_mean_us']:.0f} µs + "
                            f"{row['direct_round_trip_ms'] * 1000:.0f} µs))",
                "met": row["ratio"] >= GOAL_FULL_STRICT_VS_LIMIT}
    goals.append(goal(
        f"3. full controls, strict journal ≥ {GOAL_FULL_STRICT_VS_LIMIT:.1f}× the group-commit "
        f"limit clients ÷ (fsync + direct round trip), 8 and 32 clients",
        workload_parts(lambda w: w["clients"] in MULTI_CLIENTS and "gw-full" in w["targets"]
                       and in_matrix(w), strict_part)))

    latency_part = metric_ratio("gw-pass", "relay", "latency_mean_ms",
                                lambda m, r: f"{m:.3f} vs {r:.3f} ms",
                                lambda ratio: ratio <= GOAL_PASS_LATENCY_VS_RELAY)
    goals.append(goal(
        f"4. pass-through single-client mean latency ≤ {GOAL_PASS_LATENCY_VS_RELAY:.1f}× the "
        f"bare relay's, simple and prepared",
        workload_parts(lambda w: w["clients"] == 1 and "relay" in w["targets"]
                       and "gw-pass" in w["targets"], latency_part)))

    idle_parts = []
    for name in IDLE_GOAL_TARGETS:
        row = idle.get(name)
        if row is None:
            idle_parts.append({"target": name, "measured": f"{name}: not measured",
                               "met": None})
        elif "error" in row:
            idle_parts.append({"target": name, "measured": f"{name}: failed ({row['error']})",
                               "met": None})
        else:
            kib = row["kib_per_connection"]
            idle_parts.append({"target": name, "kib": kib,
                               "measured": f"{name}: {kib:.1f} KiB "
                                           f"({row['connections']} connections)",
                               "met": kib <= GOAL_IDLE_KIB})
    goals.append(goal(f"5. ≤ {GOAL_IDLE_KIB:.0f} KiB gateway RSS per idle client connection, "
                      f"TLS included", idle_parts))

    cpu_part = metric_ratio("gw-full", "pgbouncer", "proxy_cpu_s_per_1000_tx",
                            lambda m, r: f"{m * 1000:.1f} vs {r * 1000:.1f} CPU µs per tx",
                            lambda ratio: ratio <= GOAL_CPU_VS_PGBOUNCER)
    goals.append(goal(
        "6. gateway CPU per transaction with every control on (full controls, strict) ≤ "
        "PgBouncer's",
        workload_parts(lambda w: "gw-full" in w["targets"] and "pgbouncer" in w["targets"],
                       cpu_part)))

    goals.append(goal(
        f"7. MySQL: full controls, strict journal ≥ {GOAL_MYSQL_FULL_VS_RELAY:.1f}× the bare "
        f"relay's TPS, sysbench, 8 clients, text and prepared",
        workload_parts(lambda w: "my-gw-full" in w["targets"] and "my-relay" in w["targets"],
                       tps_ratio("my-gw-full", "my-relay", GOAL_MYSQL_FULL_VS_RELAY)),
        protocol="mysql"))

    def ssh_part(key, describe, passes):
        def part(w):
            if w["name"] not in summary:
                return not_run(w)
            row = summary[w["name"]].get("ssh-gw", {})
            ratio = row.get(key)
            if ratio is None:
                return {"workload": w["name"], "measured": f"{w['name']}: not measured",
                        "met": None}
            return {"workload": w["name"], "ratio": ratio,
                    "measured": f"{w['name']}: {ratio:.2f}× "
                                f"({describe(row, summary[w['name']]['ssh-direct'])})",
                    "met": passes(ratio)}
        return part

    goals.append(goal(
        f"8. SSH: mean time per connection through the gateway ≤ "
        f"{GOAL_SSH_CONNECT_VS_DIRECT:.1f}× direct, `ssh … true`",
        workload_parts(lambda w: w["name"] == "ssh-connect",
                       ssh_part("connect_vs_direct_mean",
                                lambda g, d: f"{g['connect_mean_ms']:.1f} vs "
                                             f"{d['connect_mean_ms']:.1f} ms",
                                lambda ratio: ratio <= GOAL_SSH_CONNECT_VS_DIRECT)),
        protocol="ssh"))
    goals.append(goal(
        f"9. SSH: `cat` throughput through the gateway, masking on, ≥ "
        f"{GOAL_SSH_THROUGHPUT_VS_DIRECT:.1f}× direct",
        workload_parts(lambda w: w["name"] == "ssh-throughput",
                       ssh_part("mb_per_s_vs_direct",
                                lambda g, d: f"{g['mb_per_s']['median']:.1f} vs "
                                             f"{d['mb_per_s']['median']:.1f} MB/s",
                                lambda ratio: ratio >= GOAL_SSH_THROUGHPUT_VS_DIRECT)),
        protocol="ssh"))

    def kube_part(mode):
        def part(w):
            if w["name"] not in summary:
                return not_run(w)
            row = summary[w["name"]].get("kube-gw", {}).get(mode, {})
            ratio = row.get("mean_vs_direct")
            if ratio is None:
                return {"workload": w["name"], "measured": f"{w['name']}: failed",
                        "met": False}
            direct = summary[w["name"]]["kube-direct"][mode]
            return {"workload": w["name"], "ratio": ratio,
                    "measured": f"{w['name']}: {ratio:.2f}× ({row['mean_ms']:.1f} vs "
                                f"{direct['mean_ms']:.1f} ms mean)",
                    "met": ratio <= GOAL_KUBE_VS_DIRECT}
        return part
    goals.append(goal(
        f"10. Kubernetes, kubectl end to end, read grant with redaction and masking: mean "
        f"latency ≤ {GOAL_KUBE_VS_DIRECT:.1f}× direct",
        workload_parts(lambda w: w.get("protocol") == "kubernetes", kube_part("kubectl")),
        protocol="kubernetes"))
    goals.append(goal(
        f"11. Kubernetes, the same requests over one kept-alive connection (no kubectl "
        f"start-up): mean latency ≤ {GOAL_KUBE_VS_DIRECT:.1f}× direct",
        workload_parts(lambda w: w.get("protocol") == "kubernetes", kube_part("http")),
        protocol="kubernetes"))
    return [g for g in goals if g["protocol"] in protocols]


def haproxy_sessions(path):
    """Sessions each HAProxy server took in all (stot of `show stat`) and its status: that
    leastconn spread the clients over both instances, and that every health check passed."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(b"show stat\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if line and row["svname"] not in ("FRONTEND", "BACKEND"):
            out[row["svname"]] = {"backend": row["pxname"], "sessions": int(row["stot"] or 0),
                                  "status": row["status"]}
    return out


def instances_report(setup, summary, workload_list):
    """The instances section of the JSON report: what was measured, HAProxy's version and,
    per workload, ha-two's TPS over ha-one's and the store's rates through each."""
    instances = setup["instances"]
    out = {"description": INSTANCES_DESCRIPTION.format(cpus=os.cpu_count()),
           "haproxy": instances["haproxy"],
           "balance": instances["balance"], "state_db": instances["state_db"],
           "cpus": os.cpu_count(), "workloads": {}}
    try:
        out["haproxy_servers"] = haproxy_sessions(instances["admin_socket"])
    except (OSError, KeyError, ValueError) as e:
        out["haproxy_servers"] = {"error": str(e)}
    for w in workload_list:
        if in_matrix(w):
            continue
        rows = summary.get(w["name"], {})
        one, two = rows.get("ha-one"), rows.get("ha-two")
        entry = {"two_vs_one_tps": two.get("tps_vs_ha_one") if two else None}
        for name, row in (("ha-one", one), ("ha-two", two)):
            if row:
                entry[name] = {"tps": row["tps"]["median"],
                               "store_commits_per_s": (row["store_commits_per_s"] or {}).get(
                                   "median"),
                               "store_records_per_s": (row["store_records_per_s"] or {}).get(
                                   "median"),
                               "store_records_per_tx": (row["store_records_per_tx"] or {}).get(
                                   "median")}
        out["workloads"][w["name"]] = entry
    return out


def fmt_range(stat, digits):
    if not stat:
        return "—"
    f = f"{{:.{digits}f}}"
    if stat["min"] == stat["max"]:
        return f.format(stat["median"])
    return f"{f.format(stat['median'])} ({f.format(stat['min'])}–{f.format(stat['max'])})"


def fmt_ratio(value):
    return "—" if value is None else f"{value:.2f}"


def markdown(report):
    labels = {t["name"]: t["label"] for t in report["targets"]}
    meta = report["meta"]
    out = []
    quick = meta["mode"] == "quick"
    kind = "QUICK-MODE VALIDATION, not a measurement" if quick else "full run"
    timed = any(w.get("protocol", "postgres") in ("postgres", "mysql")
                for w in report["workloads"])
    out.append(f"Run of {meta['date']} ({kind}): "
               + (f"{meta['duration_s']} s per run, " if timed else "")
               + f"{meta['repeats']} repeats interleaved, medians "
               f"with min–max; {meta['machine']['description']}; commit {meta['commit']}.")
    out.append("")
    postgres = [w for w in report["workloads"]
                if w.get("protocol", "postgres") == "postgres" and in_matrix(w)]
    instances = [w for w in report["workloads"] if not in_matrix(w)]
    mysql = [w for w in report["workloads"] if w.get("protocol") == "mysql"]
    ssh = [w for w in report["workloads"] if w.get("protocol") == "ssh"]
    kube = [w for w in report["workloads"] if w.get("protocol") == "kubernetes"]
    if postgres:
        out += postgres_table(report, postgres, labels)
    if mysql:
        out += mysql_table(report, mysql, labels)
    if ssh:
        out += ssh_table(report, ssh, labels)
    if kube:
        out += kube_table(report, kube, labels)
    if instances:
        out += instances_table(report, instances, labels)
    out += markdown_rest(report, labels)
    return "\n".join(out) + "\n"


def postgres_table(report, workload_list, labels):
    out = ["| workload | target | TPS | mean latency (ms) | p99 (ms) | × direct | × relay | "
           "× PgBouncer | proxy CPU s / 1000 tx |",
           "|---|---|---|---|---|---|---|---|---|"]
    for workload in workload_list:
        rows = report["summary"].get(workload["name"], {})
        for name in workload["targets"]:
            row = rows.get(name)
            if not row:
                out.append(f"| {workload['title']} | {labels[name]} | failed | | | | | | |")
                continue
            out.append(
                f"| {workload['title']} | {labels[name]} | {fmt_range(row['tps'], 0)} | "
                f"{fmt_range(row['latency_mean_ms'], 3)} | {fmt_range(row['latency_p99_ms'], 2)} | "
                f"{fmt_ratio(row['tps_vs_direct'])} | {fmt_ratio(row['tps_vs_relay'])} | "
                f"{fmt_ratio(row['tps_vs_pgbouncer'])} | "
                f"{fmt_range(row['proxy_cpu_s_per_1000_tx'], 3)} |")
    out.append("")
    return out


def mysql_table(report, workload_list, labels):
    """sysbench's figures: PostgreSQL's columns, queries per second added and no PgBouncer."""
    out = ["MySQL (MariaDB, sysbench; TPS is sysbench's transactions per second, p99 from its "
           "latency histogram):", "",
           "| workload | target | TPS | queries/s | mean latency (ms) | p99 (ms) | × direct | "
           "× relay | proxy CPU s / 1000 tx |",
           "|---|---|---|---|---|---|---|---|---|"]
    for workload in workload_list:
        rows = report["summary"].get(workload["name"], {})
        for name in workload["targets"]:
            row = rows.get(name)
            if not row:
                out.append(f"| {workload['title']} | {labels[name]} | failed | | | | | | |")
                continue
            out.append(
                f"| {workload['title']} | {labels[name]} | {fmt_range(row['tps'], 0)} | "
                f"{fmt_range(row.get('qps'), 0)} | {fmt_range(row['latency_mean_ms'], 3)} | "
                f"{fmt_range(row['latency_p99_ms'], 2)} | {fmt_ratio(row['tps_vs_direct'])} | "
                f"{fmt_ratio(row['tps_vs_relay'])} | "
                f"{fmt_range(row['proxy_cpu_s_per_1000_tx'], 3)} |")
    out.append("")
    return out


def ssh_table(report, workload_list, labels):
    """Per connection: mean, p50 and p95 over every connection of every repeat; throughput:
    the median transfer with min–max. × direct: the gateway's figure over direct's."""
    ssh = report.get("ssh", {})
    out = [f"SSH (OpenSSH client and a private sshd; {ssh.get('connections')} connections and "
           f"{ssh.get('transfers')} transfers per target and repeat; the gateway's CPU per "
           f"session from /proc):", "",
           "| workload | target | mean (ms) | p50 (ms) | p95 (ms) | MB/s | × direct | "
           "× direct, curve25519 | gateway CPU s / session |",
           "|---|---|---|---|---|---|---|---|---|"]

    def ms(value):
        return "—" if value is None else f"{value:.1f}"
    for workload in workload_list:
        rows = report["summary"].get(workload["name"], {})
        for name in workload["targets"]:
            row = rows.get(name)
            if not row:
                out.append(f"| {workload['title']} | {labels[name]} | failed | | | | | | |")
                continue
            if workload["name"] == "ssh-connect":
                x25519 = row.get("connect_vs_direct_x25519_mean")
                ratio = row.get("connect_vs_direct_mean")
                ratio_text = (f"{ratio:.2f} (p50 {row['connect_vs_direct_p50']:.2f}, "
                              f"p95 {row['connect_vs_direct_p95']:.2f})"
                              if ratio is not None else "1.00")
                out.append(f"| {workload['title']} | {labels[name]} | "
                           f"{ms(row['connect_mean_ms'])} | {ms(row['connect_p50_ms'])} | "
                           f"{ms(row['connect_p95_ms'])} | — | {ratio_text} | "
                           f"{fmt_ratio(x25519) if x25519 is not None else '—'} | "
                           f"{fmt_range(row['proxy_cpu_s_per_session'], 4)} |")
            else:
                ratio = row.get("mb_per_s_vs_direct")
                x25519 = row.get("mb_per_s_vs_direct_x25519")
                out.append(f"| {workload['title']} | {labels[name]} | — | — | — | "
                           f"{fmt_range(row['mb_per_s'], 1)} | "
                           f"{fmt_ratio(ratio) if ratio is not None else '1.00'} | "
                           f"{fmt_ratio(x25519) if x25519 is not None else '—'} | "
                           f"{fmt_range(row['proxy_cpu_s_per_session'], 2)} |")
    if ssh.get("masking_check"):
        check = ssh["masking_check"]
        out.append("")
        out.append(f"Masking check, first MB of the file: "
                   f"{check['ssh-direct']['emails']} e-mail addresses directly, "
                   f"{check['ssh-gw']['emails']} through the gateway.")
    out.append("")
    out.append("OpenSSH's client and sshd agree on sntrup761x25519-sha512 by default; the gateway "
               "offers curve25519-sha256 to the client and uses it with the sshd, as the second "
               "direct target does.")
    out.append("")
    return out


def kube_table(report, workload_list, labels):
    """kubectl runs and raw requests: mean, p50 and p95 over every one of every repeat;
    × direct: the gateway's figure over direct's (mean, then p50 and p95)."""
    kube = report.get("kubernetes", {})
    out = [f"Kubernetes (kubectl {kube.get('kubectl_version', '?')} and the stand-in API server "
           f"with {kube.get('pods')} pods in namespace bench; {kube.get('runs')} kubectl runs "
           f"and {kube.get('requests')} raw requests over one kept-alive connection per target "
           f"and repeat; the gateway's CPU from /proc):", "",
           "| workload | target | response | kubectl mean (ms) | p50 | p95 | × direct "
           "(p50, p95) | raw HTTP mean (ms) | p50 | p95 | × direct (p50, p95) | "
           "gateway CPU ms / kubectl, / request |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def ms(value):
        return "—" if value is None else f"{value:.1f}"

    def ratio(row):
        if "mean_vs_direct" not in row:
            return "1.00"
        return (f"{row['mean_vs_direct']:.2f} ({row['p50_vs_direct']:.2f}, "
                f"{row['p95_vs_direct']:.2f})")
    for workload in workload_list:
        rows = report["summary"].get(workload["name"], {})
        for name in workload["targets"]:
            row = rows.get(name)
            if not row:
                out.append(f"| {workload['title']} | {labels[name]} | failed | | | | | | | | | |")
                continue
            k, h = row["kubectl"], row["http"]
            cpu = "—"
            if row.get("proxy_cpu_ms_per_kubectl"):
                cpu = (f"{row['proxy_cpu_ms_per_kubectl']['median']:.1f}, "
                       f"{row['proxy_cpu_ms_per_request']['median']:.1f}")
            size = row.get("response_bytes") or 0
            size_text = f"{size / 1e6:.2f} MB" if size >= 100000 else f"{size / 1e3:.1f} kB"
            out.append(f"| {workload['title']} | {labels[name]} | "
                       f"{size_text} | {ms(k['mean_ms'])} | {ms(k['p50_ms'])} | "
                       f"{ms(k['p95_ms'])} | {ratio(k)} | {ms(h['mean_ms'])} | "
                       f"{ms(h['p50_ms'])} | {ms(h['p95_ms'])} | {ratio(h)} | {cpu} |")
    if kube.get("masking_check"):
        check = kube["masking_check"]
        out.append("")
        out.append(f"Masking check, the JSON list of namespace bench: "
                   f"{check['kube-direct']['emails']} e-mail addresses directly, "
                   f"{check['kube-gw']['emails']} through the gateway "
                   f"({check['kube-direct']['items']} and {check['kube-gw']['items']} pods).")
    out.append("")
    return out


def instances_table(report, workload_list, labels):
    """pgbench through HAProxy to one and two instances: PostgreSQL's columns, × gw-full and
    × one instance, CPU of HAProxy and the instances together, the store's rates."""
    instances = report.get("instances", {})
    out = [f"Several instances ({instances.get('haproxy', 'HAProxy')}, mode tcp, balance "
           f"{instances.get('balance', '?')}; the state in PostgreSQL database "
           f"{instances.get('state_db', '?')}; proxy CPU is HAProxy's and the instances' "
           f"together; the store's rates sampled during each run through HAProxy):", "",
           "| workload | target | TPS | mean latency (ms) | p99 (ms) | × direct | "
           "× full controls | × one instance | proxy CPU s / 1000 tx | store commits/s | "
           "store records/s | records per commit | records per pgbench tx | index caught up "
           "(s after the run) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for workload in workload_list:
        rows = report["summary"].get(workload["name"], {})
        for name in workload["targets"]:
            row = rows.get(name)
            if not row:
                out.append(f"| {workload['title']} | {labels[name]} | failed "
                           f"| | | | | | | | | | | |")
                continue
            out.append(
                f"| {workload['title']} | {labels[name]} | {fmt_range(row['tps'], 0)} | "
                f"{fmt_range(row['latency_mean_ms'], 3)} | {fmt_range(row['latency_p99_ms'], 2)} | "
                f"{fmt_ratio(row['tps_vs_direct'])} | {fmt_ratio(row.get('tps_vs_gw_full'))} | "
                f"{fmt_ratio(row.get('tps_vs_ha_one'))} | "
                f"{fmt_range(row['proxy_cpu_s_per_1000_tx'], 3)} | "
                f"{fmt_range(row.get('store_commits_per_s'), 0)} | "
                f"{fmt_range(row.get('store_records_per_s'), 0)} | "
                f"{fmt_range(row.get('store_records_per_commit'), 1)} | "
                f"{fmt_range(row.get('store_records_per_tx'), 2)} | "
                f"{fmt_range(row.get('store_catch_up_s'), 1)} |")
    out.append("")
    servers = instances.get("haproxy_servers", {})
    if servers and "error" not in servers:
        out.append("Sessions HAProxy gave each instance over the whole run (warm-up included): "
                   + ", ".join(f"{name} {row['sessions']} ({row['status']})"
                               for name, row in servers.items()) + ".")
        out.append("")
    if instances.get("description"):
        out.append(instances["description"])
        out.append("")
    return out


def markdown_rest(report, labels):
    """Idle memory, fdatasync, the group-commit limit and the goals."""
    out = []
    if report["idle"]:
        count = next(iter(report["idle"].values())).get("connections")
        out.append(f"Memory with {count} idle client connections held open:")
        out.append("")
        out.append("| target | RSS before (MiB) | RSS with all open (MiB) | KiB per connection | "
                   "KiB per connection, second half |")
        out.append("|---|---|---|---|---|")
        for name, row in report["idle"].items():
            if "error" in row:
                out.append(f"| {labels[name]} | failed: {row['error']} | | | |")
                continue
            out.append(f"| {labels[name]} | {row['rss_before_kib'] / 1024:.1f} | "
                       f"{row['rss_after_kib'] / 1024:.1f} | {row['kib_per_connection']:.1f} | "
                       f"{row['kib_per_connection_second_half']:.1f} |")
        out.append("")
    fsync = report.get("fsync")
    if fsync and "error" in fsync:
        out.append(f"fdatasync latency in the strict journal's folder: failed ({fsync['error']}).")
        out.append("")
    elif fsync:
        out.append(f"fdatasync latency in the strict journal's folder ({fsync['samples']} × "
                   f"{fsync['block_bytes'] // 1024} KiB pwrite + fdatasync into a preallocated "
                   f"file): mean {fsync['mean_us']:.0f} µs, median {fsync['median_us']:.0f} µs, "
                   f"p99 {fsync['p99_us']:.0f} µs.")
        out.append("")
    if report.get("group_commit"):
        out.append("Full controls with the strict journal against the group-commit limit "
                   "= clients ÷ (mean fdatasync latency + direct round trip), the direct round "
                   "trip being the mean latency of PostgreSQL without a hop at 1 client, same "
                   "pgbench arguments (one fdatasync commits the events of every waiting client, "
                   "so each client at best waits one fdatasync and one unloaded round trip per "
                   "transaction; TPC-B sends seven commands per transaction, each waiting for "
                   "its event, so its limit is an overstatement):")
        out.append("")
        out.append("| workload | clients | fdatasync (µs) | direct round trip (ms) | "
                   "limit (TPS) | full controls, strict (TPS) | × limit |")
        out.append("|---|---|---|---|---|---|---|")
        for row in report["group_commit"]:
            def num(value, digits):
                return "—" if value is None else f"{value:.{digits}f}"
            out.append(f"| {row['title']} | {row['clients']} | {num(row['fsync_mean_us'], 0)} | "
                       f"{num(row['direct_round_trip_ms'], 3)} | {num(row['limit_tps'], 0)} | "
                       f"{num(row['gw_full_tps'], 0)} | {fmt_ratio(row['ratio'])} |")
        out.append("")
    if not report["goals"]:
        return out
    out.append("| goal | measured | met |")
    out.append("|---|---|---|")
    for check in report["goals"]:
        verdict = {True: "met", False: "**not met**", None: "—"}[check["met"]]
        measured = "<br>".join(p["measured"] for p in check["parts"]) or "not measured"
        out.append(f"| {check['goal']} | {measured} | {verdict} |")
    return out


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    debian = ""
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        pass
    cpus = os.cpu_count()
    description = (f"{cpus} vCPU ({model}), {mem_kib / 1024 / 1024:.0f} GiB, "
                   f"Debian {debian or '?'}, Linux {platform.release()}")
    return {"cpus": cpus, "cpu_model": model, "memory_kib": mem_kib, "debian": debian,
            "kernel": platform.release(), "description": description}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", required=True, help="targets file from scripts/bench.sh")
    parser.add_argument("--json", required=True)
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--idle-connections", type=int, default=1000)
    parser.add_argument("--mode", default="full")
    parser.add_argument("--only", default="", help="comma-separated workload names")
    parser.add_argument("--fsync-dir", default="",
                        help="folder whose disk holds the strict journal, for the fdatasync "
                             "latency (default: the scratch folder of the targets file)")
    parser.add_argument("--fsync-samples", type=int, default=300,
                        help="pwrite + fdatasync samples per repeat (0: skip)")
    parser.add_argument("--ssh-connections", type=int, default=30,
                        help="sessions of `ssh … true` per target and repeat (ssh-connect)")
    parser.add_argument("--ssh-transfers", type=int, default=3,
                        help="sessions of `ssh … cat FILE` per target and repeat "
                             "(ssh-throughput)")
    parser.add_argument("--kube-runs", type=int, default=20,
                        help="kubectl runs per Kubernetes workload, target and repeat")
    parser.add_argument("--kube-requests", type=int, default=50,
                        help="raw HTTP requests per Kubernetes workload, target and repeat")
    args = parser.parse_args()
    if args.repeats < 1 or args.duration < 1:
        fail("--repeats and --duration must be at least 1")
    if args.fsync_samples < 0 or args.fsync_samples > FSYNC_FILE_BYTES // FSYNC_BLOCK_BYTES:
        fail(f"--fsync-samples must be between 0 and {FSYNC_FILE_BYTES // FSYNC_BLOCK_BYTES}")

    with open(args.targets) as f:
        setup = json.load(f)
    targets = {t["name"]: t for t in setup["targets"]}
    if "ssh" in setup:
        setup["ssh"]["connections"] = args.ssh_connections
        setup["ssh"]["transfers"] = args.ssh_transfers
    if "kube" in setup:
        setup["kube"]["runs"] = args.kube_runs
        setup["kube"]["requests"] = args.kube_requests
    if args.kube_runs < 1 or args.kube_requests < 1:
        fail("--kube-runs and --kube-requests must be at least 1")
    all_workloads = workloads(setup["pii_script"], setup.get("ssh"), setup.get("kube"))
    workload_list = list(all_workloads)
    if args.only:
        wanted = set(args.only.split(","))
        if MYSQL_FAMILY in wanted:
            wanted.discard(MYSQL_FAMILY)
            wanted |= {w["name"] for w in all_workloads if w.get("protocol") == "mysql"}
        if SSH_FAMILY in wanted:
            wanted.discard(SSH_FAMILY)
            wanted |= {w["name"] for w in all_workloads if w.get("protocol") == "ssh"}
        if KUBE_FAMILY in wanted:
            wanted.discard(KUBE_FAMILY)
            wanted |= {w["name"] for w in all_workloads if w.get("protocol") == "kubernetes"}
        if KUBE_LIST_FAMILY in wanted:
            wanted.discard(KUBE_LIST_FAMILY)
            wanted |= {w["name"] for w in all_workloads if w.get("family") == "kube-list"}
        if INSTANCES_FAMILY in wanted:
            wanted.discard(INSTANCES_FAMILY)
            wanted |= {w["name"] for w in all_workloads if w.get("group") == INSTANCES_FAMILY}
        known = all_workloads + round_trip_workloads(all_workloads)
        unknown = wanted - {w["name"] for w in known}
        if unknown:
            fail(f"unknown workloads: {', '.join(sorted(unknown))}")
        workload_list = [w for w in known if w["name"] in wanted]
    # The single-client direct runs that the group-commit limit needs and the list lacks.
    workload_list += round_trip_workloads(workload_list)
    fsync_dir = args.fsync_dir or setup["work_dir"]

    log_dir = tempfile.mkdtemp(prefix="pgbench-log.", dir=setup["work_dir"])
    started = time.monotonic()
    errors = []

    # Memory first, while the proxies are fresh: their allocators have not yet kept pages
    # from the throughput runs that the idle connections would reuse.
    idle = {}
    if args.idle_connections > 0 and all(name in targets for name in IDLE_TARGETS):
        try:
            idle_connections.raise_open_file_limit(args.idle_connections + 256)
        except idle_connections.ConnectError as e:
            fail(str(e))
        for name in IDLE_TARGETS:
            target = targets[name]
            say(f"==> {args.idle_connections} idle connections through {target['label']}")
            try:
                idle[name] = measure_idle(setup, target, args.idle_connections)
                say(f"    {idle[name]['kib_per_connection']:.1f} KiB per connection "
                    f"({idle[name]['open_seconds']} s to open)")
            except (OSError, idle_connections.ConnectError) as e:
                idle[name] = {"error": str(e)}
                errors.append(f"idle connections through {name}: {e}")
                say(f"    failed: {e}")
            check_alive(target)
            time.sleep(2.0)  # let the backends of the closed sessions exit

    # scripts/bench.sh starts PostgreSQL's targets or MariaDB's only when a chosen workload
    # needs them.
    run_postgres = any(w.get("protocol", "postgres") == "postgres" and in_matrix(w)
                       for w in workload_list)
    with_instances = any(not in_matrix(w) for w in workload_list)
    run_mysql = any(w.get("protocol") == "mysql" for w in workload_list)
    with_ssh = any(w.get("protocol") == "ssh" for w in workload_list)
    with_kube = any(w.get("protocol") == "kubernetes" for w in workload_list)
    if args.warmup > 0:
        say(f"==> Warming up every target ({args.warmup} s each)")
        for name in (STANDARD_TARGETS + ["gw-mask"]) if run_postgres else []:
            check_alive(targets[name])
            warm = {"args": ["-S", "-M", "prepared"], "clients": 2}
            result = run_pgbench(setup, targets[name], warm, args.warmup, log_dir)
            if "error" in result:
                fail(f"warm-up through {targets[name]['label']} failed: {result['error']}")
        # The references too when the PostgreSQL matrix did not warm them up.
        for name in [] if not with_instances else (
                HA_TARGETS if run_postgres else INSTANCES_TARGETS):
            check_alive(targets[name])
            warm = {"args": ["-S", "-M", "prepared"], "clients": 2}
            result = run_pgbench(setup, targets[name], warm, args.warmup, log_dir)
            if "error" in result:
                fail(f"warm-up through {targets[name]['label']} failed: {result['error']}")
        for name in MYSQL_TARGETS if run_mysql else []:
            check_alive(targets[name])
            warm = {"args": ["oltp_point_select"], "clients": 2, "tool": "sysbench"}
            result = run_sysbench(setup, targets[name], warm, args.warmup)
            if "error" in result:
                fail(f"warm-up through {targets[name]['label']} (MySQL) failed: "
                     f"{result['error']}")
        if with_ssh:
            for name in SSH_TARGETS:
                check_alive(targets[name])
                warm = {"name": "ssh-connect", "args": ["true"]}
                result = run_ssh(setup, targets[name], warm, 3)
                if "error" in result:
                    fail(f"warm-up through {targets[name]['label']} (SSH) failed: "
                         f"{result['error']}")
        # kubectl's first run fills its discovery cache; each workload once per target so that
        # the gateway's and the stand-in's first answers are out of the figures too.
        for name in KUBE_TARGETS if with_kube else []:
            check_alive(targets[name])
            for w in workload_list:
                if w.get("protocol") != "kubernetes":
                    continue
                result = run_kube(setup, targets[name], w, 2, 2)
                if "error" in result:
                    fail(f"warm-up through {targets[name]['label']} (Kubernetes) failed: "
                         f"{result['error']}")
        pii = next((w for w in workload_list if w["name"].startswith("pii")), None)
        if pii:
            result = run_pgbench(setup, targets["direct"], pii, args.warmup, log_dir)
            if "error" in result:
                fail(f"warm-up of the PII workload failed: {result['error']}")

    if with_ssh:
        setup["ssh"]["masking_check"] = check_ssh_masking(setup, targets)
        say(f"==> SSH masking check: {setup['ssh']['masking_check']}")
    if with_kube:
        setup["kube"]["masking_check"] = check_kube_masking(setup, targets)
        say(f"==> Kubernetes masking check: {setup['kube']['masking_check']}")

    runs = []
    fsync_latencies = []
    fsync_error = None
    total = sum(len(w["targets"]) for w in workload_list) * args.repeats
    done = 0
    for repeat in range(1, args.repeats + 1):
        # The disk's fdatasync latency, once per repeat, interleaved with the runs like them.
        # Only the PostgreSQL and MySQL goals need it.
        if (args.fsync_samples > 0 and fsync_error is None
                and (run_postgres or run_mysql or with_instances)):
            try:
                latencies = measure_fsync(fsync_dir, args.fsync_samples)
                fsync_latencies += latencies
                say(f"==> fdatasync in {fsync_dir}: mean {statistics.fmean(latencies):.0f} µs, "
                    f"median {statistics.median(latencies):.0f} µs ({len(latencies)} samples)")
            except OSError as e:
                fsync_error = str(e)
                errors.append(f"fdatasync timing in {fsync_dir}: {e}")
                say(f"==> fdatasync timing in {fsync_dir} failed: {e}")
        for workload in workload_list:
            order = list(workload["targets"])
            if repeat % 2 == 0:
                order.reverse()  # so that no target always runs first, after a warm cache
            for name in order:
                target = targets[name]
                check_alive(target)
                done += 1
                result = run_workload(setup, target, workload, args.duration, log_dir,
                                      sampling=workload.get("sampling"))
                result.update({"workload": workload["name"], "target": name, "repeat": repeat})
                runs.append(result)
                if "connect_ms" in result:
                    say(f"[{done}/{total}] repeat {repeat} {workload['name']:18} {name:15} "
                        f"{result['connect_mean_ms']:9.1f} ms mean over {result['sessions']} "
                        f"connections"
                        + (f"  {result['proxy_cpu_s_per_session'] * 1000:.1f} cpu-ms/connection"
                           if "proxy_cpu_s_per_session" in result else ""))
                if "mb_per_s" in result:
                    say(f"[{done}/{total}] repeat {repeat} {workload['name']:18} {name:15} "
                        f"{' '.join(f'{m:.1f}' for m in result['mb_per_s'])} MB/s"
                        + (f"  {result['proxy_cpu_s_per_session']:.2f} cpu-s/transfer"
                           if "proxy_cpu_s_per_session" in result else ""))
                if "http_ms" in result:
                    say(f"[{done}/{total}] repeat {repeat} {workload['name']:18} {name:15} "
                        f"kubectl {result['kubectl_mean_ms']:8.1f} ms mean, raw HTTP "
                        f"{result['http_mean_ms']:8.1f} ms mean"
                        + (f"  {result['proxy_cpu_ms_per_request']:.1f} cpu-ms/request"
                           if "proxy_cpu_ms_per_request" in result else ""))
                if "tps" in result and result.get("tps") is not None:
                    say(f"[{done}/{total}] repeat {repeat} {workload['name']:18} "
                        f"{name:15} {result['tps']:9.0f} tps  {result['latency_mean_ms']:7.3f} ms "
                        f"mean  {result.get('latency_p99_ms') or 0:7.2f} ms p99"
                        + (f"  {result['proxy_cpu_s_per_1000_tx']:.3f} cpu-s/1000tx"
                           if "proxy_cpu_s_per_1000_tx" in result else "")
                        + (f"  store {result['store_commits_per_s']:.0f} commits/s "
                           f"{result['store_records_per_s']:.0f} records/s"
                           if "store_commits_per_s" in result else ""))
                if "error" in result:
                    errors.append(f"{workload['name']} via {name}, repeat {repeat}: "
                                  f"{result['error']}")
                    say(f"[{done}/{total}] {workload['name']} via {name}: {result['error']}")

    shutil.rmtree(log_dir, ignore_errors=True)
    summary = build_summary(runs, workload_list)
    fsync = fsync_summary(fsync_dir, fsync_latencies)
    if fsync is None and fsync_error:
        fsync = {"folder": fsync_dir, "error": fsync_error}
    limits = group_commit_limits(summary, workload_list,
                                 fsync if fsync and "error" not in fsync else None)
    report = {
        "meta": {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "mode": args.mode,
            "duration_s": args.duration,
            "repeats": args.repeats,
            "warmup_s": args.warmup,
            "elapsed_s": round(time.monotonic() - started),
            "machine": machine(),
            **setup.get("meta", {}),
        },
        "targets": [{k: v for k, v in t.items() if k in ("name", "label", "description", "port")}
                    for t in setup["targets"]],
        "workloads": [{k: v for k, v in w.items() if k != "args"}
                      | {f"{w.get('tool', 'pgbench')}_args": w["args"]}
                      for w in workload_list],
        "runs": runs,
        "summary": summary,
        "idle": idle,
        "fsync": fsync,
        "group_commit_definition": " ".join(group_commit_limits.__doc__.split()),
        "group_commit": limits,
        "errors": errors,
    }
    if with_ssh:
        report["ssh"] = setup["ssh"]
    if with_kube:
        report["kubernetes"] = setup["kube"]
    if with_instances:
        report["instances"] = instances_report(setup, summary, workload_list)
    protocols = {w.get("protocol", "postgres") for w in workload_list if in_matrix(w)}
    report["goals"] = check_goals(summary, all_workloads, idle,
                                  fsync if fsync and "error" not in fsync else None, limits,
                                  protocols)
    for path in (args.json, args.markdown):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
    text = markdown(report)
    with open(args.markdown, "w") as f:
        f.write(text)
    print(text)
    if errors:
        say(f"bench: {len(errors)} run(s) failed:")
        for e in errors:
            say(f"  {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
