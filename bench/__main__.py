"""Run every benchmark of the package (each module exposing ``main() -> int``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main() -> int:
    status = 0
    for module_info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{module_info.name}")
        runner = getattr(module, "main", None)
        if runner is None:
            continue
        print(f"== bench.{module_info.name}", flush=True)
        status = max(status, runner())
    return status


if __name__ == "__main__":
    sys.exit(main())
