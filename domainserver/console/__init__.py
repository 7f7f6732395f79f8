"""The operator console: a browser page for the moment of trouble, served by the same server.

Like `http/`, it parses, checks the API key's scope (`guard`), calls the services and renders
(Jinja2 templates shipped in the package); it never touches the store. docs/CONSOLE.md.
"""

from .routes import add_console_routes

__all__ = ["add_console_routes"]
