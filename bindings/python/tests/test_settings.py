# SPDX-License-Identifier: Apache-2.0
"""Hub settings: stored in the hub, changed by the operator, audited, applied by every process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sihlicon
from conftest import hub_spec, job_request, open_hub


def test_settings_are_read_changed_validated_and_audited(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    with open_hub(tmp_path / "hub", clock) as hub:
        settings = hub.settings()
        assert settings.submissions_per_hour == 0  # the initial settings of the new hub
        assert settings.default_price == "0.100000" and settings.prices == {}
        assert settings.preference_window_ms == 60_000 and settings.default_total_bytes is None
        assert json.loads(settings.to_json())["chargeJobs"] is False

        assert hub.set_setting("prices.ocr", "0.05").prices == {"ocr": "0.050000"}
        changed = hub.update_settings({"chargeJobs": True, "epochDurationMs": 3_600_000})
        assert changed.charge_jobs and changed.epoch_duration_ms == 3_600_000
        assert hub.settlement.price_of("ocr") == sihlicon.Money.parse("0.05", "USD")

        with pytest.raises(sihlicon.InvalidArgument) as refused:
            hub.set_setting("operatorFeePpm", "-1")
        assert refused.value.field == "operatorFeePpm" and "-1" in str(refused.value)
        with pytest.raises(sihlicon.PermissionDenied):
            hub.set_setting("chargeJobs", "false", by="alice")
        assert hub.settings().charge_jobs

        history = hub.settings_history()
        keys = [change.key for change in history if change.by == "operator"]
        assert keys == ["prices", "chargeJobs", "epochDurationMs"]
        assert history[-1].old == 86_400_000 and history[-1].new == 3_600_000


def test_a_price_set_by_another_process_is_charged_by_this_one(
    tmp_path: Path, clock: sihlicon.ManualClock
) -> None:
    directory = tmp_path / "shared"
    with open_hub(directory, clock, settlement=sihlicon.SettlementOptions(charge_jobs=True)) as hub:
        hub.scheduler.register_hub(hub_spec())
        hub.settlement.top_up("alice", sihlicon.Money.parse("5", "USD"), "tx-1")
        first = hub.scheduler.submit(job_request("first"), owner="alice")
        charge = hub.settlement.charge_of(first.id)
        assert charge is not None and charge.price == sihlicon.Money.parse("0.10", "USD")
        script = (
            "import sys, sihlicon\n"
            "with sihlicon.Hub(sys.argv[1]) as other:\n"
            "    other.set_setting('defaultPrice', '0.40')\n"
        )
        subprocess.run([sys.executable, "-c", script, str(directory)], check=True)
        second = hub.scheduler.submit(job_request("second"), owner="alice")
        charge = hub.settlement.charge_of(second.id)
        assert charge is not None and charge.price == sihlicon.Money.parse("0.40", "USD")
