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
