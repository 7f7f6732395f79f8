"""The HTTP transport: `/healthz`, the blacklist API for domain scripts, the operator API.

Handlers parse (`params`), check the API key's scope (`auth`), call a service and render
JSON; one middleware (`errors`) renders every refusal. They never touch the store.
"""

from .routes import add_http_routes, openapi_document

__all__ = ["add_http_routes", "openapi_document"]
