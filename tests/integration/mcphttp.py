#!/usr/bin/env python3
# A loopback MCP server over HTTP for tests/integration/remote_mcpd.sh:
# the corners of Streamable HTTP and SSE that the reference servers do
# not show, one behaviour per path prefix.  Prints its port, then serves
# until killed; what it saw goes to the log file given as its argument,
# one line each.
#   /pretty/mcp   Streamable HTTP whose JSON answers are pretty-printed
#                 (line breaks between tokens); no GET stream (405);
#                 DELETE logged
#   /resume/mcp   the GET stream sends one event (id ev-1) and drops; the
#                 next GET must carry Last-Event-ID: ev-1 and gets a
#                 notification saying so
#   /gone/mcp     initialize answered, then 404 for the session
#   /other/sse    SSE transport whose endpoint is of another origin
#   /rel/sse      SSE transport whose endpoint is relative (msg?s=1)
import http.server
import json
import sys
import threading
import queue

LOG = open(sys.argv[1], "a", buffering=1)
SSE_QUEUES = {}
LOCK = threading.Lock()


def log(line):
    with LOCK:
        LOG.write(line + "\n")


def answer(msg):
    """The answer of this toy server to a request."""
    m = msg.get("method")
    rid = msg.get("id")
    if m == "initialize":
        res = {"protocolVersion": msg["params"]["protocolVersion"],
               "capabilities": {"tools": {}},
               "serverInfo": {"name": "mcphttp", "version": "1.0"}}
    elif m == "tools/list":
        res = {"tools": [{"name": "echo", "inputSchema":
                          {"type": "object"}}]}
    elif m == "tools/call":
        res = {"content": [{"type": "text", "text": json.dumps(
            msg.get("params", {}).get("arguments", {}))}]}
    elif m == "ping":
        res = {}
    else:
        return {"jsonrpc": "2.0", "id": rid,
                "error": {"code": -32601, "message": "no " + str(m)}}
    return {"jsonrpc": "2.0", "id": rid, "result": res}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, ctype=None, body=b"", extra=()):
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def sse_start(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def event(self, data, ev=None, eid=None):
        out = ""
        if eid:
            out += "id: %s\n" % eid
        if ev:
            out += "event: %s\n" % ev
        out += "data: %s\n\n" % data
        self.wfile.write(out.encode())
        self.wfile.flush()

    def body(self):
        n = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(n)) if n else None

    def do_POST(self):
        p = self.path
        msg = self.body()
        sid = self.headers.get("Mcp-Session-Id")
        log("POST %s %s %s %s" % (p, sid, self.headers.get(
            "MCP-Protocol-Version"), msg.get("method", "response")))
        if p.startswith("/other/") or p.startswith("/rel/"):
            q = SSE_QUEUES.get(p.split("?")[0].split("/")[1])
            self.reply(202)
            if q is not None and "id" in msg and "method" in msg:
                q.put(answer(msg))
            return
        if p.startswith("/gone/") and sid is not None:
            self.reply(404, "text/plain", b"no such session")
            return
        if "method" not in msg or "id" not in msg:
            self.reply(202)
            return
        extra = [("Mcp-Session-Id", "s-" + p.split("/")[1])]
        self.reply(200, "application/json",
                   json.dumps(answer(msg), indent=2).encode(), extra)

    def do_GET(self):
        p = self.path
        log("GET %s %s %s" % (p, self.headers.get("Mcp-Session-Id"),
                              self.headers.get("Last-Event-ID")))
        if p.startswith("/resume/"):
            last = self.headers.get("Last-Event-ID")
            self.sse_start()
            if last is None:
                self.event(json.dumps({"jsonrpc": "2.0", "method":
                                       "notifications/message", "params":
                                       {"level": "info", "data":
                                        "first"}}), eid="ev-1")
                return      # the stream drops
            self.event(json.dumps({"jsonrpc": "2.0", "method":
                                   "notifications/message", "params":
                                   {"level": "info", "data":
                                    "resumed after " + last}}), eid="ev-2")
            threading.Event().wait(30)
            return
        if p.startswith("/other/") or p.startswith("/rel/"):
            name = p.split("/")[1]
            q = queue.Queue()
            SSE_QUEUES[name] = q
            self.sse_start()
            self.event("http://127.0.0.2:1/other/msg" if name == "other"
                       else "msg?s=1", ev="endpoint")
            try:
                while True:
                    m = q.get(timeout=30)
                    self.event(json.dumps(m))
            except queue.Empty:
                return
        self.reply(405, "text/plain", b"no stream here")

    def do_DELETE(self):
        log("DELETE %s %s" % (self.path,
                              self.headers.get("Mcp-Session-Id")))
        self.reply(200)


def main():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


main()
