"""Leader election: which one process of a fleet runs work that must not run twice at once.

On PostgreSQL the leader is whoever holds a session-level advisory lock
(`pg_try_advisory_lock`) on a connection kept aside for it: the lock lives exactly as long as
that connection, so a crashed or stopped leader frees it for another process within the time
PostgreSQL notices the dead connection. On SQLite the bot runs on one host as one process, so
the only process is always the leader.

A periodic job calls `ensure()` on every tick and does its work only when it returns True;
`close()` gives leadership up at shutdown. This is a tool for a scheduler that wants one
runner; it is not what makes reminders go out once — reminders are claimed one by one through
their unique key in the database (see docs/deployment.md), which stays correct even if two
processes believed they led for a moment. Nothing here knows what the work is.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("thidua.leader")


class Leadership(Protocol):
    name: str

    def ensure(self) -> bool:
        """True when this process leads now: keeps leadership it holds, or takes it if free."""
        ...

    @property
    def is_leader(self) -> bool:
        """What the last `ensure()` found (no database call)."""
        ...

    def close(self) -> None:
        """Give leadership up (at shutdown); another process can take it at once."""
        ...


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a name (the same in every process)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLockLeader:
    """Leadership held as a PostgreSQL session-level advisory lock on a connection of its own.

    The key is derived from `name` and the connection's schema, so two deployments sharing one
    database in different schemas elect their leaders separately.
    """

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._connection: Connection | None = None
        self._key: int | None = None
        self._leader = False

    @property
    def is_leader(self) -> bool:
        return self._leader

    def ensure(self) -> bool:
        try:
            if self._leader:
                self._check_alive()
            else:
                self._try_acquire()
        except sa.exc.DBAPIError as exc:
            # The connection died, and the lock with it: maybe another process leads now.
            if self._leader:
                log.warning("leader %s: lost leadership (%s)", self.name, type(exc).__name__)
            self._drop_connection(discard=True)
        return self._leader

    def close(self) -> None:
        discard = False
        if self._connection is not None and self._leader:
            log.info("leader %s: leadership given up", self.name)
            try:
                unlocked = self._connection.execute(
                    sa.select(sa.func.pg_advisory_unlock(self._key))
                ).scalar_one()
                discard = not unlocked
            except sa.exc.DBAPIError:
                discard = True  # a dead connection has released the lock already
        self._drop_connection(discard=discard)

    # ------------------------------------------------------------------------------------------
    def _connect(self) -> Connection:
        if self._connection is None:
            # Autocommit: holding the lock must not keep a transaction open for hours.
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            schema = connection.execute(sa.select(sa.func.current_schema())).scalar_one()
            self._connection = connection
            self._key = lock_key(f"thidua:{schema}:{self.name}")
        return self._connection

    def _try_acquire(self) -> None:
        connection = self._connect()
        got = connection.execute(sa.select(sa.func.pg_try_advisory_lock(self._key))).scalar_one()
        if got:
            self._leader = True
            log.info("leader %s: this process leads", self.name)
        else:
            # Give the connection back while someone else leads; borrow one on the next try.
            self._drop_connection(discard=False)

    def _check_alive(self) -> None:
        assert self._connection is not None
        self._connection.execute(sa.select(1)).scalar_one()

    def _drop_connection(self, *, discard: bool) -> None:
        """Let go of the connection; `discard` closes it for good instead of pooling it, so
        a session that may still hold the lock is never lent to other code."""
        self._leader = False
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if discard:
                connection.invalidate()
            connection.close()
        except sa.exc.DBAPIError:
            pass


class SingleHostLeader:
    """SQLite: one bot process on one host, which therefore always leads."""

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def is_leader(self) -> bool:
        return True

    def ensure(self) -> bool:
        return True

    def close(self) -> None:
        return None


def leader_for(engine: Engine, name: str) -> Leadership:
    """The leadership that fits the database: advisory lock on PostgreSQL, trivial on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeader(engine, name)
    return SingleHostLeader(name)
