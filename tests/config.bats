#!/usr/bin/env bats
# Settings: one vocabulary for flags and environment variables, reaching
# children and preloaded processes; bad values fail cleanly.

load test_helper

@test "--by-value ships a module the workers cannot import, and CPMP_BY_VALUE does the same under cpmp exec" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/byvalue.py"
    assert_output "BrokenProcessPool"
    run -0 "${T[@]}" "$CPMP" run --by-value helper "$SCRIPTS/byvalue.py"
    assert_output "42 5"
    run -0 "${T[@]}" "$CPMP" run --by-value=json,helper "$SCRIPTS/byvalue.py"
    assert_output "42 5"
    CPMP_BY_VALUE=helper run -0 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/byvalue.py"
    assert_output "42 5"
}

@test "a --by-value module the program never imported and none can find gets one line at its exit; one it puts on sys.path itself, none" {
    # byvalue.py makes helper importable only after its pool started; email
    # is a package it never imports, which cannot be asked without importing it.
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --by-value=json,helper,helpr,os.nope,email.nope "$SCRIPTS/byvalue.py"
    assert_output "42 5"
    assert_equal "${#stderr_lines[@]}" 2
    assert_equal "${stderr_lines[0]}" "cpmp: --by-value (CPMP_BY_VALUE) names 'helpr', which the program never imported and no module of that name can be found: it changed nothing (misspelled?)"
    assert_equal "${stderr_lines[1]}" "cpmp: --by-value (CPMP_BY_VALUE) names 'os.nope', which the program never imported and no module of that name can be found: it changed nothing (misspelled?)"
    # Once for the program: not from its spawned workers, forkserver or resource tracker.
    for method in "${METHODS[@]}"; do
        CPMP_BY_VALUE=helpr run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" "$method" lambda
        assert_equal "$stderr" "cpmp: --by-value (CPMP_BY_VALUE) names 'helpr', which the program never imported and no module of that name can be found: it changed nothing (misspelled?)"
    done
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --by-value helpr "$SCRIPTS/capabilities.py" spawn lambda
    assert_equal "$stderr" ""
    # Nor under cpmp exec, where no process is the program's own.
    CPMP_BY_VALUE=helpr run -0 --separate-stderr "${T[@]}" "$CPMP" exec "$PYTHON" -c pass
    assert_equal "$stderr" ""
}

@test "cpmp run of another python3 (preloaded) says the same of a --by-value module none can find, once" {
    pyenv_python 3.12
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --python "$py" --by-value helpr "$SCRIPTS/capabilities.py" spawn lambda
    assert_equal "$stderr" "cpmp: --by-value (CPMP_BY_VALUE) names 'helpr', which the program never imported and no module of that name can be found: it changed nothing (misspelled?)"
}

@test "flags become environment variables that child processes see" {
    run -0 "${T[@]}" "$CPMP" run --disable --quiet --by-value a.b -c 'import os, subprocess, sys
print(subprocess.run([sys.executable, "-c", "import os; print(os.environ[\"CPMP_DISABLE\"], os.environ[\"CPMP_QUIET\"], os.environ[\"CPMP_BY_VALUE\"])"], capture_output=True, text=True).stdout.strip())'
    assert_output "1 1 a.b"
    CPMP_BY_VALUE=first run -0 "$CPMP" exec --by-value second -- sh -c 'echo "$CPMP_BY_VALUE"'
    assert_output "first,second"
}

@test "--disable runs the program unpatched" {
    run "${T[@]}" "$CPMP" run --disable "$SCRIPTS/capabilities.py" spawn lambda
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

@test "a preloaded program with a malformed CPMP_BY_VALUE still runs, with one warning line for the whole program" {
    # spawn: every worker is a new preloaded interpreter.
    CPMP_BY_VALUE='ok_name,bad-name' LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" "cpmp: CPMP_BY_VALUE: 'bad-name' is not a module name, ignored"
}

@test "the launcher, the preload library and the Python package read a boolean the same way" {
    # Each value, and what it is: true, false or not a boolean.
    local table='1 true
0 false
true true
false false
yes true
no false
on true
off false
TRUE true
False false
yEs true
NO false
On true
OFF false
2 bad
-1 bad
y bad
n bad
enable bad
yes! bad
01 bad
none bad'
    local value want got
    while read -r value want; do
        # C in the launcher: refuses (2) what is not a boolean.
        run --separate-stderr env CPMP_DISABLE="$value" "$CPMP" exec true
        got="exec $status"
        # C in the preload library: stays out when true, ignores the rest.
        run -0 --separate-stderr env CPMP_DISABLE="$value" LD_PRELOAD="$CPMP_PRELOAD" "$PYTHON" -c 'import sys; print("__cpmp__" in sys.modules)'
        got+=", preload acts $output"
        run -0 env PYTHONPATH="$CPMP_BUILD_ROOT/pyhook" "$PYTHON" -c 'import sys
from cpmp._settings import parse_bool
print(parse_bool(sys.argv[1]))' "$value"
        got+=", Python $output"
        case $want in
            true) assert_equal "$value: $got" "$value: exec 0, preload acts False, Python True" ;;
            false) assert_equal "$value: $got" "$value: exec 0, preload acts True, Python False" ;;
            bad) assert_equal "$value: $got" "$value: exec 2, preload acts True, Python None" ;;
        esac
    done <<< "$table"
    # Empty is unset; blanks are not trimmed; non-ASCII letters are not folded.
    run -0 env PYTHONPATH="$CPMP_BUILD_ROOT/pyhook" "$PYTHON" -c 'from cpmp._settings import parse_bool as p
print([p(v) for v in ("", " 1", "yes ", "\u0130", "\u0131", "n\u00f8")])'
    assert_output "[False, None, None, None, None, None]"
}

@test "a preloaded program with a CPMP_DISABLE or CPMP_QUIET that is not a boolean runs patched, with one warning line each for the whole program" {
    # spawn: every worker is a new preloaded interpreter, which must not warn again.
    CPMP_DISABLE=false LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" ""
    CPMP_DISABLE=maybe CPMP_QUIET=2 LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" "cpmp: CPMP_DISABLE: 'maybe' is not one of 1/0, true/false, yes/no, on/off, ignored
cpmp: CPMP_QUIET: '2' is not one of 1/0, true/false, yes/no, on/off, ignored"
    # A valid CPMP_QUIET silences it.
    CPMP_DISABLE=maybe CPMP_QUIET=yes LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
    assert_equal "$stderr" ""
}

@test "a cluster address of no form Dask connects to stops cpmp run, exec and env before the program runs, and the launcher and the package agree on every form" {
    local table='local ok
local:1 ok
local:64 ok
tcp://127.0.0.1:8786 ok
tls://sched.example.org:8786 ok
127.0.0.1:8786 ok
[::1]:8786 ok
tcp://[::1]:8786 ok
ws://host:1 ok
local:0 bad
local:abc bad
local: bad
local:-1 bad
http://host:8786 bad
tcp://host bad
tcp://host: bad
tcp://:8786 bad
tcp://host:0 bad
tcp://host:65536 bad
tcp://host:8786/path bad
tcp://user@host:8786 bad
[::1:8786 bad
host bad'
    local address want got
    while read -r address want; do
        run --separate-stderr "$CPMP" env --cluster "$address"
        got="option $status"
        run --separate-stderr env CPMP_CLUSTER="$address" "$CPMP" exec true
        got+=", variable $status"
        run -0 env PYTHONPATH="$CPMP_BUILD_ROOT/pyhook" "$PYTHON" -c 'import sys
from cpmp._settings import cluster_address_ok
print(cluster_address_ok(sys.argv[1]))' "$address"
        got+=", Python $output"
        case $want in
            ok) assert_equal "$address: $got" "$address: option 0, variable 0, Python True" ;;
            bad) assert_equal "$address: $got" "$address: option 2, variable 2, Python False" ;;
        esac
    done <<< "$table"
    # One line naming it, and the program never starts.
    local cmd
    for cmd in run exec; do
        run -2 --separate-stderr "$CPMP" $cmd --cluster local:abc ${cmd/exec/"$PYTHON"} -c "open('$BATS_TEST_TMPDIR/ran', 'w')"
        assert_equal "$stderr" "cpmp: --cluster: 'local:abc' is not a cluster address: tcp://HOST:PORT, tls://HOST:PORT, HOST:PORT, local or local:N"
        assert [ ! -e "$BATS_TEST_TMPDIR/ran" ]
    done
}

@test "a preloaded program with a CPMP_CLUSTER of no known form runs its pools here, with one warning line for the whole program" {
    CPMP_CLUSTER=http://nowhere:1 LD_PRELOAD="$CPMP_PRELOAD" run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" "cpmp: CPMP_CLUSTER: 'http://nowhere:1' is not a cluster address: tcp://HOST:PORT, tls://HOST:PORT, HOST:PORT, local or local:N; pools run here"
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
