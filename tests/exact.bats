#!/usr/bin/env bats
# Never a wrong answer: what a function sent by value sees (the model in
# pyhook/cpmp/_policy.py), each case from a program that computed wrong
# numbers or broke under earlier versions.

load test_helper

exact() { # METHOD CASE EXPECTED-LINE: a case of exact.py under cpmp run
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/exact.py" "$1" "$2"
    assert_output "$3"
}

everywhere() { # CASE EXPECTED-LINE
    every_method exact "$@"
}

@test "a main-block variable rebound in a loop arrives with its value at each send" {
    everywhere loop-lambda "[0, 1, 2] [1, 2, 3] [2, 3, 4] [3, 4, 5] "
    everywhere loop-def "[0, 1, 2] [1, 2, 3] [2, 3, 4] "
    everywhere loop-def-before "[0, 1, 2] [1, 2, 3] [2, 3, 4] "
    everywhere loop-executor "[0, 0, 0] [0, 1, 2] [0, 2, 4] "
}

@test "the same under cpmp exec" {
    local m
    for m in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/exact.py" "$m" loop-lambda
        assert_output "[0, 1, 2] [1, 2, 3] [2, 3, 4] [3, 4, 5] "
    done
}

@test "an initializer that rebinds a top-level global is seen by lambdas as by top-level defs" {
    everywhere init-rebind "(['set', 'set'], ['set', 'set'])"
    everywhere init-rebind-executor "(['set'], ['set'])"
    # python3 itself, for the top-level def.
    local m
    for m in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/exact.py" "$m" init-rebind-stock
        assert_output "['set', 'set']"
    done
}

@test "two closures made by one function never share their state in a worker" {
    # Each send is a fresh unpickle, as with cloudpickle: n starts at 0 each time.
    everywhere independent-closures "([1, 1, 1], [1, 1, 1])"
}

@test "a worker keeps nothing of the closures it received" {
    [ -z "$CPMP_SANITIZER_PRELOAD" ] || skip "ASan's allocator keeps freed memory in quarantine: RSS says nothing there"
    everywhere no-retention "grew under 100 MB"
}

@test "local and main-block dataclasses, and a mappingproxy, can be sent" {
    local expected="(('Item', ['name', 'qty'], 6, {'name': 'a', 'qty': 3}), ('MainItem', ['name', 'qty'], 2, {'name': 'b', 'qty': 1}), (MainItem(name='c', qty=5), True))"
    everywhere dataclass "$expected"
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c 'import cpmp, types
m = cpmp.loads(cpmp.dumps(types.MappingProxyType({"a": 1})))
print(type(m).__name__, dict(m))'
    assert_output "mappingproxy {'a': 1}"
}

@test "under fork, main-block classes keep their identity and inherited objects work, as under python3" {
    exact fork identity "(True, True, True, (True, True), 42, True)"
    exact fork inherited "(10, True, 'ok')"
    # Spawned workers cannot hold them: classes still arrive (by value, and
    # come back as the parent's own), an inherited lock is one clear error.
    exact spawn identity "(True, True, True)"
    exact forkserver identity "(True, True, True)"
    exact spawn not-inherited "TypeError: cannot pickle '_thread.lock' object — at: task function"
}

@test "-c and stdin programs under fork send what workers hold by reference: identity kept" {
    local code='import multiprocessing as mp, multiprocessing.reduction as r, enum
class P: pass
Color = enum.Enum("Color", "RED")
DATA = bytes(40 << 20)
def f(i): return len(DATA) + i
with mp.get_context("fork").Pool(2) as p:
    print(p.map(f, range(3)), isinstance(p.apply(P), P), p.apply(lambda: Color.RED) is Color.RED)'
    run -0 "${T[@]}" "$CPMP" run -c "$code"
    assert_output "[41943040, 41943041, 41943042] True True"
    run -0 "${T[@]}" "$CPMP" run - <<< "$code"
    assert_output "[41943040, 41943041, 41943042] True True"
    run -0 "${T[@]}" "$CPMP" exec "$PYTHON" -c "$code"
    assert_output "[41943040, 41943041, 41943042] True True"
    # python3 sends f and P by reference too, and gives the same.
    run -0 "${T[@]}" "$PYTHON" -c "${code/p.apply(lambda: Color.RED)/p.apply(Color, (1,))}"
    assert_output "[41943040, 41943041, 41943042] True True"
}

@test "a script edited on disk while it runs keeps working: the code travels" {
    cp "$SCRIPTS/edited.py" "$BATS_TEST_TMPDIR/job.py"
    run -0 "${T[@]}" "$CPMP" run "$BATS_TEST_TMPDIR/job.py"
    assert_output "[1, 2, 3] [1, 2, 3]"
}

@test "a function pickled under one Python version is refused by another, in one clear error" {
    pyenv_python 3.12
    PYTHONPATH="$CPMP_BUILD_ROOT/pyhook:$(cloudpickle_only)" LD_PRELOAD="$CPMP_SANITIZER_PRELOAD" "$py" -c 'import cpmp, sys
k = 3
sys.stdout.buffer.write(cpmp.dumps([lambda x: x * k, type("Local", (), {"f": lambda self: k})]))' > "$BATS_TEST_TMPDIR/f.pkl"
    run -1 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c 'import cpmp, sys
cpmp.loads(open(sys.argv[1], "rb").read())' "$BATS_TEST_TMPDIR/f.pkl"
    assert_line --partial "VersionError: cpmp: this payload was pickled by Python 3.12 and cannot be loaded by Python 3.11"
}

@test "a received function runs on its module's own dict unless it must read a sender's value" {
    # Under fork the worker's copy of the main module binds K; after the
    # main block rebinds it, the lambda reads K from a namespace of its own.
    exact fork namespaces "('dict', True) ('dict', 1) ('Namespace', 2)"
    exact spawn namespaces "('dict', True) ('Namespace', 1) ('Namespace', 2)"
}

@test "a worker forked before a main-block global was bound gets its value; one forked after holds it" {
    exact fork older-worker "[1, 2, 3] 3"
    exact spawn older-worker "[1, 2, 3] 3"
}

@test "an inherited lock with fork and spawn pools alive: the fork pool works, the spawn task fails clearly, no pool hangs" {
    exact fork mixed "True NotHeld cpmp: the global 'LOCK' of the sender's main module cannot be sent by value, and this process does not hold it 1 2"
}

@test "what a worker may hold is never kept alive for it: a dropped file closes and an object is finalized at once" {
    local m
    for m in fork spawn; do
        run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/exact.py" $m lifetime "$BATS_TEST_TMPDIR"
        assert_output "finalized written"
    done
}
