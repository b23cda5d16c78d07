#!/usr/bin/env bats
# cloudpickle on new Pythons: Debian's 2.2.0 crashes on CPython 3.14 in its
# own pickler (pickle._getattribute changed there; fixed in cloudpickle
# 3.1.1), which cpmp never calls: it takes cloudpickle's class reducers
# only, and those answers are the same on 3.14 as on 3.11.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
}

PATHS="local class instance: Local
ABC subclass instance: Impl
local enum member: Color
local dataclass instance: Item
TypeVar: TypeVar
generic local class instance: Box
WeakSet: WeakSet
closure: function
local class: ABCMeta"

@test "Debian's cloudpickle 2.2.0 cannot pickle a closure on CPython 3.14 by itself" {
    opt_python py314 3.14
    PYTHONPATH="$(cloudpickle_only)" run "${T[@]}" "$py" -c 'import cloudpickle
k = 3
cloudpickle.dumps(lambda x: x + k)
print("pickled")'
    # A C stack overflow: SIGSEGV, or RecursionError where the guard sees it first.
    assert_failure
    refute_output --partial "pickled"
}

@test "on CPython 3.14, what cpmp sends by value never reaches cloudpickle's by-reference check" {
    opt_python py314 3.14
    PYTHONPATH="$CPMP_BUILD_ROOT/pyhook:$(cloudpickle_only)" LD_PRELOAD="$CPMP_SANITIZER_PRELOAD" \
        run -0 "${T[@]}" "$py" "$SCRIPTS/cloudpickle_paths.py"
    assert_output "$PATHS
by-reference checks of cloudpickle's: 0"
}

@test "the spy on cloudpickle's by-reference check sees cloudpickle.dumps use it" {
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" "$SCRIPTS/cloudpickle_paths.py" control
    assert_line --index 0 "local class instance: Local"
    assert_line --regexp "^by-reference checks of cloudpickle's: [1-9][0-9]*$"
    run -0 "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" "$SCRIPTS/cloudpickle_paths.py"
    assert_output "$PATHS
by-reference checks of cloudpickle's: 0"
}

ANNOTATED="({'sides': <class 'int'>, 'name': <class 'str'>}, {'side': <class 'float'>}) 9 True {'x': <class 'int'>, 'y': 'list[int]'}"

@test "a local ABC's annotations, and a local class's, reach the workers on CPython 3.14" {
    local method
    opt_python py314 3.14
    for method in "${METHODS[@]}"; do
        PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" run --python "$py" "$SCRIPTS/class_annotations.py" "$method"
        assert_output "$ANNOTATED"
    done
}

@test "a local ABC's annotations, and a local class's, reach the workers on Debian's Python" {
    every_method run_annotated
}

run_annotated() {
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/class_annotations.py" "$1"
    assert_output "$ANNOTATED"
}

@test "a local NamedTuple reaches the workers, and a local ABC keeps its module, with Debian's cloudpickle 2.2.0" {
    local method
    for method in "${METHODS[@]}"; do
        # The old failure is a pool that never answers: a short bound.
        run -0 timeout 30 "$CPMP" run "$SCRIPTS/cloud_classes.py" "$method"
        assert_output "Pair(a=2, b='x') __main__ 5"
    done
}

@test "the same on CPython 3.14" {
    opt_python py314 3.14
    PYTHONPATH="$(cloudpickle_only)" run -0 timeout 30 "$CPMP" run --python "$py" "$SCRIPTS/cloud_classes.py" spawn
    assert_output "Pair(a=2, b='x') __main__ 5"
}
