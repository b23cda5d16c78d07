"""Families of code (tests/scripts/families.py): nested code, shadowed
builtins, decorated defs and methods of main-block classes, closures'
own cells, and programs that send nothing by value."""

from families import ITEMS, SENDS, new_case

# Nested code reading K: source (with K for the global) and what it gives.
NESTED = {
    "listcomp": ("[K + y for y in range(x)]", lambda k, x: [k + y for y in range(x)]),
    "setcomp": ("sorted({K + y for y in range(x)})",
                lambda k, x: sorted({k + y for y in range(x)})),
    "dictcomp": ("{y: K for y in range(x)}", lambda k, x: {y: k for y in range(x)}),
    "genexpr": ("sum(K + y for y in range(x + 1))", lambda k, x: sum(k + y for y in range(x + 1))),
    "lambda": ("(lambda y: K + y)(x)", lambda k, x: k + x),
    "def": (None, lambda k, x: 2 * k + x),
}


def _stmts(container, k):
    if container == "def":
        return ["def g(y):", "    return %s + y" % k, "return g(x) + %s" % k]
    return ["return " + NESTED[container][0].replace("K", k)]


def function(kind, name, stmts, indent=""):
    """(top lines, main lines, fn expression) of a function of x."""
    body = [indent + "    " + s for s in stmts]
    if kind == "lambda":
        return [], [], "lambda x: " + stmts[0][len("return "):]
    if kind == "closure":
        return (["def make_%s(c):" % name, "    def f(x):", "        c"]
                + ["    " + b for b in body] + ["    return f"], [], "make_%s(0)" % name)
    if kind == "top-def":
        return ["def top_%s(x):" % name] + body, [], "top_" + name
    return [], ["def main_%s(x):" % name] + body, "main_" + name


def _sends(fn, once, pool="POOL", chunksize=1, after=()):
    lines = ["out = []"] + (["fn = " + fn] if once else []) + ["for s in range(%d):" % SENDS]
    lines += ([] if once else ["    fn = " + fn])
    lines += ["    out.append(%s.map(fn, ITEMS, chunksize=%d))" % (pool, chunksize)]
    return lines + ["    " + a for a in after]


def nested(rng, method, ident):
    container = rng.choice(sorted(NESTED))
    kind = rng.choice(("lambda", "closure", "main-def"))
    if container == "def" and kind == "lambda":
        kind = "closure"
    loc, rebind = rng.choice(("top", "before", "after")), rng.choice((False, True))
    once, chunksize = rng.choice((True, False)) or kind == "main-def", rng.choice((1, 3))
    case = new_case("nested", method, ident, container=container, kind=kind, loc=loc,
                    rebind=rebind, once=once, chunksize=chunksize)
    k, base = "K%d" % ident, 10 * ident
    bind = ["%s = %d" % (k, base)]
    after = ["%s = %s + 1000" % (k, k)] if rebind else []

    def lines(kind):
        top, main, fn = function(kind, str(ident), _stmts(container, k))
        top = (bind if loc == "top" else []) + top
        pre = bind if loc == "before" else []
        head = bind if loc == "after" else []
        if kind == "main-def" and loc != "after":
            pre, main = pre + main, []
        return {"top": top, "pre": pre, "body": head + main + _sends(fn, once, "POOL",
                                                                    chunksize, after)}
    case.update(lines(kind))
    f = NESTED[container][1]
    ks = [base if loc == "top" or not rebind else base + 1000 * s for s in range(SENDS)]
    case["want"] = str([[f(ks[s], x) for x in ITEMS] for s in range(SENDS)])
    if loc == "top" or (method == "fork" and loc == "before" and not rebind):
        case["stock"] = lines("top-def")
    top, main, fn = function(kind, str(ident), _stmts(container, k))
    case["trip"] = {"top": (bind if loc == "top" else []) + top,
                    "body": ([] if loc == "top" else bind) + main + ["fn = " + fn], "want": "same"}
    return case


SHADOWS = (("dir", "type"), ("input", "format"), ("id", "ascii"))
TOP_SHADOW = ("hash", "vars")
SHADOW_EXPR = {
    "listcomp": ('[A + "/" + B + str(y) for y in range(x)]',
                 lambda a, b, x: [a + "/" + b + str(y) for y in range(x)]),
    "genexpr": ('"|".join(A + B + str(y) for y in range(x + 1))',
                lambda a, b, x: "|".join(a + b + str(y) for y in range(x + 1))),
    "dictcomp": ("{B + str(y): A for y in range(x)}",
                 lambda a, b, x: {b + str(y): a for y in range(x)}),
    "lambda": ("(lambda y: A + B + str(y))(x)", lambda a, b, x: a + b + str(x)),
}


def shadow(rng, method, ident):
    """Main-block (or top-level) names shadowing builtins, read by code
    nested in the function sent: `dir, type = '/data', 'train'`."""
    expr = rng.choice(sorted(SHADOW_EXPR))
    kind = rng.choice(("lambda", "closure", "main-def"))
    when = rng.choice(("top", "before", "after"))
    rebind = rng.choice((False, True))
    a, b = TOP_SHADOW if when == "top" else rng.choice(SHADOWS)
    case = new_case("shadow", method, ident, expr=expr, kind=kind, when=when, rebind=rebind,
                    names=a + "," + b)
    v = ("/data%d" % ident, "train%d" % ident) if when != "top" else ("toph", "topv")
    source = SHADOW_EXPR[expr][0].replace("A", a).replace("B", b)
    bind = ["%s, %s = %r, %r" % (a, b, v[0], v[1])]
    after = ["%s = %s + '!'" % (a, a)] if rebind else []

    def lines(kind):
        top, main, fn = function(kind, str(ident), ["return " + source])
        body = main
        if when == "before":
            body += ["with ctx.Pool(1) as pool:"]
            body += ["    " + s for s in _sends(fn, True, "pool", 1, after)]
        else:
            body += _sends(fn, True, "POOL", 1, after)
        if when == "top":
            # Put back what the main block rebound, for the next case.
            return {"top": bind + top, "pre": [], "body": body + bind}
        return {"top": top, "pre": [], "body": bind + body + ["del %s, %s" % (a, b)]}
    case.update(lines(kind))
    f = SHADOW_EXPR[expr][1]
    out = []
    for s in range(SENDS):
        first = v[0] + "!" * s if rebind and when != "top" else v[0]
        out.append([f(first, v[1], x) for x in ITEMS])
    case["want"] = str(out)
    if when == "top" or (when == "before" and method == "fork" and not rebind):
        case["stock"] = lines("top-def")
    top, main, fn = function(kind, str(ident), ["return " + source])
    case["trip"] = {"top": (bind if when == "top" else []) + top,
                    "body": ([] if when == "top" else bind) + main + ["fn = " + fn],
                    "want": "same"}
    return case


CLASS = ["class C%(i)d:", "    a = 7", "    def m(self, x):", "        return x + K%(i)d + self.a",
         "    @classmethod", "    def cm(cls, x):", "        return x + K%(i)d + cls.a",
         "    @staticmethod", "    def sm(x):", "        return x + K%(i)d"]
DECORATED = ["@deco", "def d%(i)d(x):", '    "doc %(i)d"', "    return x + K%(i)d"]


def _deco_lines(kind, ident, when, stock, base):
    i = {"i": ident}
    bind = ["K%d = %d" % (ident, base)]
    if kind == "wraps-top":
        return bind + [s % i for s in DECORATED], [], "d%d" % ident
    if kind == "wraps-lambda":
        defs, fn = [], "deco(lambda x: x + K%d)" % ident
    elif kind == "wraps-main":
        defs, fn = [s % i for s in DECORATED], "d%d" % ident
    else:
        defs = [s % i for s in CLASS]
        fn = {"bound": "C%d().m", "classmethod": "C%d.cm", "staticmethod": "C%d.sm"}[kind] % ident
    if stock:
        return defs, bind, fn
    return [], bind + defs, fn


def decorated(rng, method, ident):
    """functools.wraps over main-block, top-level and lambda functions, and
    the methods of a main-block class (whose attribute may change)."""
    kinds = ("wraps-main", "wraps-top", "wraps-lambda", "bound", "classmethod", "staticmethod")
    kind = rng.choice(kinds)
    when, rebind = rng.choice(("before", "after")), rng.choice((False, True))
    cattr = kind in ("bound", "classmethod") and rng.choice((False, True))
    case = new_case("decorated", method, ident, kind=kind, when=when, rebind=rebind, cattr=cattr)
    base = 10 * ident
    after = (["K%d += 1000" % ident] if rebind and kind != "wraps-top" else []) + \
        (["C%d.a += 1" % ident] if cattr else [])

    def lines(stock):
        top, main, fn = _deco_lines(kind, ident, when, stock, base)
        pre, body = (main, []) if when == "before" else ([], main)
        return {"top": top, "pre": pre, "body": body + _sends(fn, True, "POOL", 1, after)}
    case.update(lines(False))
    out = []
    for s in range(SENDS):
        k = base + (1000 * s if rebind and kind != "wraps-top" else 0)
        held = method == "fork" and when == "before" and (not rebind or s == 0)
        a = 7 + (s if cattr and not held else 0)
        if kind.startswith("wraps"):
            name = "<lambda>" if kind == "wraps-lambda" else "d%d" % ident
            doc = None if kind == "wraps-lambda" else "doc %d" % ident
            out.append([(name, doc, x + k) for x in ITEMS])
        else:
            out.append([x + k + (0 if kind == "staticmethod" else a) for x in ITEMS])
    case["want"] = str(out)
    if kind == "wraps-top" or (method == "fork" and when == "before" and not rebind
                               and kind != "wraps-lambda"):  # python3 cannot name a lambda
        case["stock"] = lines(True)
    top, main, fn = _deco_lines(kind, ident, when, False, base)
    case["trip"] = {"top": top, "body": main + ["fn = " + fn], "want": "same"}
    return case


def cells(rng, method, ident):
    """Every received function has its own cells and defaults: a counter
    in a closure, in a list cell, in a mutable default."""
    kind = rng.choice(("counter", "listcell", "default-lambda", "main-default"))
    once, chunksize = rng.choice((True, False)), rng.choice((1, 3))
    case = new_case("cells", method, ident, kind=kind, once=once, chunksize=chunksize)
    top, pre = [], []
    if kind == "counter":
        top = ["def count%d():" % ident, "    n = 0", "    def f(x):", "        nonlocal n",
               "        n += 1", "        return n", "    return f"]
        fn = "count%d()" % ident
    elif kind == "listcell":
        top = ["def count%d():" % ident, "    n = [0]", "    def f(x):", "        n[0] += 1",
               "        return n[0]", "    return f"]
        fn = "count%d()" % ident
    elif kind == "default-lambda":
        fn = "lambda x, acc=[]: acc.append(x) or len(acc)"
    else:
        pre = ["def acc%d(x, acc=[]):" % ident, "    acc.append(x)", "    return len(acc)"]
        fn, once = "acc%d" % ident, True
    case["params"]["once"] = once
    body = _sends(fn, once, "POOL", chunksize) + ["out.append(fn(0))"]
    case.update({"top": top, "pre": pre, "body": body})
    held = kind == "main-default" and method == "fork"
    out, n = [], 0
    for s in range(SENDS):
        row = []
        for j in range(0, len(ITEMS), chunksize):
            for _ in ITEMS[j:j + chunksize]:
                n = n + 1 if held else len(row) - j + 1
                row.append(n)
        out.append(row)
    case["want"] = str(out + [1])
    if held:
        case["stock"] = {"top": ["def acc%d(x, acc=[]):" % ident, "    acc.append(x)",
                                 "    return len(acc)"], "pre": [], "body": body}
    case["trip"] = {"top": top, "body": pre + ["fn = " + fn], "want": "same"}
    return case


def plain(rng, method, ident):
    """Programs that send nothing by value: as python3, byte for byte."""
    kind = rng.choice(("top-def", "partial", "operator", "builtin", "instance"))
    case = new_case("plain", method, ident, kind=kind)
    base, k = 10 * ident, "P%d" % ident
    top = ["%s = %d" % (k, base), "def top%d(x):" % ident, "    return x + %s" % k,
           "def add%d(a, x):" % ident, "    return 10 * a + x + %s" % k,
           "class Adder%d:" % ident, "    def __init__(self, n):", "        self.n = n",
           "    def add(self, x):", "        return x + self.n"]
    same = "bytes(ForkingPickler.dumps(fn)) == stock_dumps(fn)"
    calls = {"top-def": ("top%d" % ident, "POOL.map(fn, ITEMS)"),
             "partial": ("functools.partial(add%d, s)" % ident, "POOL.map(fn, ITEMS)"),
             "operator": ("operator.mul", "POOL.starmap(fn, [(x, s + 2) for x in ITEMS])"),
             "builtin": ("str.upper", "POOL.map(fn, ['a%d' % x for x in ITEMS])"),
             "instance": ("inst.add", "POOL.map(fn, ITEMS)")}
    fn, call = calls[kind]
    body = ["inst = Adder%d(%d)" % (ident, base), "out = []", "for s in range(%d):" % SENDS,
            "    fn = " + fn, "    out.append((%s, %s))" % (call, same),
            "    %s += 1" % k, "    inst.n += 1"]
    case.update({"top": top, "pre": [], "body": body})
    out = []
    for s in range(SENDS):
        row = {"top-def": [x + base for x in ITEMS], "partial": [10 * s + x + base for x in ITEMS],
               "operator": [x * (s + 2) for x in ITEMS], "builtin": ["A%d" % x for x in ITEMS],
               "instance": [x + base + s for x in ITEMS]}[kind]
        out.append((row, True))
    case["want"] = str(out)
    case["stock"] = {"top": top, "pre": [], "body": body}
    case["trip"] = {"top": top, "body": ["inst = Adder%d(%d)" % (ident, base), "s = 1",
                                         "fn = " + fn], "want": "same"}
    return case
