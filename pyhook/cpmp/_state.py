"""The record of what cpmp changed, so that unpatch() restores it exactly.

Modelled on gevent's monkey/_state.py and pytest's monkeypatch: each change
is saved once, the first time (patching twice changes nothing), with NOTSET
standing for "there was nothing here".  Restoring walks the record in reverse.
"""


class _NotSet:
    __slots__ = ()

    def __repr__(self):
        return "NOTSET"


NOTSET = _NotSet()

# Entries are (kind, target, key, original): kind is "attr" (an attribute of
# a class or module, read through its __dict__ so inherited values are not
# copied down) or "item" (a key of a dict).  The import hook that arms the
# patch is not recorded here: its place in sys.meta_path is its record.
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


def patched_attr(target, name):
    return _find("attr", target, name) is not None


def restore():
    while _record:
        kind, target, key, original = _record.pop()
        if kind == "attr":
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


def is_applied():
    return bool(_record)
