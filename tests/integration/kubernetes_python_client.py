#!/usr/bin/python3
"""Drives the gateway's Kubernetes listener with the official Python client (Debian's
python3-kubernetes), as an application would, and prints what it saw as one JSON object.

Usage: kubernetes_python_client.py KUBECONFIG
"""
import json
import sys

from kubernetes import client, config
from kubernetes.client.rest import ApiException


def main():
    config.load_kube_config(config_file=sys.argv[1])
    core = client.CoreV1Api()
    seen = {}
    seen["pods"] = sorted(p.metadata.name for p in core.list_namespaced_pod("prod").items)
    seen["config"] = core.read_namespaced_config_map("app-config", "prod").data
    try:
        core.read_namespaced_secret("db-credentials", "prod")
        seen["secret"] = "read"
    except ApiException as refused:
        seen["secret"] = {"status": refused.status, "body": json.loads(refused.body)}
    try:
        core.delete_namespaced_pod("db-0", "prod")
        seen["delete"] = "deleted"
    except ApiException as refused:
        seen["delete"] = {"status": refused.status, "body": json.loads(refused.body)}
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
