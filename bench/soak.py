"""Soak test: 16 clients keep one server busy for minutes; failures and memory growth.

A benchmark run lasts seconds; leaks, stuck generations and races between a finishing stream
and a client that leaves show only after hundreds of requests. So one ``h2ogpt-jupyter serve``
process (default backend transformers, ``--backend llamacpp`` for the other) serves smollm2 on
loopback while ``--clients`` (16) ``AsyncOpenAI`` clients loop for ``--seconds`` (120), each
request a chat completion of one of four kinds, drawn at random (seeded):

* ``stream`` (40%): streamed with ``include_usage``; it must end with a ``finish_reason`` and a
  usage chunk;
* ``whole`` (40%): not streamed; it must carry a message, a ``finish_reason`` and usage;
* ``stream-cut`` (15%): streamed, and the client closes the connection after 1–8 content
  chunks, which must stop the generation on the server (cancellation);
* ``whole-cut`` (5%): not streamed, abandoned 0.2–2 s after it was sent (the server notices
  the closed connection while the answer is still being generated).

Questions, an occasional system message or earlier turn, ``max_tokens`` (8–96) and the
temperature (0, or 0.7 with a seed) vary per request. A cut is not a failure; any other
exception or error status is, counted by kind and exception type (with the HTTP status).

The server's RSS (psutil) is read after the warm-up (two bursts of every client at once, so the
batching loop's cache and llama.cpp's extra contexts already exist), every 10 s, and at the end,
once the server reports nothing in flight; the end must come within 30 s of the last client
stopping, or generations were left running. Exit status 1 on any failure, a server that did not
drain or died, or RSS growth above ``--max-rss-growth-mib`` (200).

    .venv/bin/python bench/soak.py --seconds 120 --wait-idle 60
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import psutil
from _common import QUESTIONS, machine_load, wait_idle
from openai import AsyncOpenAI

from h2ogpt_jupyter.server import ServerProcess, start_server

ASKED = QUESTIONS[:8]  # short and long answers alike
KINDS = {"stream": 0.40, "whole": 0.40, "stream-cut": 0.15, "whole-cut": 0.05}
MIB = 1024 * 1024
SAMPLE_EVERY = 10.0
DRAIN_SECONDS = 30.0


@dataclass
class Tally:
    """What the clients saw; shared by all of them (one event loop, no locks needed)."""

    ok: Counter[str] = field(default_factory=Counter)
    cut: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    tokens: int = 0
    empty: int = 0  # finished answers without any text (allowed, but worth seeing)

    def fail(self, kind: str, exc: BaseException) -> None:
        status = getattr(exc, "status_code", None)
        key = f"{kind}: {type(exc).__name__}" + (f" {status}" if status else "")
        self.failed[key] += 1
        self.examples.setdefault(key, str(exc)[:300])


def request_body(rng: random.Random) -> dict[str, Any]:
    messages: list[dict[str, str]] = []
    if rng.random() < 0.2:
        messages.append({"role": "system", "content": "You are a concise assistant."})
    if rng.random() < 0.2:
        messages.append({"role": "user", "content": rng.choice(ASKED)})
        messages.append({"role": "assistant", "content": "Here is a short answer."})
    messages.append({"role": "user", "content": rng.choice(ASKED)})
    body: dict[str, Any] = {
        "model": "soak",
        "messages": messages,
        "max_tokens": rng.randint(8, 96),
        "temperature": 0,
    }
    if rng.random() < 0.3:
        body.update(temperature=0.7, seed=rng.randrange(1 << 30))
    return body


# --- the four kinds of request -----------------------------------------------------------------
Answer = tuple[int, bool]  # completion tokens, whether there was any text


async def streamed(
    client: AsyncOpenAI, body: dict[str, Any], cut_after: int | None
) -> Answer | None:
    """A full stream's tokens and whether it had text; None when the client cut it on purpose."""
    stream = await client.chat.completions.create(
        **body, stream=True, stream_options={"include_usage": True}
    )
    content, reason, tokens = 0, None, None
    try:
        async for chunk in stream:
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens
            for choice in chunk.choices:
                reason = choice.finish_reason or reason
                if choice.delta.content:
                    content += 1
                    if cut_after is not None and content >= cut_after:
                        return None
    finally:
        await stream.close()  # a cut: closes the connection mid-stream
    if reason is None or tokens is None:
        raise RuntimeError(f"stream ended without finish_reason/usage ({reason}, {tokens})")
    return tokens, content > 0


async def whole(
    client: AsyncOpenAI, body: dict[str, Any], cut_after: float | None
) -> Answer | None:
    """A whole answer's tokens and whether it had text; None when the client gave up on it."""
    call = client.chat.completions.create(**body)
    try:
        response = await (call if cut_after is None else asyncio.wait_for(call, cut_after))
    except asyncio.TimeoutError:
        return None
    choice = response.choices[0]
    if response.usage is None or choice.finish_reason is None or choice.message.content is None:
        raise RuntimeError(f"incomplete response: {response.model_dump_json()[:200]}")
    return response.usage.completion_tokens, bool(choice.message.content)


async def client_loop(
    client: AsyncOpenAI, rng: random.Random, deadline: float, tally: Tally
) -> None:
    kinds, weights = list(KINDS), list(KINDS.values())
    while time.perf_counter() < deadline:
        kind = rng.choices(kinds, weights)[0]
        body = request_body(rng)
        try:
            if kind.startswith("stream"):
                cut = rng.randint(1, 8) if kind == "stream-cut" else None
                answer = await streamed(client, body, cut)
            else:
                give_up = rng.uniform(0.2, 2.0) if kind == "whole-cut" else None
                answer = await whole(client, body, give_up)
        except Exception as exc:  # anything but a deliberate cut is a failure, by type
            tally.fail(kind, exc)
            await asyncio.sleep(0.2)  # no busy loop against a server that is gone
            continue
        if answer is None:
            tally.cut[kind] += 1
            continue
        tally.ok[kind] += 1
        tally.tokens += answer[0]
        tally.empty += not answer[1]


# --- the server's side -----------------------------------------------------------------------
async def server_queue(http: httpx.AsyncClient) -> dict[str, Any]:
    """The server's own counts: queue depth, requests in flight, cancelled generations."""
    reply = await http.get("/metrics", params={"format": "json"})
    reply.raise_for_status()
    data: dict[str, Any] = reply.json()
    return {**data["queue"], "cancelled": data["cancelled"]}


def rss_mib(process: psutil.Process) -> float:
    return float(process.memory_info().rss) / MIB


async def monitor(
    server: ServerProcess,
    http: httpx.AsyncClient,
    tally: Tally,
    began: float,
    start_rss: float,
    samples: list[float],
) -> None:
    """Every 10 s: the server's RSS (into ``samples``) and progress, until cancelled."""
    process = psutil.Process(server.pid)
    while True:
        await asyncio.sleep(SAMPLE_EVERY)
        now = time.perf_counter() - began
        rss = rss_mib(process)
        samples.append(rss)
        queue = await server_queue(http)
        done = sum(tally.ok.values())
        print(
            f"  {now:5.0f} s  RSS {rss:7.1f} MiB ({rss - start_rss:+6.1f})  ok {done:4d}  "
            f"cut {sum(tally.cut.values()):3d}  failed {sum(tally.failed.values()):3d}  "
            f"{tally.tokens / now:6.1f} tok/s  in flight {queue['in_flight']:2d}  "
            f"waiting {queue['depth']:2d}",
            flush=True,
        )


async def drain(http: httpx.AsyncClient) -> tuple[bool, float, dict[str, Any]]:
    """Wait until the server holds no request; (drained, seconds waited, last counts)."""
    began = time.perf_counter()
    queue: dict[str, Any] = {"in_flight": "?", "depth": "?", "cancelled": 0}
    try:
        queue = await server_queue(http)
        while time.perf_counter() - began < DRAIN_SECONDS:
            if queue["in_flight"] == 0 and queue["depth"] == 0:
                return True, time.perf_counter() - began, queue
            await asyncio.sleep(0.25)
            queue = await server_queue(http)
    except httpx.HTTPError:  # the server is gone: the report says so
        pass
    return False, time.perf_counter() - began, queue


async def warm_up(clients: list[AsyncOpenAI]) -> None:
    """Every client at once, twice: the batching cache, llama.cpp's contexts, connections."""
    body = {"model": "soak", "messages": [{"role": "user", "content": QUESTIONS[0]}]}
    for _ in range(2):
        await asyncio.gather(
            *(streamed(c, {**body, "max_tokens": 48}, None) for c in clients),
        )


async def soak(server: ServerProcess, args: argparse.Namespace) -> int:
    clients = [
        AsyncOpenAI(
            base_url=server.api_base,
            api_key="none",
            max_retries=0,
            timeout=httpx.Timeout(args.request_timeout),
        )
        for _ in range(args.clients)
    ]
    http = httpx.AsyncClient(base_url=server.url, timeout=10.0)
    problems: list[str] = []
    try:
        began = time.perf_counter()
        await warm_up(clients)
        print(f"warmed up in {time.perf_counter() - began:.1f} s", flush=True)
        drained, _, queue = await drain(http)
        process = psutil.Process(server.pid)
        start_rss = rss_mib(process)
        cancelled_before = queue["cancelled"]
        print(f"server RSS after warm-up: {start_rss:.1f} MiB", flush=True)

        tally = Tally()
        began = time.perf_counter()
        deadline = began + args.seconds
        samples: list[float] = []
        watcher = asyncio.create_task(monitor(server, http, tally, began, start_rss, samples))
        loops = [
            client_loop(c, random.Random(args.seed * 1000 + i), deadline, tally)
            for i, c in enumerate(clients)
        ]
        await asyncio.gather(*loops)
        elapsed = time.perf_counter() - began
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        drained, waited, queue = await drain(http)
        try:
            end_rss = rss_mib(process)
        except psutil.NoSuchProcess:
            end_rss = float("nan")
    finally:
        await http.aclose()
        for c in clients:
            await c.close()

    ok, cut, failed = sum(tally.ok.values()), sum(tally.cut.values()), sum(tally.failed.values())
    total = ok + cut + failed
    peak = max([start_rss, end_rss, *samples])
    growth = end_rss - start_rss
    print(
        f"\n{args.backend}, {args.clients} clients, {elapsed:.0f} s: {total} requests "
        f"({total / elapsed:.2f}/s), {ok} answered, {cut} cut by the client, {failed} failed; "
        f"{tally.tokens} completion tokens in answered requests ({tally.tokens / elapsed:.1f} "
        f"tok/s); {tally.empty} empty answers"
    )
    print("\n| kind | answered | cut by the client | failed |")
    print("|---|---:|---:|---:|")
    for kind in KINDS:
        fails = sum(n for key, n in tally.failed.items() if key.startswith(f"{kind}:"))
        print(f"| {kind} | {tally.ok[kind]} | {tally.cut[kind]} | {fails} |")
    for key, n in tally.failed.most_common():
        print(f"failure {key}: {n}× e.g. {tally.examples[key]}")
    print(
        f"\nserver: generations cancelled during the soak {queue['cancelled'] - cancelled_before} "
        f"(clients cut {cut}); drained {'yes' if drained else 'NO'} {waited:.1f} s after the last "
        f"client (in flight {queue['in_flight']}, waiting {queue['depth']})"
    )
    print(
        f"server RSS: start {start_rss:.1f} MiB, end {end_rss:.1f} MiB, peak {peak:.1f} MiB, "
        f"growth {growth:+.1f} MiB (limit {args.max_rss_growth_mib:.0f})"
    )
    if failed:
        problems.append(f"{failed} failed requests")
    if not drained:
        problems.append("the server still held requests after the clients stopped")
    if growth > args.max_rss_growth_mib:
        problems.append(f"RSS grew {growth:.0f} MiB")
    if server.process.poll() is not None:
        problems.append(f"the server exited ({server.process.returncode})")
    if problems:
        print(f"\nFAILED: {'; '.join(problems)}\n--- server log (tail) ---\n{server.log_tail()}")
        return 1
    print("\nPASSED")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="transformers", choices=["transformers", "llamacpp"])
    parser.add_argument("--model", default="smollm2", help="what the server loads")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120.0, help="how long clients loop")
    parser.add_argument("--max-rss-growth-mib", type=float, default=200.0, metavar="MIB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="a request taking longer fails (a stuck generation; generous for a busy machine)",
    )
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="S")
    args = parser.parse_args()
    python = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else "python"
    print(f"command: {shlex.join([python, *sys.argv])}")
    print(f"date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    began = time.perf_counter()
    server = start_server(
        [
            "--model",
            f"soak={args.model}?backend={args.backend}",
            "--port",
            "0",
            "--log-level",
            "warning",
        ]
    )
    try:
        print(
            f"{args.backend} server pid {server.pid} ready in {time.perf_counter() - began:.1f} s"
        )
        if args.wait_idle and not wait_idle(args.wait_idle):
            print(f"CPUs not idle after {args.wait_idle:.0f} s: running anyway (machine busy)")
        print(f"machine: {machine_load([server.pid])}", flush=True)
        try:
            code = asyncio.run(soak(server, args))
        except Exception as exc:  # the server gone, /metrics unreachable, ...
            print(f"FAILED: {type(exc).__name__}: {exc}\n--- server log (tail) ---")
            print(server.log_tail())
            return 1
        print(f"machine at the end: {machine_load([server.pid])}")
        return code
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
