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

# --- --trace=FILE and CPMP_TRACE=FILE ---

preloaded() { # runs a stock python3 with the library preloaded
    LD_PRELOAD="${CPMP_SANITIZER_PRELOAD:+$CPMP_SANITIZER_PRELOAD:}$CPMP_PRELOAD" "${T[@]}" "$@"
}

@test "--trace=FILE refuses a symbolic link with exit 2, and a preloaded process runs untraced" {
    cd "$BATS_TEST_TMPDIR" || return
    echo "root only" > target
    ln -s target trace.log
    run -2 --separate-stderr "$CPMP" run --trace=trace.log -c 'print("ran")'
    assert_output ""
    assert_equal "$stderr" "cpmp: --trace: refusing 'trace.log': it is a symbolic link"
    CPMP_TRACE=trace.log run -0 --separate-stderr preloaded "$PYTHON" "$SCRIPTS/trace.py" spawn
    assert_output $'55\n[1, 2, 3] Point'
    assert_equal "$stderr" "cpmp: CPMP_TRACE: refusing 'trace.log': it is a symbolic link, not tracing"
    assert_equal "$(cat target)" "root only"
}

@test "--trace=FILE refuses a file with a second hard link, and a preloaded process runs untraced" {
    cd "$BATS_TEST_TMPDIR" || return
    echo "root only" > target
    ln target trace.log
    run -2 --separate-stderr "$CPMP" run --trace=trace.log -c 'print("ran")'
    assert_equal "$stderr" "cpmp: --trace: refusing 'trace.log': it has 2 hard links"
    CPMP_TRACE=trace.log run -0 --separate-stderr preloaded "$PYTHON" "$SCRIPTS/trace.py" fork
    assert_output $'55\n[1, 2, 3] Point'
    assert_equal "$stderr" "cpmp: CPMP_TRACE: refusing 'trace.log': it has 2 hard links, not tracing"
    assert_equal "$(cat target)" "root only"
}

@test "CPMP_TRACE=FILE refuses a file of another user's, in cpmp run and in a preloaded process" {
    [ "$(id -u)" = 0 ] || skip "needs root to give a file to nobody"
    cd "$BATS_TEST_TMPDIR" || return
    : > trace.log
    chown nobody trace.log
    CPMP_TRACE=trace.log run -2 --separate-stderr "$CPMP" run -c 'print("ran")'
    assert_equal "$stderr" "cpmp: CPMP_TRACE: refusing 'trace.log': it belongs to another user (uid $(id -u nobody))"
    CPMP_TRACE=trace.log run -0 --separate-stderr preloaded "$PYTHON" "$SCRIPTS/trace.py" fork
    assert_output $'55\n[1, 2, 3] Point'
    assert_equal "$stderr" "cpmp: CPMP_TRACE: refusing 'trace.log': it belongs to another user (uid $(id -u nobody)), not tracing"
    [ ! -s trace.log ]
}

@test "a trace file cpmp creates is readable by its owner only" {
    cd "$BATS_TEST_TMPDIR" || return
    run -0 "${T[@]}" "$CPMP" run --trace=run.log "$SCRIPTS/trace.py" fork
    CPMP_TRACE=preloaded.log run -0 preloaded "$PYTHON" "$SCRIPTS/trace.py" fork
    run -0 stat -c '%a %n' run.log preloaded.log
    assert_output $'600 run.log\n600 preloaded.log'
    grep -q '^cpmp trace: pid [0-9]* parent: exit: ' preloaded.log
}

# --- cpmp kernel uninstall ---

jupyter_here() { # a per-test Jupyter directory holding cpmp's kernel and another one
    "$PYTHON" -c 'import ipykernel, jupyter_client' 2> /dev/null \
        || skip "Debian's python3-ipykernel and python3-jupyter-client are not installed"
    export JUPYTER_DATA_DIR="$BATS_TEST_TMPDIR/jupyter" HOME="$BATS_TEST_TMPDIR/home"
    mkdir -p "$HOME" "$JUPYTER_DATA_DIR/kernels/other" "$JUPYTER_DATA_DIR/runtime"
    printf '{"argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "other", "language": "python"}\n' \
        > "$JUPYTER_DATA_DIR/kernels/other/kernel.json"
    run -0 "$CPMP" kernel install --user
}

@test "kernel uninstall refuses the names '.' and '..', which would remove every kernel or Jupyter's directory" {
    jupyter_here
    local name where
    for name in .. . .hidden -x; do
        for where in "" --user "--prefix=$JUPYTER_DATA_DIR/x/y"; do
            # shellcheck disable=SC2086  # $where is one word or none
            run -2 --separate-stderr "$CPMP" kernel uninstall $where "--name=$name"
            assert_equal "$stderr" "cpmp: --name: '$name' is not a kernel name (a letter or digit, then letters, digits, '.', '_', '-')"
        done
    done
    [ -f "$JUPYTER_DATA_DIR/kernels/cpmp/kernel.json" ]
    [ -f "$JUPYTER_DATA_DIR/kernels/other/kernel.json" ]
    [ -d "$JUPYTER_DATA_DIR/runtime" ]
}

@test "kernel uninstall removes only a kernel that cpmp installed" {
    jupyter_here
    local where
    for where in "" --user; do
        # shellcheck disable=SC2086
        run -1 --separate-stderr "$CPMP" kernel uninstall $where --name other
        assert_equal "$stderr" "cpmp: refusing to remove $JUPYTER_DATA_DIR/kernels/other: it holds no kernel.json written by cpmp"
    done
    [ -f "$JUPYTER_DATA_DIR/kernels/other/kernel.json" ]
    # A directory without any kernel.json is no kernel of cpmp's either.
    mkdir -p "$JUPYTER_DATA_DIR/kernels/empty"
    run -1 --separate-stderr "$CPMP" kernel uninstall --user --name empty
    assert_equal "$stderr" "cpmp: refusing to remove $JUPYTER_DATA_DIR/kernels/empty: it holds no kernel.json written by cpmp"
    [ -d "$JUPYTER_DATA_DIR/kernels/empty" ]
    run -0 "$CPMP" kernel uninstall --name cpmp
    assert_output "removed kernel 'cpmp' from $JUPYTER_DATA_DIR/kernels/cpmp"
    [ ! -e "$JUPYTER_DATA_DIR/kernels/cpmp" ]
}

# --- python3's options, as the preload library reads them ---

dev_mode_is() { # EXPECTED PYTHON-OPTION...: the stock python3 under cpmp exec, with a spawn Pool
    local expected=$1
    shift
    run -0 --separate-stderr "${T[@]}" "$CPMP" exec /usr/bin/python3 "$@" -c 'import sys, multiprocessing as mp
if __name__ == "__main__":
    with mp.get_context("spawn").Pool(1) as p:
        print(sys.flags.dev_mode, p.map(lambda x: x + 1, [1]))'
    assert_output "$expected [2]"
    assert_equal "$stderr" ""
}

@test "the preload library finds dev mode in every spelling python3 accepts, and exits cleanly" {
    [ -x /usr/bin/python3 ] || skip "no Debian python3"
    dev_mode_is True -X dev=1
    dev_mode_is True -Xdev=0
    dev_mode_is True -X dev
    dev_mode_is True -bX dev
    dev_mode_is True -EXdev
    dev_mode_is True --check-hash-based-pycs default -X dev
    dev_mode_is True -W default -X dev
    PYTHONDEVMODE=0 dev_mode_is True
}

@test "the preload library reads a python3 command line over 8 KiB to its end" {
    [ -x /usr/bin/python3 ] || skip "no Debian python3"
    local pad
    pad=$(head -c 9000 /dev/zero | tr '\0' x)
    dev_mode_is True -X "pad=$pad" -X dev
    dev_mode_is False -X "pad=$pad"
}

# --- the package trust check ---

installed_copy() { # sets cpmp_bin, lib and pkg of an install under $BATS_TEST_TMPDIR/inst
    meson install -C "$CPMP_BUILD_ROOT" --no-rebuild --quiet --destdir "$BATS_TEST_TMPDIR/inst" > /dev/null
    cpmp_bin=$(find "$BATS_TEST_TMPDIR/inst" -path '*/bin/cpmp')
    lib=$(find "$BATS_TEST_TMPDIR/inst" -name libcpmp_preload.so)
    pkg=$(dirname "$(find "$BATS_TEST_TMPDIR/inst" -path '*/cpmp/cpmp/__init__.py')")
}

refused() { # PATH WHY: the launcher and the preload library both refuse the package for PATH
    run -2 --separate-stderr "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_output ""
    assert_equal "$stderr" "cpmp: refusing the cpmp package in $1: $2"
    LD_PRELOAD="${CPMP_SANITIZER_PRELOAD:+$CPMP_SANITIZER_PRELOAD:}$lib" run -0 --separate-stderr "${T[@]}" "$PYTHON" -c 'print("ran")'
    assert_output "ran"
    assert_equal "$stderr" "cpmp: not active, running unpatched: refusing the cpmp package in $1: $2"
}

@test "a world-writable module beside __init__.py makes the package refused" {
    local cpmp_bin lib pkg
    installed_copy
    chmod o+w "$pkg/tools/_trace.py"
    refused "$pkg/tools/_trace.py" "other users can write to it"
    chmod o-w "$pkg/tools/_trace.py"
    [ "$(id -u)" = 0 ] || return 0
    chown nobody "$pkg/_patch.py"
    refused "$pkg/_patch.py" "it belongs to another user (uid $(id -u nobody))"
}

@test "a world-writable byte-compiled module or extension in the package makes it refused" {
    local cpmp_bin lib pkg pyc so
    installed_copy
    pyc=$(find "$pkg/__pycache__" -name '_state.*.pyc' | head -1)
    [ -n "$pyc" ] || fail "the install holds no byte code"
    chmod o+w "$pyc"
    refused "$pyc" "other users can write to it"
    chmod o-w "$pyc"
    chmod o+w "$pkg/__pycache__"
    refused "$pkg/__pycache__" "other users can write to it"
    chmod o-w "$pkg/__pycache__"
    so=$(find "$pkg" -name '*.so' | head -1)
    if [ -n "$so" ]; then
        chmod o+w "$so"
        refused "$so" "other users can write to it"
        chmod o-w "$so"
    fi
    run -0 "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_output "ran"
}

@test "a directory above the package that others can write to makes it refused, unless it is sticky" {
    local cpmp_bin lib pkg above
    installed_copy
    above=$(dirname "$(dirname "$(dirname "$pkg")")")
    chmod o+w "$above"
    refused "$above" "other users can write to it"
    # As /tmp: the sticky bit keeps others from renaming what leads to the package.
    chmod +t "$above"
    run -0 "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_output "ran"
}

@test "a cloudpickle.py in the current directory of a -c program is never imported, by the program or its workers" {
    cd "$BATS_TEST_TMPDIR" || return
    printf 'open("%s", "w").write("planted")\nraise SystemExit(9)\n' "$BATS_TEST_TMPDIR/ran" > cloudpickle.py
    local code='import multiprocessing as mp, enum, sys
class C:
    pass
class E(enum.Enum):
    A = 1
with mp.get_context(sys.argv[1]).Pool(1) as p:
    print(p.map(lambda x: type(x).__name__, [C(), E.A]))'
    local m
    for m in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$CPMP" run -c "$code" "$m"
        assert_output "['C', 'E']"
        run -0 "${T[@]}" "$CPMP" exec "$PYTHON" -c "$code" "$m"
        assert_output "['C', 'E']"
    done
    # Nor once the program has changed directory, as -c, stdin or -m.
    mkdir -p elsewhere
    cat > mod.py <<'PY'
import multiprocessing as mp, enum, os, sys
if __name__ == "__main__":
    os.chdir("elsewhere")
    class C:
        pass
    class E(enum.Enum):
        A = 1
    with mp.get_context(sys.argv[1]).Pool(1) as p:
        print(p.map(lambda x: type(x).__name__, [C(), E.A]))
PY
    for m in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$CPMP" run -c "import os; os.chdir('elsewhere')
$code" "$m"
        assert_output "['C', 'E']"
        run -0 "${T[@]}" "$CPMP" run - "$m" < mod.py
        assert_output "['C', 'E']"
        run -0 "${T[@]}" "$CPMP" exec "$PYTHON" -m mod "$m"
        assert_output "['C', 'E']"
    done
    [ ! -e ran ] || fail "the planted cloudpickle.py ran"
    # python3 itself imports it, where a program asks for cloudpickle.
    run -9 "${T[@]}" "$PYTHON" -c 'import cloudpickle'
    [ -e ran ]
}

@test "a cloudpickle vendored beside a script is the one cpmp imports, wherever the script is run from" {
    cd "$BATS_TEST_TMPDIR" || return
    mkdir app elsewhere
    cp -r /usr/lib/python3/dist-packages/cloudpickle app/
    printf '\nopen(%s, "a").write("vendored\\n")\n' "'$BATS_TEST_TMPDIR/used'" >> app/cloudpickle/__init__.py
    cat > app/main.py <<'PY'
import multiprocessing as mp, sys
if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(1) as p:
        class C:  # bound after the fork: no worker holds it
            pass
        print(p.apply(lambda: type(C()).__name__))
PY
    local m dir
    for m in "${METHODS[@]}"; do
        for dir in app elsewhere; do
            rm -f used
            (cd "$dir" && "${T[@]}" "$CPMP" run "$BATS_TEST_TMPDIR/app/main.py" "$m") > out
            run cat out
            assert_output "C"
            [ -s used ] || fail "$m, run from $dir: the vendored cloudpickle was not used"
        done
        # A directory program: its __main__.py beside the vendored copy.
        cp app/main.py app/__main__.py
        rm -f used
        (cd app && "${T[@]}" "$CPMP" run . "$m") > out
        run cat out
        assert_output "C"
        [ -s used ] || fail "$m, a directory program: the vendored cloudpickle was not used"
    done
}
