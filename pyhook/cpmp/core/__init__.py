"""The pickling core: what goes by value and how (_policy), the sender
(_send, _resend, _fallback, _stash), the receiver (_receive, _held,
_globals, _code), the pickler that joins them (_reduce, with its C fast
path _speedups), and the wire format they share (_wire).

Imports nothing above it (the cluster backend, the tools, the patch):
tests/scripts/imports.py checks.  Not public: cpmp's API is the package's
own names.
"""
