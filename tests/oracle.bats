#!/usr/bin/env bats
# cloudpickle 2.2's own suite as an oracle: the cases it had cpmp.dumps
# fail, kept here without its code (tests/scripts/cloudpickle_cases.py).

load test_helper

@test "what cloudpickle's suite sends, cpmp.dumps sends too, and a spawned child loads it as cloudpickle's" {
    run -0 "${T[@]}" "$CPMP" run "$SCRIPTS/cloudpickle_cases.py" "$BATS_TEST_TMPDIR"
    assert_output - <<'OUT'
exec'd function without __name__: as with cloudpickle
__module__ None, with a faulty sys.modules entry: as with cloudpickle
ModuleType subclass: as with cloudpickle
module registered by value: as with cloudpickle
WeakSet: as with cloudpickle
classmethod descriptor: as expected (cloudpickle 2.2 cannot send it)
too deep recursion: as with cloudpickle
out-of-band buffer, dumps: as with cloudpickle
out-of-band buffer, dump: as with cloudpickle
9 cases, 0 differ
OUT
}

@test "too deep an object raises both cloudpickle's PicklingError and python3's RecursionError" {
    run -0 "${T[@]}" "$CPMP" run -c '
import pickle, cpmp
class Deep:
    def __getattribute__(self, name):
        return getattr(self, name)
for dump in (cpmp.dumps, lambda obj: cpmp.dump(obj, open("/dev/null", "wb"))):
    try:
        dump(Deep())
    except pickle.PicklingError as exc:
        print(isinstance(exc, RecursionError), "recursion" in str(exc))'
    assert_output $'True True\nTrue True'
}
