"""How the cluster backend fails: the exceptions every part of it raises."""

from .._settings import LOG_PREFIX


class ClusterError(RuntimeError):
    """The cluster could not run a task: its scheduler was lost, or Dask
    gave up on it."""


class Unavailable(SystemExit):
    """The program cannot use the cluster.  Uncaught, Python prints its one
    line on stderr and exits 1; finally blocks run on the way."""


def fatal(message):
    raise Unavailable(LOG_PREFIX + message)


def reachable(address, timeout):
    """Fail at once on an address Dask cannot parse, or a TCP port where
    nothing listens (Dask would retry until its timeout)."""
    from distributed.comm import get_address_host_port, parse_address

    try:
        scheme, _ = parse_address(address)
        host, port = get_address_host_port(address)
    except (ValueError, TypeError) as exc:
        fatal("--cluster %s: not a Dask scheduler address (%s); use tcp://HOST:PORT, local "
              "or local:N" % (address, one_line(exc)))
    if scheme in ("tcp", "tls"):
        import socket

        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError as exc:
            fatal("cannot reach the Dask scheduler at %s: %s" % (address, exc.strerror or exc))


def one_line(exc):
    text = str(exc).strip().splitlines()
    return "%s: %s" % (type(exc).__name__, text[0]) if text else type(exc).__name__
