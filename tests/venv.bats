#!/usr/bin/env bats
# Virtualenvs: cpmp run sees a venv's packages exactly as the venv's python
# would, and so do its spawn and forkserver children.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    unset VIRTUAL_ENV
}

# make_venv DIR [VENV-OPTION...]: a venv of the Python cpmp embeds, holding a
# package no other sys.path entry has (written as pip would install it).
make_venv() {
    local dir=$1
    shift
    "$PYTHON" -m venv --without-pip "$@" "$dir"
    local site
    site=$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    mkdir -p "$site/onlyvenv"
    echo 'VALUE = "from the venv"' > "$site/onlyvenv/__init__.py"
}

@test "in an activated venv, cpmp run and its spawn and forkserver workers see the venv's packages" {
    make_venv venv
    # What the venv's own python prints (with a top-level function)...
    VIRTUAL_ENV="$PWD/venv" PATH="$PWD/venv/bin:$PATH" run -0 "${T[@]}" python "$SCRIPTS/venv.py"
    local expected=$output
    assert_line --index 0 "$PWD/venv $(dirname "$(dirname "$(realpath "$PYTHON")")")"
    assert_line --index 2 "('spawn', 'from the venv', '$PWD/venv', '/usr', '$PWD/venv')"
    # ... is what cpmp run prints, with the function or with a lambda.
    VIRTUAL_ENV="$PWD/venv" PATH="$PWD/venv/bin:$PATH" run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/venv.py"
    assert_output "$expected"
    VIRTUAL_ENV="$PWD/venv" PATH="$PWD/venv/bin:$PATH" run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/venv.py" lambda
    assert_output "$expected"
}

@test "cpmp started from a venv's bin directory runs in that venv, and tells its children" {
    make_venv venv
    ln -s "$CPMP" venv/bin/cpmp
    run -0 "${T[@]}" venv/bin/cpmp run "$SCRIPTS/venv.py" lambda
    assert_line --index 0 "$PWD/venv /usr"
    assert_line --index 2 "('spawn', 'from the venv', '$PWD/venv', '/usr', '$PWD/venv')"
    assert_line --index 3 "('forkserver', 'from the venv', '$PWD/venv', '/usr', '$PWD/venv')"
    # And through PATH, as an activated venv would find it.
    PATH="$PWD/venv/bin:$PATH" run -0 "${T[@]}" cpmp run -c 'import onlyvenv; print(onlyvenv.VALUE)'
    assert_output "from the venv"
}

@test "sys.path is the venv python's, with and without the system site-packages" {
    local opt
    for opt in "" --system-site-packages; do
        rm -rf venv
        make_venv venv $opt
        run -0 venv/bin/python -c 'import sys; print(sys.path[1:], sys.flags.no_user_site)'
        local expected=$output
        VIRTUAL_ENV="$PWD/venv" run -0 "${T[@]}" "$CPMP" run -c 'import sys; print(sys.path[1:], sys.flags.no_user_site)'
        assert_output "$expected"
    done
    # Without the system site-packages there is no Debian cloudpickle, as for
    # the venv's python: lambdas still travel, a local class says what to do.
    rm -rf venv && make_venv venv
    VIRTUAL_ENV="$PWD/venv" run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" spawn lambda
    assert_output "lambda [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"
    VIRTUAL_ENV="$PWD/venv" run -1 "${T[@]}" "$CPMP" run "$SCRIPTS/capabilities.py" spawn local-class
    assert_output --partial "cannot import (install cloudpickle into the virtualenv $PWD/venv, or make it with --system-site-packages)"
}

@test "outside a venv the venv's packages are not there, as for python3" {
    make_venv venv
    run -1 "${T[@]}" "$CPMP" run -c 'import onlyvenv'
    assert_output --partial "ModuleNotFoundError: No module named 'onlyvenv'"
}

@test "in a venv of another Python, cpmp run runs the venv's python, with the preload library" {
    pyenv_python 3.12
    "$py" -m venv --without-pip other
    VIRTUAL_ENV="$PWD/other" PYTHONPATH='' run -0 --separate-stderr "${T[@]}" "$CPMP" run -c 'import sys, multiprocessing as mp
with mp.get_context("spawn").Pool(1) as p: print(sys.prefix == sys.argv[1], sys.version_info[:2], p.map(lambda x: x + 1, [1]))' "$PWD/other"
    assert_output "True (3, 12) [2]"
    assert_equal "$stderr" ""
    # Started from the venv's bin directory, without activating it: the same.
    ln -s "$CPMP" other/bin/cpmp
    PYTHONPATH='' run -0 "${T[@]}" other/bin/cpmp run -c 'import sys; print(sys.prefix == sys.argv[1], sys.version_info[:2])' "$PWD/other"
    assert_output "True (3, 12)"
}

@test "cpmp doctor in a venv checks the venv's python and gives the venv's fix" {
    make_venv venv
    VIRTUAL_ENV="$PWD/venv" run -1 "${T[@]}" "$CPMP" doctor
    assert_line "cpmp run: embedded Python $("$PYTHON" -c 'import platform; print(platform.python_version())') ($PWD/venv)"
    assert_line --regexp "^cpmp exec $PWD/venv/bin/python3\.[0-9]+: Python 3\."
    assert_equal "$(grep -c '^  Pool lambdas    fork ok, spawn ok, forkserver ok$' <<< "$output")" 2
    assert_line --regexp "^problem: cloudpickle not importable by .*: local classes cannot be sent; fix: install cloudpickle into the virtualenv $PWD/venv, or make it with --system-site-packages$"
}

@test "cpmp run -m venv makes the venv python3 -m venv makes, pip included" {
    run -0 "${T[@]}" "$CPMP" run -m venv made-by-cpmp
    "$PYTHON" -m venv made-by-python
    assert_equal "$(grep -E '^(home|include-system-site-packages|version) ' made-by-cpmp/pyvenv.cfg)" \
        "$(grep -E '^(home|include-system-site-packages|version) ' made-by-python/pyvenv.cfg)"
    assert_equal "$(readlink -f made-by-cpmp/bin/python)" "$(readlink -f made-by-python/bin/python)"
    run -0 made-by-cpmp/bin/python -c 'import sys, pip; print(sys.prefix)'
    assert_output "$PWD/made-by-cpmp"
}
