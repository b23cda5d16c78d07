#!/usr/bin/env bats
# The cpmp Python package: patch(), unpatch(), is_patched(), register().

load test_helper

pyhook() { # CODE: run CODE with the stock interpreter and the built package
    run "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c "$@"
}

@test "patch() reaches all five binding sites, and modules imported later bind to the patched class" {
    pyhook 'import cpmp
cpmp.patch()
import multiprocessing.reduction as r, multiprocessing.connection as c, multiprocessing.queues as q, multiprocessing.sharedctypes as s
sites = [r.ForkingPickler, c._ForkingPickler, q._ForkingPickler, s._ForkingPickler, r.AbstractReducer.ForkingPickler]
import io
r.dump(lambda: 1, io.BytesIO())  # reduction.dump, used by spawn, sends a lambda too
print(all(x is r.ForkingPickler for x in sites), "reducer_override" in vars(r.ForkingPickler), len(r.ForkingPickler.dumps(lambda: 2)) > 0)'
    assert_success
    assert_output "True True True"
}

@test "patch() twice changes nothing, unpatch() restores every original exactly, twice is a no-op" {
    pyhook 'import cpmp, multiprocessing.reduction as r, multiprocessing.spawn as s
def snapshot():
    return dict(vars(r.ForkingPickler)), dict(r.ForkingPickler._extra_reducers), dict(vars(s))
before = snapshot()
print(cpmp.is_patched())
cpmp.patch(); once = snapshot(); cpmp.patch()
print(cpmp.is_patched(), snapshot() == once, once != before)
cpmp.unpatch()
print(cpmp.is_patched(), snapshot() == before)
cpmp.unpatch()
print(snapshot() == before)'
    assert_success
    assert_output $'False\nTrue True True\nFalse True\nTrue'
}

@test "reducers registered before and after patching, through either API, are honoured" {
    pyhook 'import multiprocessing as mp, multiprocessing.reduction as r, cpmp
class Before: pass
class After: pass
r.register(Before, lambda o: (str, ("before",)))
cpmp.patch()
cpmp.register(After, lambda o: (str, ("after",)))
with mp.get_context("spawn").Pool(1) as p:
    print(p.apply(lambda a, b: (a, b), (Before(), After())))'
    assert_success
    assert_output "('before', 'after')"
}

@test "a reducer the program registers for a type cpmp sends too wins, through copyreg or multiprocessing, before or after the patch" {
    cat > "$BATS_TEST_TMPDIR/mine.py" <<'PY'
import copyreg, pickle, types
from multiprocessing import reduction
copyreg.pickle(types.MappingProxyType, lambda m: (str, ("copyreg's",)))
reduction.register(property, lambda p: (str, ("multiprocessing's",)))
import cpmp
cpmp.patch()
copyreg.pickle(types.CodeType, lambda c: (str, ("copyreg's, after",)))
reduction.register(memoryview, lambda m: (str, ("multiprocessing's, after",)))
sent = [types.MappingProxyType({}), property(abs), (lambda: 0).__code__, memoryview(b"x")]
print([pickle.loads(reduction.ForkingPickler.dumps(x)) for x in sent])
print(pickle.loads(cpmp.dumps(property(abs), reducers={property: lambda p: (str, ("given",))})))
import typing  # after the patch, which adds cpmp's TypeVar reducer then
reduction.ForkingPickler.dumps(1)
copyreg.pickle(typing.TypeVar, lambda t: (str, ("copyreg's TypeVar",)))
print(pickle.loads(reduction.ForkingPickler.dumps(typing.TypeVar("T"))))
# What the program registered outlives unpatch().
cpmp.register(types.CellType, lambda c: (str, ("registered cell",)))
cpmp.unpatch()
cell = (lambda x: lambda: x)(1).__closure__[0]
print(pickle.loads(reduction.ForkingPickler.dumps(cell)),
      pickle.loads(reduction.ForkingPickler.dumps(property(abs))))
PY
    local want="[\"copyreg's\", \"multiprocessing's\", \"copyreg's, after\", \"multiprocessing's, after\"]
given
copyreg's TypeVar
registered cell multiprocessing's"
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" "$BATS_TEST_TMPDIR/mine.py"
    assert_output "$want"
    run -0 "${T[@]}" "$CPMP" run "$BATS_TEST_TMPDIR/mine.py"
    assert_output "$want"
    run -0 "${T[@]}" env PYTHONPATH="$(pure_python_package)" "$PYTHON" "$BATS_TEST_TMPDIR/mine.py"
    assert_output "$want"
}

@test "a ForkingPickler subclass's own registry or reducer_override, a metaclass's reducer and cpmp.dumps(reducers=) win over cpmp's, as without cpmp" {
    cat > "$BATS_TEST_TMPDIR/own.py" <<'PY'
import copyreg, pickle, types
from multiprocessing.reduction import ForkingPickler
import cpmp
class Before(ForkingPickler):  # made before the patch, or after
    _extra_reducers = {}
Before.register(types.MappingProxyType, lambda m: (str, ("Before's",)))
cpmp.patch()
class After(ForkingPickler):
    _extra_reducers = {}
After.register(property, lambda p: (str, ("After's",)))
class Meta(type):
    pass
copyreg.pickle(Meta, lambda c: (str, ("Meta's " + c.__name__,)))
def local():
    class Local(metaclass=Meta):
        pass
    return Local
class Mod(types.ModuleType):
    pass
print(pickle.loads(Before.dumps(types.MappingProxyType({}))), pickle.loads(After.dumps(property(abs))),
      pickle.loads(ForkingPickler.dumps(local())),
      pickle.loads(cpmp.dumps(Mod("m"), reducers={Mod: lambda m: (str, ("given",))})),
      type(pickle.loads(After.dumps(types.MappingProxyType({})))).__name__)
class Late(ForkingPickler):  # a registry given after the class statement
    pass
Late._extra_reducers = {}
Late.register(Mod, lambda m: (str, ("Late's",)))
class Own(ForkingPickler):  # a reducer_override of its own, inherited or from a mixin
    def reducer_override(self, obj):
        return (str, ("Own's",)) if isinstance(obj, complex) else NotImplemented
class Sub(Own):
    _extra_reducers = {}
class Mixin:
    def reducer_override(self, obj):
        return (str, ("Mixin's",)) if isinstance(obj, complex) else NotImplemented
class Mixed(ForkingPickler, Mixin):
    pass
print(pickle.loads(Late.dumps(Mod("m"))), pickle.loads(Sub.dumps(1j)), pickle.loads(Mixed.dumps(1j)))
cpmp.unpatch()
print(pickle.loads(Sub.dumps(1j)), "reducer_override" in vars(Own), "reducer_override" in vars(Sub))
PY
    local want="Before's After's Meta's Local given mappingproxy
Late's Own's Mixin's
Own's True False"
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" "$BATS_TEST_TMPDIR/own.py"
    assert_output "$want"
    run -0 "${T[@]}" "$CPMP" run "$BATS_TEST_TMPDIR/own.py"
    assert_output "$want"
    run -0 "${T[@]}" env PYTHONPATH="$(pure_python_package)" "$PYTHON" "$BATS_TEST_TMPDIR/own.py"
    assert_output "$want"
}

@test "a custom context.reducer inherits the patch" {
    pyhook 'import multiprocessing as mp, multiprocessing.reduction as r, cpmp
cpmp.patch()
class Reducer(r.AbstractReducer):
    pass
ctx = mp.get_context("spawn")
ctx.reducer = Reducer
print(Reducer.ForkingPickler.dumps(lambda: 1) is not None)'
    assert_success
    assert_output "True"
}

@test "unpatch() puts back python3's refusal to send a lambda" {
    pyhook 'import multiprocessing as mp, cpmp
cpmp.patch()
with mp.get_context("spawn").Pool(1) as p:
    print(p.apply(lambda: "patched"))
    cpmp.unpatch()
    try:
        p.apply(lambda: 1)
    except Exception as e:
        print(type(e).__name__)'
    assert_success
    assert_output $'patched\nPicklingError'
}

@test "under cpmp run the patch is armed lazily and applied when multiprocessing is imported" {
    run -0 "${T[@]}" "$CPMP" run -c 'import sys, cpmp
armed = cpmp.is_patched(), len(sys.meta_path)
import multiprocessing.reduction as r
print(armed[0], "reducer_override" in vars(r.ForkingPickler), len(sys.meta_path) == armed[1])
import multiprocessing.spawn as s
print(hasattr(s.get_preparation_data, "__wrapped__"), len(sys.meta_path) == armed[1] - 1)'
    assert_output $'True True True\nTrue True'
}

@test "a sitecustomize that imported multiprocessing before activation still ends up patched" {
    mkdir -p "$BATS_TEST_TMPDIR/site"
    echo 'import multiprocessing.queues' > "$BATS_TEST_TMPDIR/site/sitecustomize.py"
    PYTHONPATH="$BATS_TEST_TMPDIR/site" run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
}

@test "the package works without its C extension" {
    run -0 "${T[@]}" env PYTHONPATH="$(pure_python_package)" "$PYTHON" -c 'import cpmp, multiprocessing as mp
cpmp.patch()
import cpmp.core._reduce as r
print(r.SPEEDUPS_PROBLEM is None)
with mp.get_context("spawn").Pool(2) as p:
    print(p.map(lambda x: x + 1, [1, 2]))'
    assert_output $'False\n[2, 3]'
}

@test "the C fast path is what the build installs" {
    pyhook 'import cpmp, cpmp.core._reduce as r, cpmp.core._held as h, cpmp.core._resend as s
for f in (r.reducer_override, h._fork_pass, s.c_lookup):
    print(type(f).__name__, f.__module__)'
    assert_success
    # Every loop written in C is the one used (a method once missing from
    # the table left the fork's pass to Python, 38 ms a fork in the child
    # with 100,000 names).
    local c=builtin_function_or_method\ cpmp.core._speedups
    assert_output "$c"$'\n'"$c"$'\n'"$c"
}

@test "the C fast path pickles as its pure-Python twin does, its cache hits, and it refuses a layout it cannot read" {
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" "$SCRIPTS/fastpath.py"
    assert_line --index 0 "same bytes: all 12"
    assert_line --index 1 "cache hits on resend: 1 True"
    assert_line --index 2 "refused: cpmp.core._resend.ENTRY has no field cells"
}

@test "every module of the package imports on its own, in any order, with tracing on or off" {
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c '
import os, subprocess, sys
root = os.path.join(sys.argv[1], "cpmp")
names = sorted(os.path.relpath(os.path.join(d, f), root)[:-3].replace("/", ".").replace(".__init__", "")
               for d, _, files in os.walk(root) for f in files
               if f.endswith(".py") and os.path.join(d, f) != os.path.join(root, "__init__.py"))
failed = []
for trace in ("", "1"):
    for order in (names, names[::-1]):
        code = "".join("import cpmp.%s\n" % n for n in order)
        env = dict(os.environ, CPMP_TRACE=trace)
        if subprocess.run([sys.executable, "-c", code], env=env).returncode:
            failed.append((trace, order[0]))
    for n in names:
        env = dict(os.environ, CPMP_TRACE=trace)
        if subprocess.run([sys.executable, "-c", "import cpmp.%s" % n], env=env).returncode:
            failed.append((trace, n))
print(len(names), failed)' "$CPMP_BUILD_ROOT/pyhook"
    assert_output --regexp "^[34][0-9] \[\]$"
}

@test "the package's imports point one way, from the face to the tools, the cluster, the core and the settings, and go round no circle" {
    run -0 "$PYTHON" "$SCRIPTS/imports.py" "$BATS_TEST_DIRNAME/../pyhook/cpmp"
    assert_line --regexp "^core +core core\._cloud .*core\._wrappers$"
    # It can fail: an import pointing up a layer, and a circle, are named.
    cp -r "$BATS_TEST_DIRNAME/../pyhook/cpmp" "$BATS_TEST_TMPDIR/pkg"
    printf '\ndef _up():\n    from ..cluster import _client\n' >> "$BATS_TEST_TMPDIR/pkg/core/_code.py"
    printf '\ndef _round():\n    from . import _send\n' >> "$BATS_TEST_TMPDIR/pkg/core/_receive.py"
    run -1 "$PYTHON" "$SCRIPTS/imports.py" "$BATS_TEST_TMPDIR/pkg"
    assert_line "core/_code.py:$(($(wc -l < "$BATS_TEST_DIRNAME/../pyhook/cpmp/core/_code.py") + 3)): core._code (core) imports cluster._client (cluster), a higher layer"
    assert_line --regexp "^circle: .*core\._receive.*core\._send"
}

@test "one vocabulary: the version and every setting's name come from Meson, for C and Python alike" {
    pyhook 'from cpmp import _config, __version__; print(__version__, _config.SETTINGS, _config.LOG_PREFIX)'
    assert_output "$CPMP_VERSION ('CPMP_BY_VALUE', 'CPMP_CLUSTER', 'CPMP_DISABLE', 'CPMP_PYTHON', 'CPMP_QUIET', 'CPMP_TRACE') cpmp: "
    run -0 "$CPMP" --version
    assert_line --index 0 "cpmp $CPMP_VERSION"
}

@test "payloads naming cpmp 0.1's flat modules still load, under cpmp run and from a plain import cpmp" {
    local code='import pickle, cpmp
p = cpmp.__name__
for old, name in (("_receive", "EMPTY_CELL"), ("_code", "load_code"), ("_receive", "make_function"),
                  ("_cluster_worker", "run")):
    for top in (p, "cpmp"):
        print(old, name, pickle.loads(("c%s.%s\n%s\n." % (top, old, name)).encode()) is not None)'
    run -0 "${T[@]}" "$CPMP" run -c "$code"
    assert_equal "$(grep -c ' True$' <<< "$output")" 8
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c "$code"
    assert_equal "$(grep -c ' True$' <<< "$output")" 8
    # Only those: any other name under the package is still missing.
    run -1 "${T[@]}" "$CPMP" run -c 'import cpmp._nothing'
    assert_output --partial "ModuleNotFoundError"
}
