# Loaded by every .bats file: assertions, and the paths of the build under test.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

CPMP_BUILD="${CPMP_BUILD:-$BATS_TEST_DIRNAME/../build}"
# shellcheck source=/dev/null
source "$CPMP_BUILD/tests/config.bash"
# What the suites use (shellcheck cannot see them use it).
# shellcheck disable=SC2034
CPMP="$CPMP_BUILD_ROOT/launcher/cpmp"
# The stock interpreter: the very Python that cpmp embeds.
# shellcheck disable=SC2034
PYTHON="$CPMP_PYTHON"
# shellcheck disable=SC2034
SCRIPTS="$BATS_TEST_DIRNAME/scripts"
# Nothing from the caller's environment may switch cpmp off or silence it,
# or choose its python3.
unset CPMP_DISABLE CPMP_QUIET CPMP_TRACE CPMP_BY_VALUE CPMP_PYTHON
# The python3 first on PATH is the stock interpreter, so that `cpmp run`
# runs it embedded (it runs the first python3 on PATH, which on a machine
# with pyenv is a shim): the tests of that choice set PATH themselves.
mkdir -p "$BATS_RUN_TMPDIR/stock-bin"
ln -sfn "$PYTHON" "$BATS_RUN_TMPDIR/stock-bin/python3"
PATH="$BATS_RUN_TMPDIR/stock-bin:$PATH"
# Every run is bounded: a hang fails the test instead of stalling CI.
# shellcheck disable=SC2034
T=(timeout 120)

pyenv_python() { # VERSION: sets $py to the image's pyenv interpreter, or skips
    local found
    # shellcheck disable=SC2034  # the caller's $py
    for found in "${PYENV_ROOT:-/root/.pyenv}/versions/$1".*/bin/python"${1%%.*}"; do
        [ -x "$found" ] && py=$found && return 0
    done
    skip "no pyenv Python $1 on this machine"
}

opt_python() { # DIR VERSION: sets $py to /opt/DIR/bin/python3 (a CPython built by hand), or skips
    # shellcheck disable=SC2034  # the caller's $py
    py=/opt/$1/bin/python3
    [ -x "$py" ] || skip "no CPython $2 at /opt/$1"
}

pure_python_package() { # prints a PYTHONPATH entry: the built package without its C extension
    mkdir -p "$BATS_TEST_TMPDIR/pure"
    cp -r "$CPMP_BUILD_ROOT/pyhook/cpmp" "$BATS_TEST_TMPDIR/pure/"
    rm -f "$BATS_TEST_TMPDIR"/pure/cpmp/core/_speedups*.so
    echo "$BATS_TEST_TMPDIR/pure"
}

broken_install() { # installs the build under $BATS_TEST_TMPDIR/inst with a package that fails to load
    meson install -C "$CPMP_BUILD_ROOT" --no-rebuild --quiet --destdir "$BATS_TEST_TMPDIR/inst" > /dev/null
    find "$BATS_TEST_TMPDIR/inst" -path '*/cpmp/cpmp/__init__.py' \
        -exec sh -c 'echo "raise RuntimeError(\"broken on purpose\")" > "$1"' _ {} \;
}

# The stock interpreter with the built package on its path (and, in a
# sanitizer build, the runtime the C extension needs preloaded):
#   run "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c CODE
# shellcheck disable=SC2034
STOCK_WITH_PACKAGE=(env PYTHONPATH="$CPMP_BUILD_ROOT/pyhook" LD_PRELOAD="$CPMP_SANITIZER_PRELOAD" "$PYTHON")

# The start methods every behaviour is checked under.
METHODS=(fork spawn forkserver)

every_method() { # FUNCTION ARG...: FUNCTION METHOD ARG... under each of $METHODS
    local method
    for method in "${METHODS[@]}"; do "$1" "$method" "${@:2}"; done
}

cloudpickle_only() { # prints a PYTHONPATH entry holding Debian's pure-Python cloudpickle alone (for other interpreters)
    mkdir -p "$BATS_TEST_TMPDIR/cloudpickle-only"
    ln -sfn /usr/lib/python3/dist-packages/cloudpickle "$BATS_TEST_TMPDIR/cloudpickle-only/cloudpickle"
    echo "$BATS_TEST_TMPDIR/cloudpickle-only"
}
