"""multiprocessing's own channels keep working under the patch: ipc.py METHOD.

Queues, SimpleQueue, Pipe connections, a Manager and sharedctypes, and a
Pipe Connection and a Value passed to a child whose target is a lambda.
"""
import multiprocessing
import sys


def main(method):
    ctx = multiprocessing.get_context(method)
    out = []

    q = ctx.Queue()
    q.put({"a": [1, 2]})
    out.append(q.get())

    sq = ctx.SimpleQueue()
    sq.put((1, "x"))
    out.append(sq.get())

    parent, child = ctx.Pipe()
    value = ctx.Value("i", 0)
    array = ctx.Array("d", [0.5, 1.5])
    proc = ctx.Process(
        target=lambda conn, v, a: (conn.send(("pong", conn.recv())),
                                   setattr(v, "value", 42),
                                   a.__setitem__(0, 9.5)),
        args=(child, value, array))
    proc.start()
    parent.send("ping")
    out.append(parent.recv())
    proc.join()
    out.append((value.value, list(array), proc.exitcode))

    with ctx.Manager() as manager:
        shared = manager.dict()
        lst = manager.list()
        with ctx.Pool(2) as pool:
            pool.map(lambda i: (shared.__setitem__(i, i * i), lst.append(i)), range(4))
        out.append((sorted(shared.items()), sorted(lst)))
    print(out)


if __name__ == "__main__":
    main(sys.argv[1])
