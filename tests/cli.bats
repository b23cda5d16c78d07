#!/usr/bin/env bats
# The launcher behaves exactly as python3 with the same arguments, and its
# own command line fails cleanly.

load test_helper

same_as_python() { # ARGS...: same stdout, stderr and status as the stock interpreter
    local input="${STDIN_FILE:-/dev/null}"
    run --separate-stderr "${T[@]}" "$PYTHON" "$@" < "$input"
    local want_status=$status want_out=$output want_err=$stderr
    run --separate-stderr "${T[@]}" "$CPMP" run "$@" < "$input"
    assert_equal "$status" "$want_status"
    assert_equal "$output" "$want_out"
    assert_equal "$stderr" "$want_err"
}

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    cat > show.py <<'PY'
import sys
print(sys.argv, sys.path[0], __name__, __file__, sys.stdin.read())
PY
}

@test "a script sees the same sys.argv, sys.path[0], __name__, __file__ and stdin as under python3" {
    echo "from stdin" > input.txt
    STDIN_FILE=input.txt same_as_python show.py one 'two words'
    assert_output "['show.py', 'one', 'two words'] $BATS_TEST_TMPDIR __main__ $BATS_TEST_TMPDIR/show.py from stdin"
}

@test "-c, -m and - (stdin) programs get python3's sys.argv and sys.path[0]" {
    same_as_python -c 'import sys; print(sys.argv, repr(sys.path[0]))' a b
    assert_output "['-c', 'a', 'b'] ''"
    mkdir -p pkg && echo 'import sys; print(sys.argv[1:], __name__)' > pkg/tool.py
    same_as_python -m pkg.tool x
    assert_output "['x'] __main__"
    run -0 "${T[@]}" "$CPMP" run - arg <<< 'import sys; print(sys.argv)'
    assert_output "['-', 'arg']"
}

@test "python3 options keep their meaning (-I, -O, -X, -W, -u)" {
    same_as_python -I -O -X utf8 -W error -u -c 'import sys; print(sys.flags.isolated, sys.flags.optimize, sys.flags.utf8_mode, sys.warnoptions)'
    assert_output "1 1 1 ['error']"
}

@test "sys.exit(7) exits 7 and an uncaught exception prints python3's traceback and exits 1" {
    same_as_python -c 'import sys; sys.exit(7)'
    assert_equal "$status" 7
    printf 'def boom():\n    raise ValueError("bad")\nboom()\n' > boom.py
    same_as_python boom.py
    assert_equal "$status" 1
    assert_equal "${stderr_lines[-1]}" "ValueError: bad"
}

@test "SIGINT ends the program like python3: KeyboardInterrupt traceback and status 130" {
    same_as_python -c 'import os, signal; os.kill(os.getpid(), signal.SIGINT)'
    assert_equal "$status" 130
    assert_equal "${stderr_lines[-1]}" "KeyboardInterrupt"
}

@test "a script that does not exist fails as python3 does (status 2), in a line that starts 'cpmp run:'" {
    run -2 --separate-stderr "${T[@]}" "$PYTHON" no-such-file.py
    run -2 --separate-stderr "${T[@]}" "$CPMP" run no-such-file.py
    assert_equal "$stderr" "cpmp run: can't open file '$BATS_TEST_TMPDIR/no-such-file.py': [Errno 2] No such file or directory"
    # python3's usage line too, and its children still name the python3 link.
    run -2 --separate-stderr "${T[@]}" "$CPMP" run -Z
    assert_equal "${stderr_lines[1]}" "usage: cpmp run [option] ... [-c cmd | -m mod | file | -] [arg] ..."
    run -0 "${T[@]}" "$CPMP" run -c 'import subprocess, sys; subprocess.run([sys.executable, "no-such-file.py"])'
    assert_output "$CPMP_BUILD_ROOT/launcher/python3: can't open file '$BATS_TEST_TMPDIR/no-such-file.py': [Errno 2] No such file or directory"
}

@test "sys.executable starts a patched interpreter of the same Python with the same sys.path" {
    run -0 "${T[@]}" "$CPMP" run -c 'import subprocess, sys
code = "import sys, cpmp; print(cpmp.is_patched(), sys.version, sys.path[1:])"
print(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip())
exec(code)'
    assert_equal "${#lines[@]}" 2
    assert_equal "${lines[0]}" "${lines[1]}"
    assert_line --index 0 --partial "True $("$PYTHON" -c 'import sys; print(sys.version)')"
}

@test "cpmp --help prints usage and exits 0" {
    run -0 "$CPMP" --help
    assert_line --index 0 --partial "usage: cpmp run"
    assert_output --partial "CPMP_DISABLE"
}

@test "cpmp --version names cpmp, Python and cloudpickle" {
    run -0 "$CPMP" --version
    assert_line --index 0 --regexp '^cpmp [0-9]+\.[0-9]+\.[0-9]+$'
    assert_line --index 1 --regexp '^Python 3\.[0-9]+\.[0-9]+ '
    assert_line --index 2 --regexp '^cloudpickle [0-9]+\.'
}

@test "usage errors exit 2 with one line" {
    run -2 --separate-stderr "$CPMP"
    assert_equal "${stderr_lines[0]}" "usage: cpmp run [CPMP-OPTION...] [PYTHON-OPTION...] [SCRIPT | -m MODULE | -c CODE | -] [ARG...]"
    run -2 --separate-stderr "$CPMP" frobnicate
    assert_equal "$stderr" "cpmp: unknown command 'frobnicate' (see 'cpmp --help')"
    run -2 --separate-stderr "$CPMP" --frobnicate
    assert_equal "$stderr" "cpmp: unknown option '--frobnicate' (see 'cpmp --help')"
    run -2 --separate-stderr "$CPMP" exec --frobnicate
    assert_equal "$stderr" "cpmp: exec: unknown option '--frobnicate' (a command starting with '-' goes after '--')"
    run -2 --separate-stderr "$CPMP" env --frobnicate
    assert_equal "$stderr" "cpmp: env: unknown option '--frobnicate' (see 'cpmp env --help')"
    run -2 --separate-stderr "$CPMP" env frobnicate
    assert_equal "$stderr" "cpmp: env takes only cpmp options (see 'cpmp env --help')"
    run -0 "$CPMP" exec --help
    assert_line --index 0 "usage: cpmp exec [CPMP-OPTION...] [--] COMMAND [ARG...]"
    run -2 --separate-stderr "$CPMP" run -Z
    assert_output ""
    assert_equal "${stderr_lines[0]}" "Unknown option: -Z"
    for args in "run --cluster" "run --cluster= -c pass" "exec --cluster"; do
        # shellcheck disable=SC2086  # the words of $args are the arguments
        run -2 --separate-stderr "$CPMP" $args
        assert_equal "$stderr" "cpmp: --cluster needs an address: tcp://HOST:PORT, tls://HOST:PORT, HOST:PORT, local or local:N (see 'cpmp --help')"
    done
    # A long option before the program that neither cpmp nor python3 knows.
    run -2 --separate-stderr "$CPMP" run --tarce -c 'print("ran")'
    assert_equal "$stderr" "cpmp: run: unknown option '--tarce' (did you mean '--trace'?)"
    assert_output ""
    run -2 --separate-stderr "$CPMP" run -X dev --frobnicate -c 'print("ran")'
    assert_equal "$stderr" "cpmp: run: unknown option '--frobnicate' (see 'cpmp run --help')"
    # exec and env suggest too, with or without a value.
    run -2 --separate-stderr "$CPMP" exec --tarce -- "$PYTHON" -c 'print("ran")'
    assert_equal "$stderr" "cpmp: exec: unknown option '--tarce' (did you mean '--trace'?)"
    run -2 --separate-stderr "$CPMP" env --by-valeu=json
    assert_equal "$stderr" "cpmp: env: unknown option '--by-valeu=json' (did you mean '--by-value'?)"
    assert_output ""
    # After the program, every argument is the program's.
    run -0 "$CPMP" run -c 'import sys; print(sys.argv[1:])' --tarce --help
    assert_output "['--tarce', '--help']"
}

@test "cpmp run --help, env --help and cpmp help COMMAND describe cpmp's own options and exit 0" {
    run -0 "$CPMP" run --help
    assert_line --index 0 --partial "usage: cpmp run"
    assert_output --partial "--trace[=FILE]"
    local help=$output
    run -0 "$CPMP" help run
    assert_output "$help"
    run -0 "$CPMP" run --quiet -h
    assert_output "$help"
    run -0 "$CPMP" env --help
    assert_line --index 0 "usage: cpmp env [CPMP-OPTION...]"
    run -0 "$CPMP" help exec
    assert_line --index 0 "usage: cpmp exec [CPMP-OPTION...] [--] COMMAND [ARG...]"
    run -0 "$CPMP" help
    assert_line --index 0 --partial "usage: cpmp run"
}

@test "every cpmp option with a value takes --opt=VALUE, and a flag given a value stops with one line" {
    run -0 "${T[@]}" "$CPMP" run --by-value=json --cluster=local:2 --python="$PYTHON" --trace="$BATS_TEST_TMPDIR/t" \
        -c 'import os; print(*(os.environ[k] for k in ("CPMP_BY_VALUE", "CPMP_CLUSTER", "CPMP_TRACE")))'
    assert_output "json local:2 $BATS_TEST_TMPDIR/t"
    for command in "run -c pass" "exec -- true" "env"; do
        # shellcheck disable=SC2086  # the words of $command are the arguments
        run -2 --separate-stderr "$CPMP" ${command%% *} --disable=1 ${command#* }
        assert_equal "$stderr" "cpmp: --disable takes no value, got '--disable=1' (or set CPMP_DISABLE=1)"
        assert_output ""
    done
    run -2 --separate-stderr "$CPMP" run --quiet=off -c 'print("ran")'
    assert_equal "$stderr" "cpmp: --quiet takes no value, got '--quiet=off' (or set CPMP_QUIET=off)"
    run -2 --separate-stderr "$CPMP" run --quiet=loud -c 'print("ran")'
    assert_equal "$stderr" "cpmp: --quiet takes no value, got '--quiet=loud' (or set CPMP_QUIET=1)"
}

@test "--cluster ADDRESS and --cluster=ADDRESS set CPMP_CLUSTER for the program and its children" {
    run -0 "$CPMP" run --cluster tcp://10.1.2.3:8786 -c 'import os; print(os.environ["CPMP_CLUSTER"])'
    assert_output "tcp://10.1.2.3:8786"
    run -0 "$CPMP" exec --cluster=local:3 "$PYTHON" -c 'import os; print(os.environ["CPMP_CLUSTER"])'
    assert_output "local:3"
    run -0 "$CPMP" --help
    assert_output --partial "--cluster ADDRESS  CPMP_CLUSTER=ADDRESS"
}

@test "CPMP_DISABLE=1 runs the program unpatched, so a lambda fails as under python3" {
    CPMP_DISABLE=1 run "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" spawn lambda
    assert_failure
    assert_output --partial "Can't pickle local object"
}

@test "CPMP_DISABLE is a boolean: false, no, off and 0 leave cpmp on, and true, yes and on in any case turn it off" {
    local value
    for value in false No OFF 0 ''; do
        CPMP_DISABLE=$value run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" spawn lambda
        assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    done
    for value in true YES On 1; do
        CPMP_DISABLE=$value run -1 "${T[@]}" "$CPMP" exec "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
        assert_output --partial "Can't pickle local object"
    done
}

@test "a boolean variable holding anything else stops cpmp run, exec and env with one line naming it and the accepted values" {
    CPMP_DISABLE=maybe run -2 --separate-stderr "$CPMP" run -c 'print("ran")'
    assert_output ""
    assert_equal "$stderr" "cpmp: CPMP_DISABLE: 'maybe' is not one of 1/0, true/false, yes/no, on/off"
    CPMP_QUIET=2 run -2 --separate-stderr "$CPMP" exec true
    assert_equal "$stderr" "cpmp: CPMP_QUIET: '2' is not one of 1/0, true/false, yes/no, on/off"
    CPMP_QUIET=' yes' run -2 --separate-stderr "$CPMP" env
    assert_equal "$stderr" "cpmp: CPMP_QUIET: ' yes' is not one of 1/0, true/false, yes/no, on/off"
    # The option replaces the variable, so there is nothing to refuse.
    CPMP_DISABLE=maybe run -0 "$CPMP" run --disable -c 'import os; print(os.environ["CPMP_DISABLE"])'
    assert_output "1"
}

@test "without cloudpickle a lambda still works and a local class fails with one clear line" {
    # -S: no site-packages, so no cloudpickle.  Functions never need it.
    run -0 --separate-stderr "${T[@]}" "$CPMP" run -S "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    run "${T[@]}" "$CPMP" run --quiet -S "$SCRIPTS/capabilities.py" spawn local-class
    assert_failure
    assert_output --partial "PicklingError: cpmp: sending a class by value needs cloudpickle, which this Python cannot import (apt-get install python3-cloudpickle)"
}

@test "a cpmp package that fails to load leaves the program running unpatched, with one warning line" {
    broken_install
    local cpmp_bin
    cpmp_bin=$(find "$BATS_TEST_TMPDIR/inst" -path '*/bin/cpmp')
    run -0 --separate-stderr "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_output "ran"
    assert_equal "$stderr" "cpmp: not active, running unpatched: broken on purpose"
    CPMP_QUIET=1 run -0 --separate-stderr "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_equal "$stderr" ""
}

@test "the launcher exports the marker that keeps the preload library out of its processes, however it links libpython" {
    run -0 "${T[@]}" "$CPMP" run -c 'import ctypes
marker = ctypes.c_char.in_dll(ctypes.CDLL(None), "cpmp_launcher_marker")
print(ctypes.string_at(ctypes.addressof(marker)).decode())'
    assert_output "cpmp launcher $CPMP_VERSION"
}

@test "sys.orig_argv re-executes the same program through sys.executable, as under python3" {
    run -0 "${T[@]}" "$CPMP" run --quiet -X utf8 -c 'import os, sys
print(os.environ.get("AGAIN", "first"), sys.argv, sys.flags.utf8_mode)
if not os.environ.get("AGAIN"):
    os.environ["AGAIN"] = "again"
    os.execv(sys.executable, sys.orig_argv)' extra
    assert_output $'first [\'-c\', \'extra\'] 1\nagain [\'-c\', \'extra\'] 1'
}
