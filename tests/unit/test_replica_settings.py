"""The read replica's settings and its connection budget (docs/operations.md, "A read replica")."""

from __future__ import annotations

import pytest

from fastfaktura.adapters import budget
from fastfaktura.config import ReplicaSettings, Settings


def test_no_read_url_means_no_replica_and_no_connections_on_one() -> None:
    replica = Settings.from_env({}).replica
    assert replica == ReplicaSettings(url=None, pool=4, wait_seconds=0.5)
    assert budget.replica_api(replica) == 0
    assert budget.replica_workers_that_fit(replica, 97) == 97


def test_read_settings_come_from_the_environment_and_count_on_the_replica() -> None:
    replica = Settings.from_env(
        {
            "DATABASE_READ_URL": "postgresql://app@replica/fastfaktura",
            "DATABASE_READ_POOL_SIZE": "2",
            "DATABASE_READ_WAIT_SECONDS": "1.5",
        }
    ).replica
    assert replica == ReplicaSettings(
        url="postgresql://app@replica/fastfaktura", pool=2, wait_seconds=1.5
    )
    # The read pool and one probe per API process; 97 usable of max_connections = 100.
    assert budget.replica_api(replica) == 3
    assert budget.replica_workers_that_fit(replica, 97) == 32
    assert budget.replica_workers_that_fit(ReplicaSettings(url="postgresql://r/db"), 97) == 19


@pytest.mark.parametrize(
    ("name", "value"),
    [("DATABASE_READ_WAIT_SECONDS", "0"), ("DATABASE_READ_POOL_SIZE", "0")],
)
def test_a_bad_read_setting_stops_the_process_naming_it(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})
