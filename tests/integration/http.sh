# netd's HTTP client for HTTP MCP servers (netd/http.c), driven as the
# parent and mcpd drive it (tests/integration/httpprobe.c) under netd's
# own seccomp table, against loopback servers of this test
# (httpserver.py): a JSON answer and its Mcp-Session-Id, an SSE stream,
# the session's identity headers and the MCP headers sent, flow control
# pausing a large body, the timeout, a redirect not followed, names
# looked up by the real resolver, refused connections, and TLS verified
# against the origin's CA, refused with another CA or the wrong name.
. "$(dirname "$0")/lib.sh"
if ! command -v python3 >/dev/null || ! command -v openssl >/dev/null; then
	skip "http" "python3 and openssl are needed (make deps installs them)"
	exit 0
fi

T=$(mktemp -d /tmp/mghttp.XXXXXX)
MG_TMPS+=("$T")

# serve [CERT KEY]: start a server; sets PORT and adds it to the cleanup.
serve() {
	local i
	python3 "$TOP/tests/integration/httpserver.py" "$@" >"$T/port" \
	    2>"$T/server.err" &
	MG_INSTANCES+=($!)
	for i in $(seq 1 100); do
		[ -s "$T/port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$T/port")
}

probe_http() {
	timeout 60 "$HELPERS/httpprobe" -x "$BIN/mcpgated" "$@"
}

serve
out=$(printf 'POST /json {"jsonrpc":"2.0","id":1,"method":"ping"}\n' |
    probe_http -h 127.0.0.1 -p "$PORT" -H "Authorization: Bearer T0K" \
    -H "X-Team: platform")
echo "$out" | grep -q '^head 200 1 sess-123$' &&
    echo "$out" | grep -q '^done 0 $' &&
    pass "POST: a JSON answer, its type and Mcp-Session-Id to mcpd" ||
    fail "POST /json" "$out"
text=$(echo "$out" | sed -n 's/^text //p')
echo "$text" | is '.method == "POST" and
    .body == "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}" and
    .authorization == "Bearer T0K" and .protocol == "2025-11-25" and
    .accept == "application/json, text/event-stream"' &&
    pass "the body, the session's identity headers and the MCP headers arrive" ||
    fail "what the server got" "$text"

out=$(printf 'POST /sse {}\nGET /sse\n' | probe_http -h 127.0.0.1 -p "$PORT")
[ "$(echo "$out" | grep -c '^head 200 2 -$')" -eq 2 ] &&
    echo "$out" | grep -q '^text id: 0' &&
    [ "$(echo "$out" | grep -c '^body 63$')" -eq 2 ] &&
    pass "an SSE answer (POST and GET): its type, the stream as sent" ||
    fail "SSE" "$out"

out=$(printf 'HOLD POST /big {}\n' | probe_http -h 127.0.0.1 -p "$PORT")
held=$(echo "$out" | sed -n 's/^held //p')
[ -n "$held" ] && [ "$held" -le $((256 * 1024 + 64 * 1024)) ] &&
    echo "$out" | grep -q '^body 2097152$' && echo "$out" | grep -q '^done 0' &&
    pass "flow control: ${held} bytes unacknowledged at most, then all 2 MiB" ||
    fail "flow control" "$out"

start=$(ms_now)
out=$(printf 'POST /slow {}\n' | probe_http -h 127.0.0.1 -p "$PORT" -T 1000)
ms=$(($(ms_now) - start))
echo "$out" | grep -q '^done 5 the server did not answer within 1000 ms' &&
    [ "$ms" -lt 2900 ] &&
    pass "a server slower than the app's timeout: an error at the timeout" ||
    fail "the timeout" "$out ($ms ms)"

out=$(printf 'POST /redirect {}\n' | probe_http -h 127.0.0.1 -p "$PORT")
echo "$out" | grep -q '^head 302 0 -$' && echo "$out" | grep -q '^done 0' &&
    pass "a redirect to another origin is not followed: mcpd sees the 302" ||
    fail "a redirect" "$out"

out=$(printf 'POST /json {}\n' | probe_http -h localhost -p "$PORT")
echo "$out" | grep -q '^head 200 1 sess-123$' &&
    pass "a host name: looked up by the resolver, then reached" ||
    fail "a host name" "$out"
out=$(printf 'POST /json {}\n' | probe_http -h no-such-host.invalid -p "$PORT")
echo "$out" | grep -q '^done 2 no-such-host.invalid: ' &&
    pass "a name that does not resolve: a resolve error naming it" ||
    fail "an unknown name" "$out"
out=$(printf 'POST /json {}\n' | probe_http -h 127.0.0.1 -p 1)
echo "$out" | grep -q '^done 3 ' &&
    pass "a refused connection: a connect error" ||
    fail "a refused connection" "$out"

# --- TLS ------------------------------------------------------------------
mkcert() {	# DIR CN SAN: a CA and a server certificate it signs
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/ca.key" -out "$1/ca.pem" -days 2 -subj "/CN=test CA" \
	    2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1/srv.key" -out "$1/srv.csr" -subj "/CN=$2" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" >"$1/ext"
	openssl x509 -req -in "$1/srv.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
	    -CAcreateserial -out "$1/srv.pem" -days 2 -extfile "$1/ext" \
	    2>/dev/null
}
mkcert "$T/a" localhost "DNS:localhost,IP:127.0.0.1"
mkcert "$T/b" localhost "DNS:localhost,IP:127.0.0.1"
serve "$T/a/srv.pem" "$T/a/srv.key"
out=$(printf 'POST /json {}\n' | probe_http -t -c "$T/a/ca.pem" \
    -h 127.0.0.1 -p "$PORT")
echo "$out" | grep -q '^head 200 1 sess-123$' &&
    pass "https: the server's certificate verified against the app's CA" ||
    fail "https with the right CA" "$out"
out=$(printf 'POST /json {}\n' | probe_http -t -c "$T/b/ca.pem" \
    -h 127.0.0.1 -p "$PORT")
echo "$out" | grep -q '^done 4 ' && ! echo "$out" | grep -q '^head' &&
    pass "https with another CA: refused, nothing sent" ||
    fail "https with another CA" "$out"
out=$(printf 'POST /json {}\n' | probe_http -t -c "$T/b/ca.pem" -k \
    -h 127.0.0.1 -p "$PORT")
echo "$out" | grep -q '^head 200 1 sess-123$' &&
    pass "https with insecure_skip_verify: not verified, as asked" ||
    fail "insecure_skip_verify" "$out"
mkcert "$T/c" other.example "DNS:other.example"
serve "$T/c/srv.pem" "$T/c/srv.key"
out=$(printf 'POST /json {}\n' | probe_http -t -c "$T/c/ca.pem" \
    -h 127.0.0.1 -p "$PORT")
echo "$out" | grep -q '^done 4 ' &&
    pass "https to a certificate of another name: refused" ||
    fail "https, wrong name" "$out"
