"""Applying and removing the patch.

multiprocessing binds ForkingPickler in five places, three of them captured
at import time (connection._ForkingPickler, queues._ForkingPickler,
sharedctypes._ForkingPickler), plus reduction.dump and
AbstractReducer.ForkingPickler.  All of them hold the *same class object*, so
cpmp changes that class in place instead of replacing it: it gives it a
reducer_override and adds reducers to its own _extra_reducers registry.
Every binding site, every subclass (custom reducers via context.reducer) and
every module imported later sees the change, and registrations made through
reduction.register before or after patching land in the one registry.
"""

import sys

from . import _state


def _apply_reduction(reduction):
    from . import _reduce

    pickler = reduction.ForkingPickler
    if _state.patched_attr(pickler, "reducer_override"):
        return
    _state.set_attr(pickler, "reducer_override", _reduce.reducer_override)
    registry = pickler._extra_reducers
    for typ, reducer in _reduce.EXTRA_REDUCERS:
        # A reducer the program registered itself wins over ours.
        if typ not in registry:
            _state.set_item(registry, typ, reducer)


def _apply_spawn(spawn):
    """Let programs read from stdin start spawn and forkserver children.

    Their __main__.__file__ is "<stdin>", which spawn tells every child to
    re-run as a script; the child dies on the missing file and a Pool
    replaces it forever.  A main script that is not a file is not sent.
    """
    if _state.patched_attr(spawn, "get_preparation_data"):
        return
    import functools
    import os

    original = spawn.get_preparation_data

    @functools.wraps(original)
    def get_preparation_data(name):
        data = original(name)
        path = data.get("init_main_from_path")
        if path is not None and not os.path.isfile(path):
            del data["init_main_from_path"]
        return data

    _state.set_attr(spawn, "get_preparation_data", get_preparation_data)


# What to patch in each module, applied as soon as that module is loaded:
# module name -> (an attribute that exists once it has run, patch function).
_TARGETS = {
    "multiprocessing.reduction": ("ForkingPickler", _apply_reduction),
    "multiprocessing.spawn": ("get_preparation_data", _apply_spawn),
}


def _apply_loaded():
    """Patch the targets already loaded; True when none is left to wait for."""
    pending = False
    for name, (landmark, apply) in _TARGETS.items():
        module = sys.modules.get(name)
        if module is not None and hasattr(module, landmark):
            apply(module)
        else:
            pending = True
    return not pending


class _ArmedFinder:
    """Patches each target module the moment it has been executed.

    It answers only for those modules, and only by asking the finders
    behind it; the module and its loader stay the ones Python found.  Once
    every target is patched the finder removes itself, so later imports pay
    nothing.
    """

    def find_spec(self, fullname, path=None, target=None):
        target = _TARGETS.get(fullname)
        if target is None:
            return None
        apply = target[1]
        meta = sys.meta_path
        start = meta.index(self) + 1 if self in meta else 0
        for finder in meta[start:]:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        finder = self

        def exec_module(module):
            try:
                type(loader).exec_module(loader, module)
            finally:
                loader.__dict__.pop("exec_module", None)
            apply(module)
            if _apply_loaded():
                _state.drop_hook(finder)

        # Shadow exec_module on this one loader instance for this one call,
        # so __loader__ and __spec__.loader stay Python's own object.
        loader.exec_module = exec_module
        return spec


def arm():
    """Patch now if multiprocessing is loaded, else when it is first imported.

    This is what the launcher and the preload library call: a program that
    never imports multiprocessing pays for one small import hook and nothing
    else.
    """
    if not _apply_loaded() and not _state.has_hook(_ArmedFinder):
        _state.add_hook(_ArmedFinder())


def patch():
    """Make multiprocessing send lambdas, closures and local classes.

    Idempotent.  Everything the standard pickler can send still goes exactly
    as before; only functions and classes it cannot send by reference are
    sent by value.
    """
    import multiprocessing.reduction
    import multiprocessing.spawn  # noqa: F401

    _apply_loaded()
    _state.drop_hooks(_ArmedFinder)


def unpatch():
    """Restore every attribute and registry entry cpmp changed.  Idempotent."""
    _state.restore()


def register(type_, reducer):
    """Register reducer for type_ with multiprocessing's pickler.

    The same registry as multiprocessing.reduction.register: it holds whether
    or not cpmp is patched, and survives unpatch().
    """
    import multiprocessing.reduction as reduction

    reduction.ForkingPickler.register(type_, reducer)
