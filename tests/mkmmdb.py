#!/usr/bin/env python3
"""mkmmdb.py OUT NETWORK=CC...: writes a small MaxMind DB (format 2.0, an
IPv6 tree with 24-bit records) mapping each network to
{"country": {"iso_code": CC}}, for the tests of spamsift's --geoip.

Debian 12 packages no MaxMind DB writer, so this follows the published
format specification (https://maxmind.github.io/MaxMind-DB/) directly.
IPv4 networks go where libmaxminddb looks IPv4 addresses up in an IPv6
tree: under ::/96. A longer network inside a shorter one wins.
"""
import ipaddress
import struct
import sys
import time

EMPTY = None


def ctrl(kind, size):
    """A field's control byte(s): the type and the payload size."""
    out = bytearray()
    if kind > 7:
        first, ext = 0, bytes([kind - 7])
    else:
        first, ext = kind << 5, b""
    if size < 29:
        out.append(first | size)
        out += ext
    elif size < 285:
        out.append(first | 29)
        out += ext + bytes([size - 29])
    else:
        out.append(first | 30)
        out += ext + struct.pack(">H", size - 285)
    return bytes(out)


def enc(v):
    """One value in the data section's encoding (no pointers)."""
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        out = ctrl(7, len(v))
        for k, x in v.items():
            out += enc(k) + enc(x)
        return out
    if isinstance(v, list):
        return ctrl(11, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, tuple):  # (type, int): uint16 = 5, uint32 = 6, uint64 = 9
        kind, n = v
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return ctrl(kind, len(b)) + b
    raise TypeError(v)


def bits(net):
    """The network's prefix as bits of a 128-bit address."""
    if net.version == 4:
        addr, plen = int(net.network_address), 96 + net.prefixlen
    else:
        addr, plen = int(net.network_address), net.prefixlen
    return [(addr >> (127 - i)) & 1 for i in range(plen)]


def build(entries):
    """A binary trie: a node is [left, right]; a leaf is EMPTY or bytes."""
    root = [EMPTY, EMPTY]
    for prefix, data in sorted(entries, key=lambda e: len(e[0])):
        node = root
        for depth, b in enumerate(prefix):
            if depth == len(prefix) - 1:
                node[b] = data
                break
            child = node[b]
            if not isinstance(child, list):  # split a shorter network's leaf
                child = node[b] = [child, child]
            node = child
    return root


def write(path, entries):
    root = build(entries)
    order, queue = [], [root]
    while queue:  # number the nodes breadth first
        n = queue.pop(0)
        order.append(n)
        queue += [c for c in n if isinstance(c, list)]
    index = {id(n): i for i, n in enumerate(order)}
    count = len(order)
    data, offsets = bytearray(), {}

    def record(c):
        if isinstance(c, list):
            return index[id(c)]
        if c is EMPTY:
            return count
        if c not in offsets:
            offsets[c] = len(data)
            data.extend(c)
        return count + 16 + offsets[c]

    tree = bytearray()
    for n in order:
        for c in n:
            tree += record(c).to_bytes(3, "big")
    meta = {
        "binary_format_major_version": (5, 2),
        "binary_format_minor_version": (5, 0),
        "build_epoch": (9, int(time.time())),
        "database_type": "spamsift-test-country",
        "description": {"en": "spamsift test networks"},
        "ip_version": (5, 6),
        "languages": ["en"],
        "node_count": (6, count),
        "record_size": (5, 24),
    }
    with open(path, "wb") as f:
        f.write(bytes(tree) + bytes(16) + bytes(data))
        f.write(b"\xab\xcd\xefMaxMind.com" + enc(meta))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: mkmmdb.py OUT NETWORK=CC...")
    entries = []
    for arg in sys.argv[2:]:
        net, cc = arg.split("=")
        entries.append((tuple(bits(ipaddress.ip_network(net))),
                        enc({"country": {"iso_code": cc}})))
    write(sys.argv[1], entries)


if __name__ == "__main__":
    main()
