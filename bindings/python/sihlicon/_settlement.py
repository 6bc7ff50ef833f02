# SPDX-License-Identifier: Apache-2.0
"""Settlement: the hub's double-entry journal, job charges, the operator key, the marketplace
between hubs, reputation and signed epochs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _core
from ._enums import AccountKind, MarketStatus, MarketType, ReputationSubject, name_of
from ._errors import InvalidArgument
from ._records import (
    Account,
    AccountEntry,
    AccountRef,
    EpochBundle,
    EpochJob,
    EpochRecord,
    JobCharge,
    MarketRequest,
    MarketTransaction,
    Money,
    Payout,
    ReceiptCheck,
    Reputation,
    SettlementOptions,
    Transfer,
    TransferRequest,
    build,
    build_all,
    to_ms,
)


class Settlement:
    """The hub's money (``Hub.settlement``). Safe to use from many threads."""

    def __init__(self, native: _core.Settlement) -> None:
        self._native = native

    def options(self) -> SettlementOptions:
        """The options in force (the operator key is never returned)."""
        return SettlementOptions(**self._native.options())

    def operator_address(self) -> str:
        """The EIP-55 address of the operator's key, the signer of every epoch."""
        return self._native.operator_address()

    def trusted_signers(self) -> list[str]:
        """Whom this hub's receipts may be signed by: the operator's address, then every
        earlier address that signed a finalized epoch. Pass it to :func:`verify_receipt`."""
        return self._native.trusted_signers()

    def price_of(self, job_type: str) -> Money:
        minor_units, currency = self._native.price_of(job_type)
        return Money(minor_units, currency)

    def job_charge(self, job_id: str) -> tuple[Money, str] | None:
        """The price recorded on a charged job and its state ("reserved", "charged",
        "voided"); None for a free job or an unknown id."""
        charge = self._native.job_charge(job_id)
        if charge is None:
            return None
        (minor_units, currency), state = charge
        return Money(minor_units, currency), state

    def charge_of(self, job_id: str) -> JobCharge | None:
        """The whole charge of a job (base price, demand multiplier and its signals, price,
        state); None for a free job or an unknown id."""
        charge = self._native.charge_of(job_id)
        return None if charge is None else build(JobCharge, charge)

    # ---- the operator key ----

    def operator_key_file(self) -> Path | None:
        """The key file the hub signs with (``<hub>/operator.key``); None when the operator
        key was given in :class:`SettlementOptions`."""
        file = self._native.operator_key_file()
        return None if file is None else Path(file)

    def generate_operator_key(self, replace_signer: bool = False) -> str:
        """Replaces the operator key with a new random one (written 0600) and returns its
        address; later epochs are signed with it, sealed ones keep their signature. Raises
        Conflict when the key was given in the options, or when the current key signed a
        finalized epoch and ``replace_signer`` is false; IoError (the old key stays)."""
        return self._native.generate_operator_key(replace_signer)

    def import_operator_key(self, key: str, replace_signer: bool = False) -> str:
        """As :meth:`generate_operator_key` with ``key`` (0x and 64 hex digits); raises
        InvalidArgument (field ``key``) for a malformed one."""
        return self._native.import_operator_key(key, replace_signer)

    # ---- journal ----

    def transfer(self, request: TransferRequest) -> Transfer:
        """Creates a transfer; its id is its idempotency key. Raises InvalidArgument,
        Conflict (the id exists with other fields), InsufficientFunds (nothing written)."""
        if request.debit.currency != request.amount.currency or (
            request.credit.currency != request.amount.currency
        ):
            raise InvalidArgument(
                f"currency: the accounts ({request.debit.currency}, {request.credit.currency})"
                f" must be in the amount's currency ({request.amount.currency})",
                "currency",
            )
        return build(
            Transfer,
            self._native.transfer(
                request.id,
                name_of(request.debit.kind),
                request.debit.owner,
                name_of(request.credit.kind),
                request.credit.owner,
                request.amount.minor_units,
                request.amount.currency,
                name_of(request.kind),
                request.reference,
                request.pending,
                None if request.timeout_at is None else to_ms(request.timeout_at),
            ),
        )

    def post_pending(self, id: str, pending_id: str, amount: Money | None = None) -> Transfer:
        """Posts a pending transfer (all of it, or ``amount``) as transfer ``id``."""
        native_amount = None if amount is None else (amount.minor_units, amount.currency)
        return build(Transfer, self._native.post_pending(id, pending_id, native_amount))

    def void_pending(self, id: str, pending_id: str) -> Transfer:
        return build(Transfer, self._native.void_pending(id, pending_id))

    def expire_pending(self) -> int:
        return self._native.expire_pending()

    def top_up(
        self, account: str | AccountRef, amount: Money, external_reference: str
    ) -> Transfer:
        """A deposit from outside, idempotent on ``external_reference``: into the account of
        the client ``account``, or into ``account`` when it is an :class:`AccountRef` (of a
        client or a hub operator, in the amount's currency). A repeat with the same account
        and amount returns the first transfer; with others it raises Conflict."""
        if isinstance(account, str):
            native = self._native.top_up(
                account, amount.minor_units, amount.currency, external_reference
            )
        else:
            if account.currency != amount.currency:
                raise InvalidArgument(
                    f"currency: the account's {account.currency} must be the amount's"
                    f" {amount.currency}",
                    "currency",
                )
            native = self._native.top_up_account(
                name_of(account.kind),
                account.owner,
                amount.minor_units,
                amount.currency,
                external_reference,
            )
        return build(Transfer, native)

    def withdraw(
        self,
        kind: AccountKind,
        owner: str,
        amount: Money,
        id: str,
        external_reference: str = "",
    ) -> Transfer:
        """Pays ``amount`` out of an account under the idempotency key ``id``."""
        return build(
            Transfer,
            self._native.withdraw(
                name_of(kind),
                owner,
                amount.minor_units,
                amount.currency,
                id,
                external_reference,
            ),
        )

    def account(self, ref: AccountRef) -> Account:
        """Raises NotFound if the account was never used."""
        return build(
            Account, self._native.account(name_of(ref.kind), ref.owner, ref.currency)
        )

    def accounts(self, kind: AccountKind | None = None) -> list[Account]:
        return build_all(
            Account, self._native.accounts(None if kind is None else name_of(kind))
        )

    def history(self, ref: AccountRef, limit: int = 100) -> list[AccountEntry]:
        """The account's posted movements, newest first."""
        return build_all(
            AccountEntry,
            self._native.history(name_of(ref.kind), ref.owner, ref.currency, limit),
        )

    def transfer_by_id(self, id: str) -> Transfer:
        return build(Transfer, self._native.transfer_by_id(id))

    def deposits(self) -> dict[str, int]:
        """Total deposits ever, minor units per currency code."""
        return self._native.deposits()

    def withdrawals(self) -> dict[str, int]:
        return self._native.withdrawals()

    # ---- marketplace ----

    def create_market_transaction(self, request: MarketRequest) -> MarketTransaction:
        """Creates a transaction between two hubs and reserves its total from the buyer's
        hub_operator account. The id is an idempotency key (the same fields return the stored
        transaction with ``exists``). Raises InvalidArgument, NotFound (an unknown hub),
        Conflict (the id with other fields), InsufficientFunds (nothing written)."""
        return build(
            MarketTransaction,
            self._native.create_market_transaction(
                request.id,
                name_of(request.type),
                request.buyer_hub,
                request.seller_hub,
                request.quantity,
                request.unit_price.minor_units,
                request.unit_price.currency,
                request.reference,
            ),
        )

    def settle_market_transaction(self, id: str) -> MarketTransaction:
        """Pays a pending transaction's reservation to the seller (a settled one is returned
        with ``exists``). Raises NotFound, Conflict (cancelled)."""
        return build(MarketTransaction, self._native.settle_market_transaction(id))

    def cancel_market_transaction(self, id: str) -> MarketTransaction:
        """Releases a pending transaction's reservation (a cancelled one is returned with
        ``exists``). Raises NotFound, Conflict (settled)."""
        return build(MarketTransaction, self._native.cancel_market_transaction(id))

    def market_transaction(self, id: str) -> MarketTransaction:
        """Raises NotFound."""
        return build(MarketTransaction, self._native.market_transaction(id))

    def market_transactions(
        self,
        hub: str | None = None,
        type: MarketType | None = None,
        status: MarketStatus | None = None,
        limit: int = 100,
    ) -> list[MarketTransaction]:
        """Newest (by id) first; ``hub`` as buyer or seller. Raises InvalidArgument for a
        limit outside 1..10,000."""
        return build_all(
            MarketTransaction,
            self._native.market_transactions(
                hub,
                None if type is None else name_of(type),
                None if status is None else name_of(status),
                limit,
            ),
        )

    # ---- reputation ----

    def worker_reputation(self, worker_id: str) -> Reputation:
        """Raises NotFound for an unknown worker."""
        return build(Reputation, self._native.worker_reputation(worker_id))

    def hub_reputation(self, hub_id: str) -> Reputation:
        """The sums of the hub's workers' figures. Raises NotFound for an unknown hub."""
        return build(Reputation, self._native.hub_reputation(hub_id))

    def reputations(
        self, subject: ReputationSubject = ReputationSubject.WORKER
    ) -> list[Reputation]:
        """Every worker's (or hub's), best score first, then by id."""
        return build_all(Reputation, self._native.reputations(name_of(subject)))

    # ---- epochs ----

    def current_epoch(self) -> EpochRecord:
        return build(EpochRecord, self._native.current_epoch())

    def seal_epoch(self) -> EpochRecord:
        """Ends the active epoch, signs its bundle, posts its payouts; returns it finalized."""
        return build(EpochRecord, self._native.seal_epoch())

    def seal_due_epoch(self) -> EpochRecord | None:
        epoch = self._native.seal_due_epoch()
        return None if epoch is None else build(EpochRecord, epoch)

    def epoch(self, epoch_id: str) -> EpochRecord:
        return build(EpochRecord, self._native.epoch(epoch_id))

    def epochs(self) -> list[EpochRecord]:
        return build_all(EpochRecord, self._native.epochs())

    def epoch_jobs(self, epoch_id: str) -> list[EpochJob]:
        return build_all(EpochJob, self._native.epoch_jobs(epoch_id))

    def epoch_payouts(self, epoch_id: str) -> list[Payout]:
        return build_all(Payout, self._native.epoch_payouts(epoch_id))

    def epoch_bundle(self, epoch_id: str) -> EpochBundle:
        return build(EpochBundle, self._native.epoch_bundle(epoch_id))

    def receipt(self, job_id: str) -> str:
        """The receipt (JSON text) of a job in a finalized epoch; check it anywhere with
        :func:`sihlicon.verify_receipt`. Raises NotFound, Conflict (epoch not finalized)."""
        return self._native.receipt(job_id)

    def index_json(self) -> str:
        return self._native.index_json()


def _trusted(trusted_signers: str | Sequence[str] | None) -> list[str]:
    if trusted_signers is None:
        return []
    if isinstance(trusted_signers, str):
        return [trusted_signers]
    return list(trusted_signers)


def verify_receipt(
    receipt: str | Mapping[str, Any], trusted_signers: str | Sequence[str] | None = None
) -> ReceiptCheck:
    """Checks a receipt with no hub: the summary's signature recovers its signer, the leaf's
    inclusion proof leads to the signed Merkle root, and every JSON text in it is strict (no
    repeated member names). Then the signer decides: one of ``trusted_signers`` (an address or
    several, e.g. :meth:`Settlement.trusted_signers` of the hub) makes it ``valid``; with none
    given it is ``"unverified"`` and ``valid`` is False (a receipt carries its own signer, which
    anyone can make); another signer makes it ``"invalid"``. Never raises for a bad document:
    the check is invalid with the problem named. Raises InvalidArgument for a malformed
    address in ``trusted_signers``."""
    text = receipt if isinstance(receipt, str) else json.dumps(receipt)
    return build(ReceiptCheck, _core.verify_receipt(text, _trusted(trusted_signers)))


class ReceiptVerifier:
    """Checks many receipts, recovering each epoch's signature once (receipts of one epoch
    cost one signature recovery in all). Thread-safe."""

    def __init__(self) -> None:
        self._native = _core.ReceiptVerifier()

    def verify(
        self, receipt: str | Mapping[str, Any], trusted_signers: str | Sequence[str] | None = None
    ) -> ReceiptCheck:
        """As :func:`verify_receipt`."""
        text = receipt if isinstance(receipt, str) else json.dumps(receipt)
        return build(ReceiptCheck, self._native.verify(text, _trusted(trusted_signers)))
