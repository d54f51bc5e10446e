"""Put on PYTHONPATH of the e2e tests' `dagster dev`: its daemons tick every few seconds instead of 30.

Dagster's backfill daemon looks at a backfill once per DEFAULT_DAEMON_INTERVAL_SECONDS (30 s, not
configurable), and a backfill of chained runs (catalog and raw, then the daily range, then the
all-time tables) waits up to one tick before each link: most of a minute per backfill that tests
nothing of ours. This file lowers that constant in every process `dagster dev` starts, when the
daemon's controller module is first imported; nothing else about the daemons changes. If Dagster
drops the constant, the patch raises at the daemon's start; if it moves it, the daemons keep their
own pace. test_dagster_internals.py checks both on every quick run.
"""

import importlib.abc
import importlib.util
import os
import sys

_MODULE = "dagster._daemon.controller"
_SECONDS = int(os.environ.get("E2E_DAEMON_INTERVAL_SECONDS", "30"))


class _LowerDaemonInterval(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != _MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run_module = spec.loader.exec_module

        def run_and_lower(module):
            run_module(module)
            if not hasattr(module, "DEFAULT_DAEMON_INTERVAL_SECONDS"):
                raise RuntimeError(f"{_MODULE}.DEFAULT_DAEMON_INTERVAL_SECONDS is gone: update {__file__}")
            module.DEFAULT_DAEMON_INTERVAL_SECONDS = _SECONDS

        spec.loader.exec_module = run_and_lower
        return spec


sys.meta_path.insert(0, _LowerDaemonInterval())
