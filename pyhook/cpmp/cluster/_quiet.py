"""What Dask says that the program must not hear (see _client): what cpmp
says itself, in one line, and what is about cpmp's own tasks, not the
program's.  A successful run's stderr holds nothing of Dask's."""

import logging
import warnings


class _Said:
    """Drops what Dask logs that cpmp says itself: that it computes again
    a result it could not fetch (a worker died, or the program dropped the
    task meanwhile: the gatherer asks again, and the program gets its
    answer or its error), and, with a traceback, that the scheduler's
    connection closed (the pending calls raise ClusterError)."""

    LOGGERS = ("distributed.client", "distributed.batched")
    _SAID = ("Couldn't gather", "Batched Comm Closed")

    @classmethod
    def filter(cls, record):
        return not str(record.msg).startswith(cls._SAID)


def install(program):
    """Once per connection; program: the name every task of cpmp's
    starts with (_client.send passes it first)."""
    for name in _Said.LOGGERS:
        logging.getLogger(name).addFilter(_Said)
    # Dask's 12 lines advising client.scatter for a task over 1 MB: a
    # task of cpmp's is the pool's, whose arguments the program chose
    # (issue 18).  Only for cpmp's tasks -- their arguments' text starts
    # with the program's name -- so the program's own filters and its own
    # Dask tasks are left as they are.
    warnings.filterwarnings("ignore", r"Large object of size .* detected in task graph: "
                            r"\s*\('%s'" % program, UserWarning, r"distributed\.")


def served(link):
    """Whether the dashboard at link shows one: without bokeh, Dask serves
    a page saying that it needs it (issue 18), not worth a line."""
    import urllib.request

    try:
        with urllib.request.urlopen(link, timeout=2) as page:
            return page.status == 200 and b"Dask needs bokeh" not in page.read(4096)
    except (OSError, ValueError):
        return False
