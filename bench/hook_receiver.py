#!/usr/bin/env python3
"""A loopback session_end hook receiver for bench/run.sh: answers every POST with 204.

    python3 bench/hook_receiver.py --port 0 --port-file P --count-file C

Threaded (one thread per connection), HTTP/1.1 keep-alive. It reads each body fully,
counts requests and writes the count to --count-file on SIGTERM/SIGINT (and every
--flush-every requests), so the benchmark can check that every payload arrived.
Standard library only.
"""

import argparse
import http.server
import os
import signal
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--count-file", help="write the number of requests here")
    ap.add_argument("--flush-every", type=int, default=500)
    args = ap.parse_args()

    lock = threading.Lock()
    state = {"count": 0}

    def flush():
        if args.count_file:
            tmp = args.count_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % state["count"])
            os.replace(tmp, args.count_file)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n:
                self.rfile.read(n)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with lock:
                state["count"] += 1
                if state["count"] % args.flush_every == 0:
                    flush()

        def log_message(self, *a):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    srv = Server(("127.0.0.1", args.port), Handler)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(args.port_file + ".tmp", args.port_file)

    def stop(*_):
        with lock:
            flush()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever()


if __name__ == "__main__":
    main()
