#!/usr/bin/env bats
# A held main-block def's large fallback goes once to /dev/shm and travels
# by name (pyhook/cpmp/_stash.py): small tasks, every reader served,
# nothing left behind.

load test_helper

stash() { # CASE [ARG]: the -c program of tests/scripts/stash.py
    run -0 "${T[@]}" "$CPMP" run -c "$(cat "$SCRIPTS/stash.py")" "$@"
}

leftovers() { # PID: its stashes still in /dev/shm
    find /dev/shm -maxdepth 1 -name "cpmp-$1-*" | wc -l
}

@test "tasks for a def reading an 8 MiB global are small; the one stash is private, and gone at exit" {
    stash pool
    assert_line --index 0 "{True} True 1 {'0o600'}"
    [ "$(leftovers "${lines[1]}")" = 0 ]
}

@test "workers that do not hold the def read the stash: spawn, forkserver, a Manager" {
    stash readers
    assert_output "[8388611, 8388611, 8388613] 1"
}

@test "a spawned child still reading its task when the program exits gets it" {
    stash exit "$BATS_TEST_TMPDIR/out"
    assert_output "1"
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "8388615"
}

@test "what cpmp.dumps writes loads after the program ended: its fallback goes whole" {
    stash dumps "$BATS_TEST_TMPDIR/blob"
    assert_output "1"
    run -0 "${T[@]}" "$CPMP" run -c "import pickle; print(pickle.load(open('$BATS_TEST_TMPDIR/blob', 'rb'))(9))"
    assert_output "8388617"
}

@test "a program killed with SIGKILL leaves no stash: multiprocessing's resource tracker removes it" {
    run -137 "${T[@]}" "$CPMP" run -c "$(cat "$SCRIPTS/stash.py")" killed
    local pid=${lines[0]%% *}
    [ "${lines[0]#* }" = 1 ]
    local tries=50
    while [ $((tries -= 1)) -gt 0 ]; do
        [ "$(leftovers "$pid")" = 0 ] && return 0
        sleep 0.2
    done
    fail "the stash of $pid is still in /dev/shm"
}
