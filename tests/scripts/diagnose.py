"""Unpicklable objects in tasks, results, executor calls and Process args
(diagnose.py METHOD): each error names where the object sits."""
import multiprocessing as mp, select, socket, sqlite3, ssl, sys, threading
from concurrent.futures import ProcessPoolExecutor
class Job:
    def __init__(self): self.conn = Holder()
class Holder:
    def __init__(self): self._lock = threading.Lock()
class Store:
    def __init__(self): self.db = sqlite3.connect(":memory:")
def ident(x): return x
def make_lock(_): return threading.Lock()
if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    with ctx.Pool(1) as p:
        for what in (lambda: p.apply(ident, (Job(),)), lambda: p.map(ident, [1, Job()]), lambda: p.apply(ident, (1,), {"k": open(__file__)}), lambda: p.apply(make_lock, (1,))):
            try: what()
            except Exception as e: print(type(e).__name__, e)
        print("still usable", p.apply(ident, (5,)))
    with ProcessPoolExecutor(1, mp_context=ctx) as ex:
        # multiprocessing sends a plain socket (by fd), not a TLS one.
        tls = ssl.create_default_context().wrap_socket(socket.socket(), server_hostname="example.org", do_handshake_on_connect=False)
        for arg in (Job(), {"store": Store()}, [tls], (1, select.epoll())):
            try: ex.submit(ident, arg).result()
            except Exception as e: print(type(e).__name__, e)
    try:
        pr = ctx.Process(target=ident, args=((x for x in "ab"),)); pr.start(); pr.join()
    except Exception as e: print(type(e).__name__, e)
