#!/usr/bin/env bats
# --trace and CPMP_TRACE: what each process sends by value, per process,
# with sizes and totals; never in the way of the program.

load test_helper

@test "--trace reports each definition sent by value, per process, with sizes and totals" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --trace "$SCRIPTS/trace.py" spawn
    assert_output $'55\n[1, 2, 3] Point'
    local pid='pid [0-9]+'
    # The parent sends one lambda, once per chunk (5 chunks of 2).
    assert_regex "$stderr" "cpmp trace: $pid parent: lambda __main__\.<lambda> \(.*trace\.py:26\), ([0-9]+) bytes \[so far: 1 definition, 1 send, [0-9]+ bytes\]"
    local line size
    line=$(grep -E 'parent: lambda' <<< "$stderr")
    size=$(sed -E 's/.*, ([0-9]+) bytes \[.*/\1/' <<< "$line")
    assert_regex "$stderr" "cpmp trace: $pid parent: exit: 1 definition, 5 sends, $((size * 5)) bytes \(1 lambda\)"
    # The worker's three closures are one definition; the local class goes by cloudpickle.
    assert_regex "$stderr" "cpmp trace: $pid worker SpawnPoolWorker-1: closure __mp_main__\.adder\.<locals>\.add \(.*trace\.py:9\), [0-9]+ bytes \[so far: 1 definition, 1 send,"
    assert_regex "$stderr" "cpmp trace: $pid worker SpawnPoolWorker-1: local class __mp_main__\.local_class\.<locals>\.Point \(.*trace\.py\), [0-9]+ bytes \[so far: 2 definitions, 2 sends,"
    assert_regex "$stderr" "cpmp trace: $pid worker SpawnPoolWorker-1: exit: 2 definitions, 6 sends, [0-9]+ bytes \(1 closure, 1 local class\)"
    assert_equal "$(grep -c 'cpmp trace' <<< "$stderr")" 5
}

@test "a forked worker's trace counts only what the worker sent" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --trace "$SCRIPTS/trace.py" fork
    assert_regex "$stderr" "worker ForkPoolWorker-1: closure __main__\.adder\.<locals>\.add .* \[so far: 1 definition, 1 send, [0-9]+ bytes\]"
    assert_regex "$stderr" "worker ForkPoolWorker-1: exit: 2 definitions, 6 sends, [0-9]+ bytes \(1 closure, 1 local class\)"
}

@test "--trace=FILE and CPMP_TRACE=FILE append every process's lines to one file" {
    cd "$BATS_TEST_TMPDIR" || return
    mkdir elsewhere
    # A relative name is made absolute, so a child in another directory finds it.
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --trace=trace.log -c 'import os, subprocess, sys
os.chdir("elsewhere")
subprocess.run([sys.executable, sys.argv[1], "spawn"], check=True)' "$SCRIPTS/trace.py"
    assert_equal "$stderr" ""
    assert_equal "$(grep -c '^cpmp trace: pid [0-9]* parent: ' trace.log)" 2
    assert_equal "$(grep -c '^cpmp trace: pid [0-9]* worker SpawnPoolWorker-1: ' trace.log)" 3
    [ ! -e elsewhere/trace.log ]
    CPMP_TRACE="$BATS_TEST_TMPDIR/exec.log" run -0 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/trace.py" forkserver
    assert_output $'55\n[1, 2, 3] Point'
    assert_equal "$(grep -c 'worker ForkServerPoolWorker-1: ' exec.log)" 3
}

@test "tracing is off by default and with CPMP_TRACE=0, and a bad trace file exits 2" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/trace.py" fork
    assert_equal "$stderr" ""
    CPMP_TRACE=0 run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/trace.py" fork
    assert_equal "$stderr" ""
    # Not even imported when off, and the same check sees it when on: the
    # package is loaded under a name of its own (__cpmp__), asked of it.
    local check='import multiprocessing.reduction, sys, cpmp
print(cpmp.__name__, cpmp.__name__ + ".tools._trace" in sys.modules)'
    run -0 "${T[@]}" "$CPMP" run -c "$check"
    assert_output "__cpmp__ False"
    CPMP_TRACE=0 run -0 "${T[@]}" "$CPMP" exec "$PYTHON" -c "$check"
    assert_output "__cpmp__ False"
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --trace -c "$check"
    assert_output "__cpmp__ True"
    CPMP_TRACE=1 run -0 --separate-stderr "${T[@]}" "$CPMP" exec "$PYTHON" -c "$check"
    assert_output "__cpmp__ True"
    run -2 --separate-stderr "$CPMP" run --trace="$BATS_TEST_TMPDIR/no/such/dir" -c pass
    assert_equal "$stderr" "cpmp: --trace: cannot write to '$BATS_TEST_TMPDIR/no/such/dir': No such file or directory"
    CPMP_TRACE=/proc/nope run -2 --separate-stderr "$CPMP" exec true
    assert_equal "$stderr" "cpmp: CPMP_TRACE: cannot write to '/proc/nope': No such file or directory"
    run -2 --separate-stderr "$CPMP" run --trace= -c pass
    assert_equal "$stderr" "cpmp: --trace=FILE needs a file name (see 'cpmp --help')"
}

@test "CPMP_TRACE=yes, true or on traces to stderr and no, false or off is off, in cpmp run and a preloaded program, without making a file" {
    # A directory of its own: bats keeps its stderr files in BATS_TEST_TMPDIR.
    mkdir "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work" || return
    local value
    for value in yes TRUE On; do
        CPMP_TRACE=$value run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/trace.py" fork
        assert_regex "$stderr" "^cpmp trace: pid [0-9]+ parent: lambda "
        CPMP_TRACE=$value LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/trace.py" spawn
        assert_regex "$stderr" "^cpmp trace: pid [0-9]+ parent: lambda "
        assert_regex "$stderr" "cpmp trace: pid [0-9]+ worker SpawnPoolWorker-1: exit: "
    done
    for value in no FALSE Off; do
        CPMP_TRACE=$value run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/trace.py" fork
        assert_equal "$stderr" ""
        CPMP_TRACE=$value LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/trace.py" spawn
        assert_equal "$stderr" ""
    done
    run -0 ls -A
    assert_output ""
}

@test "a preloaded program that cannot open its trace file traces to stderr, with one warning line for the whole program" {
    # spawn: the worker is a new preloaded interpreter, which must not warn again.
    CPMP_TRACE=/proc/nope LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" -c 'import multiprocessing as mp
if __name__ == "__main__":
    with mp.get_context("spawn").Pool(1) as p: print(p.apply(len, ((lambda: 0,),)))'
    assert_output "1"
    assert_regex "$stderr" "^cpmp: CPMP_TRACE: cannot write to '/proc/nope' \(No such file or directory\), tracing to stderr
cpmp trace: pid [0-9]+ parent: lambda "
    assert_equal "$(grep -c '^cpmp: ' <<< "$stderr")" 1
}

@test "a trace that cannot be written never changes the program: one warning, the same output and status" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --trace=/dev/full "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" "cpmp: CPMP_TRACE: cannot write the trace to '/dev/full' (No space left on device), tracing stops"
    # stderr closed, and stderr a broken pipe.
    run -0 "${T[@]}" bash -c '"$1" run --trace "$2" spawn lambda 2>&-' _ "$CPMP" "$SCRIPTS/capabilities.py"
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    run -0 "${T[@]}" bash -c '"$1" run --trace "$2" spawn lambda 2> >(exit 0); echo "status $?"' _ "$CPMP" "$SCRIPTS/capabilities.py"
    assert_output --partial "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_output --partial "status 0"
}

@test "a definition a forked worker already holds is not traced: it is not sent by value" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --trace -c 'import multiprocessing as mp
class P: pass
with mp.get_context("fork").Pool(1) as p: print(p.apply(P).__class__ is P)'
    assert_output "True"
    assert_equal "$stderr" ""
}

@test "a spawned child sending while it runs the main module again is named a worker starting, not the parent" {
    cat > "$BATS_TEST_TMPDIR/top.py" <<'PY'
import multiprocessing as mp, sys
from multiprocessing.reduction import ForkingPickler
ForkingPickler.dumps(lambda: 1)  # at import: in the program and in each spawned child
if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(1) as p:
        print(p.apply(abs, (-1,)))
PY
    local m
    for m in spawn forkserver; do
        run -0 --separate-stderr "${T[@]}" "$CPMP" run --trace "$BATS_TEST_TMPDIR/top.py" "$m"
        assert_output 1
        assert_equal "$(grep -cE '^cpmp trace: pid [0-9]+ parent: lambda' <<< "$stderr")" 1
        assert_equal "$(grep -cE '^cpmp trace: pid [0-9]+ worker starting: lambda' <<< "$stderr")" 1
    done
}
