#!/usr/bin/env bats
# pip install --no-build-isolation . (pyproject.toml, meson-python): into a
# venv of the Python cpmp embeds and of pyenv's 3.12 and 3.13, from a copy of
# the files git tracks, as a fresh clone has them.  The venv then has
# bin/cpmp for its own interpreter, import cpmp, python -m cpmp and the
# preload library; pip uninstall takes every file back.

load test_helper

setup_file() {
    [ -z "$CPMP_SANITIZER_PRELOAD" ] || skip "once is enough: checked in the plain build"
    "$PYTHON" -c 'import mesonpy' 2> /dev/null || skip "no meson-python (apt-get install python3-mesonpy)"
    "$PYTHON" -c 'import ensurepip' 2> /dev/null || skip "no venv module (apt-get install python3-venv)"
    SRC="$BATS_FILE_TMPDIR/src"
    mkdir "$SRC"
    git -C "$BATS_TEST_DIRNAME/.." ls-files -z | (cd "$BATS_TEST_DIRNAME/.." && xargs -0 cp --parents -t "$SRC")
    cat > "$BATS_FILE_TMPDIR/squares.py" << 'EOF'
import multiprocessing as mp
import sys

if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(2) as pool:
        print(sys.argv[1], pool.map(lambda x: x * x, range(5)))
EOF
    # One build for the tests of the Python cpmp embeds (a C build each).
    pip_venv "$PYTHON" "$BATS_FILE_TMPDIR/venv" --system-site-packages > "$BATS_FILE_TMPDIR/pip.log" 2>&1 \
        || { cat "$BATS_FILE_TMPDIR/pip.log"; return 1; }
    export SRC
}

# pip_venv PYTHON VENV [VENV-OPTION...]: a venv of PYTHON with cpmp pip-installed from $SRC.
pip_venv() {
    "$1" -m venv "${@:3}" "$2"
    "$2/bin/pip" install --no-build-isolation --no-index --no-cache-dir --disable-pip-version-check "$SRC"
}

# The build backend alone, from Debian, for another Python (pure Python:
# meson-python and what it imports).
backend_only() {
    local m
    mkdir -p "$BATS_TEST_TMPDIR/backend"
    for m in mesonpy pyproject_metadata packaging; do
        ln -sfn "/usr/lib/python3/dist-packages/$m" "$BATS_TEST_TMPDIR/backend/$m"
    done
    echo "$BATS_TEST_TMPDIR/backend"
}

# check_venv VENV: the venv's cpmp runs a Pool lambda with each start method,
# through the command, python -m cpmp and cpmp exec, with the venv's Python.
check_venv() {
    local venv=$1 version method
    version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    for method in "${METHODS[@]}"; do
        run -0 "${T[@]}" "$venv/bin/cpmp" run "$BATS_FILE_TMPDIR/squares.py" "$method"
        assert_output "$method [0, 1, 4, 9, 16]"
    done
    run -0 "${T[@]}" "$venv/bin/cpmp" run -c 'import sys; print(sys.prefix, "%d.%d" % sys.version_info[:2])'
    assert_output "$venv $version"
    run -0 "${T[@]}" "$venv/bin/python" -m cpmp run "$BATS_FILE_TMPDIR/squares.py" spawn
    assert_output "spawn [0, 1, 4, 9, 16]"
    run -0 "${T[@]}" "$venv/bin/python" -m cpmp --version
    assert_line --index 0 "cpmp $CPMP_VERSION"
    assert_line --index 1 --partial "Python $version."
    run -0 "${T[@]}" "$venv/bin/cpmp" exec -- "$venv/bin/python" "$BATS_FILE_TMPDIR/squares.py" spawn
    assert_output "spawn [0, 1, 4, 9, 16]"
}

# The files of the venv that are cpmp's (none once uninstalled).
cpmp_files() {
    find "$1" \( -path '*cpmp*' -o -name 'cpmp.1' \) \( -type f -o -type l \)
}

@test "pip install . into a venv of Debian's python3: its cpmp, python -m cpmp and cpmp exec map a lambda with every start method" {
    check_venv "$BATS_FILE_TMPDIR/venv"
}

@test "the venv's package, preload library and python3 are the installed ones, and import cpmp is the patch's own" {
    local venv="$BATS_FILE_TMPDIR/venv" site
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
    run -0 "${T[@]}" "$venv/bin/cpmp" run -c 'import cpmp, sys; print(cpmp.__file__, sys.executable, cpmp.is_patched())'
    assert_output "$site/cpmp/__init__.py $site/cpmp/_lib/python3 True"
    run -0 "${T[@]}" "$venv/bin/python" -c 'import cpmp; print(cpmp.__file__, cpmp.is_patched()); cpmp.patch(); print(cpmp.is_patched())'
    assert_output "$site/cpmp/__init__.py False"$'\nTrue'
    run -0 "${T[@]}" "$venv/bin/cpmp" exec -- "$venv/bin/python" -c 'import cpmp, multiprocessing.reduction; print(cpmp.is_patched())'
    assert_output "True"
    run -0 "${T[@]}" "$venv/bin/cpmp" doctor
    assert_line "cpmp $CPMP_VERSION ($venv/bin/cpmp)"
    assert_line "  preload library $site/cpmp/_lib/libcpmp_preload.so (what cpmp exec uses)"
    assert_line --index -1 "ok: everything cpmp needs works"
    run -0 env MANWIDTH=80 man --warnings -l "$venv/share/man/man1/cpmp.1"
    assert_line --index 0 --regexp '^CPMP\(1\)'
    run -0 bash -c 'source "$1" && COMP_WORDS=(cpmp e) COMP_CWORD=1 && _cpmp && echo "${COMPREPLY[*]}"' _ "$venv/share/bash-completion/completions/cpmp"
    assert_output "exec env"
}

@test "the wheel installed with --prefix and --user runs from there, and uninstalls cleanly" {
    local venv="$BATS_FILE_TMPDIR/venv"
    cd "$BATS_TEST_TMPDIR" || return
    run -0 "$venv/bin/pip" wheel --no-build-isolation --no-index --no-cache-dir --no-deps -w wheels "$SRC"
    # (--ignore-installed: the venv has cpmp already)
    run -0 "$venv/bin/pip" install --no-index --ignore-installed --prefix "$PWD/prefix" wheels/cpmp-*.whl
    run -0 env -u VIRTUAL_ENV PYTHONPATH="$(echo "$PWD"/prefix/lib/python3*/site-packages)" \
        "${T[@]}" "$PWD/prefix/bin/cpmp" run "$BATS_FILE_TMPDIR/squares.py" spawn
    assert_output "spawn [0, 1, 4, 9, 16]"
    run -0 "${T[@]}" "$PWD/prefix/bin/cpmp" exec -- "$PYTHON" "$BATS_FILE_TMPDIR/squares.py" forkserver
    assert_output "forkserver [0, 1, 4, 9, 16]"
    # --user into a user base of its own (Debian's pip wants the flag for it).
    "$PYTHON" -m pip --version > /dev/null 2>&1 || skip "no pip for $PYTHON (apt-get install python3-pip)"
    export PYTHONUSERBASE="$PWD/user"
    run -0 "$PYTHON" -m pip install --no-index --ignore-installed --user --break-system-packages wheels/cpmp-*.whl
    run -0 "${T[@]}" "$PYTHONUSERBASE/bin/cpmp" run "$BATS_FILE_TMPDIR/squares.py" spawn
    assert_output "spawn [0, 1, 4, 9, 16]"
    run -0 "${T[@]}" "$PYTHON" -m cpmp exec -- "$PYTHON" "$BATS_FILE_TMPDIR/squares.py" forkserver
    assert_output "forkserver [0, 1, 4, 9, 16]"
    run -0 "$PYTHON" -m pip uninstall -y --break-system-packages cpmp
    run -0 cpmp_files "$PYTHONUSERBASE"
    assert_output ""
}

@test "pip uninstall cpmp leaves no file of cpmp's in the venv" {
    local venv="$BATS_FILE_TMPDIR/venv"
    [ -n "$(cpmp_files "$venv")" ]
    run -0 "$venv/bin/pip" uninstall -y cpmp
    run -0 cpmp_files "$venv"
    assert_output ""
}

@test "pip install . into venvs of pyenv's 3.12 and 3.13: cpmp embeds each, and uninstalls cleanly" {
    local v py backend
    backend=$(backend_only)
    for v in 3.12 3.13; do
        pyenv_python $v
        PYTHONPATH="$backend" run -0 pip_venv "$py" "$BATS_TEST_TMPDIR/venv-$v"
        PYTHONPATH="$(cloudpickle_only)" check_venv "$BATS_TEST_TMPDIR/venv-$v"
        run -0 "$BATS_TEST_TMPDIR/venv-$v/bin/pip" uninstall -y cpmp
        run -0 cpmp_files "$BATS_TEST_TMPDIR/venv-$v"
        assert_output ""
    done
}
