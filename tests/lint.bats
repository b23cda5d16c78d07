#!/usr/bin/env bats
# The linters and the size targets, on the whole tree.

load test_helper

ROOT="$BATS_TEST_DIRNAME/.."

@test "shellcheck finds nothing in the scripts of .ci, tests and examples, nor in the bash completion" {
    cd "$ROOT" || return
    run -0 shellcheck .ci/run .ci/setup tests/run tests/*.bats tests/test_helper.bash examples/*.sh
    run -0 shellcheck --shell=bash launcher/cpmp.bash
}

@test "pyflakes finds nothing in the package, the test scripts and the benchmarks" {
    cd "$ROOT" || return
    run -0 pyflakes3 pyhook tests/scripts tests/differential.py bench
}

@test "pyflakes finds nothing in the Python the C compiles in, given the names arm.c defines" {
    cd "$ROOT" || return
    run -0 pyflakes3 launcher/*.py
    # boot.py runs in a namespace common/arm.c fills: only those names.
    PYFLAKES_BUILTINS=_cpmp_dir,_cpmp_module run -0 pyflakes3 common/*.py
}

@test "cppcheck finds nothing in the C, the fuzz targets' too" {
    cd "$ROOT" || return
    run -0 cppcheck --enable=warning,performance,portability --error-exitcode=1 --quiet \
        --inline-suppr -I common -I launcher -I preload -I "$CPMP_BUILD_ROOT" \
        common/*.c launcher/*.c launcher/shim/*.c preload/*.c tests/fuzz/*.c pyhook/cpmp/core/*.c
    assert_output ""
}

@test "no C or Python file of the product is over 400 lines, and no function over 60" {
    run -0 "$PYTHON" "$SCRIPTS/sizes.py" "$ROOT"
    assert_output ""
}
