#!/usr/bin/env python3
# A loopback HTTP server for tests/integration/http.sh: canned answers by
# path, as an MCP server over HTTP would give them and as faults do.
# Prints its port, then serves until killed.  With CERT KEY, HTTPS.
#   /json      the request echoed as JSON (body, Authorization, the MCP
#              headers), with an Mcp-Session-Id
#   /sse       three events of an SSE stream, chunked
#   /big       2 MiB of JSON-typed body
#   /slow      an answer after 3 s
#   /redirect  302 to another origin
#   anything else: 404
import http.server
import json
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, ctype, body, extra=()):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        if self.path == "/json":
            out = {"method": self.command, "body": body.decode(),
                   "authorization": self.headers.get("Authorization"),
                   "protocol": self.headers.get("MCP-Protocol-Version"),
                   "session": self.headers.get("Mcp-Session-Id"),
                   "accept": self.headers.get("Accept"),
                   "headers": len(self.headers)}
            self.reply(200, "application/json",
                       json.dumps(out, sort_keys=True).encode(),
                       [("Mcp-Session-Id", "sess-123")])
        elif self.path == "/sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(3):
                ev = ("id: %d\ndata: {\"n\":%d}\n\n" % (i, i)).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(ev), ev))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/big":
            self.reply(200, "application/json", b"x" * (2 * 1024 * 1024))
        elif self.path == "/slow":
            time.sleep(3)
            self.reply(200, "application/json", b"{}")
        elif self.path == "/redirect":
            self.reply(302, None, b"",
                       [("Location", "http://127.0.0.2:9/elsewhere")])
        else:
            self.reply(404, None, b"")

    do_POST = handle_any
    do_GET = handle_any
    do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", 0), Handler)
if len(sys.argv) == 3:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
