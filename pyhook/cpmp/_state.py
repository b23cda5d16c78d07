"""The record of what cpmp changed, so that unpatch() restores it exactly.

Modelled on gevent's monkey/_state.py and pytest's monkeypatch: each change
is saved once, the first time (patching twice changes nothing), with NOTSET
standing for "there was nothing here".  Restoring walks the record in reverse.
"""

import sys


class _NotSet:
    __slots__ = ()

    def __repr__(self):
        return "NOTSET"


NOTSET = _NotSet()

# Entries are (kind, target, key, original): kind is "attr" (an attribute of
# a class or module, read through its __dict__ so inherited values are not
# copied down) or "item" (a key of a dict) or "hook" (an object put at the
# front of sys.meta_path).
_record = []


def _find(kind, target, key):
    for entry in _record:
        if entry[0] == kind and entry[1] is target and entry[2] == key:
            return entry
    return None


def set_attr(target, name, value):
    if _find("attr", target, name) is None:
        _record.append(("attr", target, name, vars(target).get(name, NOTSET)))
    setattr(target, name, value)


def set_item(mapping, key, value):
    if _find("item", mapping, key) is None:
        _record.append(("item", mapping, key, mapping.get(key, NOTSET)))
    mapping[key] = value


def add_hook(finder):
    if _find("hook", sys.meta_path, finder) is None:
        _record.append(("hook", sys.meta_path, finder, NOTSET))
        sys.meta_path.insert(0, finder)


def drop_hook(finder):
    """Take an import hook out once it has done its work."""
    entry = _find("hook", sys.meta_path, finder)
    if entry is not None:
        _record.remove(entry)
    try:
        sys.meta_path.remove(finder)
    except ValueError:
        pass


def drop_hooks(finder_type):
    for entry in [e for e in _record if e[0] == "hook"]:
        if isinstance(entry[2], finder_type):
            drop_hook(entry[2])


def has_hook(finder_type):
    return any(e[0] == "hook" and isinstance(e[2], finder_type) for e in _record)


def patched_attr(target, name):
    return _find("attr", target, name) is not None


def restore():
    while _record:
        kind, target, key, original = _record.pop()
        if kind == "hook":
            try:
                target.remove(key)
            except ValueError:
                pass
        elif kind == "attr":
            if original is NOTSET:
                try:
                    delattr(target, key)
                except AttributeError:
                    pass
            else:
                setattr(target, key, original)
        else:
            if original is NOTSET:
                target.pop(key, None)
            else:
                target[key] = original


def is_patched():
    """True while cpmp's patch is applied, or armed to apply on import."""
    return bool(_record)
