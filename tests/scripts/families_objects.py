"""Families of objects (tests/scripts/families.py): objects with and
without weak references, files and locks inside containers, rebinding to
equal objects of other types or to objects another name holds, defaults
and kwdefaults changing type, names unbound then bound."""

from families import ITEMS, SENDS, new_case
from families_code import function, _sends

OBJECTS = {"Box": True, "WeakSlot": True, "SlotBox": False, "dict": False, "list": False,
           "tuple-box": False}


def construct(obj, v):
    return {"dict": '{"v": %d}' % v, "list": "[%d]" % v,
            "tuple-box": "(Box(%d),)" % v}.get(obj, "%s(%d)" % (obj, v))


def simulate(held, sender, worker, chunksize, bump):
    """One map of ITEMS: (row, worker's value after); held, the worker's
    own object (value worker) is used, else a copy of sender's value a task."""
    row = []
    for j in range(0, len(ITEMS), chunksize):
        copy = sender
        for _ in ITEMS[j:j + chunksize]:
            if held:
                worker += bump
                row.append(worker)
            else:
                copy += bump
                row.append(copy)
    return row, worker


def weak(rng, method, ident):
    """Held or by value: a task that mutates a main-block object shows
    whose copy it mutates."""
    obj, when = rng.choice(sorted(OBJECTS)), rng.choice(("before", "after"))
    kind, task = rng.choice(("lambda", "closure", "main-def")), rng.choice(("bump", "peek"))
    parent, chunksize = rng.choice(("none", "mutate")), rng.choice((1, 3))
    case = new_case("weak", method, ident, obj=obj, when=when, kind=kind, task=task,
                    parent=parent, chunksize=chunksize)
    g, base = "G%d" % ident, 10 * ident
    acc = g + "[0]" if obj == "tuple-box" else g
    bind = ["%s = %s" % (g, construct(obj, base))]
    after = ["bump(%s)" % acc] if parent == "mutate" else []

    def lines(kind):
        top, main, fn = function(kind, str(ident), ["return %s(%s)" % (task, acc)])
        pre, body = (bind + main, []) if when == "before" else ([], bind + main)
        return {"top": top, "pre": pre, "body": body + _sends(fn, True, "POOL", chunksize, after)}
    case.update(lines(kind))
    held = method == "fork" and when == "before" and (OBJECTS[obj] or kind == "main-def")
    out, sender, worker = [], base, base
    for s in range(SENDS):
        row, worker = simulate(held, sender, worker, chunksize, task == "bump")
        out.append(row)
        sender += parent == "mutate"
    case["want"] = str(out)
    if held:
        case["stock"] = lines("top-def")
    top, main, fn = function(kind, str(ident), ["return %s(%s)" % (task, acc)])
    case["trip"] = {"top": top, "body": bind + main + ["fn = " + fn], "want": "same"}
    return case


RESOURCES = {  # what it is made of, how a task uses it, the error sending it by value
    "lock": ("ctx.Lock()", "R.acquire(False) and (R.release() or 'locked')", "RuntimeError"),
    "rlock": ("ctx.RLock()", "R.acquire(False) and (R.release() or 'locked')", "RuntimeError"),
    "file": ("open(__file__)", "R.name.endswith('.py')", "TypeError"),
    "lock-list": ("[ctx.Lock()]", "R[0].acquire(False) and (R[0].release() or 'locked')",
                  "RuntimeError"),
    "lock-tuple": ("(ctx.Lock(), 1)", "R[0].acquire(False) and (R[0].release() or 'locked')",
                   "RuntimeError"),
    "file-dict": ('{"f": open(__file__)}', 'R["f"].name.endswith(".py")', "TypeError"),
    "box-lock": ("Box(ctx.Lock())", "R.v.acquire(False) and (R.v.release() or 'locked')",
                 "RuntimeError"),
}


def resources(rng, method, ident):
    """Files and locks, bare or inside containers: what a forked worker
    holds works; anything else fails with one error, and the pool lives on."""
    res, when = rng.choice(sorted(RESOURCES)), rng.choice(("before", "after"))
    kind = rng.choice(("lambda", "main-def"))
    case = new_case("resources", method, ident, res=res, when=when, kind=kind)
    make, use, error = RESOURCES[res]
    r = "R%d" % ident
    bind = ["%s = %s" % (r, make)]

    def lines(kind):
        top, main, fn = function(kind, str(ident), ["return " + use.replace("R", r)])
        pre, body = (bind + main, []) if when == "before" else ([], bind + main)
        body += ["fn = " + fn, "out = [attempt(lambda: POOL.map(fn, ITEMS)) for s in range(2)]"]
        return {"top": top, "pre": pre, "body": body}
    case.update(lines(kind))
    works = method == "fork" and when == "before" and \
        (res in ("lock", "rlock", "file", "box-lock") or kind == "main-def")
    value = "locked" if "lock" in res else True
    case["want"] = str([[value] * len(ITEMS) if works else error] * 2)
    if works:
        case["stock"] = lines("top-def")
    top, main, fn = function(kind, str(ident), ["return " + use.replace("R", r)])
    case["trip"] = {"top": top, "body": bind + main + ["fn = " + fn],
                    "want": "differ" if "file" in res else "same"}
    return case


# Rebindings to equal objects of other types, singletons, interned strings.
FLAGS = (("1", "True", "1.0"), ("0", "False", "0.0"), ("None", "False", "0"),
         ("True", "1", "True"), ("1.0", "1", "True"), ("2", "2.0", "2"),
         ("-0.0", "0.0", "False"), ("'on'", "sys.intern('on')", "'of'"), ("256", "256.0", "256"))


def flags(rng, method, ident):
    """A global or a cell rebound to equal values of other types, or a
    global rebound to an object another name holds, between sends of the
    same function object."""
    variant = rng.choice(("global", "cell", "other-name"))
    kind, when = rng.choice(("lambda", "closure", "main-def")), rng.choice(("before", "after"))
    chunksize = rng.choice((1, 3))
    seq = rng.choice(FLAGS) if variant != "other-name" else \
        ("None",) + tuple(rng.choice(("None", "OTHER", "NEW")) for _ in range(SENDS - 1))
    case = new_case("flags", method, ident, variant=variant, kind=kind, when=when,
                    seq="/".join(seq), chunksize=chunksize)
    f, other = "F%d" % ident, "OTHER%d" % ident
    if variant == "cell":
        top = ["def cell%d(v):" % ident, "    def f(x):", "        return (x, v)",
               "    def setv(n):", "        nonlocal v", "        v = n", "    return f, setv"]
        bind = ["fn%d, setv%d = cell%d(%s)" % (ident, ident, ident, seq[0])]
        steps = ["setv%d(%s)" % (ident, v) for v in seq[1:]]
        fn = "fn%d" % ident
    else:
        if variant == "global":
            stmts, binds = ["return (x, %s)" % f], ["%s = %s" % (f, v) for v in seq]
        else:
            stmts = ["return %s if %s is None else bump(%s)" % (f, f, f)]
            binds = ["%s = %s" % (f, {"None": "None", "OTHER": other,
                                      "NEW": "Box(%d)" % (10 * ident + 5)}[v]) for v in seq]
        top, main, fn = function(kind, str(ident), stmts)
        bind = ["%s = Box(%d)" % (other, 10 * ident), binds[0]] + main
        steps = binds[1:]
    pre, body = (bind, []) if when == "before" else ([], bind)
    body += ["out = []", "fn = " + fn]
    for s in range(SENDS):
        body += ["out.append(POOL.map(fn, ITEMS, chunksize=%d))" % chunksize]
        body += steps[s:s + 1]
    case.update({"top": top, "pre": pre, "body": body})
    if variant != "other-name":
        values = [eval(v, {"sys": __import__("sys")}) for v in seq]
        case["want"] = str([[(x, v) for x in ITEMS] for v in values])
    else:
        out, worker = [], 10 * ident
        for v in seq:
            if v == "None":
                out.append([None] * len(ITEMS))
                continue
            held = v == "OTHER" and when == "before" and method == "fork"
            row, w = simulate(held, 10 * ident + (5 if v == "NEW" else 0), worker, chunksize, 1)
            worker = w if held else worker
            out.append(row)
        case["want"] = str(out)
    case["trip"] = {"top": top, "body": bind + ["fn = " + fn], "want": "same"}
    return case


CHANGES = (("__defaults__", "(True,)"), ("__defaults__", "(1.0,)"), ("__defaults__", "(1,)"),
           ("__kwdefaults__", "{'b': True}"), ("__kwdefaults__", "{'b': 2.0}"),
           ("kwitem", "False"), ("__defaults__", "None"), ("__defaults__", "(2, 3)"))


def _apply(change, a, b):
    attr, src = change
    v = eval(src)
    if attr == "__defaults__":
        return (v if v is None else v[-1]), b
    return a, (v if attr == "kwitem" else v["b"])


def defaults(rng, method, ident):
    """__defaults__ and __kwdefaults__ changed between sends, to equal
    values of other types, in place, or away."""
    kind = rng.choice(("main-def", "lambda", "closure", "top-def"))
    when = rng.choice(("before", "after"))
    if kind == "main-def" and method == "fork":
        # Not a def a forked worker holds: the resend cache sends it by value
        # after the first task once its defaults changed (BUGS.md, "a held
        # main-block def whose __defaults__ changed after the fork").
        when = "after"
    changes = [rng.choice(CHANGES) for _ in range(SENDS - 1)]
    case = new_case("defaults", method, ident, kind=kind, when=when,
                    changes="/".join("%s=%s" % c for c in changes))
    stmts = ["return (x, a, b)"]

    def lines(kind):
        top, main, fn = function(kind, str(ident), stmts)
        if kind == "lambda":
            fn = "lambda x, a=1, *, b=2: (x, a, b)"
        elif kind == "closure":
            top = ["def make_%d():" % ident, "    def f(x, a=1, *, b=2):",
                   "        return (x, a, b)", "    return f"]
            fn = "make_%d()" % ident
        else:
            top, main = [(t.replace("(x):", "(x, a=1, *, b=2):")) for t in top], \
                [(m.replace("(x):", "(x, a=1, *, b=2):")) for m in main]
        name = "fn%d" % ident
        bind = main + ["%s = %s" % (name, fn)]
        steps = [(name + (".__kwdefaults__['b'] = %s" if attr == "kwitem" else ".%s = %%s" % attr))
                 % src for attr, src in changes]
        body = ["out = []"]
        for s in range(SENDS):
            body += ["out.append(attempt(lambda: POOL.map(%s, ITEMS)))" % name] + steps[s:s + 1]
        pre, body = (bind, body) if when == "before" else ([], bind + body)
        return {"top": top, "pre": pre, "body": body}
    case.update(lines(kind))
    own = kind == "top-def" or (kind == "main-def" and when == "before" and method == "fork")
    out, a, b = [], 1, 2
    for s in range(SENDS):
        out.append("TypeError" if a is None else [(x, a, b) for x in ITEMS])
        if s < len(changes) and not own:
            a, b = _apply(changes[s], a, b)
    case["want"] = str(out)
    if own:
        case["stock"] = lines("top-def")
    top, main, fn = function(kind, str(ident), stmts)
    t = lines(kind)
    bind = [b for b in t["pre"] + t["body"] if b.startswith(("def ", "    ", "fn%d =" % ident))]
    steps = [b for b in t["body"] if b.startswith("fn%d." % ident)] + ["fn = fn%d" % ident]
    for change in changes:
        a, b = _apply(change, a, b)
    case["trip"] = {"top": t["top"], "body": bind + steps,
                    "want": "differ" if kind == "top-def" and repr((a, b)) != "(1, 2)" else "same"}
    return case


def unbound(rng, method, ident):
    """Names unbound at a send, then bound, deleted, bound again."""
    loc = rng.choice(("main", "top"))
    kind = rng.choice(("lambda-once", "lambda", "main-def", "closure"))
    # Not bound in the main block before the pool starts: a forked worker
    # would read its stale copy of a name the sender deleted (BUGS.md,
    # "deleted main-block name read from the forked worker's stale copy").
    states = ["unbound"] + [rng.choice(("unbound", "1", "True", "1.0", "'u'"))
                            for _ in range(SENDS)]
    case = new_case("unbound", method, ident, loc=loc, kind=kind, states="/".join(states))
    u, base = "U%d" % ident, 10 * ident

    def lines(kind):
        top, main, fn = function({"lambda-once": "lambda"}.get(kind, kind), str(ident),
                                 ["return (x, %s)" % u])
        body = main + ["out = []"] + (["fn = " + fn] if kind != "lambda" else [])
        if loc == "top":
            top = ["%s = %d" % (u, base)] + top
            body += ["del %s" % u]
        cur = "unbound"
        for state in states:
            if state != "unbound":
                body += ["%s = %s" % (u, state)]
            elif cur != "unbound":
                body += ["del %s" % u]
            cur = state
            body += ["fn = " + fn] if kind == "lambda" else []
            body += ["out.append(attempt(lambda: POOL.map(fn, ITEMS)))"]
        return {"top": top, "pre": [], "body": body}
    case.update(lines(kind))
    out = []
    for state in states:
        if loc == "top":
            out.append([(x, base) for x in ITEMS])
        else:
            out.append("NameError" if state == "unbound" else [(x, eval(state)) for x in ITEMS])
    case["want"] = str(out)
    if loc == "top":
        case["stock"] = lines("top-def")
    top, main, fn = function({"lambda-once": "lambda"}.get(kind, kind), str(ident),
                             ["return (x, %s)" % u])
    case["trip"] = {"top": (["%s = %d" % (u, base)] if loc == "top" else []) + top,
                    "body": main + ["%s = 1" % u if loc == "main" else "pass", "fn = " + fn],
                    "want": "same"}
    return case
