# The npm reference servers, run directly (no gateway) under the test
# client tests/peers/stdio_client.mjs (the official SDK's Client and
# StdioClientTransport), so that the client and its checks are proven
# against the real servers before they are used through the gateway:
# server-everything (tools, sampling, elicitation, roots, progress,
# cancellation, logging, resources and subscriptions, prompts,
# completions), server-filesystem (the client's roots, and a change of
# them, decide what it may read and write) and server-memory (a graph
# round trip).  Then the client's own checks are shown able to fail, and
# its transcript to be the server's lines verbatim.
. "$(dirname "$0")/lib.sh"
PEERS=$TOP/tests/peers
# Nothing of mcpgate runs here: a sanitizer build has nothing to add.
if grep -q __asan_init "$BIN/mcpgated" 2>/dev/null; then
	skip "every check" "it runs no mcpgate program, only the npm servers \
and the SDK client; the plain build runs it"
	exit 0
fi
MODS=$PEERS/node_modules/@modelcontextprotocol
if ! command -v node >/dev/null; then
	skip "every check" "node is not installed (make deps installs it)"
	exit 0
fi
for s in sdk server-everything server-filesystem server-memory; do
	if [ ! -f "$MODS/$s/package.json" ]; then
		skip "every check" "@modelcontextprotocol/$s is not installed" \
		    "(make peers installs it)"
		exit 0
	fi
done

T=$(mktemp -d /tmp/mgpeers.XXXXXX)
MG_TMPS+=("$T")
mkdir "$T/root"

# client NAME ARGS...: the client's lines, each named after NAME.
client() {
	local name=$1
	shift
	node "$PEERS/stdio_client.mjs" --name "$SUITE: $name" "$@" 2>>"$T/stderr"
}

client everything --suite everything --root "$T/root" \
    --transcript "$T/everything.jsonl" -- \
    node "$MODS/server-everything/dist/index.js" stdio
client filesystem --suite filesystem --root "$T/root" -- \
    node "$MODS/server-filesystem/dist/index.js"
client memory --suite memory --env "MEMORY_FILE_PATH=$T/memory.jsonl" -- \
    node "$MODS/server-memory/dist/index.js"

# --expect-denied against a server that allows the tool: both of its
# checks must fail, or they prove nothing through the gateway.
out=$(client self --suite basic --expect-denied echo -- \
    node "$MODS/server-everything/dist/index.js" stdio)
n=$(echo "$out" | grep -c "^FAIL $SUITE: self: .*echo")
[ "$n" -eq 2 ] &&
    pass "--expect-denied fails when the tool is listed and answered" ||
    fail "--expect-denied fails when the tool is listed and answered" \
    "$n FAIL lines: $(echo "$out" | grep '^FAIL' | tr '\n' ' ')"

# The transcript: every line is one JSON-RPC message, as the server wrote
# it (its initialize result, the server-to-client requests, the
# notifications), and the same run's server wrote them in that order.
tr=$T/everything.jsonl
if [ ! -s "$tr" ]; then
	fail "the transcript" "$tr is empty"
elif ! jq -e -s 'all(.jsonrpc == "2.0")' "$tr" >/dev/null 2>&1; then
	fail "the transcript is JSON-RPC, one message a line" \
	    "$(head -c 300 "$tr")"
else
	pass "the transcript is JSON-RPC, one message a line"
	for m in 'select(.id == 0) | .result.serverInfo.name' \
	    'select(.method == "roots/list") | .method' \
	    'select(.method == "sampling/createMessage") | .method' \
	    'select(.method == "elicitation/create") | .method' \
	    'select(.method == "notifications/progress") | .params.progressToken' \
	    'select(.method == "notifications/message") | .params.level' \
	    'select(.method == "notifications/resources/updated") | .params.uri'
	do
		v=$(jq -r "$m" "$tr" | head -n 1)
		[ -n "$v" ] && [ "$v" != null ] &&
		    pass "the transcript has ${m%% |*}: $v" ||
		    fail "the transcript has ${m%% |*}" "not found"
	done
	# Verbatim: the server's key order, not a re-serialisation (the SDK
	# puts "jsonrpc" first; the server's own writer puts it last).
	first=$(grep -m 1 '"id":0}$' "$tr")
	case $first in
	'{"result":'*'"jsonrpc":"2.0","id":0}')
		pass "the transcript keeps the server's bytes";;
	*)	fail "the transcript keeps the server's bytes" \
		    "$(echo "$first" | head -c 120)";;
	esac
fi
