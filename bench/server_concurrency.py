"""Aggregate tokens/s and time to first token with 1–16 concurrent clients of a real server.

``concurrency.py`` measures the engines inside one process; this measures what an OpenAI client
gets from ``h2ogpt-jupyter serve``: HTTP, server-sent events, the server's worker threads and
admission, and the client's own parsing, on top of generation. One server process per backend
serves the packaged smollm2 on loopback (``--model BACKEND=smollm2?backend=BACKEND``); all of
them are started first, so the rounds can interleave backends and client counts (the order
flips every round) and ratios compare neighbours in time on this noisy machine.

A run is ``C`` streamed chat completions sent at the same moment with ``AsyncOpenAI`` (the
official client), the same prompt each, ``max_tokens`` N, temperature 0,
``stream_options={"include_usage": True}``: completion tokens come from the usage chunk, time to
first token is the time to the first chunk with content. By default every answer is also
forced to exactly N tokens (h2oGPT's ``min_new_tokens``, in ``extra_body``) so that an early
end of text cannot flatter a run; ``--no-force`` leaves it out. Aggregate tok/s = all
completion tokens ÷ wall time from the start to the last answer.

Ratios are medians over rounds of the ratio within a round: each backend's ``C`` clients ÷ its
1 client, and transformers' 16 clients ÷ llama.cpp's 1 client. Before each run the bench waits
for the servers to be idle (transformers' batching loop stops 2 s after its last request, and a
live loop's thread pool would slow the next run), then, with ``--wait-idle S``, up to S s for
idle CPUs, and a run during which others took more than 15% of the CPUs although the CPUs were
idle before it is done again (up to twice; the least contended try is kept). Each run records
the share of the CPUs that processes other than this one and the servers took; a round counts
when that stayed ≤ 15% in all of its runs, and with fewer than 2 counted rounds every round is
used and the figures are marked "machine busy".

    .venv/bin/python bench/server_concurrency.py --repeats 3 --wait-idle 60
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import httpx
from _common import foreign_share, jiffies, machine_load, process_ticks, wait_idle
from openai import AsyncOpenAI

from h2ogpt_jupyter.server import ServerProcess, start_server

PROMPT = "Write a long story about a dragon who learns to bake bread."
BACKENDS = ("transformers", "llamacpp")
BUSY = 0.15  # a run during which other processes took more of the CPUs is "contended"
MIN_CLEAN = 2
RETRIES = 2  # with --wait-idle, a contended run is done again up to this many times


@dataclass
class Reply:
    """One streamed answer, timed from the moment its burst started."""

    ttft: float
    end: float
    tokens: int


@dataclass
class Run:
    seconds: float
    tokens: int
    ttfts: list[float]
    foreign: float = 0.0  # share of all CPUs others used meanwhile (0..1)
    client_cpu: float = 0.0  # this process's CPU seconds ÷ wall seconds
    server_cpu: float = 0.0  # the server's, the same way

    @property
    def tps(self) -> float:
        return self.tokens / self.seconds


@dataclass
class Variant:
    backend: str
    clients: int
    runs: list[Run] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.backend}, {self.clients} client{'s' if self.clients > 1 else ''}"


# --- one run ---------------------------------------------------------------------------------
async def ask(client: AsyncOpenAI, model: str, n: int, force: bool, began: float) -> Reply:
    """One streamed chat completion; its first-content and end times after ``began``."""
    ttft: float | None = None
    tokens: int | None = None
    stream = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=n,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"min_new_tokens": n} if force else None,
    )
    async for chunk in stream:
        if ttft is None and chunk.choices and chunk.choices[0].delta.content:
            ttft = time.perf_counter() - began
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    end = time.perf_counter() - began
    if tokens is None:
        raise RuntimeError("the stream ended without a usage chunk")
    if force and tokens != n:
        raise RuntimeError(f"an answer has {tokens} completion tokens, not the {n} forced")
    return Reply(end if ttft is None else ttft, end, tokens)


async def burst(client: AsyncOpenAI, model: str, count: int, n: int, force: bool) -> Run:
    """``count`` requests started together; wall time to the last answer."""
    began = time.perf_counter()
    replies = await asyncio.gather(*(ask(client, model, n, force, began) for _ in range(count)))
    seconds = max(r.end for r in replies)
    return Run(seconds, sum(r.tokens for r in replies), [r.ttft for r in replies])


async def timed(client: AsyncOpenAI, server: ServerProcess, count: int, n: int, force: bool) -> Run:
    """A burst, with the CPU others (and this process, and the server) used meanwhile."""
    before, own, served = jiffies([server.pid]), process_ticks(), process_ticks(server.pid)
    start = time.perf_counter()
    run = await burst(client, "bench", count, n, force)
    wall = time.perf_counter() - start
    after = jiffies([server.pid])
    hz = os.sysconf("SC_CLK_TCK")
    run.foreign = foreign_share(before, after, wall)
    run.client_cpu = (process_ticks() - own) / hz / wall
    run.server_cpu = (process_ticks(server.pid) - served) / hz / wall
    return run


def settle(servers: list[ServerProcess], limit: float = 30.0) -> None:
    """Wait until no server uses more than 5% of a core over half a second."""
    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        before = [process_ticks(s.pid) for s in servers]
        time.sleep(0.5)
        after = [process_ticks(s.pid) for s in servers]
        if all((b - a) / hz / 0.5 <= 0.05 for a, b in zip(before, after, strict=True)):
            return


# --- driver --------------------------------------------------------------------------------
def server_args(backend: str, model: str, dtype: str, queue: int) -> list[str]:
    options = f"backend={backend}" + (f"&dtype={dtype}" if backend == "transformers" else "")
    return ["--model", f"bench={model}?{options}", "--port", "0", "--max-queue", str(queue)]


def new_client(server: ServerProcess) -> AsyncOpenAI:
    # No retries: a failed request must show, not be hidden behind a second attempt.
    return AsyncOpenAI(
        base_url=server.api_base, api_key="none", max_retries=0, timeout=httpx.Timeout(600.0)
    )


async def measure(
    servers: dict[str, ServerProcess], variants: list[Variant], args: argparse.Namespace
) -> None:
    clients = {backend: new_client(server) for backend, server in servers.items()}
    everyone = list(servers.values())
    try:
        top = max(v.clients for v in variants)
        for backend, client in clients.items():  # first requests, llama.cpp's second context
            for count in sorted({1, top}):
                await asyncio.to_thread(settle, everyone)
                await burst(client, "bench", count, args.tokens, args.force)
            print(f"warmed up {backend}", flush=True)
        for i in range(args.repeats):
            for v in variants if i % 2 == 0 else variants[::-1]:
                tries: list[Run] = []
                for _ in range(1 + (RETRIES if args.wait_idle else 0)):
                    await asyncio.to_thread(settle, everyone)
                    idle = bool(args.wait_idle) and await asyncio.to_thread(
                        wait_idle, args.wait_idle
                    )
                    tries.append(
                        await timed(
                            clients[v.backend],
                            servers[v.backend],
                            v.clients,
                            args.tokens,
                            args.force,
                        )
                    )
                    if tries[-1].foreign <= BUSY or not idle:
                        break  # clean, or busy for all of --wait-idle: a retry would be too
                run = min(tries, key=lambda t: t.foreign)
                v.runs.append(run)
                print(
                    f"  round {i + 1}: {v.label:26} {run.tps:7.1f} tok/s  "
                    f"TTFT p50 {statistics.median(run.ttfts) * 1000:6.0f} ms  "
                    f"(server {run.server_cpu:.2f} cores, client {run.client_cpu:.2f}, "
                    f"others {run.foreign:.0%}"
                    f"{f', best of {len(tries)} tries' if len(tries) > 1 else ''})",
                    flush=True,
                )
    finally:
        for client in clients.values():
            await client.close()


def clean_rounds(variants: list[Variant]) -> list[int]:
    rounds = range(len(variants[0].runs))
    return [r for r in rounds if all(v.runs[r].foreign <= BUSY for v in variants)]


def ratio(a: Variant, b: Variant, rounds: list[int]) -> tuple[float, str]:
    values = [a.runs[r].tps / b.runs[r].tps for r in rounds]
    return statistics.median(values), f"{min(values):.2f}–{max(values):.2f}"


def transformers_dtype(dtype: str) -> str:
    """What ``dtype`` the transformers backend ends up with on this CPU (for the report)."""
    if dtype != "auto":
        return dtype
    flags = Path("/proc/cpuinfo").read_text()
    native = "avx512_bf16" in flags or "amx_bf16" in flags
    return "auto = bfloat16 (native bf16 CPU)" if native else "auto = float32 (no native bf16)"


def versions() -> str:
    found = []
    for name in ("openai", "torch", "transformers", "llama_cpp_python"):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def report(
    variants: dict[tuple[str, int], Variant],
    backends: list[str],
    counts: list[int],
    args: argparse.Namespace,
    total: float,
) -> None:
    order = list(variants.values())
    rounds = clean_rounds(order)
    busy = len(rounds) < min(MIN_CLEAN, args.repeats)
    if busy:
        rounds = list(range(args.repeats))
    forced = "forced" if args.force else "at most"
    print(
        f"\n{args.model} over HTTP, {args.tokens} new tokens {forced} per client, "
        f"{args.repeats} interleaved rounds, {0 if busy else len(rounds)} uncontended "
        f"(others ≤ {BUSY:.0%} of the CPUs){' — machine busy, all rounds used' if busy else ''}; "
        f"tok/s = median aggregate; TTFT = median over the counted rounds' requests; "
        f"ratio = median over rounds of the ratio within a round; nproc={os.cpu_count()}, "
        f"total {total:.0f} s\n"
    )
    print("| backend | clients | tok/s | ÷ 1 client | range | TTFT p50 ms | others' CPU share |")
    print("|---|---:|---:|---:|---|---:|---|")
    for backend in backends:
        one = variants[(backend, 1)]
        for count in counts:
            v = variants[(backend, count)]
            tps = statistics.median(v.runs[r].tps for r in rounds)
            value, spread = ratio(v, one, rounds)
            ttft = statistics.median(t for r in rounds for t in v.runs[r].ttfts) * 1000
            shares = ", ".join(f"{run.foreign:.0%}" for run in v.runs)
            print(
                f"| {backend} | {count} | {tps:.1f} | {value:.2f} | {spread} | {ttft:.0f} "
                f"| {shares} |"
            )
    if ("transformers", 16) in variants and ("llamacpp", 1) in variants:
        value, spread = ratio(variants[("transformers", 16)], variants[("llamacpp", 1)], rounds)
        print(f"\ntransformers @16 ÷ llama.cpp @1: {value:.2f} ({spread})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma list")
    parser.add_argument("--clients", default="1,4,8,16", help="comma list of client counts")
    parser.add_argument("--tokens", type=int, default=64, help="max_tokens of every request")
    parser.add_argument("--repeats", type=int, default=3, help="measured rounds")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="S")
    parser.add_argument("--model", default="smollm2", help="what every server loads")
    parser.add_argument("--dtype", default="auto", help="transformers' dtype load option")
    parser.add_argument(
        "--no-force",
        dest="force",
        action="store_false",
        help="do not force every answer to exactly --tokens tokens",
    )
    args = parser.parse_args()
    counts = sorted({1, *(int(c) for c in args.clients.split(","))})
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    python = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else "python"
    print(f"command: {shlex.join([python, *sys.argv])}")
    print(f"date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {versions()}")
    print(f"machine before starting servers: {machine_load()}", flush=True)

    servers: dict[str, ServerProcess] = {}
    try:
        for backend in backends:
            began = time.perf_counter()
            queue = max(64, 2 * max(counts))
            servers[backend] = start_server(server_args(backend, args.model, args.dtype, queue))
            dtype = f", dtype {transformers_dtype(args.dtype)}" if backend == "transformers" else ""
            print(
                f"{backend} server at {servers[backend].url} (pid {servers[backend].pid}) ready "
                f"in {time.perf_counter() - began:.1f} s{dtype}",
                flush=True,
            )
        variants = {(b, c): Variant(b, c) for b in backends for c in counts}
        began = time.perf_counter()
        try:
            asyncio.run(measure(servers, list(variants.values()), args))
        except Exception:
            for backend, server in servers.items():
                print(f"--- {backend} server log (tail) ---\n{server.log_tail()}", file=sys.stderr)
            raise
        total = time.perf_counter() - began
        pids = [s.pid for s in servers.values()]
        print(f"machine at the end (servers idle): {machine_load(pids)}")
        report(variants, backends, counts, args, total)
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
