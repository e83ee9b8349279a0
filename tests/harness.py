"""Processes for the integration tests: a real Kafka broker, workers and ingresses.

Every process is started in its own session and is killed when the test that started it ends,
and at interpreter exit as a last resort, so that a failing test leaves nothing running.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import aiohttp
from confluent_kafka import Consumer, TopicPartition

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
_children: set[subprocess.Popen[bytes]] = set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1
) -> None:
    """Poll ``condition`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Process:
    """A child process with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {time.strftime('%X')}: {' '.join(self.args)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.args,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        _children.add(self.popen)
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        """``kill -9`` the process (and its process group)."""
        self._signal(signal.SIGKILL)

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate gracefully, then kill."""
        if not self.running:
            return
        self._signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)

    def kill9_supervised_child(self) -> None:
        """``kill -9`` the command that ``bin/supervise`` runs, leaving the supervisor alive."""
        assert self.popen is not None
        children = subprocess.run(
            ["pgrep", "-P", str(self.popen.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        if not children:
            raise RuntimeError(f"{self.name}: the supervisor has no child to kill")
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)

    def _signal(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        if sig == signal.SIGKILL:
            self.popen.wait()
            _children.discard(self.popen)


@atexit.register
def _kill_leftovers() -> None:
    for child in list(_children):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)


class Broker:
    """A single-node KRaft broker started with ``kafka/kafkactl``."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(free_port()),
            "KAFKA_DATA_DIR": str(data_dir),
        }
        self._data_dir = data_dir

    def start(self) -> Broker:
        subprocess.run([ROOT / "kafka" / "kafkactl", "start"], env=self.env, check=True)
        pid = int((self._data_dir / "kafka.pid").read_text())
        atexit.register(lambda: _kill_quietly(pid))
        return self

    def stop(self) -> None:
        subprocess.run([ROOT / "kafka" / "kafkactl", "stop"], env=self.env, check=False)


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class Stack:
    """A worker (or a supervised one) and an ingress on their own topics and consumer group."""

    def __init__(self, broker: Broker, log_dir: Path, **settings: str | float) -> None:
        name = f"t{uuid.uuid4().hex[:8]}"
        self.ingress_port = free_port()
        self.settings = {
            "app_id": name,
            "commands_topic": f"{name}-commands",
            "results_topic": f"{name}-results",
            "partitions": 4,
            "work_seconds": 0.5,
            "session_timeout_seconds": 6,
            "worker_instance_id": f"{name}-worker",
            "call_timeout_seconds": 60,
            **settings,
        }
        self.env = {
            **os.environ,
            "CSM_BOOTSTRAP_SERVERS": broker.bootstrap,
            "CSM_INGRESS_PORT": str(self.ingress_port),
            **{f"CSM_{key.upper()}": str(value) for key, value in self.settings.items()},
        }
        self.url = f"http://127.0.0.1:{self.ingress_port}"
        self.log_dir = log_dir
        self.worker = Process(
            f"{name}-worker",
            [
                str(VENV_BIN / "faust"),
                "--datadir",
                str(log_dir / f"{name}-data"),
                "-A",
                "app",
                "worker",
                "-l",
                "info",
                "--web-port",
                str(free_port()),
                "--web-host",
                "127.0.0.1",
            ],
            self.env,
            log_dir,
        )
        self.ingress = Process(
            f"{name}-ingress", [sys.executable, "-m", "ingress"], self.env, log_dir
        )
        self._extras: list[Process] = []

    @property
    def processes(self) -> list[Process]:
        """Every process of this stack, extra workers and ingresses included."""
        return [self.worker, self.ingress, *self._extras]

    def add_worker(self) -> Process:
        """Start another worker in the same group (own web port, data dir and instance id)."""
        args = list(self.worker.args)
        args[args.index("--web-port") + 1] = str(free_port())
        args[args.index("--datadir") + 1] += f"-{len(self._extras) + 2}"
        instance = f"{self.env['CSM_WORKER_INSTANCE_ID']}-{len(self._extras) + 2}"
        return self._start_extra(self.worker, args, {"CSM_WORKER_INSTANCE_ID": instance})

    def add_ingress(self) -> str:
        """Start another ingress on its own port; return its URL once it accepts connections."""
        port = free_port()
        self._start_extra(self.ingress, self.ingress.args, {"CSM_INGRESS_PORT": str(port)})
        wait_for(lambda: port_open(port), 60, "the additional ingress")
        return f"http://127.0.0.1:{port}"

    def _start_extra(self, like: Process, args: list[str], env: dict[str, str]) -> Process:
        name = f"{like.name}-{len(self._extras) + 2}"
        process = Process(name, args, {**self.env, **env}, self.log_dir)
        self._extras.append(process)
        return process.start()

    def stored_record(self, address: str) -> dict | None:
        """The machine's latest record in the table's changelog (what a restart recovers)."""
        changelog = f"{self.settings['app_id']}-machines-changelog"
        records = read_topic(self.env["CSM_BOOTSTRAP_SERVERS"], changelog)
        return next((value for key, value, _p, _o in reversed(records) if key == address), None)

    def wait_until_stored(self, address: str, condition: Callable[[dict], bool], what: str) -> None:
        """Wait until the machine's stored record satisfies ``condition``."""
        wait_for(
            lambda: (record := self.stored_record(address)) is not None and condition(record),
            30,
            what,
            interval=0.2,
        )

    def supervise_worker(self) -> None:
        """Run the worker under ``bin/supervise`` (restarted whenever it exits)."""
        self.worker.args = [str(ROOT / "bin" / "supervise"), *self.worker.args]

    def start(self) -> Stack:
        self.ingress.start()
        self.worker.start()
        wait_for(self._ingress_healthy, 60, "the ingress to answer")
        self.wait_worker_ready()
        return self

    def wait_worker_ready(self, after: int = 0, timeout: float = 60) -> None:
        """Wait until the worker logged readiness more than ``after`` times in total."""
        wait_for(
            lambda: self.worker.log().count("[^Worker]: Ready") > after,
            timeout,
            f"{self.worker.name} to be ready",
        )

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _ingress_healthy(self) -> bool:
        if not self.ingress.running:
            raise RuntimeError(f"the ingress exited:\n{self.ingress.log()[-3000:]}")
        return port_open(self.ingress_port)


async def call(
    session: aiohttp.ClientSession,
    stack: Stack,
    machine: str,
    key: str,
    handler: str,
    body: str = "",
    headers: dict[str, str] | None = None,
    suffix: str = "",
) -> tuple[int, object, dict[str, str]]:
    """POST a call like the README's curl lines; return (status, JSON body, headers).

    ``suffix`` is appended to the path, e.g. ``/send?delay=1s``."""
    return await request(
        session,
        "POST",
        f"{stack.url}/{machine}/{key}/{handler}{suffix}",
        data=body,
        headers={"content-type": "application/json", **(headers or {})},
    )


async def request(
    session: aiohttp.ClientSession, method: str, url: str, **kwargs: object
) -> tuple[int, object, dict[str, str]]:
    """Any request to the ingress; return (status, JSON body, headers)."""
    async with session.request(method, url, **kwargs) as response:
        return response.status, await response.json(), dict(response.headers)


def read_topic(
    bootstrap: str, topic: str, timeout: float = 30.0
) -> list[tuple[str, dict, int, int]]:
    """Every record of ``topic`` as (key, JSON value, partition, offset), in partition order."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {}
        assignment = []
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(topic, partition, low))
        consumer.assign(assignment)
        records = []
        deadline = time.monotonic() + timeout
        while ends:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end")
            for message in consumer.consume(500, timeout=0.5):
                if message.error():
                    continue
                partition, offset = message.partition(), message.offset()
                value = json.loads(message.value()) if message.value() is not None else None
                records.append((message.key().decode(), value, partition, offset))
                if offset + 1 >= ends.get(partition, 0):
                    ends.pop(partition, None)
        return sorted(records, key=lambda record: (record[2], record[3]))
    finally:
        consumer.close()


async def outputs_in_sending_order(
    session: aiohttp.ClientSession, stack: Stack, calls: list[tuple[str, str]], gap: float
) -> list[object]:
    """Send ``resource`` calls (key, handler) ``gap`` seconds apart without waiting for their
    answers, so that they arrive in this order; return the answers in the same order."""
    pending = []
    for key, handler in calls:
        pending.append(asyncio.create_task(call(session, stack, "resource", key, handler)))
        await asyncio.sleep(gap)
    return [output for _status, output, _headers in await asyncio.gather(*pending)]
