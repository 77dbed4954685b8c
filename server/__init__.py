"""The central server: FastAPI app, ledger, sync API, dashboard and My page."""
