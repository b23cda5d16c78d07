"""What cpmp sends to and from the subinterpreters of
concurrent.futures.InterpreterPoolExecutor (3.14), and what they run.

CPython hands a call to another interpreter object by object: what is
shareable (numbers, strings, bytes, tuples of them, its queues) is copied
as itself, and anything else goes through ``pickle.dumps`` and
``pickle.loads`` (Python/crossinterp.c), which refuse a lambda, a closure,
a local class and what holds one.  cpmp sends exactly those objects --
the task, the result, the exception -- wrapped in a Sent, which the same
machinery pickles as a call of ``load`` on what cpmp's pickler made of it.
Shareable objects are left to CPython, as without cpmp.

The public names of this module are written into those pickles
(``__cpmp__.core._subinterp.load``, ``.call``; see _wire): keep an alias
when renaming one.

A subinterpreter's ``__main__`` is empty; CPython loads a copy of the
sender's script (``runpy.run_path(file, run_name="<fake __main__>")``,
outside its main block, once per interpreter) when an unpickle fails on a
name ``__main__`` lacks, and unpickles again with that copy in place.
That is the receiver's module of the spawn model: what cpmp sends that
names ``__main__`` is loaded with it in place too, so a lambda reads the
script's top-level names live there, as in a spawned worker.  Objects of
that copy go back by reference under its name, which the main
interpreter answers with its own ``__main__``, as multiprocessing's
``__mp_main__`` alias does for a spawned worker's.
"""

import pickle
import sys

FAKE_MAIN = "<fake __main__>"  # the copy's __name__ (crossinterp.c)
_MAIN_MARK = b"__main__"
_FAKE_MARK = FAKE_MAIN.encode()


class Sent:
    """An object pickled by cpmp's pickler now, which the subinterpreter
    machinery sends as a call of load on those bytes."""

    __slots__ = ("data", "needs_main")

    def __init__(self, obj):
        from . import _reduce

        self.data = _reduce.dumps(obj)
        self.needs_main = _MAIN_MARK in self.data and _script(sys.modules.get("__main__"))

    def __reduce__(self):
        return load, (self.data, self.needs_main)


def _has_file(module):
    return getattr(module, "__file__", None) is not None


def _script(main):
    """Whether main has a file CPython can copy (not -c, not stdin)."""
    import os.path

    return _has_file(main) and os.path.isfile(main.__file__)


def load(data, needs_main=False):
    """What Sent.__reduce__ wrote.  needs_main: the payload names the
    sender's ``__main__``, which has a file this interpreter lacks."""
    main = sys.modules.get("__main__")
    if needs_main and not _has_file(main):
        # CPython's own signal (crossinterp.c, check_missing___main___attr):
        # it puts its copy of the sender's script in place and loads again.
        raise AttributeError("module '__main__' has no attribute '__file__'")
    if main is not None and vars(main).get("__name__") == FAKE_MAIN:
        sys.modules.setdefault(FAKE_MAIN, main)  # this subinterpreter's copy
    elif bind_alias is not None and _FAKE_MARK in data:
        _alias_main(bind_alias)
    return pickle.loads(data)


def _alias_main(bind):
    """In the main interpreter, let this ``__main__`` answer for the
    subinterpreters' copy of the script, named FAKE_MAIN in what they send
    back (bind(module): how the patch records it, for unpatch)."""
    main = sys.modules.get("__main__")
    if FAKE_MAIN not in sys.modules and _has_file(main) and vars(main).get("__name__") == "__main__":
        bind(main)


# Set by the patch: binds sys.modules[FAKE_MAIN] (recorded, for unpatch).
bind_alias = None


def shareable(obj):
    """obj as CPython shares it between interpreters, with a Sent in place
    of each part it would pickle (a tuple shares each of its items)."""
    from concurrent import interpreters

    return _shareable(obj, interpreters.is_shareable)


def _shareable(obj, is_shareable):
    if type(obj) is tuple:
        items = tuple(_shareable(item, is_shareable) for item in obj)
        return obj if all(a is b for a, b in zip(items, obj)) else items
    return obj if is_shareable(obj) else Sent(obj)


def call(results, task):
    """concurrent.futures.interpreter.do_call's twin, run in the
    subinterpreter: the result, and an exception put on results, go back
    through cpmp's pickler where CPython would pickle them."""
    from concurrent import interpreters

    func, args, kwargs = task
    try:
        result = func(*args, **kwargs)
    except BaseException as exc:
        _put_raised(results, exc)
        raise
    try:
        return shareable(result)
    except Exception as exc:
        # Raised as without cpmp (where CPython fails to share the result),
        # and through the queue, where run() looks for what the call raised.
        error = interpreters.NotShareableError("the result is not shareable: %s" % exc)
        _put_raised(results, error)
        raise error from exc


def _put_raised(results, exc):
    try:
        results.put(shareable(exc))
    except Exception:
        import traceback

        print('exception is not shareable:', file=sys.stderr)
        traceback.print_exception(exc)
        results.put(None)


def run(context, task):
    """WorkerContext.run, patched: the task as CPython sends it, and where
    CPython refuses it (before anything ran), through cpmp's pickler; cpmp's
    call in place of do_call, for what comes back."""
    from concurrent import interpreters

    if getattr(context, "_cpmp_booted", None) is not context.interp:
        boot(context.interp)
        context._cpmp_booted = context.interp
    try:
        return _run(context, task, interpreters)
    except interpreters.NotShareableError as refused:
        # Only packing the call and unpacking it raise this here (call
        # sends back what the task raised, and the result's failure).
        try:
            task = shareable(task)
        except Exception:
            raise refused  # as without cpmp, with cpmp's reason as its context
    return _run(context, task, interpreters)


def _run(context, task, interpreters):
    try:
        return context.interp.call(call, context.results, task)
    except interpreters.ExecutionFailed as wrapper:
        # As do_call's caller: the exception the task raised, from the queue.
        exc = context.results.get()
        if exc is None:
            raise  # re-raise
        raise exc from wrapper


# Run in a new subinterpreter by interp.exec(), which runs code in its
# __main__: exec'd in a namespace of its own, so that nothing is bound there.
_BOOT = '''exec(%r, {"__builtins__": __builtins__, "_cpmp_dir": %r, "_cpmp_module": %r})'''
_LOAD = '''import sys
if _cpmp_module not in sys.modules:
    d = _cpmp_dir + '/cpmp'
    s = sys.modules['_frozen_importlib_external'].spec_from_file_location(
        _cpmp_module, d + '/__init__.py', submodule_search_locations=[d])
    m = sys.modules['_frozen_importlib'].module_from_spec(s)
    sys.modules[_cpmp_module] = m
    try:
        s.loader.exec_module(m)
    except BaseException:
        del sys.modules[_cpmp_module]
        raise
__import__(_cpmp_module + '.core._subinterp')
'''


def boot(interp):
    """Load this package in interp under the name it has here, from the
    same directory, unpatched (what loads and runs a Sent)."""
    import os

    package = __name__.split(".")[0]
    home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    interp.exec(_BOOT % (_LOAD, home, package))
