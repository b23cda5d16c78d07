#!/usr/bin/env bats
# Start-up as python3 does it: sitecustomize, usercustomize and .pth files
# run once each, in python3's order; python3's isolation flags mean what
# they mean to python3.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    export SITELOG="$PWD/site.log"
    # A user site (PYTHONUSERBASE) with a .pth file that runs code and adds
    # a directory, a usercustomize, and a sitecustomize on PYTHONPATH.
    export PYTHONUSERBASE="$PWD/userbase"
    local user_site
    user_site=$("$PYTHON" -c 'import site; print(site.getusersitepackages())')
    mkdir -p "$user_site" extra custom
    printf '%s\n' "$PWD/extra" \
        'import os; open(os.environ["SITELOG"], "a").write("pth %d\n" % os.getpid())' > "$user_site/cpmp-test.pth"
    printf '%s\n' 'import os; open(os.environ["SITELOG"], "a").write("usercustomize %d\n" % os.getpid())' > "$user_site/usercustomize.py"
    printf '%s\n' 'import os; open(os.environ["SITELOG"], "a").write("sitecustomize %d\n" % os.getpid())' > custom/sitecustomize.py
    export PYTHONPATH="$PWD/custom"
}

# Each process's hooks in the order they ran, one line per process, sorted
# (processes start concurrently); other lines as they are.
normalized() {
    awk '/^[a-z]+ [0-9]+$/ { seq[$2] = seq[$2] " " $1; next } { print }
         END { for (pid in seq) print "process:" seq[pid] | "sort" }'
}

@test "sitecustomize, usercustomize and .pth files run once per process, in python3's order" {
    run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/sitelog.py"
    local expected
    expected=$(normalized <<< "$output")
    # The program, its spawn worker and multiprocessing's resource tracker:
    # the three hooks once each, .pth first.
    assert_equal "$(grep -c '^process: pth sitecustomize usercustomize$' <<< "$expected")" 3
    assert_equal "$(grep -c '^process:' <<< "$expected")" 3
    rm "$SITELOG"
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/sitelog.py" lambda
    assert_equal "$(normalized <<< "$output")" "$expected"
    rm "$SITELOG"
    run -0 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/sitelog.py" lambda
    assert_equal "$(normalized <<< "$output")" "$expected"
}

@test "a sitecustomize that imported all of multiprocessing still ends up patched, under run and exec" {
    echo 'import multiprocessing, multiprocessing.pool, multiprocessing.queues, concurrent.futures' > custom/sitecustomize.py
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    run -0 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/capabilities.py" forkserver local-class
    assert_output "local-class ([2, 4], [Scaler(4), Scaler(5)])"
    run -0 "${T[@]}" "$CPMP" run -c 'import cpmp, multiprocessing.queues as q, multiprocessing.reduction as r
print(cpmp.is_patched(), q._ForkingPickler is r.ForkingPickler, "reducer_override" in vars(r.ForkingPickler))'
    assert_output "True True True"
}

@test "-I -E -s -S -P -B -X mean to cpmp run what they mean to python3" {
    local code='import sys; print(sys.flags, sys.path, sys._xoptions, sys.dont_write_bytecode, "site" in sys.modules, sys.getfilesystemencoding())'
    local flags
    for flags in "" -I -E -s -S -P -B "-X utf8" "-X dev -X importtime=0" "-I -S" "-E -s -P"; do
        # shellcheck disable=SC2086
        run -0 --separate-stderr "${T[@]}" "$PYTHON" $flags -c "$code"
        local expected=$output
        # shellcheck disable=SC2086
        run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet $flags -c "$code"
        assert_equal "$output" "$expected"
        # And the hooks run exactly when python3 runs them.
        rm -f "$SITELOG"
        # shellcheck disable=SC2086
        "$PYTHON" $flags -c pass
        expected=$(normalized < "$SITELOG" 2> /dev/null || true)
        rm -f "$SITELOG"
        # shellcheck disable=SC2086
        "$CPMP" run --quiet $flags -c pass
        assert_equal "$(normalized < "$SITELOG" 2> /dev/null || true)" "$expected"
    done
}

@test "with each flag a lambda still goes to spawn workers, and children keep the flag" {
    local flag
    for flag in -I -E -s -S -P -B "-X utf8"; do
        # shellcheck disable=SC2086
        run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet $flag -c 'import sys, multiprocessing as mp
with mp.get_context("spawn").Pool(1) as p:
    print(p.apply(lambda: str(sys.flags)) == str(sys.flags), p.apply(lambda x: x * 2, (21,)))'
        assert_output "True 42"
    done
}

@test "a flag that hides cloudpickle is said in one line; the program still runs" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" run -S "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" "cpmp: cloudpickle is not reachable with -S (no site-packages): lambdas, closures and nested functions still travel, local classes cannot"
    run -0 --separate-stderr "${T[@]}" "$CPMP" run -I -S -c 'print("ran")'
    assert_output "ran"
    assert_equal "$stderr" "cpmp: cloudpickle is not reachable with -S (no site-packages): lambdas, closures and nested functions still travel, local classes cannot"
    # Said once: not again by the spawned workers, which inherit -S.
    run -0 --separate-stderr "${T[@]}" "$CPMP" run -S "$SCRIPTS/capabilities.py" spawn return-lambda
    assert_equal "$(grep -c 'not reachable' <<< "$stderr")" 1
    # Where cloudpickle stays reachable, nothing is said.
    run -0 --separate-stderr "${T[@]}" "$CPMP" run -I -E -s -c 'print("ran")'
    assert_equal "$stderr" ""
    run -0 --separate-stderr "${T[@]}" "$CPMP" run --quiet -S -c 'print("ran")'
    assert_equal "$stderr" ""
}
