#!/usr/bin/env python3
# A small Streamable HTTP MCP server for tests/integration/http_session.sh:
# it writes each request it gets (path, method, headers, body) as a JSON
# line to the file argv[1], and answers initialize, tools/list and other
# requests (an empty result) with an Mcp-Session-Id.  Prints its port,
# then serves until killed.
import http.server
import json
import sys

REC = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, body):
        with open(REC, "a") as f:
            f.write(json.dumps({"path": self.path, "method": self.command,
                                "headers": dict(self.headers.items()),
                                "body": body}) + "\n")

    def empty(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(n) or b"null")
        self.record(body)
        if not isinstance(body, dict) or "id" not in body:
            self.empty(202)
            return
        if body.get("method") == "initialize":
            res = {"protocolVersion": "2025-06-18",
                   "capabilities": {"tools": {}},
                   "serverInfo": {"name": "mcprecord", "version": "1"}}
        elif body.get("method") == "tools/list":
            res = {"tools": [{"name": "echo",
                              "inputSchema": {"type": "object"}}]}
        else:
            res = {}
        out = json.dumps({"jsonrpc": "2.0", "id": body["id"],
                          "result": res}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Mcp-Session-Id", "rec-1")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_DELETE(self):
        self.record(None)
        self.empty(200)

    def do_GET(self):
        self.empty(405)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
