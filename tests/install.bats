#!/usr/bin/env bats
# meson install: a relocatable tree (bin/cpmp, one private directory with the
# package, the preload library and the python3 link, the man page) that runs
# the examples from wherever it ends up.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    EXAMPLES="$BATS_TEST_DIRNAME/../examples"
}

# completes FILE: FILE is cpmp's bash completion, and completes its commands.
completes() {
    run -0 bash -c 'source "$1" && COMP_WORDS=(cpmp e) COMP_CWORD=1 && _cpmp && echo "${COMPREPLY[*]}"' _ "$1"
    assert_output "exec env"
}

# check_tree PREFIX: the examples and cpmp doctor, run from an installed tree.
check_tree() {
    local prefix=$1 cpmp="$1/bin/cpmp" pkglib
    pkglib=$(dirname "$(find "$prefix" -name libcpmp_preload.so)")
    [ -x "$cpmp" ] && [ -L "$pkglib/python3" ] && [ -f "$pkglib/cpmp/core/_speedups.abi3.so" ]
    # Byte-compiled at install: start-up does not compile the package.
    local compiled=("$pkglib"/cpmp/__pycache__/*.pyc) sources=("$pkglib"/cpmp/*.py)
    [ "${#compiled[@]}" -eq "${#sources[@]}" ]
    run -0 env MANWIDTH=80 man --warnings -l "$prefix/share/man/man1/cpmp.1"
    assert_line --index 0 --regexp '^CPMP\(1\)'
    completes "$prefix/share/bash-completion/completions/cpmp"
    run -0 "${T[@]}" "$cpmp" run "$EXAMPLES/lambda_pool.py"
    assert_output $'squares:   [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\nclosure:   [3, 6, 9]\nreturned:  42\nexecutor:  [7, 8]'
    PATH="$(dirname "$(realpath "$PYTHON")"):$PATH" run -0 "${T[@]}" "$cpmp" exec -- "$EXAMPLES/pipeline.sh"
    assert_output $'kept:     [4, 5, 6, 7]\nfrom a Process: 45'
    # The package, the library and sys.executable all come from this tree.
    run -0 "${T[@]}" "$cpmp" run -c 'import cpmp, sys; print(cpmp.__file__, sys.executable)'
    assert_output "$pkglib/cpmp/__init__.py $pkglib/python3"
    run -0 "${T[@]}" "$cpmp" exec "$PYTHON" -c 'import sys; print(sys.modules["__cpmp__"].__file__)'
    assert_output "$pkglib/cpmp/__init__.py"
    run -0 "${T[@]}" "$cpmp" doctor
    assert_line "  preload library $pkglib/libcpmp_preload.so (what cpmp exec uses)"
    assert_line --index -1 "ok: everything cpmp needs works"
}

@test "an install staged with --destdir runs the examples, and still does once moved elsewhere" {
    meson install -C "$CPMP_BUILD_ROOT" --no-rebuild --quiet --destdir "$PWD/stage" > /dev/null
    local prefix
    prefix=$(meson introspect --buildoptions "$CPMP_BUILD_ROOT" | "$PYTHON" -c 'import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
    check_tree "$PWD/stage$prefix"
    # Relocatable: nothing refers back to the prefix it was built for.
    mv "stage$prefix" moved
    rm -rf stage
    check_tree "$PWD/moved"
}

@test "a build for --prefix ~/.local installs there and runs the examples" {
    export HOME="$PWD/home"
    local sanitize
    sanitize=$(meson introspect --buildoptions "$CPMP_BUILD_ROOT" | "$PYTHON" -c 'import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "b_sanitize"))')
    meson setup "$PWD/b" "$BATS_TEST_DIRNAME/.." --prefix "$HOME/.local" -Db_sanitize="$sanitize" > /dev/null
    meson compile -C "$PWD/b" > /dev/null
    meson install -C "$PWD/b" --quiet > /dev/null
    rm -rf "$PWD/b"
    check_tree "$HOME/.local"
}

@test "a package directory other users could change is refused in one line, by the launcher and the preload library" {
    meson install -C "$CPMP_BUILD_ROOT" --no-rebuild --quiet --destdir "$BATS_TEST_TMPDIR/inst" > /dev/null
    local cpmp_bin lib pkg
    cpmp_bin=$(find "$BATS_TEST_TMPDIR/inst" -path '*/bin/cpmp')
    lib=$(find "$BATS_TEST_TMPDIR/inst" -name libcpmp_preload.so)
    pkg=$(dirname "$(find "$BATS_TEST_TMPDIR/inst" -path '*/cpmp/cpmp/__init__.py')")
    chmod o+w "$pkg"
    run -2 --separate-stderr "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_equal "$stderr" "cpmp: refusing the cpmp package in $pkg: other users can write to it"
    LD_PRELOAD="${CPMP_SANITIZER_PRELOAD:+$CPMP_SANITIZER_PRELOAD:}$lib" run -0 --separate-stderr "${T[@]}" "$PYTHON" -c 'print("ran")'
    assert_output "ran"
    assert_equal "$stderr" "cpmp: not active, running unpatched: refusing the cpmp package in $pkg: other users can write to it"
    chmod o-w "$pkg"
    chown nobody "$pkg/__init__.py"
    run -2 --separate-stderr "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_equal "$stderr" "cpmp: refusing the cpmp package in $pkg/__init__.py: it belongs to another user (uid $(id -u nobody))"
    chown "$(id -u)" "$pkg/__init__.py"
    run -0 "${T[@]}" "$cpmp_bin" run -c 'print("ran")'
    assert_output "ran"
}

@test "an install path with a space still preloads; one with a colon is said in one line, by exec and doctor" {
    meson install -C "$CPMP_BUILD_ROOT" --no-rebuild --quiet --destdir "$BATS_TEST_TMPDIR/with space" > /dev/null
    local cpmp_bin
    cpmp_bin=$(find "$BATS_TEST_TMPDIR/with space" -path '*/bin/cpmp')
    run -0 "${T[@]}" "$cpmp_bin" exec "$PYTHON" "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    run -0 bash -c 'eval "$("$1" env)"; "$2" "$3" spawn closure' _ "$cpmp_bin" "$PYTHON" "$SCRIPTS/capabilities.py"
    assert_output "closure [3, 6, 9]"
    meson install -C "$CPMP_BUILD_ROOT" --no-rebuild --quiet --destdir "$BATS_TEST_TMPDIR/with:colon" > /dev/null
    cpmp_bin=$(find "$BATS_TEST_TMPDIR/with:colon" -path '*/bin/cpmp')
    run -2 --separate-stderr "${T[@]}" "$cpmp_bin" exec "$PYTHON" -c 'print(1)'
    assert_equal "$stderr" "cpmp: cannot preload $(find "$BATS_TEST_TMPDIR/with:colon" -name libcpmp_preload.so): ld.so splits LD_PRELOAD at ':', and this path has one; install cpmp under a path without ':' (or use 'cpmp run')"
    run -1 "${T[@]}" "$cpmp_bin" doctor
    assert_line --partial "ld.so splits LD_PRELOAD at ':'"
    # cpmp run needs no preloading.
    run -0 "${T[@]}" "$cpmp_bin" run "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
}

@test "the launcher builds against another CPython (-Dpython: 3.12 and 3.13 from pyenv) and runs there" {
    [ -z "$CPMP_SANITIZER_PRELOAD" ] || skip "once is enough: checked in the plain build"
    local v
    for v in 3.12 3.13; do
        pyenv_python $v
        run -0 meson setup "build-$v" "$BATS_TEST_DIRNAME/.." -Dpython="$py"
        run -0 meson compile -C "build-$v"
        refute_output --partial "warning:"
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "build-$v/launcher/cpmp" run "$SCRIPTS/exact.py" spawn loop-lambda
        assert_output "[0, 1, 2] [1, 2, 3] [2, 3, 4] [3, 4, 5] "
        run -0 "build-$v/launcher/cpmp" --version
        assert_line --index 1 --partial "Python $v."
    done
}

# The files the cpmp package installed, while it is (none when it is not).
deb_files() {
    dpkg-query -L cpmp 2> /dev/null | while read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "$f"; done
}

@test "debian/ builds a .deb without lintian errors that installs /usr/bin/cpmp, runs a lambda, and leaves nothing once removed" {
    [ -z "$CPMP_SANITIZER_PRELOAD" ] || skip "once is enough: checked in the plain build"
    [ "$(id -u)" -eq 0 ] || skip "installing a .deb needs root"
    ! dpkg-query -W -f='${Status}' cpmp 2> /dev/null | grep -q installed || skip "a cpmp package is installed here already: left alone"
    mkdir src
    git -C "$BATS_TEST_DIRNAME/.." ls-files -z | (cd "$BATS_TEST_DIRNAME/.." && xargs -0 cp --parents -t "$BATS_TEST_TMPDIR/src")
    (cd src && dpkg-buildpackage -us -uc -b > ../build.log 2>&1) || { cat build.log; false; }
    run -0 lintian --fail-on error cpmp_*_amd64.changes
    run -0 dpkg -i cpmp_*_amd64.deb
    touch installed  # teardown removes it, should a check below fail
    local pkglib
    pkglib=$(dirname "$(dpkg-query -L cpmp | grep '/libcpmp_preload.so$')")
    run -0 "${T[@]}" /usr/bin/cpmp run "$EXAMPLES/lambda_pool.py"
    assert_output $'squares:   [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]\nclosure:   [3, 6, 9]\nreturned:  42\nexecutor:  [7, 8]'
    run -0 "${T[@]}" /usr/bin/cpmp run -c 'import cpmp, sys; print(cpmp.__file__, sys.executable)'
    assert_output "$pkglib/cpmp/__init__.py $pkglib/python3"
    run -0 "${T[@]}" /usr/bin/cpmp exec "$PYTHON" -c 'import multiprocessing as mp
with mp.get_context("spawn").Pool(1) as p: print(p.map(lambda x: x + 1, [1]))'
    assert_output "[2]"
    # Compiled at install, for this Python.
    [ -f "$pkglib/cpmp/__pycache__/__init__.cpython-$("$PYTHON" -c 'import sys; print("%d%d" % sys.version_info[:2])').pyc" ]
    run -0 man -w cpmp
    completes /usr/share/bash-completion/completions/cpmp
    local files
    files=$(deb_files)
    run -0 dpkg -r cpmp
    rm installed
    for f in $files; do [ ! -e "$f" ] || { echo "left: $f"; false; }; done
    [ ! -e "$pkglib" ]
}

teardown() {
    [ ! -e "$BATS_TEST_TMPDIR/installed" ] || dpkg -r cpmp > /dev/null 2>&1 || true
}
