"""Reading one invoice with its payment methods: the one way, for the sync's re-check and for webhooks.

BTCPay adds the payment methods to a single invoice's ``GET`` when asked
(``includePaymentMethods``) from 2.4.1 (contract §2.3, §8); an older server
ignores the flag, so the methods take a second request to
``…/payment-methods``. The BTC amounts are only there (contract §2.2, §2.4), so
both paths need them, and both ask the same way.
"""

from __future__ import annotations

from cftui.btcpay.client import SINGLE_GET_METHODS_SINCE, GreenfieldClient
from cftui.btcpay.errors import NotFoundError
from cftui.btcpay.parse import RecordError, parse_invoice
from cftui.store.records import InvoiceRecord

NOT_FOUND = "not found on the server"


def methods_on_single_get(server_version: tuple[int, ...]) -> bool:
    """Whether a server of this version sends an invoice's payment methods with the invoice itself."""
    return server_version >= SINGLE_GET_METHODS_SINCE


async def fetch_invoice_record(
    client: GreenfieldClient, server_version: tuple[int, ...], store_id: str, invoice_id: str
) -> InvoiceRecord:
    """The invoice ``invoice_id`` of ``store_id``, with its payment methods, parsed.

    :class:`NotFoundError` when the server has no such invoice; :class:`RecordError`
    when the record does not fit the contract or its payment methods are gone.
    """
    embedded = methods_on_single_get(server_version)
    invoice = await client.get_invoice(store_id, invoice_id, include_payment_methods=embedded)
    if embedded:
        methods = invoice.get("paymentMethods") if type(invoice) is dict else None
    else:
        try:
            methods = await client.payment_methods(store_id, invoice_id)
        except NotFoundError:  # deleted between the two requests
            raise RecordError(NOT_FOUND, invoice_id, "payment methods") from None
    return parse_invoice(invoice, payment_methods=methods)
