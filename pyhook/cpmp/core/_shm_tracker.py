"""The resource tracker of the program's root process, which every
message file in /dev/shm is registered with (see _shm).

A tracker removes what is registered with it when the last process
holding a writer to it has exited.  One started by any process but the
root (the process that is no multiprocessing child, nor forked from one
that has cpmp) could die with that process while a message it carried is
still unread; the root's outlives every process of the program.  So a
process may register only through a writer it has proved to be the
root's: by the pipe's inode (st_dev, st_ino), checked at each use.  It
holds one when inherited through fork, when passed at a spawn or
forkserver start by the root (a child at depth 1), or else reopens the
root's through /proc/ROOT/fd once it has learnt where it is from a stub
(every stub carries root()).  The root starts its tracker at its first
large message, and at exit removes its tree's unread files.
"""

import os
import sys

DIR = "/dev/shm"
PREFIX = "cpmp-msg-"  # + "<root pid>-<32 hex digits>"
RTYPE = "shared_memory"

_root = [None]  # (root pid, its tracker fd number there or None, st_dev, st_ino)
_writer = [None]  # (pid, fd): this process's verified writer to that tracker
_forked = [False]  # os.fork()ed from a process that had cpmp: no root


def install():
    """Mark forked children, which are no root though multiprocessing may
    not know them, and remove the root's leftovers at its exit (once per
    process, at patching)."""
    import atexit

    os.register_at_fork(after_in_child=_after_fork_in_child)
    # Registered before multiprocessing.util is imported, so it runs after
    # multiprocessing's own exit handler has joined the children.
    atexit.register(remove_leftovers, os.getpid())


def _after_fork_in_child():
    _forked[0] = True


def root():
    """Where the root's tracker is, as a stub carries it."""
    return _root[0]


def new_name():
    return "%s%d-%s" % (PREFIX, _root[0][0], os.urandom(16).hex())


def writer_for(root):
    """A writer to the tracker of root (a stub's), or None: learns root
    where this process knew none."""
    if _root[0] is None:
        _root[0] = tuple(root)
    same = _root[0][0] == root[0] and _root[0][2:] == tuple(root[2:])
    return writer() if same else None


def writer():
    """A file descriptor writing to the root's resource tracker, or None
    where this process cannot prove it holds one."""
    if _writer[0] is not None and _writer[0][0] == os.getpid() and _root[0] is not None \
            and _is_tracker(_writer[0][1], _root[0]):
        return _writer[0][1]
    if _root[0] is None and not _become_root():
        return None
    fd = _find_writer(_root[0])
    _writer[0] = None if fd is None else (os.getpid(), fd)
    return fd


def _become_root():
    """In the root process: start (or find) its tracker and say so."""
    from multiprocessing import process, resource_tracker

    if _forked[0] or process.current_process()._identity:
        return _spawned_from_root()
    try:
        resource_tracker.ensure_running()
        fd = resource_tracker._resource_tracker._fd
        st = os.fstat(fd)
    except Exception:
        return False
    _root[0] = (os.getpid(), fd, st.st_dev, st.st_ino)
    return True


def _spawned_from_root():
    """A spawn or forkserver child of the root holds its tracker: the root
    passed it (its getfd()) at the start."""
    from multiprocessing import process, resource_tracker

    tracker = resource_tracker._resource_tracker
    parent = process.parent_process()
    if len(process.current_process()._identity) != 1 or tracker._pid is not None \
            or tracker._fd is None or parent is None:
        return False
    try:
        st = os.fstat(tracker._fd)
    except OSError:
        return False
    _root[0] = (parent.pid, None, st.st_dev, st.st_ino)  # its number there: unknown
    return True


def _is_tracker(fd, root):
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == root[2:]


def _find_writer(root):
    """This process's own writer to the root's tracker: the one
    multiprocessing gave it, else the root's reopened through /proc."""
    from multiprocessing import resource_tracker

    fd = resource_tracker._resource_tracker._fd
    if fd is not None and _is_tracker(fd, root):
        return fd
    if root[0] == os.getpid():
        return None
    fds = "/proc/%d/fd" % root[0]
    try:
        numbers = [root[1]] if root[1] is not None else [
            n for n in os.listdir(fds) if os.readlink("%s/%s" % (fds, n)) == "pipe:[%d]" % root[3]]
    except OSError:
        return None
    for number in numbers:
        try:
            fd = os.open("%s/%s" % (fds, number), os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        if _is_tracker(fd, root):
            return fd
        os.close(fd)
    return None


def tell(fd, command, name):
    """One line to the tracker (shorter than PIPE_BUF: written whole)."""
    try:
        return os.write(fd, ("%s:/%s:%s\n" % (command, name, RTYPE)).encode("ascii")) > 0
    except OSError:
        return False


def remove_leftovers(pid):
    """At the root's exit: remove the files of its tree that no process
    read, and unregister them (a file is removed once: by its reader or
    here), so that its tracker has none left to warn of."""
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    if pid != os.getpid() or _forked[0] or tracker is None or tracker._resource_tracker._fd is None:
        return
    process, util = sys.modules.get("multiprocessing.process"), sys.modules.get("multiprocessing.util")
    if process is None or process.current_process()._identity:
        return
    if util is not None:
        util._exit_function()  # children joined first (a no-op once it has run)
    mine = "%s%d-" % (PREFIX, pid)
    try:
        names = [n for n in os.listdir(DIR) if n.startswith(mine)]
    except OSError:
        return
    fd = tracker._resource_tracker._fd
    for name in names:
        try:
            os.unlink(os.path.join(DIR, name))
        except OSError:
            continue
        tell(fd, "UNREGISTER", name)
