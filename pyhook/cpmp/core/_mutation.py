"""Test-only: plants one classic bug in the pickling core, so that the
differential test can show it catches each (tests/differential.bats).

CPMP_TEST_MUTATION names the bug; unset or empty (always, outside that
test), nothing changes.  A mutation also keeps the C fast path out, so the
pure-Python path it plants its bug in is the one that runs.

    ignore-live-globals  a function sent by value gets the sender's value of
                         every global, also those its module binds itself
    reuse-received       a receiver reuses the function it built for the same
                         payload instead of building a fresh one
    no-fallback          a held reference never carries the value
    cache-by-eq          the resend cache compares what it pinned with ==
    skip-nested          the names code nested in a function reads are missed
    freeze-first         the resend cache ignores rebound globals

CPMP_TEST_SLOW=1 plants no bug: it turns the caches off (the resend cache
always misses, the receiver's code cache is never read) and keeps the C
fast path out, so the differential test can show the output is the same
byte for byte without them.
"""

import os
import sys

MUTATIONS = ("ignore-live-globals", "reuse-received", "no-fallback", "cache-by-eq",
             "skip-nested", "freeze-first")
ACTIVE = os.environ.get("CPMP_TEST_MUTATION", "")
if ACTIVE and ACTIVE not in MUTATIONS:
    raise ImportError("CPMP_TEST_MUTATION=%r is none of %s" % (ACTIVE, ", ".join(MUTATIONS)))

SLOW = os.environ.get("CPMP_TEST_SLOW", "") == "1"
# Why the C fast path stays out, or "".  Not only a test's switch: a
# free-threaded Python (3.13t, 3.14t: "t" in sys.abiflags) lists .abi3.so
# among its suffixes and would load the C built for the GIL's ABI, and
# crash in it (issue 19).
KEEP_C_OUT = ("CPMP_TEST_MUTATION=" + ACTIVE if ACTIVE else "CPMP_TEST_SLOW=1" if SLOW
              else "a free-threaded Python (the C is built for the GIL's stable ABI)"
              if "t" in getattr(sys, "abiflags", "") else "")

# reuse-received: what a receiver built, by payload.
REUSED = {}


def received(payload, func):
    if ACTIVE == "reuse-received":
        REUSED[payload] = func
    return func
