"""A simulated BTCPay Greenfield server for the demo, the tests and the benchmarks.

Public API:

- :class:`~cftui.sim.config.SimConfig`, :class:`~cftui.sim.config.SimStore`,
  :func:`~cftui.sim.config.default_config`: what the server holds (seeded).
- :class:`~cftui.sim.server.Simulator` (asyncio) and
  :class:`~cftui.sim.server.SimulatorThread` (own loop in a daemon thread).
- :mod:`cftui.sim.generator`: invoice facts and expected values for tests.
- :mod:`cftui.sim.lifecycle`: invoice changes that emit :class:`~cftui.sim.events.SimEvent`.
- :class:`~cftui.sim.faults.Faults`: runtime fault switches.
"""

from cftui.sim.config import LiveConfig, SimApiKey, SimConfig, SimCrowdfund, SimPerk, SimStore, default_config
from cftui.sim.events import SimEvent
from cftui.sim.faults import Faults
from cftui.sim.server import ApiError, Simulator, SimulatorThread

__all__ = [
    "ApiError",
    "Faults",
    "LiveConfig",
    "SimApiKey",
    "SimConfig",
    "SimCrowdfund",
    "SimEvent",
    "SimPerk",
    "SimStore",
    "Simulator",
    "SimulatorThread",
    "default_config",
]
