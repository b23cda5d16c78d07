#!/usr/bin/env bats
# cloudpickle 2.2's own suite as an oracle: the cases it had cpmp.dumps
# fail, kept here without its code (tests/scripts/cloudpickle_cases.py).

load test_helper

@test "what cloudpickle's suite sends, cpmp.dumps sends too, and a spawned child loads it as cloudpickle's" {
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/cloudpickle_cases.py" "$BATS_TEST_TMPDIR"
    assert_output - <<'OUT'
exec'd function without __name__: as with cloudpickle
__module__ None, with a faulty sys.modules entry: as with cloudpickle
ModuleType subclass: as with cloudpickle
module registered by value: as with cloudpickle
WeakSet: as with cloudpickle
submodule used in a closure: as with cloudpickle
classmethod descriptor: as expected (cloudpickle 2.2 cannot send it)
too deep recursion: as with cloudpickle
out-of-band buffer, dumps: as with cloudpickle
out-of-band buffer, dump: as with cloudpickle
method whose function is a lambda: as with cloudpickle
method its subclass overrides: as with cloudpickle
12 cases, 0 differ
OUT
}

@test "a bound method goes to Pool and executor workers under fork, spawn and forkserver, though its name finds no method or another" {
    local m
    for m in "${METHODS[@]}"; do
        run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/methods.py" "$m"
        assert_output - <<'OUT'
Pool: lambda (2, 5); classmethod lambda 4; overridden in a subclass 'base'; shadowed by an instance attribute 7; plain 3
Executor: lambda (2, 5); classmethod lambda 4; overridden in a subclass 'base'; shadowed by an instance attribute 7; plain 3
OUT
    done
}

@test "(control) stock python3 cannot send a lambda bound as a method, and sends a method its name does not find as another one" {
    run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/methods.py" spawn Executor
    assert_output "Executor: lambda fails: BrokenProcessPool; classmethod lambda fails: BrokenProcessPool; overridden in a subclass 'derived'; shadowed by an instance attribute 1; plain 3"
}

@test "a bound method the standard pickler sends right goes byte for byte as under python3" {
    run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/methods.py" bytes
    local stock=$output
    assert_equal "$(wc -w <<< "$stock")" 6
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/methods.py" bytes
    assert_output "$stock"
}

@test "cpmp.dumps sends a script's top-level def by reference: spawned workers load their own, another process cannot" {
    cat > "$BATS_TEST_TMPDIR/top.py" <<'PY'
import multiprocessing, pickle, subprocess, sys
import cloudpickle, cpmp

def f():
    return "top-level"

def load(blob):
    g = pickle.loads(blob)
    return g(), g is sys.modules["__main__"].f

LOADER = """import pickle, sys
try:
    print(pickle.loads(sys.stdin.buffer.read())())
except AttributeError as exc:
    print("AttributeError:", exc)"""

if __name__ == "__main__":
    blob = cpmp.dumps(f)
    print(blob == pickle.dumps(f, 4), cpmp.loads(blob) is f)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        print(pool.apply(load, (blob,)))
    for dumps in (cpmp.dumps, cloudpickle.dumps):
        print(subprocess.run([sys.argv[1], "-c", LOADER], input=dumps(f),
                             stdout=subprocess.PIPE).stdout.decode().strip())
PY
    run -0 --separate-stderr "${T[@]}" "$CPMP" run "$BATS_TEST_TMPDIR/top.py" "$PYTHON"
    assert_output - <<'OUT'
True True
('top-level', True)
AttributeError: Can't get attribute 'f' on <module '__main__' (built-in)>
top-level
OUT
}

@test "too deep an object raises both cloudpickle's PicklingError and python3's RecursionError" {
    run -0 "${T[@]}" "$CPMP" run -c '
import pickle, cpmp
class Deep:
    def __getattribute__(self, name):
        return getattr(self, name)
for dump in (cpmp.dumps, lambda obj: cpmp.dump(obj, open("/dev/null", "wb"))):
    try:
        dump(Deep())
    except pickle.PicklingError as exc:
        print(isinstance(exc, RecursionError), "recursion" in str(exc))'
    assert_output $'True True\nTrue True'
}

@test "a ModuleType subclass made after the patch goes through a spawn Pool, as a module" {
    run -0 "${T[@]}" "$CPMP" run -c '
import multiprocessing as mp, types
class Api(types.ModuleType):
    pass
m = Api("made_at_run_time")
m.value = 7
with mp.get_context("spawn").Pool(1) as p:
    print(p.apply(lambda: (type(m).__name__, m.__name__, m.value)))'
    assert_output "('module', 'made_at_run_time', 7)"  # a module, as cloudpickle sends it
}

@test "a function sent again after its module is registered or unregistered by value goes as it now must" {
    mkdir -p "$BATS_TEST_TMPDIR/mods"
    printf 'def f():\n    return 42\n' > "$BATS_TEST_TMPDIR/mods/regmod.py"
    run -0 "${T[@]}" "$CPMP" run -c '
import sys, pickle, cpmp, cloudpickle
sys.path.insert(0, sys.argv[1])
import regmod
def by_ref(obj):
    return b"regmod" in cpmp.dumps(obj) and b"return" not in cpmp.dumps(obj) and len(cpmp.dumps(obj)) < 60
g = lambda: regmod.f()
out = [by_ref(regmod.f)]
cpmp.register_by_value(regmod)
out.append(by_ref(regmod.f))
cpmp.unregister_by_value(regmod)
out.append(by_ref(regmod.f))
print(out)' "$BATS_TEST_TMPDIR/mods"
    assert_output "[True, False, True]"
}
