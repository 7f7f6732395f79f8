"""The store's own failures: internal errors, never shown to a client.

StoreError
 ├── StoreClosed      write or read after `Store.close()`
 └── SchemaError      the file is not a usable domain-server database
                      (newer schema than this code, or no WAL support)

They are deliberately not `DomainError`s: a client sees only a `ServerFault` naming a log id.
"""

from __future__ import annotations

__all__ = ["StoreError", "StoreClosed", "SchemaError"]


class StoreError(Exception):
    """Base of every error raised by the store itself (not by a write function)."""


class StoreClosed(StoreError):
    """The store was closed; the operation was not queued and did not run."""


class SchemaError(StoreError):
    """The database cannot be used by this version of the code."""
