"""rawnet.py: what the daemon tests' raw clients share (daemon.sh speaks
spamd with it, http.sh HTTP): reading to the close, a client that hangs,
and a slow loris. Loopback only; every wait is bounded.
"""
import socket
import time


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def until_close(s):
    """Everything the peer sends until it closes."""
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            return out
        out += b


def hang(s, limit=20):
    """Waits, sending nothing more, until the peer drops us (or sends);
    returns (seconds, bytes received)."""
    t0 = time.time()
    s.settimeout(limit)
    got = s.recv(100)
    return time.time() - t0, got


def drip(s, req, every=0.3, limit=20):
    """Sends req a byte every `every` seconds until the peer closes (or
    limit seconds pass); returns (seconds, bytes sent, bytes received)."""
    t0, got, i = time.time(), b"", 0
    s.settimeout(every)
    try:
        while time.time() - t0 < limit:
            s.send(req[i : i + 1])
            i += 1
            try:
                b = s.recv(4096)
            except socket.timeout:
                continue
            if not b:
                break
            got += b
    except OSError:
        pass
    return time.time() - t0, i, got
