"""Schedules: which happening goes first wherever a run has a choice, written as a witness.

A run with a chooser meets a *choice point* wherever more than one happening may go next
(``engine.compat.ChoosingEnvironment``): the candidates are numbered 0, 1, ... with 0 the
default (scheduling order, every jittered happening at its earliest time). A schedule is
a run's choices; its **witness** lists only the departures from the default, as
``CHOICE:INDEX@TIMEus`` joined by commas, e.g. ``4:1@2000us,9:2@2150us`` (at the run's
fifth choice point, at 2000us, the second candidate went first). ``N:K>Tus`` holds
candidate K of choice N back while any other candidate is due by T (a jittered happening
as late as T). ``-`` is the default schedule. Replaying a witness on the same scenario
and profile gives the same trace.

The :class:`Guide` is the chooser of one run: it follows a witness or an explorer's
prefix, and notes what each happening touched (its *footprint*: processes and sockets),
so an explorer knows which happenings commute.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import simpy

from .engine.compat import ChoosingEnvironment
from .engine.probe import Probe
from .engine.processes import SimProcess
from .engine.sockets import ProtocolInfo, UnderlyingSocket
from .plan import Call, Step
from .trace import Kind, TraceRecord

if TYPE_CHECKING:
    from .engine.waits import Ctx
    from .engine.world import World

_PART = re.compile(r"(\d+):(\d+)([@>])(\d+)us")


class Departure(NamedTuple):
    """One departure from the default schedule at choice point ``choice``: candidate
    ``candidate`` goes first (``n:k@Tus``, ``t_us`` the choice's time), or with ``hold``,
    that candidate waits while any other candidate is due by ``t_us`` (``n:k>Tus``:
    a jittered happening as late as that)."""

    choice: int
    candidate: int
    t_us: int
    hold: bool = False


class ScheduleError(ValueError):
    """A witness that is not well formed or does not fit the run; the message says why."""


def parse_witness(text: str) -> list[Departure]:
    """The departures a witness lists (``-`` or empty: none), in choice order."""
    text = text.strip()
    if text in ("", "-"):
        return []
    out: list[Departure] = []
    for part in text.split(","):
        m = _PART.fullmatch(part.strip())
        if m is None:
            raise ScheduleError(
                f"{part.strip()!r} is no departure: write CHOICE:INDEX@TIMEus (that candidate "
                "first) or CHOICE:INDEX>TIMEus (it waits), e.g. 4:1@2000us"
            )
        dep = Departure(int(m[1]), int(m[2]), int(m[4]), m[3] == ">")
        if dep.candidate == 0 and not dep.hold:
            raise ScheduleError(f"{part.strip()!r}: index 0 is the default, not a departure")
        if out and dep.choice <= out[-1].choice:
            raise ScheduleError(f"{part.strip()!r}: choice points must increase")
        out.append(dep)
    return out


def format_witness(departures: list[Departure]) -> str:
    """The witness of these departures (``-`` for the default schedule)."""
    return (
        ",".join(f"{d.choice}:{d.candidate}{'>' if d.hold else '@'}{d.t_us}us" for d in departures)
        or "-"
    )


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one happening touched. Two happenings commute unless they share a process or
    a socket; one the guide cannot place (``every``) commutes with nothing. A call that
    reads another process's state (connect looks up its listener, WSADuplicateSocket its
    target) touches that process too."""

    processes: frozenset[str] = frozenset()
    sockets: frozenset[str] = frozenset()
    every: bool = False
    #: in a sleep set: when it was due. Once the clock passes that time it has been moved
    #: (its jitter chosen later), so it is another happening and wakes.
    due_us: int = 0

    def conflicts(self, other: Footprint) -> bool:
        """Whether the order of the two can matter."""
        return (
            self.every
            or other.every
            or not self.processes.isdisjoint(other.processes)
            or not self.sockets.isdisjoint(other.sockets)
        )


@dataclass(slots=True)
class Choice:
    """One choice point of a run: its time, the candidates (by serial), the one taken and
    the sleep set on arrival (candidates an explorer need not try here)."""

    t_us: int
    keys: list[int]
    times: list[int]
    chosen: int
    sleep: dict[int, Footprint]


class Stop(Exception):
    """The guide ends a run early: every candidate sleeps, or the bound is reached."""

    def __init__(self, bounded: bool) -> None:
        super().__init__("bounded" if bounded else "sleep-set blocked")
        self.bounded = bounded


_ARRIVALS = {
    "_data_arrival": "the arrival of {n} bytes on {dst}",
    "_oob_arrival": "the arrival of {n} urgent bytes on {dst}",
    "_fin_arrival": "the FIN arriving on {dst}",
    "_rst_arrival": "the RST arriving on {dst}",
    "_syn_arrival": "the connection request from {src}",
    "_connect_done": "the connect of {src} completing",
    "_window_update": "the window update reaching {src}",
    "_info_arrival": "the protocol info of {src} reaching {proc}",
    "_hand": "{proc}'s {call} {steps}",
    "poke": "{proc}'s timeout",
    "flush": "the records going to observers",
}


class _Calls(Probe):
    """Tells the guide of every call attempt, blocked ones too (whose call record comes
    only when they return): the process, every socket it names (one, or select's and
    WSAPoll's sets), and another process whose state it reads (connect looks up its
    listener, WSADuplicateSocket its target)."""

    def __init__(self, touched: tuple[set[str], set[str]]) -> None:
        self.touched = touched

    def calling(self, proc: Any, call: Call, ctx: Ctx) -> None:
        procs, socks = self.touched
        procs.add(proc.name)
        d = proc.resolve(call.args.get("socket"), ctx)
        if d is not None:
            socks.add(d.sock.id)
        for value in call.args.values():  # select's sets, WSAPoll's fds: every socket named
            if isinstance(value, list | tuple):
                for item in value:
                    name = item[0] if isinstance(item, list | tuple) and item else item
                    d = proc.resolve(name, ctx) if isinstance(name, str) else None
                    if d is not None:
                        socks.add(d.sock.id)
        to, target = call.args.get("to"), call.args.get("target")
        if isinstance(to, tuple):
            procs.add(to[0])
        if isinstance(target, str):
            procs.add(target)


@dataclass(slots=True)
class Guide:
    """The chooser of one run.

    It takes ``forced`` indices at the first choice points, then ``departures`` (a witness;
    strict: a departure that does not fit raises :class:`ScheduleError`), else the first
    candidate not in the sleep set. The sleep set starts as ``entry`` at the last forced
    choice (or at the start) and loses every entry that conflicts with what runs. More
    than ``bound`` departures end the run (:class:`Stop`).
    """

    forced: list[int] = field(default_factory=list)
    #: the sleep set at the last forced choice (None: no sleep sets)
    entry: dict[int, Footprint] | None = None
    departures: list[Departure] = field(default_factory=list)
    bound: int | None = None
    strict: bool = True
    describe: bool = False
    choices: list[Choice] = field(default_factory=list)
    feet: dict[int, Footprint] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    #: held happenings (by serial) and the time they wait for
    holds: dict[int, int] = field(default_factory=dict)
    #: what went before each held happening
    held_over: dict[int, list[int]] = field(default_factory=dict)
    #: when each happening ran (with ``describe``)
    ran_at: dict[int, int] = field(default_factory=dict)
    _env: ChoosingEnvironment | None = None
    _world: World | None = None
    _sims: dict[simpy.Process, str] = field(default_factory=dict)
    _running: tuple[int, Footprint, list[TraceRecord], int] | None = None
    _taken: int = 0
    #: what the calls of the running happening touched (told by ``probe``)
    _touched: tuple[set[str], set[str]] = field(default_factory=lambda: (set(), set()))
    #: the sleep set now (None until the last forced choice is made)
    sleep: dict[int, Footprint] | None = None

    def __post_init__(self) -> None:
        if not self.forced and self.entry is not None:
            self.sleep = dict(self.entry)

    @property
    def probe(self) -> Probe:
        """The probe to build the world with, so the guide sees every call attempt."""
        return _Calls(self._touched)

    def bind(self, world: World) -> None:
        """Watch ``world``, built with this guide as its chooser."""
        env = world.env
        assert isinstance(env, ChoosingEnvironment)
        self._env, self._world = env, world
        env.stepping = self._stepping

    def __call__(self, t_us: int, events: list[simpy.Event]) -> int:
        self.settle()
        env = self._env
        assert env is not None
        n = len(self.choices)
        keys = [env.serial[e] for e in events]
        times = list(env.offered_at)
        sleep = self.sleep
        explicit = False
        k: int | None = None
        if n < len(self.forced):
            k = self.forced[n]
            explicit = k != 0
        else:
            if self.departures and self.departures[0].choice == n:
                dep = self.departures.pop(0)
                if dep.candidate >= len(events) or (not dep.hold and dep.t_us != t_us):
                    if self.strict:
                        raise ScheduleError(
                            f"choice {n} is at {t_us}us with {len(events)} candidates: "
                            f"{format_witness([dep])} does not fit this run"
                        )
                    raise Stop(bounded=False)
                explicit = True
                if dep.hold:
                    self.holds[keys[dep.candidate]] = dep.t_us
                else:
                    k = dep.candidate
            if k is None:
                k = self._default(keys, times, sleep)
        if explicit:
            self._taken += 1
            if self.bound is not None and self._taken > self.bound:
                raise Stop(bounded=True)
        self.choices.append(Choice(t_us, keys, times, k, dict(sleep) if sleep else {}))
        if n == len(self.forced) - 1 and self.entry is not None:
            self.sleep = {y: f for y, f in self.entry.items() if y != keys[k]}
        return k

    def _default(
        self, keys: list[int], times: list[int], sleep: dict[int, Footprint] | None
    ) -> int:
        """The first candidate neither asleep nor held back while another is due."""
        holds = self.holds
        for i, key in enumerate(keys):
            if sleep is not None and key in sleep:
                continue
            until = holds.get(key)
            if until is not None and any(
                t <= until and other not in holds for other, t in zip(keys, times, strict=True)
            ):
                continue
            if until is not None:
                del holds[key]
            if i and keys[0] in holds:
                self.held_over.setdefault(keys[0], []).append(key)
            return i
        if sleep is not None:
            raise Stop(bounded=False)
        return 0

    def finish(self) -> None:
        """The run ended: settle its last happening; a witness must be used up."""
        self.settle()
        if self.strict and self.departures:
            dep = self.departures[0]
            raise ScheduleError(f"the run had no choice {dep.choice} for {format_witness([dep])}")

    def _stepping(self, ev: simpy.Event) -> None:
        self.settle()
        env, world = self._env, self._world
        assert env is not None and world is not None
        batch = world.tracer.batch
        key = env.serial[ev]
        if self.sleep and key in self.sleep:
            raise Stop(bounded=False)  # asleep: this run repeats one already made
        if self.describe:
            self.ran_at[key] = env.now
        self._running = (key, self._static(ev), batch, len(batch))

    def settle(self) -> None:
        """The happening that ran last is done: note its footprint, wake what it conflicts
        with from the sleep set."""
        running = self._running
        if running is None:
            return
        self._running = None
        key, foot, batch, start = running
        world = self._world
        assert world is not None
        now = world.tracer.batch
        recs = batch[start:] if now is batch else [*batch[start:], *now]
        procs, socks = self._touched
        procs.update(r.process for r in recs if r.process is not None)
        procs.update(r.actor for r in recs if r.actor in world.processes)
        socks.update(r.socket for r in recs if r.socket is not None)
        if procs or socks:
            foot = Footprint(foot.processes | procs, foot.sockets | socks, foot.every)
            procs.clear()
            socks.clear()
        self.feet[key] = foot
        if self.describe:
            self.texts[key] = _text(recs) or self.texts.get(key, "")
        if self.sleep:
            t = world.env.now
            self.sleep = {
                y: f for y, f in self.sleep.items() if f.due_us >= t and not foot.conflicts(f)
            }

    def _static(self, ev: simpy.Event) -> Footprint:
        """What an event will touch, from the event itself (its records add the rest)."""
        assert self._world is not None and self._env is not None
        if not self._sims:
            self._sims = {p.sim: p.name for p in self._world.processes.values() if p.sim}
        for cb in ev.callbacks or ():
            owner = getattr(cb, "__self__", None)
            if isinstance(owner, simpy.Process) and owner in self._sims:
                name = self._sims[owner]
                if self.describe:
                    self.texts[self._env.serial[ev]] = f"{name} resuming"
                return Footprint(frozenset((name,)))
        value = getattr(ev, "_value", None)
        if not isinstance(value, tuple) or len(value) != 2 or not callable(value[0]):
            return Footprint(every=True)
        fn, args = value
        name = getattr(fn, "__name__", "")
        if name == "flush":
            return Footprint()  # hands records on; touches no state of the run
        procs: set[str] = set()
        socks: list[str] = []
        facts: dict[str, Any] = {}
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, SimProcess):
            procs.add(owner.name)
            facts["proc"] = owner.name
        for a in args:
            if isinstance(a, UnderlyingSocket):
                socks.append(a.id)
            elif isinstance(a, ProtocolInfo):
                socks.append(a.sock.id)
                procs.add(a.target)
                facts["proc"] = a.target
            elif isinstance(a, tuple) and a and isinstance(a[0], Step):
                procs.add(a[0].process)
                calls = [st.call.name for st in a]
                facts.update(proc=a[0].process, call=" and ".join(calls[:3]), steps="step")
                if len(calls) > 1:
                    facts["steps"] = "steps"
                if len(calls) > 3:
                    facts["call"] += f" and {len(calls) - 3} more"
            elif isinstance(a, int):
                facts["n"] = a
        if socks:
            facts["src"], facts["dst"] = socks[0], socks[-1]
        if not procs and not socks:
            return Footprint(every=True)
        if self.describe and name in _ARRIVALS:
            self.texts[self._env.serial[ev]] = _ARRIVALS[name].format_map(_Facts(facts))
        return Footprint(frozenset(procs), frozenset(socks))


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _text(recs: list[TraceRecord]) -> str:
    """A happening in a few words, from its records: the call it made or what it took."""
    for r in recs:
        if r.kind == Kind.CALL and r.call is not None:
            return f"{r.process}'s {r.call}"
    for r in recs:
        if r.kind == Kind.DELIVER:
            return f"{r.process} taking {r.event} on {r.socket}"
    return ""
