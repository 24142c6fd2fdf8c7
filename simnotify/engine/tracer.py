"""The trace as the engine writes it: numbered, timed records, handed to observers.

Records are numbered in order (``seq``), stamped with the simulated time and with who acted,
and kept in a batch that goes to every observer between simulation steps, when no call
record is still being filled in: every ``BATCH`` records and at the end. The happenings
limit is enforced here, so a runaway loop stops wherever it loops.
"""

from __future__ import annotations

from typing import Any

from ..trace import Kind, Observer, Reason, TraceRecord
from ..units import format_time
from .compat import Callback, Environment, now_of

#: Records handed to observers at a time: few enough to be still in the processor's cache
#: when the observers read them (batches of 8192 made a whole run about a tenth slower).
BATCH = 512

#: emit makes records with this and fills in every slot itself: one Python frame per
#: record instead of two (TraceRecord.__init__), about a third cheaper.
_new_record = object.__new__


class SimulationLimitError(RuntimeError):
    """The run produced more happenings than the limit allows (a runaway loop).

    ``process`` is the process that acted last, most likely the one looping (``None``
    when no process has acted yet). Both are kept in ``args``: simpy re-raises a copy
    made from them.
    """

    def __init__(self, message: str, process: str | None = None) -> None:
        super().__init__(message, process)
        self.process = process

    def __str__(self) -> str:
        return str(self.args[0])


class Tracer:
    """Makes the records of one run and hands them on."""

    __slots__ = (
        "_append",
        "_limit",
        "_mark",
        "_seq",
        "actor",
        "batch",
        "env",
        "last_call",
        "observers",
    )

    def __init__(self, env: Environment, limit: int, observers: list[Observer]) -> None:
        self.env = env
        self.observers = observers
        #: who is acting now: a process while it runs, None while the network acts
        self.actor: str | None = None
        self.batch: list[TraceRecord] = []
        self._append = self.batch.append
        self._seq = 0
        self._limit = limit
        self._mark = min(limit, BATCH)  # emit checks one number: the limit or the batch end
        self.last_call: TraceRecord | None = None

    @property
    def count(self) -> int:
        """Records made so far."""
        return self._seq

    def emit(
        self,
        kind: Kind,
        process: str | None = None,
        descriptor: str | None = None,
        socket: str | None = None,
        event: str | None = None,
        reason: Reason | None = None,
        cause: int | None = None,
        gen: int | None = None,
        data: dict[str, Any] | None = None,
        error: str | None = None,
        call: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> TraceRecord:
        """One record, filled in slot by slot (see ``_new_record``). A ``call`` record is made
        before the call's effects, so they can name it as their cause; its result is filled
        in when the call returns."""
        seq = self._seq
        if seq >= self._mark:
            self._at_mark(process)
        self._seq = seq + 1
        rec = _new_record(TraceRecord)
        rec.seq = seq
        rec.t_us = now_of(self.env)
        rec.kind = kind
        actor = self.actor
        rec.actor = actor if actor is not None else socket
        rec.process = process
        rec.descriptor = descriptor
        rec.socket = socket
        rec.event = event
        rec.call = call
        rec.args = args
        rec.result = None
        rec.error = error
        rec.reason = reason
        rec.cause = cause
        rec.gen = gen
        rec.data = data
        self._append(rec)
        if call is not None:
            self.last_call = rec
        return rec

    def _at_mark(self, process: str | None) -> None:
        if self._seq >= self._limit:
            self._over_limit(process)
        self._mark = min(self._limit, self._seq + BATCH)
        Callback(self.env, 0, self.flush, ())  # once the current step is done

    def _over_limit(self, process: str | None) -> None:
        if process is None and self.last_call is not None:
            process = self.last_call.process
        last = f", the last by process {process}" if process is not None else ""
        raise SimulationLimitError(
            f"the run exceeded {self._limit} happenings at {format_time(self.env.now)}{last} "
            "(a loop that never waits?); raise the limit with --max-happenings",
            process,
        )

    def flush(self) -> None:
        """Hand the records made so far to every observer, keeping none of them."""
        batch = self.batch
        if not batch:
            return
        for obs in self.observers:
            obs.records(batch)
        self.batch = []
        self._append = self.batch.append
