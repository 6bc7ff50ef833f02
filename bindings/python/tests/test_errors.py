# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import pytest

import sihlicon
from conftest import job_request
from sihlicon import ErrorCode, _core


def test_every_error_code_has_its_own_subclass_with_code_and_field() -> None:
    names = _core.error_code_names()
    assert set(names) == {code.value for code in ErrorCode}
    classes = set()
    for code in ErrorCode:
        assert names[code.value] == code.label
        with pytest.raises(sihlicon.Error) as raised:
            _core._raise(code.value, f"boom {code.label}", "some.field")
        error = raised.value
        assert error.code is code and type(error).code is code
        assert error.field == "some.field" and error.message == f"boom {code.label}"
        assert str(error) == f"boom {code.label}" and "some.field" in repr(error)
        classes.add(type(error))
    assert len(classes) == len(ErrorCode)
    assert all(issubclass(cls, sihlicon.Error) for cls in classes)


def test_errors_are_also_the_matching_builtin_exceptions() -> None:
    with pytest.raises(ValueError):
        _core._raise(ErrorCode.INVALID_ARGUMENT.value, "bad", "")
    with pytest.raises(LookupError):
        _core._raise(ErrorCode.NOT_FOUND.value, "absent", "")


def test_the_library_names_the_field_at_fault(site: sihlicon.Hub) -> None:
    request = job_request()
    request["workloadConfig"]["resources"]["memory"] = "lots"
    with pytest.raises(sihlicon.InvalidArgument) as raised:
        site.scheduler.submit(request, owner="alice")
    assert raised.value.field == "workloadConfig.resources.memory"
    assert "lots" in raised.value.message
    with pytest.raises(sihlicon.InvalidArgument) as raised:
        site.scheduler.register_hub("{not json")
    assert raised.value.code is ErrorCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda hub: hub.scheduler.job("job-absent"), sihlicon.NotFound),
        (lambda hub: hub.scheduler.set_worker_status("absent", "online"), sihlicon.NotFound),
        (lambda hub: hub.scheduler.jobs(status="sleeping"), sihlicon.InvalidArgument),
        (lambda hub: hub.scheduler.set_grid_state("pool", "stormy"), sihlicon.InvalidArgument),
        (lambda hub: hub.content_store.get("bafy-nope", principal="a"), sihlicon.InvalidArgument),
        (lambda hub: hub.settlement.withdraw("client", "x", sihlicon.Money(1, "USD"), "w"),
         sihlicon.InsufficientFunds),
        (lambda hub: hub.heat_ledger.credits("absent"), sihlicon.NotFound),
        (lambda hub: sihlicon.Money.parse("1", "XYZ"), sihlicon.InvalidArgument),
    ],
)
def test_each_service_maps_its_failures(site: sihlicon.Hub, call: object, expected: type) -> None:
    with pytest.raises(expected):
        call(site)  # type: ignore[operator]
