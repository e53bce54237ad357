# mcpgated -n: checking configuration files, and the usage message.
. "$(dirname "$0")/lib.sh"

d=$(mktemp -d)
MG_TMPS+=("$d")

cat >"$d/good.conf" <<'YAML'
version: v1
mcpgated:
  user: _mcpgate
  audit_user: _mcpgate-audit
  log_level: warning
proxy_service:
  listen_addr: [127.0.0.1:3080, "[::1]:3080"]
  cert_ttl: 1h30m
audit:
  fsync: batch
  max_file_size: 1GiB
limits:
  max_message_size: 8MiB
YAML
out=$("$BIN/mcpgated" -n -f "$d/good.conf" 2>&1)
status=$?
if [ $status -eq 0 ] && [ "$out" = "configuration OK" ]; then
	pass "a good file prints 'configuration OK' and exits 0"
else
	fail "a good file prints 'configuration OK' and exits 0" "$status: $out"
fi

cat >"$d/bad.conf" <<'YAML'
version: v1
mcpgated:
  usr: _mcpgate
  log_level: loud
proxy_service:
  listen_addr: localhost:3080
  cert_ttl: 12
audit:
  fsync: sometimes
limits:
  max_connections: lots
YAML
out=$("$BIN/mcpgated" -n -f "$d/bad.conf" 2>&1)
status=$?
[ $status -eq 1 ] && pass "a bad file exits 1" || fail "a bad file exits 1" \
    "status $status"
for want in "bad.conf:3:3: unknown key 'usr'" \
    "bad.conf:4:14: 'log_level' must be one of" \
    "bad.conf:6:16: listen_addr 'localhost:3080' is not a numeric" \
    "bad.conf:7:13: 'cert_ttl' must be a duration" \
    "bad.conf:9:10: 'fsync' must be one of always | batch | none" \
    "bad.conf:11:20: 'max_connections' must be a whole number"; do
	if echo "$out" | grep -qF "$want"; then
		pass "error reported: $want"
	else
		fail "error reported: $want" "$out"
	fi
done

printf 'version: v1\nmcpgated: [\n' >"$d/syntax.conf"
out=$("$BIN/mcpgated" -n -f "$d/syntax.conf" 2>&1)
echo "$out" | grep -q "syntax.conf:3:1: YAML syntax error" &&
    pass "a YAML syntax error names the line and column" ||
    fail "a YAML syntax error names the line and column" "$out"

out=$("$BIN/mcpgated" -n -f "$d/missing.conf" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "missing.conf: No such file" &&
    pass "a missing file is an error" || fail "a missing file is an error" \
    "$out"

out=$("$BIN/mcpgated" --help 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "usage: mcpgated \[-dnv\] \[-f file\]" &&
    pass "--help prints the usage" || fail "--help prints the usage" "$out"
"$BIN/mcpgated" -x >/dev/null 2>&1
[ $? -eq 1 ] && pass "an unknown option exits 1" ||
    fail "an unknown option exits 1" "wrong status"
"$BIN/mcpgated" -P netd >/dev/null 2>&1 3<&-
[ $? -eq 1 ] && pass "-P refuses to run outside the daemon" ||
    fail "-P refuses to run outside the daemon" "wrong status"

out=$("$BIN/mcpgatectl" --help 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "audit verify" &&
    pass "mcpgatectl --help lists the commands" ||
    fail "mcpgatectl --help lists the commands" "$out"
"$BIN/mcpgatectl" -c "$d/good.conf" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && pass "mcpgatectl: an unknown command exits 2" ||
    fail "mcpgatectl: an unknown command exits 2" "wrong status"
"$BIN/mcpgatectl" --format yaml status >/dev/null 2>&1
[ $? -eq 2 ] && pass "mcpgatectl: a bad --format exits 2" ||
    fail "mcpgatectl: a bad --format exits 2" "wrong status"

# Every command answers -h (and --help, before or after its operands) with
# its own usage on stdout, and exits 0.
bad=
while read -r cmd; do
	for h in -h --help; do
		out=$("$BIN/mcpgatectl" -c "$d/good.conf" $cmd $h 2>"$d/err")
		st=$?
		[ $st -eq 0 ] && [ ! -s "$d/err" ] &&
		    [ "$(echo "$out" | head -n 1 | cut -d' ' -f1-$((2 + $(echo "$cmd" | wc -w))))" = "usage: mcpgatectl $cmd" ] ||
		    bad="$bad [$cmd $h: $st $(head -n 1 "$d/err") $(echo "$out" | head -n 1)]"
	done
done <<'CMDS'
status
reload
audit verify
audit search
audit tail
users add
users ls
users get
users update
users lock
users unlock
users reset
users rm
create
get
rm
tokens add
tokens ls
tokens rm
CMDS
[ -z "$bad" ] && pass "mcpgatectl: -h and --help print each command's usage, exit 0" ||
    fail "mcpgatectl: -h per command" "$bad"
out=$("$BIN/mcpgatectl" users add alice -h --roles access)
[ $? -eq 0 ] && echo "$out" | grep -q "^Create a user" &&
    pass "mcpgatectl: -h after the operands still gives the usage" ||
    fail "mcpgatectl: -h after the operands" "$out"
out=$("$BIN/mcpgatectl" users -h)
[ $? -eq 0 ] && [ "$(echo "$out" | grep -cE "^(usage: |       )mcpgatectl users ")" -eq 8 ] &&
    ! echo "$out" | grep -q "audit verify" &&
    pass "mcpgatectl users -h lists the users commands only" ||
    fail "mcpgatectl users -h" "$out"

# An unknown option names itself, as typed, and exits 2 with the usage of
# the command on stderr.
bad=
while IFS='|' read -r args want; do
	out=$("$BIN/mcpgatectl" -c "$d/good.conf" $args 2>&1 >/dev/null)
	st=$?
	[ $st -eq 2 ] && echo "$out" | head -n 1 | grep -qxF "$want" &&
	    echo "$out" | grep -q "^usage: mcpgatectl" ||
	    bad="$bad [$args: $st $out]"
done <<'CASES'
status --frob|mcpgatectl: status: unknown option '--frob'
audit verify --frob=1 x|mcpgatectl: audit verify: unknown option '--frob'
audit search --since 1h --colour|mcpgatectl: audit search: unknown option '--colour'
audit tail -x|mcpgatectl: audit tail: unknown option '-x'
audit tail -n|mcpgatectl: audit tail: '-n' needs a value
audit verify --strict=yes|mcpgatectl: audit verify: '--strict' takes no value
users add alice --roles|mcpgatectl: users add: '--roles' needs a value
users add alice --rolls=access|mcpgatectl: users add: unknown option '--rolls'
users update alice --roles access|mcpgatectl: users update does not take --roles
create --f x|mcpgatectl: create: '--f' is ambiguous: it starts more than one option
tokens add --kind=app|mcpgatectl: tokens add: unknown option '--kind'
users --frob ls|mcpgatectl: users: unknown option '--frob'
--frob status|mcpgatectl: unknown option '--frob'
-q status|mcpgatectl: unknown option '-q'
users add|mcpgatectl: users add: missing argument
users get alice bob|mcpgatectl: users get: unexpected argument 'bob'
users frob|mcpgatectl: unknown users command 'frob'
CASES
[ -z "$bad" ] && pass "mcpgatectl: an unknown option or a wrong argument is named, exit 2" ||
    fail "mcpgatectl: unknown options" "$bad"
