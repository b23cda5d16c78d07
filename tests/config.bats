#!/usr/bin/env bats
# Settings: one vocabulary for flags and environment variables, reaching
# children and preloaded processes; bad values fail cleanly.

load test_helper

@test "--by-value ships a module the workers cannot import, and CPMP_BY_VALUE does the same under cpmp exec" {
    run -0 --separate-stderr $T "$CPMP" run "$SCRIPTS/byvalue.py"
    assert_output "BrokenProcessPool"
    run -0 $T "$CPMP" run --by-value helper "$SCRIPTS/byvalue.py"
    assert_output "42 5"
    run -0 $T "$CPMP" run --by-value=json,helper "$SCRIPTS/byvalue.py"
    assert_output "42 5"
    CPMP_BY_VALUE=helper run -0 $T "$CPMP" exec "$PYTHON" "$SCRIPTS/byvalue.py"
    assert_output "42 5"
}

@test "flags become environment variables that child processes see" {
    run -0 $T "$CPMP" run --disable --quiet --by-value a.b -c 'import os, subprocess, sys
print(subprocess.run([sys.executable, "-c", "import os; print(os.environ[\"CPMP_DISABLE\"], os.environ[\"CPMP_QUIET\"], os.environ[\"CPMP_BY_VALUE\"])"], capture_output=True, text=True).stdout.strip())'
    assert_output "1 1 a.b"
    CPMP_BY_VALUE=first run -0 "$CPMP" exec --by-value second -- sh -c 'echo "$CPMP_BY_VALUE"'
    assert_output "first,second"
}

@test "--disable runs the program unpatched" {
    run $T "$CPMP" run --disable "$SCRIPTS/capabilities.py" spawn lambda
    assert_failure
    assert_output --partial "Can't pickle local object"
}

@test "a malformed module name or a missing value exits 2 with one line naming it" {
    run -2 --separate-stderr "$CPMP" run --by-value 'not-a-module' x.py
    assert_equal "$stderr" "cpmp: --by-value: 'not-a-module' is not a module name"
    run -2 --separate-stderr "$CPMP" exec --by-value 'json,,os' true
    assert_equal "$stderr" "cpmp: --by-value: '' is not a module name"
    run -2 --separate-stderr "$CPMP" run --by-value
    assert_equal "$stderr" "cpmp: --by-value needs a module name (see 'cpmp --help')"
    CPMP_BY_VALUE='9lives' run -2 --separate-stderr "$CPMP" run -c pass
    assert_equal "$stderr" "cpmp: CPMP_BY_VALUE: '9lives' is not a module name"
}

@test "a preloaded process with a malformed CPMP_BY_VALUE still runs, with one warning line" {
    CPMP_BY_VALUE='ok_name,bad-name' LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr $T "$PYTHON" "$SCRIPTS/capabilities.py" fork lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" "cpmp: CPMP_BY_VALUE: 'bad-name' is not a module name, ignored"
}

@test "cpmp --help and the man page document every setting" {
    run -0 "$CPMP" --help
    local setting
    for setting in --by-value CPMP_BY_VALUE --disable CPMP_DISABLE --quiet CPMP_QUIET --trace CPMP_TRACE; do
        assert_output --partial -- "$setting"
        grep -q -- "${setting//-/\\\\-}" "$BATS_TEST_DIRNAME/../launcher/cpmp.1" || fail "cpmp.1 does not document $setting"
    done
    # It renders, without a warning from groff.
    run -0 --separate-stderr env MANWIDTH=80 man --warnings -l "$BATS_TEST_DIRNAME/../launcher/cpmp.1"
    assert_line --index 0 --regexp '^CPMP\(1\) +User Commands +CPMP\(1\)$'
    assert_equal "$stderr" ""
}

@test "--trace reports each definition sent by value, per process, with sizes and totals" {
    run -0 --separate-stderr $T "$CPMP" run --trace "$SCRIPTS/trace.py" spawn
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
    run -0 --separate-stderr $T "$CPMP" run --trace "$SCRIPTS/trace.py" fork
    assert_regex "$stderr" "worker ForkPoolWorker-1: closure __main__\.adder\.<locals>\.add .* \[so far: 1 definition, 1 send, [0-9]+ bytes\]"
    assert_regex "$stderr" "worker ForkPoolWorker-1: exit: 2 definitions, 6 sends, [0-9]+ bytes \(1 closure, 1 local class\)"
}

@test "--trace=FILE and CPMP_TRACE=FILE append every process's lines to one file" {
    cd "$BATS_TEST_TMPDIR"
    mkdir elsewhere
    # A relative name is made absolute, so a child in another directory finds it.
    run -0 --separate-stderr $T "$CPMP" run --trace=trace.log -c 'import os, subprocess, sys
os.chdir("elsewhere")
subprocess.run([sys.executable, sys.argv[1], "spawn"], check=True)' "$SCRIPTS/trace.py"
    assert_equal "$stderr" ""
    assert_equal "$(grep -c '^cpmp trace: pid [0-9]* parent: ' trace.log)" 2
    assert_equal "$(grep -c '^cpmp trace: pid [0-9]* worker SpawnPoolWorker-1: ' trace.log)" 3
    [ ! -e elsewhere/trace.log ]
    CPMP_TRACE="$BATS_TEST_TMPDIR/exec.log" run -0 $T "$CPMP" exec "$PYTHON" "$SCRIPTS/trace.py" forkserver
    assert_output $'55\n[1, 2, 3] Point'
    assert_equal "$(grep -c 'worker ForkServerPoolWorker-1: ' exec.log)" 3
}

@test "tracing is off by default and with CPMP_TRACE=0, and a bad trace file exits 2" {
    run -0 --separate-stderr $T "$CPMP" run "$SCRIPTS/trace.py" fork
    assert_equal "$stderr" ""
    CPMP_TRACE=0 run -0 --separate-stderr $T "$CPMP" run "$SCRIPTS/trace.py" fork
    assert_equal "$stderr" ""
    # Not even imported when off.
    run -0 $T "$CPMP" run -c 'import multiprocessing.reduction, sys; print("cpmp._trace" in sys.modules)'
    assert_output "False"
    run -2 --separate-stderr "$CPMP" run --trace="$BATS_TEST_TMPDIR/no/such/dir" -c pass
    assert_equal "$stderr" "cpmp: --trace: cannot write to '$BATS_TEST_TMPDIR/no/such/dir': No such file or directory"
    CPMP_TRACE=/proc/nope run -2 --separate-stderr "$CPMP" exec true
    assert_equal "$stderr" "cpmp: CPMP_TRACE: cannot write to '/proc/nope': No such file or directory"
    run -2 --separate-stderr "$CPMP" run --trace= -c pass
    assert_equal "$stderr" "cpmp: --trace=FILE needs a file name (see 'cpmp --help')"
}

@test "a preloaded process that cannot open its trace file traces to stderr, with one warning line" {
    CPMP_TRACE=/proc/nope LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr $T "$PYTHON" -c 'import multiprocessing as mp
with mp.get_context("fork").Pool(1) as p: print(p.apply(len, ((lambda: 0,),)))'
    assert_output "1"
    assert_regex "$stderr" "^cpmp: CPMP_TRACE: cannot write to '/proc/nope' \(No such file or directory\), tracing to stderr
cpmp trace: pid [0-9]+ parent: lambda "
    assert_equal "$(grep -c '^cpmp: ' <<< "$stderr")" 1
}
