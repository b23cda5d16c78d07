"""A received object is one whole, and keeps what it got (helper-23's
programs, issue "Sound by construction"):

    kept.py CASE METHOD

classes: a main-block class whose method reads a name rebound after the
fork goes by value; an instance the worker holds, a subclass, an
exception class caught by its base, must come with it, not as the
worker's own objects of the worker's class (isinstance was False).
values: a received function reads the values it got for good, equal ints
and strings too, whatever its process binds later (cloudpickle's answer).
reused: a name rebound to a new object at the dead old one's address,
then a fork (which pins the new one): a worker forked before holds only
the old one and must get the new one's value, not its own old object.
tracked: a class sent by value before a fork, then changed (a name its
method reads rebound, an attribute set): a worker forked after the send
must get the change, not its own copy that cloudpickle's class tracker,
inherited through fork, matched to the message (helper-33).
tracked-fork: the worker's inherited copy sent back is the parent's class,
changed after, reaches the worker changed; a child's inherited copy sent
to its own pool comes back as itself (helper-37).
"""

import multiprocessing as mp
import sys


def call(fn, *args):
    return fn(*args)


def back(x):
    return x


def make_local():
    class Local:
        x = 1

        def get(self):
            return self.x

    return Local


def kind(obj):
    return obj.get()


def mine():
    import __main__

    return __main__.holder[0]  # the worker's copy, inherited through fork


def round_trip(q, out):
    import __main__

    q.get()  # the parent's class arrives by value
    with mp.get_context("fork").Pool(1) as g:
        out.put(g.apply(back, (__main__.holder[0],)) is __main__.holder[0])


if __name__ == "__main__":
    case, method = sys.argv[1], sys.argv[2]
    ctx = mp.get_context(method)
    if case == "classes":
        K = 1

        class A:
            def k(self):
                return K

        class Sub(A):
            pass

        class AppError(Exception):
            def describe(self):
                return "%s %s" % (K, self.args)

        class NotFound(AppError):
            pass

        def lookup(key):
            try:
                raise NotFound(key)
            except AppError as e:
                return e.describe()
            except Exception as e:
                return "uncaught " + type(e).__name__

        obj, sub = A(), Sub()
        with ctx.Pool(1) as p:
            K = 2
            print(p.apply(call, (lambda: (isinstance(obj, A), type(obj) is A, isinstance(sub, A),
                                          issubclass(Sub, A), sub.k(), obj.k()),)),
                  p.apply(lookup, ("a",)))
    elif case == "worker-globals":
        # A helper the task calls initialises a main-block global in the
        # worker; the task reads it (cloudpickle: one namespace for both).
        STATE = None

        def setup():
            global STATE
            STATE = "ready"

        with ctx.Pool(1) as p:
            print(p.map(lambda _: (setup(), STATE)[1], [0]))
    elif case == "returned":
        # What a worker makes of the parent's classes comes back as the
        # parent's own, though the worker rebound a name their methods read.
        MODE, COUNT = "a", 0

        class Rec:
            def __init__(self, v):
                global COUNT
                COUNT += 1
                self.v = v

        class MyErr(Exception):
            def __str__(self):
                return MODE

        def init():
            global MODE
            MODE = "b"

        def fail(x):
            raise MyErr(x)

        with ctx.Pool(1, initializer=init) as p:
            r = p.apply(Rec, (1,))
            try:
                p.apply(fail, (1,))
                caught = "not raised"
            except MyErr as e:
                caught = "caught " + str(e)
            except Exception as e:
                caught = "missed " + type(e).__name__
            print(isinstance(r, Rec), type(r) is Rec, caught)
    elif case == "values":
        class Cfg:
            def __init__(self, v):
                self.v = v

        cfg, N, S = Cfg(1), 1, "one"
        q = ctx.Queue()
        q.put(lambda: (cfg.v, N, S))
        f = q.get()
        cfg, N, S = Cfg(2), 2, "two"
        with ctx.Pool(1) as p:
            fs = [p.apply(back, (lambda: K,)) for K in range(3)]
            g = p.apply(back, (f,))
            print(f(), g(), [h() for h in fs])
    elif case == "reused":
        class Box:
            def __init__(self, v):
                self.v = v

        box = Box(1)
        with ctx.Pool(1) as p:
            p.apply(back, (0,))  # the worker holds box 1
            old, keep = id(box), []
            del box
            box = Box(2)
            while id(box) != old and len(keep) < 1000:
                keep.append(box)
                box = Box(2)
            child = ctx.Process(target=back, args=(0,))
            child.start()  # under fork, pins box 2 at box 1's address
            child.join()
            print(p.apply(call, (lambda: box.v,)), p.apply(call, (box.__class__.__name__.upper,)))
    elif case == "tracked":
        N = 1

        class K:
            def get(self):
                return N

        holder = [make_local()]
        out = []
        with ctx.Pool(1) as p:
            N = 5
            out += [p.apply(kind, (K(),)), p.apply(call, (lambda: holder[0]().get(),))]
        N = 1
        with ctx.Pool(1) as p:
            N, holder[0].x = 6, 3
            out += [p.apply(kind, (K(),)), p.apply(call, (lambda: holder[0]().get(),)),
                    p.apply(call, (lambda k: type(k) is K, K()))]
        print(*out)
    elif case == "tracked-fork":
        holder = [make_local()]
        with ctx.Pool(1) as p:
            p.apply(back, (holder[0],))  # sent by value before the fork
        with ctx.Pool(1) as p:
            out = [p.apply(mine) is holder[0]]
            holder[0].x = 3
            out += [p.apply(call, (lambda o: o.get(), holder[0]())),
                    p.apply(call, (lambda: holder[0]().get(),))]
        q, res = ctx.Queue(), ctx.Queue()
        child = ctx.Process(target=round_trip, args=(q, res))
        child.start()
        q.put(holder[0])
        out.append(res.get(timeout=60))
        child.join()
        print(*out)
