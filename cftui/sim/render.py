"""Greenfield JSON shapes (contract §2-4) built from the simulator's facts.

Dicts with camelCase keys; nulls are kept, as BTCPay's Newtonsoft settings do.
"""

from __future__ import annotations

from cftui.sim.config import SimApiKey, SimConfig, SimCrowdfund, SimStore
from cftui.sim.generator import LIGHTNING, ONCHAIN, SPEED_POLICY, SimInvoice, SimPayment, sats_to_btc

# Identical on every invoice the simulator makes (the store defaults).
_CHECKOUT = {
    "speedPolicy": SPEED_POLICY,
    "paymentMethods": [ONCHAIN, LIGHTNING],
    "defaultPaymentMethod": None,
    "lazyPaymentMethods": None,
    "expirationMinutes": 15,
    "monitoringMinutes": 1440,
    "paymentTolerance": 0,
    "redirectURL": None,
    "redirectAutomatically": False,
    "defaultLanguage": None,
}
_RECEIPT = {"enabled": True, "showQR": None, "showPayments": None}
_MARKABLE = {"Settled": ["Invalid"], "Invalid": ["Settled"]}
_BOTH_MARKS = ["Settled", "Invalid"]


def invoice_json(invoice: SimInvoice, base_url: str, *, payment_methods: bool = False) -> dict:
    data = {
        "id": invoice.id,
        "storeId": invoice.store_id,
        "amount": invoice.amount,
        "paidAmount": invoice.paid_amount(),
        "currency": invoice.currency,
        "type": invoice.type,
        "checkoutLink": f"{base_url}/i/{invoice.id}",
        "createdTime": invoice.created,
        "expirationTime": invoice.expiration,
        "monitoringExpiration": invoice.monitoring,
        "status": invoice.status,
        "additionalStatus": invoice.additional_status,
        "availableStatusesForManualMarking": _MARKABLE.get(invoice.status, _BOTH_MARKS),
        "archived": invoice.archived,
        "metadata": invoice.metadata,
        "checkout": _CHECKOUT,
        "receipt": _RECEIPT,
    }
    if payment_methods:
        data["paymentMethods"] = payment_methods_json(invoice)
    return data


def payment_json(payment: SimPayment) -> dict:
    return {
        "id": payment.id,
        "receivedDate": payment.received,
        "value": sats_to_btc(payment.sats),
        "fee": "0.00000000" if payment.method == ONCHAIN else "0",
        "status": payment.status,
        "destination": payment.destination,
    }


def payment_methods_json(invoice: SimInvoice, *, only_accounted: bool = True) -> list[dict]:
    """Both BTC methods: on-chain and Lightning, all amounts in BTC (Lightning too)."""
    total = invoice.paid_sats()
    due = sats_to_btc(invoice.due_sats - total)
    amount = sats_to_btc(invoice.due_sats)
    total_text = sats_to_btc(total)
    rate = invoice.rate_text()
    methods = []
    for method in (ONCHAIN, LIGHTNING):
        payments = [
            payment_json(p)
            for p in invoice.payments
            if p.method == method and (p.accounted or not only_accounted)
        ]
        if method == ONCHAIN:
            destination = invoice.chain_destination
            link = f"bitcoin:{destination}?amount={due}" if invoice.due_sats > total else f"bitcoin:{destination}"
            fee = "0.00000000"
            extra = {
                "keyPath": invoice.key_path,
                "payjoinEnabled": False,
                "accountDerivation": None,
                "recommendedFeeRate": "4.107",
                "paymentMethodFeeRate": "0",
            }
        else:
            destination = invoice.ln_destination
            link = f"lightning:{destination}"
            fee = "0"
            extra = {}
        methods.append(
            {
                "activated": True,
                "paymentMethodId": method,
                "currency": "BTC",
                "destination": destination,
                "paymentLink": link,
                "rate": rate,
                "paymentMethodPaid": sats_to_btc(invoice.paid_sats(method)),
                # Paid through ALL methods: summing it across methods double-counts (#3976).
                "totalPaid": total_text,
                "due": due,
                "amount": amount,
                "paymentMethodFee": fee,
                "payments": payments,
                "additionalData": extra,
            }
        )
    return methods


def store_json(store: SimStore) -> dict:
    return {
        "id": store.store_id,
        "name": store.name,
        "website": None,
        "supportUrl": None,
        "logoUrl": None,
        "cssUrl": None,
        "paymentSoundUrl": None,
        "brandColor": None,
        "applyBrandColorToBackend": False,
        "defaultCurrency": store.default_currency,
        "additionalTrackedRates": [],
        "invoiceExpiration": 900,
        "refundBOLT11Expiration": 30,
        "displayExpirationTimer": 300,
        "monitoringExpiration": 86400,
        "speedPolicy": SPEED_POLICY,
        "lightningDescriptionTemplate": "Paid to {StoreName} (Order ID: {OrderId})",
        "paymentTolerance": 0,
        "archived": False,
        "anyoneCanCreateInvoice": False,
        "receipt": {"enabled": True, "showQR": True, "showPayments": True},
        "lightningAmountInSatoshi": False,
        "lightningPrivateRouteHints": False,
        "onChainWithLnInvoiceFallback": False,
        "redirectAutomatically": False,
        "showRecommendedFee": True,
        "recommendedFeeBlockTarget": 1,
        "defaultLang": "en",
        "htmlTitle": None,
        "networkFeeMode": "MultiplePaymentsOnly",
        "payJoinEnabled": False,
        "autoDetectLanguage": False,
        "showPayInWalletButton": True,
        "showStoreHeader": True,
        "celebratePayment": True,
        "playSoundOnPayment": False,
        "lazyPaymentMethods": False,
        "defaultPaymentMethod": ONCHAIN,
        "paymentMethodCriteria": None,
    }


def app_json(store: SimStore, app: SimCrowdfund) -> dict:
    return {
        "id": app.app_id,
        "appName": app.title,
        "storeId": store.store_id,
        "created": app.created,
        "appType": "Crowdfund",
        "archived": app.archived,
    }


def crowdfund_json(store: SimStore, app: SimCrowdfund) -> dict:
    """``targetAmount`` is a JSON number here (no string converter on this model)."""
    data = app_json(store, app)
    data.update(
        {
            "title": app.title,
            "description": f"<p>Help us fund {app.title}.</p>",
            "enabled": True,
            "enforceTargetAmount": False,
            "startDate": app.start_date,
            "endDate": app.end_date,
            "targetCurrency": app.target_currency,
            "targetAmount": app.target_amount,
            "mainImageUrl": None,
            "notificationUrl": None,
            "tagline": f"{app.title}: every sat counts",
            "disqusEnabled": False,
            "disqusShortname": None,
            "soundsEnabled": False,
            "animationsEnabled": False,
            "resetEveryAmount": 1,
            "resetEvery": "Never",
            "displayPerksValue": False,
            "displayPerksRanking": False,
            "sortPerksByPopularity": False,
            "sounds": [],
            "animationColors": [],
            "htmlLang": "en",
            "htmlMetaTags": None,
            "formId": None,
            "perks": [
                {
                    "id": perk.id,
                    "title": perk.title,
                    "description": perk.description,
                    "categories": None,
                    "image": None,
                    "priceType": perk.price_type,
                    "price": perk.price,
                    "buyButtonText": None,
                    "inventory": perk.inventory,
                    "disabled": perk.disabled,
                    "taxRate": None,
                }
                for perk in app.perks
            ],
        }
    )
    return data


def server_info_json(config: SimConfig) -> dict:
    return {
        "version": config.version,
        "onion": "simulatorxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion",
        "supportedPaymentMethods": [ONCHAIN, LIGHTNING],
        "fullySynched": True,
        "syncStatus": [
            {
                "paymentMethodId": ONCHAIN,
                "available": True,
                "chainHeight": 905_000,
                "syncHeight": 905_000,
                "nodeInformation": {"headers": 905_000, "blocks": 905_000, "verificationProgress": 1},
            }
        ],
    }


def api_key_json(key: SimApiKey) -> dict:
    return {"apiKey": key.key, "label": key.label, "permissions": list(key.permissions)}
