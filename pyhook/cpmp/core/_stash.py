"""Large fallbacks, written once to shared memory and sent by name.

A held main-module function's fallback (its value, see _held) travels with
every reference to it; when it carries a large immutable global (a 40 MB
bytes a ``-c`` program binds, say) that is a large copy into every task
for a value that provably does not change.  Such a fallback, once made
(_send keeps it while the function would pickle to the same bytes), is
written to a file of its own in /dev/shm, mode 0600, and the message
carries its name and size: a receiver that holds the function never opens
it, one that does not reads it.

Only the program's own process stashes (no multiprocessing parent), and
only for messages multiprocessing carries between processes of this
machine, so a stash lives as long as any process that may read a message
naming it: it is removed when that process exits, after multiprocessing
has joined its children, and by multiprocessing's resource tracker if it
is killed.  What cpmp.dumps writes (it may be read anywhere, any time),
what goes to a cluster, and a fallback nested in another go inline
(``inline()``).  At most LIMIT bytes in all; past that, and where there is
no /dev/shm, the fallback goes inline as always.

The reader's name is written into pickles: ``_receive`` reads a stash
through ``read(name, size)`` here.
"""

import os
import sys
import threading
from contextlib import contextmanager

THRESHOLD = 1 << 20
LIMIT = 1 << 30
DIR = "/dev/shm"
_made = {}  # name -> (pid that made it, size)
_finalized = {}  # pid -> its removal at exit
_local = threading.local()


@contextmanager
def inline():
    """Within it, what this thread pickles carries its fallbacks inline."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1


def _inline():
    return getattr(_local, "depth", 0) > 0


def stash(blob):
    """(name, size) of a stash holding blob, or blob itself where it goes
    inline."""
    if len(blob) < THRESHOLD or _inline() or not _may_stash(len(blob)):
        return blob
    name = "cpmp-%d-%s" % (os.getpid(), os.urandom(8).hex())
    try:
        fd = os.open(os.path.join(DIR, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL
                     | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return blob
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
    except OSError:
        _remove(name)
        return blob
    _track(name)
    _made[name] = (os.getpid(), len(blob))
    return name, len(blob)


def _may_stash(size):
    process = sys.modules.get("multiprocessing.process")
    if process is None or process.parent_process() is not None:
        return False
    mine = sum(n for pid, n in _made.values() if pid == os.getpid())
    return mine + size <= LIMIT and os.path.isdir(DIR)


def for_message(kept):
    """What a message carries for a fallback stash() returned: the stash's
    name where it may, else the bytes, or None when they are gone (a stash
    of the process this one was forked from, which has ended)."""
    if isinstance(kept, bytes) or (not _inline() and _made.get(kept[0], (0,))[0] == os.getpid()):
        return kept
    try:
        return read(kept)
    except (OSError, ValueError):
        return None


def _track(name):
    """Removed at exit once multiprocessing has joined the children that
    may read it (its finalizers of negative priority run after that), or by
    the resource tracker if this process dies unawares."""
    if _finalized.get(os.getpid()) is None:  # a forked child inherits _made
        from multiprocessing import util

        _finalized[os.getpid()] = util.Finalize(None, _remove_mine, exitpriority=-100)
    try:
        from multiprocessing import resource_tracker

        resource_tracker.register("/" + name, "shared_memory")
    except Exception:
        pass


def _remove(name):
    try:
        os.unlink(os.path.join(DIR, name))
    except OSError:
        pass


def _remove_mine():
    """At exit: this process's stashes (a forked child inherits the
    record and the handler, and leaves its parent's alone)."""
    for name, (pid, _) in list(_made.items()):
        if pid == os.getpid():
            _remove(name)
            try:
                from multiprocessing import resource_tracker

                resource_tracker.unregister("/" + name, "shared_memory")
            except Exception:
                pass


def read(fallback):
    """The bytes of a fallback: itself, or what its stash holds."""
    if isinstance(fallback, bytes):
        return fallback
    name, size = fallback
    if not isinstance(name, str) or "/" in name or not name.startswith("cpmp-"):
        raise ValueError("cpmp: not a stash name: %r" % (name,))
    with open(os.path.join(DIR, name), "rb") as f:
        data = f.read(size + 1)
    if len(data) != size:
        raise ValueError("cpmp: the stash %s holds %d bytes, not %d" % (name, len(data), size))
    return data
