"""Reference for a PostgreSQL job queue on this machine: pgqueuer enqueueing and consuming N jobs.

Used by `tgrelay bench postgres` (docs/benchmarks.md) on the same PostgreSQL server in the same run.
pgqueuer's public API only: `Queries.install` (after `uninstall` when an earlier run left it installed),
`Queries.enqueue` in batches (as tgrelay's batch endpoint), and a `QueueManager` in drain mode whose
entrypoint does nothing, so the figure is the queue's own cost per job.

With --deliver-to (a Bot API base URL with its token, `http://host:port/bot<token>`) the entrypoint instead
delivers its job as tgrelay delivers a message: one `sendMessage` to that Bot API (the same simulator),
job i to chat --first-chat + i mod --lanes, over keep-alive connections (aiohttp), and fails unless the answer
is `ok`. That is the like-for-like reference for tgrelay's enqueue + deliver: the same messages to the same
simulator, without tgrelay's ordering per chat, `sending` mark, rate limits or ledger.

    python3 -m venv /tmp/pgq && /tmp/pgq/bin/pip install pgqueuer asyncpg aiohttp
    /tmp/pgq/bin/python scripts/bench-pgqueuer.py --dsn postgres://postgres@127.0.0.1:5432/pgq --jobs 100000
"""

import argparse
import asyncio
import time
from datetime import timedelta

import asyncpg
from pgqueuer import AsyncpgDriver, QueueManager, Queries
from pgqueuer.domain.types import QueueExecutionMode


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True, help="an empty database")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--enqueue-batch", type=int, default=1000)
    parser.add_argument("--enqueuers", type=int, default=4, help="concurrent enqueueing connections")
    parser.add_argument("--batch-size", type=int, default=100, help="jobs a worker dequeues at once")
    parser.add_argument("--deliver-to", help="a Bot API base URL with token: each job becomes one sendMessage")
    parser.add_argument("--lanes", type=int, default=2_000, help="distinct chats the delivered jobs go to")
    parser.add_argument("--first-chat", type=int, default=8_000_000, help="job i goes to chat first-chat + i mod lanes")
    args = parser.parse_args()

    setup = await asyncpg.connect(args.dsn)
    installer = Queries(AsyncpgDriver(setup))
    # A fresh queue each run, so that one database serves the no-op and the delivering run.
    if await installer.schema_is_installed():
        await installer.uninstall()
    await installer.install()

    batches = [
        range(start, min(start + args.enqueue_batch, args.jobs)) for start in range(0, args.jobs, args.enqueue_batch)
    ]

    async def enqueuer(worker: int) -> None:
        connection = await asyncpg.connect(args.dsn)
        queries = Queries(AsyncpgDriver(connection))
        for batch in batches[worker :: args.enqueuers]:
            await queries.enqueue(["deliver"] * len(batch), [str(i).encode() for i in batch], [0] * len(batch))
        await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(enqueuer(worker) for worker in range(args.enqueuers)))
    enqueued = time.perf_counter()

    consumed = 0
    connection = await asyncpg.connect(args.dsn)
    manager = QueueManager(Queries(AsyncpgDriver(connection)))
    session = None
    if args.deliver_to:
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.batch_size))

    @manager.entrypoint("deliver")
    async def deliver(job) -> None:  # noqa: ANN001 - pgqueuer's Job
        nonlocal consumed
        if session is not None:
            index = int(job.payload)
            message = {"chat_id": args.first_chat + index % args.lanes, "text": f"pgqueuer message {index}"}
            async with session.post(f"{args.deliver_to}/sendMessage", json=message) as response:
                answer = await response.json()
            if not answer.get("ok"):
                raise RuntimeError(f"sendMessage answered {response.status}: {answer}")
        consumed += 1

    await manager.run(
        batch_size=args.batch_size, mode=QueueExecutionMode.drain, dequeue_timeout=timedelta(seconds=1),
        log_aggregation_interval=timedelta(0),
    )
    finished = time.perf_counter()
    if session is not None:
        await session.close()
    await connection.close()
    await setup.close()

    enqueue_s = enqueued - started
    consume_s = finished - enqueued
    total_s = finished - started
    mode = "delivering" if args.deliver_to else "no-op"
    print(f"pgqueuer {args.jobs} jobs ({mode} entrypoint): enqueue {args.jobs / enqueue_s:,.0f} jobs/s ({enqueue_s:.1f} s), "
          f"consume {consumed / consume_s:,.0f} jobs/s ({consume_s:.1f} s), "
          f"enqueue+consume {args.jobs / total_s:,.0f} jobs/s ({total_s:.1f} s)")
    if consumed != args.jobs:
        raise SystemExit(f"consumed {consumed} of {args.jobs}")


asyncio.run(main())
