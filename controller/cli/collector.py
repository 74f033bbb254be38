"""The garbage collector's settings, made once at the edge for the whole process.

A plan builds hundreds of thousands of small objects in a few bursts: the desired state
(recalled or built), the decoded list pages, the plan and its basis. With CPython's default
thresholds a young collection runs every 700 new objects and every tenth of those scans
older ones too, so at 10,000 models the collector walked the same live objects again and
again: about a third of the CPU of loading 10,000 unchanged manifests (2.9 s against 2.0 s
with the collector off, `bench/README.md`). dr-gitops makes few reference cycles, and
those it makes are small, so collecting less often costs little memory.
"""

from __future__ import annotations

import gc

# A young collection every 50,000 new objects (default 700); the older generations as by
# default relative to it.
THRESHOLDS = (50_000, 20, 20)


_frozen = False


def tune_collector() -> None:
    """Freeze what the imports made (it lives as long as the process: never scanned again),
    once per process, and collect less often (see the module)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
    gc.set_threshold(*THRESHOLDS)
