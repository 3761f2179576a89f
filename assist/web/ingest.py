"""The one ingest loop: a platform's websocket in, a call session out, for every protocol.

What differs between AudioHook, Twilio and our native protocol (how a message becomes a step of
the call, how a call is refused, how a close is acknowledged, what goes back to the client) is
an ``IngestAdapter``; the loop does the rest the same way for all three:

- The receive loop only parses and queues. Audio goes onto the call's queue
  (``CallSession.feed``), so pings, closes and every other call's messages are answered however
  busy voice detection and the decoders are.
- A call is opened through admission: refused at the door, in the protocol's own terms, with a
  reason, when the node is full or behind.
- A close is acknowledged within ``close_flush_s`` (adapters that promise it): finals still
  being decoded go on to the sidebar and the call log after the acknowledgement.
- A client that has gone is an ordinary end of the call, never an error in the log.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from assist.calls.session import CallMetadata, CallSession, CapacityError
from assist.errors import AudioFormatError, ProtocolError
from assist.events import Speaker
from assist.live.hub import Outbox
from assist.messages import Message, error_message
from assist.services import Services
from assist.web.connection import CLOSE_NORMAL, Sender

log = logging.getLogger(__name__)

DRAIN_EVENTS_S = 5.0  # after a call ends, how long its last events may take to reach the client


# -- the steps of a call, as adapters produce them from protocol messages ----------------------


@dataclass(frozen=True, slots=True)
class Send:
    message: Message


@dataclass(frozen=True, slots=True)
class Open:
    meta: CallMetadata


@dataclass(frozen=True, slots=True)
class Audio:
    samples: dict[Speaker, npt.NDArray[np.float32]]


@dataclass(frozen=True, slots=True)
class Pause:
    pass


@dataclass(frozen=True, slots=True)
class Resume:
    discarded_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Feedback:
    card_id: str
    action: str


@dataclass(frozen=True, slots=True)
class Close:
    """The client ends the call (AudioHook ``close``, native ``stop``, Twilio ``stop``)."""

    reason: str = "completed"


@dataclass(frozen=True, slots=True)
class Fail:
    """Input that breaks the protocol: the call ends, the client is told why."""

    reason: str
    code: int = 1008
    reply: Message | None = None  # what the protocol sends first (AudioHook's disconnect)
    final: bool = False  # close the connection even where the protocol would wait for the client


Step = Send | Open | Audio | Pause | Resume | Feedback | Close | Fail


@dataclass
class IngestState:
    """What the loop knows of one connection."""

    session: CallSession | None = None
    done: bool = False  # the loop stops reading
    acknowledged: bool = False  # the client's close was answered
    end_reason: str = "disconnected"
    forwarder: asyncio.Task[None] | None = None
    ending: asyncio.Task[None] | None = None


class IngestAdapter(abc.ABC):
    """One protocol's mapping; a new instance per connection."""

    platform: str
    forwards_events = False  # whether call events go back on this connection (see ``events``)
    # After a close: how long finals may keep coming back on this connection before it is
    # acknowledged (None: all of them, however long they take).
    close_flush_s: float | None = None

    @abc.abstractmethod
    def steps(self, received: Mapping[str, Any]) -> list[Step]:
        """The steps a websocket message asks for; raises ProtocolError/AudioFormatError."""

    async def accepted(self, sender: Sender, session: CallSession) -> None:  # noqa: B027
        """The call is open: tell the client (AudioHook ``opened``, native ``started``)."""

    @abc.abstractmethod
    async def refuse(self, sender: Sender, reason: str) -> bool:
        """Admission said no: tell the client in its protocol's terms. True: the connection
        is over; False: the protocol still expects the client's close."""

    async def acknowledge_close(self, sender: Sender) -> None:
        """The close is done as far as the client is concerned."""
        await sender.close(CLOSE_NORMAL, "completed")

    async def fail(self, sender: Sender, step: Fail) -> bool:
        """Tell the client why its input was refused. True: the connection is over (closed
        with ``step.code``); False: the protocol still expects the client's close."""
        if step.reply:
            await sender.send(step.reply)
        return True

    def events(self, message: Message) -> list[Message]:
        """What of a call event goes back to the client (when ``forwards_events``)."""
        return []

    async def after_close(self, websocket: WebSocket) -> None:  # noqa: B027
        """Wait for whatever the protocol expects once the call is closed."""

    def shutdown_notice(self) -> Message | None:
        """Sent to the client when this server shuts down mid-call (after its finals)."""
        return None


async def serve(websocket: WebSocket, services: Services, adapter: IngestAdapter) -> None:
    """Run one accepted ingest connection to its end."""
    sender = Sender(websocket, services.settings.sidebar_send_timeout_s)
    state = IngestState()
    settings = services.settings
    try:
        while not state.done:
            # A connection that never starts a call, or a call whose client went silent, must
            # not hold a socket (or a slot of the node) forever.
            wait_s = settings.idle_call_timeout_s if state.session is not None else settings.start_timeout_s
            try:
                received = await asyncio.wait_for(websocket.receive(), wait_s)
            except TimeoutError:
                await _do(Fail(f"nothing received for {wait_s:g} s", final=True), state, sender, services, adapter)
                if state.done:
                    break
                continue
            if received["type"] == "websocket.disconnect":
                break
            try:
                steps = adapter.steps(received)
            except (ProtocolError, AudioFormatError) as error:
                code = error.code if isinstance(error, ProtocolError) else 1003
                reason = error.reason if isinstance(error, ProtocolError) else str(error)
                steps = [Fail(reason, code)]
            except Exception as error:  # the parsers are pure: whatever they trip on came from the client
                steps = [Fail(f"malformed message ({error.__class__.__name__})")]
            for step in steps:
                await _do(step, state, sender, services, adapter)
                if state.done:
                    break
        if state.acknowledged:
            await adapter.after_close(websocket)
    except (WebSocketDisconnect, OSError):
        pass  # the client went away: an ordinary end of the call
    finally:
        await _wind_down(state, services, sender)


async def _do(step: Step, state: IngestState, sender: Sender, services: Services, adapter: IngestAdapter) -> None:
    session = state.session
    if isinstance(step, Audio):
        if session is not None:
            for speaker, samples in step.samples.items():
                session.feed(speaker, samples)
    elif isinstance(step, Send):
        await sender.send(step.message)
    elif isinstance(step, Open):
        await _open(step, state, sender, services, adapter)
    elif isinstance(step, Pause):
        if session is not None:
            session.pause()
    elif isinstance(step, Resume):
        if session is not None:
            session.resume(step.discarded_s)
    elif isinstance(step, Feedback):
        if session is not None:
            try:
                session.feedback(step.card_id, step.action, "softphone")
            except ValueError as error:  # a wrong action: told, and the call goes on
                await sender.send(error_message(str(error), call_id=session.call_id))
    elif isinstance(step, Close):
        asked = time.perf_counter()
        if state.end_reason == "disconnected":
            state.end_reason = step.reason
        state.done = True
        _end_in_background(state)
        await _flush(state, adapter)
        await adapter.acknowledge_close(sender)
        state.acknowledged = True
        services.metrics.stage_latency.labels("close_ack").observe(time.perf_counter() - asked)
    elif isinstance(step, Fail):
        log.warning("%s: %s", adapter.platform, step.reason)
        services.metrics.errors.labels("protocol").inc()
        state.end_reason = "protocol_error"
        _end_in_background(state)
        if await adapter.fail(sender, step) or step.final:
            state.done = True
            await _flush(state, adapter)
            await sender.close(step.code, step.reason)


async def _open(step: Open, state: IngestState, sender: Sender, services: Services, adapter: IngestAdapter) -> None:
    try:
        session = await services.desk.open(step.meta)
    except CapacityError as error:
        state.end_reason = "refused"
        state.done = await adapter.refuse(sender, str(error))
        return
    state.session = session
    await adapter.accepted(sender, session)
    notice = adapter.shutdown_notice

    async def on_shutdown() -> None:
        # Finals first (as events where the protocol takes them), then the protocol's goodbye.
        await session.end("server_shutdown")
        if state.forwarder is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(state.forwarder), DRAIN_EVENTS_S)
        message = notice()
        if message is not None:
            await sender.send(message)

    session.on_shutdown = on_shutdown
    if adapter.forwards_events:
        outbox = session.subscribe()
        if outbox is not None:
            state.forwarder = asyncio.create_task(_forward(outbox, sender, adapter), name=f"events-{session.call_id}")


async def _forward(outbox: Outbox, sender: Sender, adapter: IngestAdapter) -> None:
    while (message := await outbox.get()) is not None:
        for item in adapter.events(message):
            if not await sender.send(item):
                return
        if message.get("type") == "call_ended":
            return


def _end_in_background(state: IngestState) -> None:
    if state.session is not None and state.ending is None:
        state.ending = asyncio.create_task(state.session.end(state.end_reason), name=f"end-{state.session.call_id}")


async def _flush(state: IngestState, adapter: IngestAdapter) -> None:
    """Before the connection is closed or the close acknowledged: finals still being decoded
    come back while the protocol allows (``close_flush_s``); the rest go on to the sidebar and
    the call log only."""
    waits = [t for t in (state.ending, state.forwarder) if t is not None]
    if waits:
        await asyncio.wait(waits, timeout=adapter.close_flush_s)
    if state.forwarder is not None and not state.forwarder.done():
        state.forwarder.cancel()  # nothing may follow the acknowledgement


async def _wind_down(state: IngestState, services: Services, sender: Sender) -> None:
    """The connection is over: the call still ends properly (finals to sidebar and call log)."""
    _end_in_background(state)
    if state.ending is not None:
        try:
            await asyncio.shield(state.ending)
        except Exception:
            log.exception("ending call %s failed", state.session.call_id if state.session else "?")
    if state.forwarder is not None and not state.forwarder.done():
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(state.forwarder, DRAIN_EVENTS_S)
    if sender.websocket.client_state == WebSocketState.CONNECTED:
        await sender.close(CLOSE_NORMAL, state.end_reason)
