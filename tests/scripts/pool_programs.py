"""The programs of tests/differential.py's pool cases (its model is there):
one program runs every case of one start method, each with a pool of its
own, or, against_cloudpickle, one round trip of each case's function
through cpmp and through cloudpickle."""

SENDS = 3
ITEMS = (0, 1, 2)


def _value(vtype, n):
    return {"v": n} if vtype == "dict" else n


def _round_trips(case, g, fn):
    if case["loc"] == "main" and case["when"] == "after":
        lines = ["%s = %r" % (g, _value(case["vtype"], 10 * case["id"]))]
    else:
        lines = []
    lines += ["theirs = trip(%r, cloudpickle.dumps(%s), 'cloudpickle')" % (g, fn),
              "ours = trip(%r, cpmp.dumps(%s), 'pickle')" % (g, fn),
              "out = 'same' if ours == theirs else 'differ %s %s' % (ours, theirs)"]
    return lines


_TRIP = [
    "def _trip(name, blob, loads):",
    "    f = __import__(loads).loads(blob)",
    "    return [f(x) for x in %r], globals().get(name)" % (list(ITEMS),),
    "def trip(name, blob, loads):",
    "    # Loaded and called in a spawned child, as a worker would.",
    "    return POOL.apply(_trip, (name, blob, loads))",
]


# --- the programs -----------------------------------------------------------------

def _body(case, g):
    """The statements of a function of x that reads (or mutates) global g."""
    read = g + '["v"]' if case["vtype"] == "dict" else g
    if case["task_op"] == "mutate":
        return ["%s[\"v\"] += 1" % g, "return x + %s" % read]
    return ["return x + %s" % read]


def _expr(case, g):
    read = g + '["v"]' if case["vtype"] == "dict" else g
    if case["task_op"] == "mutate":
        return '(%s.__setitem__("v", %s + 1), x + %s)[1]' % (g, read, read)
    return "x + %s" % read


def _def(name, body, indent):
    pad = " " * indent
    return [pad + "def %s(x):" % name] + [pad + "    " + line for line in body]


def program(cases, stock, against_cloudpickle=False):
    """One program running every case given (all of one start method).  With
    stock, the function is a top-level def (what python3 can send).  With
    against_cloudpickle, no pool per case: one round trip of the
    function through cpmp and one through cloudpickle, loaded and called on
    the same items in a spawned child; it prints whether results and the
    child's global afterwards agree."""
    top = ["import multiprocessing, os, sys",
           "from concurrent.futures import ProcessPoolExecutor", "",
           "def call_all(q, fn, items):", "    q.put([fn(x) for x in items])", ""]
    main = ['if __name__ == "__main__":', "    ctx = multiprocessing.get_context(sys.argv[1])"]
    if against_cloudpickle:
        top += ["import cloudpickle, cpmp"] + _TRIP
        main.append("    POOL = multiprocessing.get_context('spawn').Pool(1)")
    for case in cases:
        i, vtype = case["id"], case["vtype"]
        g = "G%d" % i
        value = repr(_value(vtype, 10 * i))
        body = _body(case, g)
        if case["loc"] == "top":
            top.append("%s = %s" % (g, value))
        if case["init"] == "rebind":
            top += ["def init%d():" % i, "    global %s" % g,
                    "    %s = %r" % (g, _value(vtype, 10 * i + 100))]
        kind = "top-def" if stock else case["kind"]
        if kind == "top-def":
            top += _def("top_f%d" % i, body, 0)
            fn = "top_f%d" % i
        elif kind == "lambda":
            fn = "lambda x: %s" % _expr(case, g)
        elif kind == "closure":
            top += ["def make%d(c):" % i] + _def("f", ["c"] + body, 4) + ["    return f"]
            fn = "make%d(0)" % i
        elif kind == "nested":
            top += ["def nest%d():" % i] + _def("inner", body, 4) + ["    return inner"]
            fn = "nest%d()" % i
        elif kind == "local-class":
            top += ["def klass%d():" % i, "    class Local:"]
            top += ["        def __call__(self, x):"] + ["            " + b for b in body]
            top += ["    return Local()"]
            fn = "klass%d()" % i
        else:
            fn = "main_f%d" % i
        lines = []
        if case["loc"] == "main" and case["when"] == "before":
            lines.append("%s = %s" % (g, value))
        if kind == "main-def":
            lines += _def("main_f%d" % i, body, 0)
        if against_cloudpickle:
            lines += _round_trips(case, g, fn)
        else:
            lines += _sends(case, g, value, fn)
        lines.append("print(%d, out, flush=True)" % i)
        main += ["    try:"] + ["        " + line for line in lines]
        main += ["    except Exception as exc:",
                 "        print(%d, 'error', type(exc).__name__, exc, flush=True)" % i]
    return "\n".join(top + [""] + main) + "\n"


def _sends(case, g, value, fn):
    """A pool (started as the case says), SENDS maps of fn, and the main
    block's rebinding or mutation of g between them."""
    i = case["id"]
    init = ", initializer=init%d" % i if case["init"] == "rebind" else ""
    if case["api"] == "process":
        # One Process a send; it calls fn on every item and sends back the list.
        lines = ["if True:", "    q = ctx.SimpleQueue()"]
    elif case["api"] == "pool":
        lines = ["with ctx.Pool(1%s) as pool:" % init]
    else:
        lines = ["with ProcessPoolExecutor(1, mp_context=ctx%s) as pool:" % init]
    if case["loc"] == "main" and case["when"] == "after":
        lines.append("    %s = %s" % (g, value))
    lines += ["    out = []", "    for s in range(%d):" % SENDS, "        fn = %s" % fn]
    if case["api"] == "process":
        lines += ["        proc = ctx.Process(target=call_all, args=(q, fn, %r))" % (list(ITEMS),),
                  "        proc.start()", "        out.append(q.get())", "        proc.join()"]
    else:
        lines.append("        out.append(list(pool.map(fn, %r, chunksize=%d)))"
                     % (list(ITEMS), case["chunksize"]))
    if case["parent_op"] == "rebind":
        if case["vtype"] == "dict":
            lines.append('        %s = {"v": %s["v"] + 1000}' % (g, g))
        else:
            lines.append("        %s = %s + 1000" % (g, g))
    elif case["parent_op"] == "mutate":
        lines.append('        %s["v"] += 1' % g)
    return lines
