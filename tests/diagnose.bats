#!/usr/bin/env bats
# An object nobody can pickle: the same exception type as without cpmp,
# and the message says where the object sits.

load test_helper

@test "an error about an unpicklable object keeps its type and names where the object sits" {
    local m
    for m in fork spawn; do
        run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/diagnose.py" $m
        assert_line --index 0 "TypeError cannot pickle '_thread.lock' object — at: task args[0] → Job.conn → Holder._lock"
        assert_line --index 1 "TypeError cannot pickle '_thread.lock' object — at: map chunk 1 item [0] → Job.conn → Holder._lock"
        assert_line --index 2 "TypeError cannot pickle '_io.TextIOWrapper' object — at: task kwargs['k']"
        assert_line --index 3 --regexp "^MaybeEncodingError Error sending result: .*Reason: 'TypeError\\(\"cannot pickle '_thread.lock' object — at: result\"\\)'$"
        assert_line --index 4 "still usable 5"
        assert_line --index 5 "TypeError cannot pickle '_thread.lock' object — at: task args[0] → Job.conn → Holder._lock"
        assert_line --index 6 "TypeError cannot pickle 'sqlite3.Connection' object — at: task args[0]['store'] → Store.db"
        assert_line --index 7 "TypeError cannot pickle 'SSLSocket' object — at: task args[0][0]"
        assert_line --index 8 "TypeError cannot pickle 'select.epoll' object — at: task args[0][1]"
    done
    # Only spawn pickles the Process object.
    assert_line --index 9 "TypeError cannot pickle 'generator' object — at: SpawnProcess._args[0]"
}
