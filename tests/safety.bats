#!/usr/bin/env bats
# Safe on a shared machine (issue 20): trace files, the package trust
# check, kernel names, python3's options as the preload reads them, and
# what cpmp exec runs.
load test_helper

# --- cpmp exec ---

@test "cpmp exec runs the very file it resolved on PATH, with the argv[0] it was given" {
    command -v strace > /dev/null || skip "no strace"
    mkdir -p "$BATS_TEST_TMPDIR/empty"
    PATH="$BATS_TEST_TMPDIR/empty:/usr/bin:/bin" run -0 strace -f -qq -e trace=execve -e signal=none \
        -o "$BATS_TEST_TMPDIR/execs" "$CPMP" exec python3 -c 'print("ran")'
    assert_output "ran"
    # One execve after cpmp's own: the checked path, not a second search.
    run -0 sed -n 2p "$BATS_TEST_TMPDIR/execs"
    assert_output --regexp '^[0-9]+ +execve\("/usr/bin/python3", \["python3", "-c", '
    run -1 grep -F "$BATS_TEST_TMPDIR/empty" "$BATS_TEST_TMPDIR/execs"
}

@test "cpmp exec runs a resolved file without a #! line under /bin/sh, as execvp would" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    printf 'echo "plain script:" "$@"\n' > "$BATS_TEST_TMPDIR/bin/plain"
    chmod +x "$BATS_TEST_TMPDIR/bin/plain"
    PATH="$BATS_TEST_TMPDIR/bin:$PATH" run -0 "$CPMP" exec plain one two
    assert_output "plain script: one two"
}

@test "cpmp exec adds ASAN_OPTIONS only in a build with sanitizers" {
    run -0 env -u ASAN_OPTIONS "$CPMP" exec -- env
    if [ -n "$CPMP_SANITIZER_PRELOAD" ]; then
        assert_line "ASAN_OPTIONS=verify_asan_link_order=0"
    else
        refute_line --partial "ASAN_OPTIONS="
    fi
}
