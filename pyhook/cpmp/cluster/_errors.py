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
