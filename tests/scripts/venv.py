"""Where the interpreter and its spawn/forkserver workers run: prefixes,
sys.path, and a package only a virtualenv holds (venv.py [lambda])."""
import multiprocessing
import os
import sys


def probe(method):
    try:
        import onlyvenv
        value = onlyvenv.VALUE
    except ImportError:
        value = "no onlyvenv"
    return method, value, sys.prefix, sys.base_prefix, os.environ.get("VIRTUAL_ENV")


if __name__ == "__main__":
    print(sys.prefix, sys.base_prefix)
    print(sys.path[1:])
    for method in ("spawn", "forkserver"):
        with multiprocessing.get_context(method).Pool(1) as pool:
            if sys.argv[1:] == ["lambda"]:
                print(pool.map(lambda m: probe(m), [method])[0])
            else:
                print(pool.map(probe, [method])[0])
