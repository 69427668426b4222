#!/usr/bin/env python3
"""A stand-in for the Kubernetes API server, written for Portcullis's tests.

No real Kubernetes API server is packaged for Debian, so the Kubernetes front end of the
gateway is tested against this program instead: the real kubectl talks to the gateway, and
the gateway forwards to this stand-in. It only has to look like an API server as far as
kubectl and the gateway can see. Python 3 standard library only.

What it implements:
  * HTTPS (HTTP/1.1 only; ALPN offers http/1.1 alone), one thread per connection.
  * Authentication: "Authorization: Bearer TOKEN" with the token given by --token, or a client
    certificate signed by --client-ca. Anything else is answered 401 with a Status.
  * Discovery: /version, /api, /api/v1, /apis, /apis/apps/v1,
    /apis/rbac.authorization.k8s.io/v1. Aggregated discovery is never answered: a request for
    it gets the legacy kinds with Content-Type application/json, and kubectl falls back.
    /openapi/v2 answers 404; /openapi/v3 holds only what kubectl create and apply check (that
    the server validates fields itself), without schemas.
  * In-memory objects with uid, resourceVersion (one global counter) and creationTimestamp:
    namespaces, nodes, pods, services, configmaps, secrets, serviceaccounts, events,
    deployments, roles, rolebindings, clusterroles, clusterrolebindings.
  * Verbs: get, list (labelSelector; fieldSelector on metadata.name, metadata.namespace and a
    few more), watch (chunked, one WatchEvent per line; from resourceVersion 0 the current
    objects come first as ADDED, from a later one the changes since then), create, update,
    patch (merge and strategic merge patches are both applied as JSON merge patches; JSON
    patch and server-side apply are refused with 415), delete and deletecollection. Errors
    are Status objects as a real server sends them.
  * Request bodies in JSON, and in protobuf for the kinds "kubectl create <kind>" sends that
    way (secret, configmap, namespace, serviceaccount, token, role, rolebinding, clusterrole,
    clusterrolebinding, deployment, service, and pods from kubectl run).
  * kubectl auth can-i: every SelfSubjectAccessReview is allowed.
  * Table output (Accept: ...;as=Table;v=v1;g=meta.k8s.io) with the columns of the real server
    for the common kinds, rows carrying PartialObjectMetadata or, with includeObject=Object,
    the whole object. Watches in Table form too.
  * pods/log, with tailLines, timestamps and follow (a new line every 200 ms for up to 30 s).
    The log holds PII-like text so that masking can be tested.
  * pods/exec and pods/attach over WebSocket (subprotocols v5.channel.k8s.io and
    v4.channel.k8s.io) and over SPDY/3.1 (X-Stream-Protocol-Version v5.channel.k8s.io or
    v4.channel.k8s.io, as older kubectl and kubectl with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false
    speak it: one SPDY stream per channel, opened by the client, header blocks compressed
    with the SPDY/3 dictionary): the command really runs here as a subprocess, on a
    pseudo-terminal when kubectl asks for one (exec -it); attach runs "cat".
  * pods/portforward (kubectl port-forward) over SPDY/3.1 (X-Stream-Protocol-Version
    portforward.k8s.io) and over the WebSocket tunnel of kubectl 1.31+ (subprotocol
    SPDY/3.1+portforward.k8s.io: the same SPDY byte stream inside binary messages). The
    stand-in has no pods: a pod's port P is forwarded to 127.0.0.1:P on this machine.
  * deployments/scale and serviceaccounts/token.
  * --log FILE: one JSON line per request received, so tests can check what reached the
    server (and what never did, such as an Impersonate-User header).

Seeded objects (creationTimestamp is the start of the server):
  namespaces  default, prod
  nodes       standin-node-1
  pods        default/hello-7d4b9c5f6-abcde, default/scratch (container "app");
              prod/web-5b7c8d9f4-x2k9p, prod/web-5b7c8d9f4-q8m3z (container "app");
              prod/db-0 (containers "postgres", the default, and "metrics")
  deployments default/hello (1 replica), prod/web (2)
  services    default/kubernetes
  configmaps  prod/app-config (customer.yaml: alice@example.com, SSN 123-45-6789, card
              4111 1111 1111 1111; log_level), prod/kube-root-ca.crt, default/settings
  secrets     prod/db-credentials (Opaque: username "app", password "s3cr3t-passw0rd"),
              prod/api-token (Opaque: token), default/tls-cert (kubernetes.io/tls)
  serviceaccounts  default/default, prod/default
  rbac        role prod/pod-reader, rolebinding prod/read-pods, clusterroles view and
              cluster-admin, clusterrolebinding admins
Every pod's log holds the same PII-like lines (LOG_LINES below).

With --pods N (for scripts/bench.sh), namespace "bench" is seeded too, with N pods
(bench-pod-00000 ...) shaped as a deployment's pods are: labels, two containers with
resources, env values and probes, status with conditions and container states, and an
annotation of PII-like text (an e-mail address, an SSN-shaped and a card-shaped number) so
that masking has work. With --pods, a list's serialised answer is also kept until the store
changes (as a real API server's watch cache serves lists from memory), so that timing a list
of thousands of objects measures the client and the gateway rather than Python's JSON
encoder (a kept Table's AGE column is the one of its first encoding). Its sockets
then have TCP_NODELAY, as a Go server's have (see Server.no_delay).
Without --pods nothing of this is there.

Usage:
  kube_standin_apiserver.py --cert server.pem --key server.key --token TOKEN
                            [--client-ca ca.pem] [--log requests.jsonl] [--port 0]
                            [--pods N]
When ready it prints "PORT <n>" on stdout. SIGTERM stops it.
"""

import argparse
import base64
import copy
import datetime
import fcntl
import hashlib
import hmac
import json
import os
import pty
import queue
import random
import select
import shutil
import signal
import socket
import ssl
import string
import struct
import subprocess
import sys
import termios
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

# Set by SIGTERM; long-running responses (watch, log -f, exec) end when they see it.
STOPPING = threading.Event()

# The commands exec is running, so that none outlives the server.
RUNNING = set()
RUNNING_LOCK = threading.Lock()


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# Resource types
# ---------------------------------------------------------------------------------------------

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


class ResourceType:
    """One kind of object the server stores, as discovery describes it."""

    def __init__(self, plural, kind, group, version, namespaced, short_names=(), verbs=None,
                 categories=()):
        self.plural = plural
        self.categories = list(categories)
        self.kind = kind
        self.group = group
        self.version = version
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.verbs = verbs or ALL_VERBS

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    def discovery_entry(self):
        entry = {
            "name": self.plural,
            "singularName": self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
        }
        if self.short_names:
            entry["shortNames"] = self.short_names
        if self.categories:
            entry["categories"] = self.categories  # "kubectl get all" lists these
        # kubectl uses the hash only to invalidate caches; any stable value will do.
        entry["storageVersionHash"] = base64.b64encode(
            hashlib.sha256(f"{self.api_version}/{self.kind}".encode()).digest()[:8]).decode()
        return entry


RESOURCE_TYPES = [
    ResourceType("namespaces", "Namespace", "", "v1", False, ["ns"],
                 ["create", "delete", "get", "list", "patch", "update", "watch"]),
    ResourceType("nodes", "Node", "", "v1", False, ["no"]),
    ResourceType("pods", "Pod", "", "v1", True, ["po"], categories=["all"]),
    ResourceType("services", "Service", "", "v1", True, ["svc"],
                 ["create", "delete", "get", "list", "patch", "update", "watch"], ["all"]),
    ResourceType("configmaps", "ConfigMap", "", "v1", True, ["cm"]),
    ResourceType("secrets", "Secret", "", "v1", True),
    ResourceType("serviceaccounts", "ServiceAccount", "", "v1", True, ["sa"]),
    ResourceType("events", "Event", "", "v1", True, ["ev"]),
    ResourceType("deployments", "Deployment", "apps", "v1", True, ["deploy"],
                 categories=["all"]),
    # Not stored: every review is answered "allowed" (kubectl auth can-i).
    ResourceType("selfsubjectaccessreviews", "SelfSubjectAccessReview",
                 "authorization.k8s.io", "v1", False, verbs=["create"]),
    ResourceType("roles", "Role", "rbac.authorization.k8s.io", "v1", True),
    ResourceType("rolebindings", "RoleBinding", "rbac.authorization.k8s.io", "v1", True),
    ResourceType("clusterroles", "ClusterRole", "rbac.authorization.k8s.io", "v1", False),
    ResourceType("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1",
                 False),
]

# Subresources, listed in discovery as "plural/sub" (kubectl looks them up before exec, logs...).
SUBRESOURCES = {
    ("", "v1"): [
        {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod",
         "verbs": ["get"]},
        {"name": "pods/exec", "singularName": "", "namespaced": True, "kind": "PodExecOptions",
         "verbs": ["create", "get"]},
        {"name": "pods/attach", "singularName": "", "namespaced": True,
         "kind": "PodAttachOptions", "verbs": ["create", "get"]},
        {"name": "pods/portforward", "singularName": "", "namespaced": True,
         "kind": "PodPortForwardOptions", "verbs": ["create", "get"]},
        {"name": "serviceaccounts/token", "singularName": "", "namespaced": True,
         "group": "authentication.k8s.io", "version": "v1", "kind": "TokenRequest",
         "verbs": ["create"]},
    ],
    ("apps", "v1"): [
        {"name": "deployments/scale", "singularName": "", "namespaced": True,
         "group": "autoscaling", "version": "v1", "kind": "Scale",
         "verbs": ["get", "patch", "update"]},
    ],
}

API_GROUPS = ["apps", "rbac.authorization.k8s.io", "authorization.k8s.io"]


def find_type(group, version, plural):
    for rtype in RESOURCE_TYPES:
        if rtype.group == group and rtype.version == version and rtype.plural == plural:
            return rtype
    return None


def types_of(group, version):
    return [t for t in RESOURCE_TYPES if t.group == group and t.version == version]


# ---------------------------------------------------------------------------------------------
# Errors as Status objects
# ---------------------------------------------------------------------------------------------

class ApiError(Exception):
    """An error answered with a Status object, as the real server does."""

    def __init__(self, code, reason, message, details=None, headers=()):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers  # (name, value) pairs sent with the Status

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


def not_found(rtype, name):
    details = {"name": name, "kind": rtype.plural}
    if rtype.group:
        details["group"] = rtype.group
    return ApiError(404, "NotFound", f'{qualified(rtype)} "{name}" not found', details)


def already_exists(rtype, name):
    details = {"name": name, "kind": rtype.plural}
    if rtype.group:
        details["group"] = rtype.group
    return ApiError(409, "AlreadyExists", f'{qualified(rtype)} "{name}" already exists', details)


def conflict(rtype, name):
    details = {"name": name, "kind": rtype.plural}
    if rtype.group:
        details["group"] = rtype.group
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {qualified(rtype)} "{name}": the object '
                    "has been modified; please apply your changes to the latest version and "
                    "try again", details)


def path_not_found():
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource", {})


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def qualified(rtype):
    """The resource name as the real server writes it in messages: "pods", "deployments.apps"."""
    return f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural


# ---------------------------------------------------------------------------------------------
# Selectors and patches
# ---------------------------------------------------------------------------------------------

def parse_selector(text):
    """Parses "a=b,c!=d,e" into (key, op, value) terms; op is "=", "!=", "exists" or "!exists"."""
    terms = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        if "!=" in part:
            key, value = part.split("!=", 1)
            terms.append((key.strip(), "!=", value.strip()))
        elif "==" in part:
            key, value = part.split("==", 1)
            terms.append((key.strip(), "=", value.strip()))
        elif "=" in part:
            key, value = part.split("=", 1)
            terms.append((key.strip(), "=", value.strip()))
        elif part.startswith("!"):
            terms.append((part[1:].strip(), "!exists", None))
        else:
            terms.append((part, "exists", None))
    return terms


def selector_matches(terms, values):
    for key, op, value in terms:
        present = key in values
        if op == "=" and values.get(key) != value:
            return False
        if op == "!=" and values.get(key) == value:
            return False
        if op == "exists" and not present:
            return False
        if op == "!exists" and present:
            return False
    return True


def field_values(obj):
    """The fields a fieldSelector may name; the real server supports more per kind."""
    meta = obj.get("metadata", {})
    values = {"metadata.name": meta.get("name", ""),
              "metadata.namespace": meta.get("namespace", "")}
    if obj.get("kind") == "Pod":
        values["spec.nodeName"] = obj.get("spec", {}).get("nodeName", "")
        values["status.phase"] = obj.get("status", {}).get("phase", "")
    if obj.get("kind") == "Secret":
        values["type"] = obj.get("type", "")
    return values


class Filter:
    """Which objects a list or watch asks for."""

    def __init__(self, namespace=None, label_selector="", field_selector=""):
        self.namespace = namespace
        self.labels = parse_selector(label_selector)
        self.fields = parse_selector(field_selector)

    def matches(self, obj):
        meta = obj.get("metadata", {})
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return (selector_matches(self.labels, meta.get("labels") or {})
                and selector_matches(self.fields, field_values(obj)))


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------

class Watcher:
    """One open watch: the events for it are queued here by the store."""

    def __init__(self, rtype, flt):
        self.rtype = rtype
        self.filter = flt
        self.events = queue.Queue()

    def offer(self, rtype, event_type, obj):
        if rtype is self.rtype and self.filter.matches(obj):
            self.events.put((event_type, obj))


class Store:
    """All objects, in memory, under one lock; every change bumps one global resourceVersion
    and is kept in a short history so that a watch from a given version misses nothing."""

    HISTORY = 1000

    def __init__(self):
        self.lock = threading.RLock()
        self.objects = {t: {} for t in RESOURCE_TYPES}   # type -> {(namespace, name): object}
        self.version = 100
        self.history = []                               # (version, type, event type, object)
        self.watchers = []

    def _key(self, rtype, namespace, name):
        return (namespace if rtype.namespaced else "", name)

    def _record(self, rtype, event_type, obj):
        self.history.append((self.version, rtype, event_type, copy.deepcopy(obj)))
        del self.history[:-self.HISTORY]
        for watcher in self.watchers:
            watcher.offer(rtype, event_type, copy.deepcopy(obj))

    def _bump(self, obj):
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)

    def get(self, rtype, namespace, name):
        with self.lock:
            obj = self.objects[rtype].get(self._key(rtype, namespace, name))
            if obj is None:
                raise not_found(rtype, name)
            return copy.deepcopy(obj)

    def list(self, rtype, flt):
        with self.lock:
            items = [copy.deepcopy(o) for o in self.objects[rtype].values() if flt.matches(o)]
            return sorted(items, key=lambda o: (o["metadata"].get("namespace", ""),
                                               o["metadata"]["name"])), str(self.version)

    def create(self, rtype, obj):
        with self.lock:
            meta = obj.setdefault("metadata", {})
            if not meta.get("name") and meta.get("generateName"):
                suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
                meta["name"] = meta["generateName"] + suffix
            if not meta.get("name"):
                raise ApiError(422, "Invalid", f"{rtype.kind} \"\" is invalid: metadata.name: "
                               "Required value: name or generateName is required",
                               {"kind": rtype.kind})
            if rtype.namespaced:
                ns = meta["namespace"]
                if (("", ns) not in self.objects[NAMESPACES]):
                    raise not_found(NAMESPACES, ns)
            else:
                meta.pop("namespace", None)
            key = self._key(rtype, meta.get("namespace"), meta["name"])
            if key in self.objects[rtype]:
                raise already_exists(rtype, meta["name"])
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            meta.pop("resourceVersion", None)
            obj = typed(rtype, obj)
            self._bump(obj)
            self.objects[rtype][key] = obj
            self._record(rtype, "ADDED", obj)
            return copy.deepcopy(obj)

    def update(self, rtype, namespace, name, obj):
        with self.lock:
            key = self._key(rtype, namespace, name)
            old = self.objects[rtype].get(key)
            if old is None:
                raise not_found(rtype, name)
            meta = obj.setdefault("metadata", {})
            wanted = meta.get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise conflict(rtype, name)
            if meta.get("name", name) != name:
                raise bad_request("the name of the object does not match the name on the URL")
            # What the client may not change is kept from the stored object.
            for field in ("name", "namespace", "uid", "creationTimestamp"):
                if field in old["metadata"]:
                    meta[field] = old["metadata"][field]
            obj = typed(rtype, obj)
            self._bump(obj)
            self.objects[rtype][key] = obj
            self._record(rtype, "MODIFIED", obj)
            return copy.deepcopy(obj)

    def patch(self, rtype, namespace, name, patch):
        with self.lock:
            current = self.get(rtype, namespace, name)
            patched = merge_patch(current, patch)
            patched.setdefault("metadata", {}).pop("resourceVersion", None)
            if patch.get("metadata", {}).get("resourceVersion"):
                patched["metadata"]["resourceVersion"] = patch["metadata"]["resourceVersion"]
            return self.update(rtype, namespace, name, patched)

    def delete(self, rtype, namespace, name):
        with self.lock:
            key = self._key(rtype, namespace, name)
            obj = self.objects[rtype].pop(key, None)
            if obj is None:
                raise not_found(rtype, name)
            self._bump(obj)
            self._record(rtype, "DELETED", obj)
            if rtype is NAMESPACES:
                self._delete_namespace_contents(name)
            return copy.deepcopy(obj)

    def _delete_namespace_contents(self, namespace):
        for rtype in RESOURCE_TYPES:
            if rtype.namespaced:
                for key in [k for k in self.objects[rtype] if k[0] == namespace]:
                    self.delete(rtype, namespace, key[1])

    def watch(self, rtype, flt, since, send_initial):
        """Registers a watcher and returns it with the events it must send first: the current
        objects as ADDED, or the recorded changes after version `since`."""
        with self.lock:
            watcher = Watcher(rtype, flt)
            if send_initial:
                initial = [("ADDED", o) for o in self.list(rtype, flt)[0]]
            else:
                initial = [(event_type, copy.deepcopy(o))
                           for version, t, event_type, o in self.history
                           if version > since and t is rtype and flt.matches(o)]
            self.watchers.append(watcher)
            return watcher, initial, str(self.version)

    def unwatch(self, watcher):
        with self.lock:
            if watcher in self.watchers:
                self.watchers.remove(watcher)


NAMESPACES = find_type("", "v1", "namespaces")


def typed(rtype, obj):
    """The object with kind and apiVersion set, and first, as the real server writes them."""
    rest = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
    return {"kind": rtype.kind, "apiVersion": rtype.api_version, **rest}


# ---------------------------------------------------------------------------------------------
# Seeded objects
# ---------------------------------------------------------------------------------------------

PII_CONFIG = ("contact: alice@example.com\n"
              "ssn: 123-45-6789\n"
              "card: 4111 1111 1111 1111\n")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def pod(namespace, name, app, containers=("app",), node="standin-node-1", ip="10.244.0.10"):
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {
            "nodeName": node,
            "containers": [{"name": c, "image": f"registry.example/{app}:1.0"} for c in containers],
            "restartPolicy": "Always",
            "serviceAccountName": "default",
        },
        "status": {
            "phase": "Running",
            "podIP": ip,
            "hostIP": "192.168.0.10",
            "startTime": now_rfc3339(),
            "conditions": [{"type": "Ready", "status": "True"}],
            # imageID and containerID, as a real kubelet reports them: typed clients (the
            # Python client among them) refuse a container status without them.
            "containerStatuses": [
                {"name": c, "ready": True, "restartCount": 0, "started": True,
                 "image": f"registry.example/{app}:1.0",
                 "imageID": f"registry.example/{app}@sha256:" + hashlib.sha256(
                     app.encode()).hexdigest(),
                 "containerID": "containerd://" + hashlib.sha256(
                     f"{namespace}/{name}/{c}".encode()).hexdigest(),
                 "state": {"running": {"startedAt": now_rfc3339()}}} for c in containers],
        },
    }


def deployment(namespace, name, replicas):
    labels = {"app": name}
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": name,
                                                  "image": f"registry.example/{name}:1.0"}]}},
        },
        "status": {"replicas": replicas, "readyReplicas": replicas,
                   "updatedReplicas": replicas, "availableReplicas": replicas},
    }


def seed(store):
    """The objects the tests rely on (listed in this file's header)."""
    t = {r.plural: r for r in RESOURCE_TYPES}
    for ns in ("default", "prod"):
        store.create(t["namespaces"], {"metadata": {"name": ns},
                                       "spec": {"finalizers": ["kubernetes"]},
                                       "status": {"phase": "Active"}})
    store.create(t["nodes"], {"metadata": {"name": "standin-node-1",
                                           "labels": {"kubernetes.io/hostname": "standin-node-1"}},
                              "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                         "nodeInfo": {"kubeletVersion": "v1.32.0"}}})
    for ns in ("default", "prod"):
        store.create(t["serviceaccounts"], {"metadata": {"name": "default", "namespace": ns}})
    store.create(t["pods"], pod("default", "hello-7d4b9c5f6-abcde", "hello", ip="10.244.0.11"))
    store.create(t["pods"], pod("default", "scratch", "scratch", ip="10.244.0.12"))
    store.create(t["pods"], pod("prod", "web-5b7c8d9f4-x2k9p", "web", ip="10.244.0.21"))
    store.create(t["pods"], pod("prod", "web-5b7c8d9f4-q8m3z", "web", ip="10.244.0.22"))
    two = pod("prod", "db-0", "db", containers=("postgres", "metrics"), ip="10.244.0.23")
    # With two containers, kubectl picks this one for logs and exec unless told otherwise.
    two["metadata"]["annotations"] = {"kubectl.kubernetes.io/default-container": "postgres"}
    store.create(t["pods"], two)
    store.create(t["deployments"], deployment("default", "hello", 1))
    store.create(t["deployments"], deployment("prod", "web", 2))
    store.create(t["services"], {
        "metadata": {"name": "kubernetes", "namespace": "default"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP",
                            "targetPort": 6443}]}})
    store.create(t["configmaps"], {"metadata": {"name": "app-config", "namespace": "prod"},
                                   "data": {"customer.yaml": PII_CONFIG, "log_level": "info"}})
    store.create(t["configmaps"], {"metadata": {"name": "kube-root-ca.crt", "namespace": "prod"},
                                   "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n...\n"}})
    store.create(t["configmaps"], {"metadata": {"name": "settings", "namespace": "default"},
                                   "data": {"greeting": "hello"}})
    store.create(t["secrets"], {"metadata": {"name": "db-credentials", "namespace": "prod"},
                                "type": "Opaque",
                                "data": {"username": b64("app"),
                                         "password": b64("s3cr3t-passw0rd")}})
    store.create(t["secrets"], {"metadata": {"name": "api-token", "namespace": "prod"},
                                "type": "Opaque",
                                "data": {"token": b64("tok-0123456789abcdef")}})
    store.create(t["secrets"], {"metadata": {"name": "tls-cert", "namespace": "default"},
                                "type": "kubernetes.io/tls",
                                "data": {"tls.crt": b64("CERT"), "tls.key": b64("KEY")}})
    store.create(t["roles"], {"metadata": {"name": "pod-reader", "namespace": "prod"},
                              "rules": [{"apiGroups": [""], "resources": ["pods"],
                                         "verbs": ["get", "list", "watch"]}]})
    store.create(t["rolebindings"], {
        "metadata": {"name": "read-pods", "namespace": "prod"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                    "name": "pod-reader"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}]})
    store.create(t["clusterroles"], {"metadata": {"name": "view"},
                                     "rules": [{"apiGroups": ["*"], "resources": ["*"],
                                                "verbs": ["get", "list", "watch"]}]})
    store.create(t["clusterroles"], {"metadata": {"name": "cluster-admin"},
                                     "rules": [{"apiGroups": ["*"], "resources": ["*"],
                                                "verbs": ["*"]}]})
    store.create(t["clusterrolebindings"], {
        "metadata": {"name": "admins"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"kind": "Group", "name": "admins",
                      "apiGroup": "rbac.authorization.k8s.io"}]})


BENCH_NAMESPACE = "bench"


def bench_pod(i):
    """Pod number I of namespace "bench": the size and shape of a real deployment's pod
    (about 3 KB of JSON), with PII-like text in one annotation."""
    app = ("checkout", "billing", "search", "profile", "ledger")[i % 5]
    name = f"bench-pod-{i:05d}"
    ip = f"10.{64 + i // 65536}.{i // 256 % 256}.{i % 256}"
    containers = [
        {"name": app, "image": f"registry.example/{app}:2.{i % 7}.{i % 3}",
         "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
         "env": [{"name": "APP_ENV", "value": "production"},
                 {"name": "DATABASE_HOST", "value": f"{app}-db.{BENCH_NAMESPACE}.svc"},
                 {"name": "SUPPORT_CONTACT", "value": f"oncall-{i % 40}@example.com"},
                 {"name": "LOG_LEVEL", "value": "info"}],
         "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                       "limits": {"cpu": "500m", "memory": "512Mi"}},
         "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080},
                            "periodSeconds": 10},
         "terminationMessagePath": "/dev/termination-log",
         "imagePullPolicy": "IfNotPresent"},
        {"name": "log-shipper", "image": "registry.example/fluent-bit:3.1",
         "env": [{"name": "OUTPUT", "value": "logs.example.net:24224"}],
         "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
         "terminationMessagePath": "/dev/termination-log",
         "imagePullPolicy": "IfNotPresent"},
    ]
    obj = pod(BENCH_NAMESPACE, name, app, containers=(), ip=ip)
    obj["metadata"]["labels"].update({"pod-template-hash": "5b7c8d9f4", "tier": "backend",
                                      "team": f"team-{i % 12}"})
    obj["metadata"]["annotations"] = {
        "example.com/owner": (f"Customer ticket {100000 + i}: contact customer{i}@example.org, "
                              f"SSN {100 + i % 800:03d}-{10 + i % 89:02d}-{1000 + i % 8999:04d}, "
                              f"card 4111 1111 1111 {1000 + i % 8999:04d}"),
        "kubectl.kubernetes.io/default-container": app}
    obj["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                           "name": f"{app}-5b7c8d9f4", "controller": True,
                                           "blockOwnerDeletion": True,
                                           "uid": str(uuid.UUID(int=i % 5 + 1))}]
    obj["spec"]["containers"] = containers
    obj["spec"]["nodeName"] = f"standin-node-{i % 3 + 1}"
    started = now_rfc3339()
    obj["status"]["conditions"] = [
        {"type": kind, "status": "True", "lastTransitionTime": started}
        for kind in ("Initialized", "Ready", "ContainersReady", "PodScheduled")]
    def digest(text):
        return hashlib.sha256(text.encode()).hexdigest()
    obj["status"]["containerStatuses"] = [
        {"name": c["name"], "ready": True, "restartCount": i % 3 if c["name"] == app else 0,
         "started": True, "image": c["image"],
         "imageID": c["image"] + "@sha256:" + digest(c["image"]),
         "containerID": "containerd://" + digest(name + "/" + c["name"]),
         "state": {"running": {"startedAt": started}}} for c in containers]
    obj["status"]["qosClass"] = "Burstable"
    return obj


def seed_bench(store, count):
    """Namespace "bench" and COUNT pods in it (--pods)."""
    t = {r.plural: r for r in RESOURCE_TYPES}
    store.create(t["namespaces"], {"metadata": {"name": BENCH_NAMESPACE},
                                   "spec": {"finalizers": ["kubernetes"]},
                                   "status": {"phase": "Active"}})
    for i in range(count):
        store.create(t["pods"], bench_pod(i))


# ---------------------------------------------------------------------------------------------
# Tables (kubectl get without -o asks for these)
# ---------------------------------------------------------------------------------------------

def human_duration(seconds):
    """The AGE format of the real server (k8s.io/apimachinery duration.HumanDuration)."""
    s = max(int(seconds), 0)
    m, h = s // 60, s // 3600
    if s < 120:
        return f"{s}s"
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    return f"{h // (24 * 365)}y"


def age(obj):
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    then = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())


def column(name, kind="string", fmt="", priority=0, description=""):
    return {"name": name, "type": kind, "format": fmt, "description": description or name,
            "priority": priority}


def pod_row(obj):
    statuses = obj.get("status", {}).get("containerStatuses", [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(c.get("restartCount", 0) for c in statuses)
    total = len(obj.get("spec", {}).get("containers", []))
    return [f"{ready}/{total}", obj.get("status", {}).get("phase", "Unknown"), restarts, age(obj),
            obj.get("status", {}).get("podIP", "<none>"),
            obj.get("spec", {}).get("nodeName", "<none>"), "<none>", "<none>"]


def deployment_row(obj):
    spec, status = obj.get("spec", {}), obj.get("status", {})
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    selector = ",".join(f"{k}={v}" for k, v in spec.get("selector", {})
                        .get("matchLabels", {}).items())
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age(obj),
            ",".join(c["name"] for c in containers),
            ",".join(c.get("image", "") for c in containers), selector]


def service_row(obj):
    spec = obj.get("spec", {})
    ports = ",".join(f"{p['port']}/{p.get('protocol', 'TCP')}" for p in spec.get("ports", []))
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), "<none>",
            ports or "<none>", age(obj)]


# Per kind: the columns after NAME, and how to fill them. Kinds not listed get NAME and AGE.
TABLE_COLUMNS = {
    "pods": ([column("Ready"), column("Status"), column("Restarts", "string"), column("Age"),
              column("IP", priority=1), column("Node", priority=1),
              column("Nominated Node", priority=1), column("Readiness Gates", priority=1)],
             pod_row),
    "namespaces": ([column("Status"), column("Age")],
                   lambda o: [o.get("status", {}).get("phase", "Active"), age(o)]),
    "nodes": ([column("Status"), column("Roles"), column("Age"), column("Version")],
              lambda o: ["Ready", "<none>", age(o),
                         o.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", "")]),
    "configmaps": ([column("Data", "integer"), column("Age")],
                   lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]),
    "secrets": ([column("Type"), column("Data", "integer"), column("Age")],
                lambda o: [o.get("type", "Opaque"), len(o.get("data") or {}), age(o)]),
    "serviceaccounts": ([column("Secrets", "integer"), column("Age")],
                        lambda o: [len(o.get("secrets") or []), age(o)]),
    "services": ([column("Type"), column("Cluster-IP"), column("External-IP"),
                  column("Port(s)"), column("Age")], service_row),
    "deployments": ([column("Ready"), column("Up-to-date", "integer"),
                     column("Available", "integer"), column("Age"),
                     column("Containers", priority=1), column("Images", priority=1),
                     column("Selector", priority=1)], deployment_row),
    "roles": ([column("Created At", "date")],
              lambda o: [o["metadata"].get("creationTimestamp", "")]),
    "clusterroles": ([column("Created At", "date")],
                     lambda o: [o["metadata"].get("creationTimestamp", "")]),
    "rolebindings": ([column("Role"), column("Age")],
                     lambda o: [f"{o['roleRef']['kind']}/{o['roleRef']['name']}", age(o)]),
    "clusterrolebindings": ([column("Role"), column("Age")],
                            lambda o: [f"{o['roleRef']['kind']}/{o['roleRef']['name']}",
                                       age(o)]),
}


def partial_metadata(obj):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"]}


def table(rtype, objects, version, include_object):
    """A meta.k8s.io/v1 Table; include_object is "Object", "Metadata" (default) or "None"."""
    columns, row_of = TABLE_COLUMNS.get(rtype.plural, ([column("Age")], lambda o: [age(o)]))
    rows = []
    for obj in objects:
        row = {"cells": [obj["metadata"]["name"]] + row_of(obj)}
        if include_object == "Object":
            row["object"] = obj
        elif include_object != "None":
            row["object"] = partial_metadata(obj)
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": version},
            "columnDefinitions": [column("Name", fmt="name")] + columns,
            "rows": rows}


# ---------------------------------------------------------------------------------------------
# WebSocket (RFC 6455), server side, for pods/exec and pods/attach
# ---------------------------------------------------------------------------------------------

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10

# Channels of the Kubernetes remote command protocol: the first byte of every data message.
# Over SPDY each is a stream of its own instead (SPDY_STREAM_TYPES below).
CH_STDIN, CH_STDOUT, CH_STDERR, CH_ERROR, CH_RESIZE, CH_CLOSE = 0, 1, 2, 3, 4, 255


def websocket_accept(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def ws_frame(opcode, payload):
    """One unmasked, final frame (servers never mask)."""
    header = bytearray([0x80 | opcode])
    n = len(payload)
    if n < 126:
        header.append(n)
    elif n < 65536:
        header += bytes([126]) + n.to_bytes(2, "big")
    else:
        header += bytes([127]) + n.to_bytes(8, "big")
    return bytes(header) + payload


class FrameParser:
    """Turns the bytes a client sends into whole messages: unmasks frames, joins fragments and
    passes control frames (which may arrive between fragments) through at once."""

    def __init__(self):
        self.buffer = bytearray()
        self.fragments = None
        self.fragment_opcode = None

    def feed(self, data):
        self.buffer += data

    def _take_frame(self):
        buf = self.buffer
        if len(buf) < 2:
            return None
        fin, opcode = buf[0] & 0x80, buf[0] & 0x0F
        masked, length = buf[1] & 0x80, buf[1] & 0x7F
        pos = 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, pos = int.from_bytes(buf[2:4], "big"), 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, pos = int.from_bytes(buf[2:10], "big"), 10
        mask = b""
        if masked:
            if len(buf) < pos + 4:
                return None
            mask, pos = bytes(buf[pos:pos + 4]), pos + 4
        if len(buf) < pos + length:
            return None
        payload = bytes(buf[pos:pos + length])
        del buf[:pos + length]
        if masked:
            payload = unmask(payload, mask)
        return bool(fin), opcode, payload

    def messages(self):
        while (frame := self._take_frame()) is not None:
            fin, opcode, payload = frame
            if opcode >= OP_CLOSE:
                yield opcode, payload
                continue
            if opcode == OP_CONTINUATION:
                if self.fragments is None:
                    continue  # a continuation without a start: nothing to join it to
                self.fragments += payload
            else:
                self.fragment_opcode, self.fragments = opcode, bytearray(payload)
            if fin:
                yield self.fragment_opcode, bytes(self.fragments)
                self.fragments = None


def unmask(payload, mask):
    # XOR the whole payload at once through big integers: much faster than byte by byte.
    repeated = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(payload), "big")


# ---------------------------------------------------------------------------------------------
# SPDY/3.1, server side, for pods/exec and pods/attach (older kubectl, and kubectl with
# KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false)
# ---------------------------------------------------------------------------------------------

# The SPDY/3 header dictionary, from the SPDY protocol draft 3 specification (section 2.6.10.1):
# header blocks are zlib streams primed with it. First 65 words, each after its length as a
# 32-bit big-endian number, then plain text. zlib checks it against the Adler-32 the client's
# stream names (0xe3c6a7c2), so a wrong byte here fails the first header block.
SPDY3_DICTIONARY = b"".join(len(word).to_bytes(4, "big") + word for word in (
    b"options", b"head", b"post", b"put", b"delete", b"trace", b"accept", b"accept-charset",
    b"accept-encoding", b"accept-language", b"accept-ranges", b"age", b"allow",
    b"authorization", b"cache-control", b"connection", b"content-base", b"content-encoding",
    b"content-language", b"content-length", b"content-location", b"content-md5",
    b"content-range", b"content-type", b"date", b"etag", b"expect", b"expires", b"from",
    b"host", b"if-match", b"if-modified-since", b"if-none-match", b"if-range",
    b"if-unmodified-since", b"last-modified", b"location", b"max-forwards", b"pragma",
    b"proxy-authenticate", b"proxy-authorization", b"range", b"referer", b"retry-after",
    b"server", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"user-agent", b"vary",
    b"via", b"warning", b"www-authenticate", b"method", b"get", b"status", b"200 OK",
    b"version", b"HTTP/1.1", b"url", b"public", b"set-cookie", b"keep-alive", b"origin",
)) + (
    b"100101201202205206300302303304305306307402405406407408409410411412413414415416417502504"
    b"505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    b"401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    b"503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, "
    b"Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    b"application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    b"gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)

SPDY_VERSION = 3
(SPDY_SYN_STREAM, SPDY_SYN_REPLY, SPDY_RST_STREAM, SPDY_SETTINGS, SPDY_PING, SPDY_GOAWAY,
 SPDY_HEADERS, SPDY_WINDOW_UPDATE) = 1, 2, 3, 4, 6, 7, 8, 9
SPDY_FLAG_FIN = 0x01
SPDY_GOAWAY_OK, SPDY_GOAWAY_PROTOCOL_ERROR = 0, 1
# A frame's length is 24 bits, so no frame is over 16 MiB; a header block must also stay under
# this when decompressed (a few hundred bytes from kubectl).
SPDY_MAX_HEADER_BLOCK = 1 << 20
# Output is sent in data frames of at most this many bytes.
SPDY_MAX_DATA = 32768

# The remote command protocol's streams, by the "streamtype" header of their SYN_STREAM.
SPDY_STREAM_TYPES = {"error": CH_ERROR, "stdin": CH_STDIN, "stdout": CH_STDOUT,
                     "stderr": CH_STDERR, "resize": CH_RESIZE}
SPDY_CHANNEL_STREAMS = {channel: name for name, channel in SPDY_STREAM_TYPES.items()}
# What the client may offer in X-Stream-Protocol-Version, of which the stand-in speaks the two
# newest (over SPDY v5 is v4: stdin ends with the stream's FIN, not a close message).
SPDY_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"]


class SpdyError(Exception):
    """A frame or header block no SPDY/3 peer would send: the connection is closed."""


def spdy_control_frame(frame_type, flags, payload):
    return struct.pack(">HHI", 0x8000 | SPDY_VERSION, frame_type,
                       (flags << 24) | len(payload)) + payload


def spdy_data_frame(stream_id, flags, data):
    return struct.pack(">II", stream_id & 0x7FFFFFFF, (flags << 24) | len(data)) + data


class SpdyFrameParser:
    """Cuts the bytes a client sends into frames: ("control", type, flags, payload) or
    ("data", stream id, flags, data). A data frame on a stream the client has not opened (an
    id above last_stream_id) is refused as soon as its first 8 bytes are in, so that bytes
    of something else are not awaited as a frame of up to 16 MiB."""

    def __init__(self):
        self.buffer = bytearray()
        self.last_stream_id = 0  # the highest stream id the client has opened

    def feed(self, data):
        self.buffer += data

    def frames(self):
        buf = self.buffer
        while len(buf) >= 8:
            first, second = struct.unpack_from(">II", buf)
            flags, length = second >> 24, second & 0xFFFFFF
            if not first & 0x80000000 and not 0 < first <= self.last_stream_id:
                raise SpdyError(f"data frame on stream {first}, which was never opened")
            if len(buf) < 8 + length:
                return
            payload = bytes(buf[8:8 + length])
            del buf[:8 + length]
            if first & 0x80000000:
                version, frame_type = (first >> 16) & 0x7FFF, first & 0xFFFF
                if version != SPDY_VERSION:
                    raise SpdyError(f"control frame of SPDY version {version}")
                yield "control", frame_type, flags, payload
            else:
                yield "data", first, flags, payload


def spdy_header_block(pairs):
    """A header block before compression: the number of pairs, then each name and value after
    its length (32-bit numbers)."""
    block = bytearray(struct.pack(">I", len(pairs)))
    for name, value in pairs:
        for text in (name.lower().encode(), value.encode()):
            block += struct.pack(">I", len(text)) + text
    return bytes(block)


def spdy_parse_header_block(block):
    """{name: value} of a decompressed header block (several values of a name stay joined by
    NUL, as they come)."""
    try:
        (count,), pos, headers = struct.unpack_from(">I", block), 4, {}
        for _ in range(count):
            texts = []
            for _ in range(2):
                (size,) = struct.unpack_from(">I", block, pos)
                if pos + 4 + size > len(block):
                    raise SpdyError("header block cut short")
                texts.append(block[pos + 4:pos + 4 + size].decode("utf-8"))
                pos += 4 + size
            name, value = texts
            if not name or name != name.lower():
                raise SpdyError(f"header name {name!r} is empty or not lower case")
            headers[name] = value
    except (struct.error, UnicodeDecodeError) as err:
        raise SpdyError(f"malformed header block: {err}")
    if pos != len(block):
        raise SpdyError("bytes after the header block's last pair")
    return headers


# ---------------------------------------------------------------------------------------------
# pods/exec and pods/attach: running the command
# ---------------------------------------------------------------------------------------------

def exec_status(returncode):
    """The Status kubectl reads on the error channel when the command has ended."""
    if returncode == 0:
        return {"metadata": {}, "status": "Success"}
    code = returncode if returncode > 0 else 128 - returncode  # killed by a signal
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: exit status {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


class ExecSession:
    """Runs one command for a client of the remote command protocol. A single thread owns the
    socket and the pipes (select() on all of them), so no two threads ever use the TLS
    connection at once. The transport is a subclass's (WebSocketExec, SpdyExec): it takes the
    client's bytes (on_client_bytes), sends output on a channel (send_channel) and ends the
    session with the Status (finish)."""

    def __init__(self, sock, argv, want_stdin, tty):
        self.sock = sock
        self.argv = argv
        self.want_stdin = want_stdin
        self.tty = tty
        self.stdin_pending = bytearray()
        self.stdin_close_requested = False
        self.client_gone = False
        self.running = False    # the command has started
        self.master = None      # the pseudo-terminal's master side, with tty=true
        self.early_size = None  # a terminal size that came before the terminal
        self.stdin_fd = None
        self.stdin_pipe = None  # the command's stdin, without a terminal
        self.outputs = {}

    # -- the transport's part ---------------------------------------------------------------

    def on_client_bytes(self, data):
        raise NotImplementedError

    def send_channel(self, channel, data):
        raise NotImplementedError

    def finish(self, status):
        raise NotImplementedError

    # -- the command ------------------------------------------------------------------------

    def start(self):
        """Starts the command. Its stdin, stdout and stderr are pipes, or with tty=true one
        pseudo-terminal, as a container's shell would have. Sets stdin_fd (None when the
        client sends no input) and outputs (file descriptor -> channel)."""
        if not self.tty:
            proc = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE if self.want_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            self.stdin_pipe = proc.stdin
            self.stdin_fd = proc.stdin.fileno() if proc.stdin else None
            self.outputs = {proc.stdout.fileno(): CH_STDOUT, proc.stderr.fileno(): CH_STDERR}
            return proc
        master, slave = pty.openpty()
        # setsid --ctty makes the terminal the command's controlling one (a shell then has job
        # control and Ctrl-C reaches it); without the tool the command still gets the terminal.
        setsid = shutil.which("setsid")
        argv = [setsid, "--ctty", "--"] + self.argv if setsid else self.argv
        try:
            proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                    start_new_session=not setsid)
        except OSError:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self.stdin_fd = master if self.want_stdin else None
        self.outputs = {master: CH_STDOUT}
        if self.early_size is not None:
            self.set_size(self.early_size)
        return proc

    def run(self):
        try:
            proc = self.start()
        except OSError as err:
            self.finish({"metadata": {}, "status": "Failure", "reason": "InternalError",
                         "code": 500,
                         "message": f'exec: "{self.argv[0]}": {err.strerror}'})
            return
        self.running = True
        with RUNNING_LOCK:
            RUNNING.add(proc)
        try:
            self.pump()
        except (OSError, ssl.SSLError):
            self.client_gone = True
        finally:
            if self.client_gone:
                kill(proc)
            with RUNNING_LOCK:
                RUNNING.discard(proc)
        returncode = proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
        if self.master is not None:
            os.close(self.master)
        if not self.client_gone:
            self.finish(exec_status(returncode))

    def pump(self):
        """Moves bytes until the command has closed its output (or the client has gone)."""
        if self.stdin_fd is not None:
            os.set_blocking(self.stdin_fd, False)
        if self.stdin_pending or self.stdin_close_requested:
            self.write_stdin()  # what came before the command started
        while self.outputs and not self.client_gone and not STOPPING.is_set():
            want_write = [self.stdin_fd] if self.stdin_fd is not None and self.stdin_pending \
                else []
            # TLS may hold decrypted bytes that select() cannot see.
            timeout = 0 if self.sock.pending() else 1.0
            readable, writable, _ = select.select([self.sock] + list(self.outputs), want_write,
                                                  [], timeout)
            if self.sock in readable or self.sock.pending():
                self.read_client()
            for fd in [f for f in readable if f in self.outputs]:
                self.forward_output(fd)
            if writable:
                self.write_stdin()
        if STOPPING.is_set():
            self.client_gone = True

    def forward_output(self, fd):
        try:
            data = os.read(fd, 32768)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # a terminal whose command has ended reads as EIO, not as end of file
        if data:
            self.send_channel(self.outputs[fd], data)
        else:
            del self.outputs[fd]

    def read_client(self):
        try:
            data = self.sock.recv(65536)
        except ssl.SSLWantReadError:
            return
        if not data:
            self.client_gone = True
            return
        self.on_client_bytes(data)

    def input(self, data):
        """Bytes for the command's stdin; kept until the command has started."""
        self.stdin_pending += data
        if self.running:
            self.write_stdin()

    def end_input(self):
        """The client has no more input."""
        self.stdin_close_requested = True
        if self.running:
            self.write_stdin()

    def resize(self, data):
        try:
            self.set_size(json.loads(data))
        except ValueError:
            pass  # a malformed resize changes nothing

    def set_size(self, size):
        """Gives the terminal the size a resize message names ({"Width":..,"Height":..}); one
        that comes before the terminal is there is kept for it."""
        if self.master is None:
            self.early_size = size
            return
        try:
            winsize = struct.pack("HHHH", int(size.get("Height", 0)), int(size.get("Width", 0)),
                                  0, 0)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, winsize)
        except (ValueError, AttributeError, OSError, TypeError, OverflowError, struct.error):
            pass  # a malformed size changes nothing

    def write_stdin(self):
        if self.stdin_fd is None:
            self.stdin_pending.clear()
            return
        try:
            while self.stdin_pending:
                written = os.write(self.stdin_fd, self.stdin_pending[:65536])
                del self.stdin_pending[:written]
        except BlockingIOError:
            return
        except OSError:  # the command no longer reads
            self.stdin_pending.clear()
        if self.stdin_close_requested and not self.stdin_pending:
            self.close_stdin()

    def close_stdin(self):
        if self.master is not None:
            # A terminal is not closed: end of input there is Ctrl-D at the start of a line.
            os.write(self.master, b"\x04")
        else:
            self.stdin_pipe.close()
        self.stdin_fd = None
        self.stdin_close_requested = False

    def await_client_end(self, ended):
        """Reads what the client still sends, for up to a second, until it closes the connection
        or ended() (after the bytes are fed to the parser) says its last message came."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            if not self.sock.pending():
                ready, _, _ = select.select([self.sock], [], [], deadline - time.monotonic())
                if not ready:
                    return
            try:
                data = self.sock.recv(65536)
            except ssl.SSLWantReadError:
                continue
            if not data:
                return
            self.parser.feed(data)
            if ended():
                return


class WebSocketExec(ExecSession):
    """The remote command protocol over WebSocket (v5.channel.k8s.io or v4.channel.k8s.io):
    every message starts with its channel's byte."""

    def __init__(self, sock, protocol, argv, want_stdin, tty):
        super().__init__(sock, argv, want_stdin, tty)
        self.protocol = protocol
        self.parser = FrameParser()

    def send(self, opcode, payload):
        self.sock.sendall(ws_frame(opcode, payload))

    def send_channel(self, channel, data):
        self.send(OP_BINARY, bytes([channel]) + data)

    def on_client_bytes(self, data):
        self.parser.feed(data)
        for opcode, payload in self.parser.messages():
            self.on_message(opcode, payload)

    def on_message(self, opcode, payload):
        if opcode == OP_PING:
            self.send(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.send(OP_CLOSE, payload[:2])
            self.client_gone = True
        elif opcode in (OP_BINARY, OP_TEXT) and payload:
            channel, data = payload[0], payload[1:]
            if channel == CH_STDIN and self.stdin_fd is not None:
                self.input(data)
            elif channel == CH_CLOSE and data[:1] == bytes([CH_STDIN]):
                self.end_input()  # v5: the client has no more input
            elif channel == CH_RESIZE and self.master is not None:
                self.resize(data)

    def finish(self, status):
        """Sends the Status on the error channel, then closes as the real server does."""
        try:
            self.send_channel(CH_ERROR, json.dumps(status).encode())
            self.send(OP_CLOSE, (1000).to_bytes(2, "big"))
            self.await_close_reply()
        except (OSError, ssl.SSLError):
            pass

    def await_close_reply(self):
        self.await_client_end(
            lambda: any(op == OP_CLOSE for op, _ in self.parser.messages()))


class SpdyExec(ExecSession):
    """The remote command protocol over SPDY/3.1, as the kubelet serves it (v5.channel.k8s.io
    or v4.channel.k8s.io, alike here). The client opens one stream per channel with a
    SYN_STREAM whose "streamtype" header names it (error, stdin, stdout, stderr, resize) and
    waits for the SYN_REPLY before it opens the next. The command starts once the streams the
    query asks for are all open. At its end the Status goes on the error stream, the streams
    the server writes end with FIN, and GOAWAY closes the connection."""

    STREAM_CREATION_TIMEOUT = 30.0  # seconds, the kubelet's

    def __init__(self, sock, argv, want_stdin, want_stdout, want_stderr, tty):
        super().__init__(sock, argv, want_stdin, tty)
        self.parser = SpdyFrameParser()
        # One zlib stream per direction for the whole connection.
        self.inflater = zlib.decompressobj(zdict=SPDY3_DICTIONARY)
        self.deflater = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zdict=SPDY3_DICTIONARY)
        # The streams the kubelet waits for before it runs the command.
        self.expected = {"error"}
        if want_stdin:
            self.expected.add("stdin")
        if want_stdout:
            self.expected.add("stdout")
        if want_stderr and not tty:
            self.expected.add("stderr")
        if tty:
            self.expected.add("resize")
        self.streams = {}       # stream type -> stream id
        self.types = {}         # stream id -> stream type
        self.resize_pending = bytearray()
        self.protocol_error = None

    def run(self):
        if self.await_streams():
            super().run()
        if self.protocol_error is not None:
            self.go_away(SPDY_GOAWAY_PROTOCOL_ERROR)

    def await_streams(self):
        """True once the client has opened every stream the query asks for."""
        deadline = time.monotonic() + self.STREAM_CREATION_TIMEOUT
        try:
            while not self.client_gone and not STOPPING.is_set():
                if self.expected <= set(self.streams):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.finish({"metadata": {}, "status": "Failure", "reason": "Timeout",
                                 "code": 408,
                                 "message": "timed out waiting for client to create streams"})
                    return False
                if not self.sock.pending():
                    ready, _, _ = select.select([self.sock], [], [], min(remaining, 1.0))
                    if not ready:
                        continue
                self.read_client()
        except (OSError, ssl.SSLError):
            self.client_gone = True
        return False

    # -- sending ----------------------------------------------------------------------------

    def headers_frame(self, frame_type, stream_id, pairs):
        block = self.deflater.compress(spdy_header_block(pairs))
        block += self.deflater.flush(zlib.Z_SYNC_FLUSH)
        return spdy_control_frame(frame_type, 0, struct.pack(">I", stream_id) + block)

    def send_channel(self, channel, data):
        stream_id = self.streams.get(SPDY_CHANNEL_STREAMS[channel])
        if stream_id is None:
            return  # the client did not ask for this output (or reset its stream)
        for pos in range(0, len(data), SPDY_MAX_DATA):
            self.sock.sendall(spdy_data_frame(stream_id, 0, data[pos:pos + SPDY_MAX_DATA]))

    def go_away(self, status):
        try:
            self.sock.sendall(spdy_control_frame(
                SPDY_GOAWAY, 0, struct.pack(">II", self.parser.last_stream_id, status)))
        except (OSError, ssl.SSLError):
            pass

    def finish(self, status):
        """The Status on the error stream, FIN on the streams the server writes, GOAWAY; then
        the client closes the connection (waited for a moment, so that nothing it still
        sends makes the close a reset that could lose the end of the output)."""
        try:
            self.send_channel(CH_ERROR, json.dumps(status).encode())
            for name in ("error", "stdout", "stderr"):
                if name in self.streams:
                    self.sock.sendall(spdy_data_frame(self.streams[name], SPDY_FLAG_FIN, b""))
            self.go_away(SPDY_GOAWAY_OK)
            self.await_client_close()
        except (OSError, ssl.SSLError):
            pass

    def await_client_close(self):
        def goaway_came():
            try:
                return any(kind == "control" and frame_type == SPDY_GOAWAY
                           for kind, frame_type, _, _ in self.parser.frames())
            except SpdyError:
                return True
        self.await_client_end(goaway_came)

    # -- receiving --------------------------------------------------------------------------

    def on_client_bytes(self, data):
        self.parser.feed(data)
        try:
            for kind, ident, flags, payload in self.parser.frames():
                if kind == "data":
                    self.on_data(ident, flags, payload)
                else:
                    self.on_control(ident, flags, payload)
        except (SpdyError, zlib.error) as err:
            # No SPDY peer sends this: the connection ends (the command with it).
            self.protocol_error = str(err)
            self.client_gone = True

    def read_headers(self, block):
        try:
            data = self.inflater.decompress(block, SPDY_MAX_HEADER_BLOCK)
        except zlib.error as err:
            raise SpdyError(f"header block does not decompress: {err}")
        if self.inflater.unconsumed_tail:
            raise SpdyError("header block too large")
        return spdy_parse_header_block(data)

    def on_control(self, frame_type, flags, payload):
        need = {SPDY_SYN_STREAM: 10, SPDY_SYN_REPLY: 4, SPDY_RST_STREAM: 8, SPDY_SETTINGS: 4,
                SPDY_PING: 4, SPDY_GOAWAY: 8, SPDY_HEADERS: 4, SPDY_WINDOW_UPDATE: 8}
        if len(payload) < need.get(frame_type, 0):
            raise SpdyError(f"control frame of type {frame_type} too short")
        if frame_type == SPDY_SYN_STREAM:
            stream_id = struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF
            headers = self.read_headers(payload[10:])
            if stream_id <= self.parser.last_stream_id:  # 0, or not above the last one
                raise SpdyError(f"SYN_STREAM for stream {stream_id}, not a new one")
            self.parser.last_stream_id = stream_id
            self.sock.sendall(self.headers_frame(SPDY_SYN_REPLY, stream_id, []))
            stream_type = headers.get("streamtype", "")
            self.types[stream_id] = stream_type
            if stream_type in SPDY_STREAM_TYPES and stream_type not in self.streams:
                self.streams[stream_type] = stream_id
            if flags & SPDY_FLAG_FIN:
                self.on_data(stream_id, SPDY_FLAG_FIN, b"")
        elif frame_type in (SPDY_SYN_REPLY, SPDY_HEADERS):
            self.read_headers(payload[4:])  # read, to keep the zlib stream in step; unused
        elif frame_type == SPDY_RST_STREAM:
            stream_id = struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF
            stream_type = self.types.pop(stream_id, None)
            if self.streams.get(stream_type) == stream_id:
                del self.streams[stream_type]
                if stream_type == "stdin":
                    self.end_input()
        elif frame_type == SPDY_PING:
            # The stand-in never pings, so every PING is the client's: echoed as the answer.
            self.sock.sendall(spdy_control_frame(SPDY_PING, 0, payload[:4]))
        elif frame_type == SPDY_GOAWAY:
            self.client_gone = True  # the client is leaving before the command's end
        # SETTINGS and WINDOW_UPDATE change nothing here (the client's window is not kept to;
        # spdystream does not keep to flow control either); unknown types are ignored.

    def on_data(self, stream_id, flags, data):
        stream_type = self.types.get(stream_id)
        if stream_type is None or self.streams.get(stream_type) != stream_id:
            return  # a stream that was never opened, was reset, or is not one of ours
        if stream_type == "stdin" and self.want_stdin:
            if data:
                self.input(data)
            if flags & SPDY_FLAG_FIN:
                self.end_input()
        elif stream_type == "resize":
            # JSON objects ({"Width":..,"Height":..}), one per change, whole or in pieces.
            self.resize_pending += data
            text = self.resize_pending.decode("utf-8", "replace")
            pos, decoder = 0, json.JSONDecoder()
            while True:
                while pos < len(text) and text[pos].isspace():
                    pos += 1
                try:
                    size, pos = decoder.raw_decode(text, pos)
                except ValueError:
                    break  # nothing more, or not whole yet
                self.set_size(size)
            rest = text[pos:].encode()
            self.resize_pending = bytearray(rest if len(rest) < 4096 else b"")  # 4 KiB: no size


# ---------------------------------------------------------------------------------------------
# pods/portforward: the SPDY/3.1 port-forward protocol (portforward.k8s.io), over the upgraded
# connection itself (SPDY/3.1) or inside binary WebSocket messages (the tunnel of kubectl 1.31+,
# subprotocol SPDY/3.1+portforward.k8s.io). The transport classes below carry bytes; the
# session above them (PortForwardSession) is the same for both.
# ---------------------------------------------------------------------------------------------

PORTFORWARD_PROTOCOL = "portforward.k8s.io"
PORTFORWARD_TUNNEL_PROTOCOL = "SPDY/3.1+" + PORTFORWARD_PROTOCOL
SPDY_RST_PROTOCOL_ERROR, SPDY_RST_REFUSED_STREAM = 1, 3
# A WebSocket message the client sends is kept whole before its bytes are used: no bigger than
# this (a SPDY frame is at most 16 MiB and 8 bytes, and kubectl writes far smaller ones).
WS_MAX_MESSAGE = (1 << 24) + 4096
# Bytes read from the client and not yet written to the forwarded connections: past this the
# client's connection is not read until they have gone (spdystream keeps to no flow control,
# so this is the only back pressure there is).
PORTFORWARD_MAX_PENDING = 4 << 20


class SocketTransport:
    """SPDY straight on the upgraded connection (kubectl with KUBECTL_PORT_FORWARD_WEBSOCKETS
    =false, and kubectl before 1.31)."""

    name = "SPDY/3.1"

    def __init__(self, sock):
        self.sock = sock

    def buffered(self):
        """True when bytes are already in hand (inside TLS) and select() would not see them."""
        return self.sock.pending() > 0

    def receive(self):
        """The next bytes of the client's SPDY stream (possibly none yet), or None at its end."""
        try:
            data = self.sock.recv(65536)
        except ssl.SSLWantReadError:
            return b""
        return data or None

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        pass  # the handler closes the socket


class WebSocketTransport(SocketTransport):
    """SPDY inside a WebSocket (client-go's tunneling connection): every binary message the
    client sends carries the next bytes of its SPDY stream (frames may be split over messages
    or share one); every write of the server is one binary message. WebSocket pings are
    answered; a close message ends the stream. Text messages are not part of the protocol."""

    name = "WebSocket"

    def __init__(self, sock):
        super().__init__(sock)
        self.parser = FrameParser()
        self.closed = False

    def receive(self):
        if self.closed:
            return None
        data = super().receive()
        if data is None:
            return None
        self.parser.feed(data)
        pending = len(self.parser.buffer) + len(self.parser.fragments or b"")
        if pending > WS_MAX_MESSAGE:
            raise SpdyError(f"WebSocket message of more than {WS_MAX_MESSAGE} bytes")
        out = bytearray()
        for opcode, payload in self.parser.messages():
            if opcode == OP_BINARY:
                out += payload
            elif opcode == OP_PING:
                self.sock.sendall(ws_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                self.sock.sendall(ws_frame(OP_CLOSE, payload[:2]))
                self.closed = True
                break
            elif opcode == OP_TEXT:
                raise SpdyError("text message in a SPDY tunnel")
        if self.closed and not out:
            return None
        return bytes(out)

    def send(self, data):
        self.sock.sendall(ws_frame(OP_BINARY, data))

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.sendall(ws_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
            except (OSError, ssl.SSLError):
                pass


class ForwardedConnection:
    """One local connection of kubectl: its error and data streams (paired by the "requestid"
    header) and, once both are open, the TCP connection to the pod's port."""

    def __init__(self, request_id):
        self.request_id = request_id
        self.created = time.monotonic()
        self.error_id = None
        self.data_id = None
        self.port = ""
        self.target = None            # the socket to the pod's port
        self.to_target = bytearray()  # client bytes not yet written to it
        self.client_fin = False       # the client's FIN on the data stream
        self.shut = False             # shutdown(SHUT_WR) done toward the target
        self.target_eof = False       # the target's end, passed on as FIN


class PortForwardSession:
    """The kubelet's side of the SPDY/3.1 port-forward protocol, on any transport. For every
    local connection kubectl opens two streams, "error" and "data", each with the headers
    streamtype, port and requestid, and waits for the SYN_REPLY of each. Once both are there
    the pod's port is connected to and bytes go both ways as DATA frames on the data stream;
    the client's FIN there half-closes the pod connection, the pod's end is FIN on the data and
    error streams. When the pod's port cannot be reached the kubelet's error text goes on the
    error stream, then FIN on both. One thread serves the whole connection (select over the
    client and every pod connection).

    The stand-in has no pods: a pod's port P is the same port P on this machine's loopback
    (127.0.0.1:P), where the tests start a server."""

    STREAM_PAIR_TIMEOUT = 30.0  # seconds the kubelet waits for the other stream of a pair

    def __init__(self, transport, pod_name, pod_uid):
        self.transport = transport
        self.pod_name = pod_name
        self.pod_uid = pod_uid
        self.parser = SpdyFrameParser()
        self.inflater = zlib.decompressobj(zdict=SPDY3_DICTIONARY)
        self.deflater = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zdict=SPDY3_DICTIONARY)
        self.pairs = {}     # requestid -> ForwardedConnection
        self.streams = {}   # stream id -> ForwardedConnection
        self.targets = {}   # pod connection socket -> ForwardedConnection
        self.client_gone = False
        self.protocol_error = None

    # -- the loop ---------------------------------------------------------------------------

    def run(self):
        try:
            while not self.client_gone and not STOPPING.is_set():
                self.step()
        except (OSError, ssl.SSLError):
            self.client_gone = True
        finally:
            for target in list(self.targets):
                target.close()
            self.targets.clear()
        try:
            if self.protocol_error is not None:
                self.go_away(SPDY_GOAWAY_PROTOCOL_ERROR)
            elif STOPPING.is_set():
                self.go_away(SPDY_GOAWAY_OK)
        except (OSError, ssl.SSLError):
            pass
        self.transport.close()

    def step(self):
        pending = sum(len(c.to_target) for c in self.targets.values())
        read_client = pending < PORTFORWARD_MAX_PENDING
        if read_client and self.transport.buffered():
            self.read_client()
            return
        readers = [t for t, c in self.targets.items() if not c.target_eof]
        if read_client:
            readers.append(self.transport.sock)
        writers = [t for t, c in self.targets.items() if c.to_target]
        readable, writable, _ = select.select(readers, writers, [], 1.0)
        for target in writable:
            if target in self.targets:
                self.flush(self.targets[target])
        for sock in readable:
            if sock is self.transport.sock:
                self.read_client()
            elif sock in self.targets:
                self.read_target(self.targets[sock])
        self.expire_pairs()

    def read_client(self):
        try:
            data = self.transport.receive()
            if data is None:
                self.client_gone = True
                return
            self.parser.feed(data)
            for kind, ident, flags, payload in self.parser.frames():
                if kind == "data":
                    self.on_data(ident, flags, payload)
                else:
                    self.on_control(ident, flags, payload)
        except (SpdyError, zlib.error) as err:
            self.protocol_error = str(err)
            self.client_gone = True

    def expire_pairs(self):
        now = time.monotonic()
        for conn in list(self.pairs.values()):
            if conn.target is None and now - conn.created > self.STREAM_PAIR_TIMEOUT:
                self.fail(conn, "timed out waiting for streams")

    # -- sending ----------------------------------------------------------------------------

    def go_away(self, status):
        self.transport.send(spdy_control_frame(
            SPDY_GOAWAY, 0, struct.pack(">II", self.parser.last_stream_id, status)))

    def send_data(self, stream_id, data, fin=False):
        if stream_id is None:
            return
        for pos in range(0, len(data), SPDY_MAX_DATA):
            self.transport.send(spdy_data_frame(stream_id, 0, data[pos:pos + SPDY_MAX_DATA]))
        if fin:
            self.transport.send(spdy_data_frame(stream_id, SPDY_FLAG_FIN, b""))

    def reset(self, stream_id, status):
        self.transport.send(spdy_control_frame(SPDY_RST_STREAM, 0,
                                               struct.pack(">II", stream_id, status)))

    # -- the client's frames ----------------------------------------------------------------

    def read_headers(self, block):
        try:
            data = self.inflater.decompress(block, SPDY_MAX_HEADER_BLOCK)
        except zlib.error as err:
            raise SpdyError(f"header block does not decompress: {err}")
        if self.inflater.unconsumed_tail:
            raise SpdyError("header block too large")
        return spdy_parse_header_block(data)

    def on_control(self, frame_type, flags, payload):
        need = {SPDY_SYN_STREAM: 10, SPDY_SYN_REPLY: 4, SPDY_RST_STREAM: 8, SPDY_SETTINGS: 4,
                SPDY_PING: 4, SPDY_GOAWAY: 8, SPDY_HEADERS: 4, SPDY_WINDOW_UPDATE: 8}
        if len(payload) < need.get(frame_type, 0):
            raise SpdyError(f"control frame of type {frame_type} too short")
        if frame_type == SPDY_SYN_STREAM:
            stream_id = struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF
            headers = self.read_headers(payload[10:])
            if stream_id <= self.parser.last_stream_id:
                raise SpdyError(f"SYN_STREAM for stream {stream_id}, not a new one")
            self.parser.last_stream_id = stream_id
            self.open_stream(stream_id, headers)
            if flags & SPDY_FLAG_FIN:
                self.on_data(stream_id, SPDY_FLAG_FIN, b"")
        elif frame_type in (SPDY_SYN_REPLY, SPDY_HEADERS):
            self.read_headers(payload[4:])  # keeps the zlib stream in step; unused
        elif frame_type == SPDY_RST_STREAM:
            stream_id = struct.unpack_from(">I", payload)[0] & 0x7FFFFFFF
            conn = self.streams.get(stream_id)
            if conn is not None:
                self.drop(conn)  # the client gave up this connection
        elif frame_type == SPDY_PING:
            self.transport.send(spdy_control_frame(SPDY_PING, 0, payload[:4]))
        elif frame_type == SPDY_GOAWAY:
            self.client_gone = True
        # SETTINGS, WINDOW_UPDATE and unknown types change nothing here.

    def open_stream(self, stream_id, headers):
        stream_type = headers.get("streamtype", "")
        request_id = headers.get("requestid")
        if request_id is None:
            # Clients from before the requestid header: the data stream follows its error
            # stream, two stream ids on (as the kubelet pairs them).
            request_id = str(stream_id if stream_type == "error" else stream_id - 2)
        conn = self.pairs.get(request_id)
        if stream_type not in ("error", "data") or (
                conn is not None and (conn.error_id if stream_type == "error"
                                      else conn.data_id) is not None):
            self.reset(stream_id, SPDY_RST_REFUSED_STREAM)  # unknown type, or a second one
            return
        self.transport.send(self.headers_frame(SPDY_SYN_REPLY, stream_id, []))
        if conn is None:
            conn = self.pairs[request_id] = ForwardedConnection(request_id)
        self.streams[stream_id] = conn
        if stream_type == "error":
            conn.error_id = stream_id
        else:
            conn.data_id = stream_id
            conn.port = headers.get("port", "")
        if conn.error_id is not None and conn.data_id is not None:
            self.connect(conn)

    def headers_frame(self, frame_type, stream_id, pairs):
        block = self.deflater.compress(spdy_header_block(pairs))
        block += self.deflater.flush(zlib.Z_SYNC_FLUSH)
        return spdy_control_frame(frame_type, 0, struct.pack(">I", stream_id) + block)

    def on_data(self, stream_id, flags, data):
        conn = self.streams.get(stream_id)
        if conn is None or stream_id != conn.data_id or conn.client_fin:
            return  # the error stream (the client writes nothing there), or a closed stream
        conn.to_target += data
        if flags & SPDY_FLAG_FIN:
            conn.client_fin = True
        if conn.target is not None:
            self.flush(conn)

    # -- the pod's side ---------------------------------------------------------------------

    def connect(self, conn):
        try:
            port = int(conn.port)
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            self.fail(conn, f"error forwarding port {conn.port} to pod {self.pod_name}, uid "
                            f"{self.pod_uid}: invalid port {conn.port!r}")
            return
        try:
            target = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError as err:
            reason = os.strerror(err.errno).lower() if err.errno else str(err)
            self.fail(conn, f"error forwarding port {port} to pod {self.pod_name}, uid "
                            f"{self.pod_uid}: dial tcp 127.0.0.1:{port}: connect: {reason}")
            return
        target.setblocking(False)
        conn.target = target
        self.targets[target] = conn
        del self.pairs[conn.request_id]
        self.flush(conn)

    def fail(self, conn, message):
        """The kubelet's answer when the port cannot be forwarded: the text on the error
        stream, then FIN on both streams."""
        self.send_data(conn.error_id, message.encode(), fin=True)
        self.send_data(conn.data_id, b"", fin=True)
        self.drop(conn)

    def flush(self, conn):
        try:
            while conn.to_target:
                sent = conn.target.send(conn.to_target[:65536])
                del conn.to_target[:sent]
        except BlockingIOError:
            return
        except OSError:  # the pod's side is gone: what is left cannot be delivered
            conn.to_target.clear()
            self.target_ended(conn)
            return
        if conn.client_fin and not conn.shut:
            conn.shut = True
            try:
                conn.target.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.maybe_done(conn)

    def read_target(self, conn):
        try:
            data = conn.target.recv(SPDY_MAX_DATA)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.send_data(conn.data_id, data)
        else:
            self.target_ended(conn)

    def target_ended(self, conn):
        if not conn.target_eof:
            conn.target_eof = True
            self.send_data(conn.data_id, b"", fin=True)
            self.send_data(conn.error_id, b"", fin=True)
        self.maybe_done(conn)

    def maybe_done(self, conn):
        if conn.target_eof and (conn.shut or conn.to_target == b"" and conn.client_fin):
            self.drop(conn)

    def drop(self, conn):
        """Forgets a connection: its pod connection is closed, its streams are no more."""
        if conn.target is not None:
            self.targets.pop(conn.target, None)
            conn.target.close()
            conn.target = None
        conn.target_eof = True
        self.pairs.pop(conn.request_id, None)
        for stream_id in (conn.error_id, conn.data_id):
            if stream_id is not None and self.streams.get(stream_id) is conn:
                del self.streams[stream_id]


def kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and whatever it started
    except OSError:
        proc.kill()  # not yet the leader of its own group
    proc.wait()


# ---------------------------------------------------------------------------------------------
# Pod logs
# ---------------------------------------------------------------------------------------------

LOG_LINES = [
    "starting application version 1.0",
    "user alice@example.com logged in",
    "ssn 123-45-6789 verified for alice@example.com",
    "payment with card 4111 1111 1111 1111 accepted",
    "GET /healthz 200",
    "user bob@example.org logged out",
]


def log_line(text, timestamps):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (f"{stamp} {text}\n" if timestamps else f"{text}\n").encode()


# ---------------------------------------------------------------------------------------------
# Protobuf request bodies
# ---------------------------------------------------------------------------------------------
# kubectl's typed clients (create secret, create configmap, create namespace, create token,
# create role...) send protobuf and do not fall back to JSON when refused, so the kinds they
# create are decoded here: only the fields those commands fill in. Answers are always JSON,
# which the same clients accept.

PROTOBUF = "application/vnd.kubernetes.protobuf"
PROTOBUF_MAGIC = b"k8s\x00"

# A message schema: field number -> (JSON name, type). A type is "string", "bytes" (base64 in
# JSON), "int", "bool", another schema, ("map", value type) for map<string, ...> or
# ("list", type) for repeated fields.
OBJECT_META = {1: ("name", "string"), 2: ("generateName", "string"),
               3: ("namespace", "string"), 11: ("labels", ("map", "string")),
               12: ("annotations", ("map", "string")), 14: ("finalizers", ("list", "string"))}
POLICY_RULE = {1: ("verbs", ("list", "string")), 2: ("apiGroups", ("list", "string")),
               3: ("resources", ("list", "string")), 4: ("resourceNames", ("list", "string")),
               5: ("nonResourceURLs", ("list", "string"))}
SUBJECT = {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"),
           4: ("namespace", "string")}
ROLE_REF = {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}
BINDING = {1: ("metadata", OBJECT_META), 2: ("subjects", ("list", SUBJECT)),
           3: ("roleRef", ROLE_REF)}
CONTAINER = {1: ("name", "string"), 2: ("image", "string"), 3: ("command", ("list", "string")),
             4: ("args", ("list", "string")), 5: ("workingDir", "string"),
             6: ("ports", ("list", {1: ("name", "string"), 3: ("containerPort", "int"),
                                    4: ("protocol", "string")})),
             7: ("env", ("list", {1: ("name", "string"), 2: ("value", "string")}))}
POD_SPEC = {2: ("containers", ("list", CONTAINER)), 3: ("restartPolicy", "string"),
            8: ("serviceAccountName", "string"), 10: ("nodeName", "string")}

SERVICE_PORT = {1: ("name", "string"), 2: ("protocol", "string"), 3: ("port", "int"),
                4: ("targetPort", "intOrString"), 5: ("nodePort", "int")}

PROTOBUF_KINDS = {
    "Secret": {1: ("metadata", OBJECT_META), 2: ("data", ("map", "bytes")),
               3: ("type", "string"), 4: ("stringData", ("map", "string")),
               5: ("immutable", "bool")},
    "ConfigMap": {1: ("metadata", OBJECT_META), 2: ("data", ("map", "string")),
                  3: ("binaryData", ("map", "bytes")), 4: ("immutable", "bool")},
    "Namespace": {1: ("metadata", OBJECT_META),
                  2: ("spec", {1: ("finalizers", ("list", "string"))})},
    "ServiceAccount": {1: ("metadata", OBJECT_META),
                       4: ("automountServiceAccountToken", "bool")},
    "TokenRequest": {1: ("metadata", OBJECT_META),
                     2: ("spec", {1: ("audiences", ("list", "string")),
                                  4: ("expirationSeconds", "int")})},
    "Role": {1: ("metadata", OBJECT_META), 2: ("rules", ("list", POLICY_RULE))},
    "ClusterRole": {1: ("metadata", OBJECT_META), 2: ("rules", ("list", POLICY_RULE))},
    "RoleBinding": BINDING,
    "ClusterRoleBinding": BINDING,
    "Pod": {1: ("metadata", OBJECT_META), 2: ("spec", POD_SPEC)},
    "SelfSubjectAccessReview": {
        1: ("metadata", OBJECT_META),
        2: ("spec", {1: ("resourceAttributes", {
            1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
            4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
            7: ("name", "string")}),
            2: ("nonResourceAttributes", {1: ("path", "string"), 2: ("verb", "string")})})},
    "Service": {1: ("metadata", OBJECT_META),
                2: ("spec", {1: ("ports", ("list", SERVICE_PORT)),
                             2: ("selector", ("map", "string")), 3: ("clusterIP", "string"),
                             4: ("type", "string")})},
    "Deployment": {1: ("metadata", OBJECT_META),
                   2: ("spec", {1: ("replicas", "int"),
                                2: ("selector", {1: ("matchLabels", ("map", "string"))}),
                                3: ("template", {1: ("metadata", OBJECT_META),
                                                 2: ("spec", POD_SPEC)})})},
}


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def wire_fields(data):
    """Yields (field number, value) for each field: an int for varints, bytes otherwise."""
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, pos = read_varint(data, pos)
        elif wire_type == 2:
            length, pos = read_varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire_type in (1, 5):
            size = 8 if wire_type == 1 else 4
            value, pos = data[pos:pos + size], pos + size
        else:
            raise bad_request(f"protobuf wire type {wire_type} is not understood here")
        yield number, value


def decode_value(kind, value):
    if kind == "string":
        return bytes(value).decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if kind == "intOrString":
        # IntOrString: type 0 is an int (intVal), type 1 a string (strVal).
        fields = decode_message(value, {1: ("type", "int"), 2: ("intVal", "int"),
                                        3: ("strVal", "string")})
        return fields.get("strVal", "") if fields.get("type") == 1 else fields.get("intVal", 0)
    return decode_message(value, kind)


def decode_message(data, schema):
    """Go's encoder writes every field, empty or not; empty ones are left out here, as its
    JSON encoder would (omitempty), except in lists where "" means something (apiGroups)."""
    out = {}
    for number, value in wire_fields(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "list":
            out.setdefault(name, []).append(decode_value(kind[1], value))
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = decode_message(value, {1: ("key", "string"), 2: ("value", kind[1])})
            out.setdefault(name, {})[entry.get("key", "")] = entry.get("value", "")
        else:
            decoded = decode_value(kind, value)
            if decoded not in ("", 0, False, {}):
                out[name] = decoded
    return out


def decode_protobuf_object(body):
    """A protobuf body is "k8s\0" and a runtime.Unknown: its type (apiVersion, kind) and the
    object's own message."""
    if not body.startswith(PROTOBUF_MAGIC):
        raise bad_request("a protobuf body must start with the k8s magic number")
    envelope = decode_message(body[len(PROTOBUF_MAGIC):], {
        1: ("typeMeta", {1: ("apiVersion", "string"), 2: ("kind", "string")}),
        2: ("raw", "bytes")})
    type_meta = envelope.get("typeMeta", {})
    schema = PROTOBUF_KINDS.get(type_meta.get("kind"))
    if schema is None:
        raise ApiError(415, "UnsupportedMediaType",
                       f"this stand-in decodes protobuf only for {', '.join(PROTOBUF_KINDS)}; "
                       f"send {type_meta.get('kind')} as application/json")
    obj = decode_message(base64.b64decode(envelope.get("raw", "")), schema)
    obj.update(type_meta)
    return obj


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------

class Route:
    """What a path under /api/v1 or /apis/GROUP/VERSION names."""

    def __init__(self, rtype, namespace, name, subresource):
        self.rtype = rtype
        self.namespace = namespace
        self.name = name
        self.subresource = subresource


def parse_route(parts):
    """parts: the path split on "/", without empty pieces. Returns (group, version, rest) for
    API paths or None."""
    if len(parts) >= 2 and parts[0] == "api" and parts[1] == "v1":
        return "", "v1", parts[2:]
    if len(parts) >= 3 and parts[0] == "apis":
        return parts[1], parts[2], parts[3:]
    return None


def resolve(group, version, rest):
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise path_not_found()
    rtype = find_type(group, version, rest[0])
    if rtype is None or (namespace is not None and not rtype.namespaced):
        raise path_not_found()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if rtype.namespaced and name is not None and namespace is None:
        raise path_not_found()
    return Route(rtype, namespace, name, subresource)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-standin-apiserver"

    # -- plumbing ---------------------------------------------------------------------------

    def log_message(self, fmt, *args):
        pass  # the --log file records requests; stderr stays quiet

    def do_GET(self):
        self.handle_request()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def handle_request(self):
        url = urlsplit(self.path)
        self.query = parse_qs(url.query, keep_blank_values=True)
        self.server.record(self)
        self.headers_sent = False
        try:
            # Read the body before anything can fail: left unread on a kept-alive
            # connection, it would be taken for the next request.
            self.body = self.read_body()
            self.authenticate()
            self.dispatch([p for p in url.path.split("/") if p])
        except ApiError as err:
            if self.headers_sent:  # too late for a Status: the answer has begun
                self.close_connection = True
            else:
                self.send_json(err.code, err.status(), headers=err.headers)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as err:  # a bug here must not hang the client
            if self.headers_sent:
                self.close_connection = True
            else:
                self.send_json(500, ApiError(500, "InternalError",
                                             f"stand-in error: {err!r}").status())
            raise

    def param(self, name, default=None):
        return self.query.get(name, [default])[0]

    def int_param(self, name, default):
        """A whole-number parameter; absent or empty means the default."""
        try:
            return int(self.param(name) or default)
        except ValueError:
            raise bad_request(f"{name}: not a whole number: {self.param(name)!r}")

    def flag(self, name):
        return (self.param(name) or "").lower() in ("true", "1")

    def read_body(self):
        """The request body, whole (bodies sent to an API server are small)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(body)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def read_json(self):
        kind = self.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if kind == PROTOBUF:
            return decode_protobuf_object(self.body)
        if kind not in ("application/json", "application/merge-patch+json",
                        "application/strategic-merge-patch+json"):
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted "
                           "media types include: application/json")
        try:
            value = json.loads(self.body or b"{}")
        except ValueError as err:
            raise bad_request(f"the body is not JSON: {err}")
        if not isinstance(value, dict):
            raise bad_request("the body is not a JSON object")
        return value

    def send_json(self, code, body, content_type="application/json", headers=()):
        self.send_data(code, json.dumps(body).encode(), content_type, headers)

    def send_data(self, code, data, content_type="application/json", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.headers_sent = True
        if self.command != "HEAD":
            self.wfile.write(data)

    def start_chunked(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.headers_sent = True

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")

    def client_left(self):
        """True when the client closed its side during a streamed answer (it sends nothing
        else on the connection meanwhile, so anything readable means it has gone)."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        return bool(readable)

    # -- authentication ---------------------------------------------------------------------

    def authenticate(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and hmac.compare_digest(
                auth[len("Bearer "):].strip().encode(), self.server.token.encode()):
            return
        # The TLS layer accepts a client certificate only if --client-ca signed it.
        if self.server.client_ca and self.connection.getpeercert():
            return
        raise ApiError(401, "Unauthorized", "Unauthorized")

    # -- routing ----------------------------------------------------------------------------

    def dispatch(self, parts):
        if self.command in ("HEAD", "OPTIONS"):
            raise method_not_allowed()
        if parts == ["version"]:
            return self.get_only(lambda: SERVER_VERSION)
        if parts == ["api"]:
            return self.get_only(lambda: {"kind": "APIVersions", "versions": ["v1"],
                                          "serverAddressByClientCIDRs": [
                                              {"clientCIDR": "0.0.0.0/0",
                                               "serverAddress": "127.0.0.1"}]})
        if parts == ["apis"]:
            return self.get_only(api_group_list)
        if parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"
                                      and parts[1] in API_GROUPS and parts[2] == "v1"):
            group = "" if parts[0] == "api" else parts[1]
            return self.get_only(lambda: api_resource_list(group, "v1"))
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in API_GROUPS:
            return self.get_only(lambda: api_group(parts[1]))
        if parts[:2] == ["openapi", "v3"]:
            return self.openapi_v3(parts[2:])
        api = parse_route(parts)
        if api is None:
            raise path_not_found()
        route = resolve(*api)
        if route.subresource:
            return self.subresource(route)
        if route.name is None:
            return self.collection(route)
        return self.item(route)

    def get_only(self, body):
        if self.command != "GET":
            raise method_not_allowed()
        # Asked for aggregated discovery or not, the answer is the legacy kind as plain JSON:
        # kubectl sees the Content-Type and falls back to reading it the old way.
        self.send_json(200, body())

    def openapi_v3(self, parts):
        """Just enough OpenAPI v3 for kubectl create/apply to see that the server validates
        fields itself (the fieldValidation parameter); without it kubectl wants /openapi/v2
        to validate on its own side and refuses to go on."""
        if not parts:
            return self.get_only(openapi_v3_index)
        group_version = "/".join(parts)
        for group, version in {(t.group, t.version) for t in RESOURCE_TYPES}:
            if group_version == gv_path(group, version):
                return self.get_only(lambda: openapi_v3_document(group, version))
        raise path_not_found()

    def collection(self, route):
        rtype, store = route.rtype, self.server.store
        if self.command == "GET":
            if self.flag("watch"):
                return self.watch(route)
            return self.list_collection(route)
        if self.command == "POST" and rtype.plural == "selfsubjectaccessreviews":
            review = self.read_json()
            review.update({"kind": rtype.kind, "apiVersion": rtype.api_version,
                           "status": {"allowed": True, "reason": "the stand-in allows all"}})
            return self.send_json(201, review)
        if self.command == "POST":
            obj = self.read_json()
            self.check_namespace(route, obj)
            return self.send_json(201, self.prepare_new(rtype, obj, store))
        if self.command == "DELETE":
            if "deletecollection" not in rtype.verbs:
                raise method_not_allowed()
            items, _ = store.list(rtype, self.list_filter(route))
            deleted = [store.delete(rtype, o["metadata"].get("namespace"), o["metadata"]["name"])
                       for o in items]
            return self.send_json(200, self.list_body(rtype, deleted, str(store.version)))
        raise method_not_allowed()

    def item(self, route):
        rtype, store = route.rtype, self.server.store
        ns, name = route.namespace, route.name
        if self.command == "GET":
            return self.send_object(rtype, store.get(rtype, ns, name))
        if self.command == "PUT":
            obj = self.read_json()
            self.check_namespace(route, obj)
            return self.send_json(200, store.update(rtype, ns, name, normalise(rtype, obj)))
        if self.command == "PATCH":
            return self.send_json(200, store.patch(rtype, ns, name, self.read_patch()))
        if self.command == "DELETE":
            # The DeleteOptions body (propagation, grace period) does not matter here.
            return self.send_json(200, store.delete(rtype, ns, name))
        raise method_not_allowed()

    def subresource(self, route):
        rtype, sub = route.rtype, route.subresource
        pod_types = rtype.plural == "pods"
        if pod_types and sub == "log" and self.command == "GET":
            return self.pod_log(route)
        if pod_types and sub in ("exec", "attach") and self.command in ("GET", "POST"):
            return self.pod_exec(route)
        if rtype.plural == "deployments" and sub == "scale":
            return self.scale(route)
        if rtype.plural == "serviceaccounts" and sub == "token" and self.command == "POST":
            return self.token_request(route)
        if pod_types and sub == "portforward" and self.command in ("GET", "POST"):
            return self.pod_portforward(route)
        if sub == "status":
            return self.item(route)
        raise path_not_found()

    # -- object helpers ---------------------------------------------------------------------

    def check_namespace(self, route, obj):
        meta = obj.setdefault("metadata", {})
        if route.rtype.namespaced:
            if meta.get("namespace") and meta["namespace"] != route.namespace:
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            meta["namespace"] = route.namespace

    def prepare_new(self, rtype, obj, store):
        obj = as_if_controllers_ran(rtype, normalise(rtype, obj))
        if self.param("dryRun"):
            return obj
        return store.create(rtype, obj)

    def read_patch(self):
        kind = self.headers.get("Content-Type", "").split(";")[0].strip()
        if kind not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted media "
                           "types include: application/merge-patch+json, "
                           "application/strategic-merge-patch+json")
        return self.read_json()

    def list_filter(self, route):
        return Filter(route.namespace, self.param("labelSelector", ""),
                      self.param("fieldSelector", ""))

    def wants_table(self):
        return "as=Table" in self.headers.get("Accept", "")

    def list_body(self, rtype, items, version):
        return {"kind": rtype.kind + "List", "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": version}, "items": items}

    def list_collection(self, route):
        """A list (or its Table). With --pods the encoded answer is kept while the store's
        resourceVersion stays the same: every change bumps it, so a kept answer is never stale
        but for a Table's AGE column. That one is left as it was rather than re-encoded every
        minute: a re-encoding (about a second for 5 000 pods) would land in the figures of
        whichever target asked at that moment."""
        rtype, store, cache = route.rtype, self.server.store, self.server.list_cache
        if cache is None:
            items, version = store.list(rtype, self.list_filter(route))
            return self.send_objects(rtype, items, version)
        as_table = self.wants_table()
        key = (rtype.plural, route.namespace, self.param("labelSelector", ""),
               self.param("fieldSelector", ""), as_table, self.param("includeObject"))
        with store.lock:
            version = store.version
            hit = cache.get(key)
            if hit is None or hit[0] != version:
                items, _ = store.list(rtype, self.list_filter(route))
                body = (table(rtype, items, str(version), self.param("includeObject"))
                        if as_table else self.list_body(rtype, items, str(version)))
                hit = (version, json.dumps(body).encode())
                cache[key] = hit
        self.send_data(200, hit[1])

    def send_objects(self, rtype, items, version):
        if self.wants_table():
            return self.send_json(200, table(rtype, items, version, self.param("includeObject")))
        self.send_json(200, self.list_body(rtype, items, version))

    def send_object(self, rtype, obj):
        if self.wants_table():
            return self.send_json(200, table(rtype, [obj], obj["metadata"]["resourceVersion"],
                                             self.param("includeObject")))
        self.send_json(200, obj)

    # -- watch ------------------------------------------------------------------------------

    def watch(self, route):
        store, rtype = self.server.store, route.rtype
        since_version = self.int_param("resourceVersion", "0")
        send_initial = since_version == 0 or self.flag("sendInitialEvents")
        deadline = time.monotonic() + self.int_param("timeoutSeconds", "1800")
        watcher, initial, version = store.watch(rtype, self.list_filter(route), since_version,
                                                send_initial)
        try:
            self.start_chunked("application/json")
            for event_type, obj in initial:
                self.send_event(rtype, event_type, obj)
            if self.flag("sendInitialEvents"):
                self.send_event(rtype, "BOOKMARK", {
                    "kind": rtype.kind, "apiVersion": rtype.api_version,
                    "metadata": {"resourceVersion": version,
                                 "annotations": {"k8s.io/initial-events-end": "true"}}})
            self.stream_events(rtype, watcher, deadline)
            self.end_chunked()
        finally:
            store.unwatch(watcher)

    def stream_events(self, rtype, watcher, deadline):
        while not STOPPING.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self.client_left():
                return
            try:
                event_type, obj = watcher.events.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self.send_event(rtype, event_type, obj)

    def send_event(self, rtype, event_type, obj):
        if self.wants_table() and event_type != "BOOKMARK":
            obj = table(rtype, [obj], obj["metadata"]["resourceVersion"],
                        self.param("includeObject"))
        self.write_chunk(json.dumps({"type": event_type, "object": obj}).encode() + b"\n")

    # -- pods/log ---------------------------------------------------------------------------

    def pod_log(self, route):
        pod_obj = self.server.store.get(route.rtype, route.namespace, route.name)
        self.check_container(pod_obj)
        timestamps = self.flag("timestamps")
        lines = LOG_LINES
        if self.param("tailLines") is not None:
            tail = self.int_param("tailLines", "0")
            lines = lines[-tail:] if tail > 0 else []
        self.start_chunked("text/plain")
        for text in lines:
            self.write_chunk(log_line(text, timestamps))
        if self.flag("follow"):
            self.follow_log(timestamps)
        self.end_chunked()

    def follow_log(self, timestamps):
        deadline = time.monotonic() + 30
        count = 0
        while time.monotonic() < deadline and not STOPPING.is_set():
            time.sleep(0.2)
            if self.client_left():
                return
            count += 1
            self.write_chunk(log_line(f"tick {count}: user alice@example.com still active",
                                      timestamps))

    def check_container(self, pod_obj):
        names = [c["name"] for c in pod_obj.get("spec", {}).get("containers", [])]
        wanted = self.param("container")
        if wanted and wanted not in names:
            raise bad_request(f"container {wanted} is not valid for pod "
                              f"{pod_obj['metadata']['name']}")
        return wanted or (names[0] if names else "")

    # -- pods/exec and pods/attach ----------------------------------------------------------

    def pod_exec(self, route):
        pod_obj = self.server.store.get(route.rtype, route.namespace, route.name)
        self.check_container(pod_obj)
        upgrade = self.headers.get("Upgrade", "").strip().lower()
        if upgrade == "websocket":
            protocol = self.websocket_protocol()
        elif upgrade == "spdy/3.1":
            protocol = self.spdy_protocol()
        else:
            raise bad_request("this stand-in speaks the remote command protocol over "
                              "WebSocket or SPDY/3.1 only (upgrade request expected)")
        argv = self.query.get("command", []) if route.subresource == "exec" else ["cat"]
        if not argv:
            raise bad_request("you must specify at least 1 command")
        self.send_response(101, "Switching Protocols")
        if upgrade == "websocket":
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept",
                             websocket_accept(self.headers["Sec-WebSocket-Key"].strip()))
            self.send_header("Sec-WebSocket-Protocol", protocol)
            session = WebSocketExec(self.connection, protocol, argv, self.flag("stdin"),
                                    self.flag("tty"))
        else:
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "SPDY/3.1")
            self.send_header("X-Stream-Protocol-Version", protocol)
            session = SpdyExec(self.connection, argv, self.flag("stdin"), self.flag("stdout"),
                               self.flag("stderr"), self.flag("tty"))
        self.end_headers()
        self.headers_sent = True
        self.close_connection = True  # the connection is the upgraded protocol's from now on
        session.run()

    def websocket_protocol(self):
        offered = [p.strip() for p in self.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        protocol = next((p for p in ("v5.channel.k8s.io", "v4.channel.k8s.io")
                         if p in offered), None)
        if protocol is None or not self.headers.get("Sec-WebSocket-Key"):
            raise bad_request("expected Sec-WebSocket-Protocol v5.channel.k8s.io or "
                              "v4.channel.k8s.io and a Sec-WebSocket-Key")
        return protocol

    def spdy_protocol(self, accepted=SPDY_PROTOCOLS):
        """The first of the client's X-Stream-Protocol-Version lines the stand-in speaks, as
        the kubelet negotiates (400 without any, 403 naming what it accepts without a match)."""
        offered = [p.strip() for line in self.headers.get_all("X-Stream-Protocol-Version", [])
                   for p in line.split(",") if p.strip()]
        if not offered:
            raise bad_request("unable to upgrade: X-Stream-Protocol-Version is required")
        protocol = next((p for p in offered if p in accepted), None)
        if protocol is None:
            raise ApiError(403, "Forbidden",
                           f"unable to upgrade: unable to negotiate protocol: client supports "
                           f"[{' '.join(offered)}], server accepts [{' '.join(accepted)}]",
                           headers=[("X-Accepted-Stream-Protocol-Versions", p)
                                    for p in accepted])
        return protocol

    # -- pods/portforward -------------------------------------------------------------------

    def pod_portforward(self, route):
        """kubectl port-forward: SPDY/3.1 on the upgraded connection (POST, Upgrade: SPDY/3.1,
        X-Stream-Protocol-Version: portforward.k8s.io), or the same SPDY inside a WebSocket
        (GET, Upgrade: websocket, Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io). The
        ports come in the streams' headers, not in the query."""
        pod_obj = self.server.store.get(route.rtype, route.namespace, route.name)
        upgrade = self.headers.get("Upgrade", "").strip().lower()
        if upgrade == "websocket":
            offered = [p.strip() for line in self.headers.get_all("Sec-WebSocket-Protocol", [])
                       for p in line.split(",")]
            if PORTFORWARD_TUNNEL_PROTOCOL not in offered or \
                    not self.headers.get("Sec-WebSocket-Key"):
                raise bad_request(f"expected Sec-WebSocket-Protocol "
                                  f"{PORTFORWARD_TUNNEL_PROTOCOL} and a Sec-WebSocket-Key")
        elif upgrade == "spdy/3.1":
            self.spdy_protocol([PORTFORWARD_PROTOCOL])
        else:
            raise bad_request("Upgrade request required")
        self.send_response(101, "Switching Protocols")
        if upgrade == "websocket":
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept",
                             websocket_accept(self.headers["Sec-WebSocket-Key"].strip()))
            self.send_header("Sec-WebSocket-Protocol", PORTFORWARD_TUNNEL_PROTOCOL)
            transport = WebSocketTransport(self.connection)
        else:
            self.send_header("Connection", "Upgrade")
            self.send_header("Upgrade", "SPDY/3.1")
            self.send_header("X-Stream-Protocol-Version", PORTFORWARD_PROTOCOL)
            transport = SocketTransport(self.connection)
        self.end_headers()
        self.headers_sent = True
        self.close_connection = True
        meta = pod_obj["metadata"]
        PortForwardSession(transport, meta["name"], meta.get("uid", "")).run()

    # -- small subresources -----------------------------------------------------------------

    def scale(self, route):
        store, rtype = self.server.store, route.rtype
        if self.command in ("PUT", "PATCH"):
            body = self.read_json() if self.command == "PUT" else self.read_patch()
            replicas = body.get("spec", {}).get("replicas")
            if replicas is not None:
                store.patch(rtype, route.namespace, route.name,
                            {"spec": {"replicas": replicas},
                             "status": {"replicas": replicas, "readyReplicas": replicas,
                                        "updatedReplicas": replicas,
                                        "availableReplicas": replicas}})
        elif self.command != "GET":
            raise method_not_allowed()
        obj = store.get(rtype, route.namespace, route.name)
        meta = {k: obj["metadata"][k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                 "creationTimestamp")}
        self.send_json(200, {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
                             "spec": {"replicas": obj["spec"].get("replicas", 1)},
                             "status": {"replicas": obj["status"].get("replicas", 0),
                                        "selector": f"app={route.name}"}})

    def token_request(self, route):
        self.server.store.get(route.rtype, route.namespace, route.name)
        request = self.read_json()
        seconds = request.get("spec", {}).get("expirationSeconds", 3600)
        expiry = (datetime.datetime.now(datetime.timezone.utc)
                  + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        request.update({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1"})
        request["status"] = {"token": "standin-token-" + uuid.uuid4().hex,
                             "expirationTimestamp": expiry}
        self.send_json(201, request)


def normalise(rtype, obj):
    """What the real server does to every object it is given: secrets' stringData is folded
    into data (base64) and never stored."""
    if rtype.plural == "secrets":
        string_data = obj.pop("stringData", None) or {}
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = b64(value)
        obj.setdefault("type", "Opaque")
    return obj


def as_if_controllers_ran(rtype, obj):
    """There is no kubelet and no controller here: a new pod runs at once, a deployment has
    all its replicas, a service its cluster IP."""
    if rtype.plural == "pods":
        obj.setdefault("spec", {}).setdefault("nodeName", "standin-node-1")
        containers = obj["spec"].get("containers", [])
        obj["status"] = {"phase": "Running", "podIP": "10.244.0.99",
                         "containerStatuses": [
                             {"name": c.get("name"), "ready": True, "restartCount": 0,
                              "image": c.get("image", ""),
                              "imageID": c.get("image", "") + "@sha256:" + hashlib.sha256(
                                  str(c.get("image")).encode()).hexdigest(),
                              "containerID": "containerd://" + hashlib.sha256(
                                  str(c.get("name")).encode()).hexdigest()}
                             for c in containers]}
    elif rtype.plural == "namespaces":
        obj["status"] = {"phase": "Active"}
    elif rtype.plural == "services":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("clusterIP", f"10.96.{random.randint(1, 254)}.{random.randint(1, 254)}")
    elif rtype.plural == "deployments":
        replicas = obj.setdefault("spec", {}).setdefault("replicas", 1)
        obj["status"] = {"replicas": replicas, "readyReplicas": replicas,
                         "updatedReplicas": replicas, "availableReplicas": replicas}
    return obj


def api_group_list():
    groups = []
    for group in API_GROUPS:
        groups.append(api_group(group))
        del groups[-1]["kind"], groups[-1]["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group):
    version = {"groupVersion": f"{group}/v1", "version": "v1"}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [version],
            "preferredVersion": version}


def api_resource_list(group, version):
    resources = [t.discovery_entry() for t in types_of(group, version)]
    resources += SUBRESOURCES.get((group, version), [])
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": sorted(resources, key=lambda r: r["name"])}


def gv_path(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_index():
    paths = {}
    for group, version in sorted({(t.group, t.version) for t in RESOURCE_TYPES}):
        path = gv_path(group, version)
        digest = hashlib.sha256(path.encode()).hexdigest()[:16].upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}


def openapi_v3_document(group, version):
    """Only the PATCH operations, each saying which kind it is for and that it takes the
    fieldValidation query parameter: that is all kubectl looks at before create and apply.
    There are no schemas, so kubectl explain finds nothing."""
    paths = {}
    for rtype in types_of(group, version):
        prefix = "/" + gv_path(group, version)
        if rtype.namespaced:
            prefix += "/namespaces/{namespace}"
        paths[f"{prefix}/{rtype.plural}/{{name}}"] = {"patch": {
            "operationId": f"patch{rtype.kind}",
            "parameters": [{"name": "fieldValidation", "in": "query",
                            "schema": {"type": "string", "uniqueItems": True}}],
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": group, "version": version,
                                                "kind": rtype.kind}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": {}}}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, context, store, token, client_ca, log_path, list_cache=False):
        super().__init__(address, Handler)
        # Encoded list answers by (resource, namespace, selectors, Table or not, includeObject):
        # (resourceVersion, bytes). None: every list is encoded anew (the tests' default).
        self.list_cache = {} if list_cache else None
        # With --pods, TCP_NODELAY as Go's net/http has it: http.server writes the headers and
        # the body apart, and a small body would otherwise wait for the client's delayed ACK
        # (40 ms on Linux), which would be all that a benchmark of a small list measured.
        self.no_delay = list_cache
        self.context = context
        self.store = store
        self.token = token
        self.client_ca = client_ca
        self.log_lock = threading.Lock()
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread, so that a slow or
        # broken client never holds up accept().
        if self.no_delay:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            request = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(request, client_address)
        finally:
            try:
                request.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # A client going away is normal; anything else is worth the stack trace on stderr.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError)):
            super().handle_error(request, client_address)

    def record(self, handler):
        if self.log_file is None:
            return
        headers = {}
        for name, value in handler.headers.items():
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        line = json.dumps({"time": now_rfc3339(), "method": handler.command,
                           "path": handler.path, "headers": headers})
        with self.log_lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()


def tls_context(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    # HTTP/2 is never offered: the WebSocket and SPDY upgrades for exec need HTTP/1.1.
    context.set_alpn_protocols(["http/1.1"])
    if args.client_ca:
        context.load_verify_locations(args.client_ca)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="server private key (PEM)")
    parser.add_argument("--token", required=True, help="the bearer token clients must send")
    parser.add_argument("--client-ca", help="accept client certificates this CA signed")
    parser.add_argument("--log", help="append one JSON line per request to this file")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--pods", type=int, default=0,
                        help="seed namespace \"bench\" with this many pods, and keep encoded "
                             "list answers between requests, with TCP_NODELAY (for benchmarks)")
    args = parser.parse_args()
    if args.pods < 0:
        parser.error("--pods must be 0 or more")

    store = Store()
    seed(store)
    if args.pods:
        seed_bench(store, args.pods)
    server = Server(("127.0.0.1", args.port), tls_context(args), store, args.token,
                    args.client_ca, args.log, list_cache=args.pods > 0)

    def stop(signum, frame):
        STOPPING.set()
        # shutdown() waits for serve_forever() to return, so it cannot run in this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    with RUNNING_LOCK:
        for proc in list(RUNNING):
            kill(proc)


if __name__ == "__main__":
    main()
