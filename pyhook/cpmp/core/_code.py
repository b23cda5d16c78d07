"""Code objects on the wire: marshal bytes tagged with the Python version
that compiled them.  ``load_code`` is written into pickles as
``cpmp.core._code.load_code`` (see _wire)."""

import marshal
import pickle
import sys
import weakref
from types import CellType, CodeType, FunctionType

from . import _globals, _held, _mutation, _wire

# The Python a payload's code was compiled by: marshal and bytecode are
# only valid in that version.
TAG = bytes((0xC9, sys.version_info[0], sys.version_info[1]))
_CODE_CACHE_MAX = 512

_GLOBAL_OPS = ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME")
_WRITE_OPS = ("STORE_GLOBAL", "DELETE_GLOBAL")


class VersionError(pickle.UnpicklingError):
    pass


def _untag(blob):
    if blob[:3] != TAG:
        if blob[:1] == TAG[:1] and len(blob) >= 3:
            theirs = "Python %d.%d" % (blob[1], blob[2])
        else:
            theirs = "another Python or an older cpmp"
        raise VersionError(
            "cpmp: this payload was pickled by %s and cannot be loaded by Python %d.%d "
            "(code objects only load in the Python that compiled them)"
            % (theirs, sys.version_info[0], sys.version_info[1]))
    return blob[3:]


_code_cache = {}


def attr_names(code):
    """Every name code and the code nested in it use as a global or an
    attribute (co_names)."""
    found = set(code.co_names)
    for c in code.co_consts:
        if hasattr(c, "co_names"):
            found |= attr_names(c)
    return found


_code_blobs = weakref.WeakKeyDictionary()


def reduce_code(code):
    """A code object on the wire: load_code of its tagged marshal bytes,
    made once per code object."""
    data = _code_blobs.get(code)
    if data is None:
        data = _code_blobs[code] = TAG + marshal.dumps(code)
    return load_code, (data,)


def load_code(blob):
    """A code object from TAG + marshal bytes.  Code is immutable, so the
    same bytes sent again (imap with chunksize=1) reuse the object built the
    first time; the cache holds code only, and at most _CODE_CACHE_MAX."""
    code = None if _mutation.SLOW else _code_cache.get(blob)
    if code is None:
        code = marshal.loads(_untag(blob))
        if len(_code_cache) >= _CODE_CACHE_MAX:
            _code_cache.clear()
        if not _mutation.SLOW:  # empty then: _receive reads it directly too
            _code_cache[blob] = code
    return code


# (code blob, rest) of a load_function payload -> (module name, code,
# the module's __file__, cell values or None): what a payload whose state
# is at most cells of immutable values was built from (_receive).
_built = {}


def remember_built(key, gname, code, module, cells):
    """Keep what load_function built key from, where nothing of it can
    change: the cells' values immutable (a list in a cell is a new one at
    every load), small (a large value would stay alive with the key:
    retention), the caches on."""
    if _mutation.SLOW or _mutation.ACTIVE or len(key[1]) > 512 or (
            cells and any(type(v) not in _held.VALUE_TYPES for v in cells)):
        return
    if len(_built) >= _CODE_CACHE_MAX:
        _built.clear()
    _built[key] = (gname, code, getattr(module, "__file__", None), cells)


def plain_function(code, module, gname, cells):
    """A function of code on module's globals, with cells of these values
    (None: no closure): a received one that reads only its module's names."""
    func = FunctionType(code, _globals.module_globals(module), None, None,
                        None if cells is None else tuple(
                            CellType() if v is _wire.EMPTY_CELL else CellType(v) for v in cells))
    func.__module__ = gname
    return func


def load_code_in(blob, path):
    """load_code for code sent without its file name (it was the module's
    own __file__): path put back, once per distinct code."""
    key = (blob, path)
    code = None if _mutation.SLOW else _code_cache.get(key)
    if code is None:
        code = renamed(load_code(blob), "", path)
        if len(_code_cache) >= _CODE_CACHE_MAX:
            _code_cache.clear()
        _code_cache[key] = code
    return code


_names_cache = weakref.WeakKeyDictionary()


def code_names(code):
    """(global names the code and code nested in it use, whether it writes
    any global, the global names code nested in it uses).  The first is
    what a function sent by value carries; the last, what functions it
    makes at run time (comprehensions before 3.12, generator expressions,
    lambdas, defs, class bodies) look up in its globals."""
    names = _names_cache.get(code)
    if names is None:
        import dis

        found, nested, writes = set(), set(), False
        todo = [(code, False)]
        while todo:
            co, inner = todo.pop()
            for ins in dis.get_instructions(co):
                if ins.opname in _GLOBAL_OPS:
                    (nested if inner else found).add(ins.argval)
                    writes = writes or ins.opname in _WRITE_OPS
            if _mutation.ACTIVE != "skip-nested":
                todo.extend((c, True) for c in co.co_consts if isinstance(c, CodeType))
        names = _names_cache[code] = (frozenset(found | nested), writes, frozenset(nested))
    return names


def renamed(code, old, new):
    """code, and the code nested in it, with co_filename old made new."""
    consts = tuple(renamed(c, old, new) if isinstance(c, CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_filename=new if code.co_filename == old else code.co_filename,
                        co_consts=consts)
