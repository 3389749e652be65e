"""Aggregate tokens/s with 1, 4, 8 and 16 clients generating at once on one loaded model.

What is measured: ``C`` client threads start together (a barrier) and each sends one different
question through :meth:`h2ogpt_jupyter.chat.Chat.send` to the same loaded smollm2, forced to
exactly ``--tokens`` new tokens (``min_new_tokens = max_new_tokens``). The aggregate rate is
``C × tokens`` divided by the wall time from the barrier to the last answer (prompt processing
included). Engines and client counts are interleaved round by round (the order flips every
round), so the ratios compare neighbours in time on this noisy machine:

* per engine, ``C`` clients ÷ 1 client, median over rounds of the ratio within each round;
* transformers' 16 clients ÷ llama.cpp's 1 client, the same way;
* transformers' lone request through the batching loop ÷ the same request through
  ``generate`` (what a lone request runs): why a lone request does not use the loop;
* llama.cpp with its default pool of two contexts and with ``n_parallel=1`` (one context,
  generations one after another);
* transformers with its rows-first linear layers (the default on a CPU in float32, see
  ``h2ogpt_jupyter/models/backends/hf_transformers/cpu_linear.py``) ÷ torch's own (engine
  ``transformers-torch-linear``, not run unless named);
* llama.cpp with flash attention (the default) ÷ without (engine ``llamacpp-no-flash-attn``,
  not run unless named).

Before every run the bench waits for transformers' batching loop to have stopped (it stops
after 2 s idle): one client then always measures the lone path, and no idle loop thread
slows the llama.cpp runs (torch and llama.cpp share one OpenMP runtime).

Targets (transformers): 8 clients ≥ 6× one client; 16 clients ≥ 2× llama.cpp's single stream.

Each run records the share of the CPUs other processes took meanwhile (from /proc/stat); a
round counts when that share stayed ≤ 15% in all of its runs, and with fewer than 2 counted
rounds the figures are given with "machine busy". ``--wait-idle S`` waits (up to S s) for idle
CPUs before each run.

    .venv/bin/python bench/concurrency.py --tokens 64 --repeats 3 --wait-idle 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _common import QUESTIONS, foreign_share, jiffies, wait_idle

from h2ogpt_jupyter.chat import Chat
from h2ogpt_jupyter.models.backends.hf_transformers.cpu_linear import use_torch_linear
from h2ogpt_jupyter.models.manager import ModelManager

BUSY = 0.15  # a run during which other processes took more of the CPUs is "contended"
MIN_CLEAN = 2


@dataclass
class Run:
    seconds: float
    tokens: int
    foreign: float = 0.0

    @property
    def tps(self) -> float:
        return self.tokens / self.seconds


@dataclass
class Variant:
    """One measured configuration: an engine with a number of clients."""

    label: str
    fn: Callable[[], Run]
    before: Callable[[], None] = lambda: None
    runs: list[Run] = field(default_factory=list)


#: name -> load options; every one loads the packaged smollm2
ENGINES: dict[str, dict[str, Any]] = {
    "transformers": {"backend": "transformers"},
    "transformers-torch-linear": {"backend": "transformers"},
    "llamacpp": {"backend": "llamacpp"},
    "llamacpp-serial": {"backend": "llamacpp", "n_parallel": 1},
    "llamacpp-no-flash-attn": {"backend": "llamacpp", "flash_attn": False},
}


# --- how busy the machine is (helpers in _common.py) -----------------------------------------
def timed(fn: Callable[[], Run]) -> Run:
    before = jiffies()
    start = time.perf_counter()
    run = fn()
    run.foreign = foreign_share(before, jiffies(), time.perf_counter() - start)
    return run


# --- clients -------------------------------------------------------------------------------
def clients(manager: ModelManager, alias: str, count: int, n: int) -> Run:
    """``count`` threads each send one question at the same moment; wall time to the last."""
    barrier = threading.Barrier(count + 1)
    tokens = [0] * count
    errors: list[BaseException] = []

    def client(i: int) -> None:
        chat = Chat(alias, manager=manager)
        barrier.wait()
        try:
            response = chat.send(QUESTIONS[i % len(QUESTIONS)], max_new_tokens=n, min_new_tokens=n)
            tokens[i] = response.usage.completion_tokens
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    if any(t != n for t in tokens):
        raise SystemExit(f"{alias}: a client produced {tokens} tokens, not {n} each")
    return Run(seconds, sum(tokens))


def in_loop(manager: ModelManager, alias: str, n: int) -> Run:
    """One client sent through the batching loop although it is alone."""
    streams: Any = manager.get(alias).backend.streams()
    streams.batch_alone = True
    try:
        return clients(manager, alias, 1, n)
    finally:
        streams.batch_alone = False


def settle(manager: ModelManager) -> None:
    """Wait until every batching loop has stopped after its idle time: a live loop thread's
    OpenMP pool slows every other torch or llama.cpp thread (they share one libgomp)."""
    backends = [manager.get(alias).backend for alias in ENGINES if alias in manager]
    loops = [b.streams().engine for b in backends if hasattr(b, "streams")]
    deadline = time.perf_counter() + 30
    while any(loop.running for loop in loops) and time.perf_counter() < deadline:
        time.sleep(0.1)


# --- driver --------------------------------------------------------------------------------
def measure(variants: list[Variant], repeats: int, idle: float) -> None:
    for v in variants:  # warm-up: first loads, the batching loop's cache, ...
        v.before()
        v.fn()
    for i in range(repeats):
        for v in variants if i % 2 == 0 else variants[::-1]:
            v.before()
            wait_idle(idle)
            run = timed(v.fn)
            v.runs.append(run)
            print(f"  round {i + 1}: {v.label:28} {run.tps:7.1f} tok/s  (others {run.foreign:.0%})")


def clean_rounds(variants: list[Variant]) -> list[int]:
    rounds = range(len(variants[0].runs))
    return [r for r in rounds if all(v.runs[r].foreign <= BUSY for v in variants)]


def ratio(a: Variant, b: Variant, rounds: list[int]) -> tuple[float, str]:
    values = [a.runs[r].tps / b.runs[r].tps for r in rounds]
    return statistics.median(values), f"{min(values):.2f}–{max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64, help="new tokens per answer")
    parser.add_argument("--repeats", type=int, default=3, help="measured rounds")
    parser.add_argument(
        "--engines",
        default="transformers,llamacpp,llamacpp-serial",
        help=f"comma list of: {', '.join(ENGINES)}",
    )
    parser.add_argument("--clients", default="1,4,8,16", help="comma list of client counts")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="S")
    args = parser.parse_args()
    n = args.tokens
    counts = [int(c) for c in args.clients.split(",")]
    if 1 not in counts:
        counts.insert(0, 1)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]

    manager = ModelManager()
    variants: dict[str, Variant] = {}
    for engine in engines:
        t = time.perf_counter()
        loaded = manager.load("smollm2", alias=engine, **ENGINES[engine])
        if engine == "transformers-torch-linear":  # torch's own linear layers, for comparison
            use_torch_linear(loaded.backend.model)
        print(f"loaded smollm2 as {engine} in {time.perf_counter() - t:.1f} s", flush=True)
        for count in counts:
            variants[f"{engine} {count}"] = Variant(
                f"{engine}, {count} client{'s' if count > 1 else ''}",
                lambda e=engine, c=count: clients(manager, e, c, n),
                lambda: settle(manager),
            )
        if engine == "transformers":
            variants["transformers loop"] = Variant(
                "transformers, 1, in the loop",
                lambda: in_loop(manager, "transformers", n),
                lambda: settle(manager),
            )
    started = time.perf_counter()
    order = list(variants.values())
    measure(order, args.repeats, args.wait_idle)
    rounds = clean_rounds(order)
    busy = len(rounds) < MIN_CLEAN
    if busy:
        rounds = list(range(args.repeats))

    print(
        f"\nsmollm2, {n} new tokens forced per client, {args.repeats} interleaved rounds, "
        f"{len(rounds) if not busy else 0} uncontended (others ≤ {BUSY:.0%} of the CPUs)"
        f"{' — machine busy, all rounds used' if busy else ''}; tok/s = median aggregate; "
        f"ratio = median over rounds of the ratio within a round; nproc={os.cpu_count()}, "
        f"total {time.perf_counter() - started:.0f} s\n"
    )
    print("| engine | clients | tok/s | ÷ 1 client | range |")
    print("|---|---:|---:|---:|---|")
    for engine in engines:
        one = variants[f"{engine} 1"]
        for count in counts:
            v = variants[f"{engine} {count}"]
            tps = statistics.median(v.runs[r].tps for r in rounds)
            value, spread = ratio(v, one, rounds)
            print(f"| {engine} | {count} | {tps:.1f} | {value:.2f} | {spread} |")
    print()
    rows = []
    if "transformers 8" in variants:
        value, spread = ratio(variants["transformers 8"], variants["transformers 1"], rounds)
        ok = "met" if value >= 6 else "MISSED"
        rows.append(f"| transformers 8 clients ÷ 1 client | {value:.2f} | {spread} | ≥ 6 | {ok} |")
    if "transformers 16" in variants and "llamacpp 1" in variants:
        value, spread = ratio(variants["transformers 16"], variants["llamacpp 1"], rounds)
        ok = "met" if value >= 2 else "MISSED"
        rows.append(
            f"| transformers 16 clients ÷ llama.cpp 1 client | {value:.2f} | {spread} | ≥ 2 "
            f"| {ok} |"
        )
    if "transformers loop" in variants:
        value, spread = ratio(variants["transformers loop"], variants["transformers 1"], rounds)
        rows.append(
            f"| transformers lone request: batching loop ÷ generate() | {value:.2f} | {spread} "
            "| – | – |"
        )
    for count in counts:
        fast, plain = f"transformers {count}", f"transformers-torch-linear {count}"
        if count > 1 and fast in variants and plain in variants:
            value, spread = ratio(variants[fast], variants[plain], rounds)
            rows.append(
                f"| transformers {count} clients: rows-first ÷ torch linear layers | {value:.2f} "
                f"| {spread} | – | – |"
            )
    for count in counts:
        fast, plain = f"llamacpp {count}", f"llamacpp-no-flash-attn {count}"
        if fast in variants and plain in variants:
            value, spread = ratio(variants[fast], variants[plain], rounds)
            rows.append(
                f"| llama.cpp {count} client{'s' if count > 1 else ''}: flash attention on ÷ off "
                f"| {value:.2f} | {spread} | – | – |"
            )
    if "llamacpp 16" in variants and "llamacpp-serial 16" in variants:
        value, spread = ratio(variants["llamacpp 16"], variants["llamacpp-serial 16"], rounds)
        rows.append(
            f"| llama.cpp 16 clients: pool of 2 ÷ one context | {value:.2f} | {spread} | – | – |"
        )
    if rows:
        print("| comparison | ratio | range | target | verdict |")
        print("|---|---:|---|---|---|")
        print("\n".join(rows))
    manager.unload_all()


if __name__ == "__main__":
    main()
