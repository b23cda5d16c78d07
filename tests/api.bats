#!/usr/bin/env bats
# The Python API: dumps/dump/loads/load, reducers, patched(), by-value modules.

load test_helper

@test "cpmp's pickler works without patching, takes per-call reducers, and patched() restores the state" {
    run -0 --separate-stderr "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" "$SCRIPTS/api.py"
    assert_line --index 0 "10 False"
    assert_line --index 1 "reduced 3 Secret"
    assert_line --index 2 "in a file"
    assert_line --index 3 "inside True"
    assert_line --index 4 "after False"
}

@test "dumps and dump take the protocol and buffer_callback in cloudpickle's order too, and reducers still" {
    run -0 --separate-stderr "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c '
import io, pickle, cpmp
def dump(obj, *args, **kwargs):
    f = io.BytesIO()
    cpmp.dump(obj, f, *args, **kwargs)
    return f.getvalue()
data, red = {"a": [1, 2.5]}, {complex: lambda c: (str, ("reduced",))}
for dumps in (cpmp.dumps, dump):
    buffers = []
    blob = dumps(pickle.PickleBuffer(b"0123"), 5, buffers.append)
    print(dumps(data, 2) == pickle.dumps(data, 2), dumps(data, 3, None) == pickle.dumps(data, 3),
          dumps(data, 4, buffer_callback=None) == pickle.dumps(data, 4),
          len(buffers), bytes(pickle.loads(blob, buffers=buffers)), pickle.loads(dumps(lambda: 7, 2))(),
          pickle.loads(dumps(1j, red)), pickle.loads(dumps(1j, reducers=red)), dumps(1j, red, 2)[:2])
    for args, kwargs in (((2, 3), {}), ((2,), {"protocol": 4}), ((5, print), {"buffer_callback": print})):
        try:
            dumps(data, *args, **kwargs)
        except TypeError as exc:
            print(exc)'
    assert_output - <<'OUT'
True True True 1 b'0123' 7 reduced reduced b'\x80\x02'
cpmp: protocol given twice (2 and 3)
cpmp: protocol given twice (2 and 4)
cpmp: buffer_callback given twice
True True True 1 b'0123' 7 reduced reduced b'\x80\x02'
cpmp: protocol given twice (2 and 3)
cpmp: protocol given twice (2 and 4)
cpmp: buffer_callback given twice
OUT
}

@test "a module made at run time reaches spawn workers once registered by value" {
    run -0 --separate-stderr "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" "$SCRIPTS/api.py"
    assert_line --index 5 "not registered: BrokenProcessPool"
    assert_line --index 6 "registered: 14"
}

@test "a function sent by value can die during interpreter shutdown without an error" {
    # At exit, module globals may already be None when the last functions
    # die (seen on 3.10): the cache's weakref callback must not need them.
    run -0 --separate-stderr "${T[@]}" "${STOCK_WITH_PACKAGE[@]}" -c 'import gc, cpmp, cpmp.core._resend as r
f = lambda: 0
cpmp.dumps(f)
r.sent, kept = None, r.sent
del f
gc.collect()
r.sent = kept
print(len(kept))'
    assert_output "0"
    assert_equal "$stderr" ""
}

@test "every public name of the package is documented" {
    run -0 "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import cpmp
missing = [n for n in cpmp.__all__ if n != "__version__" and len((getattr(cpmp, n).__doc__ or "").strip()) < 40]
print(len(cpmp.__all__), missing, len(cpmp.__doc__) > 200)' "$CPMP_BUILD_ROOT/pyhook"
    assert_output "12 [] True"
}
