"""What the machine has: CPU, memory, GPUs. Reads torch only if something already imported it."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any


def system_info() -> dict[str, Any]:
    import psutil

    vm = psutil.virtual_memory()
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "memory_total_gb": round(vm.total / 2**30, 1),
        "memory_available_gb": round(vm.available / 2**30, 1),
        "process_rss_gb": round(psutil.Process().memory_info().rss / 2**30, 2),
        "gpus": [],
    }
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(i)
            info["gpus"].append(
                {
                    "name": torch.cuda.get_device_name(i),
                    "memory_total_gb": round(total / 2**30, 1),
                    "memory_free_gb": round(free / 2**30, 1),
                }
            )
    return info
