#!/usr/bin/env bats
# Bounded soak and fault tests: each compares cpmp run (lambda) with python3
# (the same program with a top-level def), and stops by itself.

load test_helper

soak() { # CASE: the line python3 prints with a def, then cpmp run with a lambda
    run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/soak.py" "$1" def
    local stock=$output
    run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/soak.py" "$1" lambda
    assert_equal "$output" "$stock"
}

@test "a worker SIGKILLed mid-task: the executor breaks and the Pool goes on, as under python3" {
    soak kill-executor
    assert_output "BrokenProcessPool"
    soak kill-pool
    assert_output "TimeoutError, then 2"
}

@test "100k lambda tasks through imap with chunksize=1 leave the worker's RSS flat" {
    [ -z "$CPMP_SANITIZER_PRELOAD" ] || skip "ASan's allocator keeps freed memory in quarantine: RSS says nothing there"
    soak imap-rss
    assert_output "worker RSS flat"
}

@test "1000 Pools opened and closed leave the parent's file descriptors flat" {
    soak pools-fds
    assert_output "fds flat"
}

leftovers() { # SIGNAL COMMAND...: processes left up to 10 s after the signal, and new /dev/shm entries
    local mark=soak-$RANDOM-$$
    unshare -m sh -c '
        mount -t tmpfs none /dev/shm || exit 2
        sig=$1 mark=$2
        shift 2
        SOAK_MARK=$mark "$@" > ready 2>/dev/null &
        pid=$!
        for _ in $(seq 100); do grep -q ready ready 2> /dev/null && break; sleep 0.1; done
        kill -s "$sig" "$pid"
        # What is still there 10 s on, polled (an ASan build shuts down
        # slower, not differently: a fixed 3 s wait failed there).
        for _ in $(seq 100); do
            left=$(grep -l "SOAK_MARK=$mark" /proc/[0-9]*/environ 2> /dev/null | cut -d/ -f3)
            [ -z "$left" ] && break
            sleep 0.1
        done
        echo "$(echo "$left" | grep -c .) left, $(find /dev/shm -mindepth 1 | wc -l) in /dev/shm"
        for p in $left; do kill -KILL "$p" 2> /dev/null; done
        true' _ "$1" "$mark" "${@:2}"
}

@test "SIGINT and SIGTERM to a parent with busy workers leave the processes python3 leaves, and nothing in /dev/shm" {
    [ "$(id -u)" -eq 0 ] || skip "needs root for a private /dev/shm"
    local sig stock
    for sig in INT TERM; do
        run -0 leftovers "$sig" "$PYTHON" "$SCRIPTS/soak.py" busy-parent def
        stock=$output
        run -0 leftovers "$sig" "$CPMP" run "$SCRIPTS/soak.py" busy-parent lambda
        assert_equal "$output" "$stock"
        assert_output --regexp "^[0-9]+ left, 0 in /dev/shm$"
    done
}
