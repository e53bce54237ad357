# A smoke run of the peers benchmark's harness (tests/bench/peerbench.c,
# what `make bench` runs with full counts): with tiny counts, tools/call
# echo to server-everything direct over stdio and through supergateway
# (stdio to Streamable HTTP, --stateful), and the table it prints; then
# the harness refuses what it must: a target off loopback, a server that
# closes, an error answer, an HTTP error status.
. "$(dirname "$0")/lib.sh"
PB=$HELPERS/peerbench
PEERS=$TOP/tests/peers/node_modules
EV=$PEERS/@modelcontextprotocol/server-everything/dist/index.js
SG=$PEERS/supergateway/dist/index.js
if [ ! -x "$PB" ]; then
	fail "peerbench is built" "$PB is missing (make all builds it)"
	exit 0
fi
if ! command -v node >/dev/null || [ ! -f "$EV" ] || [ ! -f "$SG" ]; then
	skip "every check" "node, server-everything or supergateway is" \
	    "missing (make peers installs them)"
	exit 0
fi
T=$(mktemp -d /tmp/mgpeerbench.XXXXXX)
MG_TMPS+=("$T")

port=$("$PB" -p)
case $port in
[1-9]*[0-9]) pass "-p gives a free loopback port: $port";;
*)	fail "-p gives a free loopback port" "got '$port'"; exit 0;;
esac
node "$SG" --stateful --logLevel none --port "$port" \
    --outputTransport streamableHttp --stdio "node $EV stdio" \
    >"$T/sg.log" 2>&1 &
sg=$!
MG_INSTANCES+=("$sg")
for i in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

"$PB" -n 8 -c 2 -r 1 -w 2 -t "direct (stdio)=stdio:node $EV stdio" \
    -t "supergateway=http://127.0.0.1:$port/mcp" >"$T/out" 2>"$T/err"
status=$?
[ $status -eq 0 ] && pass "a run with 2 sessions exits 0" ||
    fail "a run with 2 sessions exits 0" \
    "status $status: $(tail -n 3 "$T/err" | tr '\n' ' ')"
for l in "direct (stdio)" supergateway; do
	# label, then p50 us, p99 us, calls/s, twice, all positive.
	re=$(printf '%s' "$l" | sed 's/[()]/\\&/g')
	n3='[1-9][0-9]* us +[1-9][0-9]* us +[1-9][0-9]*'
	grep -Eq "^  $re +$n3 +$n3\$" "$T/out" &&
	    pass "the table has $l's figures" ||
	    fail "the table has $l's figures" "$(cat "$T/out" | tr '\n' '|')"
done
grep -q '^added over direct (stdio) by supergateway: seq p50 ' "$T/out" &&
    grep -q '^ratio: supergateway to direct (stdio): seq p50 [0-9.]*, ' \
    "$T/out" && pass "the added latency and the ratios are printed" ||
    fail "the added latency and the ratios are printed" \
    "$(cat "$T/out" | tr '\n' '|')"

# refused NAME WANT ARGS...: peerbench fails, saying WANT.
refused() {
	local name=$1 want=$2 out
	shift 2
	if out=$(timeout 30 "$PB" -n 2 -c 1 -r 1 -w 0 "$@" 2>&1); then
		fail "$name" "it succeeded: $out"
	elif echo "$out" | grep -q -- "$want"; then
		pass "$name"
	else
		fail "$name" "no '$want' in: $out"
	fi
}
refused "a target off loopback is refused" "loopback only" \
    -t "x=http://10.1.2.3:80/mcp"
refused "a name, not 127.0.0.1, is refused" "loopback only" \
    -t "x=http://localhost:$port/mcp"
refused "a server that exits at once: the peer closed" "x: the peer closed" \
    -t "x=stdio:true"
refused "an error answer is fatal and shown" 'an error for id 0: .*"code":-1' \
    -t 'x=stdio:sed -u s/"method".*/"error":{"code":-1}}/'
refused "an HTTP error status is fatal and shown" "x: HTTP 404" \
    -t "x=http://127.0.0.1:$port/nope"

# supergateway ends its servers on SIGTERM (SIGKILL, lib.sh's cleanup,
# would leave them behind).
kill -TERM "$sg" 2>/dev/null
for i in $(seq 1 50); do
	kill -0 "$sg" 2>/dev/null || break
	sleep 0.1
done
refused "-H names three targets other than the first" "-H: three labels" \
    -t "x=stdio:true" -t "y=stdio:true" -H "y,x"
