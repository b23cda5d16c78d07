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
