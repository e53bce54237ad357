# mcpd's side of HTTP apps (mcpd/remote.c), against the corners of
# Streamable HTTP and SSE that tests/integration/mcphttp.py shows and
# the reference servers do not: JSON answers with line breaks (one line
# each to the client), the MCP headers on every POST after initialize,
# the DELETE at the end, a GET stream that drops and resumes with
# Last-Event-ID, a 404 for the session (server_session_ended), an SSE
# endpoint of another origin (refused, nothing posted) and a relative one.
# Raw sessions (mcpsession), so that every line the client gets is seen.
. "$(dirname "$0")/lib.sh"
if ! command -v python3 >/dev/null; then
	skip "every check" "python3 is needed (make deps installs it)"
	exit 0
fi

T=$(mktemp -d /tmp/mgremote.XXXXXX)
MG_TMPS+=("$T")
python3 "$TOP/tests/integration/mcphttp.py" "$T/seen" >"$T/port" \
    2>"$T/server.err" &
MG_INSTANCES+=($!)
wait_for 5 test -s "$T/port" || { fail "the test server starts" \
    "$(cat "$T/server.err")"; exit 0; }
P=$(cat "$T/port")

mg_setup <<EOF
app_service:
  apps:
  - {name: pretty, labels: {env: dev}, uri: "mcp+http://127.0.0.1:$P/pretty/mcp"}
  - {name: resume, labels: {env: dev}, uri: "mcp+http://127.0.0.1:$P/resume/mcp"}
  - {name: gone, labels: {env: dev}, uri: "mcp+http://127.0.0.1:$P/gone/mcp"}
  - {name: other, labels: {env: dev}, uri: "mcp+sse+http://127.0.0.1:$P/other/sse"}
  - {name: rel, labels: {env: dev}, uri: "mcp+sse+http://127.0.0.1:$P/rel/sse"}
EOF
mg_start || { fail "daemon starts" "$(tail -n 5 "$MG_DIR/log")"; exit 1; }
PW="correct horse battery"
cat >"$MG_DIR/role.yaml" <<'EOF'
kind: role
version: v1
metadata: {name: dev}
spec:
  allow:
    app_labels: {env: dev}
    mcp:
      tools: ['*']
EOF
ctl create -f "$MG_DIR/role.yaml" >/dev/null &&
    invite_login ann "$(ctl --format json users add ann --roles dev)" ||
    { fail "ann logs in" "see $MG_DIR/log"; exit 1; }

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}'
INITD='{"jsonrpc":"2.0","method":"notifications/initialized"}'
CALL='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"a":"b"}}}'

# session APP SECONDS-OPEN: initialize, initialized and a call to APP;
# stdin stays open that long; the gateway's lines in $T/APP.out.
session() {
	{ printf '%s\n%s\n%s\n' "$INIT" "$INITD" "$CALL"; sleep "$2"; } |
	    user_session ann 20 "$1" >"$T/$1.out" 2>"$T/$1.err"
}

# Pretty-printed answers: one line each, as the client reads them.
session pretty 1
n=$(wc -l <"$T/pretty.out")
bad=$(jq -c -R 'fromjson? // "BAD"' <"$T/pretty.out" | grep -c '^"BAD"$')
[ "$n" -eq 3 ] && [ "$bad" -eq 0 ] &&
    pass "JSON answers with line breaks reach the client one line each" ||
    fail "JSON answers with line breaks reach the client one line each" \
    "$n lines, $bad not JSON: $(head -c 400 "$T/pretty.out")"
has '.id == 2 and (.result.content[0].text | fromjson) == {"a":"b"}' \
    <"$T/pretty.out" && pass "the call is answered" ||
    fail "the call is answered" "$(head -c 400 "$T/pretty.out")"
grep -q '^POST /pretty/mcp None None initialize$' "$T/seen" &&
    grep -q '^POST /pretty/mcp s-pretty 2025-06-18 notifications/initialized$' \
    "$T/seen" &&
    grep -q '^POST /pretty/mcp s-pretty 2025-06-18 tools/call$' "$T/seen" &&
    pass "Mcp-Session-Id and MCP-Protocol-Version on every POST after initialize" ||
    fail "Mcp-Session-Id and MCP-Protocol-Version on every POST after initialize" \
    "$(grep pretty "$T/seen" | tr '\n' '|')"
wait_for 5 grep -q '^DELETE /pretty/mcp s-pretty$' "$T/seen" &&
    pass "the session is DELETEd at its end" ||
    fail "the session is DELETEd at its end" "$(tr '\n' '|' <"$T/seen")"
grep -q '^GET /pretty/mcp s-pretty' "$T/seen" &&
    pass "the GET stream is asked for once initialized (405: none)" ||
    fail "the GET stream is asked for once initialized" \
    "$(tr '\n' '|' <"$T/seen")"
wait_for 5 audit_has '.event == "mcp.session.end" and .app == "pretty" and
    .server.transport == "streamable_http"' &&
    pass "the end record names the transport" ||
    fail "the end record names the transport" "see $MG_DIR/audit"

# The GET stream drops after an event and resumes after it.
session resume 3
has '.method == "notifications/message" and .params.data == "first"' \
    <"$T/resume.out" &&
    has '.params.data == "resumed after ev-1"' <"$T/resume.out" &&
    pass "the GET stream's messages reach the client, and it resumes with Last-Event-ID" ||
    fail "the GET stream resumes with Last-Event-ID" \
    "$(head -c 600 "$T/resume.out") / $(grep resume "$T/seen" | tr '\n' '|')"

# 404 for the session: the call is answered and the session ends.
session gone 1
has '.id == 2 and .error.code == -32000 and
    (.error.message | test("HTTP 404"))' <"$T/gone.out" &&
    has '.id == null and .error.data.reason == "server_session_ended"' \
    <"$T/gone.out" &&
    pass "a 404 for the session answers the call and ends it (server_session_ended)" ||
    fail "a 404 for the session ends it" "$(head -c 600 "$T/gone.out")"
sleep 0.5
grep -q '^DELETE /gone/' "$T/seen" &&
    fail "a forgotten session is not DELETEd" "$(grep gone "$T/seen")" ||
    pass "a forgotten session is not DELETEd"

# SSE: an endpoint of another origin is refused, nothing is posted.
session other 1
has '.id == 1 and (.error.message | test("another origin"))' \
    <"$T/other.out" &&
    has '.id == null and .error.data.reason == "server_failed"' \
    <"$T/other.out" &&
    pass "an SSE endpoint of another origin ends the session (server_failed)" ||
    fail "an SSE endpoint of another origin ends the session" \
    "$(head -c 600 "$T/other.out")"
grep -q '^POST /other' "$T/seen" &&
    fail "nothing is posted for an endpoint of another origin" \
    "$(grep other "$T/seen" | tr '\n' '|')" ||
    pass "nothing is posted for an endpoint of another origin"

# SSE: a relative endpoint; answers come on the stream.
session rel 1
has '.id == 1 and .result.serverInfo.name == "mcphttp"' <"$T/rel.out" &&
    has '.id == 2 and (.result.content[0].text | fromjson) == {"a":"b"}' \
    <"$T/rel.out" &&
    pass "SSE: a relative endpoint, the answers on the stream" ||
    fail "SSE: a relative endpoint, the answers on the stream" \
    "$(head -c 600 "$T/rel.out") / $(grep rel "$T/seen" | tr '\n' '|')"
grep -q '^POST /rel/msg?s=1 ' "$T/seen" &&
    pass "SSE: messages go to the endpoint, relative to the stream's path" ||
    fail "SSE: messages go to the endpoint" "$(grep rel "$T/seen" |
    tr '\n' '|')"

# A client that half-closes right after initialize gets the answer, and
# the session ends with it, not at the client's timeout.
t0=$(ms_now)
printf '%s\n' "$INIT" | user_session ann 20 rel >"$T/half.out" 2>&1
t1=$(ms_now)
has '.id == 1 and .result.serverInfo' <"$T/half.out" &&
    [ $((t1 - t0)) -lt 5000 ] &&
    pass "initialize, then end of input: answered, and the session ends ($((t1 - t0)) ms)" ||
    fail "initialize, then end of input: answered, and the session ends" \
    "$((t1 - t0)) ms: $(head -c 300 "$T/half.out")"

# Still serving: the demo server answers.
session pretty 0
has '.id == 2 and .result' <"$T/pretty.out" &&
    pass "the gateway serves on after the faults" ||
    fail "the gateway serves on after the faults" "$(tail -n 5 "$MG_DIR/log")"
