"""Domain exceptions of payments; backend.errors maps them to the one JSON error shape."""

from backend.errors import Conflict, DomainError


class UnbalancedTransaction(Exception):
    """A posting whose entries do not sum to zero: a bug in the code that posts, never the
    client's fault (so not a DomainError: it answers 500 and is logged)."""


class AllocationRefused(DomainError):
    """A bank transfer cannot pay these orders this way (more than it holds, an order that is
    not the organisation's); nothing was written."""

    code = "validation_error"


class BankReferenceTaken(Conflict):
    """The organisation already recorded a different transfer under this bank reference."""

    code = "conflict"
