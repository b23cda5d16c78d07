"""Byte-compile the cpmp package, so that start-up never pays for it.

    compile.py build DIR STAMP     in the build tree; touches STAMP
    compile.py install FINAL REL   at install time: the package installed at
                                   FINAL (REL: the same, relative to the
                                   prefix, when it is), under DESTDIR when
                                   staging, with FINAL recorded in the bytecode
"""
import compileall
import os
import pathlib
import sys


def main(argv):
    if argv[1] == "build":
        ok = compileall.compile_dir(argv[2], quiet=1)
        pathlib.Path(argv[3]).touch()
        return not ok
    final, rel = argv[2], argv[3]
    if os.path.isabs(rel):
        target = os.environ.get("DESTDIR", "") + final
    else:
        # Meson runs install scripts without a shell: the variable is read here.
        target = os.path.join(os.environ["MESON_INSTALL_DESTDIR_PREFIX"], rel)
    return not compileall.compile_dir(target, quiet=1, ddir=final)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
