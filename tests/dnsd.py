#!/usr/bin/env python3
"""dnsd.py: a private DNS server for the tests, on 127.0.0.1.

  dnsd.py start DIR ZONEFILE...   start Debian's nsd serving the zone files
                                  (named ZONE.zone, e.g. example.test.zone)
                                  from DIR; prints "PORT PID" once it answers
  dnsd.py blackhole DIR           bind a UDP and TCP port that never answers;
                                  prints "PORT PID"
  dnsd.py stop DIR                stop what `start`/`blackhole` started there

nsd runs in the foreground of a detached child, with its own config, pid,
log and state files in DIR; it is stopped by its PID. Only loopback.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import time


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
            t.close()
    sys.exit("dnsd.py: no free port")


def soa_query(zone, port):
    """Whether 127.0.0.1:port answers an SOA query for zone."""
    qname = b"".join(bytes([len(l)]) + l.encode() for l in zone.split(".") if l) + b"\0"
    pkt = struct.pack(">HHHHHH", 0x5353, 0, 1, 0, 0, 0) + qname + struct.pack(">HH", 6, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(pkt, ("127.0.0.1", port))
        data = s.recv(4096)
        return len(data) > 12 and data[:2] == b"\x53\x53" and (data[3] & 15) == 0
    except OSError:
        return False
    finally:
        s.close()


def nsd_conf(d, port, zones):
    lines = [
        "server:",
        f"  ip-address: 127.0.0.1@{port}",
        "  username: \"\"",
        "  chroot: \"\"",
        f"  zonesdir: \"{d}\"",
        f"  pidfile: \"{d}/nsd.pid\"",
        f"  xfrdfile: \"{d}/xfrd.state\"",
        f"  zonelistfile: \"{d}/zone.list\"",
        f"  logfile: \"{d}/nsd.log\"",
        "  database: \"\"",
        "  server-count: 1",
        "  verbosity: 1",
        "  hide-version: yes",
        "remote-control:",
        "  control-enable: no",
    ]
    for z in zones:
        name = os.path.basename(z)[: -len(".zone")]
        lines += ["zone:", f"  name: \"{name}\"", f"  zonefile: \"{os.path.abspath(z)}\""]
    with open(f"{d}/nsd.conf", "w") as f:
        f.write("\n".join(lines) + "\n")


def start(d, zones):
    port = free_port()
    nsd_conf(d, port, zones)
    check = subprocess.run(["nsd-checkconf", f"{d}/nsd.conf"], capture_output=True, text=True)
    if check.returncode:
        sys.exit("dnsd.py: bad nsd config: " + check.stderr.strip())
    log = open(f"{d}/nsd.out", "w")
    p = subprocess.Popen(["nsd", "-d", "-c", f"{d}/nsd.conf"], stdout=log, stderr=log,
                         start_new_session=True)
    first = os.path.basename(zones[0])[: -len(".zone")]
    for _ in range(100):
        if soa_query(first, port):
            break
        if p.poll() is not None:
            sys.exit("dnsd.py: nsd exited: " + open(f"{d}/nsd.out").read()[-500:])
        time.sleep(0.05)
    else:
        p.kill()
        sys.exit("dnsd.py: nsd did not answer in 5 s")
    with open(f"{d}/dnsd.pid", "w") as f:
        f.write(str(p.pid))
    print(port, p.pid)


def blackhole(d):
    port = free_port()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", port))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", port))
        t.listen(16)
        with open(f"{d}/dnsd.pid", "w") as f:
            f.write(str(os.getpid()))
        signal.alarm(600)  # never outlive a test run
        held = []
        while True:  # read and drop; accept TCP and hold it silent
            t.settimeout(0.05)
            try:
                held.append(t.accept()[0])
            except OSError:
                pass
            u.settimeout(0.05)
            try:
                u.recv(4096)
            except OSError:
                pass
    for _ in range(100):
        if os.path.exists(f"{d}/dnsd.pid"):
            break
        time.sleep(0.02)
    print(port, pid)


def stop(d):
    try:
        pid = int(open(f"{d}/dnsd.pid").read())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.unlink(f"{d}/dnsd.pid")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, d = sys.argv[1], os.path.abspath(sys.argv[2])
    os.makedirs(d, exist_ok=True)
    if cmd == "start" and len(sys.argv) > 3:
        start(d, sys.argv[3:])
    elif cmd == "blackhole":
        blackhole(d)
    elif cmd == "stop":
        stop(d)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
