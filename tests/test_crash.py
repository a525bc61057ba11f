"""Crash safety: a real server killed with SIGKILL ten times under a mixed workload, and the
search worker killed alone; nothing acknowledged is lost and nothing is left behind.
(The long run, 50 kills and more, is ``python -m bench.crash``.)"""

from __future__ import annotations

import pytest

from bench.crashkit import crash_cycles, worker_crash_cycles
from kitlib.settings import Settings

pytestmark = pytest.mark.slow


def test_ten_kills_of_the_server_lose_nothing_acknowledged(settings: Settings):
    outcome = crash_cycles(settings.with_overrides(index_worker=True, media_worker=True),
                           kills=10, clients=2, max_run=1.2)
    assert outcome.kills == 10
    assert outcome.acknowledged_uploads >= 10
    assert outcome.lost == []


def test_killing_the_search_worker_midway_leaves_the_index_repairable(settings: Settings):
    outcome = worker_crash_cycles(settings, kills=3)
    assert outcome.kills == 3
    assert outcome.lost == []
