#!/usr/bin/env bats
# cpmp kernel install/uninstall: a Jupyter kernel under cpmp, tested with
# Debian's ipykernel, jupyter_client and nbconvert for real.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
    # Jupyter's per-user directory, and a stock kernel that is Debian's python3.
    export JUPYTER_DATA_DIR="$PWD/jupyter" HOME="$PWD/home"
    mkdir -p "$HOME"
    PATH="$(dirname "$(realpath "$PYTHON")"):$PATH"
    export PATH
    "$PYTHON" -c 'import ipykernel, jupyter_client, nbconvert' 2> /dev/null \
        || skip "Debian's python3-ipykernel, python3-jupyter-client, python3-nbconvert are not installed"
    CELL='import multiprocessing as mp
def make(n):
    return lambda x: x + n
class Point:
    def __init__(self, x): self.x = x
with mp.get_context("spawn").Pool(2) as pool:
    print(pool.map(lambda x: x * 10, range(4)), pool.map(make(5), [1]), [p.x for p in pool.map(Point, [7])])'
}

@test "kernel install --user writes a kernelspec that starts cpmp run, and Jupyter lists it" {
    run -0 --separate-stderr "$CPMP" kernel install --user
    assert_output "installed kernel 'cpmp' (Python 3.11 (cpmp)) in $JUPYTER_DATA_DIR/kernels/cpmp"
    run -0 "$PYTHON" -c 'import json, sys; k = json.load(open(sys.argv[1])); print(k["argv"], k["display_name"], k["language"])' "$JUPYTER_DATA_DIR/kernels/cpmp/kernel.json"
    assert_output "['$CPMP', 'run', '-m', 'ipykernel_launcher', '-f', '{connection_file}'] Python 3.11 (cpmp) python"
    [ -f "$JUPYTER_DATA_DIR/kernels/cpmp/logo-64x64.png" ]
    run -0 "$PYTHON" -m jupyter_client.kernelspecapp list
    assert_line --regexp "^ +cpmp +$JUPYTER_DATA_DIR/kernels/cpmp$"
}

@test "the kernel maps a cell's lambda, closure and class in a spawn Pool; the stock kernel cannot" {
    "$CPMP" kernel install --user --name cpmp-test --display-name "cpmp test" > /dev/null
    run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/kernel_client.py" cpmp-test "$CELL"
    assert_output $'[0, 10, 20, 30] [6] [7]\nstatus: ok'
    run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/kernel_client.py" python3 "$CELL"
    assert_line --regexp "^(PicklingError|AttributeError): Can't (pickle|get local object).*<lambda>"
    assert_line "status: error"
}

@test "nbconvert executes the example notebook with the kernel; the stock kernel fails on it" {
    "$CPMP" kernel install --user > /dev/null
    run -0 "${T[@]}" "$PYTHON" -m nbconvert --to notebook --execute "$BATS_TEST_DIRNAME/../examples/notebook.ipynb" \
        --ExecutePreprocessor.kernel_name=cpmp --output-dir "$PWD" --output ran.ipynb
    run -0 "$PYTHON" -c 'import nbformat, sys
for cell in nbformat.read(sys.argv[1], 4).cells:
    for out in cell.get("outputs", []):
        print(out.get("text", out.get("ename", "")), end="")' ran.ipynb
    assert_output $'[0, 10, 20, 30, 40]\n[0, 1, 8, 27, 64]\n[1, 2]'
    run "${T[@]}" "$PYTHON" -m nbconvert --to notebook --execute "$BATS_TEST_DIRNAME/../examples/notebook.ipynb" \
        --ExecutePreprocessor.kernel_name=python3 --output-dir "$PWD" --output stock.ipynb
    assert_failure
    assert_output --regexp "Can't (pickle|get local object)"
}

@test "a kernel installed from a venv runs in that venv" {
    "$PYTHON" -m venv --without-pip --system-site-packages venv
    local site
    site=$(venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    mkdir -p "$site/onlyvenv" && echo 'VALUE = "from the venv"' > "$site/onlyvenv/__init__.py"
    ln -s "$CPMP" venv/bin/cpmp
    venv/bin/cpmp kernel install --user --name in-venv > /dev/null
    run -0 "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["env"])' "$JUPYTER_DATA_DIR/kernels/in-venv/kernel.json"
    assert_output "{'VIRTUAL_ENV': '$PWD/venv'}"
    run -0 --separate-stderr "${T[@]}" "$PYTHON" "$SCRIPTS/kernel_client.py" in-venv 'import sys, onlyvenv, multiprocessing as mp
with mp.get_context("spawn").Pool(1) as p: print(sys.prefix, p.map(lambda _: __import__("onlyvenv").VALUE, [0]))'
    assert_output "$PWD/venv ['from the venv']
status: ok"
}

@test "--prefix installs under DIR/share/jupyter; uninstall removes; bad input exits 1 or 2 with one line" {
    run -0 "$CPMP" kernel install --prefix "$PWD/env" --name cpmp-prefixed
    assert_output "installed kernel 'cpmp-prefixed' (Python 3.11 (cpmp)) in $PWD/env/share/jupyter/kernels/cpmp-prefixed"
    # uninstall takes --prefix (and --user) as install does.
    run -0 "$CPMP" kernel uninstall --prefix "$PWD/env" --name cpmp-prefixed
    assert_output "removed kernel 'cpmp-prefixed' from $PWD/env/share/jupyter/kernels/cpmp-prefixed"
    [ ! -e "$PWD/env/share/jupyter/kernels/cpmp-prefixed" ]
    "$CPMP" kernel install --user --name gone > /dev/null
    run -0 "$CPMP" kernel uninstall --name gone
    assert_output "removed kernel 'gone' from $JUPYTER_DATA_DIR/kernels/gone"
    [ ! -e "$JUPYTER_DATA_DIR/kernels/gone" ]
    run -1 --separate-stderr "$CPMP" kernel uninstall --name gone
    assert_equal "$stderr" "cpmp: no kernel named 'gone' is installed"
    run -2 --separate-stderr "$CPMP" kernel
    assert_equal "$stderr" "cpmp: kernel: needs 'install' or 'uninstall' (see 'cpmp kernel --help')"
    run -2 --separate-stderr "$CPMP" kernel install --name 'my kernel'
    assert_equal "$stderr" "cpmp: --name: 'my kernel' is not a kernel name (a letter or digit, then letters, digits, '.', '_', '-')"
    run -2 --separate-stderr "$CPMP" kernel install --user --prefix /tmp
    assert_equal "$stderr" "cpmp: kernel install: argument --prefix: not allowed with argument --user (see 'cpmp kernel install --help')"
    run -2 --separate-stderr "$CPMP" kernel uninstall --display-name x
    assert_equal "$stderr" "cpmp: kernel: unrecognized arguments: --display-name x (see 'cpmp kernel --help')"
    run -2 --separate-stderr "$CPMP" kernel install --name
    assert_equal "$stderr" "cpmp: kernel install: argument --name: expected one argument (see 'cpmp kernel install --help')"
    run -0 "$CPMP" kernel install --help
    assert_line --index 0 --partial "usage: cpmp kernel install [-h] [--user | --prefix DIR]"
}

@test "without ipykernel, kernel install says what to install, in one line" {
    # A venv without the system site-packages has no ipykernel.
    "$PYTHON" -m venv --without-pip bare
    VIRTUAL_ENV="$PWD/bare" run -1 --separate-stderr "$CPMP" kernel install --user
    assert_equal "$stderr" "cpmp: the Python cpmp run embeds ($PWD/bare) cannot import ipykernel, which the kernel runs: install ipykernel into the virtualenv $PWD/bare, or make it with --system-site-packages"
}
