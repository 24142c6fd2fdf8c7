"""World: one run of one plan under one profile, put together from its parts.

The parts each have one job: the tracer numbers records and hands them to observers, the
socket table makes sockets, the notifier decides notifications, the network moves bytes,
the API runs calls, the processes run loops and handlers, the step feeder hands steps out.
All state hangs off one World, none is global, so runs are independent and a scenario with
the same seed always gives the same trace.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from ..gcpause import collector_paused
from ..plan import Call, Plan
from ..profiles import Profile
from ..trace import Observer, Reason
from ..winsock import ACCEPT, BIT_NAMES, CLOSE, CONNECT, OOB, READ, WRITE
from .calls import Api, Outcome
from .choice import ChoiceFeeder, FloatingNetwork
from .compat import Chooser, ChoosingEnvironment, Environment
from .network import Network
from .notify import Notifier
from .probe import Probe
from .processes import SimProcess
from .sockets import SocketTable, State, Totals
from .steps import StepFeeder
from .tracer import SimulationLimitError, Tracer
from .waits import Ctx

__all__ = ["SimulationLimitError", "World"]

#: Conditions a process can wait to be told of.
STALL_BITS = (CONNECT, ACCEPT, OOB, READ, WRITE, CLOSE)
#: Block reasons of a wait for a notification (a loop's GetMessage or event wait).
NOTIFIED_WAITS = (Reason.GET_MESSAGE, Reason.WAIT_EVENTS)

#: Told of every call with an inline ``expect`` when it returns: (process, call, outcome).
ExpectHook = Callable[[SimProcess, Call, Outcome], None]


class World:
    """One run of one plan under one profile; ``observers`` get its records in order."""

    def __init__(
        self,
        plan: Plan,
        profile: Profile,
        observers: Sequence[Observer] = (),
        expect: ExpectHook | None = None,
        probe: Probe | None = None,
        choose: Chooser | None = None,
    ) -> None:
        self.plan = plan
        self.profile = profile
        # the one choice point: which of the events due at one instant goes first
        self.env = Environment() if choose is None else ChoosingEnvironment(choose)
        self.rng = random.Random(plan.seed)  # the run's only source of randomness
        self.tracer = Tracer(self.env, plan.limits.max_happenings, list(observers))
        net = plan.network
        self.table = SocketTable(net.send_buffer, net.recv_buffer)
        self.totals = Totals()
        self.probe = probe
        self.notifier = Notifier(self.tracer, profile, probe)
        # with a chooser, steps and segments are events of their own that may float
        network, feeder = (
            (Network, StepFeeder) if choose is None else (FloatingNetwork, ChoiceFeeder)
        )
        self.network = network(self.env, self.notifier, self.table, self.totals, net, self.rng)
        self.processes: dict[str, SimProcess] = {}
        self.api = Api(
            self.env,
            plan,
            profile,
            self.tracer,
            self.notifier,
            self.network,
            self.table,
            self.totals,
            self.processes,
            probe,
        )
        #: every thread, by who takes steps: ``A`` (a main thread) or ``A/io``
        self.threads: dict[str, SimProcess] = {}
        self.feeder = feeder(self.env, plan, self.threads, self.rng)
        for p in plan.processes:
            main = self.processes[p.name] = self.threads[p.name] = SimProcess(self, p)
            for t in p.threads:
                self.threads[f"{p.name}/{t.name}"] = SimProcess(self, p, t, main)
        self._expect = expect

    def expect_done(self, proc: SimProcess, call: Call, out: Outcome) -> None:
        """A call with an inline ``expect`` returned: whoever checks expectations is told."""
        if self._expect is not None:
            self._expect(proc, call, out)

    def _connect_pairs(self) -> None:
        """``[[connection]]`` pairs: as if by a blocking connect and an accept at time 0."""
        for conn in self.plan.connections:
            cproc = self.processes[conn.client[0]]
            sproc = self.processes[conn.server[0]]
            client = cproc.new_descriptor(conn.client[1], self.table.new(), Ctx()).sock
            server = sproc.new_descriptor(conn.server[1], self.table.new(), Ctx()).sock
            server.state = State.CONNECTED
            self.network.establish(client, server)
            n = self.notifier
            n.raise_(server, WRITE, 0, n.occur(server, WRITE, Reason.ACCEPTED_WRITABLE))

    def start(self) -> None:
        """Set up time 0: connected pairs, the processes and the step feeder."""
        self._connect_pairs()
        for proc in self.threads.values():
            proc.start()
        self.feeder.start()

    def detach(self) -> None:
        """Let go of every record and observer: a finished world is a reference cycle
        (processes and sockets point back at it), freed only by a full collection, and the
        trace and verdicts should not wait for that once their new owners drop them."""
        self.tracer.observers = []
        self.tracer.last_call = None
        self._expect = None
        for proc in self.threads.values():
            proc.waiting = None

    def holds(self) -> dict[str, frozenset[str]]:
        """The FD_ conditions that hold now, per socket still alive (for a stall)."""
        return {
            s.id: frozenset(BIT_NAMES[b] for b in STALL_BITS if s.cond(b))
            for s in self.table.sockets
            if not s.closed
        }

    def notified(self) -> list[str]:
        """Who waits now for a message or an event object: each such process, or thread
        and the library objects it waits for (``A/io``, ``A/gsock1``)."""
        out: dict[str, None] = {}
        for t in self.threads.values():
            w = t.waiting
            if w is None or not (
                w.reason in NOTIFIED_WAITS
                or (w.reason is Reason.IN_CALL and w.call == "WSAWaitForMultipleEvents")
            ):
                continue
            out[t.thread_label] = out[t.label] = None
            if t.current is not None and t.current.actor:
                out[t.current.actor] = None
            for obj in t.book_actor.values():
                out[obj] = None
        return list(out)

    def run(self) -> None:
        """Run until ``plan.until_us`` inclusive; raises SimulationLimitError on runaway."""
        with collector_paused():
            self.start()
            self.env.run(until=self.plan.until_us + 1)
            self.tracer.flush()
