"""Test-only: stop a migration script after its n-th write, as a crash would.

tests/reliability/test_migration_reruns.py puts this folder on PYTHONPATH and sets
DPF_TEST_STOP=<stage>:<n>. In the process that runs `v1_1_0.py <stage> ...`, the
`helpers` module the script imports from migrations/ gets its two write functions
(write_bytes, remove) wrapped: the n-th call that changes the project ends the process
with exit code 99 right after that write. Every other process is left alone, and the
shipped migration code carries no switch of its own."""

import importlib.machinery
import os
import sys
from pathlib import Path

CRASH_EXIT = 99


def _stop_after(module, limit: int) -> None:
    writes = 0

    def counted(write):
        def wrapper(*args, **kwargs):
            nonlocal writes
            wrote = write(*args, **kwargs)
            if wrote:
                writes += 1
                if writes >= limit:
                    sys.stdout.flush()
                    os._exit(CRASH_EXIT)
            return wrote
        return wrapper

    module.write_bytes = counted(module.write_bytes)
    module.remove = counted(module.remove)


class _PatchMigrationHelpers:
    """Finds `helpers` as usual; when it is migrations/helpers.py, wraps it once loaded."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def find_spec(self, name, path=None, target=None):
        if name != "helpers":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or Path(spec.origin).parent.name != "migrations":
            return spec
        load = spec.loader.exec_module
        limit = self.limit

        def exec_module(module):
            load(module)
            _stop_after(module, limit)

        spec.loader.exec_module = exec_module
        return spec


_spec = os.environ.get("DPF_TEST_STOP", "")
if _spec:
    _stage, _n = _spec.split(":")
    if sys.argv[1:2] == [_stage]:
        sys.meta_path.insert(0, _PatchMigrationHelpers(int(_n)))
