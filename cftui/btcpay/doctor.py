"""`cftui doctor` for one store: can cftui reach it, and may its key do each job?

Checks, in order: the server answers (``/health``), its version, the key is
valid (``/api-keys/current``), which features the key's permissions allow
(honouring implied permissions and ``:storeId`` scoping, contract §1), and a
real one-invoice read of the configured store. Each problem comes with what
to do. The result is plain data: the CLI prints it with :func:`format_report`,
the Settings tab shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cftui.btcpay.client import EMBEDDED_METHODS_SINCE, GreenfieldClient, parse_version
from cftui.btcpay.errors import MissingPermissionError
from cftui.config import StoreConfig
from cftui.errors import AuthError, CftuiError, UnreachableError
from cftui.printable import printable
from cftui.store.retry import Waiting

# Contract §1 "Implied permissions" (BTCPayServerServices.AddPolicyDefinitions).
_STORE = "btcpay.store."
IMPLIED: dict[str, tuple[str, ...]] = {
    _STORE + "canmodifystoresettings": tuple(
        _STORE + p
        for p in (
            "canviewstoresettings", "canmodifyinvoices", "webhooks.canmodifywebhooks", "canmodifypaymentrequests",
            "canmanagepullpayments", "canmanagepayouts", "canuselightningnode", "cansendstoreemails",
        )
    ),
    _STORE + "canviewstoresettings": tuple(
        _STORE + p
        for p in (
            "canviewinvoices", "canviewpaymentrequests", "canviewreports", "canviewpullpayments", "canviewpayouts"
        )
    ),
    _STORE + "canmodifyinvoices": tuple(
        _STORE + p for p in ("canviewinvoices", "cancreateinvoice", "cancreatelightninginvoice")
    ),
}
UNRESTRICTED = "unrestricted"

# feature -> (permission needed, what it gives, required for cftui to work)
FEATURES: dict[str, tuple[str, str, bool]] = {
    "invoices": (_STORE + "canviewinvoices", "sync invoices", True),
    "webhooks": (_STORE + "webhooks.canmodifywebhooks", "register the webhook and read BTCPay's delivery list", False),
    "apps": (_STORE + "canmodifystoresettings", "read crowdfund apps and their targets", False),
}
# Doctor answers quickly: a dead server should not hold it for a full sync budget.
DOCTOR_RETRY_BUDGET = 5


def implied(permission: str) -> set[str]:
    """``permission`` and everything it implies, transitively."""
    found = {permission}
    todo = [permission]
    while todo:
        for child in IMPLIED.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def grants(permissions: list[str] | tuple[str, ...], needed: str, store_id: str) -> bool:
    """Whether the key's permissions include ``needed`` for ``store_id``."""
    for granted in permissions:
        name, _, scope = granted.partition(":")
        if scope and scope != store_id:
            continue
        if name == UNRESTRICTED or needed in implied(name):
            return True
    return False


@dataclass
class FeatureCheck:
    feature: str
    permission: str
    ok: bool
    required: bool
    advice: str | None = None


@dataclass
class DoctorReport:
    store: str
    url: str
    reachable: bool = False
    synchronized: bool | None = None
    version: str | None = None
    key_valid: bool = False
    key_label: str | None = None
    permissions: tuple[str, ...] = ()
    invoices_readable: bool = False
    features: list[FeatureCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one sentence each, with what to do
    notes: list[str] = field(default_factory=list)
    # From the local store, not the server: invoices skipped as malformed, waiting for a retry.
    unread: Waiting | None = None

    @property
    def ok(self) -> bool:
        """cftui can sync this store (optional features may still be missing)."""
        return (
            self.reachable
            and self.key_valid
            and self.invoices_readable
            and all(check.ok for check in self.features if check.required)
        )


async def check_store(store_cfg: StoreConfig) -> DoctorReport:
    report = DoctorReport(store=store_cfg.name, url=store_cfg.url)
    if not store_cfg.verify_tls:
        report.notes.append("TLS verification is off (verify_tls = false): use it only for a test server.")
    try:
        key = store_cfg.require_api_key()
    except CftuiError as exc:
        report.problems.append(str(exc))
        key = None
    # Without a key the server is still asked whether it answers at all.
    async with GreenfieldClient.for_store(
        store_cfg, retry_budget=DOCTOR_RETRY_BUDGET, without_key=key is None
    ) as client:
        if await _check_health(report, client) and key is not None and await _check_key(report, client):
            _check_features(report, store_cfg.store_id)
            await _check_invoices(report, client, store_cfg.store_id)
    return report


async def _check_health(report: DoctorReport, client: GreenfieldClient) -> bool:
    """Whether the server answers; notes nodes that are still synchronizing."""
    try:
        health = await client.health()
    except CftuiError as exc:
        report.problems.append(str(exc))
        return False
    report.reachable = True
    if isinstance(health, dict) and isinstance(health.get("synchronized"), bool):
        report.synchronized = health["synchronized"]
        if not report.synchronized:
            report.notes.append("BTCPay is still synchronizing its nodes; new payments may show late.")
    return True


async def _check_key(report: DoctorReport, client: GreenfieldClient) -> bool:
    """Whether the server accepts the key; fills in its label and permissions and the server's version."""
    try:
        info = await client.server_info()
        key_info = await client.current_key()
    except (AuthError, UnreachableError) as exc:
        report.problems.append(str(exc))
        return False
    report.key_valid = True
    version = info.get("version") if isinstance(info, dict) else None
    report.version = version if isinstance(version, str) else None
    if parse_version(report.version) and parse_version(report.version) < EMBEDDED_METHODS_SINCE:
        report.notes.append(
            f"BTCPay {report.version} is older than 2.3.6: sync reads payment methods one invoice at a time "
            "(slower); upgrading BTCPay makes it one request per page."
        )
    permissions = key_info.get("permissions") if isinstance(key_info, dict) else None
    report.permissions = tuple(p for p in permissions or () if isinstance(p, str))
    label = key_info.get("label") if isinstance(key_info, dict) else None
    report.key_label = label if isinstance(label, str) else None
    return True


def _check_features(report: DoctorReport, store_id: str) -> None:
    """Each feature the key's permissions allow on this store, with what to do where they do not."""
    for feature, (permission, gives, required) in FEATURES.items():
        ok = grants(report.permissions, permission, store_id)
        advice = None
        if not ok:
            advice = (
                f"To {gives}, create a key with '{permission}' for store {store_id} "
                "(BTCPay: Account > API Keys) and set it as api_key."
            )
        report.features.append(FeatureCheck(feature, permission, ok, required, advice))


async def _check_invoices(report: DoctorReport, client: GreenfieldClient, store_id: str) -> None:
    """Whether the key can read this store's invoices (the permission alone does not say the store_id is right)."""
    try:
        await client.list_invoices(store_id, take=1)
        report.invoices_readable = True
    except MissingPermissionError:
        report.problems.append(
            f"The key cannot read invoices of store {store_id}: check store_id in the config "
            "and that the key's user can access that store."
        )
    except CftuiError as exc:
        report.problems.append(str(exc))


def format_report(report: DoctorReport) -> str:
    """The report as lines for a terminal."""

    def mark(ok: bool) -> str:
        return "ok  " if ok else "FAIL"

    lines = [f"Store '{report.store}' ({report.url})"]
    lines.append(f"  {mark(report.reachable)} reachable" + (
        "" if report.synchronized is None else f" (nodes {'synchronized' if report.synchronized else 'syncing'})"
    ))
    if report.reachable:
        label = f" ('{report.key_label}')" if report.key_label else ""
        lines.append(f"  {mark(report.key_valid)} API key valid{label}")
    if report.version:
        lines.append(f"  info BTCPay Server {report.version}")
    for check in report.features:
        need = "needed" if check.required else "optional"
        status = mark(check.ok) if check.ok or check.required else "miss"
        lines.append(f"  {status} {check.feature}: {check.permission} ({need})")
        if check.advice:
            lines.append(f"       {check.advice}")
    if report.key_valid:
        lines.append(f"  {mark(report.invoices_readable)} can read this store's invoices")
    for problem in report.problems:
        lines.append(f"  problem: {problem}")
    for note in report.notes:
        lines.append(f"  note: {note}")
    if report.unread is not None and report.unread.count:
        more = report.unread.count - len(report.unread.labels)
        listed = ", ".join(report.unread.labels) + (f" and {more} more" if more else "")
        lines.append(
            f"  warn {report.unread.count} invoices could not be read (malformed records) and are read again by "
            f"every sync: {listed}"
        )
    lines.append("  => " + ("ready to sync" if report.ok else "not ready: fix the problems above"))
    # The server chose the key's label, its version and its error messages: shown escaped.
    return printable("\n".join(lines), multiline=True)
