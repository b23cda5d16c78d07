"""cpmp: multiprocessing that can send lambdas, closures and local classes.

    import cpmp
    cpmp.patch()            # idempotent
    with multiprocessing.get_context("spawn").Pool() as pool:
        pool.map(lambda x: x ** 2, range(10))
    cpmp.unpatch()          # restores exactly what was there

Under ``cpmp run`` or ``cpmp exec`` the patch is already active, in the
program and in all of its child processes; nothing needs to be imported.

Only what the standard pickler cannot send (or the receiving process could
not look up) goes by value; everything else is pickled exactly as without
cpmp.  A lambda or nested function runs in a worker on the worker's live
module globals, just as a top-level function would.
"""

__version__ = "0.1.0"
__all__ = ["patch", "unpatch", "is_patched", "register", "__version__"]

from ._patch import patch, register, unpatch
from ._state import is_patched


def _activate():
    """Entry point of the launcher and the preload library (not public).

    Arms the patch unless CPMP_DISABLE asks otherwise; never imports
    multiprocessing or cloudpickle itself.
    """
    import os

    if os.environ.get("CPMP_DISABLE", "") not in ("", "0"):
        return
    from ._patch import arm

    arm()
