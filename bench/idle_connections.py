"""Holds many idle PostgreSQL client connections open, for the memory-per-connection figure.

Speaks just enough of the v3 protocol by hand (StartupMessage, a cleartext password for the
gateway's token, then wait for ReadyForQuery) so that it needs nothing beyond Python 3's
standard library. Used by end_to_end.py; runnable alone for a quick look:

    python3 bench/idle_connections.py HOST PORT USER DBNAME COUNT   (PGPASSWORD in the env;
                                                    PGSSLMODE=require for TLS)
"""

import os
import resource
import socket
import ssl
import struct
import sys
import time

# PostgreSQL protocol 3.0.
PROTOCOL_VERSION = 196608
AUTH_OK = 0
AUTH_CLEARTEXT = 3
SSL_REQUEST_CODE = 80877103


class ConnectError(Exception):
    pass


def raise_open_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ConnectError(
            f"the open file limit is {hard}, {needed} needed: raise it (ulimit -n) and retry")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _recv_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectError("the server closed the connection during start-up")
        data += chunk
    return bytes(data)


def _error_text(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return f"{fields.get('S', 'ERROR')} {fields.get('C', '')}: {fields.get('M', '')}"


def _start_tls(sock):
    """SSLRequest, then TLS without verifying the server: the benchmark's throw-away
    certificate is self-signed, and only the server's memory is measured."""
    sock.sendall(struct.pack("!II", 8, SSL_REQUEST_CODE))
    answer = _recv_exact(sock, 1)
    if answer != b"S":
        raise ConnectError("the server does not offer TLS")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(sock)


def open_connection(host, port, user, dbname, password, timeout=30.0, tls=False):
    """One authenticated session, left idle after ReadyForQuery; over TLS if asked."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls:
            sock = _start_tls(sock)
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0"
                          for k, v in (("user", user), ("database", dbname),
                                       ("application_name", "idle_connections"))) + b"\0"
        sock.sendall(struct.pack("!II", 8 + len(params), PROTOCOL_VERSION) + params)
        while True:
            kind, length = struct.unpack("!cI", _recv_exact(sock, 5))
            body = _recv_exact(sock, length - 4)
            if kind == b"R":
                (code,) = struct.unpack("!I", body[:4])
                if code == AUTH_CLEARTEXT:
                    if password is None:
                        raise ConnectError("the server asked for a password and none was given")
                    secret = password.encode() + b"\0"
                    sock.sendall(b"p" + struct.pack("!I", 4 + len(secret)) + secret)
                elif code != AUTH_OK:
                    raise ConnectError(f"authentication method {code} is not supported here")
            elif kind == b"E":
                raise ConnectError(_error_text(body))
            elif kind == b"Z":
                sock.settimeout(None)
                return sock
            # ParameterStatus, BackendKeyData, NoticeResponse: nothing to do.
    except BaseException:
        sock.close()
        raise


def close_connections(socks):
    for sock in socks:
        try:
            sock.sendall(b"X\0\0\0\4")  # Terminate, as a polite client would
        except OSError:
            pass
        sock.close()
    socks.clear()


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    host, port, user, dbname, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
        int(sys.argv[5])
    raise_open_file_limit(count + 64)
    socks = []
    started = time.monotonic()
    for _ in range(count):
        socks.append(open_connection(host, port, user, dbname, os.environ.get("PGPASSWORD"),
                                     tls=os.environ.get("PGSSLMODE") == "require"))
    print(f"{count} connections open in {time.monotonic() - started:.1f} s; Enter closes them",
          flush=True)
    try:
        sys.stdin.readline()
    finally:
        close_connections(socks)


if __name__ == "__main__":
    main()
