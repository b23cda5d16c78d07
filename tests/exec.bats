#!/usr/bin/env bats
# libcpmp_preload.so, cpmp exec and cpmp env: every CPython 3.8+ process
# under a command is patched, unmodified; everything else runs untouched.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    # The library, after the sanitizer runtimes it needs in an ASan build.
    PRELOAD="$CPMP_PRELOAD"
}


@test "a shell script whose two python3 processes both map lambdas runs patched under cpmp exec" {
    cat > pipeline.sh <<SH
#!/bin/sh
"$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
"$PYTHON" "$SCRIPTS/capabilities.py" fork closure
SH
    chmod +x pipeline.sh
    run -0 "${T[@]}" "$CPMP" exec ./pipeline.sh
    assert_output $'lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\nclosure [3, 6, 9]'
    run "${T[@]}" ./pipeline.sh
    assert_failure
}

@test "with LD_PRELOAD alone, a spawn Pool's workers return closures" {
    LD_PRELOAD="$PRELOAD" run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/capabilities.py" spawn return-lambda
    assert_output "return-lambda (2, 10)"
}

@test "eval \"\$(cpmp env)\" patches the python3 processes that follow" {
    run -0 "$CPMP" env
    assert_output "export LD_PRELOAD='$PRELOAD'"
    eval "$output"
    run -0 "${T[@]}" "$PYTHON" "$SCRIPTS/capabilities.py" forkserver executor
    assert_output "executor [3, 6, 9]"
}

@test "interpreters started by subprocess, and their spawn children, are patched" {
    run -0 "${T[@]}" "$CPMP" exec "$PYTHON" -c 'import subprocess, sys
print(subprocess.run([sys.executable, sys.argv[1], "spawn", "grandchild"], capture_output=True, text=True).stdout.strip())' "$SCRIPTS/capabilities.py"
    assert_output "grandchild ([-1, -2, -3], 0)"
}

@test "ls and bash print byte-identical output, and nothing else, with and without the library" {
    mkdir -p tree/a && touch tree/a/f tree/g
    local plain preloaded
    plain=$(ls -la --time-style=+ tree; bash -c 'echo "$0 $#"; type cd' x 2>&1)
    preloaded=$(LD_PRELOAD="$PRELOAD" ls -la --time-style=+ tree; LD_PRELOAD="$PRELOAD" bash -c 'echo "$0 $#"; type cd' x 2>&1)
    assert_equal "$preloaded" "$plain"
    run -0 --separate-stderr "$CPMP" exec ls tree
    assert_output $'a\ng'
    assert_equal "$stderr" ""
}

@test "the exit status is the command's; unknown gives 127, not executable 126, no command 2" {
    run -3 "$CPMP" exec -- sh -c 'exit 3'
    run -127 --separate-stderr "$CPMP" exec no-such-command-here
    assert_equal "$stderr" "cpmp: no-such-command-here: command not found"
    touch not-executable
    run -126 --separate-stderr "$CPMP" exec ./not-executable
    assert_equal "$stderr" "cpmp: ./not-executable: Permission denied"
    run -2 --separate-stderr "$CPMP" exec
    assert_equal "$stderr" "cpmp: exec needs a command (see 'cpmp exec --help')"
    run -2 --separate-stderr "$CPMP" env extra
    assert_equal "$stderr" "cpmp: env takes only cpmp options (see 'cpmp env --help')"
}

@test "cpmp env with options also exports those settings, for the processes that follow" {
    run -0 "$CPMP" env --cluster tcp://10.1.2.3:8786 --by-value=json
    assert_line --index 0 "export LD_PRELOAD='$CPMP_PRELOAD'"
    assert_line "export CPMP_CLUSTER='tcp://10.1.2.3:8786'"
    assert_line "export CPMP_BY_VALUE='json'"
    eval "$output"
    run -0 "${T[@]}" "$PYTHON" -c 'import os; print(os.environ["CPMP_CLUSTER"])'
    assert_output "tcp://10.1.2.3:8786"
}

@test "cpmp exec puts the library first in LD_PRELOAD, keeps the others and never adds it twice" {
    local other="$BATS_TEST_TMPDIR/other.so"
    cp /lib/x86_64-linux-gnu/libm.so.6 "$other"  # any harmless library
    LD_PRELOAD="$other $PRELOAD" run -0 "$CPMP" exec sh -c 'echo "$LD_PRELOAD"'
    assert_output "$PRELOAD:$other"
    LD_PRELOAD="$PRELOAD" run -0 "$CPMP" exec "$CPMP" exec sh -c 'echo "$LD_PRELOAD"'
    assert_output "$PRELOAD"
}

@test "the library is found by absolute path, whatever the current directory holds" {
    mkdir -p launcher preload pyhook/cpmp
    echo 'raise SystemExit("the current directory was trusted")' > pyhook/cpmp/__init__.py
    run -0 "$CPMP_BUILD_ROOT/launcher/../launcher/cpmp" env
    assert_output "export LD_PRELOAD='$PRELOAD'"
    run -0 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/capabilities.py" fork lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
}

@test "a set-user-ID command is run with a note that it stays unpatched, unless it runs as its caller" {
    cp /bin/true suid-true
    chown nobody suid-true
    chmod u+s suid-true
    run -0 --separate-stderr "$CPMP" exec ./suid-true
    assert_equal "$stderr" "cpmp: ./suid-true is set-user/group-ID: the dynamic loader ignores LD_PRELOAD for it, so it runs unpatched"
    # Set-user-ID to its caller: nothing changes hands, the loader preloads, and cpmp says nothing.
    [ "$(id -u)" -eq 0 ] || skip "needs root to make a set-user-ID-root copy"
    cp "$(realpath "$PYTHON")" suid-python
    chmod u+s suid-python
    run -0 --separate-stderr "${T[@]}" "$CPMP" exec ./suid-python "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" ""
}

@test "CPMP_DISABLE=1 turns the library off" {
    CPMP_DISABLE=1 run "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
    assert_failure
    assert_output --partial "Can't pickle local object"
}

@test "cpmp run under the preloaded library patches once" {
    LD_PRELOAD="$PRELOAD" run -0 "${T[@]}" "$CPMP" run -c 'import sys, cpmp
print(sum(type(f).__name__ == "_ArmedFinder" for f in sys.meta_path), cpmp.is_patched())'
    assert_output "1 True"
}

@test "an interpreter that cannot import cloudpickle still maps lambdas, and a local class fails with one clear line" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" exec "$PYTHON" -S "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    assert_equal "$stderr" ""
    run "${T[@]}" "$CPMP" exec "$PYTHON" -I -S "$SCRIPTS/capabilities.py" spawn local-class
    assert_failure
    assert_output --partial "cpmp: sending a class by value needs cloudpickle, which this Python cannot import (apt-get install python3-cloudpickle)"
}

@test "a cpmp package that fails to load leaves the process unpatched, with one warning line" {
    broken_install
    local lib
    lib=$(find "$BATS_TEST_TMPDIR/inst" -name libcpmp_preload.so)
    lib="${CPMP_SANITIZER_PRELOAD:+$CPMP_SANITIZER_PRELOAD:}$lib"
    LD_PRELOAD="$lib" run -0 --separate-stderr "${T[@]}" "$PYTHON" -c 'print("ran")'
    assert_output "ran"
    assert_equal "$stderr" "cpmp: not active, running unpatched: broken on purpose"
    CPMP_QUIET=1 LD_PRELOAD="$lib" run -0 --separate-stderr "${T[@]}" "$PYTHON" -c 'print("ran")'
    assert_equal "$stderr" ""
}

# --- the compatibility matrix: one library for every CPython 3.8 to 3.13 ---

matrix() { # VERSION
    local py
    pyenv_python "$1"
    for m in fork spawn; do
        for c in lambda return-lambda local-class; do
            PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec "$py" "$SCRIPTS/capabilities.py" $m $c
            case $c in
                lambda) assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]" ;;
                return-lambda) assert_output "return-lambda (2, 10)" ;;
                local-class) assert_output "local-class ([2, 4], [Scaler(4), Scaler(5)])" ;;
            esac
        done
        # What a lambda sees, in class bodies and through the dict API too
        # (each version reads globals and builtins its own way), and
        # identity under fork.
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec "$py" "$SCRIPTS/namespace.py" class-body $m
        assert_output "[(9.425, 8.155, True, 4)] 3"
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec "$py" "$SCRIPTS/namespace.py" internals $m
        assert_output "('[3]', [3, 4], ['w3'], True)"
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec "$py" "$SCRIPTS/exact.py" $m loop-lambda
        assert_output "[0, 1, 2] [1, 2, 3] [2, 3, 4] [3, 4, 5] "
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec "$py" "$SCRIPTS/exact.py" $m init-rebind
        assert_output "(['set', 'set'], ['set', 'set'])"
    done
    PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec "$py" "$SCRIPTS/exact.py" fork identity
    assert_output "(True, True, True, (True, True), 42, True)"
    run "$py" "$SCRIPTS/capabilities.py" spawn lambda
    assert_failure
}

@test "CPython 3.8 (pyenv, shared libpython): fork and spawn send lambdas, closures, local classes, exactly" { matrix 3.8; }
@test "CPython 3.9 (pyenv, shared libpython): fork and spawn send lambdas, closures, local classes, exactly" { matrix 3.9; }
@test "CPython 3.10 (pyenv, shared libpython): fork and spawn send lambdas, closures, local classes, exactly" { matrix 3.10; }
@test "CPython 3.11 (pyenv, shared libpython): fork and spawn send lambdas, closures, local classes, exactly" { matrix 3.11; }
@test "CPython 3.12 (pyenv, shared libpython): fork and spawn send lambdas, closures, local classes, exactly" { matrix 3.12; }
@test "CPython 3.13 (pyenv, shared libpython): fork and spawn send lambdas, closures, local classes, exactly" { matrix 3.13; }

@test "Python 2.7, 3.6 and 3.7 run exactly as without the library" {
    local py v
    for v in 2.7 3.6 3.7; do
        pyenv_python $v
        run -0 --separate-stderr "$py" -c 'import sys; print(sys.version_info[:2], "cpmp" in sys.modules, len(sys.meta_path))'
        local want=$output
        run -0 --separate-stderr "$CPMP" exec "$py" -c 'import sys; print(sys.version_info[:2], "cpmp" in sys.modules, len(sys.meta_path))'
        assert_equal "$output" "$want"
        assert_equal "$stderr" ""
    done
}

@test "python3 -X dev, PYTHONDEVMODE and PYTHONMALLOC=debug run patched and exit cleanly, on every CPython 3.8-3.13" {
    local v
    for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
        pyenv_python $v
        for how in "-X dev" "-IX dev" "-E -X dev"; do
            # shellcheck disable=SC2086  # $how is options
            PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec "$py" $how "$SCRIPTS/capabilities.py" spawn lambda
            assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
        done
        for env in PYTHONDEVMODE=1 PYTHONMALLOC=debug PYTHONMALLOC=malloc_debug PYTHONMALLOC=pymalloc_debug PYTHONMALLOC=malloc; do
            run -0 env "$env" "${T[@]}" "$CPMP" exec "$py" -c 'print("ok")'
            assert_output "ok"
        done
    done
}

@test "a relative LD_PRELOAD keeps working in children started after a chdir" {
    cd "$CPMP_BUILD_ROOT" || return
    local rel
    rel=$(realpath --relative-to="$PWD" "$CPMP_BUILD_ROOT/preload/libcpmp_preload.so")
    LD_PRELOAD="${CPMP_SANITIZER_PRELOAD:+$CPMP_SANITIZER_PRELOAD:}$rel" run -0 "${T[@]}" "$PYTHON" -c 'import multiprocessing as mp, os
if __name__ == "__main__":
    os.chdir("/")
    with mp.get_context("spawn").Pool(1) as p:
        print(p.map(lambda x: x + 1, [1]), os.environ["LD_PRELOAD"].split(":")[-1])'
    assert_output "[2] $(realpath "$CPMP_BUILD_ROOT/preload/libcpmp_preload.so")"
}

@test "a program built with AddressSanitizer runs under cpmp exec as without it" {
    command -v gcc > /dev/null || skip "no C compiler"
    printf '#include <stdio.h>\n#include <stdlib.h>\nint main(void) { char *p = malloc(4); p[0] = 7; printf("%%d %%s\\n", p[0], getenv("ASAN_OPTIONS")); free(p); return 3; }\n' > prog.c
    local cc=(gcc -fsanitize=address)
    # A sanitized cpmp preloads its own ASan runtime; a process holds one.
    if [[ $CPMP_SANITIZER_PRELOAD == *libclang_rt.* ]]; then
        read -ra cc <<< "$CPMP_CC"
        cc+=(-fsanitize=address -shared-libsan "-Wl,-rpath,${CPMP_SANITIZER_PRELOAD%/*}")
    fi
    "${cc[@]}" -o asan-prog prog.c
    if [ -z "$CPMP_SANITIZER_PRELOAD" ]; then
        # A build without sanitizers adds no ASAN_OPTIONS: the user's own
        # lets ASan accept a library preloaded ahead of its runtime.
        ASAN_OPTIONS=verify_asan_link_order=0 run -3 "$CPMP" exec ./asan-prog
        assert_output "7 verify_asan_link_order=0"
        return
    fi
    run -3 env -u ASAN_OPTIONS "$CPMP" exec ./asan-prog
    assert_output "7 verify_asan_link_order=0"
    # An ASAN_OPTIONS of the user's is kept, the check added once.
    ASAN_OPTIONS=detect_leaks=0 run -3 "$CPMP" exec ./asan-prog
    assert_output "7 detect_leaks=0:verify_asan_link_order=0"
}

new_python() { # DIR VERSION: lambdas, closures, local and annotated classes under each start method, threads sending at once
    local method
    opt_python "$1" "$2"
    for method in "${METHODS[@]}"; do
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec -- "$py" "$SCRIPTS/new_pythons.py" "$method"
        assert_output "[3, 6] 2 1 [2] [4]"
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" run --python "$py" "$SCRIPTS/new_pythons.py" "$method"
        assert_output "[3, 6] 2 1 [2] [4]"
    done
    for _ in 1 2 3 4 5; do
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" exec -- "$py" "$SCRIPTS/first_sends.py"
        assert_output "32 of 32 threads got their class back
the program's own import: the one module"
    done
}

@test "CPython 3.14 (forkserver by default) sends lambdas and local classes under exec and run" {
    new_python py314 3.14
    # Its default start method, which python3 alone cannot use with a lambda.
    run -0 "${T[@]}" "$CPMP" exec -- "$py" -c 'import multiprocessing as mp
with mp.Pool(1) as p: print(mp.get_start_method(), p.map(lambda x: x + 1, [1]))'
    assert_output "forkserver [2]"
}

@test "CPython 3.15: a local dataclass and an annotated local class reach the workers" {
    new_python py315 3.15
}

@test "free-threaded CPython 3.14t runs the pure-Python path, and gives the same answers" {
    new_python py314t 3.14t
    run -0 "${T[@]}" "$CPMP" exec -- "$py" -c 'import cpmp.core._reduce as r; print(r.SPEEDUPS_PROBLEM)'
    assert_output "kept out by a free-threaded Python (the C is built for the GIL's stable ABI)"
}
