"""Large messages through shared memory instead of the pipe.

python3 pushes every message through the pipe in 64 KiB writes, copied
into a growing buffer on the other side: an 80 MB array costs seconds.  A
message of THRESHOLD bytes or more that one of multiprocessing's
single-reader send sites writes (``Connection.send``, ``SimpleQueue.put``,
``Queue._feed``: SITES) goes instead as the very same pickle in a file of
its own under /dev/shm (mode 0600, an unguessable name), and the pipe
carries a stub naming it (_wire: ``_shm.load``).  The receiver maps the
file, removes it, and loads the pickle from the mapping: it gets objects
of its own, as from the pipe.  ``ForkingPickler.dumps()`` called by
anything else (a program, ``cpmp.dumps``) and a Connection on a named or
TCP socket (a Manager's, a Listener's) give the bytes they always gave:
what another reader, another program or machine, or a second load may
see never names a file.

Cleanup (_shm_tracker).  Each file is registered, before it exists, with
the resource tracker of the program's root process, which removes what is
left once the last process of the program has exited; the root removes at
exit, after joining its children, the files of its tree nobody read.

Whatever fails on the way (no /dev/shm, ENOSPC, EMFILE, no tracker this
process can prove to be the root's, children of another interpreter, more
than LIMIT bytes of this process's messages unread or than half of what
/dev/shm has free) sends that message through the pipe, as python3 does.
"""

import io
import os
import sys

from . import _shm_tracker
from ._shm_tracker import DIR, PREFIX, tell, writer

THRESHOLD = 1 << 20
LIMIT = 1 << 30  # unread bytes this process may hold in /dev/shm

_unread = []  # [(name, size)] this process sent, maybe still unread
# The send sites, by function name and file: Connection.send (SEND) in
# multiprocessing/connection.py, SimpleQueue.put and Queue._feed in
# multiprocessing/queues.py (no other function of those names in those
# files pickles); SITE_FILES is set at patching, beside reduction.py.
SEND = "send"
SITE_NAMES = frozenset((SEND, "put", "_feed"))
SITE_FILES = frozenset()


def install(reduction):
    """At patching (see _shm_tracker.install)."""
    global SITE_FILES
    if not _installed:
        _installed.append(True)
        _shm_tracker.install()
        os.register_at_fork(after_in_child=_unread.clear)  # the parent's
        here = os.path.dirname(getattr(reduction, "__file__", None) or "")
        SITE_FILES = frozenset(os.path.join(here, f) for f in ("connection.py", "queues.py")
                               if here)


_installed = []


# --- sender ------------------------------------------------------------------

_bytesio_write = io.BytesIO.write


class Spill(io.BytesIO):
    """What a send site's pickler writes to (frame: the site's, set by the
    caller, for _eligible): a buffer that moves to a file in /dev/shm once it passes THRESHOLD
    (the C pickler writes a large payload straight to write()); back to
    memory, whole, when the file cannot take it.  A small message costs
    one call of write(), once, at the end of its pickle: no __init__."""

    frame = fd = name = None
    size = allowed = 0
    declined = False

    def write(self, data):
        if self.fd is None:
            if self.declined or self.tell() + (len(data) if type(data) is bytes else _nbytes(data)) \
                    < THRESHOLD or not self._start():
                return _bytesio_write(self, data)
        size = _nbytes(data)
        if self.size + size > self.allowed or not _write_all(self.fd, data):
            self._to_memory()
            return _bytesio_write(self, data)
        self.size += size
        return size

    def _start(self):
        self.declined = True
        self.allowed = _allowance()
        if self.tell() + THRESHOLD > self.allowed or not _eligible(self.frame):
            return False
        made = _new_file()
        if made is None:
            return False
        self.fd, self.name = made
        head = self.getbuffer()
        ok = _write_all(self.fd, head)
        self.size = len(head)
        del head
        if not ok:
            self._to_memory()
            return False
        self.seek(0)
        self.truncate()
        return True

    def _to_memory(self):
        """Back to the pipe: what the file holds, then the rest."""
        fd, self.fd = self.fd, None
        try:
            io.BytesIO.write(self, os.pread(fd, self.size, 0))
        finally:
            os.close(fd)
            _drop(self.name)

    def message(self, protocol):
        """What the site writes: the pickle, or a stub naming its file."""
        self.frame = None
        if self.fd is None:
            return self.getbuffer()
        os.close(self.fd)
        self.fd = None
        _unread.append((self.name, self.size))
        return _stub(self.name, self.size, protocol)

    def discard(self):
        self.frame = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            _drop(self.name)


def _nbytes(data):
    return len(data) if type(data) is bytes else memoryview(data).nbytes


def _eligible(frame):
    """Whether what the send site running in frame writes may go by file:
    a Queue's always does, a Connection's where it is private to this
    program, and where this process holds the root's tracker.  Not where
    children run another interpreter (set_executable()): one without cpmp
    could not load the stub."""
    if frame is None or (frame.f_code.co_name == SEND
                         and not _private_connection(frame.f_locals.get("self"))):
        return False
    return os.path.isdir(DIR) and not _foreign_children() and writer() is not None


def _foreign_children():
    spawn = sys.modules.get("multiprocessing.spawn")
    if spawn is None:
        return False
    executable = spawn.get_executable()
    if isinstance(executable, bytes):
        executable = os.fsdecode(executable)
    return os.path.realpath(executable) != os.path.realpath(sys.executable)


def _new_file():
    """(fd, name) of a new file, registered with the root's tracker
    first: no file exists that the tracker does not know."""
    fd = writer()
    name = _shm_tracker.new_name()
    if fd is None or not tell(fd, "REGISTER", name):
        return None
    try:
        return os.open(os.path.join(DIR, name), os.O_RDWR | os.O_CREAT | os.O_EXCL
                       | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), name
    except OSError:
        tell(fd, "UNREGISTER", name)
        return None


def _write_all(fd, data):
    view = memoryview(data).cast("B")
    try:
        done = 0
        while done < len(view):
            done += os.write(fd, view[done:])
        return True
    except OSError:
        return False


def _drop(name):
    try:
        os.unlink(os.path.join(DIR, name))
    except OSError:
        return
    fd = writer()
    if fd is not None:
        tell(fd, "UNREGISTER", name)


def _private_connection(conn):
    """Whether conn is an unnamed pipe or socket pair: one only this
    program's processes hold (not a FIFO, a Listener's socket or TCP)."""
    try:
        fd = conn.fileno()
        link = os.readlink("/proc/self/fd/%d" % fd)
    except (AttributeError, OSError, ValueError):
        return False
    if link.startswith("pipe:"):
        return True
    if not link.startswith("socket:"):
        return False
    import socket

    try:
        with socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            return (sock.family == socket.AF_UNIX and not sock.getsockname()
                    and not sock.getpeername())
    except OSError:
        return False


def _allowance():
    """How many bytes this process may put into a new file: LIMIT less
    its files still unread, and at most half of what /dev/shm has free."""
    _unread[:] = [(n, s) for n, s in _unread if os.path.lexists(os.path.join(DIR, n))]
    try:
        st = os.statvfs(DIR)
    except OSError:
        return 0
    return min(LIMIT - sum(s for _, s in _unread), st.f_bavail * st.f_frsize // 2)


def _stub(name, size, protocol):
    import pickle

    return pickle.dumps(_Stub(name, size, _shm_tracker.root()), protocol)


class _Stub:
    __slots__ = ("args",)

    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return load, self.args


# --- receiver (its name is written into pickles: see _wire) -------------------------

def load(name, size, root):
    """The object a stub stands for: the pickle in the file name, which
    is removed (and unregistered from root's tracker) before it is read."""
    if not isinstance(name, str) or "/" in name or not name.startswith(PREFIX):
        raise ValueError("cpmp: not a message file name: %r" % (name,))
    path = os.path.join(DIR, name)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.unlink(path)
        fd_tracker = _shm_tracker.writer_for(root)
        if fd_tracker is not None:
            tell(fd_tracker, "UNREGISTER", name)
        if os.fstat(fd).st_size != size:
            raise ValueError("cpmp: the message file %s holds %d bytes, not %d"
                             % (name, os.fstat(fd).st_size, size))
        return _load_mapped(fd, size)
    finally:
        os.close(fd)


def _load_mapped(fd, size):
    import mmap

    from multiprocessing.reduction import ForkingPickler

    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    with mmap.mmap(fd, size, flags=flags, prot=mmap.PROT_READ) as mapping:
        return ForkingPickler.loads(mapping)
