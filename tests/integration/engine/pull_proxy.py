#!/usr/bin/env python3
"""A logging, throttling, connection-breaking HTTP proxy in front of the test registry
(pull_faults.bats). One request per connection (the response is relayed as the registry sends
it, then the connection is closed).

    pull_proxy.py UPSTREAM_HOST:PORT PORT_FILE LOG [--delay-ms N] [--break-after BYTES]
                  [--ignore-range]

--delay-ms N        relay a blob response in 64 KiB chunks, N ms apart (a slow link)
--break-after BYTES close the connection of the first blob GET after BYTES bytes of its
                    body, once (a transfer that breaks mid-blob)
--ignore-range      drop the Range header on the way (a server that answers 200, whole)

LOG gets one line per event, flushed at once:
    open <monotonic ns> <METHOD> <path> range=<Range header or ->
    close <monotonic ns> <METHOD> <path> status=<code> bytes=<body bytes relayed>
"""
import os
import socket
import sys
import threading
import time

upstream_host, upstream_port = sys.argv[1].rsplit(":", 1)
port_file, log_file = sys.argv[2], sys.argv[3]
delay = 0.0
break_after = None
ignore_range = False
args = sys.argv[4:]
while args:
    if args[0] == "--ignore-range":
        ignore_range = True
        args = args[1:]
        continue
    if args[0] == "--delay-ms":
        delay = int(args[1]) / 1000.0
    elif args[0] == "--break-after":
        break_after = int(args[1])
    else:
        sys.exit("unknown option " + args[0])
    args = args[2:]

lock = threading.Lock()
broken_once = False
log = open(log_file, "a", buffering=1)


def say(line):
    with lock:
        log.write(line + "\n")


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
        if data[:1] == b"\x16":
            return None, b""  # a TLS handshake: closed, so the client falls back to HTTP
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def serve(client):
    global broken_once
    try:
        head, rest = read_head(client)
        if head is None:
            return
        lines = head.split("\r\n")
        method, path = lines[0].split(" ")[:2]
        headers = [l for l in lines[1:] if not l.lower().startswith("connection:")]
        rng = next((l.split(":", 1)[1].strip() for l in headers if l.lower().startswith("range:")), "-")
        say(f"open {time.monotonic_ns()} {method} {path} range={rng}")
        if ignore_range:
            headers = [l for l in headers if not l.lower().startswith("range:")]
        try:
            up = socket.create_connection((upstream_host, int(upstream_port)), timeout=30)
        except OSError:
            say(f"close {time.monotonic_ns()} {method} {path} status=refused bytes=0")
            return  # the client sees its connection closed with no answer
        req = "\r\n".join([lines[0]] + headers + ["Connection: close", "", ""]).encode("latin-1")
        up.sendall(req + rest)
        blob = method == "GET" and "/blobs/" in path
        resp_head, body = read_head(up)
        if resp_head is None:
            say(f"close {time.monotonic_ns()} {method} {path} status=none bytes=0")
            return
        status = resp_head.split(" ")[1]
        length = next((int(l.split(":", 1)[1]) for l in resp_head.split("\r\n")[1:]
                       if l.lower().startswith("content-length:")), None)
        client.sendall(resp_head.encode("latin-1") + b"\r\n\r\n")
        sent = 0
        breaking = False
        with lock:
            if (blob and break_after is not None and not broken_once and status == "200"
                    and length is not None and length > break_after):
                broken_once = breaking = True
        closed = False
        while True:
            if not body:
                try:
                    body = up.recv(65536)
                except OSError:
                    body = b""
                if not body:
                    break
            if breaking and sent + len(body) >= break_after:
                client.sendall(body[: break_after - sent])
                sent = break_after
                say(f"break {time.monotonic_ns()} {method} {path} after={sent}")
                break
            if length is not None and sent + len(body) >= length:
                # Logged before the last bytes go: the client cannot be done with this
                # response before the log says so (concurrency is measured from this log).
                say(f"close {time.monotonic_ns()} {method} {path} status={status} bytes={sent + len(body)}")
                closed = True
            client.sendall(body)
            sent += len(body)
            body = b""
            if closed:
                break
            if blob and delay:
                time.sleep(delay)
        up.close()
        if not closed:
            say(f"close {time.monotonic_ns()} {method} {path} status={status} bytes={sent}")
    except OSError as e:
        say(f"error {time.monotonic_ns()} {e}")
    finally:
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        client.close()


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
