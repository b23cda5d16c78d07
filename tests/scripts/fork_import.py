"""Children forked, by a thread, while the main thread imports cloudpickle
(as a Pool's handler thread forks replacement workers under
maxtasksperchild): each child must send a local class of its own.
Prints whether enough children were forked, and their exit statuses (0:
sent; 3: failed; -14: hung, killed by its alarm).

    fork_import.py cpmp      cpmp imports it, to send the main thread's
                             first class
    fork_import.py program   the program imports it (and ast, which cpmp
                             imports in a child), while a third thread
                             sends a class: it must wait for the import,
                             not use the half-made module (helper-23)
"""

import os
import signal
import sys
import threading
import time
import multiprocessing.reduction as reduction


def child():
    signal.alarm(10)

    class Local:
        x = 1

    try:
        ok = reduction.ForkingPickler.loads(reduction.ForkingPickler.dumps(Local)).x == 1
        os._exit(0 if ok else 4)
    except BaseException as exc:
        os.write(2, ("child: %r\n" % exc).encode())
        os._exit(3)


if __name__ == "__main__":
    statuses = []
    stop = threading.Event()

    def forker():
        while not stop.is_set() or len(statuses) < 6:
            pid = os.fork()
            if pid == 0:
                child()
            statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

    thread = threading.Thread(target=forker)
    thread.start()
    time.sleep(0.05)

    class Main:
        pass

    sent = []
    if sys.argv[1:] == ["program"]:
        sender = threading.Thread(target=lambda: sent.append(
            reduction.ForkingPickler.loads(reduction.ForkingPickler.dumps(Main)).__name__))
        sender.start()
        import ast
        import cloudpickle
        sender.join()
        assert cloudpickle and ast and sent == ["Main"], sent
    else:
        reduction.ForkingPickler.dumps(Main)  # imports cloudpickle, in this thread
    time.sleep(0.05)
    stop.set()
    thread.join()
    print(len(statuses) > 5, sorted(set(statuses)))
