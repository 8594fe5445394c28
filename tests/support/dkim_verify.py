"""Verifies a message's DKIM signature with dkimpy, an implementation
independent of breves' (lettre's). The public key's DNS record is given on
the command line instead of being looked up:

    python3 dkim_verify.py MESSAGE.eml "v=DKIM1; k=rsa; p=MIIB..."

Prints `pass` and exits 0 when the signature verifies, `fail` and 1 if not.
"""

import sys

import dkim


def main():
    message = open(sys.argv[1], "rb").read()
    record = sys.argv[2].encode()
    ok = dkim.verify(message, dnsfunc=lambda name, timeout=5: record)
    print("pass" if ok else "fail")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
