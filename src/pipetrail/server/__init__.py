"""The HTTP API: ``pipetrail server``.

``create_app(settings)`` builds the FastAPI application: every route authenticates its
caller by API token and calls one action (which authorises and records it); the routes
of each area live in one module of ``routes/``. One server process per cluster holds
the evaluators' lease and runs the background evaluators (``leader.py``).
"""
