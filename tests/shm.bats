#!/usr/bin/env bats
# Large messages through /dev/shm: each compares cpmp run (lambda) with
# python3 (the same program with a top-level def), and shows the files.

load test_helper

large() { # CASE METHOD: what python3 prints with a def, then cpmp run with a lambda
    run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/shm.py" "$1" "$2" def
    stock=$output
    run -0 --separate-stderr "${T[@]}" "$CPMP" run "$SCRIPTS/shm.py" "$1" "$2" lambda
}

private_shm() { # MOUNT-OPTIONS COMMAND...: COMMAND with a /dev/shm of its own, then "left: N" message files
    unshare -m sh -c '
        mount -t tmpfs -o "$1" none /dev/shm || exit 2
        shift
        "$@"
        rc=$?
        echo "left: $(find /dev/shm -name "cpmp-msg-*" | wc -l)"
        exit $rc' _ "$@"
}

needs_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root for a private /dev/shm"
}

@test "large arrays, bytes and bytearrays through a Pool go by /dev/shm under every method and arrive as under python3" {
    local method
    for method in "${METHODS[@]}"; do
        large pool "$method"
        assert_equal "${stock##*$'\n'}" "files: 0"
        assert_equal "${lines[0]}" "${stock%%$'\n'*}"
        assert_line --index 0 --partial "[True] sender unchanged: True"
        assert_line --index 1 "files: 3"
    done
}

@test "the same under cpmp exec" {
    local method
    for method in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/shm.py" pool "$method" def
        local want=${lines[0]}
        run -0 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/shm.py" pool "$method" lambda
        assert_line --index 0 "$want"
        assert_line --index 1 "files: 3"
    done
}

@test "imap, apply_async, ProcessPoolExecutor, a Process with a Queue, SimpleQueue and Pipe carry large messages as under python3" {
    local method
    for method in "${METHODS[@]}"; do
        large apis "$method"
        assert_equal "$output" "$stock"
        assert_equal "${#lines[@]}" 5
    done
}

@test "a Manager's server loads large messages as under python3" {
    local method
    for method in "${METHODS[@]}"; do
        large manager "$method"
        assert_output "$stock"
    done
}

@test "children of another interpreter (set_executable) get large messages by the pipe, as under python3" {
    SHM_PYTHON=$PYTHON large foreign spawn
    assert_output "$stock"
    assert_output --partial "files: 0"
}

@test "ForkingPickler.dumps() called by the program gives python3's bytes, which load twice" {
    large dumps fork
    assert_output "$stock"
    assert_line --index 1 "loaded twice True"
}

@test "nothing is left in /dev/shm after a normal exit" {
    needs_root
    run -0 --separate-stderr private_shm size=1g "${T[@]}" "$CPMP" run "$SCRIPTS/shm.py" pool fork lambda
    assert_line "files: 3"
    assert_line "left: 0"
    assert_equal "$stderr" ""
}

@test "Pool.terminate() with large tasks queued leaves nothing in /dev/shm, and no warning, under every method" {
    needs_root
    local method
    for method in "${METHODS[@]}"; do
        run -0 --separate-stderr private_shm size=1g "${T[@]}" "$PYTHON" "$SCRIPTS/shm.py" terminate "$method" def
        assert_equal "$stderr" ""
        run -0 --separate-stderr private_shm size=1g "${T[@]}" "$CPMP" run "$SCRIPTS/shm.py" terminate "$method" lambda
        assert_output $'files: True\nleft: 0'
        assert_equal "$stderr" ""
    done
}

@test "a worker SIGKILLed after sending large messages nobody read leaves nothing in /dev/shm, and no warning" {
    needs_root
    local method
    for method in "${METHODS[@]}"; do
        run -0 --separate-stderr private_shm size=1g "${T[@]}" "$CPMP" run "$SCRIPTS/shm.py" worker_killed "$method" lambda
        assert_output $'exitcode -9 files: True\nleft: 0'
        assert_equal "$stderr" ""
    done
}

killed_program() { # COMMAND...: SIGKILL it once it has large tasks queued; message files left 20 s on
    unshare -m sh -c '
        mount -t tmpfs none /dev/shm || exit 2
        "$@" > ready 2> /dev/null &
        pid=$!
        for _ in $(seq 600); do grep -q "ready files: True" ready 2> /dev/null && break; sleep 0.1; done
        grep -q "ready files: True" ready || { echo "never ready"; exit 1; }
        kill -KILL "$pid"
        for _ in $(seq 200); do
            [ "$(find /dev/shm -name "cpmp-msg-*" | wc -l)" -eq 0 ] && break
            sleep 0.1
        done
        echo "left: $(find /dev/shm -name "cpmp-msg-*" | wc -l)"' _ "$@"
}

@test "a SIGKILLed program leaves nothing in /dev/shm once its workers have gone, under every method" {
    needs_root
    local method
    for method in "${METHODS[@]}"; do
        cd "$BATS_TEST_TMPDIR"
        run -0 killed_program "${T[@]}" "$CPMP" run "$SCRIPTS/shm.py" busy "$method" lambda
        assert_output "left: 0"
    done
}

@test "a /dev/shm too small for a message: it goes through the pipe, with python3's results" {
    needs_root
    local method
    for method in "${METHODS[@]}"; do
        run -0 --separate-stderr private_shm size=3m "${T[@]}" "$PYTHON" "$SCRIPTS/shm.py" pool "$method" def
        local stock=$output
        run -0 --separate-stderr private_shm size=3m "${T[@]}" "$CPMP" run "$SCRIPTS/shm.py" pool "$method" lambda
        assert_output "$stock"
        assert_line "files: 0"
    done
}

@test "a read-only /dev/shm: large messages through a Pipe go by the pipe, with python3's results" {
    needs_root
    run -0 private_shm ro "${T[@]}" "$PYTHON" "$SCRIPTS/shm.py" pipe_only fork def
    local stock=$output
    run -0 private_shm ro "${T[@]}" "$CPMP" run "$SCRIPTS/shm.py" pipe_only fork lambda
    assert_output "$stock"
    assert_line --index 0 --partial "pipe "
}
