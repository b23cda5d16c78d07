"""Children forked, by a thread, while the main thread imports cloudpickle
to send its first class (as a Pool's handler thread forks replacement
workers under maxtasksperchild): each child must send a local class of
its own.  Prints whether enough children were forked, and their exit
statuses (0: sent; 3: failed; -14: hung, killed by its alarm).
"""

import os
import signal
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
        while not stop.is_set():
            pid = os.fork()
            if pid == 0:
                child()
            statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

    thread = threading.Thread(target=forker)
    thread.start()
    time.sleep(0.05)

    class Main:
        pass

    reduction.ForkingPickler.dumps(Main)  # imports cloudpickle, in this thread
    time.sleep(0.05)
    stop.set()
    thread.join()
    print(len(statuses) > 5, sorted(set(statuses)))
