#!/usr/bin/python3
"""dkimsign.py: DKIM keys and signatures for tests/auth.sh, with Debian's
python3-dkim (dkimpy) and python3-nacl; run it with /usr/bin/python3.

  dkimsign.py ed25519-key KEYFILE     write a new Ed25519 private key
                                      (base64 seed, dkimpy's form) and
                                      print the key record's p= value
  dkimsign.py sign KEYFILE SELECTOR DOMAIN ALG HCANON/BCANON
                                      sign standard input (ALG rsa-sha256
                                      or ed25519-sha256) and write the
                                      signed message to standard output
"""
import base64
import sys

import dkim


def ed25519_key(path):
    import nacl.signing

    sk = nacl.signing.SigningKey.generate()
    with open(path, "wb") as f:
        f.write(base64.b64encode(bytes(sk)) + b"\n")
    print(base64.b64encode(bytes(sk.verify_key)).decode())


def sign(keyfile, selector, domain, alg, canon):
    msg = sys.stdin.buffer.read()
    key = open(keyfile, "rb").read()
    h, b = canon.split("/")
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                    canonicalize=(h.encode(), b.encode()),
                    signature_algorithm=alg.encode(),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
                    linesep=b"\n")
    sys.stdout.buffer.write(sig + msg)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "ed25519-key":
        ed25519_key(sys.argv[2])
    elif len(sys.argv) == 7 and sys.argv[1] == "sign":
        sign(*sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
