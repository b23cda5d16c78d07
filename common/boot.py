# Arms the patch: common/arm.c runs this once in every process, compiled at
# each start (keep it short), in a fresh namespace that holds _cpmp_dir,
# the directory of the cpmp package, and _cpmp_module, the name to load it
# under (CPMP_MODULE).  sys.path is left as it is.
import sys
m = sys.modules.get(_cpmp_module)
if m is None:
    d = _cpmp_dir + '/cpmp'
    s = sys.modules['_frozen_importlib_external'].spec_from_file_location(
        _cpmp_module, d + '/__init__.py', submodule_search_locations=[d])
    m = sys.modules['_frozen_importlib'].module_from_spec(s)
    sys.modules[_cpmp_module] = m
    try:
        s.loader.exec_module(m)
    except BaseException:
        del sys.modules[_cpmp_module]
        raise
m._activate()
