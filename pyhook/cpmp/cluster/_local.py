"""``--cluster local[:N]``: a Dask LocalCluster of N worker processes that
cpmp starts for the program and stops with it.

It runs in a helper process (this file, run by the program's own
interpreter), not in the program: LocalCluster starts its workers with
multiprocessing's spawn, which would re-run the program's main script in
each of them.  The helper reads its stdin until the program closes it (at
exit, or by dying), then stops the cluster; its workers inherit the
program's stdout and stderr, as a local pool's workers do.

This file imports nothing of cpmp: the helper runs it as a script.
"""

import os
import sys

STOP_TIMEOUT = 15  # seconds the program waits for the helper at exit


def size(address):
    """N for "local" / "local:N", None for any other address (Dask's)."""
    if address != "local" and not address.startswith("local:"):
        return None
    text = address[len("local:"):] if ":" in address else ""
    if not text:
        return os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        _fatal("--cluster %s: N must be a number of workers, 1 or more" % address)
    return int(text)


def _fatal(message):
    from ._errors import fatal

    fatal(message)


# The directory of a local cluster's client credentials (ca.pem, cert.pem,
# key.pem, the helper's own, mode 0700): what the program's children read
# to connect to it too.  Only this user can read them, so only this user's
# processes can submit work to the cluster.
ENV_TLS = "CPMP_CLUSTER_TLS"


class _Helper:
    def __init__(self, process, address, dashboard, credentials):
        self.process, self.address, self.dashboard = process, address, dashboard
        self.credentials = credentials

    def stop(self):
        process, self.process = self.process, None
        if process is None or os.getpid() != self.pid:
            return
        try:
            process.stdin.close()
            process.wait(STOP_TIMEOUT)
        except Exception:
            process.kill()
            process.wait()


def start(n):
    """Start the helper; its scheduler's address once it has N workers."""
    import subprocess

    from .._settings import ENV_CLUSTER

    env = dict(os.environ)
    env.pop(ENV_CLUSTER, None)
    package = sys.modules[__name__.rsplit(".", 2)[0]]
    if package.__name__ == "cpmp":
        # cpmp.patch() in a plain Python: its workers must find the package
        home = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [home, env.get("PYTHONPATH")]))
    read, write = os.pipe()
    try:
        # No code of the current directory may run in the helper or in the
        # processes it spawns (issue 18): -c puts the directory first on
        # sys.path, so -P (3.11+, which spawned children inherit) keeps it
        # out, and on older Pythons the helper drops it before any import;
        # serve() then moves to a private directory, which is what its
        # children's -c put first there.
        safe = ["-P"] if sys.version_info >= (3, 11) else []
        process = subprocess.Popen(
            [sys.executable] + safe + ["-c", "import sys; sys.path[:] = [p for p in sys.path "
             "if p not in ('', '.')]; exec(compile(open(sys.argv[1], 'rb').read(), "
             "sys.argv[1], 'exec'))", os.path.abspath(__file__), str(n), str(write)],
            stdin=subprocess.PIPE, pass_fds=(write,), env=env,
            # a session of its own: Ctrl-C is the program's, and the cluster
            # stops when the program is done (its stdin closes), not in the
            # middle, with pages of Dask's tracebacks
            start_new_session=True)
    finally:
        os.close(write)
    with os.fdopen(read, "rb") as f:
        line = f.read().decode("utf-8", "replace")
    if not line.startswith("tls://"):
        process.stdin.close()
        process.wait()
        _fatal("--cluster local:%d: the local Dask cluster did not start%s"
               % (n, ": " + line.strip() if line.strip() else ""))
    address, credentials, dashboard = (line.strip().split(" ") + [""])[:3]
    helper = _Helper(process, address, dashboard or None, credentials)
    helper.pid = os.getpid()
    return helper


def security(directory):
    """Dask's Security for a client of the local cluster whose credentials
    are in directory."""
    from distributed.security import Security

    return Security(tls_ca_file=os.path.join(directory, "ca.pem"),
                    tls_client_cert=os.path.join(directory, "cert.pem"),
                    tls_client_key=os.path.join(directory, "key.pem"), require_encryption=True)


def serve(n, fd):
    """The helper: run the cluster until stdin closes."""
    import logging
    import shutil
    import tempfile

    # The workers' scratch space, the helper's own: never another run's.
    scratch = tempfile.mkdtemp(prefix="cpmp-cluster-")
    os.chdir(scratch)  # the workers' cwd: only this run's, never the program's
    try:
        from distributed import LocalCluster
        from distributed.security import Security

        # TLS with credentials made for this cluster: without them nobody
        # -- another local user -- can connect to 127.0.0.1's ports and
        # run code as this user (issue 18).
        secure = Security.temporary()
        credentials = os.path.join(scratch, "client")
        os.mkdir(credentials, 0o700)
        for name, pem in (("ca.pem", secure.tls_ca_file), ("cert.pem", secure.tls_client_cert),
                          ("key.pem", secure.tls_client_key)):
            with open(os.open(os.path.join(credentials, name),
                              os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(pem)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               host="127.0.0.1", scheduler_port=0, local_directory=scratch,
                               security=secure, protocol="tls://",
                               dashboard_address="127.0.0.1:0",
                               worker_dashboard_address="127.0.0.1:0",
                               silence_logs=logging.ERROR)
    except BaseException as exc:
        os.write(fd, ("%s: %s" % (type(exc).__name__, exc)).encode())
        shutil.rmtree(scratch, ignore_errors=True)
        return 1
    link = cluster.dashboard_link if cluster.scheduler.services.get("dashboard") else ""
    os.write(fd, ("%s %s %s" % (cluster.scheduler_address, credentials, link)).encode())
    os.close(fd)
    try:
        sys.stdin.buffer.read()
    except BaseException:
        pass
    try:
        cluster.close(timeout=STOP_TIMEOUT - 5)
    finally:
        os.chdir("/")
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__" and sys.argv[0] == "-c":
    sys.exit(serve(int(sys.argv[2]), int(sys.argv[3])))
