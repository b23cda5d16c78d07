"""cloudpickle, imported the first time something needs it (a program that
sends no class by value never imports it), and OWN: the functions cpmp's
payloads name, which go by reference without asking the policy."""

import pickle
import sys
from types import FunctionType

from .._settings import install_fix

# Functions cpmp's payloads name (_receive's, cloudpickle's once imported)
# and C types found by name: by reference without asking the policy at each
# send.  The C fast path reads this very set (_speedups.set_tables).
OWN = set()


def own(module):
    """Add module's own named functions to OWN."""
    name = getattr(module, "__name__", None)
    OWN.update(v for v in vars(module).values()
               if type(v) is FunctionType and v.__module__ == name and "<" not in v.__qualname__)


def _cloudpickle():
    try:
        import cloudpickle
    except ImportError as exc:
        raise pickle.PicklingError(
            "cpmp: sending a class by value needs cloudpickle, which this Python cannot "
            "import (%s)" % install_fix()) from exc
    return cloudpickle


_known = []
_MODULES = ("cloudpickle.cloudpickle_fast", "cloudpickle.cloudpickle")


def attr(name):
    """One of cloudpickle's reducers or helpers, wherever its version keeps
    it (cloudpickle_fast in 2.x, cloudpickle in 1.x and 3.x)."""
    if not _known:
        _cloudpickle()
        for module in _MODULES:
            own(sys.modules.get(module))
        _known.append(True)
    for module in _MODULES:
        found = getattr(sys.modules.get(module), name, None)
        if found is not None:
            return found
    cloudpickle = sys.modules["cloudpickle"]
    raise pickle.PicklingError("cpmp: cloudpickle %s has no %s; cpmp needs cloudpickle >= 1.6"
                               % (getattr(cloudpickle, "__version__", "?"), name))
