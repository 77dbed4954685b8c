"""The restore epoch: which history of the event this database holds.

A restore takes the database back in time: records the terminals were told are
booked may be gone, and the change numbers the terminals' pull cursors point at
are given out again for other changes.  So every restore gives the database a
new epoch, ``"<restores>-<random 16 hex>"`` (the random part makes two restores
of the same backup differ), kept in two rows of ``counters`` (no schema change).
A database that was never restored is in epoch ``"0"``.

The epoch travels in the ``Ennichi-Restore-Epoch`` header of every push and
pull answer (a header, not a body field: terminals from before it, whose
schemas forbid unknown fields, still read the answers).  A terminal that sees
an epoch other than the one it acknowledged its records under sends them again
(push is idempotent) and pulls from the start.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, delete, insert, select

from server.db import tables as t
from sync.schemas import EPOCH_HEADER

__all__ = ["EPOCH_HEADER", "INITIAL_EPOCH", "bump_restore_epoch", "restore_epoch"]

INITIAL_EPOCH = "0"
_ID = "restore.epoch"
_COUNT = "restore.count"


def restore_epoch(conn: Connection) -> str:
    """Return the database's restore epoch (``"0"`` when it was never restored)."""
    c = t.counters
    rows = {str(name): int(value) for name, value in
            conn.execute(select(c.c.name, c.c.value).where(c.c.name.in_((_ID, _COUNT))))}
    if _ID not in rows:
        return INITIAL_EPOCH
    return f"{rows.get(_COUNT, 0)}-{rows[_ID]:016x}"


def bump_restore_epoch(conn: Connection) -> str:
    """Start a new epoch (inside the restore's transaction); returns it."""
    c = t.counters
    count = int(conn.execute(select(c.c.value).where(c.c.name == _COUNT)).scalar() or 0) + 1
    conn.execute(delete(c).where(c.c.name.in_((_ID, _COUNT))))
    conn.execute(insert(c), [{"name": _ID, "value": secrets.randbits(63)}, {"name": _COUNT, "value": count}])
    return restore_epoch(conn)
