"""What cpmp writes into a pickle, field by field: the one place that
says it.  The sender (_send, _resend, _reduce, _fallback, _stash) writes
these forms and the receiver (_receive, _held, _code, _stash) reads them;
both take the names and markers below from here.

Each form is a reduce tuple: a callable the pickle names by module and
qualified name (``__cpmp__.core._receive.make_function``, or
``cpmp.core...`` where a program imported the package itself), then its
arguments.  Those names are part of the format: a loader that moves keeps
an alias (``cpmp/__init__.py``, _MOVED, answers the flat names of cpmp
0.1, ``__cpmp__._receive`` and the like).

A function sent by value -- three forms, the same function:

* ``_receive.make_function(code, gname, ncells, names, held)`` then the
  state ``set_function_state(func, state)``:
    code    the code object (``_code.load_code(CODE_TAG + marshal)``);
    gname   the name of the module whose live globals it reads, or None;
    ncells  the number of closure cells, -1 for no closure;
    names   the names in state["shipped"], whose sender's value wins;
    held    {name: HELD} of main-module globals a forked receiver may
            hold itself, or None;
    state   a dict with any of the keys of FUNCTION_STATE, plus "cells"
            (each cell's contents, EMPTY_CELL for an empty one),
            "shipped" ({name: the sender's value}), "imports" (submodules
            the receiver must import), "dict" (the function's __dict__).
* ``_receive.load_function(code_blob, rest)``: the same, for a function
  sent again unchanged (_resend): code_blob is CODE_TAG + marshal of the
  code, rest marshal of (gname, ncells, state, held).
* ``_receive.load_pickled_function(blob)``: the same, with state marshal
  cannot hold: blob is a pickle of ((code, gname, ncells, names, held),
  state).

A held reference -- a main-module definition or object a forked receiver
may hold itself (see _held):

* HELD, a plain tuple (key, checks, fallback):
    key       _held.key_of(obj): what the receiver looks its own copy up by;
    checks    for a definition, (name, KIND, want) for each main-module
              name its functions read: KEY (want: the key of the object
              that name must be bound to), VALUE (want: a small immutable
              value, compared by _held.same_value), BOUND (want: None,
              the name need only be bound); () for other objects;
    fallback  the object pickled by value (bytes), or a stash's
              (STASH_PREFIX name, size) when large (_stash), or None when
              it cannot be pickled at all (an inherited lock).
* ``_receive.load_held(key, checks, fallback, qualname)``: a held
  definition itself (qualname: a function's, for the stub that raises
  NotHeld when it is called; absent for a class).

Other objects the standard pickler refuses: ``make_cell(value)``
(EMPTY_CELL for an empty cell), ``_classes.make_class(make, args)`` with
state for ``_classes.set_class_state`` (cloudpickle's class reduce),
``import_module(name)``, ``make_module(name, state)``, ``make_method(func, obj)``,
``make_dict_view(data, kind, ordered)``, ``dataclass_field_type(name)``,
``cloudpickle_call(name, args)`` (a TypeVar: ``_make_typevar``),
``make_typing(kind, name, args, kwargs, module)`` (a ParamSpec,
TypeVarTuple or NewType).

A call of InterpreterPoolExecutor (3.14; _subinterp), inside the pickle
CPython's cross-interpreter fallback makes: ``_subinterp.load(data,
needs_main)`` for each part CPython cannot share, data the pickle cpmp's
pickler made of it, needs_main whether it names the sender's ``__main__``
(a script CPython copies into the subinterpreter); the task runs as
``_subinterp.call(results, (func, args, kwargs))``.

A cluster task (cluster/_send, cluster/_worker): a pickle of (func, args,
kwargs) or a mapstar chunk, made by the same pickler, handed by
``cluster._worker.run(program, key, setup, lease, task)`` to the pool's own
process, started as ``python3 -c ... PACKAGE FD FD`` running
``PACKAGE.cluster._child.main``.
"""

# --- markers -----------------------------------------------------------------

class _EmptyCell:
    """Stands for the contents of a cell that holds nothing yet."""

    __slots__ = ()

    def __reduce__(self):
        return "EMPTY_CELL"

    def __repr__(self):
        return "EMPTY_CELL"


EMPTY_CELL = _EmptyCell()


def cell_value(cell):
    """What a cell holds, as the wire writes it: EMPTY_CELL when nothing."""
    try:
        return cell.cell_contents
    except ValueError:
        return EMPTY_CELL


# The kinds of a held definition's checks: (name, KIND, want).
KEY = "key"
VALUE = "value"
BOUND = "bound"

# Function state keys that are attributes, and which.
FUNCTION_STATE = {"name": "__name__", "qualname": "__qualname__", "module": "__module__",
                  "doc": "__doc__", "defaults": "__defaults__", "kwdefaults": "__kwdefaults__",
                  "annotations": "__annotations__", "type_params": "__type_params__"}

# The first byte of a code blob; the next two are the Python version that
# compiled it (marshal and bytecode are only valid there).
CODE_TAG_BYTE = 0xC9

# A stash in /dev/shm: STASH_PREFIX + "<pid>-<16 hex digits>" (_stash).
STASH_PREFIX = "cpmp-"

# In the builtins of a namespace _receive built (never on the wire): the key
# that holds the module dict its lookups read live (_globals, _namespace.c).
BUILTINS_MARK = "\0cpmp"


def annotations(func):
    """func.__annotations__; where evaluating them fails (3.14 evaluates
    them only when asked, PEP 649: a name not defined yet), their source
    text, as ``from __future__ import annotations`` gives: sending never
    fails for them, nor runs them twice."""
    try:
        return func.__annotations__
    except Exception:
        import annotationlib

        return annotationlib.get_annotations(func, format=annotationlib.Format.STRING)
