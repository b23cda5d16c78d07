"""What embedding this interpreter takes, asked of the interpreter itself
(meson.build): one "KEY<TAB>VALUE" line each.  Meson 1.0's python module
needs distutils, which CPython 3.12 removed; sysconfig has all of it.

The wheel_* values are for a pip install (meson.build, -Dwheel=true):
where pip puts the package and the launcher for this interpreter's own
install scheme (a venv's, or the system's) and for --user."""
import os
import sys
import sysconfig

v = sysconfig.get_config_var


def bin_to_platlib(scheme=None):
    """The platlib directory, relative to the scripts directory (bin)."""
    paths = sysconfig.get_paths(scheme) if scheme else sysconfig.get_paths()
    return os.path.relpath(paths["platlib"], paths["scripts"])


def platlib_to_bin(scheme=None):
    """The scripts directory (bin), relative to the platlib directory."""
    paths = sysconfig.get_paths(scheme) if scheme else sysconfig.get_paths()
    return os.path.relpath(paths["scripts"], paths["platlib"])


def user_scheme():
    if hasattr(sysconfig, "get_preferred_scheme"):  # 3.10+
        return sysconfig.get_preferred_scheme("user")
    return "posix_user"


# meson-python installs into a staging tree with --prefix sys.base_prefix,
# and puts in the wheel's platlib what lies in this scheme's platlib there.
_base = dict(sysconfig.get_config_vars(), base=sys.base_prefix, platbase=sys.base_prefix)
values = {
    "executable": sys.executable,
    "version": "%d.%d" % sys.version_info[:2],
    "include": sysconfig.get_path("include"),
    "platinclude": sysconfig.get_path("platinclude"),
    "BINDIR": v("BINDIR"),
    "LIBDIR": v("LIBDIR"),
    "LIBPL": v("LIBPL"),
    "LIBRARY": v("LIBRARY"),
    "LDLIBRARY": v("LDLIBRARY"),
    "LIBS": v("LIBS"),
    "SYSLIBS": v("SYSLIBS"),
    "MODLIBS": v("MODLIBS"),
    "libpython": "python" + v("LDVERSION"),
    # The interpreter itself, not a venv's python (which the build may run).
    "base_executable": getattr(sys, "_base_executable", None) or sys.executable,
    "wheel_platlib": os.path.relpath(sysconfig.get_paths(vars=_base)["platlib"], sys.base_prefix),
    "wheel_bin_to_platlib": bin_to_platlib(),
    "wheel_bin_to_platlib_user": bin_to_platlib(user_scheme()),
    "wheel_platlib_to_bin": platlib_to_bin(),
    "wheel_platlib_to_bin_user": platlib_to_bin(user_scheme()),
}
for key, value in values.items():
    print("%s\t%s" % (key, value or ""))
