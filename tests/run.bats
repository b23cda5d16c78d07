#!/usr/bin/env bats
# cpmp run: every multiprocessing API sends lambdas, closures and local
# classes under every start method, and nothing that worked changes.

load test_helper

capability() { # METHOD NAME EXPECTED-LINE
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" "$1" "$2"
    assert_output "$2 $3"
}

everywhere() { # NAME EXPECTED-LINE: the capability under fork, spawn and forkserver
    every_method capability "$@"
}

semantics() { # METHOD CASE EXPECTED-LINE: a case of semantics.py under cpmp run
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/semantics.py" "$1" "$2"
    assert_output "$3"
}

stock_refuses() { # METHOD NAME
    run timeout 60 "$PYTHON" "$SCRIPTS/capabilities.py" "$1" "$2"
    assert_failure
    # Stock ProcessPoolExecutor sometimes deadlocks in shutdown after the
    # pickling error, before it can print it (python/cpython#116685; seen
    # once in ~100 runs on a loaded machine): that is failing too.
    if [ "$2" = executor ] && [ "$status" -eq 124 ]; then
        return 0
    fi
    assert_output --partial "Can't pickle local object"
}

# --- Pool.map with a lambda ---

@test "a fork Pool maps a lambda" {
    capability fork lambda "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
}

@test "a spawn Pool maps a lambda" {
    capability spawn lambda "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
}

@test "a forkserver Pool maps a lambda" {
    capability forkserver lambda "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
}

@test "stock python3 cannot map a lambda in a Pool" {
    stock_refuses spawn lambda
    stock_refuses fork lambda
}

# --- closures, nested defs, local classes, partial ---

@test "fork, spawn and forkserver Pools map a closure" {
    everywhere closure "[3, 6, 9]"
    stock_refuses spawn closure
}

@test "fork, spawn and forkserver Pools map a nested def" {
    everywhere nested "[101, 102]"
    stock_refuses spawn nested
}

@test "a bound method of a local class and the local class itself go through a Pool" {
    everywhere local-class "([2, 4], [Scaler(4), Scaler(5)])"
    stock_refuses spawn local-class
}

@test "a partial of a lambda goes through a Pool" {
    everywhere partial-lambda "[11, 12]"
    stock_refuses fork partial-lambda
}

# --- results ---

@test "workers return a lambda and a closure that run in the parent" {
    everywhere return-lambda "(2, 10)"
    stock_refuses spawn return-lambda
}

# --- other APIs ---

@test "ProcessPoolExecutor maps a lambda that captures a local" {
    everywhere executor "[3, 6, 9]"
    stock_refuses spawn executor
}

@test "a Process with a lambda target puts a lambda on a Queue" {
    everywhere process "('from child', 0)"
    stock_refuses spawn process
}

@test "a child process that starts its own Pool maps a lambda there" {
    everywhere grandchild "([-1, -2, -3], 0)"
}

@test "Queue, SimpleQueue, Pipe, Value, Array and a Manager keep working, also passed to a lambda child" {
    local expected="[{'a': [1, 2]}, (1, 'x'), ('pong', 'ping'), (42, [9.5, 1.5], 0), ([(0, 0), (1, 1), (2, 4), (3, 9)], [0, 1, 2, 3])]"
    for m in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/ipc.py" "$m"
        assert_output "$expected"
    done
    run "${T[@]}" "$PYTHON" "$SCRIPTS/ipc.py" spawn
    assert_failure
}

# --- never change what already works ---

@test "a top-level initializer setting a module global is seen by top-level tasks, as under python3" {
    for m in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/semantics.py" "$m" initializer
        assert_output "['hi0', 'hi1', 'hi2']"
        semantics "$m" initializer "['hi0', 'hi1', 'hi2']"
    done
}

@test "a lambda initializer's module global is seen by lambda tasks, also with ProcessPoolExecutor" {
    for m in "${METHODS[@]}"; do
        semantics "$m" lambda-initializer "[1, 1, 1] [1, 1, 1]"
    done
}

@test "a lambda sees names bound only inside the main block" {
    for m in "${METHODS[@]}"; do
        semantics "$m" main-block "[11, 12] [2, 4]"
    done
}

@test "a lambda sees the worker's own value of a module global, as a top-level def does" {
    # The main block rebinds LEVEL after the module set it: a spawned worker
    # re-imports the module and sees "import", a forked one sees "main".
    semantics spawn worker-globals "['import', 'import'] ['import', 'import']"
    run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/semantics.py" spawn worker-globals-stock
    assert_output "['import', 'import']"
    semantics fork worker-globals "['main', 'main'] ['main', 'main']"
}

@test "a closure whose cell changed is sent with its new value" {
    for m in fork spawn; do
        semantics $m rebind "[1, 1] [2, 2] [3, 3]"
    done
}

@test "a -c program, stdin and -m all map a lambda under spawn" {
    local code='import multiprocessing as mp
K = 4
if __name__ == "__main__":
    def f(x): return x + K
    with mp.get_context("spawn").Pool(2) as p:
        print(p.map(lambda x: f(x) * 2, [1, 2]))'
    run -0 "${T[@]}" "$CPMP" run -c "$code"
    assert_output "[10, 12]"
    run -0 "${T[@]}" "$CPMP" run - <<< "$code"
    assert_output "[10, 12]"
    mkdir -p "$BATS_TEST_TMPDIR/pkg"
    printf '%s\n' "$code" > "$BATS_TEST_TMPDIR/pkg/mod.py"
    cd "$BATS_TEST_TMPDIR" || return
    run -0 "${T[@]}" "$CPMP" run -m pkg.mod
    assert_output "[10, 12]"
    run "${T[@]}" "$PYTHON" -c "$code"
    assert_failure
}

@test "what the standard pickler sends goes byte for byte as without cpmp" {
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/bytes_equal.py"
    assert_output "identical 9"
}

@test "a program that never uses multiprocessing loads neither multiprocessing nor cloudpickle" {
    run -0 "${T[@]}" "$CPMP" run -c 'import sys; print(sorted(m for m in sys.modules if m.startswith(("multiprocessing", "cloudpickle"))))'
    assert_output "[]"
}

@test "multiprocessing with top-level functions only never imports cloudpickle" {
    semantics spawn no-cloudpickle "[0, 2, 4] False"
}

@test "an object nobody can pickle fails with the same exception type as without cpmp, and the pool stays usable" {
    for m in fork spawn; do
        semantics $m unpicklable "TypeError cannot pickle '_thread.lock' object — at: task args[0]; then [1, 2]"
    done
}

@test "a function sent again unchanged is the same bytes, each load is a function of its own, and every change arrives" {
    local expected="same-bytes True own-function True | cell [1, 2, 3] | mutable-cell [1] [1, 2] | defaults (1, 10) (2, 10) (2, 20) t | changed-source 15"
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/resend.py"
    assert_output "$expected"
    # The pure-Python path, for interpreters without the C extension.
    run -0 "${T[@]}" env PYTHONPATH="$(pure_python_package)" "$PYTHON" "$SCRIPTS/resend.py"
    assert_output "$expected"
}

@test "a lambda that raises in a worker shows the script's file and line in the traceback" {
    printf 'import multiprocessing as mp\nif __name__ == "__main__":\n    with mp.get_context("%s").Pool(1) as p:\n        p.map(lambda x: 1 / x, [0])\n' spawn > "$BATS_TEST_TMPDIR/boom.py"
    run -1 "${T[@]}" "$CPMP" run "$BATS_TEST_TMPDIR/boom.py"
    assert_output --partial "File \"$BATS_TEST_TMPDIR/boom.py\", line 4, in <lambda>"
    assert_output --partial "ZeroDivisionError: division by zero"
}

@test "children of another interpreter (set_executable) load what cpmp sends and run unpatched, never respawning forever" {
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/set_executable.py" "$PYTHON"
    # The task arrives; a worker without cpmp cannot send a lambda back, as under python3.
    assert_output $'[2, 3]\nMaybeEncodingError'
}

@test "a module of the program's own named cpmp stays the program's, in the program and its workers, under run and exec" {
    cd "$BATS_TEST_TMPDIR" || return
    echo 'VALUE = "mine"' > cpmp.py
    cat > prog.py <<'PY'
import multiprocessing as mp, sys
import cpmp
if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(1) as p:
        print(cpmp.VALUE, p.apply(lambda: __import__("cpmp").VALUE), p.map(lambda x: x + 1, [1]))
PY
    local m
    for m in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$CPMP" run prog.py "$m"
        assert_output "mine mine [2]"
        run -0 "${T[@]}" "$CPMP" exec "$PYTHON" prog.py "$m"
        assert_output "mine mine [2]"
    done
    # Without one, `import cpmp` is cpmp's package, as before.
    rm cpmp.py
    run -0 "${T[@]}" "$CPMP" run -c 'import cpmp, cpmp.core._reduce, sys; print(cpmp.is_patched(), cpmp.core._reduce is sys.modules[cpmp.__name__ + ".core._reduce"])'
    assert_output "True True"
}

# A directory holding a python3 that is the given interpreter, for PATH.
python3_dir() { # INTERPRETER: prints the directory
    mkdir -p "$BATS_TEST_TMPDIR/pybin"
    ln -sfn "$1" "$BATS_TEST_TMPDIR/pybin/python3"
    echo "$BATS_TEST_TMPDIR/pybin"
}

@test "cpmp run runs the first python3 on PATH: another Python with the preload library, the embedded one embedded" {
    pyenv_python 3.12
    PATH="$(python3_dir "$py"):$PATH" PYTHONPATH='' run -0 "${T[@]}" "$CPMP" run -c 'import sys, multiprocessing as mp
with mp.get_context("spawn").Pool(1) as p: print(sys.version_info[:2], sys.executable == sys.argv[1], p.map(lambda x: x + 1, [1]))' "$BATS_TEST_TMPDIR/pybin/python3"
    assert_output "(3, 12) True [2]"
    # The embedded Python first on PATH, through a link: embedded, as before
    # (sys.executable is cpmp's python3 link, which spawn re-executes).
    PATH="$(python3_dir "$PYTHON"):$PATH" run -0 "${T[@]}" "$CPMP" run -c 'import sys; print(sys.executable)'
    assert_output "$CPMP_BUILD_ROOT/launcher/python3"
    # No python3 on PATH at all: the embedded one.
    run -0 "${T[@]}" env PATH=/nonexistent "$CPMP" run -c 'import sys; print(sys.executable)'
    assert_output "$CPMP_BUILD_ROOT/launcher/python3"
}

@test "--python and CPMP_PYTHON choose the python3, and another one keeps the program's exit status and signals" {
    pyenv_python 3.13
    PYTHONPATH='' run -0 "${T[@]}" "$CPMP" run --python "$py" -c 'import sys; print(sys.version_info[:2])'
    assert_output "(3, 13)"
    CPMP_PYTHON="$py" PYTHONPATH='' run -0 "${T[@]}" "$CPMP" run -c 'import sys; print(sys.version_info[:2])'
    assert_output "(3, 13)"
    run -7 "${T[@]}" "$CPMP" run --python "$py" -c 'import sys; sys.exit(7)'
    run -143 "${T[@]}" "$CPMP" run --python="$py" -c 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)'
    # The explicit choice wins over PATH's.
    PATH="$(python3_dir "$py"):$PATH" run -0 "${T[@]}" "$CPMP" run --python "$PYTHON" -c 'import sys; print(sys.executable)'
    assert_output "$CPMP_BUILD_ROOT/launcher/python3"
}

@test "a --python that is not a Python interpreter is refused in one line, with exit 2" {
    run -2 --separate-stderr "${T[@]}" "$CPMP" run --python /bin/ls -c pass
    assert_equal "$stderr" "cpmp: CPMP_PYTHON: '/bin/ls' is not a Python interpreter (its name does not start with 'python')"
    run -2 --separate-stderr "${T[@]}" "$CPMP" run --python "$BATS_TEST_TMPDIR/python3.99" -c pass
    assert_equal "$stderr" "cpmp: CPMP_PYTHON: '$BATS_TEST_TMPDIR/python3.99': no such file or command"
    run -2 --separate-stderr "${T[@]}" "$CPMP" run --python
    assert_equal "$stderr" "cpmp: --python needs an interpreter (see 'cpmp run --help')"
    mkdir "$BATS_TEST_TMPDIR/python3.dir"
    run -2 --separate-stderr "${T[@]}" "$CPMP" run --python "$BATS_TEST_TMPDIR/python3.dir" -c pass
    assert_equal "$stderr" "cpmp: CPMP_PYTHON: '$BATS_TEST_TMPDIR/python3.dir' is not an executable file"
}

@test "a python3 on PATH that runs cpmp run itself runs embedded, not exec'd forever; an empty PATH entry is the current directory (helper-24)" {
    mkdir -p "$BATS_TEST_TMPDIR/wrap"
    printf '#!/bin/sh\nexec "%s" run "$@"\n' "$CPMP" > "$BATS_TEST_TMPDIR/wrap/python3"
    chmod +x "$BATS_TEST_TMPDIR/wrap/python3"
    PATH="$BATS_TEST_TMPDIR/wrap:$PATH" run -0 "${T[@]}" python3 -c 'import sys; print(sys.executable)'
    assert_output "$CPMP_BUILD_ROOT/launcher/python3"
    cd "$BATS_TEST_TMPDIR/wrap"
    printf '#!/bin/sh\necho here "$@"\n' > mytool
    chmod +x mytool
    run -0 "${T[@]}" env PATH=:/usr/bin:/bin "$CPMP" exec mytool x
    assert_output "here x"
}
