#!/usr/bin/env python3
"""Raw-TCP abuse tool for pekko-socket (issue 8: hostile input).

Runs each attack of issue 8 against a running server, on its own fresh connection, and reports what the server
did (close code and reason, EOF, reset, or "still open"), how long it took, how much the server's RSS grew, and
whether a separate, well-behaved control client of the same system kept receiving pushes. The expected outcome
(close codes from PROTOCOL.md: 1002 protocol error, 1007 bad UTF-8, 1008 policy/rate, 1009 too big) is printed
next to the observed one, with PASS/FAIL.

Python 3 standard library only. All traffic stays on loopback (the host must be in 127.0.0.0/8).

Usage (server started as the README says, on port 7800):

    ADMIN=$(java -jar target/pekko-socket.jar token --role admin)
    python3 load-tests/abuse.py --port 7800 --pid <server pid> --token "$ADMIN"
    # skip the two slow HTTP scenarios (each waits up to --http-idle + 10 s):
    python3 load-tests/abuse.py --port 7800 --pid <pid> --token "$ADMIN" --skip http-idle,http-half-headers
    # only some scenarios, results as JSON on stdout (progress goes to stderr):
    python3 load-tests/abuse.py --port 7800 --pid <pid> --token "$ADMIN" --only ping-1mib,rsv1 --json

A scenario PASSes when the server ended the abusive connection the documented way (see the "expected" column),
the server's RSS peak during the scenario stayed within --rss-limit MiB of where it started, and the control
client received its check push within 5 s. Exit status: 0 all PASS, 1 some FAIL, 2 setup error, 3 the run
exceeded its time bound and was aborted.

The scenarios are bounded in bytes and time and stop by themselves; the cheap frame checks run first and the
memory-heavy ones (ping-2^40, ping-flood-noread) after them, so that a server that falls over under those still
gets its frame checks reported. Against a server without the issue-8 fixes, ping-2^40 and ping-flood-noread can
grow the server's RSS by hundreds of MiB: that is the finding, and the memory is not given back to the OS.
"""

import argparse
import base64
import hashlib
import http.client
import ipaddress
import json
import os
import queue
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse

MIB = 1024 * 1024
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

# Bounds (seconds / bytes). Each scenario's own loop enforces them.
CONNECT_TIMEOUT = 5.0       # TCP connect + WebSocket handshake
WELCOME_TIMEOUT = 5.0       # welcome frame after the handshake
API_TIMEOUT = 5.0           # one HTTP API call
CONTROL_WAIT = 5.0          # "others keep receiving": the control push must arrive within this
BIG_PING_MAX_BYTES = 256 * MIB
BIG_PING_MAX_SECONDS = 15.0
BIG_PING_STALL = 5.0        # no write progress for this long: "writes stalled"
BIG_PING_AFTER = 3.0        # after streaming stops, wait this long for a close / EOF
FLOOD_SECONDS = 8.0
FLOOD_MAX_BYTES = 1024 * MIB
FLOOD_STALL = 1.0           # no write progress for this long: stop flooding and read
FLOOD_PEEK_EVERY = 0.25     # while flooding, look for a close frame this often ...
FLOOD_PEEK_BYTES = 16384    # ... reading at most this much (64 KiB/s: the pongs are essentially never read)
FLOOD_READ_SECONDS = 5.0    # then read what is there for at most this long ...
FLOOD_READ_MAX_BYTES = 256 * MIB  # ... and at most this many bytes
FILL_PAYLOAD = 16 * 1024
FILL_MAX_CALLS = 300
FILL_MAX_SECONDS = 30.0
MAX_SERVER_FRAME = 64 * MIB  # a server frame larger than this is not buffered by this tool
HTTP_SLACK = 10.0


def now():
    return time.monotonic()


def mib(n):
    return n / MIB


# ---------------------------------------------------------------------------------------------------------------
# WebSocket frames

def mask_bytes(data, key):
    if not data:
        return b""
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def frame_header(op, length, fin=True, rsv=0, key=None):
    """Header of a client frame; key (4 bytes) makes it masked, None unmasked."""
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (op & 0xF)
    m = 0x80 if key is not None else 0
    if length < 126:
        h = struct.pack("!BB", b0, m | length)
    elif length < 65536:
        h = struct.pack("!BBH", b0, m | 126, length)
    else:
        h = struct.pack("!BBQ", b0, m | 127, length)
    return h + (key if key is not None else b"")


def frame(op, payload=b"", fin=True, rsv=0, mask=True):
    key = os.urandom(4) if mask else None
    body = mask_bytes(payload, key) if mask else payload
    return frame_header(op, len(payload), fin, rsv, key) + body


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


class Frame:
    __slots__ = ("fin", "rsv", "op", "payload", "masked")

    def __init__(self, fin, rsv, op, payload, masked):
        self.fin, self.rsv, self.op, self.payload, self.masked = fin, rsv, op, payload, masked

    def close_code(self):
        if len(self.payload) >= 2:
            return struct.unpack("!H", self.payload[:2])[0], self.payload[2:].decode("utf-8", "replace")
        return None, ""


class HandshakeError(Exception):
    pass


class Ws:
    """A minimal WebSocket client over a plain socket. Sends exactly the bytes it is given."""

    def __init__(self, host, port, system, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.settimeout(CONNECT_TIMEOUT)
            s.connect((host, port))
            self.sock = s
            self.buf = bytearray()
            self.bytes_read = 0
            self.local_port = s.getsockname()[1]
            key = base64.b64encode(os.urandom(16))
            req = ("GET /ws?systemId=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                   % (urllib.parse.quote(system, safe=""), host, port, key.decode()))
            s.sendall(req.encode())
            deadline = now() + CONNECT_TIMEOUT
            while b"\r\n\r\n" not in self.buf:
                if len(self.buf) > 65536:
                    raise HandshakeError("handshake response headers over 64 KiB")
                self._recv(deadline)
            head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
            self.buf = bytearray(rest)
            lines = head.decode("latin-1").split("\r\n")
            if len(lines[0].split(" ")) < 2 or lines[0].split(" ")[1] != "101":
                raise HandshakeError("handshake refused: %s" % lines[0])
            accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
            hdrs = {ln.split(":", 1)[0].strip().lower(): ln.split(":", 1)[1].strip() for ln in lines[1:] if ":" in ln}
            if hdrs.get("sec-websocket-accept") != accept:
                raise HandshakeError("bad Sec-WebSocket-Accept")
        except BaseException:
            s.close()
            raise

    def welcome(self):
        """Reads the welcome frame and returns the clientId."""
        deadline = now() + WELCOME_TIMEOUT
        while True:
            f = self.read_frame(deadline)
            if f.op == OP_CLOSE:
                code, reason = f.close_code()
                raise HandshakeError("closed %s %r instead of a welcome" % (code, reason))
            if f.op == OP_TEXT:
                try:
                    msg = json.loads(f.payload.decode("utf-8"))
                except ValueError:
                    raise HandshakeError("welcome is not JSON: %r" % f.payload[:200])
                if msg.get("code") != 0:
                    raise HandshakeError("refused: %s" % f.payload[:200].decode("utf-8", "replace"))
                return msg["data"]["clientId"]

    def _recv(self, deadline):
        """Blocks until some bytes arrive (TimeoutError at the deadline, EOFError on EOF)."""
        left = deadline - now()
        if left <= 0:
            raise TimeoutError()
        self.sock.settimeout(left)
        data = self.sock.recv(262144)
        if not data:
            raise EOFError()
        self.bytes_read += len(data)
        self.buf += data

    def recv_nowait(self, limit=262144):
        """Reads what is ready (at most limit bytes) without blocking; EOFError on EOF. Returns the bytes read."""
        try:
            data = self.sock.recv(limit, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return 0
        if not data:
            raise EOFError()
        self.bytes_read += len(data)
        self.buf += data
        return len(data)

    def parse(self):
        """The next complete frame in the buffer, or None."""
        b = self.buf
        if len(b) < 2:
            return None
        fin, rsv, op = b[0] >> 7, (b[0] >> 4) & 7, b[0] & 0xF
        masked, n, i = b[1] >> 7, b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, i = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, i = struct.unpack("!Q", b[2:10])[0], 10
        if n > MAX_SERVER_FRAME:
            raise ValueError("server sent a frame of %d bytes (over %d, not buffered)" % (n, MAX_SERVER_FRAME))
        key = None
        if masked:
            if len(b) < i + 4:
                return None
            key, i = bytes(b[i:i + 4]), i + 4
        if len(b) < i + n:
            return None
        payload = bytes(b[i:i + n])
        del b[:i + n]
        if key:
            payload = mask_bytes(payload, key)
        return Frame(fin, rsv, op, payload, bool(masked))

    def read_frame(self, deadline):
        while True:
            f = self.parse()
            if f is not None:
                return f
            self._recv(deadline)

    def send(self, data, timeout=5.0):
        self.sock.settimeout(timeout)
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------------------------
# Outcomes

class Outcome:
    """How an abusive connection ended (or did not)."""

    def __init__(self, kind, t, code=None, reason="", detail=""):
        self.kind, self.t, self.code, self.reason, self.detail = kind, t, code, reason, detail

    def text(self):
        if self.kind == "close":
            if self.code is None:
                return "close (no code)"
            r = self.reason if len(self.reason) <= 32 else self.reason[:29] + "..."
            return "close %d %r" % (self.code, r) if r else "close %d" % self.code
        if self.kind == "eof":
            return "TCP closed (EOF)"
        if self.kind == "reset":
            return "reset"
        if self.kind == "open":
            return "still open after %.0f s" % self.t
        return self.kind + (": " + self.detail if self.detail else "")


def await_close(ws, t0, deadline, counts=None, max_bytes=None):
    """Reads frames until a close frame, EOF, reset or the deadline. counts collects pings/pongs/data frames."""
    counts = counts if counts is not None else {}
    start_read = ws.bytes_read
    try:
        while True:
            if max_bytes is not None and ws.bytes_read - start_read > max_bytes:
                counts["read_cap"] = True
                return Outcome("open", now() - t0, detail="read cap")
            f = ws.read_frame(deadline)
            if f.op == OP_CLOSE:
                code, reason = f.close_code()
                return Outcome("close", now() - t0, code, reason)
            key = {OP_PING: "pings", OP_PONG: "pongs"}.get(f.op, "data_frames")
            counts[key] = counts.get(key, 0) + 1
    except TimeoutError:
        return Outcome("open", now() - t0)
    except EOFError:
        return Outcome("eof", now() - t0)
    except ConnectionResetError:
        return Outcome("reset", now() - t0)
    except OSError as e:
        return Outcome("error", now() - t0, detail=repr(e))


def finish_close(ws, outcome, wait):
    """After a close frame from the server: echo it, then see whether the server ends the TCP connection."""
    if outcome.kind != "close":
        return ""
    code = outcome.code if outcome.code and 1000 <= outcome.code <= 4999 and outcome.code not in (1005, 1006, 1015) \
        else None
    t1 = now()
    try:
        ws.send(frame(OP_CLOSE, close_payload(code) if code else b""), timeout=2.0)
    except OSError:
        pass
    try:
        while True:
            ws.read_frame(t1 + wait)
    except TimeoutError:
        return "TCP still open %.0f s after the close echo" % wait
    except EOFError:
        return "then TCP EOF %.2f s after the echo" % (now() - t1)
    except OSError:
        return "then TCP reset %.2f s after the echo" % (now() - t1)
    except ValueError as e:
        return str(e)


# ---------------------------------------------------------------------------------------------------------------
# Server process: memory and sockets

def proc_status(pid):
    vals = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    vals[k] = int(v.split()[0]) * 1024
    except OSError:
        return None
    return vals if "VmRSS" in vals else None


class MemSampler:
    """Samples the server's VmRSS every 50 ms while a scenario runs, to catch the peak."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            st = proc_status(self.pid)
            if st:
                self.peak = max(self.peak, st["VmRSS"])
            self._stop.wait(0.05)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(1.0)

    def rebase(self):
        """Starts the peak afresh from now (after a scenario's setup traffic); returns the status at this point."""
        st = proc_status(self.pid)
        self.peak = st["VmRSS"] if st else 0
        return st


TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
              7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "NEW_SYN_RECV"}


def server_side_sockets(server_port, client_port):
    """Entries of /proc/net/tcp{,6} whose local port is the server's and remote port the client's:
    [(state name, inode)]. inode 0 means no process holds the socket any more (an orphan the kernel finishes)."""
    found = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if len(p) < 10:
                        continue
                    lport = int(p[1].rsplit(":", 1)[1], 16)
                    rport = int(p[2].rsplit(":", 1)[1], 16)
                    if lport == server_port and rport == client_port:
                        found.append((TCP_STATES.get(int(p[3], 16), p[3]), int(p[9])))
        except OSError:
            pass
    return found


# ---------------------------------------------------------------------------------------------------------------
# HTTP API and the control client

class Api:
    def __init__(self, host, port, token, system=None):
        self.host, self.port, self.token, self.system = host, port, token, system

    def call(self, op, body, timeout=API_TIMEOUT):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
            if self.system is not None and op != "register":
                headers["SystemId"] = self.system
            conn.request("POST", "/api/" + op, json.dumps(body).encode(), headers)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, {"raw": raw[:200].decode("utf-8", "replace")}


class Control:
    """A well-behaved client of the same system: answers pings, collects text frames."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.ws = Ws(ctx.host, ctx.port, ctx.system)
        self.client_id = self.ws.welcome()
        self.texts = queue.Queue()
        self.dead = None
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        try:
            while not self._stop.is_set():
                try:
                    f = self.ws.read_frame(now() + 1.0)
                except TimeoutError:
                    continue
                if f.op == OP_PING:
                    with self.lock:
                        self.ws.send(frame(OP_PONG, f.payload))
                elif f.op == OP_CLOSE:
                    code, reason = f.close_code()
                    self.dead = "closed %s %r" % (code, reason)
                    with self.lock:
                        try:
                            self.ws.send(frame(OP_CLOSE, close_payload(code) if code else b""))
                        except OSError:
                            pass
                    return
                elif f.op in (OP_TEXT, OP_BINARY):
                    self.texts.put(f.payload)
        except EOFError:
            self.dead = "EOF"
        except Exception as e:  # noqa: BLE001 - reported, never raised
            self.dead = repr(e)

    def check(self, tag):
        """Pushes a unique string to this client through send_to_client; True if it arrives within 5 s."""
        if self.dead:
            return False, "control connection lost (%s)" % self.dead
        data = "abuse-control-%s-%s" % (tag, os.urandom(6).hex())
        try:
            status, body = self.ctx.api.call("send_to_client", {"clientId": self.client_id, "code": 200,
                                                                "msg": "control", "data": data})
        except OSError as e:
            return False, "send_to_client failed: %r" % e
        if status != 200 or body.get("code") != 0:
            return False, "send_to_client answered %d %s" % (status, json.dumps(body)[:120])
        deadline = now() + CONTROL_WAIT
        while True:
            left = deadline - now()
            if left <= 0:
                return False, "push not received within %.0f s (delivered=%s)" % (
                    CONTROL_WAIT, (body.get("data") or {}).get("delivered"))
            try:
                t = self.texts.get(timeout=left)
            except queue.Empty:
                continue
            if data.encode() in t:
                return True, ""

    def stop(self):
        self._stop.set()
        with self.lock:
            try:
                self.ws.send(frame(OP_CLOSE, close_payload(1000)), timeout=1.0)
            except OSError:
                pass
        self._t.join(2.0)
        self.ws.close()


# ---------------------------------------------------------------------------------------------------------------
# Scenarios. Each returns a dict: outcome (Outcome), notes (str), and optionally ok (bool: its own extra check).

def open_ws(ctx, rcvbuf=None):
    ws = Ws(ctx.host, ctx.port, ctx.system, rcvbuf)
    try:
        cid = ws.welcome()
    except BaseException:
        ws.close()
        raise
    return ws, cid


def simple_frame(data):
    """A scenario that sends one crafted frame (or header) and waits for the server to close."""
    def run(ctx):
        ws, _ = open_ws(ctx)
        try:
            t0 = now()
            ws.send(data() if callable(data) else data)
            counts = {}
            out = await_close(ws, t0, t0 + ctx.wait, counts)
            tail = finish_close(ws, out, ctx.close_timeout + 1.0)
            notes = [tail] if tail else []
            if counts.get("pongs"):
                notes.append("%d pong(s) received" % counts["pongs"])
            return {"outcome": out, "notes": "; ".join(notes)}
        finally:
            ws.close()
    return run


def scenario_big_ping(ctx):
    """Ping header declaring 2^40 bytes, then zeros in 64 KiB writes (<= 256 MiB, <= 15 s), reading meanwhile."""
    ws, _ = open_ws(ctx)
    try:
        key = os.urandom(4)
        chunk = key * (65536 // 4)  # 64 KiB of zeros, masked with key (zero XOR key = key)
        t0 = now()
        ws.send(frame_header(OP_PING, 1 << 40, key=key))
        s = ws.sock
        s.setblocking(False)
        sent, off, last_progress = 0, 0, now()
        out, stop = None, ""
        while out is None:
            t = now()
            if sent >= BIG_PING_MAX_BYTES:
                stop = "stopped at the %d MiB cap" % mib(BIG_PING_MAX_BYTES)
                break
            if t - t0 >= BIG_PING_MAX_SECONDS:
                stop = "stopped at the %.0f s cap" % BIG_PING_MAX_SECONDS
                break
            if t - last_progress >= BIG_PING_STALL:
                stop = "writes stalled for %.0f s" % BIG_PING_STALL
                break
            r, w, _ = select.select([s], [s], [], 0.2)
            try:
                if r:
                    ws.recv_nowait()
                    f = ws.parse()
                    while f is not None and f.op != OP_CLOSE:
                        f = ws.parse()
                    if f is not None:
                        code, reason = f.close_code()
                        out = Outcome("close", now() - t0, code, reason)
                        break
                if w:
                    n = s.send(chunk[off:])
                    if n > 0:
                        sent += n
                        off = (off + n) % len(chunk)
                        last_progress = now()
            except (BlockingIOError, InterruptedError):
                pass
            except EOFError:
                out = Outcome("eof", now() - t0)
            except (BrokenPipeError, ConnectionResetError):
                out = Outcome("reset", now() - t0)
                stop = "writes failed"
            except OSError as e:
                out = Outcome("error", now() - t0, detail=repr(e))
        s.setblocking(True)
        if out is None:
            out = await_close(ws, t0, now() + BIG_PING_AFTER)
            if out.kind == "open":
                out = Outcome("open", out.t)
        tail = finish_close(ws, out, ctx.close_timeout + 1.0)
        accepted = mib(sent)
        notes = "%.1f MiB accepted" % accepted + ("; " + stop if stop else "") + ("; " + tail if tail else "")
        return {"outcome": out, "notes": notes, "ok": accepted <= ctx.big_ping_limit,
                "extra": {"accepted_mib": round(accepted, 2)},
                "extra_expect": "<= %g MiB" % ctx.big_ping_limit}
    finally:
        ws.close()


def scenario_flood(ctx):
    """125-byte masked pings as fast as possible for up to 8 s, not reading the pongs (SO_RCVBUF 4096), then read.

    While flooding, the client looks into its receive buffer only every FLOOD_PEEK_EVERY s, taking at most
    FLOOD_PEEK_BYTES (well under 0.1% of the pongs a server that answers every ping produces): a server that
    closes 1008 waits only close-timeout for this client before it resets the connection, and a close frame still
    in its send buffer is lost in that reset. The stall check covers a server that stops reading instead."""
    ws, _ = open_ws(ctx, rcvbuf=4096)
    try:
        batch = b"".join(frame(OP_PING, os.urandom(125)) for _ in range(128))  # 128 pings, 131 bytes each
        t0 = now()
        sent, stop, out, counts = 0, "stopped at the %.0f s cap" % FLOOD_SECONDS, None, {}
        next_peek = t0 + FLOOD_PEEK_EVERY
        ws.sock.settimeout(FLOOD_STALL)
        while now() - t0 < FLOOD_SECONDS:
            if sent >= FLOOD_MAX_BYTES:
                stop = "stopped at the %d MiB cap" % mib(FLOOD_MAX_BYTES)
                break
            try:
                ws.sock.sendall(batch)
                sent += len(batch)
            except TimeoutError:
                stop = "writes stalled (%.0f s) after %.1f s" % (FLOOD_STALL, now() - t0 - FLOOD_STALL)
                break
            except (BrokenPipeError, ConnectionResetError):
                stop = "writes failed (reset) after %.1f s" % (now() - t0)
                break
            if now() >= next_peek:
                next_peek = now() + FLOOD_PEEK_EVERY
                try:
                    ws.recv_nowait(FLOOD_PEEK_BYTES)
                except EOFError:
                    out, stop = Outcome("eof", now() - t0), "EOF while flooding"
                except ConnectionResetError:
                    out, stop = Outcome("reset", now() - t0), "reset while flooding"
                f = ws.parse()
                while f is not None and f.op != OP_CLOSE:
                    counts["pongs" if f.op == OP_PONG else "other"] = counts.get(
                        "pongs" if f.op == OP_PONG else "other", 0) + 1
                    f = ws.parse()
                if f is not None:
                    code, reason = f.close_code()
                    out, stop = Outcome("close", now() - t0, code, reason), "close frame seen while flooding"
                if out is not None:
                    break
        flood_s = now() - t0
        pings = sent // 131
        peeked = counts.get("pongs", 0)
        if out is None:
            out = await_close(ws, t0, now() + FLOOD_READ_SECONDS, counts, max_bytes=FLOOD_READ_MAX_BYTES)
        tail = finish_close(ws, out, ctx.close_timeout + 1.0)
        notes = "%d pings (%.0f MiB) sent in %.1f s, %s; %d pong(s) read in all (%d while flooding)%s" % (
            pings, mib(sent), flood_s, stop, counts.get("pongs", 0), peeked,
            " (read cap reached)" if counts.get("read_cap") else "")
        if tail:
            notes += "; " + tail
        if out.kind in ("eof", "reset"):
            notes += "; the server ended TCP without a close frame this client could read"
        return {"outcome": out, "notes": notes,
                "extra": {"pings_sent": pings, "pongs_read": counts.get("pongs", 0)}}
    finally:
        ws.close()


def scenario_close_no_read(ctx):
    """Fill the server's queue for this connection, send Close (1000), never read; is the server socket gone?"""
    ws, cid = open_ws(ctx, rcvbuf=4096)
    try:
        payload = "x" * FILL_PAYLOAD
        t_fill, calls, queued, why = now(), 0, 0, ""
        while True:
            if calls >= FILL_MAX_CALLS:
                why = "%d calls" % calls
                break
            if queued >= ctx.fill_bytes:
                why = "%.1f MiB queued" % mib(queued)
                break
            if now() - t_fill >= FILL_MAX_SECONDS:
                why = "%.0f s fill cap" % FILL_MAX_SECONDS
                break
            status, body = ctx.api.call("send_to_client", {"clientId": cid, "code": 200, "msg": "fill",
                                                           "data": payload})
            calls += 1
            delivered = (body.get("data") or {}).get("delivered") if isinstance(body.get("data"), dict) else None
            if status != 200 or body.get("code") != 0:
                why = "send_to_client answered %d %s" % (status, json.dumps(body)[:80])
                break
            if delivered is False:
                why = "delivered=false at call %d (the server is closing it 1013 itself)" % calls
                break
            queued += FILL_PAYLOAD
        # The fill is ordinary traffic (a fresh JVM grows its heap for it); memory is judged from here on.
        baseline = ctx.sampler.rebase() if ctx.sampler else None
        ws.send(frame(OP_CLOSE, close_payload(1000)))
        t0 = now()
        deadline = t0 + ctx.close_deadline
        states, gone_at, released_at, last = [], None, None, None
        while now() < deadline:
            entries = server_side_sockets(ctx.port, ws.local_port)
            owned = [e for e in entries if e[1] != 0]
            desc = ",".join("%s%s" % (st, "" if ino else "(orphan)") for st, ino in entries) or "absent"
            if desc != last:
                states.append("%.1fs:%s" % (now() - t0, desc))
                last = desc
            if not entries:
                gone_at = now() - t0
                break
            if not owned and released_at is None:
                released_at = now() - t0
            time.sleep(0.05)
        fill = "filled %d x 16 KiB (%s)" % (calls, why)
        if gone_at is not None:
            out = Outcome("gone", gone_at)
            observed = "server socket gone"
        elif released_at is not None:
            out = Outcome("released", released_at)
            observed = "server released socket"
        else:
            out = Outcome("open", now() - t0)
            observed = "still held after %.0f s" % ctx.close_deadline
        return {"outcome": out, "observed": observed, "baseline": baseline,
                "notes": fill + "; RSS measured from the Close on; server side: " + " -> ".join(states),
                "ok": out.kind in ("gone", "released") and out.t <= ctx.close_timeout + 1.0,
                "extra": {"fill_calls": calls, "states": states}}
    finally:
        ws.close()


def http_wait(ctx, data):
    """A raw HTTP connection that sends data (maybe nothing) and waits for the server to end it."""
    s = socket.create_connection((ctx.host, ctx.port), timeout=CONNECT_TIMEOUT)
    try:
        if data:
            s.sendall(data)
        t0 = now()
        deadline = t0 + ctx.http_idle + HTTP_SLACK
        got = b""
        while True:
            left = deadline - now()
            if left <= 0:
                out = Outcome("open", now() - t0)
                break
            s.settimeout(min(1.0, left))
            try:
                d = s.recv(4096)
            except TimeoutError:
                continue
            except ConnectionResetError:
                out = Outcome("reset", now() - t0)
                break
            if not d:
                out = Outcome("eof", now() - t0)
                break
            if len(got) < 4096:
                got += d
        notes = ""
        if got:
            notes = "server answered %r" % got.split(b"\r\n", 1)[0].decode("latin-1")[:60]
        return {"outcome": out, "notes": notes}
    finally:
        s.close()


def scenario_http_idle(ctx):
    return http_wait(ctx, b"")


def scenario_http_half(ctx):
    return http_wait(ctx, b"POST /api/x HTTP/1.1\r\nHost: a\r\n")


def s_close(code, reason=b""):
    return lambda: frame(OP_CLOSE, close_payload(code, reason))


# name, function, expected kinds/codes, human expectation, bound in seconds (without the control check)
SETUP = CONNECT_TIMEOUT + WELCOME_TIMEOUT


def scenarios(ctx):
    tail = ctx.close_timeout + 1.0
    fb = SETUP + ctx.wait + tail
    c = lambda code: {"kinds": ["close"], "codes": [code], "text": "close %d" % code}
    sc = [
        ("ping-1mib", simple_frame(lambda: frame_header(OP_PING, MIB, key=os.urandom(4))), c(1002), fb),
        ("fragmented-ping", simple_frame(lambda: frame(OP_PING, b"abc", fin=False)), c(1002), fb),
        ("rsv1", simple_frame(lambda: frame(OP_TEXT, b"hello", rsv=4)), c(1002), fb),
        ("rsv2", simple_frame(lambda: frame(OP_TEXT, b"hello", rsv=2)), c(1002), fb),
        ("rsv3", simple_frame(lambda: frame(OP_TEXT, b"hello", rsv=1)), c(1002), fb),
        ("unmasked", simple_frame(lambda: frame(OP_TEXT, b"hello", mask=False)), c(1002), fb),
        ("opcode-3", simple_frame(lambda: frame(0x3, b"hello")), c(1002), fb),
        ("opcode-11", simple_frame(lambda: frame(0xB, b"")), c(1002), fb),
        ("orphan-continuation", simple_frame(lambda: frame(OP_CONT, b"hello")), c(1002), fb),
        ("close-1-byte", simple_frame(lambda: frame(OP_CLOSE, b"\x03")), c(1002), fb),
        ("close-code-1005", simple_frame(s_close(1005)), c(1002), fb),
        ("close-code-999", simple_frame(s_close(999)), c(1002), fb),
        ("bad-utf8-text", simple_frame(lambda: frame(OP_TEXT, b"\xc3\x28")), c(1007), fb),
        ("bad-utf8-close-reason", simple_frame(s_close(1000, b"\xc3\x28")), c(1007), fb),
        ("text-over-max-frame", simple_frame(lambda: frame(OP_TEXT, b"a" * 9000)), c(1009), fb),
        ("ping-2^40", scenario_big_ping, c(1002),
         SETUP + BIG_PING_MAX_SECONDS + BIG_PING_AFTER + tail),
        ("ping-flood-noread", scenario_flood, c(1008), SETUP + FLOOD_SECONDS + FLOOD_STALL + FLOOD_READ_SECONDS + tail),
        ("close-then-no-read", scenario_close_no_read,
         {"kinds": ["gone", "released"], "text": "gone <= %gs" % ctx.close_timeout},
         SETUP + FILL_MAX_SECONDS + API_TIMEOUT + ctx.close_deadline),
        ("http-idle", scenario_http_idle, {"kinds": ["eof", "reset"], "text": "closed <= %gs" % ctx.http_idle},
         CONNECT_TIMEOUT + ctx.http_idle + HTTP_SLACK),
        ("http-half-headers", scenario_http_half,
         {"kinds": ["eof", "reset"], "text": "closed <= %gs" % ctx.http_idle},
         CONNECT_TIMEOUT + ctx.http_idle + HTTP_SLACK),
    ]
    return sc


PARALLEL = ("http-idle", "http-half-headers")  # run side by side: both only wait


# ---------------------------------------------------------------------------------------------------------------
# Runner

class Ctx:
    pass


def judge(ctx, name, exp, res, rss_before, peak, rss_after, hwm_before, hwm_after, ctl_ok, ctl_detail):
    out = res.get("outcome")
    r = {"scenario": name, "expected": exp["text"], "observed": None, "seconds": None, "close_code": None,
         "close_reason": None, "rss_before_mib": None, "rss_delta_mib": None, "rss_peak_delta_mib": None,
         "hwm_delta_mib": None, "control_ok": ctl_ok, "control_detail": ctl_detail, "notes": res.get("notes", ""),
         "error": res.get("error"), "pass": False}
    if res.get("extra"):
        r.update(res["extra"])
    if res.get("extra_expect"):
        r["expected"] += ", " + res["extra_expect"]
    if rss_before is not None and rss_after is not None:
        r["rss_before_mib"] = round(mib(rss_before), 1)
        r["rss_delta_mib"] = round(mib(rss_after - rss_before), 1)
        r["rss_peak_delta_mib"] = round(mib(max(peak, rss_after) - rss_before), 1)
        r["hwm_delta_mib"] = round(mib(hwm_after - hwm_before), 1)
    if out is None:
        r["observed"] = "error: " + (res.get("error") or "?")
        return r
    r["observed"] = res.get("observed") or out.text()
    r["seconds"] = round(out.t, 2)
    if out.kind == "close":
        r["close_code"], r["close_reason"] = out.code, out.reason
    ok = out.kind in exp["kinds"] and ("codes" not in exp or out.code in exp["codes"])
    ok = ok and res.get("ok", True)
    ok = ok and r["rss_peak_delta_mib"] is not None and r["rss_peak_delta_mib"] <= ctx.rss_limit
    ok = ok and bool(ctl_ok)
    r["pass"] = ok
    return r


COLS = "%-22s %-22s %-34s %7s %9s %9s %4s  %-4s  %s"


def fmt_line(r):
    f = lambda v, p="%.1f": "-" if v is None else p % v
    return COLS % (r["scenario"], r["expected"], r["observed"][:34], f(r["seconds"], "%.2f"),
                   f(r["rss_delta_mib"], "%+.1f"), f(r["rss_peak_delta_mib"], "%+.1f"),
                   {True: "yes", False: "NO", None: "-"}[r["control_ok"]], "PASS" if r["pass"] else "FAIL",
                   "; ".join(x for x in (r["notes"], r.get("control_detail") or "") if x))


def pid_alive(pid):
    return proc_status(pid) is not None


def main():
    ap = argparse.ArgumentParser(
        description="Raw-TCP abuse scenarios of issue 8 against a running pekko-socket server (loopback only).",
        epilog="Scenarios: " + ", ".join(n for n, *_ in scenarios(_defaults_ctx())))
    ap.add_argument("--host", default="127.0.0.1", help="server address, must be in 127.0.0.0/8 (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=7800, help="server port (default 7800)")
    ap.add_argument("--pid", type=int, required=True, help="the server's process id (for /proc/<pid>/status)")
    ap.add_argument("--token", required=True, help="admin JWT (token --role admin)")
    ap.add_argument("--system", help="use this registered systemId instead of registering abuse-<random>")
    ap.add_argument("--only", help="comma-separated scenario names to run")
    ap.add_argument("--skip", help="comma-separated scenario names not to run")
    ap.add_argument("--http-idle", type=float, default=75.0,
                    help="server's socket.http.idle-timeout in s (default 75); the HTTP scenarios wait that + 10 s")
    ap.add_argument("--close-timeout", type=float, default=3.0,
                    help="server's socket.ws.close-timeout in s (default 3)")
    ap.add_argument("--close-deadline", type=float, default=10.0,
                    help="close-then-no-read: how long to watch the server socket (default 10 s)")
    ap.add_argument("--wait", type=float, default=5.0,
                    help="how long a frame scenario waits for the server to close (default 5 s)")
    ap.add_argument("--rss-limit", type=float, default=16.0,
                    help="max RSS growth (peak) in MiB for a scenario to pass (default 16)")
    ap.add_argument("--big-ping-limit", type=float, default=8.0,
                    help="ping-2^40: max MiB the server may accept before closing, to pass (default 8)")
    ap.add_argument("--fill-bytes", type=float, default=3.0,
                    help="close-then-no-read: MiB of pushes to queue before the Close, kept below the server's "
                         "outbound-buffer.bytes (4 MiB) so that the server does not close it 1013 itself (default 3)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout (progress on stderr)")
    a = ap.parse_args()

    log_out = sys.stderr if a.json else sys.stdout

    def log(*args):
        print(*args, file=log_out, flush=True)

    try:
        ip = ipaddress.ip_address(a.host)
    except ValueError:
        ap.error("--host must be a literal 127.0.0.0/8 address (got %r); this tool only talks to loopback" % a.host)
    if ip.version != 4 or ip not in ipaddress.ip_network("127.0.0.0/8"):
        ap.error("--host %s is not in 127.0.0.0/8; this tool only talks to loopback" % a.host)
    if not pid_alive(a.pid):
        ap.error("no process %d (or /proc/%d/status unreadable)" % (a.pid, a.pid))

    ctx = Ctx()
    ctx.host, ctx.port, ctx.pid = a.host, a.port, a.pid
    ctx.http_idle, ctx.close_timeout, ctx.close_deadline = a.http_idle, a.close_timeout, a.close_deadline
    ctx.wait, ctx.rss_limit, ctx.big_ping_limit = a.wait, a.rss_limit, a.big_ping_limit
    ctx.fill_bytes = int(a.fill_bytes * MIB)
    all_sc = scenarios(ctx)
    names = [n for n, *_ in all_sc]
    chosen = names
    for opt, keep in ((a.only, True), (a.skip, False)):
        if opt:
            want = [x.strip() for x in opt.split(",") if x.strip()]
            bad = [x for x in want if x not in names]
            if bad:
                ap.error("unknown scenario(s) %s; known: %s" % (", ".join(bad), ", ".join(names)))
            chosen = [n for n in chosen if (n in want) == keep]
    selected = [s for s in all_sc if s[0] in chosen]
    if not selected:
        ap.error("no scenario selected")

    # Total bound: each scenario's own bound, plus a control check after each (API call + wait + a reconnect),
    # plus registration and the control client's connect. The HTTP pair runs side by side.
    ctl_bound = API_TIMEOUT + CONTROL_WAIT + SETUP
    par = [s for s in selected if s[0] in PARALLEL]
    bound = 2 * SETUP + API_TIMEOUT + sum(s[3] + ctl_bound for s in selected if s[0] not in PARALLEL)
    if par:
        bound += max(s[3] for s in par) + ctl_bound * len(par)
    log("abuse.py: %d scenario(s) against %s:%d (pid %d); the run is bounded at %.0f s (hard stop at %.0f s)"
        % (len(selected), a.host, a.port, a.pid, bound, bound + 30))
    if par:
        log("note: %s wait up to %.0f s (--http-idle %g + %.0f s), side by side; skip them with --skip %s"
            % (" and ".join(s[0] for s in par), a.http_idle + HTTP_SLACK, a.http_idle, HTTP_SLACK,
               ",".join(s[0] for s in par)))

    results = []
    t_start = now()

    def finish(code):
        st = proc_status(a.pid)
        summary = {
            "scenarios": len(results), "passed": sum(1 for r in results if r["pass"]),
            "failed": sum(1 for r in results if not r["pass"]),
            "failed_names": [r["scenario"] for r in results if not r["pass"]],
            "rss_start_mib": round(mib(st0["VmRSS"]), 1),
            "rss_end_mib": round(mib(st["VmRSS"]), 1) if st else None,
            "hwm_start_mib": round(mib(st0["VmHWM"]), 1),
            "hwm_end_mib": round(mib(st["VmHWM"]), 1) if st else None,
            "server_alive": st is not None,
            "control_all_ok": all(r["control_ok"] for r in results) if results else None,
            "seconds": round(now() - t_start, 1),
        }
        log("")
        log("summary: %d scenario(s), %d PASS, %d FAIL%s" % (
            summary["scenarios"], summary["passed"], summary["failed"],
            (" (" + ", ".join(summary["failed_names"]) + ")") if summary["failed_names"] else ""))
        log("server RSS %.1f -> %s MiB, VmHWM %.1f -> %s MiB%s; control client received every check: %s; %.0f s"
            % (summary["rss_start_mib"], summary["rss_end_mib"], summary["hwm_start_mib"], summary["hwm_end_mib"],
               "" if st else " (SERVER PROCESS GONE)", {True: "yes", False: "NO", None: "-"}[
                   summary["control_all_ok"]], summary["seconds"]))
        if a.json:
            print(json.dumps({"host": a.host, "port": a.port, "pid": a.pid, "system": ctx.system,
                              "settings": {"http_idle": a.http_idle, "close_timeout": a.close_timeout,
                                           "wait": a.wait, "rss_limit_mib": a.rss_limit},
                              "results": results, "summary": summary}, indent=2, ensure_ascii=False), flush=True)
        return code

    def watchdog():
        log("abuse.py: the run exceeded its bound of %.0f s; aborting" % (bound + 30))
        finish(3)
        os._exit(3)

    st0 = proc_status(a.pid)
    wd = threading.Timer(bound + 30, watchdog)
    wd.daemon = True
    wd.start()

    ctx.api = Api(a.host, a.port, a.token)
    ctx.sampler = None
    try:
        if a.system:
            ctx.system = a.system
        else:
            ctx.system = "abuse-" + os.urandom(6).hex()
            status, body = ctx.api.call("register", {"systemId": ctx.system})
            if status != 200 or body.get("code") != 0:
                log("register %s failed: HTTP %d %s" % (ctx.system, status, json.dumps(body, ensure_ascii=False)))
                return 2
        ctx.api.system = ctx.system
        control = Control(ctx)
    except (OSError, HandshakeError, ValueError) as e:
        log("setup failed: %r (is the server listening on %s:%d?)" % (e, a.host, a.port))
        return 2
    log("system %s, control client %s, server RSS %.1f MiB (VmHWM %.1f MiB)"
        % (ctx.system, control.client_id, mib(st0["VmRSS"]), mib(st0["VmHWM"])))
    log(COLS % ("scenario", "expected", "observed", "after s", "RSS Δ MiB", "peak Δ", "ctl", "", "notes"))

    def control_check(name):
        nonlocal control
        if control.dead and pid_alive(a.pid):
            try:
                control.stop()
                control = Control(ctx)
                ok, detail = control.check(name)
                return ok, "control reconnected" + ("; " + detail if detail else "")
            except Exception as e:  # noqa: BLE001
                return False, "control reconnect failed: %r" % e
        return control.check(name)

    def run_one(fn):
        try:
            return fn(ctx)
        except Exception as e:  # noqa: BLE001 - one scenario's failure never stops the run
            return {"outcome": None, "error": "%s: %s" % (type(e).__name__, e)}

    queue_ = list(selected)
    while queue_:
        group = [queue_.pop(0)]
        if group[0][0] in PARALLEL:
            group += [s for s in queue_ if s[0] in PARALLEL]
            queue_ = [s for s in queue_ if s[0] not in PARALLEL]
        if not pid_alive(a.pid):
            for name, _, exp, _ in group:
                results.append({"scenario": name, "expected": exp["text"], "observed": "not run: server gone",
                                "seconds": None, "rss_delta_mib": None, "rss_peak_delta_mib": None,
                                "control_ok": None, "notes": "", "pass": False})
                log(fmt_line(results[-1]))
            continue
        b = proc_status(a.pid)
        with MemSampler(a.pid) as sampler:
            ctx.sampler = sampler if len(group) == 1 else None
            if len(group) == 1:
                outs = [run_one(group[0][1])]
            else:
                outs = [None] * len(group)

                def worker(i, fn):
                    outs[i] = run_one(fn)
                ts = [threading.Thread(target=worker, args=(i, s[1]), daemon=True) for i, s in enumerate(group)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
        e = proc_status(a.pid) or {"VmRSS": None, "VmHWM": None}
        for (name, _, exp, _), res in zip(group, outs):
            ctl_ok, ctl_detail = control_check(name) if pid_alive(a.pid) else (False, "server process gone")
            if e["VmRSS"] is None:
                r = judge(ctx, name, exp, res, None, 0, None, None, None, ctl_ok, ctl_detail)
                r["notes"] = (r["notes"] + "; " if r["notes"] else "") + "SERVER PROCESS GONE"
            else:
                base = res.get("baseline") or b
                r = judge(ctx, name, exp, res, base["VmRSS"], sampler.peak, e["VmRSS"], base["VmHWM"], e["VmHWM"],
                          ctl_ok, ctl_detail)
            if len(group) > 1:
                r["notes"] = (r["notes"] + "; " if r["notes"] else "") + "ran side by side with " + ", ".join(
                    g[0] for g in group if g[0] != name)
            results.append(r)
            log(fmt_line(r))

    try:
        control.stop()
    except Exception:  # noqa: BLE001
        pass
    wd.cancel()
    return finish(0 if all(r["pass"] for r in results) else 1)


def _defaults_ctx():
    c = Ctx()
    c.close_timeout, c.close_deadline, c.http_idle, c.wait = 3.0, 10.0, 75.0, 5.0
    return c


if __name__ == "__main__":
    sys.exit(main())
