"""cftui: a terminal dashboard for Bitcoin crowdfunding.

The package has a headless core (config, store, btcpay, sync, webhooks, angor,
sim, cli) and a Textual UI on top (``cftui.ui``). The UI imports the core,
never the reverse; ``tests/test_architecture.py`` enforces it.
"""

__version__ = "0.1.0"
