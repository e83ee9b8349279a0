"""Benchmarks of DESIGN.md §6, against a real broker that the benchmark starts itself.

    bench/run                   all scenarios
    bench/run throughput        closed-loop load, 1 and 64 clients, transitions without sleep
    bench/run reads             closed-loop state reads, 1 and 64 clients
    bench/run kept-results      worker memory per completed call kept for lookups
    bench/run head-of-line      200 machines x 5 s transition, called at once, 8 partitions
    bench/run recovery          kill -9 of a supervised worker -> next completed transition
    bench/run restart-large     worker restart with 100,000 machines in the table -> serving

Everything runs on this machine: broker, one worker, one ingress and the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
from confluent_kafka import Consumer, Producer, TopicPartition

from app.wire import Call, encode, new_invocation_id
from bench.load import closed_loop
from tests.harness import Broker, Stack, call, rss_bytes, wait_for


async def throughput(broker: Broker, logs: Path, seconds: float) -> None:
    with Stack(broker, logs, partitions=8, work_seconds=0) as stack:
        for clients in (1, 64):
            report = await closed_loop(stack.url, clients, seconds)
            print(f"throughput  {report.line()}", flush=True)


async def reads(broker: Broker, logs: Path, seconds: float) -> None:
    with Stack(broker, logs, partitions=8, work_seconds=0) as stack:
        await closed_loop(stack.url, 64, 3, warmup=0)  # every machine has a state to read
        for clients in (1, 64):
            report = await closed_loop(stack.url, clients, seconds, reads=True)
            print(f"reads  {report.line()}", flush=True)


async def kept_results(broker: Broker, logs: Path, seconds: float) -> None:
    with Stack(broker, logs, partitions=8, work_seconds=0) as stack:
        await closed_loop(stack.url, 64, 3, warmup=0)  # every machine exists: only results grow
        before = rss_bytes(stack.worker.pid)
        report = await closed_loop(stack.url, 64, seconds, warmup=0)
        grown = rss_bytes(stack.worker.pid) - before
        print(
            f"kept-results  {report.calls} more calls kept for lookups: worker memory "
            f"+{grown / 2**20:.0f} MiB, about {grown / report.calls:.0f} bytes per kept result",
            flush=True,
        )


async def head_of_line(broker: Broker, logs: Path, machines: int = 200) -> None:
    with Stack(broker, logs, partitions=8, work_seconds=5) as stack:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            # 200 clients with a keep-alive connection each, as a backend's clients would have.
            async def connect() -> None:
                async with http.get(f"{stack.url}/health") as response:
                    await response.read()

            await asyncio.gather(*(connect() for _ in range(machines)))
            started = time.monotonic()

            async def timed(n: int) -> float:
                _status, output, _ = await call(http, stack, "resource", f"hol-{n}", "setUp")
                assert output == f"hol-{n} is now UP", output
                return time.monotonic() - started

            durations = sorted(await asyncio.gather(*(timed(n) for n in range(machines))))
        print(
            f"head-of-line  {machines} machines x 5 s transition, 8 partitions, 1 worker: "
            f"all answered in {durations[-1]:.2f} s (first {durations[0]:.2f} s, "
            f"median {statistics.median(durations):.2f} s)",
            flush=True,
        )


async def recovery(broker: Broker, logs: Path, rounds: int = 5) -> None:
    stack = Stack(broker, logs, partitions=8, work_seconds=0)
    stack.supervise_worker()
    timings = []
    with stack:
        async with aiohttp.ClientSession() as http:
            for round_ in range(rounds):
                await call(http, stack, "resource", f"rec-{round_}", "tearDown")  # warm
                killed = time.monotonic()
                stack.worker.kill9_supervised_child()
                _status, output, _ = await call(http, stack, "resource", f"rec-{round_}", "setUp")
                assert output == f"rec-{round_} is now UP", output
                timings.append(time.monotonic() - killed)
                await asyncio.sleep(1)  # pacing: each kill hits a worker that has been serving
        print(
            f"recovery  kill -9 -> next completed transition ({rounds} rounds, supervised): "
            f"median {statistics.median(timings):.2f} s, max {max(timings):.2f} s",
            flush=True,
        )


async def restart_large(broker: Broker, logs: Path, machines: int = 100_000) -> None:
    # Results are not kept here, so that the table holds the machines only; every kept result
    # is one more changelog record to restore.
    with Stack(broker, logs, partitions=8, work_seconds=0, result_retention_seconds=0) as stack:
        loaded = time.monotonic()
        _produce_set_ups(stack, machines)
        results = stack.settings["results_topic"]
        wait_for(
            lambda: _topic_size(stack, results) >= machines, 900, "every machine set up", interval=1
        )
        print(
            f"restart-large  {machines} machines stored in {time.monotonic() - loaded:.0f} s",
            flush=True,
        )
        stack.worker.kill9()
        restarted = time.monotonic()
        stack.worker.start()
        async with aiohttp.ClientSession() as http:
            _status, output, _ = await call(http, stack, "resource", "large-7", "setUp")
        assert output == "large-7 is already UP", output
        print(
            f"restart-large  kill -9, restart with {machines} machines -> serving again: "
            f"{time.monotonic() - restarted:.2f} s",
            flush=True,
        )


def _produce_set_ups(stack: Stack, machines: int) -> None:
    producer = Producer(
        {
            "bootstrap.servers": stack.env["CSM_BOOTSTRAP_SERVERS"],
            "partitioner": "murmur2_random",
            "linger.ms": 20,
        }
    )
    topic = stack.settings["commands_topic"]
    for n in range(machines):
        command = Call(new_invocation_id(f"resource/large-{n}"), "resource", f"large-{n}", "setUp")
        while True:
            try:
                producer.produce(topic, key=command.address.encode(), value=encode(command))
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush()


def _topic_size(stack: Stack, topic: str) -> int:
    consumer = Consumer(
        {"bootstrap.servers": stack.env["CSM_BOOTSTRAP_SERVERS"], "group.id": "bench-size"}
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p))[1] for p in partitions)
    finally:
        consumer.close()


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_kb / 2**20:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


SCENARIOS: dict[str, Callable] = {
    "throughput": throughput,
    "reads": reads,
    "kept-results": kept_results,
    "head-of-line": head_of_line,
    "recovery": recovery,
    "restart-large": restart_large,
}


async def main() -> None:
    parser = argparse.ArgumentParser(
        prog="bench/run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    parser.add_argument("--seconds", type=float, default=20, help="throughput measuring time")
    args = parser.parse_args()
    print(f"machine  {_machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="csm-bench-") as tmp:
        broker = Broker(Path(tmp) / "kafka").start()
        try:
            logs = Path(tmp) / "logs"
            logs.mkdir()
            for name in args.scenarios or SCENARIOS:
                if name in ("throughput", "reads", "kept-results"):
                    await SCENARIOS[name](broker, logs, args.seconds)
                else:
                    await SCENARIOS[name](broker, logs)
        finally:
            broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
