"""Counters for ``GET /metrics``: Prometheus text by default, JSON with ``?format=json``.

Prometheus text because that is what scrapers and dashboards read without glue; JSON for a
notebook or a test that wants one number. Names (all prefixed ``h2ogpt_``):

* ``requests_total{route,status}`` — every HTTP request, by route template and status;
* ``prompt_tokens_total{model}``, ``completion_tokens_total{model}``;
* ``generations_total{model,finish_reason}`` — one per choice; ``cancelled`` when a client
  went away (or the server stopped) mid-answer;
* ``generation_seconds_{sum,count}{model}``, ``time_to_first_token_seconds_{sum,count}{model}``;
* ``queue_depth`` (admitted, waiting for a model), ``requests_in_flight`` (running on a model),
  ``queue_limit`` (``--max-queue``), ``rejected_total`` (429s);
* ``models_ready`` — 1 once every model has loaded.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Thread-safe counters: requests are counted on the event loop, generations on workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.prompt_tokens: Counter[str] = Counter()
        self.completion_tokens: Counter[str] = Counter()
        self.generations: Counter[tuple[str, str]] = Counter()
        self.seconds: dict[str, float] = {}
        self.ttft: dict[str, float] = {}
        self.ttft_count: Counter[str] = Counter()
        self.rejected = 0

    def count_request(self, route: str, status: int) -> None:
        with self._lock:
            self.requests[(route, status)] += 1

    def count_rejected(self) -> None:
        with self._lock:
            self.rejected += 1

    def count_generation(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        finish_reason: str,
        seconds: float,
        time_to_first_token: float | None,
    ) -> None:
        with self._lock:
            self.prompt_tokens[model] += prompt_tokens
            self.completion_tokens[model] += completion_tokens
            self.generations[(model, finish_reason)] += 1
            self.seconds[model] = self.seconds.get(model, 0.0) + seconds
            if time_to_first_token is not None:
                self.ttft[model] = self.ttft.get(model, 0.0) + time_to_first_token
                self.ttft_count[model] += 1

    def as_json(self, gauges: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            by_route: dict[str, dict[str, int]] = {}
            for (route, status), n in sorted(self.requests.items()):
                by_route.setdefault(route, {})[str(status)] = n
            models = sorted(set(self.prompt_tokens) | set(self.completion_tokens))
            return {
                "requests": {"total": sum(self.requests.values()), "by_route": by_route},
                "tokens": {
                    "prompt": sum(self.prompt_tokens.values()),
                    "completion": sum(self.completion_tokens.values()),
                    "by_model": {
                        m: {
                            "prompt": self.prompt_tokens[m],
                            "completion": self.completion_tokens[m],
                        }
                        for m in models
                    },
                },
                "generations": {
                    f"{model}/{reason}": n
                    for (model, reason), n in sorted(self.generations.items())
                },
                "cancelled": sum(n for (_, r), n in self.generations.items() if r == "cancelled"),
                "queue": {**gauges["queue"], "rejected": self.rejected},
                "models_ready": gauges["models_ready"],
            }

    def as_prometheus(self, gauges: dict[str, Any]) -> str:
        out: list[str] = []

        def family(name: str, kind: str, help: str, rows: Sequence[tuple[str, float]]) -> None:
            out.append(f"# HELP h2ogpt_{name} {help}")
            out.append(f"# TYPE h2ogpt_{name} {kind}")
            out.extend(f"h2ogpt_{name}{labels} {value:g}" for labels, value in rows)

        with self._lock:
            family(
                "requests_total",
                "counter",
                "HTTP requests by route and status.",
                [
                    (_labels(route=r, status=str(s)), n)
                    for (r, s), n in sorted(self.requests.items())
                ],
            )
            for name, counter, help in (
                ("prompt_tokens_total", self.prompt_tokens, "Prompt tokens processed."),
                ("completion_tokens_total", self.completion_tokens, "Tokens generated."),
            ):
                rows = [(_labels(model=m), n) for m, n in sorted(counter.items())]
                family(name, "counter", help, rows)
            family(
                "generations_total",
                "counter",
                "Generated choices by finish reason.",
                [
                    (_labels(model=m, finish_reason=r), n)
                    for (m, r), n in sorted(self.generations.items())
                ],
            )
            family(
                "generation_seconds",
                "summary",
                "Wall time of generations.",
                [(f"_sum{_labels(model=m)}", s) for m, s in sorted(self.seconds.items())]
                + [
                    (f"_count{_labels(model=m)}", float(sum(self._by_model(m))))
                    for m in sorted(self.seconds)
                ],
            )
            family(
                "time_to_first_token_seconds",
                "summary",
                "Seconds until the first token.",
                [(f"_sum{_labels(model=m)}", s) for m, s in sorted(self.ttft.items())]
                + [(f"_count{_labels(model=m)}", n) for m, n in sorted(self.ttft_count.items())],
            )
            rejected = self.rejected
        queue = gauges["queue"]
        family(
            "queue_depth", "gauge", "Admitted requests waiting for a model.", [("", queue["depth"])]
        )
        family(
            "requests_in_flight",
            "gauge",
            "Requests running on a model.",
            [("", queue["in_flight"])],
        )
        family("queue_limit", "gauge", "Most requests admitted at once.", [("", queue["limit"])])
        family("rejected_total", "counter", "Requests refused with 429.", [("", rejected)])
        family(
            "models_ready",
            "gauge",
            "1 once every model has loaded.",
            [("", gauges["models_ready"])],
        )
        return "\n".join(out) + "\n"

    def _by_model(self, model: str) -> list[int]:
        return [n for (m, _), n in self.generations.items() if m == model]
