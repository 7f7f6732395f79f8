"""domainserver: the I/O shell around the core: the aiohttp app, the SQLite store, the CLI.

Mount into an existing aiohttp application with `domainserver.setup(app, ServerConfig(...))`.
"""

from .app import create_app, setup
from .config import ServerConfig

__all__ = ["ServerConfig", "create_app", "setup"]
