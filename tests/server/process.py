"""`domainserver serve` as a child process on a free port, for tests where signals, exit
codes and the process's own log matter."""

import asyncio
import signal
import socket
import subprocess
import sys

import aiohttp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A running `python -m domainserver serve ...`; its output goes to `log_path`."""

    def __init__(self, proc, port, log_path):
        self.proc = proc
        self.port = port
        self.log_path = log_path

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http(self):
        return f"http://127.0.0.1:{self.port}"

    def log(self):
        return self.log_path.read_text()

    async def wait_log(self, text, timeout=10.0):
        """Wait until `text` appears in the server's output; fail with the output if not."""
        for _ in range(int(timeout / 0.05)):
            if text in self.log():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} not in the server's log:\n{self.log()}")

    def stop(self, timeout=20):
        """SIGTERM, and the exit code (killing it if it does not stop in `timeout`)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)


async def serve(tmp_path, *args, env=None, port=None, name="serve"):
    """Start `domainserver serve ARGS --port P` and return once /healthz answers 200."""
    port = port or free_port()
    log_path = tmp_path / f"{name}.log"
    argv = [sys.executable, "-m", "domainserver", "serve", *args]
    if "--port" not in args:
        argv += ["--port", str(port)]
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env
        )
    served = Served(proc, port, log_path)
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            try:
                async with http.get(f"{served.http}/healthz") as r:
                    if r.status == 200:
                        return served
            except aiohttp.ClientConnectionError:
                pass
            if proc.poll() is not None:
                raise AssertionError(served.log())
            await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not come up:\n" + served.log())
