"""The words of the domain: every fixed set of string choices, and the names of sync sources.

One module for them, as posting keeps its ``types.py``: a ``Literal`` alias
says which strings a value may take (a type checker catches a typo), and the
tuple beside it lists them at run time, in display order. Nothing here touches
the database or the network, so the parser, the store, the CLI and the UI can
all import it; the ORM modules (``cftui/store/models.py``,
``webhook_models.py``) re-export the tuples they used to define.

The values are what the store holds and exports write, so they are plain
``str`` at run time: renaming one is a schema change.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# ---------------------------------------------------------------- BTCPay invoices

InvoiceStatus = Literal["New", "Processing", "Settled", "Expired", "Invalid"]
AdditionalStatus = Literal["None", "PaidPartial", "PaidLate", "PaidOver", "Marked"]

ALL_STATUSES: tuple[InvoiceStatus, ...] = get_args(InvoiceStatus)
OPEN_STATUSES: tuple[InvoiceStatus, ...] = ("New", "Processing")  # BTCPay may still change these
FINAL_STATUSES: tuple[InvoiceStatus, ...] = ("Settled", "Expired", "Invalid")
ADDITIONAL_STATUSES: tuple[AdditionalStatus, ...] = get_args(AdditionalStatus)

# The orders an invoice page can be sorted in (``cftui/store/queries.py`` has an index for each).
InvoiceSort = Literal["created", "amount", "status", "btc", "id", "currency"]
INVOICE_SORTS: tuple[InvoiceSort, ...] = get_args(InvoiceSort)

# ---------------------------------------------------------------- webhook deliveries

# Why a request was refused; recorded as its verdict, with the HTTP status it was answered with.
Rejection = Literal["bad_signature", "malformed", "too_large", "unknown_store", "rate_limited"]
# Every verdict the receiver records: a delivery acted on, one already acted on, or a rejection.
Verdict = Literal["verified", "duplicate", Rejection]

VERIFIED: Final = "verified"
DUPLICATE: Final = "duplicate"
BAD_SIGNATURE: Final = "bad_signature"
MALFORMED: Final = "malformed"
TOO_LARGE: Final = "too_large"
UNKNOWN_STORE: Final = "unknown_store"
RATE_LIMITED: Final = "rate_limited"

# As exported (`cftui export deliveries`) and shown in the log's filter, in this order.
VERDICTS: tuple[Verdict, ...] = (VERIFIED, BAD_SIGNATURE, MALFORMED, TOO_LARGE, UNKNOWN_STORE, DUPLICATE, RATE_LIMITED)
ACCEPTED_VERDICTS: tuple[Verdict, ...] = (VERIFIED, DUPLICATE)  # answered 200
REJECTIONS: tuple[Rejection, ...] = get_args(Rejection)

# ---------------------------------------------------------------- sync

SyncMode = Literal["backfill", "incremental"]  # the first walk of a source's history, or what changed since
SourceKind = Literal["btcpay", "angor"]

ANGOR_SOURCE: Final = "angor"
BTCPAY_PREFIX: Final = "btcpay:"


def btcpay_source(store_name: str) -> str:
    """The sync source id of a configured BTCPay store: ``btcpay:<store name>``."""
    return f"{BTCPAY_PREFIX}{store_name}"


def source_store(source: str) -> str | None:
    """The store name in a BTCPay source id; None for any other source (``angor``)."""
    return source[len(BTCPAY_PREFIX) :] if source.startswith(BTCPAY_PREFIX) else None


def source_kind(source: str) -> SourceKind | None:
    """``btcpay`` or ``angor`` for a source id; None for a name that is neither."""
    if source.startswith(BTCPAY_PREFIX):
        return "btcpay"
    return "angor" if source == ANGOR_SOURCE else None


# ---------------------------------------------------------------- Angor projects

ProjectStatus = Literal["upcoming", "funding", "funded", "failed", "active", "completed"]
PROJECT_STATUSES: tuple[ProjectStatus, ...] = get_args(ProjectStatus)

# Where a project's "raised" figure came from: the indexer's (gross, fees included) or the chain's.
RaisedSource = Literal["indexer", "esplora"]
INDEXER: Final = "indexer"
ESPLORA: Final = "esplora"

ProjectSort = Literal["name", "status", "target", "raised", "funded", "investors", "start", "end", "days_left", "type"]
PROJECT_SORTS: tuple[ProjectSort, ...] = get_args(ProjectSort)

# ---------------------------------------------------------------- exports

ExportFormat = Literal["csv", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
