#!/usr/bin/env python3
"""A fake OpenAI-compatible model server for the end-to-end harness (Python 3.11 stdlib).

    python3 fake_openai.py --port 0 --port-file PATH --log PATH

Answers `POST /v1/chat/completions` (streaming SSE or not) with a fixed text, except
requests whose user messages contain `SLOW`: those are held open, before any response
header is sent (as the fixture captures were made), until they are released.

Control endpoints (loopback only, for the harness):
  GET  /control/state            {"requests": [...], "held": n}: every completion request seen
  POST /control/release          release every request held now; {"released": n}
  POST /control/release-after?ms=N   release whatever is held N ms from now (a timer)

Binds 127.0.0.1 only. Writes the chosen port to --port-file once it listens.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

REPLY_TEXT = "Hello from the fake model."

_lock = threading.Lock()
_requests = []  # dicts: id, at, stream, slow, msgs, users (user texts), state (answered|held|released|gone)
_held = {}  # request id -> threading.Event
_log_file = None


def now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t * 1000 % 1000)


def log(line):
    text = "%s %s" % (now_iso(), line)
    with _lock:
        if _log_file:
            _log_file.write(text + "\n")
            _log_file.flush()


def message_text(msg):
    content = msg.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return ""


def is_slow(body):
    for msg in body.get("messages") or []:
        if isinstance(msg, dict) and msg.get("role") == "user" and "SLOW" in message_text(msg):
            return True
    return False


def release_all():
    with _lock:
        events = list(_held.items())
        _held.clear()
        for req in _requests:
            if req["state"] == "held":
                req["state"] = "released"
    for _, ev in events:
        ev.set()
    log("control release: %d held request(s) released" % len(events))
    return len(events)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-openai/1"

    def log_message(self, fmt, *args):  # keep stderr quiet; we log to --log
        pass

    def _json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/control/state":
            with _lock:
                snapshot = [dict(r) for r in _requests]
                held = len(_held)
            return self._json(200, {"requests": snapshot, "held": held})
        if url.path in ("/v1/models", "/models"):
            return self._json(200, {"object": "list", "data": [
                {"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}]})
        log("GET %s -> 404" % url.path)
        return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):
        url = urlparse(self.path)
        if url.path == "/control/release":
            self._body()
            return self._json(200, {"released": release_all()})
        if url.path == "/control/release-after":
            self._body()
            ms = int((parse_qs(url.query).get("ms") or ["1000"])[0])
            threading.Timer(ms / 1000.0, release_all).start()
            log("control release-after %d ms armed" % ms)
            return self._json(200, {"armed_ms": ms})
        if url.path.endswith("/chat/completions"):
            return self._completion()
        self._body()
        log("POST %s -> 404" % url.path)
        return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def _completion(self):
        body = self._body()
        if not isinstance(body, dict):
            return self._json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
        stream = bool(body.get("stream"))
        slow = is_slow(body)
        msgs = len(body.get("messages") or [])
        users = [message_text(m) for m in body.get("messages") or []
                 if isinstance(m, dict) and m.get("role") == "user"]
        with _lock:
            rid = len(_requests) + 1
            req = {"id": rid, "at": now_iso(), "at_ms": int(time.time() * 1000),
                   "stream": stream, "slow": slow, "msgs": msgs,
                   "users": [u[:4000] for u in users],
                   "state": "held" if slow else "answered"}
            _requests.append(req)
            ev = None
            if slow:
                ev = threading.Event()
                _held[rid] = ev
        log("POST %s stream=%s slow=%s msgs=%d id=%d" % (
            self.path, str(stream).lower(), str(slow).lower(), msgs, rid))
        if ev is not None:
            ev.wait()
            log("request %d released" % rid)
        model = body.get("model") or "fake-model"
        created = int(time.time())
        cid = "chatcmpl-fake-%d" % rid
        usage = {"prompt_tokens": 10, "completion_tokens": 6, "total_tokens": 16}
        try:
            if not stream:
                return self._json(200, {
                    "id": cid, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": REPLY_TEXT}}],
                    "usage": usage})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def chunk(choices, extra=None):
                obj = {"id": cid, "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": choices}
                if extra:
                    obj.update(extra)
                self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")

            chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            chunk([{"index": 0, "delta": {"content": REPLY_TEXT}, "finish_reason": None}])
            chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
            chunk([], {"usage": usage})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            with _lock:
                req["state"] = "gone"
            log("request %d: client went away" % rid)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global _log_file
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    args = ap.parse_args()
    if args.log:
        _log_file = open(args.log, "a", encoding="utf-8")
    srv = Server(("127.0.0.1", args.port), Handler)
    port = srv.server_address[1]
    log("fake-openai listening on 127.0.0.1:%d" % port)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        import os
        os.replace(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
