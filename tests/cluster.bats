#!/usr/bin/env bats
# --cluster: the same unchanged Pool and ProcessPoolExecutor programs on a
# real Dask cluster (dask-scheduler and two `cpmp exec -- dask-worker`
# processes on 127.0.0.1, for the whole file) and on `local:2`.  Workers
# have CPMP_TEST_WORKER=yes in their environment, the programs do not: a
# task whose process's parent has it ran in a pool's process on a worker
# (its own environment is the program's).

load test_helper

# [--tls] SCHEDULER-FILE [WORKER-COMMAND...]: a scheduler on a free port
# (speaking TLS, as Dask's configuration in the environment says), and,
# with a command, workers started by it (its last word is followed by the
# address); each in a process group of its own (PIDS), for teardown.
start_cluster() {
    local protocol=tcp
    [ "$1" = --tls ] && protocol=tls && shift
    local file=$1
    shift
    setsid dask-scheduler --protocol "$protocol" --host 127.0.0.1 --port 0 \
        --dashboard-address 127.0.0.1:0 --scheduler-file "$file" > "$file.log" 2>&1 3>&- &
    PIDS+=($!)
    for _ in $(seq 100); do
        [ -s "$file" ] && break
        sleep 0.1
    done
    ADDR=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["address"])' "$file")
    if [ $# -gt 0 ]; then
        [[ " $* " == *" --nthreads "* ]] || set -- "$@" --nthreads 1
        CPMP_TEST_WORKER=yes setsid "$@" "$ADDR" --no-dashboard \
            --local-directory "$file.workers" > "$file.workers.log" 2>&1 3>&- &
        PIDS+=($!)
    fi
}

# N: wait until the scheduler at ADDR has N workers.
wait_for_workers() {
    "${T[@]}" "$PYTHON" -c '
import sys, time
from distributed import Client
with Client(sys.argv[1], timeout=30) as c:
    c.wait_for_workers(int(sys.argv[2]), timeout=60)' "$ADDR" "$1" 2> /dev/null
}

stop_cluster() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM -- "-$pid" 2> /dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 -- "-$pid" 2> /dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2> /dev/null || true
    done
    PIDS=()
}

setup_file() {
    unset CPMP_CLUSTER
    PIDS=()
    start_cluster "$BATS_FILE_TMPDIR/shared.json" "$CPMP" exec -- dask-worker --nworkers 2
    wait_for_workers 2
    echo "$ADDR" > "$BATS_FILE_TMPDIR/address"
    echo "${PIDS[*]}" > "$BATS_FILE_TMPDIR/pids"
}

teardown_file() {
    read -ra PIDS < "$BATS_FILE_TMPDIR/pids"
    stop_cluster
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    unset CPMP_CLUSTER CPMP_TEST_WORKER
    SHARED=$(cat "$BATS_FILE_TMPDIR/address")
    PIDS=()
}

teardown() {
    stop_cluster
}

@test "a program's output is the same bytes on a real cluster as locally, under fork and spawn" {
    for method in fork spawn; do
        run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/cluster_semantics.py" "$method"
        local here=$output
        run -0 --separate-stderr "${T[@]}" "$CPMP" run --cluster "$SHARED" \
            "$SCRIPTS/cluster_semantics.py" "$method"
        assert_equal "$output" "$here"
        assert_line "end: '$method'"
    done
}

@test "the local semantics and exactness programs print the same on the cluster as under spawn" {
    local script case
    for script in semantics:initializer semantics:lambda-initializer semantics:main-block \
        semantics:worker-globals semantics:rebind semantics:unpicklable exact:loop-lambda \
        exact:loop-def exact:loop-def-before exact:namespaces exact:older-worker \
        exact:loop-executor; do
        case=${script#*:}
        run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/${script%%:*}.py" spawn "$case"
        local here=$output
        run -0 "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" "$SCRIPTS/${script%%:*}.py" \
            spawn "$case"
        assert_equal "$case: $output" "$case: $here"
    done
}

@test "--cluster local:2 gives the same bytes, and leaves no process or file behind" {
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/cluster_semantics.py" forkserver
    local here=$output
    TMPDIR=$BATS_TEST_TMPDIR run -0 --separate-stderr "${T[@]}" "$CPMP" run --cluster local:2 \
        "$SCRIPTS/cluster_semantics.py" forkserver
    assert_equal "$output" "$here"
    run pgrep -f cluster/_local.py
    assert_failure
    run ls "$BATS_TEST_TMPDIR"
    refute_output --partial cpmp-cluster-
}

@test "local:2's helper and the workers it spawns run no module planted in the current directory; tasks still see it as their cwd" {
    local name
    for name in multiprocessing distributed dask; do
        printf 'import sys\nprint("planted %s ran", file=sys.stderr)\nopen("%s/planted", "a").write("%s\\n")\n' \
            "$name" "$PWD" "$name" > "$name.py"
    done
    mkdir prog
    cat > prog/prog.py <<'PY'
import multiprocessing as mp, os, sys
def where(_):
    return os.getcwd(), os.path.dirname(os.path.abspath(__file__)) in sys.path
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(set(pool.map(where, range(4))))
PY
    run -0 "${T[@]}" "$PYTHON" prog/prog.py
    local expected=$output
    assert_equal "$expected" "{('$PWD', True)}"
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster local:2 prog/prog.py
    assert_equal "$output" "$expected"
    assert_equal "$stderr" ""
    [ ! -e planted ]
}

@test "only the program's owner can use its local:2 cluster: TLS with its own credentials, every port on 127.0.0.1" {
    [ "$(id -u)" -eq 0 ] || skip "needs root to make another user"
    command -v useradd > /dev/null || skip "no useradd"
    local user=cpmp-intruder-$$
    useradd --no-create-home --shell /bin/sh "$user"
    chmod o+rx "$BATS_TEST_TMPDIR"
    "$CPMP" run --quiet --cluster local:2 "$SCRIPTS/cluster_owner.py" "$BATS_TEST_TMPDIR/addr" \
        "$BATS_TEST_TMPDIR/done" > "$BATS_TEST_TMPDIR/out" 2>&1 &
    local program=$! _
    for _ in $(seq 300); do
        [ -s "$BATS_TEST_TMPDIR/addr" ] && break
        sleep 0.1
    done
    local address credentials
    read -r address credentials < "$BATS_TEST_TMPDIR/addr"
    # Nothing of the cluster listens beyond 127.0.0.1.
    local helper tree
    helper=$(pgrep -f cluster/_local.py | head -1)
    tree="$(pgrep -P "$helper" | tr '\n' '|')$helper"
    run -0 ss -Hltnp
    run -0 awk -v pids="pid=($tree)," '$0 ~ pids { print $4 }' <<< "$output"
    refute_output --regexp '^(0\.0\.0\.0|\*|\[::\]):'
    assert_output --regexp '127\.0\.0\.1:'
    run -0 "${T[@]}" setpriv --reuid="$user" --regid="$user" --clear-groups \
        "$PYTHON" "$SCRIPTS/cluster_intruder.py" "$address" "$credentials"
    touch "$BATS_TEST_TMPDIR/done"
    wait "$program"
    userdel "$user"
    assert_output - <<'OUT'
plain tcp refused
tls without credentials refused
tls with credentials of its own refused
reading ca.pem refused
reading cert.pem refused
reading key.pem refused
OUT
    run cat "$BATS_TEST_TMPDIR/out"
    assert_output "[-1, -2]"
}

@test "a tls:// scheduler set up with Dask's own TLS configuration, as the README shows, runs the program's pools" {
    "$PYTHON" -c 'from distributed.security import Security
s = Security.temporary()
open("ca.pem", "w").write(s.tls_ca_file)
open("node.pem", "w").write(s.tls_client_cert + s.tls_client_key)'
    export DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION=True DASK_DISTRIBUTED__COMM__TLS__CA_FILE=$PWD/ca.pem \
        DASK_DISTRIBUTED__COMM__TLS__SCHEDULER__CERT=$PWD/node.pem DASK_DISTRIBUTED__COMM__TLS__WORKER__CERT=$PWD/node.pem \
        DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT=$PWD/node.pem
    start_cluster --tls "$BATS_TEST_TMPDIR/tls.json" "$CPMP" exec -- dask-worker
    assert_equal "${ADDR%%://*}" tls
    wait_for_workers 1
    cat > tls.py <<'PY'
import multiprocessing as mp
if __name__ == "__main__":
    k = 3
    with mp.Pool(1) as pool:
        print(pool.map(lambda x: x * k, range(4)))
PY
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$ADDR" tls.py
    assert_output "[0, 3, 6, 9]"
    # Without that configuration the same program cannot connect.
    run -1 --separate-stderr env -u DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT "${T[@]}" "$CPMP" run --quiet --cluster "$ADDR" tls.py
    assert_equal "$output" ""
}

@test "a local:2 cluster's spawned and forked children reach it with its credentials" {
    cat > children.py <<'PY'
import multiprocessing as mp
def child(q):
    with mp.Pool(1) as pool:
        q.put(pool.map(abs, [-1, -2]))
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(pool.map(lambda x: x + 1, range(2)))
    for method in ("spawn", "fork"):
        q = mp.get_context(method).Queue()
        p = mp.get_context(method).Process(target=child, args=(q,))
        p.start()
        print(method, q.get(timeout=60))
        p.join()
PY
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster local:2 children.py
    assert_output $'[1, 2]\nspawn [1, 2]\nfork [1, 2]'
}

@test "tasks run in a process of the pool's own whose parent is a worker: it has a variable only the workers have" {
    cat > where.py <<'PY'
import multiprocessing as mp, os
def where(_):
    parent = open("/proc/%d/environ" % os.getppid(), "rb").read().split(b"\0")
    return "yes" if b"CPMP_TEST_WORKER=yes" in parent else "here", os.getpid() != PARENT
PARENT = None
if __name__ == "__main__":
    PARENT = os.getpid()
    with mp.get_context("fork").Pool(2) as pool:
        print(sorted(set(pool.map(where, range(8)))))
PY
    run -0 "${T[@]}" "$CPMP" run where.py
    assert_output "[('here', True)]"
    run -0 "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" where.py
    assert_output "[('yes', True)]"
}

@test "cpmp exec --cluster runs an unmodified python3's lambdas there, and its children follow" {
    cat > child.py <<'PY'
import multiprocessing as mp, os
def worker():
    parent = open("/proc/%d/environ" % os.getppid(), "rb").read().split(b"\0")
    return "yes" if b"CPMP_TEST_WORKER=yes" in parent else "here"
def child(q):
    with mp.Pool(1) as pool:
        q.put(pool.map(lambda x: (x, worker()), range(2)))
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(pool.map(lambda x: worker(), range(2)))
    q = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=child, args=(q,))
    p.start()
    print(q.get(timeout=60))
    p.join()
PY
    run -0 --separate-stderr "${T[@]}" "$CPMP" exec --cluster "$SHARED" "$PYTHON" child.py
    assert_output $'[\'yes\', \'yes\']\n[(0, \'yes\'), (1, \'yes\')]'
    run -1 "${T[@]}" "$PYTHON" child.py
    assert_output --partial "Can't pickle"
}

# The pool processes the shared cluster's workers run now: their children
# running _child (in sessions of their own).
pool_processes() {
    local group pid
    read -r _ group < "$BATS_FILE_TMPDIR/pids"
    for pid in $(pgrep -g "$group"); do
        pgrep -P "$pid" -f 'cluster._child' || true
    done
}

# N: wait up to 10 s until the shared cluster runs N pool processes.
wait_for_pool_processes() {
    local _
    for _ in $(seq 100); do
        [ "$(pool_processes | wc -l)" -eq "$1" ] && return 0
        sleep 0.1
    done
    pool_processes | wc -l
    return 1
}

# CLUSTER CASE [ARGS...]: cluster_process.py's CASE, copied here, prints
# the same bytes on stdout and on stderr with python3 and with cpmp run
# --cluster CLUSTER.
same_as_python3() {
    local cluster=$1
    shift
    [ -e prog.py ] || cp "$SCRIPTS/cluster_process.py" prog.py
    "${T[@]}" "$PYTHON" prog.py "$@" > here.out 2> here.err || fail "python3 failed"
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$cluster" prog.py "$@"
    assert_output "$(cat here.out)"
    assert_equal "$stderr" "$(cat here.err)"
}

@test "two projects with a utils.py each, one after the other on one cluster: each runs its own, and an edited one as edited (issue 18, item 1)" {
    local p
    for p in a b; do
        mkdir "$p"
        echo "WHO = '$p'" > "$p/utils.py"
        cat > "$p/prog.py" <<'PY'
import multiprocessing as mp
def who(_):
    import utils
    return utils.WHO
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        print(sorted(set(pool.map(who, range(4)))))
PY
    done
    for p in a b a-edited; do
        [ "$p" = a-edited ] && p=a && echo "WHO = 'a, edited'" > a/utils.py
        run -0 "${T[@]}" "$PYTHON" "$p/prog.py"
        local here=$output
        run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" "$p/prog.py"
        assert_equal "$output" "$here"
    done
    assert_output "['a, edited']"
}

@test "a helper module's counter starts afresh in each pool and each program, as locally (issue 18, item 2)" {
    echo 'N = 0' > counter.py
    same_as_python3 "$SHARED" counter
    assert_output $'[1, 2, 3]\n[1, 2, 3]\n[1, 2, 3]'
    same_as_python3 "$SHARED" counter fork
    # nothing of those pools stays on the workers
    wait_for_pool_processes 0
}

@test "a program killed with SIGKILL: its pools' processes on the workers end within seconds" {
    cat > killed.py <<'PY'
import multiprocessing as mp, time
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        pool.map(time.sleep, [60, 60], chunksize=1)
PY
    "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" killed.py &
    local program=$!
    wait_for_pool_processes 2
    kill -KILL "$(pgrep -P "$program")" "$program" 2> /dev/null || true
    wait_for_pool_processes 0
    # and the workers serve the next program
    run -0 "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" -c 'import multiprocessing as mp
if __name__ == "__main__":
    with mp.Pool(2) as pool: print(pool.map(abs, [-1, -2], chunksize=1))'
    assert_output "[1, 2]"
}

@test "a pool made after os.chdir() and sys.path.insert() sees the new directory and path (issue 18, item 3)" {
    local d
    for d in one two; do
        mkdir "$d"
        echo "NAME = '$d'" > "$d/here.py"
    done
    same_as_python3 "$SHARED" chdir spawn "$PWD"
    assert_output $'[(\'one\', \'one\')]\n[(\'two\', \'two\')]'
    same_as_python3 local:2 chdir fork "$PWD"
}

@test "os.environ set in the main block before a pool is what its tasks see, on tcp and local:2 (issue 18, item 4)" {
    same_as_python3 "$SHARED" environ
    assert_output $'[\'default\']\n[\'first\']\n[\'second\']'
    same_as_python3 local:2 environ fork
}

@test "a fork pool has what the main block bound and mutated before it; what cannot go fails where a task reads it, in one line (issue 18, item 5)" {
    cp "$SCRIPTS/cluster_process.py" prog.py
    run -0 "${T[@]}" "$PYTHON" prog.py fork-state fork
    assert_line --index 0 "[(0, 'mutated in the main block', {}), (3, 'mutated in the main block', {}), (6, 'mutated in the main block', {}), (9, 'mutated in the main block', {})]"
    local here=${lines[0]}
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" prog.py fork-state fork
    assert_equal "${lines[0]}" "$here"
    assert_equal "${lines[1]}" "NameError: cpmp: the main module's 'LOCK' could not go to the Dask cluster with the pool (${lines[1]#*pool (}"
    assert_equal "${#lines[@]}" 2
    # spawn: what the script binds at its top level, as locally
    same_as_python3 "$SHARED" fork-state spawn
}

@test "a fork pool's main module is the program's as a forked process has it: one object under two names, a class's and a function's state, a deleted name" {
    same_as_python3 "$SHARED" fork-identity fork
    assert_output - <<'OUT'
(11, True, 20, [-1, 0], 'per item', ('k',), False)
(12, True, 20, [-1, 0, 1], 'per item', ('k',), False)
OUT
}

@test "what tasks log through a module-level logging.basicConfig reaches the program's stderr, every line, in every program (issue 18, item 6)" {
    same_as_python3 "$SHARED" logging fork
    assert_output 2004
    assert_equal "${#stderr_lines[@]}" 2004
    same_as_python3 "$SHARED" logging spawn
}

@test "tasks run in a main thread with real fds 0-2: signal.alarm, subprocess output, faulthandler, an executor in a task (issue 18, item 7)" {
    same_as_python3 "$SHARED" process-api fork
    assert_line "[True, True]"
    assert_line "[[4, 5], [6, 7]]"
    same_as_python3 local:2 process-api spawn
}

@test "a script without the __main__ guard runs as under fork: its top level once, its pool's tasks on the cluster (issue 18, item 7)" {
    cat > unguarded.py <<'PY'
import concurrent.futures as cf, multiprocessing as mp
print("top level", flush=True)
def double(x):
    return x * 2
with mp.Pool(2) as pool:
    print(pool.map(double, range(4)), flush=True)
with cf.ProcessPoolExecutor(2) as ex:
    print(list(ex.map(double, range(3))), flush=True)
print("end", flush=True)
PY
    run -0 --separate-stderr "${T[@]}" "$PYTHON" unguarded.py
    local here=$output
    assert_equal "${#lines[@]}" 4
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" unguarded.py
    assert_equal "$output" "$here"
    assert_equal "$stderr" ""
}

@test "a large array read by many tasks is kept once on the cluster, not sent with each; a change to it is sent (issue 18, item 10)" {
    "$PYTHON" -c 'import numpy' 2> /dev/null || skip "no numpy"
    cat > large.py <<'PY'
import multiprocessing as mp
import numpy as np
def first(args):
    data, i = args
    return float(data[i]), float(sum(data) if isinstance(data, bytearray) else data.sum())
if __name__ == "__main__":
    data = np.arange(5_000_000, dtype="f8")  # 40 MB
    with mp.Pool(2) as pool:
        print(sorted(set(r[1] for r in pool.map(first, [(data, i) for i in range(40)], chunksize=1))))
        data[0] = 7
        print(pool.apply(first, ((data, 0),)), pool.map(first, [(data[1:], 0), (bytearray(2 << 20), 0)]))
PY
    run -0 "${T[@]}" "$PYTHON" large.py
    local here=$output
    # 40 tasks each carrying it would be 1.6 GB; the client holds it about twice
    run -0 --separate-stderr "${T[@]}" /usr/bin/time -f "%M KB" "$CPMP" run --quiet --cluster "$SHARED" large.py
    assert_output "$here"
    local kb=${stderr##*$'\n'}
    kb=${kb% KB}
    [ "$kb" -lt 600000 ] || fail "the program used $kb KB"
}

@test "a task that kills its pool's process fails in one line, never hangs; the pool's next task gets a new process" {
    cat > die.py <<'PY'
import concurrent.futures as cf, multiprocessing as mp, os
def die(_):
    os.kill(os.getpid(), 9)
if __name__ == "__main__":
    with mp.Pool(1) as pool:
        try:
            pool.apply(die, (0,))
        except Exception as exc:
            print(type(exc).__name__, exc)
        print(pool.apply(abs, (-1,)))
    with cf.ProcessPoolExecutor(1) as ex:
        try:
            ex.submit(die, 0).result()
        except Exception as exc:
            print(type(exc).__name__, exc, "--", exc.__cause__)
PY
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" die.py
    assert_line --index 0 --regexp "^ClusterError the pool's process on worker tcp://127\.0\.0\.1:[0-9]+ was killed by signal 9 while it ran the task$"
    assert_line --index 1 "1"
    assert_line --index 2 --regexp "^BrokenProcessPool A process in the process pool was terminated abruptly while the future was running or pending\. -- the pool's process on worker .* was killed by signal 9 while it ran the task$"
}

@test "a task holding a Queue, Lock, Pipe or Manager proxy is refused in one line naming it; local ones still work" {
    run -0 "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" "$SCRIPTS/cluster_local_only.py"
    assert_line "local process"
    assert_line "apply: LocalOnlyError: cpmp: argument 1 holds a multiprocessing.queues.Queue, which works only on this machine: it cannot go to the Dask cluster (run without --cluster)"
    assert_line --partial "map: LocalOnlyError: cpmp: item 2 holds a multiprocessing.managers.ListProxy"
    assert_line --partial "closure: LocalOnlyError: cpmp: the function holds a multiprocessing.connection.Connection"
    assert_line --partial "initargs: LocalOnlyError: cpmp: initargs[0] holds a multiprocessing.synchronize.Lock"
    assert_line --partial "submit: LocalOnlyError: cpmp: argument x= holds a multiprocessing.synchronize.Event"
    assert_line "pool still works: [0, 1, 2]"
    assert_line "end"
}

# WORKERS PROCESSES: a Pool(PROCESSES) maps 8 items on a cluster of WORKERS
# worker processes, the task of item 3 killing its worker (the parent of
# its pool's process) the first time.
map_killing_a_worker() {
    cat > kill.py <<'PY'
import multiprocessing as mp, os, sys, time
def task(x):
    if x == 3 and not os.path.exists(sys.argv[1]):
        with open(sys.argv[1], "w") as f:
            f.write(str(os.getpid()))
        os.kill(os.getppid(), 9)
        time.sleep(30)
    time.sleep(0.1)
    return x * x
if __name__ == "__main__":
    with mp.Pool(int(sys.argv[2])) as pool:
        print(pool.map(task, range(8), chunksize=1))
PY
    start_cluster "$BATS_TEST_TMPDIR/s.json" "$CPMP" exec -- dask-worker --nworkers "$1"
    wait_for_workers "$1"
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$ADDR" kill.py \
        "$BATS_TEST_TMPDIR/killed" "$2"
    assert_output "[0, 1, 4, 9, 16, 25, 36, 49]"
    # the killed worker's pool process went with it (gone, or a zombie
    # where nothing reaps orphans)
    local pid _
    pid=$(cat "$BATS_TEST_TMPDIR/killed")
    for _ in $(seq 50); do
        if [ ! -e "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"; then
            break
        fi
        sleep 0.1
    done
    run grep -s '^State:' "/proc/$pid/status"
    refute_output --partial sleeping
}

@test "a worker killed in the middle of a task: Dask runs it again and the result is right" {
    map_killing_a_worker 2 2
}

@test "a Pool(1) whose worker is killed moves to the worker that replaces it, and the result is right" {
    map_killing_a_worker 1 1
}

@test "the scheduler lost in the middle of a run: pending calls raise at once, no hang" {
    start_cluster "$BATS_TEST_TMPDIR/s.json" "$CPMP" exec -- dask-worker --nworkers 1
    wait_for_workers 1
    cat > lost.py <<'PY'
import concurrent.futures as cf, multiprocessing as mp, time
if __name__ == "__main__":
    pool = mp.Pool(2)
    result = pool.map_async(time.sleep, [30] * 2, chunksize=1)
    future = cf.ProcessPoolExecutor(1).submit(time.sleep, 30)
    print("started", flush=True)
    start = time.monotonic()
    for wait in (result.get, future.result):
        try:
            wait(60)
        except Exception as exc:
            print(type(exc).__name__, str(exc).replace(PY_ADDR, "ADDR"), flush=True)
    print("within 20 s:", time.monotonic() - start < 20)
    try:
        mp.Pool(1)
    except Exception as exc:
        print(type(exc).__name__, str(exc).replace(PY_ADDR, "ADDR"), flush=True)
PY
    sed -i "s|PY_ADDR|'$ADDR'|" lost.py
    "${T[@]}" "$CPMP" run --quiet --cluster "$ADDR" lost.py > out 2>&1 &
    local program=$!
    for _ in $(seq 100); do
        grep -q started out && break
        sleep 0.1
    done
    kill -TERM -- "-${PIDS[0]}"
    wait "$program"
    run cat out
    assert_line "ClusterError lost the Dask scheduler at ADDR: the task did not finish"
    assert_line --partial "BrokenProcessPool A process in the process pool was terminated abruptly"
    assert_line "within 20 s: True"
    assert_line "ClusterError lost the Dask scheduler at ADDR: no new pool can start"
    refute_output --partial Traceback
}

@test "Ctrl-C on a tcp cluster: the program's running and pending tasks stop with it, and the workers serve the next program" {
    start_cluster "$BATS_TEST_TMPDIR/s.json" "$CPMP" exec -- dask-worker --nworkers 2
    wait_for_workers 2
    cat > long.py <<'PY'
import multiprocessing as mp, sys, time
def task(i):
    open("began-%d" % i, "w").close()
    time.sleep(8)
    open("ended-%d" % i, "w").close()
def spin(i):
    open("began-spin", "w").close()
    while True:
        pass
if __name__ == "__main__":
    with mp.Pool(int(sys.argv[1])) as pool:
        pool.map(spin if sys.argv[1] == "1" else task, range(4), chunksize=1)
PY
    local processes cluster _
    for cluster in "$ADDR:2" "$ADDR:1" local:2:2; do
        processes=${cluster##*:}
        cluster=${cluster%:*}
        rm -f began-* ended-*
        # SIGINT as a terminal's Ctrl-C sends it: once, to the process group
        # (a background job starts with it ignored: reset before exec)
        setsid "$PYTHON" -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$CPMP" run --quiet --cluster "$cluster" long.py "$processes" > out 2>&1 &
        local program=$!
        for _ in $(seq 150); do
            [ "$(find . -name 'began-*' | wc -l)" -ge "$((3 - processes))" ] && break
            sleep 0.1
        done
        kill -INT -- "-$program"
        local status=0
        wait "$program" || status=$?
        assert_equal "$status" 130
        sleep 10
        run find . -name 'ended-*'
        assert_output ""
        # the program's own KeyboardInterrupt, nothing of Dask's
        run cat out
        refute_output --partial distributed
        refute_output --partial tornado
        run -0 "${T[@]}" "$CPMP" run --quiet --cluster "$ADDR" "$SCRIPTS/cluster_semantics.py"
    done
    # the spinning task stopped too: its worker process is free again
    run -0 "${T[@]}" "$CPMP" run --quiet --cluster "$ADDR" -c 'import multiprocessing as mp
if __name__ == "__main__":
    with mp.Pool(2) as pool: print(pool.map(abs, [-1, -2], chunksize=1))'
    assert_output "[1, 2]"
}

@test "a plain dask-worker is refused at connect in one line saying how to start it" {
    start_cluster "$BATS_TEST_TMPDIR/s.json" dask-worker
    wait_for_workers 1
    run -1 --separate-stderr "${T[@]}" "$CPMP" run --cluster "$ADDR" "$SCRIPTS/cluster_semantics.py"
    assert_output ""
    assert_equal "${#stderr_lines[@]}" 1
    assert_regex "$stderr" "^cpmp: worker tcp://127\.0\.0\.1:[0-9]+ does not run cpmp \(.*\): start it with \`cpmp exec -- dask-worker $ADDR\`$"
}

@test "a worker with another cloudpickle is refused at connect, naming the worker" {
    mkdir fake
    echo 'import cloudpickle; cloudpickle.__version__ = "0.0.1"' > fake/sitecustomize.py
    PYTHONPATH=$PWD/fake start_cluster "$BATS_TEST_TMPDIR/s.json" "$CPMP" exec -- dask-worker
    wait_for_workers 1
    run -1 --separate-stderr "${T[@]}" "$CPMP" run --cluster "$ADDR" "$SCRIPTS/cluster_semantics.py"
    assert_regex "$stderr" "^cpmp: worker tcp://127\.0\.0\.1:[0-9]+ has cloudpickle 0\.0\.1, this program 2\.2\.0: install the same cloudpickle on both$"
}

@test "an unreachable scheduler: one line and exit 1; a bad address or none: exit 2 before the program runs" {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' > port
    run -1 --separate-stderr "${T[@]}" "$CPMP" run --cluster "tcp://127.0.0.1:$(cat port)" "$SCRIPTS/cluster_semantics.py"
    assert_equal "$stderr" "cpmp: cannot reach the Dask scheduler at tcp://127.0.0.1:$(cat port): Connection refused"
    assert_output ""
    local address
    for address in nowhere local:0; do
        run -2 --separate-stderr "${T[@]}" "$CPMP" run --cluster "$address" -c 'print("ran")'
        assert_equal "$stderr" "cpmp: --cluster: '$address' is not a cluster address: tcp://HOST:PORT, tls://HOST:PORT, HOST:PORT, local or local:N"
        assert_output ""
    done
    run -2 --separate-stderr "$CPMP" run --cluster
    [[ $stderr == *"--cluster needs an address"* ]]
    # a program that makes no pool never connects
    run -0 "${T[@]}" "$CPMP" run --cluster "tcp://127.0.0.1:$(cat port)" -c 'print("no pool")'
    assert_output "no pool"
}

@test "without Dask's distributed, --cluster says which package to install" {
    mkdir -p nodask/distributed
    echo 'raise ImportError("not installed here")' > nodask/distributed/__init__.py
    PYTHONPATH=$PWD/nodask run -1 --separate-stderr "${T[@]}" "$CPMP" run --cluster local:1 \
        "$SCRIPTS/cluster_semantics.py"
    assert_equal "$stderr" "cpmp: --cluster needs Dask's distributed, which this Python cannot import (not installed here): apt-get install python3-distributed"
}

@test "the dashboard link is printed once on stderr where the dashboard can be shown; --quiet hides it" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --cluster "$SHARED" "$SCRIPTS/cluster_semantics.py"
    if "$PYTHON" -c 'import bokeh' 2> /dev/null; then
        assert_equal "${#stderr_lines[@]}" 1
        assert_regex "$stderr" "^cpmp: Dask dashboard: http://127\.0\.0\.1:[0-9]+/status$"
    else
        # Without bokeh the scheduler's page only says that it needs it.
        assert_equal "$stderr" ""
    fi
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" "$SCRIPTS/cluster_semantics.py"
    assert_equal "$stderr" ""
}

@test "a successful run's stderr holds nothing of Dask's: no large-object warning for 1 MB arguments" {
    cat > big.py <<'PY'
import multiprocessing as mp, warnings
def size(b):
    return len(b)
if __name__ == "__main__":
    args = [b"x" * 1_000_000]
    try:
        import numpy
        args.append(numpy.zeros(1_000_000, dtype="u1"))
    except ImportError:
        args.append(bytearray(1_000_000))
    with mp.Pool(2) as pool:
        print(pool.apply(size, (args[0],)), pool.map(size, args))
    warnings.warn("the program's own")
PY
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster local:2 big.py
    assert_output "1000000 [1000000, 1000000]"
    assert_regex "$stderr" "^[^[:space:]]*/big\.py:[0-9]+: UserWarning: the program's own"$'\n'"  warnings.warn\(\"the program's own\"\)$"
}

@test "a task's exception prints the traceback python3 prints for a local pool: remote frames once, in the cause" {
    cat > fails.py <<'PY'
import concurrent.futures as cf, multiprocessing as mp, sys
def task(x):
    try:
        return 1 / x
    except ZeroDivisionError as e:
        raise ValueError("bad %r" % x) from e
if __name__ == "__main__":
    if sys.argv[1] == "pool":
        with mp.Pool(2) as pool:
            print(pool.map(task, [1, 0]))
    with cf.ProcessPoolExecutor(2) as ex:
        print(ex.submit(task, 0).result())
PY
    # The first remote frame is the worker's loop: multiprocessing's there, cpmp's here.
    local flavour loop='/^  File ".*", line [0-9]+, in (worker|_process_worker|_call)$/,+2d'
    for flavour in pool executor; do
        run -1 --separate-stderr "${T[@]}" "$PYTHON" fails.py "$flavour"
        local here=$stderr
        run -1 --separate-stderr "${T[@]}" "$CPMP" run --quiet --cluster local:2 fails.py "$flavour"
        assert_equal "$(sed -E "$loop" <<< "$stderr")" "$(sed -E "$loop" <<< "$here")"
        assert_equal "$(grep -c 'in task$' <<< "$stderr")" "$(grep -c 'in task$' <<< "$here")"
    done
}

@test "imap over an endless generator keeps a bounded number of tasks in flight" {
    cat > endless.py <<'PY'
import itertools, multiprocessing as mp
taken = []
def numbers():
    for i in itertools.count():
        taken.append(i)
        yield i
if __name__ == "__main__":
    with mp.Pool(2) as pool:
        it = pool.imap(lambda x: x * 2, numbers(), chunksize=5)
        print([next(it) for _ in range(20)])
        import time; time.sleep(1)
        print("taken at most", 5 * 16 + 20, len(taken) <= 5 * 16 + 20, len(taken))
PY
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --cluster local:1 endless.py
    assert_line "[0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38]"
    assert_line --partial "taken at most 100 True"
}

@test "cpmp doctor --cluster checks every worker for real, and names the fix for a plain one" {
    run -0 "${T[@]}" "$CPMP" doctor --cluster "$SHARED"
    assert_line --regexp "^  tcp://127\.0\.0\.1:[0-9]+ +Python 3\.[0-9.]+, cloudpickle 2\.2\.0, cpmp $CPMP_VERSION$"
    assert_line "  lambda round trip: ok"
    assert_line "ok: the cluster runs this program's pools"
    start_cluster "$BATS_TEST_TMPDIR/s.json" dask-worker
    wait_for_workers 1
    run -1 "${T[@]}" "$CPMP" doctor --cluster "$ADDR"
    assert_line --regexp "^problem: worker tcp://127\.0\.0\.1:[0-9]+ does not run cpmp .*; fix: start it with \`cpmp exec -- dask-worker $ADDR\`$"
    run -1 "${T[@]}" "$CPMP" doctor --json --cluster tcp://127.0.0.1:1
    assert_line '  "ok": false'
}

@test "a worker on another Python is refused with the Python it needs (the check itself: no Dask here runs another Python)" {
    run -0 "$PYTHON" -c '
import sys
sys.path.insert(0, sys.argv[1])
from cpmp.cluster import _checks as d
here = dict(d.here(), python="3.11.2")
for theirs in ("3.9.2", "3.11.7"):
    report = dict(here, python=theirs)
    print(d.problems_of("tcp://10.0.0.2:4000", report, here, "tcp://10.0.0.1:8786"))' "$CPMP_BUILD_ROOT/pyhook"
    assert_line "['worker tcp://10.0.0.2:4000 runs cpython 3.9.2, this program cpython 3.11.2: code does not travel between them; start it with \`cpmp exec -- dask-worker tcp://10.0.0.1:8786\` under Python 3.11']"
    assert_line "[]"
}

@test "a worker with four threads runs one task at a time, as a local pool's process does" {
    cat > scratch.py <<'PY'
import multiprocessing as mp, time
SCRATCH = []  # not thread-safe: fine in a pool's process, one task at a time
def task(x):
    SCRATCH.append(x)
    time.sleep(0.02)
    mine = list(SCRATCH)
    SCRATCH.clear()
    return mine == [x]
if __name__ == "__main__":
    with mp.Pool(4) as pool:
        print(all(pool.map(task, range(40), chunksize=1)))
PY
    start_cluster "$BATS_TEST_TMPDIR/s.json" "$CPMP" exec -- dask-worker --nthreads 4
    wait_for_workers 1
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --cluster "$ADDR" scratch.py
    assert_output "True"
    run -0 "${T[@]}" "$CPMP" doctor --cluster "$ADDR"
    assert_line --regexp "^note: tcp://127\.0\.0\.1:[0-9]+ runs several threads, and cpmp one task at a time"
}

@test "a Pool(1) or ProcessPoolExecutor(1) keeps to one worker process and runs its tasks in order, as locally" {
    cat > order.py <<'PY'
import concurrent.futures as cf, multiprocessing as mp, os
SEEN = []
def note(x):
    SEEN.append(x)
    return list(SEEN), os.getpid()
if __name__ == "__main__":
    with cf.ProcessPoolExecutor(1) as ex:
        got = [f.result() for f in [ex.submit(note, i) for i in range(10)]]
        print([seen for seen, _ in got][-1], len({pid for _, pid in got}))
        print(list(ex.map(note, range(10, 13)))[-1][0])
    with mp.Pool(1) as pool:
        got = pool.map(note, range(8), chunksize=1)
        print(got[-1][0], len({pid for _, pid in got}))
PY
    run -0 "${T[@]}" "$CPMP" run order.py
    local here=$output
    assert_line "[0, 1, 2, 3, 4, 5, 6, 7] 1"
    run -0 "${T[@]}" "$CPMP" run --quiet --cluster "$SHARED" order.py
    assert_equal "$output" "$here"
}

@test "generated programs give on the cluster what the model says for spawn workers" {
    # tests/differential.py's programs (fixed seed, 120 per start method),
    # each pool's tasks on the cluster; a Process stays here.
    run -0 "${T[@]}" "$PYTHON" "$BATS_TEST_DIRNAME/differential.py" "$CPMP" "$PYTHON" \
        "$BATS_TEST_TMPDIR" 20261129 120 --cluster "$SHARED"
    assert_output "360 programs on the cluster: all as the model says for spawn"
}
