#!/usr/bin/env bats
# concurrent.futures.InterpreterPoolExecutor (CPython 3.14): tasks, results
# and exceptions go through cpmp's pickler where CPython's own pickle
# fallback refuses them (issue 19).

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    opt_python py314 3.14
    CLOUDPICKLE="$(cloudpickle_only)"
}

SENT="pickler: main C subinterpreter pure Python
lambda: 9
closure: 4
def by reference: 11
lambda reading a top-level name: 11
builtin: 3
result a closure: a function giving 6
result a lambda: a function giving -2
local class: 8
local class instance back: 6
main-block class: 8
main-block instance back is Main: True
top-level instance back is Point: True
exception: raises ValueError(bad 4)
local exception: raises LocalError(local 5)
local exception is LocalError: True
map: [3, 4, 5]
same as threads: True"

@test "stock CPython 3.14's InterpreterPoolExecutor refuses a lambda reading a name" {
    PYTHONPATH="$CLOUDPICKLE" run -1 "${T[@]}" "$py" "$SCRIPTS/subinterp.py"
    assert_line --partial "NotShareableError: (Queue(1), <function cases.<locals>.<lambda>"
}

@test "under cpmp run, InterpreterPoolExecutor sends lambdas, closures, local and main-block classes and takes them back" {
    PYTHONPATH="$CLOUDPICKLE" run -0 "${T[@]}" "$CPMP" run --python "$py" "$SCRIPTS/subinterp.py"
    assert_output "$SENT"
}

@test "under cpmp exec, InterpreterPoolExecutor gives the same answers" {
    PYTHONPATH="$CLOUDPICKLE" run -0 "${T[@]}" "$CPMP" exec -- "$py" "$SCRIPTS/subinterp.py"
    assert_output "$SENT"
}

@test "cpmp.patch() in the program patches InterpreterPoolExecutor too" {
    PYTHONPATH="$CPMP_BUILD_ROOT/pyhook:$CLOUDPICKLE" LD_PRELOAD="$CPMP_SANITIZER_PRELOAD" \
        run -0 "${T[@]}" "$py" -c 'import cpmp, runpy, sys
cpmp.patch()
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")' "$SCRIPTS/subinterp.py"
    assert_line "lambda: 9"
    assert_line "same as threads: True"
}

@test "the C fast path cannot load in a subinterpreter, which takes the pure-Python path" {
    cat > why.py <<'PY'
from concurrent.futures import InterpreterPoolExecutor
def why(_):
    import sys
    sys.modules["__cpmp__.core._subinterp"].shareable(lambda: 0)  # cpmp's pickler, once
    return sys.modules["__cpmp__.core._reduce"].SPEEDUPS_PROBLEM
if __name__ == "__main__":
    with InterpreterPoolExecutor(1) as ex:
        print(ex.submit(why, 0).result())
PY
    PYTHONPATH="$CLOUDPICKLE" run -0 "${T[@]}" "$CPMP" run --python "$py" why.py
    assert_output "not built or not loadable (module __cpmp__.core._speedups does not support loading in subinterpreters)"
}

@test "what CPython shares itself goes as without cpmp, and what nobody can pickle fails as without it" {
    run -0 "${T[@]}" "$py" "$SCRIPTS/subinterp_shared.py"
    local stock=$output
    assert_line "script run as <fake __main__>"
    assert_line --index 5 "NotShareableError"
    PYTHONPATH="$CLOUDPICKLE" run -0 "${T[@]}" "$CPMP" run --python "$py" "$SCRIPTS/subinterp_shared.py"
    assert_output "$stock"
}

@test "cpmp.unpatch() gives InterpreterPoolExecutor back its stock behaviour" {
    PYTHONPATH="$CPMP_BUILD_ROOT/pyhook:$CLOUDPICKLE" LD_PRELOAD="$CPMP_SANITIZER_PRELOAD" \
        run -0 "${T[@]}" "$py" "$SCRIPTS/subinterp.py" unpatch
    assert_output $'patched: True restored: True is_patched: False\nraises NotShareableError((Queue(1), <function unpatch.<locals>.<lambda>'
}

@test "a -c program's lambdas reach the subinterpreters with the values they read" {
    PYTHONPATH="$CLOUDPICKLE" run -0 "${T[@]}" "$CPMP" run --python "$py" -c '
from concurrent.futures import InterpreterPoolExecutor
G = 5
def f(x): return x + G
with InterpreterPoolExecutor(1) as ex:
    print(ex.submit(lambda x: x * G, 2).result(), ex.submit(f, 1).result(), list(ex.map(lambda x: f(x), [1, 2])))'
    assert_output "10 6 [6, 7]"
}
