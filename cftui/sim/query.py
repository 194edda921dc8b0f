"""``GET .../invoices`` query parsing and selection (contract §2.1).

Newest first by creation time; skip/take offsets; no default page size.
Without status/orderId/textSearch filters a page costs O(log n + take):
date bounds and the archived rule are computed, not scanned.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from multidict import MultiMapping

from cftui.sim.generator import SimInvoice
from cftui.sim.jsontypes import JsonObject
from cftui.sim.state import StoreState

# Legacy aliases BTCPay still accepts (InvoiceRepository.NormalizeStatus).
_STATUS_ALIASES = {
    "new": "New",
    "processing": "Processing",
    "paid": "Processing",
    "settled": "Settled",
    "complete": "Settled",
    "confirmed": "Settled",
    "expired": "Expired",
    "invalid": "Invalid",
}
TEXT_SEARCH_MAX = 512
_CROWDFUND_TERM = "crowdfund-app_"


@dataclass(frozen=True)
class InvoiceQuery:
    skip: int = 0
    take: int | None = None
    start: int | None = None
    end: int | None = None
    statuses: frozenset[str] | None = None
    order_ids: tuple[str, ...] | None = None
    text: str | None = None
    include_archived: bool = False
    include_payment_methods: bool = False

    @property
    def filters_by_content(self) -> bool:
        return self.statuses is not None or self.order_ids is not None or self.text is not None

    def matches(self, invoice: SimInvoice) -> bool:
        if invoice.archived and not self.include_archived:
            return False
        if self.start is not None and invoice.created < self.start:
            return False
        if self.end is not None and invoice.created > self.end:
            return False
        if self.statuses is not None and invoice.status not in self.statuses:
            return False
        if self.order_ids is not None and invoice.order_id not in self.order_ids:
            return False
        if self.text is not None and not any(term.startswith(self.text) for term in invoice.search_terms()):
            return False
        return True


def version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _invalid(path: str, value: str) -> JsonObject:
    # ASP.NET model binding's wording for a value it cannot convert.
    return {"path": path, "message": f"The value '{value}' is not valid."}


def parse_query(params: MultiMapping[str], version: str) -> InvoiceQuery | list[JsonObject]:
    """An :class:`InvoiceQuery`, or the 422 error list BTCPay would answer."""
    errors: list[JsonObject] = []

    def integer(name: str, *, unix_time: bool = False) -> int | None:
        raw = params.get(name)
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            # BTCPay's own wording for dates; model binding's for other numbers.
            errors.append({"path": name, "message": "Invalid unix timestamp"} if unix_time else _invalid(name, raw))
            return None

    def boolean(name: str) -> bool:
        raw = params.get(name)
        if raw is None or raw == "":
            return False
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        errors.append(_invalid(name, raw))
        return False

    skip = integer("skip")
    take = integer("take")
    start = integer("startDate", unix_time=True)
    end = integer("endDate", unix_time=True)
    include_archived = boolean("includeArchived")
    include_pm = boolean("includePaymentMethods")
    if start is not None and end is not None and start > end:
        errors.append({"path": "startDate", "message": "startDate should not be above endDate"})
        errors.append({"path": "endDate", "message": "endDate should not be below startDate"})
    if errors:
        return errors
    # Unknown statuses are dropped; if none is left, there is no status filter at all.
    statuses = {_STATUS_ALIASES[s.lower()] for s in params.getall("status", []) if s.lower() in _STATUS_ALIASES}
    order_ids = tuple(params.getall("orderId", [])) or None
    text = params.get("textSearch") or None
    return InvoiceQuery(
        skip=max(skip or 0, 0),
        take=take,
        start=start,
        end=end,
        statuses=frozenset(statuses) if statuses else None,
        order_ids=order_ids,
        text=text[:TEXT_SEARCH_MAX] if text else None,
        include_archived=include_archived,
        # Servers before 2.3.6 ignore the parameter.
        include_payment_methods=include_pm and version_tuple(version) >= (2, 3, 6),
    )


def select(store: StoreState, query: InvoiceQuery) -> Iterator[SimInvoice]:
    """The invoices of the page, newest first."""
    gen = store.gen
    lo = 0 if query.start is None else gen.first_index_at_or_after(query.start)
    hi = gen.count if query.end is None else gen.first_index_after(query.end)
    skip, take = query.skip, query.take
    stop = None if take is None else skip + max(take, 0)
    # Invoices made after start are newer than every generated one, and few.
    newest = [inv for inv in reversed(store.appended) if query.matches(inv)]
    if query.filters_by_content or store.archive_changed:
        generated = (store.get(i) for i in _candidates(store, query, lo, hi))
        stream = itertools.chain(newest, (inv for inv in generated if query.matches(inv)))
        return itertools.islice(stream, skip, stop)
    older = _generated_from(store, query, lo, hi, max(skip - len(newest), 0))
    first = min(skip, len(newest))
    return itertools.islice(itertools.chain(newest, older), first, None if take is None else first + max(take, 0))


def _candidates(store: StoreState, query: InvoiceQuery, lo: int, hi: int) -> Iterator[int]:
    """Generated indexes that may match, newest first (the query still checks each)."""
    gen = store.gen
    if query.order_ids is not None:
        found = {i for oid in query.order_ids for i in gen.indexes_of_order_id(oid) if lo <= i < hi}
        # An order id set on a changed invoice could be anything: look at overrides too.
        found.update(i for i in store.overrides if lo <= i < hi)
        return iter(sorted(found, reverse=True))
    if query.text is not None:
        exact = gen.index_of_id(query.text)
        if exact is not None and exact < gen.count:
            return iter([exact] if lo <= exact < hi else [])
        if query.text.startswith(_CROWDFUND_TERM):
            return iter(gen.crowdfund_indexes_desc(hi, lo))
    return iter(range(hi - 1, lo - 1, -1))


def _generated_from(store: StoreState, query: InvoiceQuery, lo: int, hi: int, skip: int) -> Iterator[SimInvoice]:
    """Generated invoices in [lo, hi), newest first, after ``skip`` visible ones: O(log n) to start."""
    gen = store.gen

    def visible(x: int) -> int:  # invoices shown in [x, hi)
        hidden = 0 if query.include_archived else gen.archived_between(x, hi)
        return hi - x - hidden

    if hi <= lo or visible(lo) <= skip:
        return
    # The largest x whose [x, hi) holds skip+1 visible invoices is where the page starts.
    left, right = lo, hi - 1
    while left < right:
        mid = (left + right + 1) // 2
        if visible(mid) >= skip + 1:
            left = mid
        else:
            right = mid - 1
    for i in range(left, lo - 1, -1):
        if query.include_archived or not gen.is_archived(i):
            yield store.get(i)
