"""The database handle: one engine, read and write transactions, retries.

SQLite: WAL, ``synchronous=FULL``, and writers serialized by a process-wide
lock plus ``BEGIN IMMEDIATE`` (so two writers never deadlock on a lock upgrade
and never spin in SQLite's busy handler).  PostgreSQL: writers lock the rows
they change (``SELECT ... FOR UPDATE``) and a pull reads one REPEATABLE READ
snapshot.  Deadlocks and serialization failures are retried a few times.

``run_write_async`` (authorize) and ``run_write_grouped`` (push, the pull's status
line) are the terminals' writes: on SQLite one writer thread takes every job that
is waiting, runs them in one transaction and commits once (group commit: one fsync
for the lot, no convoy of handler threads on the write lock); each job's answer is
released only after that commit.  Urgent jobs (authorize: a customer is waiting at
the stall) go before the others and are grouped only with each other, so an
authorization waits for at most the group in progress, never for a queue of
pushes.  If a group fails, every job runs again alone, so one bad job cannot take
the others down.  PostgreSQL runs each job in its own transaction on the thread
pool (its row locks are taken in id order per transaction).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio.to_thread
from prometheus_client import Histogram
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, create_engine, event, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from server.db import tables as t

__all__ = ["Database", "RetryableConflict"]

T = TypeVar("T")
_RETRY_SQLSTATES = {"40001", "40P01"}
_WRITER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5)


class RetryableConflict(Exception):
    """A write lost a race (unique key, deadlock); the caller's retry loop runs it again."""


class Database:
    """An engine plus the transaction discipline of the ledger."""

    def __init__(self, url: str, *, synchronous: str = "FULL", pool_size: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock()
        self._writer: _GroupWriter | None = None
        self._writer_lock = threading.Lock()
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size, max_overflow=48, pool_timeout=30,
            )
            _sqlite_discipline(self.engine, synchronous=synchronous)
        else:
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=48, pool_timeout=30, pool_pre_ping=False,
            )

    def dispose(self) -> None:
        """Stop the group writer, close every pooled connection."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop()
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction over one consistent snapshot."""
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; commits on success, rolls back on any error."""
        if self.is_sqlite:
            with self._write_lock, self.engine.connect() as conn:
                conn = conn.execution_options(ennichi_write=True)
                with conn.begin():
                    yield conn
        else:
            with self.engine.connect() as conn, conn.begin():
                yield conn

    def run_write(self, fn: Callable[[Connection], T], *, attempts: int = 5) -> T:
        """Run ``fn`` in a write transaction, retrying lost races; raises the last error."""
        for attempt in range(attempts):
            try:
                with self.write() as conn:
                    return fn(conn)
            except (RetryableConflict, IntegrityError) as exc:
                if attempt == attempts - 1:
                    raise
                del exc
            except DBAPIError as exc:
                sqlstate = getattr(exc.orig, "sqlstate", None)
                if sqlstate not in _RETRY_SQLSTATES or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    async def run_write_async(self, fn: Callable[[Connection], T], *, urgent: bool = True) -> T:
        """``run_write`` for async handlers: group commit on SQLite, the thread pool on PostgreSQL.

        ``fn`` may run more than once (a retry, or alone after its group failed) and,
        on SQLite, in one transaction with other jobs: it must only use ``conn``.
        """
        if not self.is_sqlite:
            return await anyio.to_thread.run_sync(self.run_write, fn)
        return await asyncio.wrap_future(self._group_writer().submit(fn, urgent=urgent))

    def run_write_grouped(self, fn: Callable[[Connection], T]) -> T:
        """``run_write`` for the terminals' routine writes from a handler thread (push, pull status).

        On SQLite the job joins the writer's groups (not urgent: after any waiting
        authorization); the same rules as ``run_write_async`` apply to ``fn``.
        """
        if not self.is_sqlite:
            return self.run_write(fn)
        return self._group_writer().submit(fn, urgent=False).result()

    def _group_writer(self) -> _GroupWriter:
        with self._writer_lock:
            if self._writer is None:
                self._writer = _GroupWriter(self)
            return self._writer

    def writer_metrics(self) -> list[Collector]:
        """The group writer's histograms (SQLite, once it has run a job): for ``/metrics``."""
        with self._writer_lock:
            writer = self._writer
        return [] if writer is None else [writer.waited, writer.took, writer.jobs_per_group]

    def for_update(self) -> dict[str, Any]:
        """Keyword arguments for ``select().with_for_update`` (nothing on SQLite)."""
        return {} if self.is_sqlite else {"nowait": False}


class _GroupWriter:
    """One thread that runs waiting write jobs together in one transaction (SQLite).

    Jobs wait in a priority queue: urgent ones (0) before routine ones (1), first
    come first served within each.  A group holds jobs of one priority only, and
    routine groups are kept smaller, so the group an urgent job may have to wait
    for stays short.
    """

    max_group = 64
    max_routine_group = 16

    def __init__(self, db: Database) -> None:
        self.db = db
        # Not in any registry: the app's /metrics collector exposes them (Database.writer_metrics).
        self.waited = Histogram("ennichi_db_writer_wait_seconds", "Time a write job waited for its group to start",
                                ["priority"], buckets=_WRITER_BUCKETS, registry=None)
        self.took = Histogram("ennichi_db_writer_group_seconds", "Time a group of write jobs took, commit included",
                              ["priority"], buckets=_WRITER_BUCKETS, registry=None)
        self.jobs_per_group = Histogram("ennichi_db_writer_group_jobs", "Write jobs per group (one commit)",
                                        ["priority"], buckets=(1, 2, 4, 8, 16, 32, 64), registry=None)
        self.jobs: queue.PriorityQueue[tuple[int, int, Callable[[Connection], Any] | None,
                                             concurrent.futures.Future[Any] | None, float]] = queue.PriorityQueue()
        self._order = itertools.count()
        self.thread = threading.Thread(target=self._serve, name="ennichi-writer", daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[[Connection], T], *, urgent: bool = True) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        context = contextvars.copy_context()  # the request's id and log context go with the job

        def job(conn: Connection) -> T:
            return context.run(fn, conn)

        self.jobs.put((0 if urgent else 1, next(self._order), job, future, time.perf_counter()))
        return future

    def stop(self) -> None:
        self.jobs.put((2, next(self._order), None, None, 0.0))  # after every job already waiting
        self.thread.join(timeout=10)

    def _serve(self) -> None:
        while True:
            priority, _, fn, future, queued = self.jobs.get()
            if fn is None or future is None:
                return
            group = [(fn, future)]
            times = [queued]
            limit = self.max_group if priority == 0 else self.max_routine_group
            while len(group) < limit:
                try:
                    item = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if item[0] != priority:  # another priority (or the stop): it waits for the next round
                    self.jobs.put(item)
                    break
                group.append((item[2], item[3]))  # type: ignore[arg-type]
                times.append(item[4])
            label = "urgent" if priority == 0 else "routine"
            started = time.perf_counter()
            for queued_at in times:
                self.waited.labels(label).observe(started - queued_at)
            group = [(fn, fut) for fn, fut in group if fut.set_running_or_notify_cancel()]
            if group:
                self._run(group)
                self.took.labels(label).observe(time.perf_counter() - started)
                self.jobs_per_group.labels(label).observe(len(group))

    def _run(self, group: list[tuple[Callable[[Connection], Any], concurrent.futures.Future[Any]]]) -> None:
        try:
            with self.db.write() as conn:
                results = [fn(conn) for fn, _ in group]
        except BaseException:  # the group is rolled back: every job again, alone
            for fn, future in group:
                try:
                    result = self.db.run_write(fn)
                except BaseException as exc:  # handed to the waiting request
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            return
        for (_, future), result in zip(group, results, strict=True):  # committed: answer now
            future.set_result(result)


def reserve_changes(conn: Connection, count: int) -> int:
    """Take ``count`` numbers from the global changes counter; return the first.

    The counter row stays locked until commit, so numbers are handed out in
    commit order: a pull that has seen change N has seen every change below N.
    """
    if count <= 0:
        count = 1
    row = conn.execute(
        update(t.counters).where(t.counters.c.name == "changes")
        .values(value=t.counters.c.value + count).returning(t.counters.c.value)
    ).one()
    return int(row[0]) - count + 1


def _sqlite_discipline(engine: Engine, *, synchronous: str) -> None:
    if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
        raise ValueError("sqlite_synchronous must be FULL, NORMAL or EXTRA")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("ennichi_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
