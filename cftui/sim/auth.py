"""API keys and permissions, as BTCPay checks them (contract §1).

A granted permission is ``btcpay.store.<perm>`` (every store) or
``btcpay.store.<perm>:<storeId>`` (one store); it also grants what it implies.
"""

from __future__ import annotations

import re

from cftui.sim.config import SimApiKey
from cftui.sim.jsontypes import JsonObject

CAN_VIEW_INVOICES = "btcpay.store.canviewinvoices"
CAN_VIEW_STORE = "btcpay.store.canviewstoresettings"
CAN_MODIFY_STORE = "btcpay.store.canmodifystoresettings"
CAN_MODIFY_WEBHOOKS = "btcpay.store.webhooks.canmodifywebhooks"
UNRESTRICTED = "unrestricted"

# BTCPayServerServices.AddPolicyDefinitions: what each permission includes.
IMPLIED: dict[str, tuple[str, ...]] = {
    CAN_MODIFY_STORE: (
        CAN_VIEW_STORE,
        "btcpay.store.canmodifyinvoices",
        CAN_MODIFY_WEBHOOKS,
        "btcpay.store.canmodifypaymentrequests",
        "btcpay.store.canmanagepullpayments",
        "btcpay.store.canmanagepayouts",
        "btcpay.store.canuselightningnode",
        "btcpay.store.cansendstoreemails",
    ),
    CAN_VIEW_STORE: (
        CAN_VIEW_INVOICES,
        "btcpay.store.canviewpaymentrequests",
        "btcpay.store.canviewreports",
        "btcpay.store.canviewpullpayments",
        "btcpay.store.canviewpayouts",
    ),
    "btcpay.store.canmodifyinvoices": (
        CAN_VIEW_INVOICES,
        "btcpay.store.cancreateinvoice",
        "btcpay.store.cancreatelightninginvoice",
    ),
}

_AUTH_HEADER = re.compile(r"^(token|bearer)\s+(\S+)", re.IGNORECASE)


def _closure(permission: str) -> set[str]:
    found = {permission}
    stack = [permission]
    while stack:
        for implied in IMPLIED.get(stack.pop(), ()):
            if implied not in found:
                found.add(implied)
                stack.append(implied)
    return found


class KeyRing:
    """The configured API keys, with their permissions expanded once."""

    def __init__(self, keys: tuple[SimApiKey, ...]) -> None:
        self._keys = {key.key: key for key in keys}
        # key -> list of (permission, store scope or None)
        self._grants: dict[str, list[tuple[str, str | None]]] = {}
        for key in keys:
            grants: list[tuple[str, str | None]] = []
            for text in key.permissions:
                name, _, scope = text.partition(":")
                grants.extend((perm, scope or None) for perm in _closure(name))
            self._grants[key.key] = grants

    def lookup(self, authorization: str | None) -> SimApiKey | None:
        """The key named by an ``Authorization: token <key>`` (or Bearer) header, if known."""
        if not authorization:
            return None
        match = _AUTH_HEADER.match(authorization)
        if match is None:
            return None
        return self._keys.get(match.group(2))

    def allows(self, key: SimApiKey, permission: str, store_id: str | None) -> bool:
        """Whether ``key`` holds ``permission`` on ``store_id`` (None: on any store)."""
        for granted, scope in self._grants[key.key]:
            if granted == UNRESTRICTED:
                return True
            if granted == permission and (scope is None or store_id is None or scope == store_id):
                return True
        return False


def missing_permission_body(permission: str) -> JsonObject:
    return {
        "missingPermission": permission,
        "code": "missing-permission",
        "message": (
            f'Insufficient API Permissions. Please use an API key with permission "{permission}". '
            "You can create an API key in your account's settings / Api Keys."
        ),
    }
