# SPDX-License-Identifier: Apache-2.0
"""What a hub stops when it closes: the one registry of the things bound to a hub's lifetime
(worker agents, servers). Each registers itself when made; :meth:`Hub.close` calls
:func:`stop_all` once, before it closes the database. Held weakly: a thing dropped by its owner
is not kept alive by its hub."""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any, Protocol


class Stoppable(Protocol):
    def stop(self) -> None: ...


_next = itertools.count()
_lock = threading.Lock()
_registry: weakref.WeakKeyDictionary[Any, weakref.WeakValueDictionary[int, Stoppable]] = (
    weakref.WeakKeyDictionary()
)


def register(native_hub: Any, thing: Stoppable) -> None:
    """Stops ``thing`` when the hub whose native handle is ``native_hub`` closes."""
    with _lock:
        _registry.setdefault(native_hub, weakref.WeakValueDictionary())[next(_next)] = thing


def stop_all(native_hub: Any) -> None:
    """Stops everything registered with the hub, the latest first (a server before the
    agents started ahead of it), each once: the registry is emptied before the first stop."""
    with _lock:
        things = _registry.pop(native_hub, None)
        ordered = [] if things is None else [things[k] for k in sorted(things.keys(), reverse=True)
                                              if k in things]
    for thing in ordered:
        thing.stop()
