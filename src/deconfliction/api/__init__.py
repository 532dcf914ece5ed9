"""The HTTP API: FastAPI app, authentication, routes, problem+json errors."""

from deconfliction.api.app import create_app

__all__ = ["create_app"]
