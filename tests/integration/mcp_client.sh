# mcpgate's MCP commands against a real daemon: mcp ls, mcp config into
# copies of real client configuration files, and the mcp connect bridge,
# relaying a session, losing it, and answering in error mode.
#
# mcpgate-test: alone
# (tests/run runs it by itself: the bridge drains its answers for 2 s
# after stdin's end, and other tests' load stretches a 3 MiB one past
# that.)
. "$(dirname "$0")/lib.sh"
shopt -s lastpipe	# "... | bridge" sets RC here

MG=$BIN/mcpgate
SELF=$(readlink -f "$MG")
PW="correct horse battery"
T=$(mktemp -d /tmp/mgclient.XXXXXX)
MG_TMPS+=("$T")
unset XDG_CONFIG_HOME MCPGATE_HOME

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcp-client-test","version":"1.0"}}}'
INITED='{"jsonrpc":"2.0","method":"notifications/initialized"}'
LIST='{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
CALL='{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"mcpgate_user_info","arguments":{}}}'
DEMO_TOOLS='["mcpgate_access_info","mcpgate_demo_info","mcpgate_session_info","mcpgate_user_info"]'

# as USER COMMAND...: run with USER's own profile.
as() {
	local u=$1
	shift
	MCPGATE_HOME=$MG_DIR/home-$u "$@"
}

# newuser NAME ctl-options...: create the user and log in with the invite.
newuser() {
	local u=$1 out
	shift
	out=$(ctl --format json users add "$u" "$@") || return 1
	printf '%s\n%s\n' "$(echo "$out" | jq -r .invite)" "$PW" |
	    as "$u" "$MG" login --proxy "$GW" --user "$u" --invite \
	    --password-stdin \
	    --ca-fingerprint "$(echo "$out" | jq -r .ca_fingerprint)" \
	    >/dev/null
}

# jt [jq options] FILTER: jq -e on stdin, failing on no input too (jq 1.6
# says yes to nothing).
jt() {
	local in
	in=$(cat)
	[ -n "$in" ] && printf '%s\n' "$in" | jq -e "$@" >/dev/null 2>&1
}

# rpc_only FILE: every line is one JSON-RPC 2.0 message, none with a null
# id (the gateway's last word is not for the client).
# rpc_only FILE: every line is one JSON-RPC message, and nothing else
# (one jq for the whole file: a jq a line costs a minute for 1000).
rpc_only() {
	! grep -q '^$' "$1" &&
	    [ "$(jq -c . "$1" 2>/dev/null | wc -l)" -eq "$(wc -l <"$1")" ] &&
	    jq -e -s 'all(.[]; .jsonrpc == "2.0" and (.id != null or
	        (has("method") and (has("id") | not))))' "$1" >/dev/null 2>&1
}

# answer FILE ID: the answer with that id (a JSON value), compact.
answer() {
	jq -c --argjson id "$2" 'select(.id == $id)' "$1"
}

# err_answer FILE ID TEXT: the answer to ID is the bridge's -32000 error
# and its message starts with "mcpgate: " and holds TEXT.
err_answer() {
	answer "$1" "$2" | jt --arg t "$3" '.error.code == -32000 and
	    (.error.message | startswith("mcpgate: ") and contains($t))'
}

bridge() {
	# bridge USER APP OUT ERR: stdin to mcp connect; the status in RC
	as "$1" "$MG" mcp connect "$2" >"$3" 2>"$4"
	RC=$?
}

# --- usage and help (no daemon needed) ---------------------------------------
out=$("$MG" --help)
[ $? -eq 0 ] && echo "$out" | grep -q "mcp connect NAME" &&
    echo "$out" | grep -q "mcp ls \[-v\]" && echo "$out" | grep -q "mcp config" &&
    pass "mcpgate --help lists mcp ls, config and connect" ||
    fail "mcpgate --help" "$out"
out=$("$MG" mcp --help 2>/dev/null)
[ $? -eq 0 ] && echo "$out" | grep -q "usage: mcpgate mcp ls" &&
    echo "$out" | grep -q "mcp config \[NAME | --all | --labels" &&
    echo "$out" | grep -q "mcpgate mcp connect NAME" &&
    pass "mcpgate mcp --help prints the mcp usage on stdout, exit 0" ||
    fail "mcpgate mcp --help" "$out"
bad=""
for args in "mcp" "mcp nosuch" "mcp connect" "mcp connect a b" \
    "mcp connect --x" "mcp config" "mcp config a b" "mcp config a --all" \
    "mcp config --all --json-format fancy" "mcp config --labels =x" \
    "mcp config --all --client-config" "mcp ls notalabel" "mcp ls --bogus" \
    "mcp ls --search" "--format yaml mcp config a" "--format xml mcp ls"; do
	# shellcheck disable=SC2086
	out=$("$MG" $args 2>&1 </dev/null)
	st=$?
	{ [ $st -eq 2 ] && echo "$out" | grep -q "usage:\|--format\|--labels\|--json-format"; } ||
	    bad="$bad [$args: $st]"
done
[ -z "$bad" ] && pass "usage errors exit 2 and say what is wrong" ||
    fail "usage errors" "$bad"
bad=""
for c in login status logout version "mcp ls" "mcp config" "mcp connect"; do
	for h in -h --help "--format=json --help"; do
		# shellcheck disable=SC2086
		out=$("$MG" $c $h 2>"$T/e" </dev/null)
		st=$?
		{ [ $st -eq 0 ] && [ ! -s "$T/e" ] &&
		    echo "$out" | head -n 1 | grep -q "^usage: mcpgate $c\( \|$\)" &&
		    [ "$(echo "$out" | grep -c "mcpgate ")" -eq 1 ]; } ||
		    bad="$bad [$c $h: $st]"
	done
done
out=$("$MG" mcp config --all -h 2>&1 </dev/null)
st=$?
[ -z "$bad" ] && [ $st -eq 0 ] &&
    echo "$out" | grep -q "^usage: mcpgate mcp config " &&
    pass "-h and --help after every command print its usage alone on stdout, exit 0" ||
    fail "-h per command" "$bad $out"
bad=""
for args in "mcp ls --bogus|'--bogus'" "mcp config --all --nosuch=1|'--nosuch=1'" \
    "login --proxy=x --frob|'--frob'" "status -q|'q'" "mcp connect --zap x|'--zap'" \
    "--wat status|'--wat'" "mcp --wat ls|'--wat'" "logout --format|'--format'" \
    "mcp ls --search|'--search'"; do
	# shellcheck disable=SC2086
	out=$("$MG" ${args%|*} 2>&1 >/dev/null </dev/null)
	st=$?
	{ [ $st -eq 2 ] && echo "$out" | head -n 1 | grep -q "^mcpgate.*${args#*|}" &&
	    echo "$out" | grep -q "^usage: mcpgate"; } || bad="$bad [${args%|*}: $st $out]"
done
[ -z "$bad" ] && pass "an unknown option, or one without its value, is named in the error; exit 2" ||
    fail "unknown options named" "$bad"

# --- error mode before any gateway --------------------------------------------
export MCPGATE_HOME=$T/nobody
printf '%s\n' "$INIT" "$INITED" '{"jsonrpc":"2.0","id":"1","method":"tools/list"}' \
    '{"jsonrpc":"2.0","id":99,"result":{}}' "not json" "" |
    "$MG" mcp connect mcpgate-demo >"$T/o" 2>"$T/e"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/o")" -eq 2 ] && rpc_only "$T/o" &&
    err_answer "$T/o" 1 "not logged in: run 'mcpgate login" &&
    err_answer "$T/o" '"1"' "not logged in" &&
    pass "not logged in: each request (1 and \"1\" apart) gets -32000 saying what to do; exit 1" ||
    fail "not logged in: error answers" "rc $rc: $(cat "$T/o" "$T/e")"
[ "$(grep -c . "$T/e")" -eq 1 ] && grep -q "^mcpgate: not logged in: run 'mcpgate login" "$T/e" &&
    pass "not logged in: the reason once on stderr, nothing else" ||
    fail "not logged in: stderr" "$(cat "$T/e")"
# The answer comes while stdin is still open: no client waits for a timeout.
coproc BR { exec "$MG" mcp connect mcpgate-demo 2>/dev/null; }
bp=$BR_PID
echo "$INIT" >&"${BR[1]}"
line=""
read -t 5 -r line <&"${BR[0]}"
echo "$line" | jt '.id == 1 and .error.code == -32000' &&
    pass "error mode answers at once, before stdin ends" ||
    fail "error mode answers at once" "got '$line'"
eval "exec ${BR[1]}>&-"
wait "$bp"
out=$("$MG" mcp ls 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "not logged in" &&
    pass "mcp ls when not logged in says so, exit 1" || fail "mcp ls not logged in" "$out"
unset MCPGATE_HOME

# --- a gateway, roles and users -------------------------------------------------
mg_setup </dev/null
mg_start || { fail "daemon starts" "see the log"; exit 1; }
GW=127.0.0.1:$MG_PORT
cat >"$T/roles.yaml" <<'EOF'
kind: role
version: v1
metadata: {name: demo-some}
spec:
  allow:
    app_labels: {'env': 'demo'}
    mcp:
      tools: [mcpgate_user_info]
EOF
ctl create -f "$T/roles.yaml" >/dev/null &&
    newuser alice --roles access --mcp-tools '*' &&
    newuser bob --roles demo-some &&
    newuser carol --roles access &&
    newuser dave --roles access --mcp-tools '*' &&
    newuser eve --roles auditor &&
    newuser frank --roles access --mcp-tools '*' &&
    newuser gina --roles access --mcp-tools '*' ||
    { fail "set-up" "users and roles"; exit 1; }

# Does this gateway do MCP at all?  Without it, most checks below fail.
if as alice "$MG" mcp ls 2>&1 | grep -q "not available on this gateway"; then
	fail "the gateway offers apps and connect" "it answers unsupported_op"
fi

# --- mcp ls ---------------------------------------------------------------------------
json=$(as alice "$MG" --format json mcp ls)
echo "$json" | jt --argjson t "$DEMO_TOOLS" 'length == 1 and
    .[0].name == "mcpgate-demo" and .[0].type == "builtin" and
    .[0].labels == {"env": "demo"} and .[0].tools.all == true and
    (.[0].tools.allowed | sort) == $t and .[0].tools.denied == [] and
    (.[0].description | length) > 0' &&
    pass "ls --format json: the demo server, its labels and all its tools" ||
    fail "ls --format json" "$json"
DESC=$(echo "$json" | jq -r '.[0].description')
out=$(as alice "$MG" mcp ls)
head=$(echo "$out" | head -n 1)
row=$(echo "$out" | grep "^mcpgate-demo ")
echo "$head" | grep -q "^Name  *Description  *Type  *Allowed Tools  *Labels$" &&
    echo "$out" | sed -n 2p | grep -q "^-\+ -\+ -\+ -\+ -\+$" &&
    echo "$row" | grep -q " builtin  *\[\*\]  *env=demo$" &&
    ! echo "$out" | grep -q "Warning" &&
    pass "ls: a table with Name, Description, Type, Allowed Tools ([*]) and Labels" ||
    fail "ls table" "$out"
if [ ${#DESC} -gt 50 ]; then
	! echo "$row" | grep -qF "$DESC" && echo "$row" | grep -qF "${DESC:0:30}" &&
	    echo "$row" | grep -q '\.\.\. ' &&
	    [ "$(echo "$out" | awk '{ if (length > m) m = length } END { print m }')" -le 120 ] &&
	    pass "ls shortens a long description to keep lines short" ||
	    fail "ls shortens descriptions" "$row"
fi
out=$(as alice "$MG" mcp ls -v)
echo "$out" | head -n 1 | grep -q "Allowed Tools  *Denied Tools  *Labels$" &&
    echo "$out" | grep -qF "$DESC" &&
    pass "ls -v adds Denied Tools and shows the whole description" ||
    fail "ls -v" "$out"
bjson=$(as bob "$MG" --format json mcp ls)
out=$(as bob "$MG" mcp ls -v)
denied=$(echo "$bjson" | jq -r '.[0].tools.denied | join(", ")')
echo "$bjson" | jt '.[0].tools.all == false and
    .[0].tools.allowed == ["mcpgate_user_info"] and
    (.[0].tools.denied | length) == 3' &&
    echo "$out" | grep "^mcpgate-demo " | grep -q " mcpgate_user_info  *$denied  *env=demo$" &&
    ! echo "$out" | grep -q "\[!\]" &&
    pass "ls -v with a role that allows one tool: it, and the three denied" ||
    fail "ls for a role with one tool" "$bjson $out"
out=$(as carol "$MG" mcp ls)
echo "$out" | grep "^mcpgate-demo " | grep -q " (none) \[!\]  *env=demo$" &&
    echo "$out" | grep -q "^\[!\] Warning: you do not have access to any tools on the MCP server(s) marked \[!\]" &&
    pass "ls: no tool allowed shows (none) [!] and the warning below the table" ||
    fail "ls with no tools" "$out"
out=$(as alice "$MG" --format yaml mcp ls)
echo "$out" | grep -q "^- name: mcpgate-demo$" && echo "$out" | grep -q "^  labels:$" &&
    echo "$out" | grep -q "^    env: demo$" && echo "$out" | grep -q "^    all: true$" &&
    pass "ls --format yaml writes the same objects as YAML" ||
    fail "ls --format yaml" "$out"
if python3 -c 'import yaml' 2>/dev/null; then
	[ "$(echo "$out" | python3 -c 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))' |
	    jq -S -c .)" = "$(echo "$json" | jq -S -c .)" ] &&
	    pass "ls --format yaml reads back as the JSON list" ||
	    fail "ls yaml reads back" "$out"
fi
for s in demo DEMO "session,user" "user information" "env" "demo,env"; do
	as alice "$MG" --format json mcp ls --search "$s" | jt 'length == 1' ||
	    { fail "ls --search '$s' finds the demo" "it does not"; continue; }
done
for s in nosuchword "demo,nosuchword" "demo nosuch"; do
	as alice "$MG" --format json mcp ls --search "$s" | jt '. == []' ||
	    fail "ls --search '$s' finds nothing" "it found something"
done
out=$(as alice "$MG" mcp ls --search nosuchword)
[ $? -eq 0 ] && echo "$out" | grep -qi "none.*match\|no .*match" &&
    [ "$(echo "$out" | wc -l)" -eq 1 ] &&
    pass "ls --search: every word must occur (name, description, labels; any case); none says so" ||
    fail "ls --search with no match" "$out"
as alice "$MG" --format json mcp ls env=demo | jt 'length == 1' &&
    as alice "$MG" --format json mcp ls env=prod | jt '. == []' &&
    as alice "$MG" --format json mcp ls env=demo,team=x | jt '. == []' &&
    as alice "$MG" --format json mcp ls --search demo env=demo | jt 'length == 1' &&
    as alice "$MG" mcp ls env=prod | grep -qi "none.*label\|no .*match" &&
    pass "ls LABEL=VALUE,...: every pair must match exactly" ||
    fail "ls with labels" "$(as alice "$MG" mcp ls env=prod 2>&1)"
as alice "$MG" mcp ls --format=json --search=demo env=demo | jt 'length == 1' &&
    as alice "$MG" mcp ls --search=nosuchword --format=json | jt '. == []' &&
    [ "$(as alice "$MG" mcp ls --format json)" = "$json" ] &&
    as alice "$MG" mcp --format=yaml ls -v | grep -q "^- name: mcpgate-demo$" &&
    [ "$(as alice "$MG" mcp config --json-format=compact --labels=env=demo 2>/dev/null | wc -l)" -eq 1 ] &&
    as alice "$MG" mcp config --labels=env=demo --json-format=compact 2>/dev/null |
    jt '.mcpServers | length == 1' &&
    pass "--name=value works as --name value; --format after the command or after mcp" ||
    fail "--name=value and global options after the command" \
    "$(as alice "$MG" mcp ls --format=json --search=demo env=demo 2>&1)"
out=$(as eve "$MG" mcp ls)
[ $? -eq 0 ] && echo "$out" | grep -qi "not use any MCP server\|no MCP server" &&
    as eve "$MG" --format json mcp ls | jt '. == []' &&
    pass "ls for a user no role grants a server: a sentence, or []" ||
    fail "ls with no servers" "$out"

# --- mcp config: the entry to print ---------------------------------------------------
out=$(as alice "$MG" mcp config mcpgate-demo 2>"$T/e")
echo "$out" | jt --arg self "$SELF" --arg home "$MG_DIR/home-alice" '
    .mcpServers | keys == ["mcpgate-mcpgate-demo"] and
    .["mcpgate-mcpgate-demo"] == {"command": $self,
    "args": ["mcp", "connect", "mcpgate-demo"],
    "env": {"MCPGATE_HOME": $home}}' &&
    grep -q "mcpServers" "$T/e" && grep -q "claude_desktop_config.json" "$T/e" &&
    pass "config NAME prints the mcpServers entry: this program's path, the args, MCPGATE_HOME" ||
    fail "config NAME prints the entry" "$out $(cat "$T/e")"
mkdir -p "$T/h0"
cp -a "$MG_DIR/home-alice" "$T/h0/.mcpgate"
out=$(HOME=$T/h0 "$MG" mcp config --all 2>/dev/null)
echo "$out" | jt '.mcpServers["mcpgate-mcpgate-demo"] | has("env") | not' &&
    pass "without MCPGATE_HOME the entry has no env" || fail "config without MCPGATE_HOME" "$out"
out=$(cd "$T" && MCPGATE_HOME=$(realpath --relative-to="$T" "$MG_DIR/home-alice") \
    "$MG" mcp config mcpgate-demo 2>/dev/null)
echo "$out" | jt --arg home "$MG_DIR/home-alice" \
    '.mcpServers[].env.MCPGATE_HOME == $home' &&
    pass "a relative MCPGATE_HOME is written as an absolute path" ||
    fail "relative MCPGATE_HOME" "$out"
as alice "$MG" mcp config --labels env=demo 2>/dev/null | jt '.mcpServers | length == 1' &&
    as alice "$MG" mcp config --json-format compact --all 2>/dev/null | jt '.mcpServers | length == 1' &&
    [ "$(as alice "$MG" mcp config --json-format compact --all 2>/dev/null | wc -l)" -eq 1 ] &&
    pass "config --labels and --all select by the gateway's list; compact is one line" ||
    fail "config --labels/--all" "$(as alice "$MG" mcp config --all 2>&1)"
out=$(as alice "$MG" mcp config nosuch 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no MCP server 'nosuch'" &&
    pass "config of a server that does not exist is refused clearly" ||
    fail "config of an unknown server" "$out"
out=$(as eve "$MG" mcp config mcpgate-demo 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no MCP server 'mcpgate-demo' that you may use" &&
    pass "config of a server the user may not see is refused" ||
    fail "config of a server not visible" "$out"
out=$(as alice "$MG" mcp config --labels env=prod 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "none of the MCP servers you may use has those labels" &&
    pass "config --labels that match nothing is refused" ||
    fail "config --labels matching nothing" "$out"
out=$(as carol "$MG" mcp config mcpgate-demo 2>&1 >/dev/null)
echo "$out" | grep -q "warning: your roles allow no tool of mcpgate-demo" &&
    pass "config warns when the user's roles allow no tool of the server" ||
    fail "config warns of no tools" "$out"

# --- mcp config: Claude Desktop's file -----------------------------------------------
H=$T/h1
CL=$H/.config/Claude/claude_desktop_config.json
mkdir -p "$(dirname "$CL")"
cat >"$CL" <<'EOF'
{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/u/Desktop"]
    },
    "weather": {
      "command": "/usr/local/bin/weather-mcp",
      "args": [],
      "env": {"API_KEY": "abc123", "UNITS": "metric"}
    }
  },
  "preferences": {"theme": "dark", "scale": 1.25, "ratio": 0.1, "beta": false,
    "list": [1, 2.5, null, "x\u00e9\n"], "empty": {}, "none": []}
}
EOF
chmod 0640 "$CL"
cp "$CL" "$T/claude.orig"
out=$(HOME=$H as alice "$MG" mcp config mcpgate-demo --client-config claude 2>"$T/e")
[ $? -eq 0 ] && echo "$out" | grep -q "^Updated $CL" &&
    [ "$(jq -c 'del(.mcpServers["mcpgate-mcpgate-demo"])' "$CL")" = "$(jq -c . "$T/claude.orig")" ] &&
    [ "$(jq -r '.mcpServers | keys_unsorted | last' "$CL")" = mcpgate-mcpgate-demo ] &&
    jt --arg self "$SELF" --arg home "$MG_DIR/home-alice" '
        .mcpServers["mcpgate-mcpgate-demo"] == {"command": $self,
        "args": ["mcp", "connect", "mcpgate-demo"],
        "env": {"MCPGATE_HOME": $home}}' <"$CL" &&
    pass "claude: the entry is added; every other key and value stays, in order" ||
    fail "claude: add the entry" "$out $(cat "$T/e") $(cat "$CL")"
jt '.mcpServers["mcpgate-mcpgate-demo"]' <"$CL" && grep -q '^      "args": \[$' "$CL" &&
    [ "$(stat -c %a "$CL")" = 640 ] && grep -q '"ratio": 0.1,' "$CL" &&
    grep -q '"scale": 1.25,' "$CL" && grep -q '^  "globalShortcut": "Ctrl+Space",$' "$CL" &&
    ! grep -q "PRIVATE\|BEGIN" "$CL" &&
    pass "claude: mode kept, two-space indent, numbers as written, no secret" ||
    fail "claude: the file's form" "$(stat -c %a "$CL") $(cat "$CL")"
cp "$CL" "$T/claude.1"
HOME=$H as alice "$MG" mcp config mcpgate-demo --client-config claude >/dev/null 2>&1 &&
    cmp -s "$CL" "$T/claude.1" &&
    pass "claude: running it again changes nothing" ||
    fail "claude: a second run" "$(diff "$T/claude.1" "$CL")"
# An entry the user changed, first among the servers: updated in place.
jq '.mcpServers = ({"mcpgate-mcpgate-demo": {"command": "/old/mcpgate",
    "args": ["x"], "disabled": false, "env": {"OTHER": "1",
    "MCPGATE_HOME": "/old"}}} + (.mcpServers | del(.["mcpgate-mcpgate-demo"])))' \
    "$CL" >"$T/claude.2" && cp "$T/claude.2" "$CL"
out=$(HOME=$H as alice "$MG" mcp config mcpgate-demo --client-config claude 2>&1)
[ "$(jq -r '.mcpServers | keys_unsorted | first' "$CL")" = mcpgate-mcpgate-demo ] &&
    jt --arg self "$SELF" --arg home "$MG_DIR/home-alice" '
        .mcpServers["mcpgate-mcpgate-demo"] == {"command": $self,
        "args": ["mcp", "connect", "mcpgate-demo"], "disabled": false,
        "env": {"OTHER": "1", "MCPGATE_HOME": $home}}' <"$CL" &&
    [ "$(jq -c 'del(.mcpServers["mcpgate-mcpgate-demo"])' "$CL")" = "$(jq -c . "$T/claude.orig")" ] &&
    echo "$out" | grep -q "updated mcpgate-mcpgate-demo" &&
    pass "claude: an existing entry is updated in place, its other keys kept" ||
    fail "claude: update in place" "$out $(cat "$CL")"
cp -a "$MG_DIR/home-alice" "$H/.mcpgate"
HOME=$H "$MG" mcp config mcpgate-demo --client-config claude >/dev/null 2>&1 &&
    jt '.mcpServers["mcpgate-mcpgate-demo"].env == {"OTHER": "1"}' <"$CL" &&
    pass "claude: without MCPGATE_HOME an old MCPGATE_HOME is taken out of env" ||
    fail "claude: MCPGATE_HOME removed" "$(jq -c '.mcpServers' "$CL")"
XDG_CONFIG_HOME=$T/xdg as alice "$MG" mcp config mcpgate-demo --client-config claude >/dev/null 2>&1 &&
    [ -f "$T/xdg/Claude/claude_desktop_config.json" ] &&
    pass "claude: XDG_CONFIG_HOME is honoured, as Electron does" ||
    fail "claude: XDG_CONFIG_HOME" "$(ls -R "$T/xdg" 2>&1)"

# --- Cursor's file, through a symbolic link; and a new one ---------------------
H=$T/h2
mkdir -p "$H/.cursor" "$T/dotfiles"
cat >"$T/dotfiles/mcp.json" <<'EOF'
{"mcpServers":{"github":{"url":"https://api.githubcopilot.com/mcp/","headers":{"Authorization":"Bearer ${env:GITHUB_TOKEN}"}},"postgres":{"command":"docker","args":["run","-i","--rm","mcp/postgres","postgresql://host.docker.internal/db"]}}}
EOF
cp "$T/dotfiles/mcp.json" "$T/cursor.orig"
ln -s "$T/dotfiles/mcp.json" "$H/.cursor/mcp.json"
out=$(HOME=$H as alice "$MG" mcp config mcpgate-demo --client-config cursor 2>/dev/null)
[ -L "$H/.cursor/mcp.json" ] && echo "$out" | grep -q "^Updated $H/.cursor/mcp.json" &&
    [ "$(wc -l <"$T/dotfiles/mcp.json")" -eq 1 ] &&
    [ "$(jq -c 'del(.mcpServers["mcpgate-mcpgate-demo"])' "$T/dotfiles/mcp.json")" = "$(jq -c . "$T/cursor.orig")" ] &&
    jt '.mcpServers["mcpgate-mcpgate-demo"].args == ["mcp","connect","mcpgate-demo"]' \
        <"$T/dotfiles/mcp.json" &&
    pass "cursor: a one-line file stays one line (auto), written through its link" ||
    fail "cursor: through a link" "$out $(ls -l "$H/.cursor") $(cat "$T/dotfiles/mcp.json")"
before=$(jq -c . "$T/dotfiles/mcp.json")
HOME=$H as alice "$MG" mcp config mcpgate-demo --client-config cursor --json-format pretty >/dev/null 2>&1 &&
    [ "$(wc -l <"$T/dotfiles/mcp.json")" -gt 10 ] &&
    sed -n 2p "$T/dotfiles/mcp.json" | grep -q '^  "mcpServers": {$' &&
    [ "$(jq -c . "$T/dotfiles/mcp.json")" = "$before" ] &&
    pass "--json-format pretty rewrites it with two-space indent" ||
    fail "--json-format pretty" "$(cat "$T/dotfiles/mcp.json")"
H=$T/h3
mkdir -p "$H"
out=$(HOME=$H as alice "$MG" mcp config mcpgate-demo --client-config cursor 2>/dev/null)
[ "$(stat -c %a "$H/.cursor")" = 700 ] && [ "$(stat -c %a "$H/.cursor/mcp.json")" = 600 ] &&
    jt '.mcpServers | keys == ["mcpgate-mcpgate-demo"]' <"$H/.cursor/mcp.json" &&
    [ "$(wc -l <"$H/.cursor/mcp.json")" -gt 1 ] &&
    pass "cursor: a new file is 0600 in a new 0700 directory, pretty" ||
    fail "cursor: a new file" "$out $(ls -la "$H/.cursor")"

# --- VS Code: .vscode/mcp.json of the current directory, "servers" ----------------
P=$T/project
mkdir -p "$P/.vscode"
cat >"$P/.vscode/mcp.json" <<'EOF'
{
  "inputs": [
    {"type": "promptString", "id": "perplexity-key", "description": "Perplexity API Key", "password": true}
  ],
  "servers": {
    "Perplexity": {"type": "stdio", "command": "npx", "args": ["-y", "server-perplexity-ask"],
      "env": {"PERPLEXITY_API_KEY": "${input:perplexity-key}"}},
    "fetch": {"type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"]}
  }
}
EOF
cp "$P/.vscode/mcp.json" "$T/vscode.orig"
out=$(cd "$P" && as alice "$MG" mcp config --all --client-config vscode 2>/dev/null)
echo "$out" | grep -q "^Updated $P/.vscode/mcp.json" &&
    [ "$(jq -c 'del(.servers["mcpgate-mcpgate-demo"])' "$P/.vscode/mcp.json")" = "$(jq -c . "$T/vscode.orig")" ] &&
    jt --arg self "$SELF" '(has("mcpServers") | not) and
        .servers["mcpgate-mcpgate-demo"].type == "stdio" and
        .servers["mcpgate-mcpgate-demo"].command == $self and
        (.servers["mcpgate-mcpgate-demo"] | keys_unsorted) == ["type","command","args","env"]' \
        <"$P/.vscode/mcp.json" &&
    pass "vscode: the entry goes under \"servers\" with \"type\": \"stdio\", the rest unchanged" ||
    fail "vscode" "$out $(cat "$P/.vscode/mcp.json")"

# --- files that are not plain JSON objects are refused and left alone ---------------
printf '{\n  // my servers\n  "servers": {}\n}\n' >"$P/.vscode/mcp.json"
cp "$P/.vscode/mcp.json" "$T/c.orig"
out=$(cd "$P" && as alice "$MG" mcp config mcpgate-demo --client-config vscode 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "$P/.vscode/mcp.json:2:3: not valid JSON" &&
    cmp -s "$P/.vscode/mcp.json" "$T/c.orig" &&
    pass "a file with comments is refused, naming file, line and column, unchanged" ||
    fail "a file with comments" "$out"
printf '[\n  1\n]\n' >"$T/arr.json"
out=$(as alice "$MG" mcp config mcpgate-demo --client-config "$T/arr.json" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "$T/arr.json:1:1: the top level is not a JSON object" &&
    [ "$(cat "$T/arr.json")" = "$(printf '[\n  1\n]')" ] &&
    pass "a file whose top level is not an object is refused with its place" ||
    fail "a top-level array" "$out"
printf '{\n  "a": 1,\n  "mcpServers": "none"\n}\n' >"$T/str.json"
out=$(as alice "$MG" mcp config mcpgate-demo --client-config "$T/str.json" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "$T/str.json:3:17: \"mcpServers\" is not a JSON object" &&
    grep -q '"none"' "$T/str.json" &&
    pass "a file whose mcpServers is not an object is refused with its place" ||
    fail "mcpServers not an object" "$out"
printf '{"a": 1, "a": 2}\n' >"$T/dup.json"
out=$(as alice "$MG" mcp config mcpgate-demo --client-config "$T/dup.json" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "$T/dup.json:1:.*duplicate" &&
    pass "a file with a key twice is refused rather than losing one" ||
    fail "duplicate keys" "$out"

# --- any other file, by path ---------------------------------------------------------
out=$(cd "$T" && as alice "$MG" mcp config mcpgate-demo --client-config sub/dir/custom.json 2>/dev/null)
echo "$out" | grep -q "^Updated $T/sub/dir/custom.json" &&
    [ "$(stat -c %a "$T/sub/dir/custom.json")" = 600 ] &&
    jt '.mcpServers["mcpgate-mcpgate-demo"]' <"$T/sub/dir/custom.json" &&
    pass "--client-config PATH makes the file and its directories" ||
    fail "--client-config PATH" "$out"
as alice "$MG" --format json mcp config mcpgate-demo --client-config "$T/sub/dir/custom.json" 2>/dev/null |
    jt --arg p "$T/sub/dir/custom.json" '.path == $p and .added == [] and
    .updated == ["mcpgate-mcpgate-demo"]' &&
    pass "config --format json says which file and which entries" ||
    fail "config --format json" "no"

# --- Claude Code: the command, quoted for the shell -------------------------------------
cp -a "$MG_DIR/home-alice" "$T/my home"
out=$(MCPGATE_HOME="$T/my home" "$MG" mcp config mcpgate-demo --client-config claude-code 2>/dev/null)
claude() { printf '<%s>' "$@"; }
got=$(eval "$out")
[ "$got" = "<mcp><add><--transport><stdio><mcpgate-mcpgate-demo><--env><MCPGATE_HOME=$T/my home><--><$SELF><mcp><connect><mcpgate-demo>" ] &&
    echo "$out" | grep -q "^claude mcp add --transport stdio mcpgate-mcpgate-demo --env 'MCPGATE_HOME=$T/my home' -- " &&
    pass "claude-code prints the claude mcp add command, shell-quoted" ||
    fail "claude-code" "$out => $got"

# --- mcp connect: a session, relayed -----------------------------------------------------
printf '%s\n' "$INIT" "$INITED" "$LIST" "$CALL" | bridge alice mcpgate-demo "$T/o" "$T/e"
[ $RC -eq 0 ] && ! grep -qv "^mcpgate: " "$T/e" && [ "$(wc -l <"$T/o")" -eq 3 ] && rpc_only "$T/o" &&
    answer "$T/o" 1 | jt '.result.protocolVersion and .result.serverInfo.name' &&
    answer "$T/o" 2 | jt --argjson t "$DEMO_TOOLS" '.result.tools | map(.name) | sort == $t' &&
    answer "$T/o" '"three"' | jt '.result.content[0].text | contains("alice")' &&
    pass "connect: initialize, tools/list and tools/call answered, JSON-RPC only on stdout; exit 0 at EOF" ||
    fail "connect: a session" "rc $RC: $(cat "$T/o" "$T/e" | head -c 2000)"
printf '%s\n' "$INIT" "$INITED" "$LIST" \
    '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"mcpgate_demo_info","arguments":{}}}' |
    bridge bob mcpgate-demo "$T/o" "$T/e"
[ $RC -eq 0 ] && rpc_only "$T/o" &&
    answer "$T/o" 2 | jt '.result.tools | map(.name) == ["mcpgate_user_info"]' &&
    answer "$T/o" 4 | jt '.error.code == -32602 and (.error.message | contains("mcpgate_demo_info"))' &&
    pass "connect: the gateway's filtering and denials reach the client as they are" ||
    fail "connect: bob's session" "$(cat "$T/o" "$T/e" | head -c 2000)"
# The bytes of each line arrive as they were sent: no re-encoding.  The
# reference is what a raw session client gets for the same line.
PING='{"jsonrpc":"2.0","id":"a\u00e9/\/ \"q\"","method":"ping","params":{"_meta":{"k":"\u2028 \ud83d\ude00"}}}'
printf '%s\n' "$INIT" "$PING" | bridge alice mcpgate-demo "$T/o" "$T/e"
if [ -x "$HELPERS/mcpsession" ]; then
	printf '%s\n' "$INIT" "$PING" | "$HELPERS/mcpsession" -c "$MG_DIR/state/ca.crt" \
	    -C "$MG_DIR/home-alice/cert.pem" -K "$MG_DIR/home-alice/key.pem" \
	    127.0.0.1 "$MG_PORT" mcpgate-demo 2>/dev/null | sed 1d >"$T/raw"
	[ "$(sed -n 2p "$T/o")" = "$(sed -n 2p "$T/raw")" ] && [ -n "$(sed -n 2p "$T/raw")" ] &&
	    pass "connect: lines are relayed byte for byte, as a raw session gets them" ||
	    fail "connect: verbatim" "$(cat "$T/o" "$T/raw")"
fi
answer "$T/o" '"a\u00e9/\/ \"q\""' | jt '.result == {}' &&
    pass "connect: an id with escapes is answered with the same id" ||
    fail "connect: ids with escapes" "$(cat "$T/o")"
# Many requests at once, and one of 3 MiB: full duplex, no line lost.
{
	echo "$INIT"
	for i in $(seq 1 2000); do
		echo "{\"jsonrpc\":\"2.0\",\"id\":$((i + 100)),\"method\":\"ping\"}"
	done
	printf '{"jsonrpc":"2.0","id":"big","method":"ping","params":{"_meta":{"pad":"%s"}}}\n' \
	    "$(head -c 3145728 /dev/zero | tr '\0' x)"
} >"$T/many"
bridge alice mcpgate-demo "$T/o" "$T/e" <"$T/many"
[ $RC -eq 0 ] && [ "$(wc -l <"$T/o")" -eq 2002 ] &&
    [ "$(jq -s '[.[] | select(.result != null) | .id] | length' "$T/o")" -eq 2002 ] &&
    answer "$T/o" '"big"' | jt '.result' &&
    pass "connect: 2001 pipelined requests and a 3 MiB one, each answered once" ||
    fail "connect: many requests" "rc $RC, $(wc -l <"$T/o") lines: $(head -c 500 "$T/e")"
# A client that stops reading does not make the bridge grow or lose lines.
{ echo "$INIT"; for i in $(seq 1 1000); do echo "$LIST" | sed "s/\"id\":2/\"id\":$((i + 10))/"; done; } >"$T/lists"
as alice "$MG" mcp connect mcpgate-demo <"$T/lists" 2>"$T/e" | { sleep 2; cat; } >"$T/o"
[ "$(wc -l <"$T/o")" -eq 1001 ] && rpc_only "$T/o" &&
    answer "$T/o" 1000 | jt '.result.tools' &&
    pass "connect: a slow reader gets every answer" ||
    fail "connect: a slow reader" "$(wc -l <"$T/o") lines; $(cat "$T/e")"
# stdout gone: the bridge ends with 1, not killed by SIGPIPE.
{ echo "$INIT"; sleep 1; echo "$LIST"; sleep 2; } |
    as alice "$MG" mcp connect mcpgate-demo 2>"$T/e" | true
st=${PIPESTATUS[1]}
[ "$st" -eq 1 ] && grep -q "standard output" "$T/e" &&
    pass "connect: when stdout is closed the bridge exits 1 (SIGPIPE ignored)" ||
    fail "connect: stdout closed" "status $st: $(cat "$T/e")"

# --- a real MCP client: the official SDK runs the bridge ---------------------
SDK=$TOP/tests/peers/node_modules
if command -v node >/dev/null 2>&1 && [ -d "$SDK/@modelcontextprotocol/sdk" ]; then
	cat >"$T/sdk.cjs" <<'EOF'
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StdioClientTransport } =
    require("@modelcontextprotocol/sdk/client/stdio.js");
(async () => {
	const t = new StdioClientTransport({ command: process.argv[2],
	    args: ["mcp", "connect", process.argv[3]],
	    env: { MCPGATE_HOME: process.argv[4], PATH: process.env.PATH },
	    stderr: "ignore" });
	const c = new Client({ name: "sdk-test", version: "1.0" });
	try {
		await c.connect(t);
		const tools = await c.listTools();
		const r = await c.callTool({ name: "mcpgate_user_info",
		    arguments: {} });
		console.log(JSON.stringify({ server: c.getServerVersion().name,
		    tools: tools.tools.map((x) => x.name).sort(),
		    text: r.content[0].text }));
	} catch (e) {
		console.log(JSON.stringify({ code: e.code,
		    error: String(e.message) }));
	}
	await c.close();
})();
EOF
	out=$(NODE_PATH=$SDK timeout 60 node "$T/sdk.cjs" "$MG" mcpgate-demo \
	    "$MG_DIR/home-alice" 2>&1)
	echo "$out" | jt --argjson t "$DEMO_TOOLS" '.server == "mcpgate-demo" and
	    .tools == $t and (.text | contains("alice"))' &&
	    pass "the official MCP SDK, running mcpgate mcp connect, lists and calls tools" ||
	    fail "the official MCP SDK as the client" "$out"
	start=$(date +%s%N)
	out=$(NODE_PATH=$SDK timeout 60 node "$T/sdk.cjs" "$MG" nosuch \
	    "$MG_DIR/home-alice" 2>&1)
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "$out" | jt '.code == -32000 and (.error |
	    contains("mcpgate: the gateway refused MCP server nosuch"))' &&
	    [ "$ms" -lt 10000 ] &&
	    pass "the SDK client gets the bridge's refusal as an error at once (${ms} ms)" ||
	    fail "the SDK client and a refusal" "$ms ms: $out"
else
	skip "the official MCP SDK as the client" "tests/peers/node_modules is not installed"
fi

# --- mcp connect: error mode with requests waiting -------------------------------------------
printf '%s\n' "$INIT" "$INITED" "$LIST" '{"jsonrpc":"2.0","id":7,"result":{}}' |
    bridge alice nosuch "$T/o" "$T/e"
[ $RC -eq 1 ] && [ "$(wc -l <"$T/o")" -eq 2 ] && rpc_only "$T/o" &&
    err_answer "$T/o" 1 "the gateway refused MCP server nosuch" &&
    err_answer "$T/o" 2 "mcpgate mcp ls" && [ "$(grep -c . "$T/e")" -eq 1 ] &&
    pass "connect to an unknown server: the queued requests get the refusal and what to do" ||
    fail "connect: unknown server" "rc $RC: $(cat "$T/o" "$T/e")"
printf '%s\n' "$INIT" "$LIST" | bridge eve mcpgate-demo "$T/o" "$T/e"
[ $RC -eq 1 ] && err_answer "$T/o" 1 "the gateway refused MCP server mcpgate-demo" &&
    err_answer "$T/o" 2 "refused" &&
    pass "connect to a server no role of the user grants is refused" ||
    fail "connect: not granted" "rc $RC: $(cat "$T/o" "$T/e")"
ctl users lock gina >/dev/null
printf '%s\n' "$INIT" | bridge gina mcpgate-demo "$T/o" "$T/e"
[ $RC -eq 1 ] && err_answer "$T/o" 1 "locked" && grep -q "locked" "$T/e" &&
    pass "connect as a locked user: the gateway's reason reaches the client" ||
    fail "connect: locked" "rc $RC: $(cat "$T/o" "$T/e")"
ctl users unlock gina >/dev/null
echo "$PW" | as frank "$MG" login --password-stdin --ttl 2s >/dev/null
sleep 2.5
start=$(date +%s%N)
printf '%s\n' "$INIT" "$LIST" | bridge frank mcpgate-demo "$T/o" "$T/e"
ms=$((($(date +%s%N) - start) / 1000000))
[ $RC -eq 1 ] && err_answer "$T/o" 1 "your certificate expired at 20" &&
    err_answer "$T/o" 2 "run 'mcpgate login'" &&
    grep -q "^mcpgate: your certificate expired at 20[-0-9T:]*Z: run 'mcpgate login'$" "$T/e" &&
    [ "$ms" -lt 3000 ] &&
    pass "connect with an expired certificate: said at once, without dialing (${ms} ms)" ||
    fail "connect: expired" "rc $RC $ms ms: $(cat "$T/o" "$T/e")"
# A gateway that is not there: a closed port.
port=$((MG_PORT + 1))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
cp -a "$MG_DIR/home-alice" "$MG_DIR/home-gone"
sed -i "s/127.0.0.1:$MG_PORT/127.0.0.1:$port/" "$MG_DIR/home-gone/profile.json"
start=$(date +%s%N)
printf '%s\n' "$INIT" "$LIST" | bridge gone mcpgate-demo "$T/o" "$T/e"
ms=$((($(date +%s%N) - start) / 1000000))
[ $RC -eq 1 ] && err_answer "$T/o" 1 "cannot reach the gateway at 127.0.0.1:$port" &&
    err_answer "$T/o" 2 "Connection refused" && [ "$ms" -lt 10000 ] &&
    pass "connect to a gateway that is down: every request is answered with why (${ms} ms)" ||
    fail "connect: gateway down" "rc $RC: $(cat "$T/o" "$T/e")"

out=$(as gone "$MG" mcp ls 2>&1)
st=$?
cp "$T/claude.orig" "$T/gone.json"
out2=$(as gone "$MG" mcp config mcpgate-demo --client-config "$T/gone.json" 2>&1)
st2=$?
[ $st -eq 1 ] && echo "$out" | grep -q "^mcpgate: cannot reach the gateway at 127.0.0.1:$port" &&
    [ $st2 -eq 1 ] && echo "$out2" | grep -q "cannot reach the gateway" &&
    cmp -s "$T/gone.json" "$T/claude.orig" &&
    pass "ls and config with the gateway down: exit 1, why, and no file touched" ||
    fail "ls and config with the gateway down" "$out $out2"

# --- mcp connect: the session ends under the client ---------------------------------------------
# Removing the user ends the session; a request the gateway had not yet
# read (netd stopped meanwhile) is answered -32000 with the gateway's
# reason, and so is every later one, at once.
coproc BR { MCPGATE_HOME=$MG_DIR/home-dave exec "$MG" mcp connect mcpgate-demo 2>"$T/drop.err"; }
bp=$BR_PID
echo "$INIT" >&"${BR[1]}"
l1=""
read -t 10 -r l1 <&"${BR[0]}"
NETD=$(child_pid netd)
kill -STOP "$NETD"
echo '{"jsonrpc":"2.0","id":42,"method":"tools/list"}' >&"${BR[1]}"
sleep 0.3
ctl users rm dave >/dev/null
sleep 0.5
kill -CONT "$NETD"
l2=""
read -t 10 -r l2 <&"${BR[0]}"
echo '{"jsonrpc":"2.0","id":43,"method":"ping"}' >&"${BR[1]}"
l3=""
read -t 5 -r l3 <&"${BR[0]}"
eval "exec ${BR[1]}>&-"
wait "$bp"
rc=$?
echo "$l1" | jt '.id == 1 and .result' &&
    echo "$l2" | jt '.id == 42 and .error.code == -32000' &&
    echo "$l3" | jt '.id == 43 and .error.code == -32000 and
        (.error.message | startswith("mcpgate: "))' && [ $rc -eq 1 ] &&
    [ "$(grep -c . "$T/drop.err")" -eq 1 ] &&
    grep -qi "^mcpgate: .*\(dave\|removed\|no longer exists\|deleted\)" "$T/drop.err" &&
    pass "users rm ends a live session: the waiting request and later ones get -32000 with the reason" ||
    fail "session dropped by users rm" "rc $rc: [$l1] [$l2] [$l3] $(cat "$T/drop.err")"
# The daemon goes away in the middle: the same, with the bridge's reason.
coproc BR { MCPGATE_HOME=$MG_DIR/home-alice exec "$MG" mcp connect mcpgate-demo 2>"$T/down.err"; }
bp=$BR_PID
echo "$INIT" >&"${BR[1]}"
l1=""
read -t 10 -r l1 <&"${BR[0]}"
MCPD=$(child_pid mcpd)
kill -STOP "$MCPD"
echo "$LIST" >&"${BR[1]}"
sleep 0.3
kill -KILL "$MG_PID" "$(child_pid netd)" "$MCPD" 2>/dev/null
l2=""
read -t 10 -r l2 <&"${BR[0]}"
eval "exec ${BR[1]}>&-"
wait "$bp"
rc=$?
echo "$l1" | jt '.id == 1 and .result' &&
    echo "$l2" | jt '.id == 2 and .error.code == -32000 and
    (.error.message | contains("gateway"))' && [ $rc -eq 1 ] &&
    grep -q "^mcpgate: " "$T/down.err" &&
    pass "the gateway dying mid-request: the request is answered -32000, exit 1" ||
    fail "gateway dies mid-request" "rc $rc: [$l2] $(cat "$T/down.err")"

# --- a gateway that offers no MCP server at all ------------------------------
mg_setup <<'EOF'
app_service:
  mcp_demo_server: false
EOF
mg_start || { fail "a daemon without the demo server starts" "see the log"; exit 1; }
GW=127.0.0.1:$MG_PORT
newuser hana --roles access --mcp-tools '*' || fail "set-up" "hana"
out=$(as hana "$MG" mcp ls)
st=$?
[ $st -eq 0 ] && [ "$out" = "The gateway offers no MCP servers yet; ask your administrator to set one up." ] &&
    as hana "$MG" mcp ls --format=json | jt '. == []' &&
    pass "ls on a gateway that offers no server says so, not to ask for a role" ||
    fail "ls on a gateway with no servers" "$st $out"
out=$(as hana "$MG" mcp config --all 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "the gateway offers no MCP servers yet" &&
    pass "config --all on a gateway that offers no server says so" ||
    fail "config on a gateway with no servers" "$out"
