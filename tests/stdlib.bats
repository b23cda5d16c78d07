#!/usr/bin/env bats
# CPython's own multiprocessing suites, run under cpmp: a check from outside
# that the patch breaks nothing.  test_unpickleable_result asserts that a
# worker cannot return a lambda, which is the limit cpmp removes: it is the
# one expected difference, and it is checked to differ.

load test_helper

SUITES="test_multiprocessing_fork test_multiprocessing_spawn test_multiprocessing_forkserver test_concurrent_futures test_multiprocessing_main_handling"

setup() {
    [ -z "${CPMP_SKIP_STDLIB:-}" ] || skip "CPMP_SKIP_STDLIB is set"
    "$PYTHON" -c 'import test.test_multiprocessing_spawn' 2> /dev/null \
        || fail "CPython's test suite is missing (apt-get install libpython3.11-testsuite)"
    cd "$BATS_TEST_TMPDIR" || return
}

@test "CPython's five multiprocessing suites pass under cpmp run, test_unpickleable_result aside" {
    # shellcheck disable=SC2086
    run timeout 1800 "$CPMP" run -m test -j2 -i '*test_unpickleable_result' $SUITES
    assert_success
    assert_output --partial "All 5 tests OK."
    assert_output --partial "Tests result: SUCCESS"
}

@test "test_unpickleable_result fails under cpmp run only because the worker's lambda now arrives" {
    run timeout 600 "$CPMP" run -m test -m '*test_unpickleable_result' -j2 \
        test_multiprocessing_fork test_multiprocessing_spawn test_multiprocessing_forkserver
    assert_failure
    assert_output --partial "3 tests failed:"
    [ "$(grep -c 'AssertionError: MaybeEncodingError not raised by get' <<< "$output")" -eq 3 ]
    run timeout 600 "$PYTHON" -m test -m '*test_unpickleable_result' -j2 test_multiprocessing_spawn
    assert_success
}

@test "CPython's five multiprocessing suites pass under cpmp exec, test_unpickleable_result aside" {
    # shellcheck disable=SC2086
    run timeout 1800 "$CPMP" exec -- "$PYTHON" -m test -j2 -i '*test_unpickleable_result' $SUITES
    assert_success
    assert_output --partial "All 5 tests OK."
    assert_output --partial "Tests result: SUCCESS"
}

@test "test_unpickleable_result fails under cpmp exec only because the worker's lambda now arrives" {
    run timeout 600 "$CPMP" exec -- "$PYTHON" -m test -m '*test_unpickleable_result' -j2 \
        test_multiprocessing_fork test_multiprocessing_spawn test_multiprocessing_forkserver
    assert_failure
    assert_output --partial "3 tests failed:"
    [ "$(grep -c 'AssertionError: MaybeEncodingError not raised by get' <<< "$output")" -eq 3 ]
}
