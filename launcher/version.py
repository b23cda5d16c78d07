# cpmp --version (launcher/pymain.c runs python3 -I -c THIS CPMP-VERSION).
import sys
print('cpmp ' + sys.argv[1])
print('Python %s (%s)' % (sys.version.split()[0], sys.prefix))
try:
    import cloudpickle
    print('cloudpickle', cloudpickle.__version__)
except ImportError:
    print('cloudpickle not installed (Debian: apt-get install python3-cloudpickle)')
