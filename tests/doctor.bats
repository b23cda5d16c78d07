#!/usr/bin/env bats
# cpmp doctor: what works, checked for real in fresh processes; one line per
# problem with its fix, exit 1; --json for scripts.

load test_helper

setup() {
    cd "$BATS_TEST_TMPDIR" || return
}

@test "on a healthy install the doctor checks both ways of running and exits 0" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" doctor
    assert_line --index 0 "cpmp $CPMP_VERSION ($CPMP)"
    assert_line --regexp "^  preload library $CPMP_BUILD_ROOT/preload/libcpmp_preload.so "
    assert_line --regexp '^cpmp run: embedded Python 3\.[0-9]+\.[0-9]+ '
    assert_line --regexp "^cpmp exec $(realpath "$PYTHON"): Python 3\."
    assert_line --regexp '^  cloudpickle +[0-9.]+ \(/'
    assert_line --regexp '^  start methods +fork \(default\), spawn, forkserver$'
    assert_equal "$(grep -c '^  binding sites   8/8 patched$' <<< "$output")" 2
    assert_line --regexp '^  package .* \(C fast path: yes\)$'
    assert_equal "$(grep -c '^  fast pickler    yes$' <<< "$output")" 2
    assert_equal "$(grep -c '^  Pool lambdas    fork ok, spawn ok, forkserver ok$' <<< "$output")" 2
    assert_line '  preload acts    yes'
    assert_line --index -1 "ok: everything cpmp needs works"
    assert_equal "$stderr" ""
}

@test "--json reports the same for scripts" {
    run -0 --separate-stderr "${T[@]}" "$CPMP" doctor --json
    run -0 "$PYTHON" -c 'import json, sys
r = json.loads(sys.argv[1])
print(r["ok"], r["problems"], r["cpmp"]["version"], r["cpmp"]["speedups"])
for report in [r["embedded"]] + r["preloaded"]:
    print(all(report["sites"].values()), len(report["sites"]), sorted(report["pool"].items()),
          report["default_start_method"], report["cloudpickle"] is not None, report["speedups"])
print(r["preloaded"][0]["preload_acts"], r["preloaded"][0]["executable"])' "$output"
    assert_output "True [] $CPMP_VERSION True
True 8 [('fork', 'ok'), ('forkserver', 'ok'), ('spawn', 'ok')] fork True True
True 8 [('fork', 'ok'), ('forkserver', 'ok'), ('spawn', 'ok')] fork True True
True $(realpath "$PYTHON")"
}

@test "a C fast path that cannot be loaded is reported, with why, in every interpreter" {
    # An installed copy whose _speedups is not a shared object any more.
    meson install -C "$CPMP_BUILD_ROOT" --no-rebuild --quiet --destdir "$BATS_TEST_TMPDIR/inst" > /dev/null
    find "$BATS_TEST_TMPDIR/inst" -name '_speedups*.so' -exec sh -c 'echo junk > "$1"' _ {} \;
    local cpmp_bin
    cpmp_bin=$(find "$BATS_TEST_TMPDIR/inst" -path '*/bin/cpmp')
    # Slower, not broken: lambdas still work, so no problem line.
    run -0 --separate-stderr "${T[@]}" "$cpmp_bin" doctor
    assert_line --regexp '^  package .* \(C fast path: no: not built or not loadable \(.*_speedups.*: file too short\)\)$'
    assert_equal "$(grep -c '^  fast pickler    no: the pure-Python path (slower): not built or not loadable (.*_speedups.*: file too short)$' <<< "$output")" 2
    refute_line '  fast pickler    yes'
    assert_equal "$(grep -c '^  Pool lambdas    fork ok, spawn ok, forkserver ok$' <<< "$output")" 2
}

@test "an interpreter without cloudpickle is one problem line with the install command, exit 1" {
    # A cloudpickle that fails to import hides Debian's from both interpreters.
    mkdir -p broken/cloudpickle
    echo 'raise ImportError("hidden by the test")' > broken/cloudpickle/__init__.py
    PYTHONPATH="$PWD/broken" run -1 --separate-stderr "${T[@]}" "$CPMP" doctor
    assert_line "  cloudpickle     not importable: ImportError: hidden by the test"
    # Lambdas still work without it.
    assert_equal "$(grep -c '^  Pool lambdas    fork ok, spawn ok, forkserver ok$' <<< "$output")" 2
    assert_equal "$(grep -c '^problem: ' <<< "$output")" 2
    assert_line --regexp "^problem: cloudpickle not importable by .*/launcher/python3 \(ImportError: hidden by the test\): local classes cannot be sent; fix: apt-get install python3-cloudpickle$"
    assert_line "problem: cloudpickle not importable by $(realpath "$PYTHON") (ImportError: hidden by the test): local classes cannot be sent; fix: apt-get install python3-cloudpickle"
}

@test "--python checks another interpreter under the preload library" {
    local py
    pyenv_python 3.12
    run -1 "${T[@]}" "$CPMP" doctor --python "$py"
    assert_line "cpmp exec $py: Python $("$py" -c 'import platform; print(platform.python_version())')"
    assert_line "problem: cloudpickle not importable by $py (ModuleNotFoundError: No module named 'cloudpickle'): local classes cannot be sent; fix: $py -m pip install cloudpickle"
    PYTHONPATH="$(cloudpickle_only)" run -0 "${T[@]}" "$CPMP" doctor --python "$py"
    assert_line --index -1 "ok: everything cpmp needs works"
    refute_line --regexp "^cpmp exec $(realpath "$PYTHON")"
}

@test "an interpreter the preload library cannot act in is named with the reason" {
    local py
    pyenv_python 2.7
    run -1 "${T[@]}" "$CPMP" doctor --python "$py"
    assert_line "  preload acts    no: it needs CPython 3.8 or later"
    assert_line "problem: the preload library cannot act in $py (CPython 2.7.18): it needs CPython 3.8 or later; fix: use cpmp with a newer Python"
    assert_equal "$(grep -c '^problem: ' <<< "$output")" 1
}

@test "a binding site that something else replaced is reported by name" {
    mkdir -p site
    cat > site/sitecustomize.py <<'PY'
# A pickler of its own, bound where multiprocessing's was.
import copyreg, io, multiprocessing.queues, pickle

class Mine(pickle.Pickler):
    def __init__(self, *args):
        pickle.Pickler.__init__(self, *args)
        self.dispatch_table = copyreg.dispatch_table.copy()

    @classmethod
    def dumps(cls, obj, protocol=None):
        buf = io.BytesIO()
        cls(buf, protocol).dump(obj)
        return buf.getbuffer()

    loads = staticmethod(pickle.loads)

multiprocessing.queues._ForkingPickler = Mine
PY
    PYTHONPATH="$PWD/site" run -1 "${T[@]}" "$CPMP" doctor
    assert_line "  binding sites   7/8 patched: not multiprocessing.queues._ForkingPickler"
    assert_line "problem: cpmp run leaves multiprocessing.queues._ForkingPickler unpatched; fix: find what rebinds it (a sitecustomize, a .pth file, the program), or report a cpmp bug with this output"
    # Pool's queues pickle with it, so lambdas fail: said, not hung.
    assert_line '  Pool lambdas    fork fails, spawn fails, forkserver fails'
    assert_line --regexp "^problem: cpmp run: Pool.map of a lambda fails with start methods fork, spawn, forkserver: MaybeEncodingError: .*Can't pickle local object.*; fix: the unpatched site above$"
}

@test "CPMP_DISABLE is one problem, not one per interpreter" {
    CPMP_DISABLE=1 run -1 "${T[@]}" "$CPMP" doctor
    assert_equal "$(grep -c '^problem: ' <<< "$output")" 1
    assert_line "problem: CPMP_DISABLE=1 is set: cpmp stays out of every process; fix: unset CPMP_DISABLE"
    assert_line "  binding sites   not patched (cpmp not loaded)"
}

@test "bad doctor arguments exit 2 with one line, and --help helps" {
    run -2 --separate-stderr "$CPMP" doctor --python /no/such/python
    assert_equal "$stderr" "cpmp: --python: '/no/such/python' not found"
    run -2 --separate-stderr "$CPMP" doctor --python
    assert_equal "$stderr" "cpmp: doctor: argument --python: expected one argument (see 'cpmp doctor --help')"
    run -2 --separate-stderr "$CPMP" doctor --frobnicate
    assert_equal "$stderr" "cpmp: doctor: unrecognized arguments: --frobnicate (see 'cpmp doctor --help')"
    run -0 "$CPMP" doctor --help
    assert_line --index 0 "usage: cpmp doctor [-h] [--json] [--python PYTHON] [--cluster ADDRESS]"
    run -2 --separate-stderr "$CPMP" doctor --python /etc/passwd
    assert_equal "$stderr" "cpmp: --python: '/etc/passwd' is not executable"
}

@test "a --python that is not a Python is named as such in one line, with the command run and the end of its stderr" {
    run -2 --separate-stderr "${T[@]}" "$CPMP" doctor --python /bin/ls
    assert_output ""
    assert_equal "$stderr" "cpmp: --python: /bin/ls is not a Python interpreter: \`/bin/ls -c 'import sys; print(sys.version)'\` exited with status 2: /bin/ls: cannot access 'import sys; print(sys.version)': No such file or directory"
    run -2 --separate-stderr "${T[@]}" "$CPMP" doctor --python true
    assert_equal "$stderr" "cpmp: --python: /usr/bin/true is not a Python interpreter: \`/usr/bin/true -c 'import sys; print(sys.version)'\` exited 0 without printing a Python version, printing nothing on stderr"
}

@test "a Python that does not start is one problem line, with a command that shows all it says" {
    printf '#!/bin/sh\necho "Fatal Python error: init_fs_encoding: failed" >&2\nexit 1\n' > python-broken
    chmod +x python-broken
    run -1 --separate-stderr "${T[@]}" "$CPMP" doctor --python ./python-broken
    assert_line --index -1 "problem: cpmp exec $PWD/python-broken failed: Fatal Python error: init_fs_encoding: failed; fix: run \`$CPMP exec -- $PWD/python-broken -c 'import multiprocessing.reduction'\` to see all it says"
    assert_equal "$(grep -c '^problem: ' <<< "$output")" 1
}

@test "cpmp doctor and cpmp kernel run no code from the current directory" {
    mkdir -p checkout
    cd checkout || return
    local name
    for name in json os subprocess argparse tempfile jupyter_client re; do
        printf 'open("%s/RAN-%s", "w").close()\n' "$PWD" "$name" > "$name.py"
    done
    run "${T[@]}" "$CPMP" doctor
    run "${T[@]}" "$CPMP" kernel install --prefix "$PWD/env"
    run "${T[@]}" "$CPMP" doctor --help
    run -0 ls
    refute_output --partial "RAN-"
}
