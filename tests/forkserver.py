"""A fork server for the suite's child processes: `python -m scrapy …` without its import time.

Crawls run in child processes (Twisted's reactor cannot be restarted), and most of such a child's life
was Python importing Scrapy, Twisted, Playwright, trafilatura… (1-4 s on a loaded 2-core machine, for
crawls that take 0.2 s). This server imports those modules once per test worker, then forks one child
per `python -m scrapy …` / `python -m crawler.cli …` / `crawler …` (this environment's console
scripts) the tests start; conftest.py routes them here through ForkPopen. Each child is still a
process of its own, run as a user's would be: the same argv, environment, working directory,
stdin/stdout/stderr (the very file descriptors, passed over the socket), signals and exit code, its own
reactor. Only the modules were imported before the fork:
- never `crawler.settings` (it reads the environment when imported) nor `twisted.internet.reactor`
  (importing it installs a reactor; the child installs Scrapy's own): the child imports both;
- the server starts no thread, event loop or file before forking, so the child inherits none.
What differs: `ps` shows the child as `python -m tests.forkserver`, and its parent is a waiter process
of the server (which reaps it at once), not the test process.
A command the server cannot reproduce exactly (another program, interpreter options, different
PYTHON* variables, preexec_fn, pass_fds, uid/gid/umask) is started by subprocess as usual, and
PANDAWATCH_TEST_FORKSERVER=0 turns the server off altogether. Programs a shell starts (`bash -c
"crawler …"`, as the README tests do) are never forked here.

Protocol on a Unix socket: the client sends one JSON line and three file descriptors (the child's 0, 1,
2); a waiter forked for that request forks the child, answers {"pid"}, waits, answers {"status"} (the
raw wait status) and exits. The server exits when its stdin closes (the test process is gone).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import pkgutil
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

#: Imported by the child itself, never before the fork (see the module docstring).
NOT_BEFORE_FORK = ("crawler.settings", "twisted.internet.reactor")
#: `python -m MODULE` commands the server runs, and console scripts of this environment.
MODULES = ("scrapy", "crawler.cli")
SCRIPTS = ("crawler", "scrapy")
#: Set in the environment of the test process once its server runs: children that start children of
#: their own (`crawler run` starts `scrapy crawl`) send them to the same server.
SOCKET_ENV = "PANDAWATCH_TEST_FORKSERVER_SOCKET"


# -- the server -----------------------------------------------------------------------------------


def _warm_up() -> None:
    """Import what a crawl imports, except NOT_BEFORE_FORK (a module that needs one of them at import
    time fails here and is simply imported by the child)."""
    for name in NOT_BEFORE_FORK:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        import scrapy.cmdline
        import scrapy.commands
        from scrapy.settings import default_settings

        names = ["scrapy.crawler", "scrapy_playwright.handler", "scrapy_redis", "click.testing"]
        for value in vars(default_settings).values():
            paths = value.keys() if isinstance(value, dict) else [value]
            names += [p.rsplit(".", 1)[0] for p in paths if isinstance(p, str) and p.startswith("scrapy.")]
        import crawler

        names += [m.name for m in pkgutil.walk_packages(scrapy.commands.__path__, "scrapy.commands.")]
        names += [m.name for m in pkgutil.walk_packages(crawler.__path__, "crawler.")]
        for name in names:
            if name in NOT_BEFORE_FORK or name.endswith(".__main__"):  # a __main__ runs its program
                continue
            try:
                importlib.import_module(name)
            except Exception:  # noqa: S112 (what cannot be imported early is imported by the child)
                continue
    finally:
        for name in NOT_BEFORE_FORK:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    assert threading.active_count() == 1, threading.enumerate()  # a fork copies no thread
    assert not any(sys.modules.get(n) for n in NOT_BEFORE_FORK)
    # the imported modules' objects stay out of the children's garbage collections (which would
    # scan them all, and copy every page they touch)
    gc.collect()
    gc.freeze()


def _serve(listener: socket.socket) -> tuple[dict, list[int]]:
    """Answer requests until stdin closes; returns only in a forked child: what it must become."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the waiters
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready:
            os._exit(0)
        conn, _ = listener.accept()
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            listener.close()
            return _wait_for_child(conn)
        conn.close()


def _wait_for_child(conn: socket.socket) -> tuple[dict, list[int]]:
    """The waiter: fork the child (which returns the request), report its pid and exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    data = b""
    fds: list[int] = []
    while not data.endswith(b"\n"):
        part, more, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        if not part:
            os._exit(1)
        data, fds = data + part, fds + more
    request = json.loads(data)
    pid = os.fork()
    if pid == 0:
        conn.close()
        return request, fds
    for fd in fds:
        os.close(fd)
    with contextlib.suppress(OSError):  # the client may be gone (killed; its child outlives it)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps({"status": status}).encode() + b"\n")
    os._exit(0)


def _become(request: dict, fds: list[int]) -> None:
    """Turn this forked child into `python -m MODULE …` as the request describes."""
    if request["start_new_session"]:
        os.setsid()
    elif request["process_group"] >= 0:
        os.setpgid(0, request["process_group"])
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(3, 65536)  # close_fds: only 0, 1 and 2 are inherited
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.argv = list(request["argv"])
    # what `python -m` puts first; `python SCRIPT` puts the script's directory
    sys.path[0] = os.path.dirname(os.path.realpath(request["path"])) if "path" in request else request["cwd"]
    if os.environ.get(SOCKET_ENV):
        install(os.environ[SOCKET_ENV])


def main() -> None:
    _warm_up()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sys.argv[1])
    listener.listen(64)
    print("ready", flush=True)
    request, fds = _serve(listener)
    _become(request, fds)
    import runpy

    if "path" in request:
        runpy.run_path(request["path"], run_name="__main__")
    else:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)


# -- the client -----------------------------------------------------------------------------------


class _Server:
    """This process's server (started on first use), or the one a parent process told us about."""

    lock = threading.Lock()
    socket_path: str | None = None
    process: subprocess.Popen | None = None

    @classmethod
    def path(cls) -> str:
        with cls.lock:
            if cls.socket_path is None or (cls.process is not None and cls.process.poll() is not None):
                directory = tempfile.mkdtemp(prefix="pandawatch-forkserver-")
                path = os.path.join(directory, "socket")
                cls.process = _REAL_POPEN(
                    [sys.executable, "-m", "tests.forkserver", path],
                    cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                    env={k: v for k, v in os.environ.items() if k != SOCKET_ENV},
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
                if cls.process.stdout.readline().strip() != b"ready":
                    raise RuntimeError("tests/forkserver.py did not start")
                cls.socket_path = path
                os.environ[SOCKET_ENV] = path
                atexit.register(cls._stop, cls.process, directory)
            return cls.socket_path

    @staticmethod
    def _stop(process: subprocess.Popen, directory: str) -> None:
        process.stdin.close()  # the server exits (children it forked run to their end)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _python_env() -> dict:
    return {k: v for k, v in os.environ.items() if k.startswith("PYTHON")}


_REAL_POPEN = subprocess.Popen
_PYTHON_ENV = _python_env()


def _target(argv: list[str], env: dict) -> dict | None:
    """What the server runs for `argv`: {"module", "argv"} for `python -m MODULE …`, {"path", "argv"}
    for one of this environment's console scripts (`crawler …`); None for anything else."""
    if len(argv) >= 3 and argv[0] == sys.executable and argv[1] == "-m" and argv[2] in MODULES:
        return {"module": argv[2], "argv": [argv[2], *argv[3:]]}
    name = argv[0]
    path = name if os.sep in name else shutil.which(name, path=env.get("PATH", os.defpath))
    if path is None or os.path.basename(path) not in SCRIPTS:
        return None
    path = os.path.abspath(path)
    try:
        with open(path, encoding="utf-8") as script:
            shebang = script.readline()[2:].strip()
    except OSError:
        return None
    # a script of this venv (its interpreter is ours): the kernel would run `python PATH ARGS…`
    same = os.path.dirname(shebang) == os.path.dirname(sys.executable)
    if not same or os.path.realpath(shebang) != os.path.realpath(sys.executable):
        return None
    return {"path": path, "argv": [path, *argv[1:]]}


class ForkPopen(subprocess.Popen):
    """subprocess.Popen that starts `python -m scrapy|crawler.cli …` through the fork server."""

    _forked = False
    _fork_conn: socket.socket | None = None

    def _execute_child(self, args, executable, preexec_fn, close_fds, pass_fds, cwd, env, startupinfo,
                       creationflags, shell, p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite,
                       restore_signals, gid, gids, uid, umask, start_new_session, process_group):  # fmt: skip
        argv = [os.fspath(a) for a in args] if isinstance(args, list | tuple) else None
        child_env = dict(os.environ if env is None else env)
        child_env.pop(SOCKET_ENV, None)
        target = _target(argv, child_env) if argv else None
        forkable = (
            target is not None
            and executable is None
            and not shell
            and preexec_fn is None
            and not pass_fds
            and close_fds
            and restore_signals
            and gid is None
            and gids is None
            and uid is None
            and umask < 0
            and {k: v for k, v in child_env.items() if k.startswith("PYTHON")} == _PYTHON_ENV
        )
        if not forkable:
            return super()._execute_child(args, executable, preexec_fn, close_fds, pass_fds, cwd, env,
                                          startupinfo, creationflags, shell, p2cread, p2cwrite, c2pread,
                                          c2pwrite, errread, errwrite, restore_signals, gid, gids, uid,
                                          umask, start_new_session, process_group)  # fmt: skip
        socket_path = _Server.path()
        child_env[SOCKET_ENV] = socket_path  # its own children go to this server too
        request = {
            **target,
            "cwd": os.path.abspath(os.fspath(cwd)) if cwd is not None else os.getcwd(),
            "env": {os.fsdecode(k): os.fsdecode(v) for k, v in child_env.items()},
            "start_new_session": bool(start_new_session),
            "process_group": process_group,
        }
        fds = [p2cread if p2cread != -1 else 0, c2pwrite if c2pwrite != -1 else 1,
               errwrite if errwrite != -1 else 2]  # fmt: skip
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(socket_path)
            socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], fds)
            self._fork_file = conn.makefile("rb")
            self.pid = json.loads(self._fork_file.readline())["pid"]
        except BaseException:
            conn.close()
            raise
        self._fork_conn = conn
        self._forked = self._child_created = True
        self._close_pipe_fds(p2cread, p2cwrite, c2pread, c2pwrite, errread, errwrite)

    def _fork_status(self, block: bool) -> tuple[int, int]:
        """(pid, wait status) once the child ended, (0, 0) while it runs (block=False)."""
        if self._fork_conn is None:  # already collected
            return self.pid, 0
        if not block and not select.select([self._fork_conn], [], [], 0)[0]:
            return 0, 0
        line = self._fork_file.readline()
        self._fork_file.close()
        self._fork_conn.close()
        self._fork_conn = None
        if not line:  # the waiter died: report it like a lost child
            return self.pid, 255 << 8
        return self.pid, json.loads(line)["status"]

    def _try_wait(self, wait_flags):
        if not self._forked:
            return super()._try_wait(wait_flags)
        return self._fork_status(block=not (wait_flags & os.WNOHANG))

    def _internal_poll(self, _deadstate=None, **kwargs):
        if not self._forked:
            return super()._internal_poll(_deadstate=_deadstate, **kwargs)
        if self.returncode is None:
            if not self._waitpid_lock.acquire(False):
                return None
            try:
                if self.returncode is None:
                    pid, status = self._fork_status(block=False)
                    if pid == self.pid:
                        self._handle_exitstatus(status)
            except OSError:
                if _deadstate is not None:
                    self.returncode = _deadstate
            finally:
                self._waitpid_lock.release()
        return self.returncode


def install(socket_path: str | None = None) -> None:
    """Route this process's `python -m scrapy|crawler.cli` children through the fork server."""
    if os.environ.get("PANDAWATCH_TEST_FORKSERVER", "1") == "0":
        return
    if socket_path:
        _Server.socket_path = socket_path
    subprocess.Popen = ForkPopen  # subprocess.run and friends look Popen up at call time


if __name__ == "__main__":
    main()
