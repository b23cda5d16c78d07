# cpmp doctor and cpmp kernel (launcher/pymain.c runs python3 -c THIS
# MODULE LAUNCHER PYDIR PYTHON3-LINK PRELOAD RUNS ARG...): cpmp.MODULE's main()
# (MODULE: tools._doctor or tools._kernel)
# gets the arguments after MODULE.  Never code from the current directory,
# which -c puts first on sys.path.
import sys
module = sys.argv.pop(1)
sys.path[:] = [sys.argv[2]] + [p for p in sys.path if p not in ('', '.')]
sys.exit(__import__('cpmp.' + module, fromlist=['main']).main(sys.argv[1:]))
