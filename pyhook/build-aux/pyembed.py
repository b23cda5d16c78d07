"""What embedding this interpreter takes, asked of the interpreter itself
(meson.build): one "KEY<TAB>VALUE" line each.  Meson 1.0's python module
needs distutils, which CPython 3.12 removed; sysconfig has all of it."""
import sys
import sysconfig

v = sysconfig.get_config_var
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
}
for key, value in values.items():
    print("%s\t%s" % (key, value or ""))
