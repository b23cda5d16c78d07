#!/usr/bin/env bats
# The README's sample outputs are what their commands print now
# (tests/scripts/readme.py; `--update` rewrites them from real runs).

load test_helper

@test "every README sample block shows what its command prints now, paths, pids and versions aside" {
    [ -z "$CPMP_SANITIZER_PRELOAD" ] || skip "once is enough: checked in the plain build"
    run timeout 600 "$PYTHON" "$SCRIPTS/readme.py" "$BATS_TEST_DIRNAME/../README.md" "$CPMP" "$CPMP_BUILD_ROOT"
    assert_success
    # The -S and --trace samples run on every machine; doctor's needs pyenv's 3.12.
    assert_line --index -1 --regexp '^checked ([2-9]|[1-9][0-9]+), skipped [0-9]+$'
}

@test "a README sample that went stale is reported with a diff, and fails" {
    sed 's/, 188 bytes \[so far/, 170 bytes [so far/' "$BATS_TEST_DIRNAME/../README.md" > "$BATS_TEST_TMPDIR/README.md"
    grep -q ', 170 bytes \[so far' "$BATS_TEST_TMPDIR/README.md"
    ln -s "$BATS_TEST_DIRNAME" "$BATS_TEST_TMPDIR/tests"
    run -1 timeout 600 "$PYTHON" "$SCRIPTS/readme.py" "$BATS_TEST_TMPDIR/README.md" "$CPMP" "$CPMP_BUILD_ROOT"
    assert_line --regexp '^differs: `cpmp run --trace tests/scripts/trace.py spawn > /dev/null` \(README line [0-9]+\)$'
    assert_line --regexp '^-cpmp trace: pid N parent: lambda .*, 170 bytes'
    assert_line --regexp '^\+cpmp trace: pid N parent: lambda .*, 188 bytes'
}
