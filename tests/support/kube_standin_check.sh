#!/usr/bin/env bash
# Checks the stand-in Kubernetes API server (kube_standin_apiserver.py) with the real kubectl:
# makes a throw-away CA and server certificate, starts the stand-in on a free port, writes a
# kubeconfig with a bearer token, and runs the kubectl commands the gateway's Kubernetes front
# end will be tested with. Exits 1 at the first output that is not what a real API server
# would give, or when the stand-in wrote anything to stderr (a traceback). exec and attach are
# checked over WebSocket (kubectl's default) and over SPDY/3.1, and so is port-forward (to an
# echo server on this machine's loopback, which is where the stand-in's pods' ports are).
# Takes about 30 seconds; needs kubectl, openssl, curl, python3, and script(1) for the
# exec -it checks.
#
#   tests/support/kube_standin_check.sh            run all checks
#   KEEP=1 tests/support/kube_standin_check.sh     keep the temporary directory (and its
#                                                  request log) for a look afterwards
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STANDIN="$HERE/kube_standin_apiserver.py"
WORK=$(mktemp -d)
PID=""

cleanup() {
  if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [[ -n "$PF_PID" ]]; then kill "$PF_PID" 2>/dev/null || true; fi
  if [[ -n "$ECHO_PID" ]]; then kill "$ECHO_PID" 2>/dev/null || true; fi
  if [[ -n "${KEEP:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [[ -s "$WORK/standin.err" ]]; then
    echo "--- stand-in stderr:" >&2
    cat "$WORK/standin.err" >&2
  fi
  exit 1
}

pass() { echo "ok   $*"; }

# -- certificates ---------------------------------------------------------------------------

make_certificates() {
  cd "$WORK"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 \
    -subj /CN=kube-standin-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
    -subj /CN=kube-standin 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
    -days 1 -extfile server.ext 2>/dev/null
  # A client certificate from the same CA, for the --client-ca check.
  openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
    -subj "/CN=alice/O=admins" 2>/dev/null
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem \
    -days 1 2>/dev/null
  cd - >/dev/null
}

# -- the stand-in ---------------------------------------------------------------------------

TOKEN="standin-token-$RANDOM$RANDOM"

start_standin() {
  python3 "$STANDIN" --cert "$WORK/server.pem" --key "$WORK/server.key" --token "$TOKEN" \
    --client-ca "$WORK/ca.pem" --log "$WORK/requests.jsonl" --port 0 \
    >"$WORK/standin.out" 2>"$WORK/standin.err" &
  PID=$!
  for _ in $(seq 50); do
    if grep -q '^PORT ' "$WORK/standin.out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  PORT=$(awk '/^PORT /{print $2}' "$WORK/standin.out")
  [[ -n "$PORT" ]] || fail "the stand-in did not print its port"
}

write_kubeconfig() {
  cat >"$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: standin
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority-data: $(base64 -w0 "$WORK/ca.pem")
users:
- name: tester
  user:
    token: $TOKEN
contexts:
- name: standin
  context: {cluster: standin, user: tester}
current-context: standin
EOF
}

# kubectl against the stand-in, with its own discovery cache so no earlier run is reused.
k() { kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/cache" "$@"; }

# expect_output NAME PATTERN COMMAND...: the command succeeds and its output matches PATTERN.
expect_output() {
  local name=$1 pattern=$2 out
  shift 2
  out=$("$@" 2>&1) || fail "$name: exit status $?: $out"
  grep -Eq -- "$pattern" <<<"$out" || fail "$name: no match for /$pattern/ in:"$'\n'"$out"
  pass "$name"
}

# expect_failure NAME STATUS PATTERN COMMAND...: the command exits with STATUS, says PATTERN.
expect_failure() {
  local name=$1 status=$2 pattern=$3 out rc=0
  shift 3
  out=$("$@" 2>&1) || rc=$?
  [[ $rc == "$status" ]] || fail "$name: exit status $rc, not $status: $out"
  grep -Eq -- "$pattern" <<<"$out" || fail "$name: no match for /$pattern/ in:"$'\n'"$out"
  pass "$name"
}

# -- checks ---------------------------------------------------------------------------------

check_reads() {
  expect_output "version" 'Server Version: v1\.32' k version
  expect_output "get ns" '^prod +Active' k get ns
  expect_output "get pods -n prod" '^web-5b7c8d9f4-x2k9p +1/1 +Running +0' k get pods -n prod
  expect_output "get pods -A" '^default +hello-7d4b9c5f6-abcde +1/1 +Running' k get pods -A
  expect_output "get pod -o yaml" 'podIP: 10\.244\.0\.21' \
    k get pod web-5b7c8d9f4-x2k9p -n prod -o yaml
  expect_output "get pods -o wide" 'standin-node-1' k get pods -n prod -o wide
  expect_output "get secrets" '^db-credentials +Opaque +2 ' k get secrets -n prod
  expect_output "get secrets -o yaml" 'password: czNjcjN0LXBhc3N3MHJk' \
    k get secrets -n prod -o yaml
  expect_output "get secret -o json" '"username": "YXBw"' \
    k get secret db-credentials -n prod -o json
  expect_output "get configmaps -o json" '123-45-6789' k get configmaps -n prod -o json
  expect_output "get deploy" '^web +2/2 +2 +2 ' k get deploy -n prod
  expect_output "get clusterroles" '^cluster-admin' k get clusterroles
  expect_output "label selector" '^web-5b7c8d9f4' k get pods -n prod -l app=web
  expect_failure "get missing pod" 1 'pods "nope" not found' k get pod nope -n prod
}

check_writes() {
  expect_output "delete pod" 'pod "scratch" deleted' k delete pod scratch -n default
  expect_failure "deleted pod is gone" 1 'NotFound' k get pod scratch -n default
  cat >"$WORK/configmap.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: created-by-check
  namespace: default
data:
  colour: blue
EOF
  expect_output "create -f" 'configmap/created-by-check created' \
    k create -f "$WORK/configmap.yaml"
  expect_failure "create -f again" 1 'AlreadyExists' k create -f "$WORK/configmap.yaml"
  sed -i 's/blue/green/' "$WORK/configmap.yaml"
  expect_output "apply -f" 'configured' k apply -f "$WORK/configmap.yaml"
  expect_output "applied" 'green' k get configmap created-by-check -o jsonpath='{.data.colour}'
  expect_output "label" 'labeled' k label configmap created-by-check checked=yes
  expect_output "scale" 'scaled' k scale deployment web -n prod --replicas=3
  expect_output "scaled" '^web +3/3' k get deploy web -n prod
  # kubectl create <kind> sends protobuf bodies, not JSON.
  expect_output "create secret (protobuf)" 'created' \
    k create secret generic made -n prod --from-literal=key=value
  expect_output "secret data" 'dmFsdWU=' k get secret made -n prod -o jsonpath='{.data.key}'
  expect_output "create namespace (protobuf)" 'created' k create namespace staging
  expect_output "create role (protobuf)" 'created' \
    k create role reader -n staging --verb=get,list --resource=pods
  expect_output "role rules" '"apiGroups":\[""\]' \
    k get role reader -n staging -o jsonpath='{.rules}'
  expect_output "delete namespace" 'deleted' k delete namespace staging
  expect_failure "namespace contents gone" 1 'NotFound' k get role reader -n staging
}

check_logs() {
  expect_output "logs" 'user alice@example.com logged in' k logs web-5b7c8d9f4-x2k9p -n prod
  expect_output "logs --tail" '^user bob@example.org logged out$' k logs db-0 -n prod --tail=1
  local out lines
  out=$(timeout 2 kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/cache" \
    logs -f web-5b7c8d9f4-x2k9p -n prod 2>&1) || true
  lines=$(grep -c '^tick ' <<<"$out" || true)
  ((lines >= 3)) || fail "logs -f: only $lines new lines in 2 s:"$'\n'"$out"
  pass "logs -f ($lines new lines in 2 s)"
}

check_watch() {
  local out changer
  (sleep 0.8 && k label pod web-5b7c8d9f4-q8m3z -n prod watched=yes >/dev/null) &
  changer=$!
  out=$(timeout 2 kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/cache" \
    get pods -n prod -w 2>&1) || true
  wait "$changer" || fail "get pods -w: the change meanwhile failed"
  # The pod is listed once at the start and once more for the change.
  [[ $(grep -c '^web-5b7c8d9f4-q8m3z ' <<<"$out") == 2 ]] \
    || fail "get pods -w: the change was not seen:"$'\n'"$out"
  pass "get pods -w"
}

check_exec() {
  expect_output "exec echo" '^hi$' k exec web-5b7c8d9f4-x2k9p -n prod -- echo hi
  expect_failure "exec exit 3" 3 '' k exec web-5b7c8d9f4-x2k9p -n prod -- sh -c 'exit 3'
  local out
  out=$(echo data | k exec -i web-5b7c8d9f4-x2k9p -n prod -- cat 2>&1) \
    || fail "exec -i: $out"
  [[ $out == data ]] || fail "exec -i: got '$out'"
  pass "exec -i (stdin)"
  out=$(k exec db-0 -n prod -- sh -c 'echo out; echo err >&2' 2>/dev/null)
  [[ $out == out ]] || fail "exec stdout and stderr apart: got '$out'"
  pass "exec stdout and stderr apart"
  out=$(k exec db-0 -n prod -- head -c 5000000 /dev/zero | wc -c)
  [[ $out == 5000000 ]] || fail "exec with 5 MB of output: got $out bytes"
  head -c 3000000 /dev/urandom >"$WORK/random.bin"
  out=$(k exec -i db-0 -n prod -- sha256sum <"$WORK/random.bin")
  [[ ${out%% *} == $(sha256sum <"$WORK/random.bin" | cut -d' ' -f1) ]] \
    || fail "exec with 3 MB of input: the command read something else"
  pass "exec with 5 MB out and 3 MB in"
  # kubectl cp runs tar through exec; the "pod" here is this machine.
  echo "copied" >"$WORK/to-copy.txt"
  k cp "$WORK/to-copy.txt" "prod/db-0:$WORK/copied-in.txt" >/dev/null 2>&1 \
    || fail "kubectl cp into the pod"
  [[ $(cat "$WORK/copied-in.txt" 2>/dev/null) == copied ]] || fail "kubectl cp into the pod"
  pass "cp (tar through exec)"
  grep -q '"Sec-WebSocket-Protocol": "v5.channel.k8s.io' "$WORK/requests.jsonl" \
    || fail "kubectl did not use the WebSocket protocol v5"
  if grep -q '"Upgrade": "SPDY' "$WORK/requests.jsonl"; then fail "kubectl fell back to SPDY"; fi
  pass "exec used WebSocket (v5.channel.k8s.io), no SPDY"
  check_exec_tty
}

# kubectl exec -it wants a terminal of its own: script(1) gives it one. With the argument
# "spdy", kubectl is told to use SPDY instead of WebSocket.
check_exec_tty() {
  local name="exec -it" env=""
  if [[ ${1:-} == spdy ]]; then
    name="SPDY exec -it"
    env="KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false"
  fi
  if ! command -v script >/dev/null; then echo "skip $name (no script command)"; return; fi
  local out rc=0
  out=$( (sleep 1; printf 'echo $((6*7)); stty size\n'; sleep 0.5; printf 'exit 5\n'; sleep 0.5) |
    timeout 10 script -qec "stty cols 100 rows 30; $env kubectl --kubeconfig '$WORK/kubeconfig' \
      --cache-dir '$WORK/cache' exec -it web-5b7c8d9f4-x2k9p -n prod -- sh" /dev/null 2>&1) \
    || rc=$?
  [[ $rc == 5 ]] || fail "$name: exit status $rc, not 5:"$'\n'"$out"
  grep -q '^42' <<<"$out" || fail "$name: the shell did not answer:"$'\n'"$out"
  grep -q '^30 100' <<<"$out" || fail "$name: the terminal size did not arrive:"$'\n'"$out"
  pass "$name (a terminal, its size, exit status 5)"
}

# kubectl before 1.30, and kubectl 1.30 and later told so, speak exec and attach over SPDY/3.1.
ks() {
  KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false \
    kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/cache" "$@"
}

# expect_spdy NAME: the last exec or attach request upgraded to SPDY/3.1, not to WebSocket,
# offering the protocol versions the stand-in speaks there.
expect_spdy() {
  local upgrade
  upgrade=$(python3 -c '
import json, sys
last = {}
for line in open(sys.argv[1], encoding="utf-8"):
    request = json.loads(line)
    if "/exec?" in request["path"] or "/attach?" in request["path"]:
        last = request["headers"]
print(last.get("Upgrade", ""), last.get("X-Stream-Protocol-Version", ""))
' "$WORK/requests.jsonl")
  [[ $upgrade == "SPDY/3.1 "*v4.channel.k8s.io* ]] \
    || fail "$1: the request did not upgrade to SPDY/3.1 (Upgrade, protocols: '$upgrade')"
}

check_exec_spdy() {
  expect_output "SPDY exec echo" '^hi$' ks exec web-5b7c8d9f4-x2k9p -n prod -- echo hi
  expect_spdy "SPDY exec echo"
  expect_failure "SPDY exec exit 3" 3 '' ks exec web-5b7c8d9f4-x2k9p -n prod -- sh -c 'exit 3'
  expect_spdy "SPDY exec exit 3"
  local out
  out=$(echo data | ks exec -i web-5b7c8d9f4-x2k9p -n prod -- cat 2>&1) \
    || fail "SPDY exec -i: $out"
  [[ $out == data ]] || fail "SPDY exec -i: got '$out'"
  expect_spdy "SPDY exec -i"
  pass "SPDY exec -i (stdin)"
  out=$(ks exec db-0 -n prod -- sh -c 'echo out; echo err >&2' 2>/dev/null)
  [[ $out == out ]] || fail "SPDY exec stdout and stderr apart: got '$out'"
  pass "SPDY exec stdout and stderr apart"
  out=$(ks exec db-0 -n prod -- head -c 5000000 /dev/zero | wc -c)
  [[ $out == 5000000 ]] || fail "SPDY exec with 5 MB of output: got $out bytes"
  out=$(ks exec -i db-0 -n prod -- sha256sum <"$WORK/random.bin")
  [[ ${out%% *} == $(sha256sum <"$WORK/random.bin" | cut -d' ' -f1) ]] \
    || fail "SPDY exec with 3 MB of input: the command read something else"
  expect_spdy "SPDY exec with 3 MB of input"
  pass "SPDY exec with 5 MB out and 3 MB in"
  # attach runs cat here: what goes in comes back.
  out=$(echo attached | ks attach -i web-5b7c8d9f4-x2k9p -n prod 2>/dev/null) \
    || fail "SPDY attach -i: exit status $?: $out"
  [[ $out == attached ]] || fail "SPDY attach -i: got '$out'"
  expect_spdy "SPDY attach -i"
  pass "SPDY attach -i"
  check_exec_tty spdy
  expect_spdy "SPDY exec -it"
  expect_output "SPDY without v4 or v5: 403 Status" '"code": 403' \
    curl -s --cacert "$WORK/ca.pem" -H "Authorization: Bearer $TOKEN" -X POST \
    -H 'Connection: Upgrade' -H 'Upgrade: SPDY/3.1' \
    -H 'X-Stream-Protocol-Version: v3.channel.k8s.io' \
    "https://127.0.0.1:$PORT/api/v1/namespaces/prod/pods/db-0/exec?command=true&stdout=true"
  expect_output "SPDY framing (v4, ping, FIN, GOAWAY, a bad frame)" '^spdy ok$' spdy_check
}

# What kubectl does not exercise at once (it pings only every 5 s): v4 when the client offers
# it first, a PING echoed, SETTINGS, WINDOW_UPDATE and unknown frames passed over, the end of a
# session (Status, FIN on each stream the server writes, GOAWAY), and a frame of another SPDY
# version ending the connection with GOAWAY (PROTOCOL_ERROR).
spdy_check() {
  python3 - "$PORT" "$WORK/ca.pem" "$TOKEN" "$STANDIN" <<'EOF'
import importlib.util, json, socket, ssl, struct, sys, zlib

port, ca, token, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
spec = importlib.util.spec_from_file_location("standin", path)
standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standin)
DICTIONARY = standin.SPDY3_DICTIONARY
assert len(DICTIONARY) == 1423 and zlib.adler32(DICTIONARY) == 0xE3C6A7C2
context = ssl.create_default_context(cafile=ca)

def connect(query):
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                               server_hostname="127.0.0.1")
    sock.sendall((f"GET /api/v1/namespaces/prod/pods/db-0/exec?{query} HTTP/1.1\r\n"
                  f"Host: x\r\nAuthorization: Bearer {token}\r\nConnection: Upgrade\r\n"
                  f"Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
                  f"X-Stream-Protocol-Version: v5.channel.k8s.io\r\n\r\n").encode())
    reader = sock.makefile("rb")
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += reader.read(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    assert b"X-Stream-Protocol-Version: v4.channel.k8s.io\r\n" in head, head
    return sock, reader

def control(frame_type, payload, flags=0):
    return struct.pack(">HHI", 0x8003, frame_type, flags << 24 | len(payload)) + payload

def data(stream_id, payload, flags=0):
    return struct.pack(">II", stream_id, flags << 24 | len(payload)) + payload

def read_frame(reader):
    head = reader.read(8)
    if len(head) < 8:
        return None
    first, second = struct.unpack(">II", head)
    payload = reader.read(second & 0xFFFFFF)
    if first & 0x80000000:
        return "control", first & 0xFFFF, second >> 24, payload
    return "data", first, second >> 24, payload

def syn_stream(deflate, stream_id, stream_type):
    block = struct.pack(">II", 1, 10) + b"streamtype"
    block += struct.pack(">I", len(stream_type)) + stream_type.encode()
    block = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
    return control(1, struct.pack(">IIBB", stream_id, 0, 0, 0) + block)

sock, reader = connect("command=sh&command=-c&command=cat%3Becho%20e%20%3E%262%3Bexit%207"
                       "&stdin=true&stdout=true&stderr=true")
deflate = zlib.compressobj(zdict=DICTIONARY)
inflate = zlib.decompressobj(zdict=DICTIONARY)
for stream_id, stream_type in ((1, "error"), (3, "stdin"), (5, "stdout"), (7, "stderr")):
    sock.sendall(syn_stream(deflate, stream_id, stream_type))
    kind, frame_type, _, payload = read_frame(reader)  # each answered before the next
    assert (kind, frame_type) == ("control", 2), (kind, frame_type)
    assert struct.unpack(">I", payload[:4])[0] == stream_id, payload
    assert inflate.decompress(payload[4:]) == b"\0\0\0\0", payload  # no headers
sock.sendall(control(4, struct.pack(">I", 0)) + control(9, struct.pack(">II", 3, 65536))
             + control(42, b"unknown") + control(6, struct.pack(">I", 9))
             + data(3, b"hel") + data(3, b"lo\n", flags=1))
got, fins, goaway = {}, set(), None
while (frame := read_frame(reader)) is not None:
    kind, ident, flags, payload = frame
    if kind == "control" and ident == 6:
        got["ping"] = payload
    elif kind == "control" and ident == 7:
        goaway = payload
    elif kind == "data":
        got[ident] = got.get(ident, b"") + payload
        if flags & 1:
            fins.add(ident)
assert got.get("ping") == struct.pack(">I", 9), got
assert got.get(5) == b"hello\n" and got.get(7) == b"e\n", got
status = json.loads(got[1])
assert status["reason"] == "NonZeroExitCode", status
assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "7"}], status
assert fins == {1, 5, 7}, fins
assert goaway == struct.pack(">II", 7, 0), goaway

sock, reader = connect("command=true&stdout=true")
sock.sendall(syn_stream(zlib.compressobj(zdict=DICTIONARY), 1, "error"))
assert read_frame(reader)[:2] == ("control", 2)
sock.sendall(struct.pack(">HHI", 0x8002, 6, 4) + b"\0\0\0\1")  # a SPDY/2 PING
assert read_frame(reader) == ("control", 7, 0, struct.pack(">II", 1, 1))
assert read_frame(reader) is None
print("spdy ok")
EOF
}

# -- port-forward ---------------------------------------------------------------------------

ECHO_PID=""
PF_PID=""

# A TCP echo server on a free loopback port (the stand-in forwards a pod's port P to
# 127.0.0.1:P): each connection gets back what it sends, and its end when it ends.
start_echo() {
  python3 -c '
import socket, threading
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(16)
print(server.getsockname()[1], flush=True)
def serve(conn):
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
' >"$WORK/echo.out" 2>"$WORK/echo.err" &
  ECHO_PID=$!
  for _ in $(seq 50); do
    [[ -s "$WORK/echo.out" ]] && break
    sleep 0.1
  done
  ECHO_PORT=$(head -1 "$WORK/echo.out")
  [[ -n "$ECHO_PORT" ]] || fail "the echo server did not start"
}

# A loopback port with nothing listening (bound for a moment to find it, then let go).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_port_forward NAME REMOTE [VAR=VALUE...]: kubectl port-forward to the pod's port REMOTE
# from a local port of kubectl's choosing, in the background; sets LOCAL once kubectl listens.
start_port_forward() {
  local name=$1 remote=$2
  shift 2
  : >"$WORK/pf.out"
  env "$@" kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/cache" \
    port-forward pod/web-5b7c8d9f4-x2k9p -n prod ":$remote" >"$WORK/pf.out" 2>&1 &
  PF_PID=$!
  LOCAL=""
  for _ in $(seq 100); do
    LOCAL=$(sed -nE "s/^Forwarding from 127\.0\.0\.1:([0-9]+) -> $remote\$/\1/p" "$WORK/pf.out" \
      || true)
    [[ -n "$LOCAL" ]] && break
    kill -0 "$PF_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$LOCAL" ]] || fail "$name: kubectl port-forward did not listen:"$'\n'"$(cat "$WORK/pf.out")"
}

stop_port_forward() {
  if [[ -n "$PF_PID" ]]; then
    kill -INT "$PF_PID" 2>/dev/null || true
    wait "$PF_PID" 2>/dev/null || true
  fi
  PF_PID=""
}

# Two connections to the local port at once: each gets its own echo, 1 MB goes there and back
# on one, and a half close (FIN) on one reaches the echo server, whose end comes back while
# the other connection still works.
forward_client() {
  python3 - "$1" <<'EOF'
import os, socket, sys, threading

port = int(sys.argv[1])

def read_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(65536, n - len(data)))
        if not chunk:
            break
        data += chunk
    return bytes(data)

first = socket.create_connection(("127.0.0.1", port), timeout=10)
second = socket.create_connection(("127.0.0.1", port), timeout=10)
first.sendall(b"first\n")
second.sendall(b"second\n")
assert read_exactly(second, 7) == b"second\n"
assert read_exactly(first, 6) == b"first\n"
blob = os.urandom(1 << 20)
writer = threading.Thread(target=first.sendall, args=(blob,))
writer.start()
got = read_exactly(first, len(blob))
writer.join()
assert got == blob, f"1 MB round trip: {len(got)} bytes back, or other bytes"
first.shutdown(socket.SHUT_WR)
assert first.recv(1) == b"", "no end after the half close"
second.sendall(b"still there\n")
assert read_exactly(second, 12) == b"still there\n"
first.close()
second.close()
print("forward ok")
EOF
}

# expect_forward_upgrade NAME METHOD UPGRADE PROTOCOL: the last port-forward request came with
# this method, Upgrade header and protocol (Sec-WebSocket-Protocol or X-Stream-Protocol-Version).
expect_forward_upgrade() {
  local got
  got=$(python3 -c '
import json, sys
last = {}
for line in open(sys.argv[1], encoding="utf-8"):
    request = json.loads(line)
    if request["path"].endswith("/portforward"):
        last = request
headers = last.get("headers", {})
print(last.get("method"), headers.get("Upgrade"),
      headers.get("Sec-WebSocket-Protocol") or headers.get("X-Stream-Protocol-Version"))
' "$WORK/requests.jsonl")
  [[ $got == "$2 $3 $4" ]] || fail "$1: the port-forward request was '$got', not '$2 $3 $4'"
}

# check_port_forward [spdy]: kubectl port-forward over the WebSocket tunnel (kubectl 1.31+'s
# default) or, with "spdy", over SPDY/3.1 (KUBECTL_PORT_FORWARD_WEBSOCKETS=false).
check_port_forward() {
  local name="port-forward" env=(KUBECTL_PORT_FORWARD_WEBSOCKETS=true) out refused
  if [[ ${1:-} == spdy ]]; then
    name="SPDY port-forward"
    env=(KUBECTL_PORT_FORWARD_WEBSOCKETS=false)
  fi
  start_port_forward "$name" "$ECHO_PORT" "${env[@]}"
  out=$(forward_client "$LOCAL" 2>&1) || fail "$name: $out"$'\n'"$(cat "$WORK/pf.out")"
  kill -0 "$PF_PID" 2>/dev/null || fail "$name: kubectl ended:"$'\n'"$(cat "$WORK/pf.out")"
  stop_port_forward
  if [[ ${1:-} == spdy ]]; then
    expect_forward_upgrade "$name" POST SPDY/3.1 portforward.k8s.io
  else
    expect_forward_upgrade "$name" GET websocket SPDY/3.1+portforward.k8s.io
  fi
  pass "$name (two connections at once, 1 MB there and back, half close)"

  # Nothing listens on the pod's port: the local connection ends and kubectl says why.
  refused=$(free_port)
  start_port_forward "$name" "$refused" "${env[@]}"
  out=$(python3 -c '
import socket, sys
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
sock.sendall(b"anyone?")
try:
    print("ended" if sock.recv(100) == b"" else "data")
except ConnectionResetError:
    print("ended")
' "$LOCAL" 2>&1) || fail "$name to a closed port: $out"
  [[ $out == ended ]] || fail "$name to a closed port: the local connection got '$out'"
  for _ in $(seq 50); do
    grep -q "connection refused" "$WORK/pf.out" && break
    sleep 0.1
  done
  grep -q "error forwarding port $refused to pod web-5b7c8d9f4-x2k9p, uid .*: dial tcp 127.0.0.1:$refused: connect: connection refused" "$WORK/pf.out" \
    || fail "$name to a closed port: kubectl did not print the error:"$'\n'"$(cat "$WORK/pf.out")"
  # kubectl 1.32 then gives up the whole port-forward: "error: lost connection to pod", exit
  # status 1 (older kubectl kept listening).
  local rc=0 ended="kubectl went on"
  for _ in $(seq 50); do
    kill -0 "$PF_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$PF_PID" 2>/dev/null; then
    wait "$PF_PID" || rc=$?
    PF_PID=""
    ended="kubectl ended with status $rc: $(grep '^error: ' "$WORK/pf.out" || true)"
  fi
  stop_port_forward
  pass "$name to a closed port (the connection ends, kubectl prints the error; $ended)"
}

# What kubectl does not exercise at once: PING, SETTINGS, WINDOW_UPDATE and unknown frames, the
# client's FIN and RST_STREAM reaching the pod's connection, streams paired by requestid though
# interleaved, a frame split over several WebSocket messages (as kubectl writes them), and a
# bad frame ending the session with GOAWAY (PROTOCOL_ERROR). The "pod's port" here is a
# listener of the check itself, so that what reaches it can be seen. Over both transports.
port_forward_protocol_check() {
  python3 - "$PORT" "$WORK/ca.pem" "$TOKEN" "$STANDIN" <<'EOF'
import base64, importlib.util, os, socket, ssl, struct, sys, zlib

port, ca, token, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
spec = importlib.util.spec_from_file_location("standin", path)
standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standin)
context = ssl.create_default_context(cafile=ca)
listener = socket.create_server(("127.0.0.1", 0))
listener.settimeout(5)
pod_port = listener.getsockname()[1]
closed = socket.socket()
closed.bind(("127.0.0.1", 0))
closed_port = closed.getsockname()[1]  # bound, never listening: connections are refused

class Client:
    def __init__(self, websocket):
        self.websocket = websocket
        self.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                                        server_hostname="127.0.0.1")
        target = "/api/v1/namespaces/prod/pods/web-5b7c8d9f4-x2k9p/portforward"
        if websocket:
            key = base64.b64encode(os.urandom(16)).decode()
            upgrade = (f"GET {target} HTTP/1.1\r\nUpgrade: websocket\r\n"
                       f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
                       f"Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n")
        else:
            upgrade = (f"POST {target} HTTP/1.1\r\nUpgrade: SPDY/3.1\r\n"
                       f"X-Stream-Protocol-Version: portforward.k8s.io\r\nContent-Length: 0\r\n")
        self.sock.sendall((upgrade + f"Host: x\r\nAuthorization: Bearer {token}\r\n"
                           f"Connection: Upgrade\r\n\r\n").encode())
        self.reader = self.sock.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self.reader.read(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        want = (b"Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io" if websocket
                else b"X-Stream-Protocol-Version: portforward.k8s.io")
        assert want in head, head
        self.buffer = b""
        self.deflate = zlib.compressobj(zdict=standin.SPDY3_DICTIONARY)
        self.ws_closed = False

    def send(self, data):
        if not self.websocket:
            return self.sock.sendall(data)
        # kubectl's spdystream writes a frame in pieces, each its own WebSocket message.
        for piece in (data[:2], data[2:4], b"", data[4:8], data[8:]):
            mask = os.urandom(4)
            body = bytes(b ^ mask[i % 4] for i, b in enumerate(piece))
            length = (bytes([0x80 | len(body)]) if len(body) < 126
                      else bytes([0x80 | 126]) + len(body).to_bytes(2, "big"))
            self.sock.sendall(bytes([0x82]) + length + mask + body)

    def fill(self):
        """More of the server's SPDY byte stream; False at its end."""
        if not self.websocket:
            data = self.reader.read1(65536)
            self.buffer += data
            return bool(data)
        head = self.reader.read(2)
        if len(head) < 2:
            return False
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        assert not head[1] & 0x80, "a masked frame from the server"
        if length == 126:
            length = int.from_bytes(self.reader.read(2), "big")
        elif length == 127:
            length = int.from_bytes(self.reader.read(8), "big")
        payload = self.reader.read(length)
        if opcode == 8:
            self.ws_closed = True
            return False
        assert opcode in (2, 10), opcode
        if opcode == 2:
            self.buffer += payload
        return True

    def frame(self):
        while len(self.buffer) < 8 or len(self.buffer) < 8 + (
                struct.unpack_from(">I", self.buffer, 4)[0] & 0xFFFFFF):
            if not self.fill():
                return None
        first, second = struct.unpack_from(">II", self.buffer)
        length = second & 0xFFFFFF
        payload, self.buffer = self.buffer[8:8 + length], self.buffer[8 + length:]
        if first & 0x80000000:
            return "control", first & 0xFFFF, second >> 24, payload
        return "data", first, second >> 24, payload

    def control(self, frame_type, payload, flags=0, version=3):
        self.send(struct.pack(">HHI", 0x8000 | version, frame_type, flags << 24 | len(payload))
                  + payload)

    def data(self, stream_id, payload, flags=0):
        self.send(struct.pack(">II", stream_id, flags << 24 | len(payload)) + payload)

    def syn_stream(self, stream_id, stream_type, request_id, pod_port):
        block = standin.spdy_header_block([("streamtype", stream_type), ("port", str(pod_port)),
                                           ("requestid", str(request_id))])
        block = self.deflate.compress(block) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.control(1, struct.pack(">IIBB", stream_id, 0, 0, 0) + block)
        kind, frame_type, _, payload = self.frame()
        assert (kind, frame_type) == ("control", 2), (kind, frame_type)
        assert struct.unpack_from(">I", payload)[0] == stream_id

    def expect(self, *wanted):
        got = self.frame()
        assert got in wanted, (got, wanted)

def recv_all(sock):
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data

for websocket in (False, True):
    client = Client(websocket)
    client.syn_stream(1, "error", 0, pod_port)
    client.syn_stream(3, "error", 1, pod_port)   # pairs interleaved
    client.syn_stream(5, "data", 0, pod_port)
    first, _ = listener.accept()
    client.syn_stream(7, "data", 1, pod_port)
    second, _ = listener.accept()
    first.settimeout(5)
    second.settimeout(5)
    client.control(4, struct.pack(">I", 0))                   # SETTINGS
    client.control(9, struct.pack(">II", 5, 65536))           # WINDOW_UPDATE
    client.control(42, b"unknown")
    client.control(6, struct.pack(">I", 11))                  # PING
    client.expect(("control", 6, 0, struct.pack(">I", 11)))
    client.data(5, b"hello")
    assert first.recv(100) == b"hello"
    second.sendall(b"world")
    client.expect(("data", 7, 0, b"world"))
    client.control(3, struct.pack(">II", 7, 5))               # RST_STREAM (CANCEL) on 7
    assert recv_all(second) == b"", "the reset stream's connection was not closed"
    client.data(5, b"!", flags=1)                             # FIN: a half close
    assert recv_all(first) == b"!"
    first.sendall(b"bye")
    first.close()
    client.expect(("data", 5, 0, b"bye"))
    ends = {client.frame(), client.frame()}
    assert ends == {("data", 5, 1, b""), ("data", 1, 1, b"")}, ends
    # A port nothing listens on: the kubelet's error text, then FIN on both streams.
    client.syn_stream(9, "error", 2, closed_port)
    client.syn_stream(11, "data", 2, closed_port)
    error = client.frame()
    assert error[:3] == ("data", 9, 0) and error[3].endswith(
        f"dial tcp 127.0.0.1:{closed_port}: connect: connection refused".encode()), error
    ends = {client.frame(), client.frame()}
    assert ends == {("data", 9, 1, b""), ("data", 11, 1, b"")}, ends
    # A stream type the protocol does not have is refused.
    client.control(1, struct.pack(">IIBB", 13, 0, 0, 0) + client.deflate.compress(
        standin.spdy_header_block([("streamtype", "stdin")])) + client.deflate.flush(
        zlib.Z_SYNC_FLUSH))
    client.expect(("control", 3, 0, struct.pack(">II", 13, 3)))
    # A frame of SPDY/2: GOAWAY (PROTOCOL_ERROR), and the connection ends.
    client.control(6, b"\0\0\0\1", version=2)
    client.expect(("control", 7, 0, struct.pack(">II", 13, 1)))
    assert client.frame() is None
    assert client.ws_closed == websocket
# Inside the tunnel, a text message is no part of the protocol: GOAWAY, then the close.
client = Client(True)
client.sock.sendall(bytes([0x81, 0x80 | 2]) + b"\0\0\0\0" + b"hi")
client.expect(("control", 7, 0, struct.pack(">II", 0, 1)))
assert client.frame() is None and client.ws_closed
print("port-forward protocol ok")
EOF
}

check_port_forwards() {
  start_echo
  check_port_forward
  check_port_forward spdy
  expect_output "port-forward framing (ping, FIN, RST_STREAM, split frames, a bad frame)" \
    '^port-forward protocol ok$' port_forward_protocol_check
  kill "$ECHO_PID" 2>/dev/null || true
  wait "$ECHO_PID" 2>/dev/null || true
  ECHO_PID=""
}

check_http() {
  local url="https://127.0.0.1:$PORT"
  expect_output "no token: 401 Status" '"code": 401' curl -s --cacert "$WORK/ca.pem" "$url/api"
  expect_output "client certificate accepted" '"kind": "APIVersions"' \
    curl -s --cacert "$WORK/ca.pem" --cert "$WORK/client.pem" --key "$WORK/client.key" "$url/api"
  expect_output "table with objects" '"kind": "Secret"' \
    curl -s --cacert "$WORK/ca.pem" -H "Authorization: Bearer $TOKEN" \
    -H 'Accept: application/json;as=Table;v=v1;g=meta.k8s.io' \
    "$url/api/v1/namespaces/prod/secrets?includeObject=Object"
  expect_output "json patch refused" '"code": 415' \
    curl -s --cacert "$WORK/ca.pem" -H "Authorization: Bearer $TOKEN" -X PATCH \
    -H 'Content-Type: application/json-patch+json' -d '[]' \
    "$url/api/v1/namespaces/prod/pods/db-0"
  expect_output "request log" '"Authorization": "Bearer '"$TOKEN"'"' \
    head -1 "$WORK/requests.jsonl"
  expect_output "WebSocket framing (v4, fragments, ping)" '^websocket ok$' websocket_check
}

# What kubectl does not exercise: the v4 subprotocol, a message split into fragments with a
# ping between them, and the masked frames of a client written by hand.
websocket_check() {
  python3 - "$PORT" "$WORK/ca.pem" "$TOKEN" <<'EOF'
import base64, json, os, socket, ssl, sys

port, ca, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=ca)
sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                           server_hostname="127.0.0.1")
key = base64.b64encode(os.urandom(16)).decode()
sock.sendall((f"GET /api/v1/namespaces/prod/pods/db-0/exec?command=head&command=-n1"
              f"&stdin=true&stdout=true&stderr=true HTTP/1.1\r\nHost: x\r\n"
              f"Authorization: Bearer {token}\r\nConnection: Upgrade\r\n"
              f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
              f"Sec-WebSocket-Key: {key}\r\n"
              f"Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n").encode())
reader = sock.makefile("rb")
head = b""
while not head.endswith(b"\r\n\r\n"):
    head += reader.read(1)
assert head.startswith(b"HTTP/1.1 101"), head
assert b"Sec-WebSocket-Protocol: v4.channel.k8s.io" in head, head

def frame(opcode, payload, fin=True):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + mask + masked

def read_frame():
    first, second = reader.read(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(reader.read(2), "big")
    elif length == 127:
        length = int.from_bytes(reader.read(8), "big")
    return first & 0x0F, reader.read(length)

sock.sendall(frame(2, b"\x00hel", fin=False) + frame(9, b"are you there")
             + frame(0, b"lo\n"))
got = {}
while True:
    opcode, payload = read_frame()
    if opcode == 10:
        assert payload == b"are you there", payload
        got["pong"] = True
    elif opcode == 2:
        got.setdefault(payload[0], b"")
        got[payload[0]] += payload[1:]
    elif opcode == 8:
        break
assert got.get("pong"), got
assert got.get(1) == b"hello\n", got
assert json.loads(got[3])["status"] == "Success", got
print("websocket ok")
EOF
}

check_stop() {
  kill -TERM "$PID"
  local rc=0
  timeout 5 tail --pid="$PID" -f /dev/null || fail "the stand-in did not stop on SIGTERM"
  wait "$PID" || rc=$?
  PID=""
  [[ $rc == 0 ]] || fail "the stand-in exited with $rc on SIGTERM"
  pass "SIGTERM stops it"
  [[ ! -s "$WORK/standin.err" ]] || fail "the stand-in wrote to stderr"
  pass "nothing on the stand-in's stderr"
}

main() {
  make_certificates
  start_standin
  write_kubeconfig
  check_reads
  check_writes
  check_logs
  check_watch
  check_exec
  check_exec_spdy
  check_port_forwards
  check_http
  check_stop
  echo "all checks passed"
}

main
