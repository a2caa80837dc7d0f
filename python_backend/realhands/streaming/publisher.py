"""ZeroMQ publisher and subscriber of the wire messages.

The publisher is an XPUB socket: it sees subscriptions, so a subscriber that joins late (or subscribes to
``rh.rig`` again, which is how an engine asks for the rig) gets the current rigs at once. It never blocks:
each subscriber has a bounded queue (``hwm`` messages); a subscriber that does not keep up loses the messages
that do not fit (ZeroMQ drops them), and costs the publisher neither time nor memory.

Loopback only by default. ``lan=True`` binds where asked but admits only the ``allow`` addresses (ZAP), and
``curve_secret_key`` adds CURVE encryption (keys made with ``realhands keys``, i.e. zmq.auth).
"""
from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import zmq

from ..errors import StreamConfigError
from .wire import TOPICS, WireError, decode

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


#: The ZAP domain of the publisher's socket: the allow-list and the admitted CURVE keys are registered under it.
ZAP_DOMAIN = "realhands"
#: Largest message a subscriber may send (they send subscriptions: a byte and a topic of a few bytes).
MAX_INBOUND_BYTES = 1024
#: a subscriber takes message parts up to this size (bytes)
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: A subscription to rh.rig (a new subscriber, or an engine asking again) re-sends the rigs to every subscriber
#: (XPUB cannot address one), at most this often: requests in between are answered together, once.
RIG_RESEND_MIN_INTERVAL_S = 0.5


def _curve_keys(secret_file, clients_folder) -> tuple[bytes, bytes]:
    """(public, secret) of the server's key file, and a check of the admitted clients' folder: clear errors."""
    from zmq import auth as zauth

    if not zmq.has("curve"):
        raise StreamConfigError("this libzmq has no CURVE support")
    path = Path(secret_file)
    if not path.is_file():
        raise StreamConfigError(f"CURVE key file not found: {path} (make one with `realhands keys DIR` and give its "
                                "server.key_secret)")
    try:
        public, secret = zauth.load_certificate(str(path))
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise StreamConfigError(f"{path} is not a CURVE key file ({exc}); make one with `realhands keys DIR`") \
            from None
    if secret is None:
        raise StreamConfigError(f"{path} holds no secret key (use the .key_secret file)")
    if clients_folder:
        folder = Path(clients_folder)
        if not folder.is_dir():
            raise StreamConfigError(f"--curve-clients folder not found: {folder} (put the admitted clients' .key "
                                    "files in it)")
        if not any(folder.glob("*.key")):
            raise StreamConfigError(f"{folder} holds no client .key file: no subscriber could connect")
    return public, secret


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` if a TCP endpoint's port is a port (1-65535, or * to pick one); ZeroMQ itself takes 99999 as
    34463 (the port modulo 65536), so a subscriber told 99999 would never find the stream."""
    if not isinstance(endpoint, str) or not endpoint:
        raise StreamConfigError(f"an endpoint is tcp://HOST:PORT (e.g. tcp://127.0.0.1:5555), got {endpoint!r}")
    if endpoint.startswith("tcp://"):
        port = endpoint.rsplit(":", 1)[-1] if endpoint.count(":") >= 2 else ""
        if port != "*" and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise StreamConfigError(f"{endpoint}: the port must be a number from 1 to 65535 (tcp://HOST:PORT), got "
                                    f"{port or 'none'!r}")
    return endpoint


def _host(endpoint: str) -> str | None:
    if not endpoint.startswith("tcp://"):
        return None  # ipc:// and inproc:// never leave the machine
    return urlparse(endpoint).hostname or endpoint[6:].rsplit(":", 1)[0]


class HandPublisher:
    """Publish encoded wire messages (lists of frames, see realhands.streaming.wire) on ``endpoint``.

    Call ``publish`` from one thread only (ZeroMQ sockets are not thread-safe); it also answers pending
    subscriptions. ``service()`` does only the latter, for idle moments. ``log`` gets one-line warnings (LAN mode
    without encryption).
    """

    def __init__(self, endpoint: str = "tcp://127.0.0.1:5555", *, lan: bool = False, allow=(),
                 curve_secret_key: str | Path | None = None, curve_clients: str | Path | None = None,
                 hwm: int = 50, linger_ms: int = 500, log=None):
        host = _host(check_endpoint(endpoint))
        if host is not None and host not in LOOPBACK_HOSTS and not lan:
            raise StreamConfigError(f"{endpoint} would expose the hand stream beyond this machine; bind to "
                                    "tcp://127.0.0.1:PORT, or opt in to LAN mode (--lan) with an allow-list (--allow)")
        if lan and not allow:
            raise StreamConfigError("LAN mode needs an allow-list of subscriber addresses (--allow 192.168.1.20 ...)")
        for a in allow:
            try:
                ipaddress.ip_address(a)
            except ValueError:
                raise StreamConfigError(f"--allow takes IP addresses, got {a!r}") from None
        if curve_secret_key and not lan:
            raise StreamConfigError("CURVE encryption is for LAN mode (--lan); loopback needs none")
        keys = _curve_keys(curve_secret_key, curve_clients) if curve_secret_key else None
        if curve_clients and not curve_secret_key:
            raise StreamConfigError("--curve-clients admits clients by their CURVE keys: give the server's key too "
                                    "(--curve-key server.key_secret)")
        self.ctx = zmq.Context()  # its own context: ZAP (LAN mode) is one handler per context
        self.auth = None
        self.sock = None
        try:
            self._open(endpoint, lan, allow, keys, curve_clients, hwm, linger_ms)
        except BaseException:
            self.close()
            raise
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.rigs: dict[str, list[bytes]] = {}
        self.sent = self.dropped = self.bytes_sent = self.rig_requests = self.rig_resends = 0
        self._rig_request_pending, self._rigs_resent_at = False, -np.inf
        if lan and not curve_secret_key and log is not None:
            log(f"warning: LAN mode without CURVE: hand poses and camera textures cross the network unencrypted "
                f"to {', '.join(allow)}; encrypt with --curve-key (keys from `realhands keys DIR`)")

    def _open(self, endpoint, lan, allow, keys, curve_clients, hwm, linger_ms):
        self.sock = self.ctx.socket(zmq.XPUB)
        self.sock.setsockopt(zmq.SNDHWM, hwm)
        self.sock.setsockopt(zmq.XPUB_VERBOSE, 1)  # every subscription, also repeated ones: a rig request
        self.sock.setsockopt(zmq.LINGER, linger_ms)
        # subscribers only ever send subscriptions (a byte and a topic): anything larger is an attack or a mistake,
        # and the peer is disconnected before its message is buffered
        self.sock.setsockopt(zmq.MAXMSGSIZE, MAX_INBOUND_BYTES)
        if lan:
            from zmq.auth.thread import ThreadAuthenticator

            self.auth = ThreadAuthenticator(self.ctx)
            self.auth.start()
            self.auth.allow(*allow)
            self.sock.zap_domain = ZAP_DOMAIN.encode()
            if keys is not None:
                from zmq import auth as zauth

                public, secret = keys
                self.sock.curve_secretkey, self.sock.curve_publickey, self.sock.curve_server = secret, public, True
                # the certificates are registered for the socket's own ZAP domain (a "*" registration is not
                # consulted for a named domain, and every listed client was refused)
                self.auth.configure_curve(domain=ZAP_DOMAIN, location=str(curve_clients) if curve_clients
                                          else zauth.CURVE_ALLOW_ANY)
        try:
            self.sock.bind(endpoint)
        except zmq.ZMQError as exc:
            raise StreamConfigError(f"cannot bind {endpoint}: {exc} (is another realhands process running? "
                                    "choose another port with --endpoint)") from None

    def set_rig(self, key: str, frames: list[bytes]) -> None:
        """Remember the rig message ``frames`` under ``key`` (handedness) and send it now."""
        self.rigs[key] = frames
        self._send(frames)

    def _send(self, frames: list[bytes]) -> bool:
        try:
            self.sock.send_multipart(frames, flags=zmq.NOBLOCK, copy=len(frames[-1]) < 65536)
        except zmq.Again:  # a PUB socket drops on a full queue, so this is rare; count it all the same
            self.dropped += 1
            return False
        self.sent += 1
        self.bytes_sent += sum(len(f) for f in frames)
        return True

    def service(self) -> int:
        """Answer pending subscriptions (a subscription to rh.rig re-sends the rigs, at most every
        RIG_RESEND_MIN_INTERVAL_S). Returns how many came."""
        n = 0
        while True:
            try:
                msg = self.sock.recv(zmq.NOBLOCK)
            except zmq.Again:
                break
            n += 1
            if msg[:1] == b"\x01" and TOPICS["rig"].startswith(msg[1:]):  # subscribe to rh.rig (or a prefix)
                self.rig_requests += 1
                self._rig_request_pending = True
        if self._rig_request_pending and not self.rigs:
            self._rig_request_pending = False  # nothing to re-send: set_rig will send the first rig to everyone
        now = time.monotonic()
        if self._rig_request_pending and now - self._rigs_resent_at >= RIG_RESEND_MIN_INTERVAL_S:
            self._rig_request_pending, self._rigs_resent_at = False, now
            self.rig_resends += 1
            for frames in self.rigs.values():
                self._send(frames)
        return n

    def publish(self, frames: list[bytes]) -> bool:
        """Send one message without blocking; False when it was dropped."""
        self.service()
        return self._send(frames)

    def send(self, message) -> bool:
        """Send a realhands.streaming.protocol.Outgoing: a rig is also kept for late subscribers."""
        if message.kind == "rig":
            self.set_rig(message.side, message.frames)
            return True
        return self.publish(message.frames)

    def close(self) -> None:
        if self.sock is not None and not self.sock.closed:
            self.sock.close()
        if self.auth is not None:
            self.auth.stop()
            self.auth = None
        if not self.ctx.closed:
            self.ctx.term()  # waits at most the socket's linger for queued messages


class HandSubscriber:
    """Receive and decode wire messages: ``recv(timeout_ms)`` -> (type, body) or None on timeout. Malformed
    messages are counted in ``malformed`` (with ``last_error``) and skipped, never raised."""

    def __init__(self, endpoint: str = "tcp://127.0.0.1:5555", topics=("rig", "frame", "texture", "stats"),
                 curve_server_key: str | Path | None = None, curve_client_key: str | Path | None = None,
                 rcvhwm: int = 1000):
        check_endpoint(endpoint)  # (before a socket exists to close)
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.RCVHWM, rcvhwm)
        self.sock.setsockopt(zmq.LINGER, 0)
        if curve_server_key:
            from zmq import auth as zauth

            server_public, _ = zauth.load_certificate(str(curve_server_key))
            public, secret = zauth.load_certificate(str(curve_client_key))
            self.sock.curve_serverkey = server_public
            self.sock.curve_publickey, self.sock.curve_secretkey = public, secret
        # a larger message part is no RealHands message (the largest, a 2048² texture, is ~16 MB): the connection is
        # dropped (ZeroMQ reconnects) rather than the message buffered (a 300 MB one took 1.4 GB before)
        self.sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        for t in topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, TOPICS[t])
        try:
            self.sock.connect(endpoint)
        except zmq.ZMQError as exc:
            self.sock.close()
            raise StreamConfigError(f"cannot connect to {endpoint!r}: {exc} (an endpoint is tcp://HOST:PORT, e.g. "
                                    "tcp://127.0.0.1:5555)") from None
        self.malformed, self.last_error = 0, None

    def request_rig(self) -> None:
        """Ask the publisher to send its rigs again (a repeated subscription to rh.rig)."""
        self.sock.setsockopt(zmq.SUBSCRIBE, TOPICS["rig"])

    def recv_raw(self, timeout_ms: int = 1000) -> list[bytes] | None:
        if not self.sock.poll(timeout_ms):
            return None
        return self.sock.recv_multipart()

    def recv(self, timeout_ms: int = 1000) -> tuple[str, dict] | None:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            frames = self.recv_raw(max(0, int((deadline - time.monotonic()) * 1000)))
            if frames is None:
                return None
            try:
                return decode(frames)
            except WireError as exc:
                self.malformed, self.last_error = self.malformed + 1, str(exc)

    def close(self) -> None:
        self.sock.close()
