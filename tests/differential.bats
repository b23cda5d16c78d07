#!/usr/bin/env bats
# Differential tests of what a function sent by value sees: 1,500 generated
# programs against the model, python3 and cloudpickle.

load test_helper

# The whole set takes minutes, not the two every other run is bounded by.
LONG=(timeout 600)

@test "generated programs give what the model says, what python3 gives with top-level defs, and what cloudpickle gives" {
    # Fixed seed: 120 pool programs per start method and the families at
    # --families 25 (tests/differential.py); their results kept for the
    # test with the caches off.
    run -0 "${LONG[@]}" "$PYTHON" "$BATS_TEST_DIRNAME/differential.py" "$CPMP" "$PYTHON" \
        "$BATS_TEST_TMPDIR" 20261129 120 --families 25 --dump "$BATS_FILE_TMPDIR/results"
    assert_output "1500 programs under cpmp, 508 of them also under python3 (top-level defs), 1500 against cloudpickle: all as the model says"
}

@test "each bug planted in the pickling core makes generated programs disagree, and the unmutated core none" {
    [ -z "${CPMP_SKIP_C_OUT:-}" ] || skip "$CPMP_SKIP_C_OUT"
    # A subset (10 pool programs per start method, --families 5), once per
    # mutation of pyhook/cpmp/_mutation.py, against the model.
    run -0 "${LONG[@]}" "$PYTHON" "$BATS_TEST_DIRNAME/differential.py" "$CPMP" "$PYTHON" \
        "$BATS_TEST_TMPDIR" 20261129 10 --families 5 --mutations
    assert_line --index 0 "unmutated: 0 disagree"
    local m
    for m in ignore-live-globals reuse-received no-fallback cache-by-eq skip-nested freeze-first; do
        assert_line --regexp "^$m: [1-9][0-9]* disagree "
    done
    assert_equal "${#lines[@]}" 7
}

@test "with the caches and _speedups off, the generated programs print the same, byte for byte" {
    [ -z "${CPMP_SKIP_C_OUT:-}" ] || skip "$CPMP_SKIP_C_OUT"
    # CPMP_TEST_SLOW=1 keeps the C fast path out and makes every cache miss.
    run -0 env CPMP_TEST_SLOW=1 "$CPMP" run -c "import cpmp.core._reduce as r; print(r.SPEEDUPS_PROBLEM)"
    assert_output "kept out by CPMP_TEST_SLOW=1"
    local normal="$BATS_FILE_TMPDIR/results"
    if [ ! -s "$normal" ]; then  # run alone: make the normal results too
        run -0 "${LONG[@]}" "$PYTHON" "$BATS_TEST_DIRNAME/differential.py" "$CPMP" "$PYTHON" \
            "$BATS_TEST_TMPDIR" 20261129 120 --families 25 --cpmp-only --dump "$normal"
    fi
    run -0 "${LONG[@]}" env CPMP_TEST_SLOW=1 "$PYTHON" "$BATS_TEST_DIRNAME/differential.py" \
        "$CPMP" "$PYTHON" "$BATS_TEST_TMPDIR" 20261129 120 --families 25 --cpmp-only \
        --dump "$BATS_TEST_TMPDIR/slow"
    assert_output "1500 programs under cpmp: all as the model says"
    grep -E '^(pool-)?cpmp ' "$normal" > "$BATS_TEST_TMPDIR/normal"
    run -0 wc -l < "$BATS_TEST_TMPDIR/normal"
    assert_output 1500
    run -0 diff "$BATS_TEST_TMPDIR/normal" "$BATS_TEST_TMPDIR/slow"
    assert_output ""
}

@test "what cpmp sends behaves in a spawned child as what cloudpickle sends, but for the differences listed" {
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/vs_cloudpickle.py"
    assert_output "24 objects: 22 behave as with cloudpickle, 2 differ as listed (cloudpickle 2.2 loses a dataclass's fields, cpmp keeps them; live globals: the module's own COUNTER counts on), 0 otherwise"
}
