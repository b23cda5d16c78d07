"""CPMP_TRACE: what each process sent by value, and what it cost.

CPMP_TRACE=1 (or true, yes, on) writes to stderr, 0 (false, no, off) or
empty is off, and any other value is a file that every process appends
to.  One line the first time a process sends an object by value (kind,
qualified name, where it is defined, its pickled size), with the
process's running totals, so a worker that is killed at the end still
leaves them; one line of totals when a process exits.

Only imported when CPMP_TRACE is on: with tracing off, the pickler runs
without a single extra instruction (_reduce decides at import).
"""

import os
import sys
from types import FunctionType

from ..core import _policy
from .._settings import ENV_TRACE, LOG_PREFIX, trace_target as _trace_target


def target():
    """Where CPMP_TRACE sends the trace: None (off), 2 (stderr) or a path."""
    return _trace_target(os.environ.get(ENV_TRACE, ""))


def kind(obj):
    """What obj is and why it went by value, in a few words."""
    is_function = isinstance(obj, FunctionType)
    if is_function and obj.__name__ == "<lambda>":
        return "lambda"
    if "<locals>" in obj.__qualname__:
        if not is_function:
            return "local class"
        return "closure" if obj.__closure__ else "nested function"
    what = "function" if is_function else "class"
    reason = _policy.by_value_reason(obj, is_function)
    return what + " " + reason if reason else what


def _is_program():
    """This is the program's process, not a child multiprocessing started
    (which, under spawn and forkserver, has no parent process yet while it
    loads its preparation data and runs the main module again)."""
    from multiprocessing import process

    return process.parent_process() is None and \
        not getattr(process.current_process(), "_inheriting", False)


def _where(obj):
    code = getattr(obj, "__code__", None)
    if code is not None:
        return "%s:%d" % (code.co_filename, code.co_firstlineno)
    module = sys.modules.get(obj.__module__)
    return getattr(module, "__file__", None) or obj.__module__


def _warn(text):
    try:
        os.write(2, ("%s%s: %s\n" % (LOG_PREFIX, ENV_TRACE, text)).encode("utf-8", "replace"))
    except OSError:
        pass  # no stderr either: the program goes on regardless


def _count(n, noun):
    return "%d %s%s" % (n, noun, "" if n == 1 else "s")


class _Refused(Exception):
    """A trace file that another user could have pointed somewhere."""


def _open(path):
    """The trace file, for appending: created 0600, and refused when it is
    a symbolic link, another user's, or has a second hard link, which a
    shared directory would let someone else aim at a file of ours (the
    launcher's --trace makes the same checks)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        import errno

        if exc.errno == errno.ELOOP:
            raise _Refused("it is a symbolic link") from None
        raise
    st = os.fstat(fd)
    why = None
    if st.st_uid != os.geteuid():
        why = "it belongs to another user (uid %d)" % st.st_uid
    elif st.st_nlink > 1:
        why = "it has %d hard links" % st.st_nlink
    if why is not None:
        os.close(fd)
        raise _Refused(why)
    return fd


class _Sent:
    """One definition a process has sent by value (the closures one def
    makes count as one), and its size when last sent."""

    __slots__ = ("kind", "name", "where", "reduce", "size")

    def __init__(self, obj, name, where):
        self.kind = kind(obj)
        self.name = name
        self.where = where
        self.reduce = None
        self.size = 0


class _Tracer:
    """One process's trace: reset in a forked child, whose totals are its own."""

    def __init__(self, where):
        self.where = where
        self.pid = None
        self.finalizer = None
        self.busy = False
        if where not in (None, 2):
            self._check()

    def _check(self):
        """Refuse a trace file another user could have aimed, once, before
        the program starts a process: it runs untraced, and so do its
        children (which read the variable)."""
        try:
            os.close(_open(self.where))
        except _Refused as exc:
            _warn("refusing %r: %s, not tracing" % (self.where, exc))
            self.where = None
            os.environ[ENV_TRACE] = "0"
        except OSError:
            pass  # said by write(), which traces to stderr instead

    def _ready(self):
        if self.pid != os.getpid():
            self.pid = os.getpid()
            self.fd = None
            self.seen = {}  # (name, where) -> _Sent
            self.sends = 0
            self.bytes = 0
        # multiprocessing's bootstrap of a child clears the exit hooks it
        # inherited (and runs them at its end, which atexit would not).
        if self.finalizer is None or not self.finalizer.still_active():
            import multiprocessing.util

            self.finalizer = multiprocessing.util.Finalize(None, self.at_exit, exitpriority=-100)

    def role(self):
        from multiprocessing import process

        if _is_program():
            return "pid %d parent" % self.pid
        if process.parent_process() is None:  # a spawned child running the main module again
            return "pid %d worker starting" % self.pid
        return "pid %d worker %s" % (self.pid, process.current_process().name)

    def write(self, text):
        """One line of the trace.  Tracing never changes what the program
        does: when the trace cannot be written (a full disk, a closed or
        broken stderr), it says so once, on stderr if it can, and stops."""
        if self.fd == -1 or self.where is None:
            return
        line = ("cpmp trace: %s: %s\n" % (self.role(), text)).encode("utf-8", "replace")
        if self.fd is None:
            if self.where == 2:
                self.fd = 2
            else:
                try:
                    self.fd = _open(self.where)
                except _Refused as exc:  # replaced since _check()
                    _warn("refusing %r: %s, not tracing" % (self.where, exc))
                    self.where = None
                    return
                except OSError as exc:
                    _warn("cannot write to %r (%s), tracing to stderr" % (self.where, exc.strerror))
                    self.fd = 2
                    # Once for the program: the processes it starts trace to stderr.
                    os.environ[ENV_TRACE] = "1"
        try:
            # One write per line: O_APPEND keeps lines from processes whole.
            os.write(self.fd, line)
        except OSError as exc:
            target = "stderr" if self.fd == 2 else repr(self.where)
            self.fd = -1
            if _is_program():  # once for the program, not per worker
                _warn("cannot write the trace to %s (%s), tracing stops" % (target, exc.strerror))

    def record(self, obj, reduce):
        self._ready()
        key = (obj.__module__ + "." + obj.__qualname__, _where(obj))
        sent = self.seen.get(key)
        first = sent is None
        if first:
            sent = self.seen[key] = _Sent(obj, *key)
        if reduce is not sent.reduce:
            # Sent afresh (or for the first time): measure it alone.
            self.busy = True
            try:
                from ..core import _reduce

                sent.size = len(_reduce.dumps(obj))
            finally:
                self.busy = False
            sent.reduce = reduce
        self.sends += 1
        self.bytes += sent.size
        if first:
            self.write("%s %s (%s), %s [so far: %s]"
                       % (sent.kind, sent.name, sent.where, _count(sent.size, "byte"),
                          self.totals()))

    def totals(self):
        return "%s, %s, %s" % (_count(len(self.seen), "definition"), _count(self.sends, "send"),
                               _count(self.bytes, "byte"))

    def at_exit(self):
        if self.pid != os.getpid():
            return
        kinds = {}
        for sent in self.seen.values():
            kinds[sent.kind] = kinds.get(sent.kind, 0) + 1
        detail = ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items()))
        self.write("exit: %s%s" % (self.totals(), " (%s)" % detail if detail else ""))


TRACER = _Tracer(target())


def traced(reducer_override):
    """reducer_override, reporting each object it sends by value (not a
    definition sent as a reference to the one a forked worker holds, nor
    one answered by its name: _load.c's load_function)."""
    from ..core._receive import load_held

    def traced_reducer_override(obj):
        reduce = reducer_override(obj)
        if reduce is not NotImplemented and type(reduce) is not str \
                and reduce[0] is not load_held and not TRACER.busy:
            TRACER.record(obj, reduce)
        return reduce

    return traced_reducer_override
