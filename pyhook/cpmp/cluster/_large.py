"""Large buffers a program's tasks carry (_send._large), kept once for
the cluster's workers rather than sent with every task (issue 18, item
10): each by its content's digest in a Dask Variable, on the scheduler (no
worker's death loses it), which each worker process fetches once
(_worker._blob).  The least recently sent are dropped past KEPT bytes
once no task in flight needs them, and all of them when the program's
connection closes."""

import threading
from collections import OrderedDict

KEPT = 1 << 30  # bytes


class Store:
    def __init__(self, conn):
        self.conn = conn
        self.lock = threading.Lock()
        self.kept = OrderedDict()  # digest -> [Variable name, size, tasks in flight]

    def pin(self, digest):
        """The name digest is kept under, counted in flight until
        release(); None when it is not kept."""
        with self.lock:
            entry = self.kept.get(digest)
            if entry is None:
                return None
            entry[2] += 1
            self.kept.move_to_end(digest)
            return entry[0]

    def add(self, digest, blob):
        """Keep blob (counted in flight until release()); its name."""
        name = self.pin(digest)
        if name is not None:
            return name
        name = self.conn.keep(blob, "large")
        with self.lock:
            entry = self.kept.get(digest)
            if entry is not None:  # kept meanwhile by another thread
                self.conn.drop(name)
            else:
                entry = self.kept[digest] = [name, len(blob), 0]
            entry[2] += 1
            self._evict()
            return entry[0]

    def _evict(self):
        total = sum(e[1] for e in self.kept.values())
        for digest, entry in list(self.kept.items()):
            if total <= KEPT:
                break
            if entry[2] == 0:
                total -= entry[1]
                del self.kept[digest]
                self.conn.drop(entry[0])

    def release(self, names):
        with self.lock:
            for digest in names or ():
                entry = self.kept.get(digest)
                if entry is not None:
                    entry[2] -= 1

    def close(self):
        with self.lock:
            kept, self.kept = self.kept, OrderedDict()
        for name, _, _ in kept.values():
            self.conn.drop(name)
