#!/usr/bin/env bats
# The Python API: dumps/dump/loads/load, reducers, patched(), by-value modules.

load test_helper

@test "cpmp's pickler works without patching, takes per-call reducers, and patched() restores the state" {
    run -0 --separate-stderr $T env PYTHONPATH="$CPMP_BUILD_ROOT/pyhook" LD_PRELOAD="$CPMP_SANITIZER_PRELOAD" "$PYTHON" "$SCRIPTS/api.py"
    assert_line --index 0 "10 False"
    assert_line --index 1 "reduced 3 Secret"
    assert_line --index 2 "in a file"
    assert_line --index 3 "inside True"
    assert_line --index 4 "after False"
}

@test "a module made at run time reaches spawn workers once registered by value" {
    run -0 --separate-stderr $T env PYTHONPATH="$CPMP_BUILD_ROOT/pyhook" LD_PRELOAD="$CPMP_SANITIZER_PRELOAD" "$PYTHON" "$SCRIPTS/api.py"
    assert_line --index 5 "not registered: BrokenProcessPool"
    assert_line --index 6 "registered: 14"
}
