"""Scans pace the cyclic garbage collector for bulk work (readmodels/scan.py) and give the
process its own pace back, even when scans of several threads overlap."""

from __future__ import annotations

import gc

from fastfaktura.readmodels.scan import SCAN_GC_THRESHOLDS, few_collections


def test_overlapping_scans_restore_the_process_pace_when_the_last_ends() -> None:
    own = gc.get_threshold()
    first, second = few_collections(), few_collections()
    first.__enter__()
    assert gc.get_threshold() == SCAN_GC_THRESHOLDS
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first: the second still runs
    assert gc.get_threshold() == SCAN_GC_THRESHOLDS
    second.__exit__(None, None, None)
    assert gc.get_threshold() == own
    assert gc.get_freeze_count() == 0
