#!/usr/bin/env bats
# Programs a hostile review of the redesigned core found wrong
# (tests/scripts/adversarial.py): each prints what python3 with top-level
# defs, or cloudpickle, gives.

load test_helper

adversarial() { # CASE ANSWER [METHOD...]: by default every start method
    local case=$1 answer=$2 method
    shift 2
    [ $# -gt 0 ] || set -- "${METHODS[@]}"
    for method; do
        run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/adversarial.py" "$case" "$method" "$BATS_TEST_TMPDIR"
        assert_output "$answer"
    done
}

@test "a class whose attribute holds itself is sent by value again and again" {
    adversarial self-containing "[(1, True, 7), (1, True, 7)]" spawn forkserver
}

@test "a class renamed, or whose dict holds a table's builtin method, is sent as it is now" {
    adversarial renamed "[(0, 'C', 1), (1, 'C', 1), (2, 'C', 1), (2, 'Renamed', 1)]" spawn forkserver
}

@test "a C type not found under its name is refused at send, as python3 refuses it, and the pool lives on" {
    adversarial c-type "PicklingError True
1"
}

@test "a helper sent by reference and then replaced in its module goes by value: the lambda's helper is the old one" {
    printf 'def helper():\n    return "old"\n' > "$BATS_TEST_TMPDIR/adv_helper.py"
    adversarial monkeypatched "['old', 'old', 'old']" fork
}

@test "an os.fork child that outlives the program still sends a def whose fallback was stashed" {
    local method tries
    for method in fork spawn; do
        rm -f "$BATS_TEST_TMPDIR/out"
        run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/adversarial.py" outlived "$method" "$BATS_TEST_TMPDIR"
        tries=100
        while [ ! -s "$BATS_TEST_TMPDIR/out" ] && [ $((tries -= 1)) -gt 0 ]; do
            sleep 0.2
        done
        run cat "$BATS_TEST_TMPDIR/out"
        assert_output "2097152 1"  # in a stash of its own
    done
}

@test "a main-block def pickled while no name found it, then bound again, is the forked worker's own" {
    adversarial rebound-identity "[True, True, True]" fork
}

@test "a pool left open at exit, nothing sent by value: no traceback, as under python3" {
    local method
    for method in fork spawn; do
        run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/adversarial.py" pool-left-open "$method"
        assert_output "3"
        assert_equal "$stderr" ""
    done
}

@test "a lambda reading a package sent again brings the submodules the sender has imported since" {
    adversarial submodule-later "['AttributeError', 'AttributeError', 'a']" spawn forkserver
}
