# SPDX-License-Identifier: Apache-2.0
"""Confidentiality and ownership in the content store, through the Python binding."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

import sihlicon
from sihlicon import AccessLevel


def test_unreadable_content_fails_exactly_as_unknown_content(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    secret = store.put(b"ann's secret", owner="ann").content_id
    unknown = sihlicon.compute_cid(b"never stored")
    for action in (
        lambda cid: store.get(cid, principal="mallory"),
        lambda cid: store.stat(cid, principal="mallory"),
        lambda cid: store.remove(cid, principal="mallory"),
        lambda cid: store.export_car(cid, io.BytesIO(), principal=""),
        lambda cid: store.replicas(cid, principal="mallory"),
        lambda cid: store.set_reference("m/x", "1", cid, principal="mallory"),
    ):
        with pytest.raises(sihlicon.NotFound) as hidden:
            action(secret)
        with pytest.raises(sihlicon.NotFound) as absent:
            action(unknown)
        assert str(hidden.value).replace(secret, "CID") == str(absent.value).replace(unknown, "CID")
    public = store.put(b"for all", owner="ann", access_level=AccessLevel.PUBLIC).content_id
    with pytest.raises(sihlicon.PermissionDenied):
        store.remove(public, principal="mallory")  # readable, not owned


def test_references_hide_unreadable_content_and_never_pin_it(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    public = store.put(b"v1", owner="ann", access_level=AccessLevel.PUBLIC).content_id
    private = store.put(b"v2", owner="ann").content_id
    store.set_reference("ann/model", "1", public, principal="ann")
    store.set_reference("ann/model", "2", private, principal="ann")
    assert store.resolve_reference("ann/model", principal="ann").version == "2"
    assert store.resolve_reference("ann/model", principal="bob").version == "1"
    assert [r.version for r in store.reference_versions("ann/model", principal="")] == ["1"]
    with pytest.raises(sihlicon.NotFound):
        store.resolve_reference("ann/model", "2", principal="bob")
    # bob names ann's public content; ann still removes it, and bob's name dangles.
    store.set_reference("bob/pin", "1", public, principal="bob")
    with pytest.raises(sihlicon.PermissionDenied):
        store.remove_reference("bob/pin", "1", principal="ann")
    store.remove(public, principal="ann")
    with pytest.raises(sihlicon.NotFound):
        store.resolve_reference("bob/pin", "1", principal="bob")
    store.remove_reference("bob/pin", "1", principal="bob")
    with pytest.raises(sihlicon.NotFound):
        store.remove_reference("bob/pin", "1", principal="bob")


def test_community_membership_changes_need_a_member_or_the_operator(hub: sihlicon.Hub) -> None:
    store = hub.content_store
    store.add_community_member("choir", "ann", principal="ann")  # founds it
    with pytest.raises(sihlicon.PermissionDenied):
        store.add_community_member("choir", "mallory", principal="mallory")
    with pytest.raises(sihlicon.PermissionDenied):
        store.remove_community_member("choir", "ann", principal="mallory")
    store.add_community_member("choir", "bob", principal="ann")
    store.add_community_member("choir", "carl", principal=sihlicon.OPERATOR_PRINCIPAL)
    assert store.communities_of("carl", principal="bob") == ["choir"]
    assert store.communities_of("carl", principal="mallory") == []
    assert store.communities_of("carl", principal=sihlicon.OPERATOR_PRINCIPAL) == ["choir"]


def test_a_refused_read_to_a_path_leaves_the_file_as_it_was(
    hub: sihlicon.Hub, tmp_path: Path
) -> None:
    store = hub.content_store
    secret = store.put(b"ann's secret", owner="ann").content_id
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "out.bin"
    target.write_bytes(b"precious")
    with pytest.raises(sihlicon.NotFound):
        store.get_to(secret, target, principal="mallory")
    with pytest.raises(sihlicon.NotFound):
        store.export_car(secret, target, principal="mallory")
    with pytest.raises(sihlicon.NotFound):
        store.get_to(sihlicon.compute_cid(b"never stored"), str(target), principal="ann")
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path / "out") == ["out.bin"]  # no temporary file left
    assert store.get_to(secret, target, principal="ann") == 12
    assert target.read_bytes() == b"ann's secret"
