# HTTP and SSE MCP servers behind the gateway, end to end: the npm
# reference server-everything in its streamableHttp and sse modes driven
# by the official SDK client through mcpgate mcp connect (tools listed,
# filtered, called and refused; sampling, elicitation, roots, progress,
# resources and subscriptions, logging), the same suite run against the
# servers directly for reference; mcp ls's Type; TLS with a test CA, and
# refused with another CA or another name; the identity a server gets
# (tests/peers/jwtserver.mjs checks the JWT against mcpgatectl jwks and
# says what it got: claims, headers, no Authorization but the gateway's),
# jwt_claims, a header template whose trait the user lacks, a session
# started after mcpgatectl jwt rotate; faults (connection refused, a 500,
# a server slower than its timeout, a body over max_message_size, an SSE
# stream cut mid-event, a redirect to another host, a 404 for the
# session), each a clear error while another session goes on; netd's
# memory after a hundred sessions.
#
# It runs in the pool with other scripts: its waits are for events (each
# answer, at most 30 s), its one window (the slow server's error between
# 2 and 8 s) wide, and netd's memory its own instance's.
. "$(dirname "$0")/lib.sh"
need_root "the daemon chroots and switches users"
PEERS=$TOP/tests/peers
M=$PEERS/node_modules/@modelcontextprotocol
for c in node openssl; do
	if ! command -v "$c" >/dev/null; then
		skip "every check" "$c is not installed (make deps installs it)"
		exit 0
	fi
done
for s in sdk server-everything; do
	if [ ! -f "$M/$s/package.json" ]; then
		skip "every check" "@modelcontextprotocol/$s is not installed \
(make peers installs it)"
		exit 0
	fi
done

T=$(mktemp -d /tmp/mgremote.XXXXXX)
MG_TMPS+=("$T")
chmod 0755 "$T"
PW="correct horse battery"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}'
INITED='{"jsonrpc":"2.0","method":"notifications/initialized"}'
# call ID TOOL [ARGUMENTS]: a tools/call line.
call() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' \
	    "$1" "$2" "${3:-{\}}"
}

# --- the servers ----------------------------------------------------------
# Each in MG_INSTANCES, killed at the end, and disowned: the shell does
# not report it killed.
# started_port FILE: the first line of FILE, once a server wrote it.
started_port() {
	wait_for 20 test -s "$1" && head -n 1 "$1"
}

# everything VAR MODE: server-everything in MODE on a loopback port the
# kernel picks (loopback.mjs binds it to 127.0.0.1 and tells the port),
# which VAR is set to. Not in a $(...), whose MG_INSTANCES is lost.
everything() {
	LOOPBACK_PORT_FILE=$T/port-$2 PORT=0 node --import "$PEERS/loopback.mjs" \
	    "$M/server-everything/dist/index.js" "$2" >"$T/everything-$2.log" 2>&1 &
	MG_INSTANCES+=($!)
	disown $!
	printf -v "$1" '%s' "$(started_port "$T/port-$2")"
}

# jwtserver VAR NAME ARGS...: a jwtserver.mjs, its log in $T/NAME.jsonl,
# its port in VAR.
jwtserver() {
	local v=$1 n=$2
	shift 2
	node "$PEERS/jwtserver.mjs" --jwks "$T/jwks.json" --log "$T/$n.jsonl" \
	    "$@" >"$T/port-$n" 2>"$T/$n.err" &
	MG_INSTANCES+=($!)
	disown $!
	printf -v "$v" '%s' "$(started_port "$T/port-$n")"
}

# mkcert DIR CN SAN: a CA and a server certificate it signs (as http.sh).
mkcert() {
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
mkcert "$T/c" other.example "DNS:other.example"

# The JWKS the jwtservers read at each request: a key of this test's own
# until the gateway's is known.
b64u() {
	base64 -w 0 | tr '+/' '-_' | tr -d '='
}
openssl genpkey -algorithm ed25519 -out "$T/own.key" 2>/dev/null
OWN_X=$(openssl pkey -in "$T/own.key" -pubout -outform DER | tail -c 32 | b64u)
printf '{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"own","x":"%s"}]}\n' \
    "$OWN_X" >"$T/jwks.json"
# own_jwt CLAIMS [KID]: a JWT signed with the test's own key.
own_jwt() {
	local h c
	h=$(printf '{"alg":"EdDSA","typ":"JWT","kid":"%s"}' "${2:-own}" | b64u)
	c=$(printf '%s' "$1" | b64u)
	printf '%s.%s' "$h" "$c" >"$T/own.in"
	printf '%s.%s.%s' "$h" "$c" "$(openssl pkeyutl -sign -rawin \
	    -inkey "$T/own.key" -in "$T/own.in" | b64u)"
}

everything EH streamableHttp
everything ES sse
jwtserver J1 j1
jwtserver J2 j2 --cert "$T/a/srv.pem" --key "$T/a/srv.key"
jwtserver J3 j3 --cert "$T/c/srv.pem" --key "$T/c/srv.key"
node "$PEERS/faultserver.mjs" --big $((1024 * 1024)) --log "$T/fault.jsonl" \
    >"$T/port-fault" 2>"$T/fault.err" &
MG_INSTANCES+=($!)
disown $!
read -r F FOTHER < <(started_port "$T/port-fault")
# A port nothing listens on: the kernel's pick, closed again.
NOPORT=$(node -e 'const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
for p in EH ES J1 J2 J3 F FOTHER NOPORT; do
	if [ -z "${!p}" ]; then
		fail "the test servers start" "no port for $p: $(cat "$T"/*.err \
		    "$T"/everything-*.log 2>/dev/null | tail -n 3 | tr '\n' ' ')"
		exit 1
	fi
done

# --- the servers themselves, without the gateway -----------------------------
# suite NAME TRANSCRIPT ARGS... -- COMMAND...: stdio_client.mjs's suite
# everything, the lines the client read in TRANSCRIPT.
# Over Streamable HTTP, server-everything sends the log of a subscribe
# (sendLoggingMessage without a related request) on the GET stream, not
# on the POST's: the client may read the answer first, and the suite's
# check that the log comes before the answer then fails, against the
# server directly too. For Streamable HTTP that line gives way to this
# one: the log reached the client.
SUBLOG='logging/setLevel debug: the subscribe is logged'
suite() {
	local name=$1 tr=$2 out=$T/suite-$1.out
	shift 2
	node "$PEERS/stdio_client.mjs" --name "$SUITE: $name" --suite everything \
	    --root "$T" --transcript "$tr" "$@" 2>>"$T/client.err" >"$out"
	if [[ $name != *streamableHttp* ]] ||
	    ! grep -q "^FAIL $SUITE: $name: $SUBLOG" "$out"; then
		cat "$out"
		return
	fi
	grep -v "^FAIL $SUITE: $name: $SUBLOG" "$out"
	jq -e -s 'any(.[]; .method == "notifications/message" and
	    .params.level == "info" and (.params.data | tostring |
	    test("Subscribe.*demo://resource/dynamic/text/1")))' "$tr" \
	    >/dev/null &&
	    pass "$name: $SUBLOG (on the GET stream, after the answer)" ||
	    fail "$name: $SUBLOG" "not in what the client read"
}

# The reference: the client's suite through http_bridge.mjs, the SDK's own
# HTTP transports. A check that fails here is the server's.
suite "direct streamableHttp" "$T/direct-http.jsonl" -- \
    node "$PEERS/http_bridge.mjs" "http://127.0.0.1:$EH/mcp"
suite "direct sse" "$T/direct-sse.jsonl" -- \
    node "$PEERS/http_bridge.mjs" --sse "http://127.0.0.1:$ES/sse"

# jwtserver refuses what it should, or its verdicts through the gateway
# would prove nothing.
now=$(date +%s)
claims() {	# FROM EXP JTI: the claims of a JWT valid from FROM to EXP
	printf '{"iss":"t","sub":"u","aud":"a","iat":%d,"nbf":%d,"exp":%d,"jti":"%s"}' \
	    "$1" "$1" "$2" "$3"
}
good=$(own_jwt "$(claims "$now" $((now + 60)) 1)")
expired=$(own_jwt "$(claims $((now - 60)) $((now - 1)) 2)")
unknown=$(own_jwt "$(claims "$now" $((now + 60)) 3)" other)
# status JWT: the HTTP status jwtserver answers an initialize with it.
status() {
	node -e '
fetch(process.argv[1], { method: "POST", body: process.argv[3], headers: {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    ...(process.argv[2] ? { authorization: process.argv[2] } : {}) } })
    .then(r => console.log(r.status), e => console.log(e.message));' \
	    "http://127.0.0.1:$J1/mcp" "$1" "$INIT"
}
[ "$(status "Bearer $good")" = 200 ] &&
    [ "$(status "Bearer ${good%.*}.${expired##*.}")" = 401 ] &&
    [ "$(status "Bearer $expired")" = 401 ] &&
    [ "$(status "Bearer $unknown")" = 401 ] && [ "$(status "")" = 401 ] &&
    pass "jwtserver: a good JWT is let in; a bad signature, an expired one, an unknown kid or none: 401" ||
    fail "jwtserver's own checks" "$(tail -n 5 "$T/j1.jsonl" | jq -c .jwt)"

# --- the gateway ------------------------------------------------------------
# app NAME URI [YAML lines of the app]...
app() {
	local l
	printf '  - name: %s\n    labels: {env: dev}\n    uri: %s\n' "$1" "$2"
	shift 2
	for l in "$@"; do
		printf '    %s\n' "$l"
	done
}
BEARER='"Authorization: Bearer {{internal.jwt}}"'
HDRS="rewrite: {jwt_claims: roles-and-traits, headers: [$BEARER,
      \"X-Mcpgate-User: {{internal.user}}\", \"X-Team: {{external.team}}\",
      \"X-Session: {{internal.session}}\"]}"
AUTH="rewrite: {jwt_claims: none, headers: [$BEARER]}"
{
	cat <<EOF
limits:
  max_message_size: 256KiB
app_service:
  mcp_demo_server: true
  apps:
EOF
	app everything-http "mcp+http://127.0.0.1:$EH/mcp" \
	    'description: "server-everything, Streamable HTTP"'
	app everything-sse "mcp+sse+http://127.0.0.1:$ES/sse" \
	    'description: "server-everything, SSE"'
	app id-full "mcp+http://127.0.0.1:$J1/mcp" "$HDRS"
	app id-none "mcp+http://127.0.0.1:$J1/mcp?app=none" "$AUTH"
	app id-region "mcp+http://127.0.0.1:$J1/mcp?app=region" \
	    "rewrite: {headers: [$BEARER, \"X-Region: {{external.region}}\"]}"
	app id-env "mcp+http://127.0.0.1:$J1/mcp?app=env" \
	    "rewrite: {headers: [$BEARER, \"X-Env: {{external.env}}\"]}"
	app id-gone "mcp+http://127.0.0.1:$J1/mcp?app=gone" "$AUTH"
	app tls-ok "mcp+https://localhost:$J2/mcp" "tls: {ca_file: $T/a/ca.pem}" \
	    "$AUTH"
	app tls-other-ca "mcp+https://localhost:$J2/mcp" \
	    "tls: {ca_file: $T/b/ca.pem}" "$AUTH"
	app tls-other-name "mcp+https://localhost:$J3/mcp" \
	    "tls: {ca_file: $T/c/ca.pem}" "$AUTH"
	app f-refused "mcp+http://127.0.0.1:$NOPORT/mcp"
	app f-500 "mcp+http://127.0.0.1:$F/500"
	app f-slow "mcp+http://127.0.0.1:$F/slow" "timeout: 2s"
	app f-big "mcp+http://127.0.0.1:$F/big"
	app f-broken "mcp+http://127.0.0.1:$F/broken"
	app f-broken-sse "mcp+sse+http://127.0.0.1:$F/broken-sse"
	app f-redirect "mcp+http://127.0.0.1:$F/redirect"
} >"$T/apps.yaml"
mg_setup <"$T/apps.yaml"
mg_start || { fail "daemon starts" "$(tail -n 5 "$MG_DIR/log")"; exit 1; }
ctl jwks >"$T/jwks.json" ||
    { fail "mcpgatectl jwks" "$(tail -n 3 "$MG_DIR/log")"; exit 1; }
KID=$(jq -r '.keys[0].kid' "$T/jwks.json")
GW=$(ctl status --format json | jq -r '.name // empty')
GW=${GW:-mcpgate}

cat >"$T/users.yaml" <<'EOF'
kind: role
version: v1
metadata: {name: remote-dev}
spec:
  allow:
    app_labels: {env: dev}
    mcp:
      tools: ['*']
  deny:
    mcp:
      tools: [get-env]
---
kind: user
version: v1
metadata: {name: ann}
spec:
  roles: [remote-dev, mcp-user]
  traits:
    team: [platform]
    env: [dev, staging]
EOF
ctl create -f "$T/users.yaml" >/dev/null &&
    invite_login ann "$(ctl --format json users reset ann)" ||
    { fail "ann logs in" "see $MG_DIR/log"; exit 1; }
export MCPGATE_HOME=$MG_DIR/home-ann

# answered ID FILE: FILE has the answer to request ID, or the error that
# ended its session.
answered() {
	has "(.id == $1 and (.result != null or .error != null)) or
	    (.id == null and .error != null)" <"$2"
}
# converse APP LINES...: a session of ann with APP, as a client that
# waits for each answer: each line sent once the request before it (if
# it was one) has its answer, or the session has ended, 30 s at most;
# stdin closed after the last answer; then what the gateway answered.
# A line "@wait FILE" sends nothing but waits for FILE, 90 s at most;
# "@touch FILE" makes FILE.
converse() {
	local app=$1 f
	shift
	f=$(mktemp -u "$T/conv.XXXXXX")
	mkfifo "$f"
	(
		trap '' PIPE
		user_session ann 90 "$app" <"$f" >"$f.out" &
		pid=$!
		exec 3>"$f"
		for l in "$@"; do
			kill -0 "$pid" 2>/dev/null || break
			case $l in
			@wait\ *) wait_for 90 test -e "${l#* }"; continue;;
			@touch\ *) touch "${l#* }"; continue;;
			esac
			printf '%s\n' "$l" >&3 2>/dev/null || break
			id=$(printf '%s\n' "$l" | jq '.id // empty')
			if [ -n "$id" ]; then
				wait_for 30 answered "$id" "$f.out"
			else
				sleep 0.1
			fi
		done
		exec 3>&-
		wait "$pid"
	)
	cat "$f.out"
	rm -f "$f" "$f.out"
}
# err_says APP REGEX [ID]: a JSON-RPC error on stdin (to request ID, 1
# unless given, or to none) whose message, APP's name and "the session
# ended" taken out, matches REGEX, whatever the case; not the refusal of
# a gateway that does not serve HTTP apps.
err_says() {
	has "(.id == ${3:-1} or .id == null) and .error != null and
	    (.error.message | test(\"not served yet\") | not) and
	    (.error.message | gsub(\"$1\"; \"\") |
	    gsub(\"the session ended\"; \"\") | test(\"$2\"; \"i\"))"
}
# say FILE: the last lines of FILE, on one line, for a failure.
say() {
	tail -n 3 "$1" | cut -c1-300 | tr '\n' ' '
}
# jtrue [jq options] FILTER: the JSON document on stdin, which must be
# there, makes FILTER true (jq 1.6's -e is true without any output).
jtrue() {
	local in
	in=$(cat)
	[ -n "$in" ] && [ "$(printf '%s\n' "$in" | jq "$@" 2>/dev/null)" = true ]
}
# served APP: a session with APP initializes and is answered a call.
served() {
	converse "$1" "$INIT" "$INITED" \
	    "$(call 2 echo '{"message":"still here"}')" |
	    has '.id == 2 and (.result.content[0].text | test("still here"))'
}

# --- mcp ls -----------------------------------------------------------------
ls=$("$BIN/mcpgate" mcp ls 2>&1)
echo "$ls" | grep -E '^everything-http +.*Streamable HTTP' >/dev/null &&
    echo "$ls" | grep -E '^everything-sse +.* SSE ' >/dev/null &&
    pass "mcp ls: Type Streamable HTTP and SSE" ||
    fail "mcp ls: Type" "$(echo "$ls" | grep everything | tr '\n' ' ')"
ls=$("$BIN/mcpgate" --format json mcp ls 2>&1)
echo "$ls" | jtrue '(.[] | select(.name == "everything-http") | .type) ==
    "Streamable HTTP" and (.[] | select(.name == "everything-sse") | .type) ==
    "SSE"' >/dev/null 2>&1 &&
    pass "mcp ls --format json: type Streamable HTTP and SSE" ||
    fail "mcp ls --format json: type" "$(echo "$ls" | head -c 300)"

# --- server-everything through the gateway --------------------------------
for t in streamableHttp:everything-http sse:everything-sse; do
	suite "${t%%:*}" "$T/${t#*:}.jsonl" --expect-denied get-env \
	    --env "MCPGATE_HOME=$MCPGATE_HOME" -- \
	    "$BIN/mcpgate" mcp connect "${t#*:}"
done

audit_has '.event == "mcp.session.request" and .user == "ann" and
    .app == "everything-http" and .result == "denied" and .tool == "get-env"' &&
    audit_has '.event == "mcp.session.request" and .app == "everything-sse"
    and .result == "denied" and .tool == "get-env"' &&
    pass "the denials are in the audit log, both transports" ||
    fail "the denials are in the audit log" "no record"
audit_has '.event == "mcp.session.server_request" and
    .app == "everything-http" and .method == "sampling/createMessage" and
    .result == "success"' &&
    audit_has '.event == "mcp.session.server_request" and
    .app == "everything-sse" and .method == "sampling/createMessage" and
    .result == "success"' &&
    pass "the servers' sampling requests are in the audit log" ||
    fail "the servers' sampling requests are in the audit log" "no record"

# --- identity ---------------------------------------------------------------
# whoami APP: the text of jwtserver's whoami through a session with APP.
whoami() {
	converse "$1" "$INIT" "$INITED" "$(call 2 whoami)" |
	    jq -c -R 'fromjson? | select(.id == 2) | .result.content[0].text
	    | fromjson'
}
W=$(whoami id-full)
[ -n "$W" ] || fail "whoami through id-full" "no answer: $(say "$MG_DIR/log")"
# The end of ann's certificate, as mcpgate status shows it.
exp_cert=$(date -d "$("$BIN/mcpgate" status --format json |
    jq -r .not_after)" +%s 2>/dev/null)
echo "$W" | jtrue '.jwt.valid' >/dev/null 2>&1 &&
    pass "id-full: the JWT's Ed25519 signature verifies against mcpgatectl jwks" ||
    fail "id-full: the JWT verifies" "$(echo "$W" | jq -c .jwt 2>&1 |
    cut -c1-300)"
echo "$W" | jtrue --arg kid "$KID" '.jwt.header.alg == "EdDSA" and
    .jwt.kid == $kid' >/dev/null 2>&1 &&
    pass "id-full: alg EdDSA, the kid of the JWKS's current key" ||
    fail "id-full: alg and kid" "$(echo "$W" | jq -c .jwt.header 2>&1)"
echo "$W" | jtrue --arg gw "$GW" --arg aud "http://127.0.0.1:$J1/mcp" \
    --argjson cexp "${exp_cert:-0}" '.jwt.claims as $c | .now as $now |
    $c.iss == $gw and $c.sub == "ann" and $c.aud == $aud and
    $c.iat <= $now and $c.nbf <= $now and $now < $c.exp and
    $c.exp <= $cexp and ($c.jti | type == "string" and length > 0)' \
    >/dev/null 2>&1 &&
    pass "id-full: iss the gateway, sub ann, aud the app's URL, iat/nbf <= now < exp <= the certificate's expiry, a jti" ||
    fail "id-full: the claims" "$(echo "$W" | jq -c .jwt.claims 2>&1)"\
" (gateway $GW, certificate expires $exp_cert)"
echo "$W" | jtrue '.jwt.claims as $c | ($c.roles | sort) ==
    ["mcp-user", "remote-dev"] and $c.traits.team == ["platform"] and
    $c.traits.env == ["dev", "staging"]' >/dev/null 2>&1 &&
    pass "id-full: jwt_claims roles-and-traits: ann's roles and traits" ||
    fail "id-full: roles and traits" "$(echo "$W" | jq -c .jwt.claims 2>&1)"
echo "$W" | jtrue '.headers["x-mcpgate-user"] == "ann" and
    .headers["x-team"] == "platform" and
    (.headers["x-session"] | type == "string" and length > 0)' \
    >/dev/null 2>&1 &&
    pass "id-full: X-Mcpgate-User ann, X-Team platform, X-Session from the templates" ||
    fail "id-full: the templated headers" "$(echo "$W" | jq -c .headers 2>&1 |
    cut -c1-300)"
sid=$(echo "$W" | jq -r '.headers["x-session"]' 2>/dev/null)
audit_has ".event == \"mcp.session.start\" and .app == \"id-full\" and
    .session_id == \"$sid\"" &&
    pass "id-full: {{internal.session}} is the session's id in the audit log" ||
    fail "id-full: {{internal.session}}" "$sid not a session of the audit log"
echo "$W" | jtrue '.requests | length >= 3 and all(.[];
    ([.headers[] | select(.[0] == "authorization")] | length) == 1 and
    .jwt.valid) and ([.[] | select(.method == "POST")][1:] |
    all(.[]; any(.headers[]; .[0] == "mcp-session-id") and
    any(.headers[]; .[0] == "mcp-protocol-version")))' >/dev/null 2>&1 &&
    pass "id-full: every request has one Authorization, the gateway's; after initialize, Mcp-Session-Id and MCP-Protocol-Version" ||
    fail "id-full: the requests' headers" "$(echo "$W" | jq -c '.requests[] |
    [.method, [.headers[][0]]]' 2>&1 | tr '\n' ' ' | cut -c1-400)"

# What a client sends can put no header on the server's requests: a call
# whose _meta and arguments carry an Authorization and an X-Team.
EVIL='{"Authorization":"Bearer client-supplied","X-Team":"client-supplied"}'
converse id-full "$INIT" "$INITED" \
    "$(jq -c -n --argjson e "$EVIL" '{jsonrpc: "2.0", id: 2,
    method: "tools/call", params: {name: "echo", arguments: {message: "hi",
    headers: $e}, _meta: ({headers: $e} + $e)}}')" \
    >"$T/evil.out"
has '.id == 2 and .result != null' <"$T/evil.out" &&
    ! grep -q 'client-supplied' <(jq -c '.headers' "$T/j1.jsonl") &&
    pass "a client's Authorization or X-Team in its messages never becomes a header" ||
    fail "a client's headers" "$(say "$T/evil.out")"
# A tool ann's role denies: not listed, refused by the gateway, and the
# server never asked to run it.
out=$(converse id-full "$INIT" "$INITED" \
    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' "$(call 3 get-env)")
echo "$out" | has '.id == 2 and ([.result.tools[].name] |
    any(.[]; . == "whoami") and all(.[]; . != "get-env"))' &&
    echo "$out" | has '.id == 3 and .error.code == -32602' &&
    jq -e -s 'any(.[]; any(.rpc[]; .method == "tools/list")) and
    all(.[]; all(.rpc[]; .tool != "get-env"))' "$T/j1.jsonl" >/dev/null &&
    pass "a denied tool: not listed, refused -32602, never asked of the server" ||
    fail "a denied tool over HTTP" "$(echo "$out" | tail -n 2 |
    cut -c1-200 | tr '\n' ' ')"
# deleted SESSION: the server was sent a DELETE of its session SESSION.
deleted() {
	jq -e -s --arg s "$1" 'any(.[]; .method == "DELETE" and
	    .session == $s)' "$T/j1.jsonl" >/dev/null 2>&1
}
wait_for 5 deleted "$(echo "$W" | jq -r '.headers["mcp-session-id"]')" &&
    pass "the session's end: a DELETE of its Mcp-Session-Id" ||
    fail "the session's end: DELETE" "$(jq -c '[.method, .session]' \
    "$T/j1.jsonl" | tail -n 4 | tr '\n' ' ')"

W=$(whoami id-none)
echo "$W" | jtrue --arg aud "http://127.0.0.1:$J1/mcp?app=none" \
    '.jwt.valid and .jwt.claims.aud == $aud and .jwt.claims.sub == "ann" and
    (.jwt.claims | has("roles") or has("traits") | not) and
    (.headers | has("x-team") or has("x-mcpgate-user") | not)' \
    >/dev/null 2>&1 &&
    pass "id-none: jwt_claims none: a valid JWT, its aud the uri with its query, no roles nor traits, no other header" ||
    fail "id-none" "$(echo "$W" | jq -c '.jwt' 2>&1 | cut -c1-300)"

out=$(converse id-region "$INIT" "$INITED")
echo "$out" | err_says id-region '\\bregion\\b' &&
    pass "a header template with a trait ann lacks: the session fails, naming it" ||
    fail "a trait the user lacks" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
out=$(converse id-env "$INIT" "$INITED")
echo "$out" | err_says id-env '\\benv\\b' &&
    ! echo "$out" | has '.id == 1 and .result' &&
    pass "a header template with a trait of two values: the session fails, naming it" ||
    fail "a trait of two values" "$(echo "$out" | tail -n 2 | tr '\n' ' ')"
jq -e -s 'all(.[]; (.path | test("app=(region|env)")) | not)' \
    "$T/j1.jsonl" >/dev/null &&
    pass "and those servers were never asked anything" ||
    fail "a failed template: the server" "was asked"

# mcpgatectl jwt rotate: a session started after it is signed with the new
# key; a server that has the old JWKS refuses it (401), one that reads the
# new one lets it in, and the JWKS still has the old key, second.
ctl jwt rotate >/dev/null || fail "jwt rotate" "refused"
ctl jwks >"$T/jwks.new"
KID2=$(jq -r '.keys[0].kid' "$T/jwks.new")
jq -e --arg k1 "$KID" --arg k2 "$KID2" '$k1 != $k2 and
    [.keys[].kid] == [$k2, $k1]' "$T/jwks.new" >/dev/null &&
    pass "jwt rotate: the new key first in the JWKS, the previous one second" ||
    fail "jwt rotate: the JWKS" "$(cat "$T/jwks.new")"
out=$(converse id-full "$INIT" "$INITED" "$(call 2 whoami)")
tail -n 1 "$T/j1.jsonl" | jtrue --arg k "$KID2" '.jwt.valid == false and
    .jwt.kid == $k' >/dev/null && echo "$out" | err_says id-full '\\b401\\b' 2 &&
    pass "jwt rotate: a server with the old JWKS refuses the new JWT; the client hears 401" ||
    fail "jwt rotate: the old JWKS" "$(echo "$out" | tail -n 1 | cut -c1-200)"
cp "$T/jwks.new" "$T/jwks.json"
W=$(whoami id-full)
echo "$W" | jtrue --arg k "$KID2" '.jwt.valid and .jwt.kid == $k' \
    >/dev/null 2>&1 &&
    pass "jwt rotate: with the new JWKS the session's JWT verifies, by the new kid" ||
    fail "jwt rotate: the new JWKS" "$(echo "$W" | jq -c '.jwt' 2>&1 | cut -c1-200)"

# --- TLS --------------------------------------------------------------------
W=$(whoami tls-ok)
echo "$W" | jtrue --arg aud "https://localhost:$J2/mcp" '.jwt.valid and
    .jwt.claims.aud == $aud' >/dev/null 2>&1 &&
    pass "https with the app's CA: served, the JWT's aud the https URL" ||
    fail "https with the app's CA" "$(echo "$W" | cut -c1-200)"\
" $(grep tls-ok "$MG_DIR/log" | tail -n 2 | tr '\n' ' ')"
out=$(converse tls-other-ca "$INIT")
echo "$out" | err_says tls-other-ca 'TLS|certificate' &&
    pass "https with another CA: refused, the client told of TLS or the certificate" ||
    fail "https with another CA" "$(echo "$out" | tail -n 1 | cut -c1-200)"
out=$(converse tls-other-name "$INIT")
echo "$out" | err_says tls-other-name 'TLS|certificate' &&
    pass "https to a certificate of another name: refused, saying so" ||
    fail "https, another name" "$(echo "$out" | tail -n 1 | cut -c1-200)"
[ ! -s "$T/j3.jsonl" ] &&
    pass "and the server of the other name was sent no request" ||
    fail "another name: the server" "got a request"
served tls-ok && pass "https with the app's CA served after those" ||
    fail "tls-ok after the refusals" "not served"

# --- faults -----------------------------------------------------------------
# A session of ann lives through all of them: a call before, one after.
converse everything-http "$INIT" "$INITED" \
    "$(call 2 echo '{"message":"before"}')" "@touch $T/live.started" \
    "@wait $T/faults.done" "$(call 3 echo '{"message":"after"}')" \
    >"$T/live.out" &
live=$!
wait_for 30 test -e "$T/live.started"
bg=()
for a in f-refused f-500 f-big f-redirect; do
	converse "$a" "$INIT" "$INITED" >"$T/$a.out" &
	bg+=($!)
done
{
	t0=$(ms_now)
	converse f-slow "$INIT" "$INITED" >"$T/f-slow.out"
	echo $(($(ms_now) - t0)) >"$T/f-slow.ms"
} &
bg+=($!)
for a in f-broken f-broken-sse; do
	converse "$a" "$INIT" "$INITED" \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
	    >"$T/$a.out" &
	bg+=($!)
done
converse id-gone "$INIT" "$INITED" "$(call 2 forget-session)" \
    "$(call 3 echo '{"message":"gone?"}')" >"$T/id-gone.out" &
bg+=($!)
wait "${bg[@]}"
touch "$T/faults.done"

fault() {	# APP WHAT REGEX [ID]
	err_says "$1" "$3" "${4:-1}" <"$T/$1.out" &&
	    pass "$2: a clear error to the client" ||
	    fail "$2" "$(say "$T/$1.out")"
}
fault f-refused "connection refused" 'refused|connect'
fault f-500 "a 500" '\\b500\\b'
fault f-slow "a server slower than its 2s timeout" \
    'in time|within|timed? ?out|timeout'
ms=$(cat "$T/f-slow.ms")
[ "$ms" -ge 2000 ] && [ "$ms" -lt 8000 ] &&
    pass "and the error came at the timeout ($ms ms), not at the client's 30 s" ||
    fail "the slow server's error: when" "after $ms ms"
fault f-big "a body over max_message_size" 'max_message_size|too large|larger'
fault f-broken "a Streamable HTTP answer cut mid-event" \
    '\\bstreams?\\b|closed|cut|incomplete|broke|premature|eof|truncated' 2
fault f-broken-sse "an SSE stream cut mid-event" \
    '\\bstreams?\\b|closed|cut|incomplete|broke|premature|eof|truncated' 2
fault f-redirect "a redirect to another host" 'redirect|302'
cat "$T/fault.jsonl" 2>/dev/null | jq -e -s 'any(.[]; .host == "main" and
    .path == "/redirect") and all(.[]; .host != "other")' >/dev/null &&
    pass "the redirect was refused, never followed: the other host saw nothing" ||
    fail "the redirect" "$(cat "$T/fault.jsonl" 2>/dev/null |
    jq -c '[.host, .method, .path]' | tr '\n' ' ')"
# netd counted the requests to the HTTP servers, their bodies, and the
# failures (refused, the timeout, the cut answers) among them.
st=$(ctl --format json status 2>&1)
if echo "$st" | jq -e '.http.requests > 20 and .http.failed >= 3 and
    .http.bytes_sent > 1000 and .http.bytes_received > 1000' >/dev/null &&
    ctl --format prometheus status 2>/dev/null | grep -Eq \
    '^mcpgate_http_bytes_total\{direction="received"\} [1-9]'; then
	pass "status counts the HTTP requests ($(echo "$st" |
	    jq -r .http.requests), $(echo "$st" | jq -r .http.failed) failed) and their bytes, in JSON and for Prometheus"
else
	fail "status: the HTTP counters" "$(echo "$st" | jq -c .http)"
fi
has '.id == 2 and .result.content[0].text == "forgotten"' \
    <"$T/id-gone.out" && fault id-gone "a 404 for the session" \
    '404|not found|expired|unknown session|no longer' 3 ||
    fail "a 404 for the session" "$(say "$T/id-gone.out")"
has '.id == 2 and .result.content[0].text == "forgotten"' \
    <"$T/id-gone.out" &&
    audit_has '.event == "mcp.session.end" and .app == "id-gone" and
    .reason != "client_closed"' &&
    pass "and the session's end record gives its reason ($(cat \
    "$MG_DIR"/audit/*.jsonl | jq -r 'select(.event == "mcp.session.end" and
    .app == "id-gone") | .reason' | tail -n 1))" ||
    fail "a 404: the end record" "$(cat "$MG_DIR"/audit/*.jsonl |
    jq -c 'select(.event == "mcp.session.end" and .app == "id-gone")')"
wait "$live"
has '.id == 2 and .result.content[0].text == "Echo: before"' <"$T/live.out" &&
    has '.id == 3 and .result.content[0].text == "Echo: after"' \
    <"$T/live.out" &&
    pass "a session of the same user, live through every fault, answered before and after" ||
    fail "the live session" "$(say "$T/live.out")"
served everything-http && served everything-sse && served id-full &&
    pass "after the faults, new sessions are served, both transports" ||
    fail "after the faults" "not served"

# --- netd's memory ------------------------------------------------------
# Sessions through HTTP, SSE and TLS apps, each a call: netd's resident
# size after 20 (libcurl's and OpenSSL's one-time allocations made), then
# after a hundred more. A session's state in netd is a few KiB and its
# buffers at most 320 KiB (flow control, see http.sh), freed at its end;
# a leak of 40 KiB a session would pass 4 MiB. Not under the sanitizers,
# whose quarantine keeps freed memory.
rounds() {	# N DEADLINE-SECONDS: N sessions, three apps in turn, 5 at once
	local i j pids end=$(($(date +%s) + $2)) apps=(everything-http everything-sse tls-ok)
	for ((i = 0; i < $1; i += 5)); do
		[ "$(date +%s)" -lt "$end" ] || return 1
		pids=()
		for ((j = i; j < i + 5 && j < $1; j++)); do
			served "${apps[j % 3]}" &
			pids+=($!)
		done
		for j in "${pids[@]}"; do
			wait "$j" || return 1
		done
	done
}
if grep -q __asan_init "$BIN/mcpgated"; then
	skip "netd's memory" "the sanitizers' quarantine keeps freed memory"
else
	npid=$(child_pid netd)
	rss() { awk '/^VmRSS:/ {print $2}' "/proc/$npid/status"; }
	if rounds 20 120; then
		r0=$(rss)
		t0=$(date +%s)
		if rounds 100 300; then
			r1=$(rss)
			[ -n "$r0" ] && [ -n "$r1" ] && [ $((r1 - r0)) -lt 4096 ] &&
			    pass "netd's memory: $r0 kB, then $r1 kB after 100 sessions ($(($(date +%s) - t0)) s)" ||
			    fail "netd's memory" "$r0 kB, then $r1 kB after 100 sessions"
		else
			fail "netd's memory" "100 sessions: one failed or past 300 s"
		fi
	else
		fail "netd's memory" "20 sessions: one failed or past 120 s"
	fi
fi

# Under the sanitizers, a report from any process of the daemon is in its
# log; the plain build has none to write.
if grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$MG_DIR/log"; then
	fail "no sanitizer report in the daemon's log" \
	    "$(grep -m 2 'Sanitizer\|runtime error:' "$MG_DIR/log" | tr '\n' ' ')"
else
	pass "no sanitizer report in the daemon's log"
fi
