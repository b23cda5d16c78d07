"""Families of readers (tests/scripts/families.py): who reads a message
-- a sibling or an os.fork child forked before the object was bound, one
forked after, the sender itself from its own queue -- and workers
replaced between sends."""

from families import ITEMS, SENDS, new_case
from families_objects import construct

WEAK = {"Box": True, "SlotBox": False, "dict": False}


def _reader_lines(reader, pin, obj, task, parent, g, base):
    lines = []
    if reader == "own":
        lines += ["q = ctx.SimpleQueue()"]
    else:
        lines += ["here, there = ctx.Pipe()"]
    if reader == "early-process":
        lines += ["rd = ctx.Process(target=serve, args=(there,))", "rd.start()"]
    elif reader == "early-fork":
        lines += ["pid = os.fork()", "if pid == 0:", "    try:", "        serve(there)",
                  "    finally:", "        os._exit(0)"]
    lines += ["%s = %s" % (g, construct(obj, base))]
    if pin:  # a fork now pins what the main module binds
        lines += ["pid2 = os.fork()", "if pid2 == 0:", "    os._exit(0)", "os.waitpid(pid2, 0)"]
    if reader == "late-process":
        lines += ["rd = ctx.Process(target=serve, args=(there,))", "rd.start()"]
    lines += ["fn = lambda x: %s(%s)" % (task, g), "out = []", "for s in range(%d):" % SENDS]
    if reader == "own":
        lines += ["    q.put(fn)", "    f2 = q.get()", "    out.append([f2(x) for x in ITEMS])"]
    else:
        lines += ["    out.append(ask(here, fn))"]
    if parent == "mutate":
        lines += ["    bump(%s)" % g]
    elif parent == "rebind":
        lines += ["    %s = %s" % (g, construct(obj, 0).replace("0", "peek(%s) + 100" % g))]
    if reader != "own":
        lines += ["here.send(None)"]
        lines += ["os.waitpid(pid, 0)"] if reader == "early-fork" else ["rd.join()"]
    return lines + ["out.append(peek(%s))" % g]


def _stock(body, ident, task, g):
    """The same lines with a top-level def for the lambda."""
    lam = "fn = lambda x: %s(%s)" % (task, g)
    return {"top": ["def top_%d(x):" % ident, "    return %s(%s)" % (task, g)], "pre": [],
            "body": ["fn = top_%d" % ident if b == lam else b for b in body]}


def readers(rng, method, ident):
    """A function reading a main-block object, sent to a reader that holds
    it or not; the sender keeps its pins either way."""
    reader = rng.choice(("early-process", "early-fork", "late-process", "own"))
    pin, obj = rng.choice((False, True)), rng.choice(sorted(WEAK))
    task, parent = rng.choice(("bump", "peek")), rng.choice(("none", "mutate", "rebind"))
    case = new_case("readers", method, ident, reader=reader, pin=pin, obj=obj, task=task,
                    parent=parent)
    g, base = "G%d" % ident, 10 * ident
    case["body"] = _reader_lines(reader, pin, obj, task, parent, g, base)
    pinned = pin or (reader == "late-process" and method == "fork")
    sender, original, reader_v, out = base, True, base, []
    for s in range(SENDS):
        if reader == "late-process":
            held = method == "fork" and original and WEAK[obj]
        else:
            held = reader == "own" and pinned and original and WEAK[obj]
        v = (sender if reader == "own" else reader_v) if held else sender
        row = []
        for _ in ITEMS:
            v += task == "bump"
            row.append(v)
        out.append(row)
        if held and reader == "own":
            sender = v
        elif held:
            reader_v = v
        if parent == "mutate":
            sender += 1
        elif parent == "rebind":
            sender, original = sender + 100, False
    case["want"] = str(out + [sender])
    if WEAK[obj] and parent != "rebind" and (
            (reader == "late-process" and method == "fork") or (reader == "own" and pinned)):
        case["stock"] = _stock(case["body"], ident, task, g)
    case["trip"] = {"top": [], "body": ["%s = %s" % (g, construct(obj, base)),
                                        "fn = lambda x: %s(%s)" % (task, g)], "want": "same"}
    return case


def replaced(rng, method, ident):
    """A fresh pool for each send, or (but under fork, where CPython's own
    maxtasksperchild is not reliable) a worker replaced after each task."""
    mode = rng.choice(("per-send", "maxtasks")) if method != "fork" else "per-send"
    obj, task = rng.choice(sorted(WEAK)), rng.choice(("bump", "peek"))
    parent = rng.choice(("none", "mutate", "rebind"))
    case = new_case("replaced", method, ident, mode=mode, obj=obj, task=task, parent=parent)
    g, base = "G%d" % ident, 10 * ident
    opts = ", maxtasksperchild=1" if mode == "maxtasks" else ""
    body = ["%s = %s" % (g, construct(obj, base)), "fn = lambda x: %s(%s)" % (task, g),
            "out = []", "for s in range(%d):" % SENDS, "    with ctx.Pool(1%s) as pool:" % opts,
            "        out.append(pool.map(fn, ITEMS, chunksize=1))"]
    if parent == "mutate":
        body += ["    bump(%s)" % g]
    elif parent == "rebind":
        body += ["    %s = %s" % (g, construct(obj, 0).replace("0", "peek(%s) + 100" % g))]
    case["body"] = body
    held = method == "fork" and WEAK[obj]
    out, sender = [], base
    for s in range(SENDS):
        bump = task == "bump"
        out.append([sender + bump * (j + 1 if held else 1) for j in range(len(ITEMS))])
        sender += 1 if parent == "mutate" else 100 if parent == "rebind" else 0
    case["want"] = str(out)
    if method == "fork" and (held or task == "peek"):
        case["stock"] = _stock(body, ident, task, g)
    case["trip"] = {"top": [], "body": body[:2], "want": "same"}
    return case
