"""One router per page of the dashboard, plus My page; ``ROUTERS`` in mounting order."""

from __future__ import annotations

from server.web.routes import (
    anomalies,
    auth,
    close,
    event,
    my,
    overview,
    people,
    reports,
    staff,
    stalls,
    terminals,
    tickets,
    wallets,
)

ROUTERS = [
    auth.router, overview.router, stalls.router, terminals.router, people.router, wallets.router, anomalies.router,
    close.router, event.router, reports.router, staff.router, tickets.router, my.router,
]
