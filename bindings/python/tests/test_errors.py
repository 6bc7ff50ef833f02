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


@pytest.mark.parametrize("prefix", range(110, 124))
def test_a_non_ascii_cid_raises_a_sihlicon_error_not_unicode_decode_error(
    site: sihlicon.Hub, prefix: int
) -> None:
    # The message shows at most 120 bytes of the value: a 2-, 3- or 4-byte character lands
    # across that limit at one of these offsets, and must not be cut in half.
    for character in ("é", "€", "🔥"):
        cid = "baf" + "y" * (prefix - 3) + character * 4
        with pytest.raises(sihlicon.InvalidArgument) as raised:
            site.content_store.get(cid, principal="a")
        assert "\ufffd" not in raised.value.message


def test_an_error_message_with_bytes_not_utf8_still_raises_the_sihlicon_error() -> None:
    with pytest.raises(sihlicon.InvalidArgument) as raised:
        _core._raise(ErrorCode.INVALID_ARGUMENT.value, b"cid: bad (got 'caf\xc3')", b"cid\n")
    assert raised.value.message == "cid: bad (got 'caf\\xc3')"
    assert raised.value.field == "cid\\x0a"


def test_a_job_name_with_a_control_character_is_refused(site: sihlicon.Hub) -> None:
    for name in ("two\nlines", "bell\x07", "rlo\u202eexe", "c1\x85"):
        request = job_request()
        request["jobName"] = name
        with pytest.raises(sihlicon.InvalidArgument) as raised:
            site.scheduler.submit(request, owner="alice")
        assert raised.value.field == "jobName" and "\n" not in raised.value.message


def test_json_with_a_repeated_member_name_is_refused(site: sihlicon.Hub) -> None:
    text = '{"jobType":"ocr","jobName":"a","jobName":"b","workloadConfig":{"containerImage":"i"}}'
    with pytest.raises(sihlicon.InvalidArgument) as raised:
        site.scheduler.submit(text, owner="alice")
    assert "duplicate member name" in raised.value.message
