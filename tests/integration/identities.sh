# Many users, and large ones: 20,000 users with a role and five traits
# each, created through mcpgatectl create, while a session is open; the
# daemon restarts with them, a login works, sessions answer.  The bounds
# of what create takes, with the line and column of what is over them;
# a user too large for them, left in the state directory by an older
# gateway, neither stops the daemon nor makes an audit record too large.
#
# mcpgate-test: alone
# (tests/run runs it by itself: each create of 5,000 users must answer
# within mcpgatectl's 15 s, which other tests' load could exceed.)
. "$(dirname "$0")/lib.sh"
need_root "it starts the daemon as root, as a production install does"

PW="correct horse battery"
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"identities-test","version":"1"}}}'
LIST='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'

# login USER: a new invite for USER, and a login with it.
login() {
	local out
	out=$(ctl --format json users reset "$1") && invite_login "$1" "$out"
}

# session USER [mcpsession args]: one session; JSON-RPC lines on stdin.
session() {
	user_session "$1" 60 "${@:2}"
}

# users FIRST COUNT: the YAML of COUNT users from userFIRST on, each with
# the role team and five traits.
users() {
	awk -v first="$1" -v n="$2" 'BEGIN {
		for (i = first; i < first + n; i++)
			printf "---\nkind: user\nversion: v1\n" \
			    "metadata: {name: user%d}\n" \
			    "spec:\n  roles: [team]\n  traits:\n" \
			    "    team: [platform]\n    env: [dev, staging]\n" \
			    "    region: [eu-west-%d]\n" \
			    "    mcp_tools: [mcpgate_user_info, mcpgate_session_info]\n" \
			    "    employee_id: [\"%06d\"]\n", i, i % 3, i
	}'
}

mg_setup </dev/null
mg_start || { fail "daemon starts" "see the log"; exit 1; }
cat >"$MG_DIR/team.yaml" <<'EOF'
kind: role
version: v1
metadata: {name: team}
spec:
  allow:
    app_labels: {'*': '*'}
    mcp:
      tools: ['{{internal.mcp_tools}}']
EOF
check "the role is created" ctl create -f "$MG_DIR/team.yaml"
ctl users add alice --roles mcp-user >/dev/null && login alice ||
    { fail "a user logs in" "$(tail -n 5 "$MG_DIR/log")"; exit 1; }

# A session open through it all.
mkfifo "$MG_DIR/in"
session alice mcpgate-demo <"$MG_DIR/in" >"$MG_DIR/live" 2>&1 &
live=$!
exec 7>"$MG_DIR/in"
echo "$INIT" >&7

# --- 20,000 users, in four creates of 5,000 --------------------------------
# (each answers within mcpgatectl's 15 s, the sanitizer build on a busy
# machine too)
ok=0 times=
for i in 0 1 2 3; do
	users $((i * 5000)) 5000 >"$MG_DIR/users$i.yaml"
	t0=$(ms_now)
	out=$(ctl --format json create -f "$MG_DIR/users$i.yaml" 2>&1)
	times="$times $(( $(ms_now) - t0 ))"
	echo "$out" | is '.created | length == 5000' && ok=$((ok + 1)) ||
	    echo "$out" | cut -c 1-300 >&2
done
[ $ok = 4 ] &&
    pass "20,000 users with five traits each are created (ms for each 5,000:$times)" ||
    fail "20,000 users are created" "$ok of 4 creates; ms:$times"
n=$(ls "$MG_DIR/state/users" | grep -c '\.yaml$')
[ "$n" = 20001 ] && ! ls "$MG_DIR/state/users" | grep -qv '\.yaml$' &&
    pass "each is a file of the state directory, and no temporary file is left" ||
    fail "each is a file of the state directory" "$n files"
kill -0 "$MG_PID" &&
    pass "the daemon is alive with a snapshot of 20,000 users" ||
    fail "the daemon is alive" "$(tail -n 5 "$MG_DIR/log")"
echo "$LIST" >&7
for i in $(seq 1 100); do
	grep -q '"id":1' "$MG_DIR/live" && break
	sleep 0.1
done
has '.id == 1 and (.result.tools | length) > 0' <"$MG_DIR/live" &&
    pass "a session open meanwhile answers tools/list" ||
    fail "a session open meanwhile answers tools/list" "$(cat "$MG_DIR/live")"
exec 7>&-
wait $live
audit_has 'select(.event == "user.create" and .user == "user19999" and
    (.traits.employee_id == ["019999"]) and .roles == ["team"])' &&
    pass "each creation is audited with its roles and traits" ||
    fail "each creation is audited" "no record for user19999"

# A created user logs in, and its trait decides its tools.
login user12345 &&
    out=$( { echo "$INIT"; echo "$LIST"; } | session user12345 mcpgate-demo) &&
    echo "$out" | has '.id == 1 and ([.result.tools[].name] | sort) ==
        ["mcpgate_session_info", "mcpgate_user_info"]' &&
    pass "one of them logs in and sees the tools of its trait" ||
    fail "one of them logs in" "$(echo "$out" | tail -n 2)"

# --- restart --------------------------------------------------------------
mg_stop
t0=$(ms_now)
MG_START_WAIT=600 mg_start || { fail "the daemon restarts with 20,000 users" "see the log"; exit 1; }
t1=$(ms_now)
pass "the daemon restarts with 20,000 users, ready in $((t1 - t0)) ms"
echo "start-up with 20,001 users: $((t1 - t0)) ms" >&2
login user777 &&
    out=$( { echo "$INIT"; echo "$LIST"; } | session user777 mcpgate-demo) &&
    echo "$out" | has '.id == 1 and (.result.tools | length) == 2' &&
    pass "after it, a login works and a session's tools/list answers" ||
    fail "a login works after the restart" "$(echo "$out" | tail -n 2)"
out=$( { echo "$INIT"; echo "$LIST"; } | session alice mcpgate-demo)
echo "$out" | has '.id == 1 and (.result.tools | length) == 4' &&
    pass "and so does an earlier user's" ||
    fail "an earlier user's session answers" "$(echo "$out" | tail -n 2)"

# --- the bounds of create -------------------------------------------------
{ printf 'kind: user\nversion: v1\nmetadata: {name: wide}\n'
  printf 'spec:\n  roles: [team]\n  traits:\n'
  for i in $(seq 0 16); do printf '    t%d: [v]\n' "$i"; done; } \
    >"$MG_DIR/wide.yaml"
out=$(ctl create -f "$MG_DIR/wide.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "wide.yaml:23:5: more than 16 traits" &&
    pass "a user with 17 traits is refused, with the line and column" ||
    fail "a user with 17 traits is refused" "$out"
{ printf 'kind: user\nversion: v1\nmetadata: {name: heavy}\n'
  printf 'spec:\n  roles: [team]\n  traits:\n'
  for i in $(seq 0 15); do
	printf '    t%d:\n' "$i"
	for j in $(seq 0 9); do printf '      - %0200d\n' "$j"; done
  done; } >"$MG_DIR/heavy.yaml"
out=$(ctl create -f "$MG_DIR/heavy.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "heavy.yaml:[0-9]*:[0-9]*: user 'heavy' holds more than 16 KiB" &&
    pass "a user of more than 16 KiB of traits is refused, saying where" ||
    fail "a user of more than 16 KiB is refused" "$out"
{ printf 'kind: role\nversion: v1\nmetadata: {name: huge}\nspec:\n'
  printf '  allow:\n    mcp:\n      tools:\n'
  for i in $(seq 0 256); do printf '        - t%d\n' "$i"; done; } \
    >"$MG_DIR/huge.yaml"
out=$(ctl create -f "$MG_DIR/huge.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "huge.yaml:264:11: more than 256 values in 'tools'" &&
    pass "a role of 257 tool patterns is refused, with the line and column" ||
    fail "a role of 257 tool patterns is refused" "$out"

# --- a user from before the bounds -------------------------------------------
# 64 traits of 256 values of 120 bytes: 2 MiB, as an older gateway wrote
# it; the snapshot is far larger than max_message_size all the same.
mg_stop
{ printf 'kind: user\nversion: v1\nmetadata:\n  name: bulky\n'
  printf 'spec:\n  roles:\n    - team\n  traits:\n'
  for i in $(seq 0 63); do
	printf '    t%d:\n' "$i"
	yes "      - \"$(head -c 60 /dev/zero | tr '\0' 'a')\"" 2>/dev/null |
	    head -n 256 | awk '{ sub("a\"$", NR "\""); print }'
  done
  printf 'status:\n  created: 2026-01-02T03:04:05Z\n'
  printf '  generation: 0123456789abcdef\n'; } >"$MG_DIR/state/users/bulky.yaml"
chmod 0600 "$MG_DIR/state/users/bulky.yaml"
big=$(stat -c %s "$MG_DIR/state/users/bulky.yaml")
sed -i 's/^limits:.*//' "$MG_CONF"
printf 'limits:\n  max_message_size: 64KiB\n' >>"$MG_CONF"
MG_START_WAIT=600 mg_start &&
    pass "a user file of $big bytes, more than max_message_size, does not stop the start" ||
    { fail "a large user file does not stop the start" "see the log"; exit 1; }
out=$(ctl --format json users update bulky --set-roles team,mcp-user 2>&1)
echo "$out" | is '.user == "bulky"' &&
    audit_has 'select(.event == "user.update" and .user == "bulky" and
        .traits_truncated == true and .traits_bytes > 1000000 and
        (.traits | length) <= 32768 and .roles == ["team", "mcp-user"])' &&
    pass "a change of it is audited with its traits cut and marked" ||
    fail "a change of a large user is audited within bounds" "$(echo "$out" | cut -c 1-200)"
login bulky &&
    out=$( { echo "$INIT"; echo "$LIST"; } | session bulky mcpgate-demo) &&
    echo "$out" | has '.id == 1 and (.result.tools | length) == 4' &&
    pass "and it logs in and has its session, through a snapshot in parts" ||
    fail "the large user logs in" "$(echo "$out" | tail -n 2)"
mg_stop
[ "$MG_STATUS" -eq 0 ] &&
    pass "the daemon stops cleanly" ||
    fail "the daemon stops cleanly" "status $MG_STATUS"
check "the audit log verifies" ctl audit verify
