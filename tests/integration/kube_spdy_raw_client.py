#!/usr/bin/python3
"""A raw SPDY/3.1 exec client, as an attacker would write one instead of using kubectl: sends an
exec request through the gateway, opens the streams itself, and prints as one JSON object what
came back (the response status, the text of the data frames by stream id, whether the
connection was closed).

Usage: kube_spdy_raw_client.py PORT TOKEN MODE
  MODE plain:     opens error and stdout as kubectl does; the command prints an email address.
  MODE ambiguous: opens error, then a stream whose streamtype header is sent twice (stdin, then
                  stdout), to make the gateway and the server place it differently.
"""
import json
import os
import socket
import ssl
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import kube_standin_apiserver as spdy  # noqa: E402  (the stand-in's SPDY framing)

POD_PATH = "/k8s/cluster/api/v1/namespaces/prod/pods/web-5b7c8d9f4-x2k9p/exec"
QUERY = "command=echo&command=raw%20alice%40example.com&stdout=true&stderr=false&stdin=false"


def syn_stream(compressor, stream_id, pairs):
    block = compressor.compress(spdy.spdy_header_block(pairs)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    payload = stream_id.to_bytes(4, "big") + bytes(4) + bytes(2) + block
    return spdy.spdy_control_frame(spdy.SPDY_SYN_STREAM, 0, payload)


def main():
    port, token, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20))
    sock.sendall((f"POST {POD_PATH}?{QUERY} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: Bearer {token}\r\nContent-Length: 0\r\n"
                  "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                  "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    seen = {"status": int(head.split(b" ", 2)[1]) if head else 0, "data": {}, "closed": False}
    if seen["status"] != 101:
        print(json.dumps(seen))
        return
    compressor = zlib.compressobj(zdict=spdy.SPDY3_DICTIONARY)
    sock.sendall(syn_stream(compressor, 1, [("streamtype", "error")]))
    if mode == "plain":
        sock.sendall(syn_stream(compressor, 3, [("streamtype", "stdout")]))
    else:
        sock.sendall(syn_stream(compressor, 3, [("streamtype", "stdin"), ("streamtype", "stdout")]))
    received = bytearray(rest)
    while True:
        try:
            chunk = sock.recv(65536)
        except (OSError, ssl.SSLError):
            chunk = b""
        if not chunk:
            seen["closed"] = True
            break
        received += chunk
    # The server's frames: data frames' text by stream.
    while len(received) >= 8:
        length = int.from_bytes(received[5:8], "big")
        if len(received) < 8 + length:
            break
        if not received[0] & 0x80:
            stream_id = str(int.from_bytes(received[0:4], "big"))
            seen["data"][stream_id] = seen["data"].get(stream_id, "") + \
                received[8:8 + length].decode("utf-8", "replace")
        del received[:8 + length]
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
