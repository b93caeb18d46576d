"""The money half of the marketplace: collecting from buyers (payments, bank transfers,
refunds, provider events), the double-entry ledger, and settling to cooperatives
(settlement runs, statements, household shares, payouts, bank batches)."""

from .collecting import (
    BankTransfer,
    BankTransferAllocation,
    Payment,
    ProviderEvent,
    Rail,
    Refund,
)
from .ledger import Account, LedgerEntry, LedgerTransaction
from .settlement import (
    BankBatch,
    HouseholdShare,
    Payout,
    PayoutRail,
    SettlementRun,
    Statement,
    StatementLine,
)

__all__ = [
    "Account",
    "BankBatch",
    "BankTransfer",
    "BankTransferAllocation",
    "HouseholdShare",
    "LedgerEntry",
    "LedgerTransaction",
    "Payment",
    "Payout",
    "PayoutRail",
    "ProviderEvent",
    "Rail",
    "Refund",
    "SettlementRun",
    "Statement",
    "StatementLine",
]
