# The official MCP TypeScript SDK as the client: it spawns
# mcpgate mcp connect mcpgate-demo, as Claude Desktop or Cursor would,
# and initializes, lists, calls every tool (checking each result against
# the tool's outputSchema), is refused a denied tool, pings and closes.
. "$(dirname "$0")/lib.sh"
PEERS=$TOP/tests/peers
if ! command -v node >/dev/null; then
	skip "sdk" "node is not installed (make deps installs it)"
	exit 0
fi
if [ ! -d "$PEERS/node_modules/@modelcontextprotocol/sdk" ]; then
	skip "sdk" "the MCP SDK is not installed (make peers installs it)"
	exit 0
fi

mg_setup </dev/null
mg_start || { fail "daemon starts" "see the log"; exit 1; }
GW=127.0.0.1:$MG_PORT
PW="correct horse battery"

adduser() {
	local user=$1 out
	shift
	out=$(ctl --format json users add "$user" "$@") || return 1
	printf '%s\n%s\n' "$(echo "$out" | jq -r .invite)" "$PW" |
	    MCPGATE_HOME=$MG_DIR/home-$user "$BIN/mcpgate" login \
	    --proxy "$GW" --user "$user" --invite --password-stdin \
	    --ca-fingerprint "$(echo "$out" | jq -r .ca_fingerprint)" >/dev/null
}

cat >"$MG_DIR/role.yaml" <<'EOF'
kind: role
version: v1
metadata: {name: demo-no-info}
spec:
  allow:
    app_labels: {env: demo}
    mcp:
      tools: ['mcpgate_*']
  deny:
    mcp:
      tools: [mcpgate_demo_info]
EOF
ctl create -f "$MG_DIR/role.yaml" >/dev/null &&
    adduser ann --roles mcp-user && adduser ben --roles demo-no-info ||
    { fail "users log in" "see $MG_DIR/log"; exit 1; }

# sdk USER ARGS...: the SDK's checks, as that user.
sdk() {
	local user=$1
	shift
	MCPGATE_HOME=$MG_DIR/home-$user node "$PEERS/sdk_demo.mjs" \
	    --mcpgate "$BIN/mcpgate" --server mcpgate-demo --user "$user" \
	    --gateway-name mcpgate "$@" | sed "s/^\(PASS\|FAIL\) sdk: /\1 sdk: $user: /"
}
sdk ann --expect-tools mcpgate_user_info,mcpgate_session_info,mcpgate_demo_info,mcpgate_access_info
sdk ben --expect-tools mcpgate_user_info,mcpgate_session_info,mcpgate_access_info \
    --denied-tool mcpgate_demo_info

# What the SDK did is in the audit log, under each user.
for u in ann ben; do
	audit_has ".event == \"mcp.session.start\" and .user == \"$u\" and
	    .client.name == \"mcpgate-sdk-test\"" &&
	    pass "the audit log has $u's session from the SDK client" ||
	    fail "audit of $u's SDK session" "no mcp.session.start"
done
audit_has '.event == "mcp.session.request" and .user == "ben" and
    .result == "denied" and .tool == "mcpgate_demo_info"' &&
    pass "and ben's denied call" || fail "audit of the denied call" "missing"
mg_stop
