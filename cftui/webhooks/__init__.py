"""Live BTCPay webhooks.

* ``receiver``: the aiohttp server (``WebhookReceiver``) every host runs on its own loop
* ``signing``, ``envelope``: the signature and the body, exactly as BTCPay makes them
* ``recorder``: every request committed (one writer thread, group commit) before it is answered
* ``delivery_row``: one request as it is recorded, built once its verdict is known
* ``processing``: a verified invoice event fetches and stores the invoice, or queues it;
  ``outages``: a store whose API failed is left alone a while, its invoices queued in batches
* ``ratelimit``: 429 for an address that keeps sending rejected requests
* ``daemon``: receiver plus periodic sync, headless; ``btcpay_view``: BTCPay's delivery list beside ours
* ``sending``, ``sample``: what `cftui webhook send`/`replay` and the simulator POST; ``export``: the CSV/JSON export
"""
