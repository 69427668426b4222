#!/usr/bin/env bash
# Installs every package Portcullis needs to build, test and run its demo on Debian 12.
# Safe to run again: apt-get skips what is already installed.
# The packaged PostgreSQL, MariaDB and OpenSSH services are not used: tests and the demo start
# their own servers in their own folders (tests on free ports, the demo in var/demo/).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential g++ cmake ninja-build pkg-config git ca-certificates openssl libssl-dev libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libpg-query-dev libhyperscan-dev libsqlite3-dev sqlite3 libpq-dev libssh-dev libsodium-dev zlib1g-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev libsimdjson-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev postgresql postgresql-client pgbouncer haproxy mariadb-server mariadb-client python3-pymysql python3-paramiko python3-kubernetes openssh-server openssh-client sysbench clang-14 libclang-rt-14-dev clang-format procps python3 curl
# kubectl for the Kubernetes front end's tests and demo: the machine's own when it has one (a
# current release), otherwise Debian's (an older one, whose exec speaks SPDY).
if ! command -v kubectl >/dev/null 2>&1; then
  apt-get install -y -q --no-install-recommends kubernetes-client
fi
# Node.js and npm for the MCP test client (tests/mcp_client): the machine's own when it has them,
# otherwise Debian's.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get install -y -q --no-install-recommends nodejs npm
fi
# The client's packages, exactly as package-lock.json pins them (npm ci replaces node_modules).
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
npm ci --prefix "$REPO/tests/mcp_client" --no-audit --no-fund
# Chromium for the web console's browser tests (tests/console drives it with playwright-core),
# with a font for readable screenshots. Optional: without it those tests say they were skipped.
if ! apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; then
  echo "setup: chromium could not be installed; the console's browser tests will be skipped" >&2
fi
# The web console's build tools (Vite, TypeScript) and the browser tests' driver, as locked.
npm ci --prefix "$REPO/src/api/console" --no-audit --no-fund
npm ci --prefix "$REPO/tests/console" --no-audit --no-fund
