"""cloudpickle 2.2's own test suite as our oracle, without its code: each
case below is one that suite had cpmp.dumps fail (see oracle.bats), sent
by cpmp.dumps and by cloudpickle.dumps and loaded in a fresh spawned child
(pickle.loads), where what the loaded object does is compared.

Usage: cloudpickle_cases.py SCRATCH_DIR (under cpmp run).  Prints one line
per case, then a summary.  A case cloudpickle 2.2 itself cannot send has
the behaviour expected of cpmp instead (EXPECTED).
"""
import contextlib
import io
import multiprocessing
import os
import pickle
import sys
import types
import weakref

import cloudpickle

import cpmp


class Thing:
    def who(self):
        return "thing"


class ApiModule(types.ModuleType):
    """A module made at run time by a types.ModuleType subclass (py's
    ApiModule, for one)."""


class _Faulty:
    """A sys.modules entry unrelated to what is sent, whose every
    attribute lookup raises (and not AttributeError)."""

    def __getattr__(self, name):
        raise Exception("faulty")


@contextlib.contextmanager
def faulty_module():
    sys.modules["_cases_faulty"] = _Faulty()
    try:
        yield
    finally:
        del sys.modules["_cases_faulty"]


class Deep:
    def __getattribute__(self, name):
        return getattr(self, name)


def exec_function():
    """[f, f] for a function made by exec in globals without __name__:
    pickle.whichmodule finds it nowhere (cloudpickle's test_extended_arg)."""
    d = {"X": 41}
    exec("def f():\n    return X + 1\n", d)
    return [d["f"], d["f"]]


def module_less():
    """A local class and a function whose __module__ is None
    (test_unrelated_faulty_module)."""
    class Foo:
        __module__ = None

        def foo(self):
            return "it works!"

    def foo():
        return "it works too!"

    foo.__module__ = None
    return [Foo(), foo]


def dynamic_module():
    """A closure over an ApiModule instance no sys.modules entry names."""
    mod = ApiModule("_cases_api")
    mod.value = 7
    return lambda: (type(mod).__name__, mod.__name__, mod.value)


def by_value_module(scratch):
    """A module workers cannot import, registered by value (test_pickle_
    constructs_from_module_registered_for_pickling_by_value)."""
    path = os.path.join(scratch, "cases_local_mod.py")
    with open(path, "w") as f:
        f.write("BASE = 40\n\ndef local_function():\n    return BASE + 2\n")
    sys.path.insert(0, scratch)
    try:
        import cases_local_mod
    finally:
        sys.path.remove(scratch)  # so that a spawned child cannot import it
    cpmp.register_by_value(cases_local_mod)
    return cases_local_mod


def weak_set():
    """Identity between a WeakSet's members and the same objects beside it
    (test_weakset_identity_preservation)."""
    a, b, c = Thing(), Thing(), Thing()
    return [weakref.WeakSet([a, b]), a, b, c]


def submodule_closure():
    """A closure over a package whose submodule the code reaches into,
    which a fresh child has not imported (test_submodule_closure)."""
    import xml.etree.ElementTree  # noqa: F401 (loaded here, not in the child)
    import xml

    def f():
        return xml.etree.ElementTree.__name__
    return f


def lambda_method():
    """A bound method whose function is a lambda, found as "echo" but named
    "<lambda>" (test_interactive_dynamic_type_and_stored_remote_instances)."""
    Thing.echo = lambda self: ("echo", type(self).__name__)
    return Thing().echo


class Overriding(Thing):
    def who(self):
        return "overriding"


def base_method():
    """Thing.who bound to an Overriding: getattr(self, "who") would give
    the subclass's function instead."""
    return Thing.who.__get__(Overriding())


def behave(obj):
    """What the loaded object does, as plain data."""
    if isinstance(obj, types.ModuleType):
        return ("module", obj.__name__, obj.local_function())
    if callable(obj) and type(obj).__name__ == "classmethod_descriptor":
        return ("descriptor", obj is float.__dict__["fromhex"], obj.__get__(None, float)("0x1"))
    if callable(obj):
        return ("call", obj())
    if isinstance(obj, list) and isinstance(obj[0], weakref.WeakSet):
        ws, a, b, c = obj
        return ("weakset", len(ws), a in ws, b in ws, c in ws)
    if isinstance(obj, list) and callable(obj[0]):
        return ("exec'd", obj[0] is obj[1], obj[0]())
    if isinstance(obj, list):
        return ("module-less", obj[0].foo(), obj[1]())
    if isinstance(obj, pickle.PickleBuffer):
        return ("buffer", bytes(obj))
    return (type(obj).__name__, repr(obj))


def _load_and_behave(blob, buffers):
    try:
        return behave(pickle.loads(blob, buffers=buffers))
    except Exception as exc:
        return "fails: %s: %s" % (type(exc).__name__, exc)


def _dumps(module, obj, how):
    """(blob, out-of-band buffers) as module pickles obj."""
    if how == "dumps":
        return module.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), None
    buffers = []
    if how == "dump":
        f = io.BytesIO()
        module.dump(obj, f, protocol=5, buffer_callback=buffers.append)
        blob = f.getvalue()
    else:
        blob = module.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return blob, [bytes(b.raw()) for b in buffers] + ["%d out of band" % len(buffers)]


def outcome(pool, module, obj, how, context):
    try:
        with context():
            blob, buffers = _dumps(module, obj, how)
    except Exception as exc:
        return ("cannot pickle", isinstance(exc, pickle.PicklingError),
                "recursion" in str(exc).lower())
    if buffers is None:
        return pool.apply(_load_and_behave, (blob, None))
    return pool.apply(_load_and_behave, (blob, buffers[:-1])), buffers[-1]


def cases(scratch):
    """name -> (object, how it is pickled, what is around the pickling)."""
    none = contextlib.nullcontext
    return {
        "exec'd function without __name__": (exec_function(), "dumps", none),
        "__module__ None, with a faulty sys.modules entry": (module_less(), "dumps",
                                                             faulty_module),
        "ModuleType subclass": (dynamic_module(), "dumps", none),
        "module registered by value": (by_value_module(scratch), "dumps", none),
        "WeakSet": (weak_set(), "dumps", none),
        "submodule used in a closure": (submodule_closure(), "dumps", none),
        "classmethod descriptor": (float.__dict__["fromhex"], "dumps", none),
        "too deep recursion": (Deep(), "dumps", none),
        "out-of-band buffer, dumps": (pickle.PickleBuffer(bytearray(b"0123")), "buffers", none),
        "out-of-band buffer, dump": (pickle.PickleBuffer(bytearray(b"4567")), "dump", none),
        "method whose function is a lambda": (lambda_method(), "dumps", none),
        "method its subclass overrides": (base_method(), "dumps", none),
    }


# What cpmp gives where cloudpickle 2.2 itself cannot: the descriptor
# itself (CPython 3.10.8 dropped the reducer, python/cpython#95196).
EXPECTED = {"classmethod descriptor": ("descriptor", True, 1.0)}


def main():
    # cloudpickle sends a ModuleType subclass once told to, as its own
    # suite does (test_dynamic_pytest_module); cpmp needs no telling.
    cloudpickle.CloudPickler.dispatch_table[ApiModule] = \
        cloudpickle.cloudpickle_fast._module_reduce
    # A fresh child for each load: nothing is left from the one before.
    ctx = multiprocessing.get_context("spawn")
    bad, todo = 0, cases(sys.argv[1])
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        for name, (obj, how, context) in todo.items():
            theirs = EXPECTED.get(name) or outcome(pool, cloudpickle, obj, how, context)
            ours = outcome(pool, cpmp, obj, how, context)
            if ours == theirs:
                print("%s: %s" % (name, "as expected (cloudpickle 2.2 cannot send it)"
                                  if name in EXPECTED else "as with cloudpickle"))
            else:
                bad += 1
                print("%s: cpmp %r, cloudpickle %r" % (name, ours, theirs))
    print("%d cases, %d differ" % (len(todo), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
