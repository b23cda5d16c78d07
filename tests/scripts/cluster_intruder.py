"""Another local user's attempts on a `--cluster local:N` cluster: prints
one line per attempt, "refused" unless it could submit work or read the
credentials.  Each connection attempt runs in a child of its own, with a
time limit (a TLS client whose certificate the scheduler refuses can
retry well past its timeout): one that never connects is refused too.

    cluster_intruder.py ADDRESS CREDENTIALS-DIRECTORY
"""

import os
import subprocess
import sys

ATTEMPTS = ("plain tcp", "tls without credentials", "tls with credentials of its own")


def attempt(what, address):
    import warnings

    import distributed
    from distributed.security import Security

    warnings.simplefilter("ignore")
    security = None
    if what == "plain tcp":
        address = address.replace("tls://", "tcp://")
    elif what == "tls with credentials of its own":
        security = Security.temporary()
    with distributed.Client(address, timeout=5, security=security) as client:
        print("SUBMITTED as uid", client.submit(os.getuid).result(timeout=10))


if __name__ == "__main__":
    if sys.argv[1] == "--attempt":
        attempt(sys.argv[2], sys.argv[3])
        sys.exit()
    address, credentials = sys.argv[1], sys.argv[2]
    for what in ATTEMPTS:
        try:
            done = subprocess.run([sys.executable, __file__, "--attempt", what, address],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  timeout=30, text=True)
            print(what, done.stdout.strip() if "SUBMITTED" in done.stdout else "refused")
        except subprocess.TimeoutExpired:
            print(what, "refused")
    for name in ("ca.pem", "cert.pem", "key.pem"):
        try:
            open(os.path.join(credentials, name)).read()
            print("read", name)
        except OSError:
            print("reading", name, "refused")
