# Identity: users, roles, invites, tokens, login with short-lived client
# certificates, and everything that refuses them.
#
# mcpgate-test: alone
# (tests/run runs it by itself: its throttle windows, expiry and the
# time of a login are measured in seconds, which other tests' load
# stretches.)
. "$(dirname "$0")/lib.sh"

mg_setup <<'EOF'
auth:
  throttle_failures: 3
  throttle_prefix_failures: 10
  throttle_delay: 1s
  throttle_max_delay: 1s
  failure_memory: 15m
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
export MCPGATE_HOME=$MG_DIR/home
GW=127.0.0.1:$MG_PORT
PW="correct horse battery"

login() {
	# login USER [options]: the password on stdin from $PW
	local user=$1
	shift
	echo "$PW" | "$BIN/mcpgate" login --proxy "$GW" --user "$user" \
	    --password-stdin "$@"
}

ilogin() {
	# ilogin USER INVITE [options]: the invite, then $PW, on stdin
	local user=$1 inv=$2
	shift 2
	printf '%s\n%s\n' "$inv" "$PW" | "$BIN/mcpgate" login --proxy "$GW" \
	    --user "$user" --invite --password-stdin "$@"
}

# invite_of: the invite in the text of users add or reset, on its own line.
invite_of() {
	sed -n 's/^  \([0-9a-f]\{64\}\)$/\1/p'
}

# waits_on_pipe PID: the process is blocked reading a pipe (its stdin),
# for a second at most until it is.
waits_on_pipe() {
	local i
	for i in $(seq 1 50); do
		case $(cat "/proc/$1/wchan" 2>/dev/null) in
		*pipe_read*) return 0;;
		esac
		sleep 0.02
	done
	return 1
}

# as_nobody_cmdline PID: the command line of PID as another local user
# reads it.
as_nobody_cmdline() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    cat "/proc/$1/cmdline" | tr '\0' ' '
	else
		# Not root: read as ourselves; what is not in the arguments
		# is not there for anyone.
		tr '\0' ' ' <"/proc/$1/cmdline"
	fi
}

# --- the preset roles -----------------------------------------------------
roles=$(ctl get roles | grep -c "^kind: role")
for r in access mcp-user auditor; do
	ctl get "role/$r" >/dev/null 2>&1 && [ -f "$MG_DIR/state/roles/$r.yaml" ] &&
	    pass "the preset role $r exists from the first start" ||
	    fail "the preset role $r exists" "missing"
done

# --- users add and the invite ---------------------------------------------
out=$(ctl users add alice --roles access --mcp-tools '*')
INV=$(echo "$out" | invite_of)
echo "$out" | grep -qx "  mcpgate login --proxy $GW --user alice --invite --ca-fingerprint SHA256:[0-9a-f]\{64\}" &&
    [ -n "$INV" ] && [ "$(echo "$out" | grep -c "$INV")" -eq 1 ] &&
    echo "$out" | grep -q "with --invite-file FILE" &&
    pass "users add prints the login command without the invite, and the invite on its own line" ||
    fail "users add prints the login command and the invite" "$out"
json=$(ctl --format json users add bob --roles mcp-user --invite-ttl 2h)
[ "$(echo "$json" | jq -r .user)" = bob ] &&
    echo "$json" | is '.invite | test("^[0-9a-f]{64}$")' &&
    echo "$json" | is '.expires | test("Z$")' &&
    echo "$json" | is '.invite as $i | (.login_command | contains($i) | not) and
	(.login_command | test("^mcpgate login --proxy [^ ]+ --user bob --invite --ca-fingerprint SHA256:[0-9a-f]{64}$"))' &&
    pass "users add --format json gives user, invite, expires and a login_command without the invite" ||
    fail "users add --format json" "$json"
FPR=$(echo "$out" | sed -n 's/.*--ca-fingerprint \(SHA256:[0-9a-f]*\).*/\1/p')
BOBINV=$(echo "$json" | jq -r .invite)
grep -rq "$INV" "$MG_DIR/state" && fail "invites are stored only hashed" \
    "the invite is in the state directory" ||
    pass "invites are stored only hashed"
out=$(ctl users add carol --roles nosuchrole 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "there is no role 'nosuchrole'" &&
    pass "users add with an unknown role is refused" ||
    fail "users add with an unknown role" "$out"
out=$(ctl users add alice --roles access 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "user 'alice' exists" &&
    pass "users add of an existing user is refused" ||
    fail "users add of an existing user" "$out"

# --- first login: pinning the CA ------------------------------------------
out=$(printf '%s\n%s\n' "$INV" "$PW" | setsid -w "$BIN/mcpgate" login \
    --proxy "$GW" --user alice --invite --password-stdin 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "without a terminal: give --ca-fingerprint" &&
    pass "without a terminal, an unknown CA is not trusted silently" ||
    fail "without a terminal, an unknown CA" "$out"
out=$(ilogin alice "$INV" --ca-fingerprint SHA256:0000 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "not SHA256:0000 as --ca-fingerprint says" &&
    pass "a wrong --ca-fingerprint is refused" ||
    fail "a wrong --ca-fingerprint" "$out"
out=$(PW=short ilogin alice "$INV" --ca-fingerprint "$FPR" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "at least 12 characters" &&
    pass "a new password shorter than password_min_length is refused" ||
    fail "a short new password" "$out"
out=$(ilogin alice "$INV" --ca-fingerprint "$FPR")
[ $? -eq 0 ] && echo "$out" | grep -q "Logged in to mcpgate as alice" &&
    echo "$out" | grep -q "Roles:       access" &&
    echo "$out" | grep -q "Certificate: valid until .*(in 1[12]h" &&
    pass "invite to first login: who you are, your roles, when it expires" ||
    fail "invite to first login" "$out"
[ "$(stat -c %a "$MCPGATE_HOME")" = 700 ] &&
    [ "$(stat -c %a "$MCPGATE_HOME/key.pem")" = 600 ] &&
    [ -s "$MCPGATE_HOME/cert.pem" ] && [ -s "$MCPGATE_HOME/ca.pem" ] &&
    pass "the profile directory is 0700 and the key 0600" ||
    fail "profile modes" "$(ls -la "$MCPGATE_HOME")"
cn=$(openssl x509 -in "$MCPGATE_HOME/cert.pem" -noout -subject)
openssl verify -CAfile "$MG_DIR/state/ca.crt" "$MCPGATE_HOME/cert.pem" \
    >/dev/null 2>&1 && [ "$cn" = "subject=CN = alice" ] &&
    openssl x509 -in "$MCPGATE_HOME/cert.pem" -noout -ext extendedKeyUsage |
    grep -q "TLS Web Client Authentication" &&
    pass "the certificate is the CA's, for CN=alice, for client use" ||
    fail "the certificate" "$cn"
openssl pkey -in "$MCPGATE_HOME/key.pem" -noout -text 2>/dev/null | grep -q ED25519 &&
    ! grep -q "$(openssl pkey -in "$MCPGATE_HOME/key.pem" -outform DER 2>/dev/null | base64 | head -c 20)" "$MG_DIR/log" &&
    pass "the key is Ed25519 and made on the client" ||
    fail "the key is Ed25519" "no"
out=$(ilogin alice "$INV" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "login refused: wrong user name or invite" &&
    pass "an invite works only once" || fail "an invite works only once" "$out"
grep -q 'password: "\$argon2id\$' "$MG_DIR/state/users/alice.yaml" &&
    [ "$(stat -c %a "$MG_DIR/state/users/alice.yaml")" = 600 ] &&
    pass "the password is stored as an Argon2id hash, in a 0600 file" ||
    fail "the password is stored as Argon2id" "$(cat "$MG_DIR/state/users/alice.yaml")"
! ctl users get alice | grep -q -i "argon\|credentials\|invite" &&
    pass "users get shows no credentials" ||
    fail "users get shows no credentials" "$(ctl users get alice)"

# --- the invite never on the command line -----------------------------------
# Each is refused before anything is sent, so they count as no failed login.
out=$(echo "$PW" | "$BIN/mcpgate" login --proxy "$GW" --user pat \
    --invite "$INV" --password-stdin --ca-fingerprint "$FPR" 2>&1)
rc=$?
out2=$(echo "$PW" | "$BIN/mcpgate" login --proxy "$GW" --user pat \
    --invite="$INV" --password-stdin --ca-fingerprint "$FPR" 2>&1)
rc2=$?
out3=$(echo "$PW" | "$BIN/mcpgate" login --proxy "$GW" --user pat \
    --invite --password-stdin -- "$INV" 2>&1)
rc3=$?
[ $rc -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ] &&
    echo "$out3" | grep -q "takes no value" &&
    echo "$out" | grep -q "mcpgate: --invite takes no value: every user of this machine can read a command line" &&
    echo "$out" | grep -q "Give --invite alone and type the invite when asked, or use --invite-file FILE" &&
    echo "$out2" | grep -q "takes no value" &&
    ! echo "$out$out2$out3" | grep -q "$INV" &&
    pass "--invite VALUE, --invite=VALUE and --invite -- VALUE are refused, saying why and what to use instead" ||
    fail "--invite with a value is refused" "$out $out2 $out3"
out=$(echo "$PW" | "$BIN/mcpgate" login --proxy "$GW" --user pat --invite \
    --password-stdin --ca-fingerprint "$FPR" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no new password on the second line of standard input" &&
    pass "--invite --password-stdin wants the invite, then the password" ||
    fail "--invite --password-stdin with one line" "$out"
out=$(setsid -w "$BIN/mcpgate" login --proxy "$GW" --user pat --invite \
    --ca-fingerprint "$FPR" 2>&1 </dev/null)
[ $? -eq 1 ] && echo "$out" | grep -q "cannot read the invite without a terminal: use --invite-file FILE, or --password-stdin" &&
    pass "without a terminal, --invite says how else to give the invite" ||
    fail "--invite without a terminal" "$out"

# Another local user reads the command line of a login that waits for the
# password: the invite is not in it.
out=$(ctl users add quinn --roles access)
QINV=$(echo "$out" | invite_of)
mkfifo "$MG_DIR/quinn.in"
MCPGATE_HOME=$MG_DIR/home-quinn "$BIN/mcpgate" login --proxy "$GW" \
    --user quinn --invite --password-stdin --ca-fingerprint "$FPR" \
    <"$MG_DIR/quinn.in" >"$MG_DIR/quinn.out" 2>&1 &
qpid=$!
exec 8>"$MG_DIR/quinn.in"
waits_on_pipe "$qpid"
before=$(as_nobody_cmdline "$qpid")
# In a subshell: if login is gone, SIGPIPE ends that, not the test.
(printf '%s\n' "$QINV" >&8)
sleep 0.3
waits_on_pipe "$qpid" && kill -0 "$qpid" 2>/dev/null && waiting=yes || waiting=no
during=$(as_nobody_cmdline "$qpid")
(printf '%s\n' "$PW" >&8)
exec 8>&-
wait "$qpid"
rc=$?
[ "$waiting" = yes ] && echo "$during" | grep -q "mcpgate login --proxy $GW --user quinn --invite --password-stdin" &&
    ! echo "$before$during" | grep -q "$QINV" &&
    [ $rc -eq 0 ] && grep -q "Logged in to mcpgate as quinn" "$MG_DIR/quinn.out" &&
    pass "while login waits for the password, another user sees no invite in /proc/PID/cmdline" ||
    fail "the invite in /proc/PID/cmdline" "waiting=$waiting rc=$rc cmdline: $during; $(cat "$MG_DIR/quinn.out")"

# At a terminal: the invite is asked for and not echoed, then the new
# password twice.
out=$(ctl users add pat --roles access)
PINV=$(echo "$out" | invite_of)
mkfifo "$MG_DIR/pat.in"
# await_text TEXT: wait up to 10 s for TEXT in the terminal's output.
await_text() {
	local i
	for i in $(seq 1 200); do
		grep -q "$1" "$MG_DIR/pat.out" && return 0
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
MCPGATE_HOME=$MG_DIR/home-pat script -qfec "exec $BIN/mcpgate login \
    --proxy $GW --user pat --invite --ca-fingerprint $FPR" /dev/null \
    <"$MG_DIR/pat.in" >"$MG_DIR/pat.out" 2>&1 &
spid=$!
exec 9>"$MG_DIR/pat.in"
steps=0
if await_text "Invite for pat (it is not shown): "; then
	mpid=$(pgrep -P "$spid" | head -n 1)
	cmdline=$(as_nobody_cmdline "$mpid")
	steps=1
	(printf '%s\r' "$PINV" >&9)
	if await_text "New password for pat (at least 12 characters): "; then
		steps=2
		(printf '%s\r' "$PW" >&9)
		await_text "The same again: " && (printf '%s\r' "$PW" >&9) &&
		    await_text "Logged in to mcpgate as pat" && steps=3
	fi
fi
exec 9>&-
wait_gone "$spid" 5 || kill -KILL "$spid" 2>/dev/null
[ $steps -eq 3 ] && echo "$cmdline" | grep -q "mcpgate login" &&
    ! echo "$cmdline" | grep -q "$PINV" && ! grep -q "$PINV" "$MG_DIR/pat.out" &&
    pass "at a terminal the invite is asked for without echo, then the password twice" ||
    fail "the invite at a terminal" "step $steps: $(tr '\r' ' ' <"$MG_DIR/pat.out")"

# --invite-file: a file of the user's own that nobody else may read.
out=$(ctl --format json users add ivy --roles access)
printf '  %s \n' "$(echo "$out" | jq -r .invite)" >"$MG_DIR/ivy.invite"
chmod 0644 "$MG_DIR/ivy.invite"
out=$(echo "$PW" | MCPGATE_HOME=$MG_DIR/home-ivy "$BIN/mcpgate" login \
    --proxy "$GW" --user ivy --invite-file "$MG_DIR/ivy.invite" \
    --password-stdin --ca-fingerprint "$FPR" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "ivy.invite is open to others (mode 0644), who could read the invite and take the account: make it 0600" &&
    pass "--invite-file refuses a file that others can read" ||
    fail "--invite-file open to others" "$out"
chmod 0600 "$MG_DIR/ivy.invite"
if [ "$(id -u)" -eq 0 ]; then
	chown nobody "$MG_DIR/ivy.invite"
	out=$(echo "$PW" | MCPGATE_HOME=$MG_DIR/home-ivy "$BIN/mcpgate" \
	    login --proxy "$GW" --user ivy --invite-file \
	    "$MG_DIR/ivy.invite" --password-stdin --ca-fingerprint "$FPR" 2>&1)
	[ $? -eq 1 ] &&
	    echo "$out" | grep -q "ivy.invite belongs to uid 65534, not to you" &&
	    pass "--invite-file refuses a file of another user's" ||
	    fail "--invite-file of another user" "$out"
	chown root "$MG_DIR/ivy.invite"
else
	skip "--invite-file of another user" "needs root to give the file to another user"
fi
out=$(echo "$PW" | MCPGATE_HOME=$MG_DIR/home-ivy "$BIN/mcpgate" login \
    --proxy "$GW" --user ivy --invite-file="$MG_DIR/ivy.invite" \
    --password-stdin --ca-fingerprint "$FPR" 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "Logged in to mcpgate as ivy" &&
    pass "--invite-file with a 0600 file and the password on stdin logs in" ||
    fail "--invite-file" "$out"
! grep -rq "$PINV\|$QINV\|$INV" "$MG_DIR/log" &&
    pass "no invite reaches the daemon's log" ||
    fail "no invite reaches the daemon's log" "$(grep -n "$PINV\|$QINV\|$INV" "$MG_DIR/log")"

# --- later logins ------------------------------------------------------------
out=$(login alice --ttl 1h)
[ $? -eq 0 ] && echo "$out" | grep -q "(in 59m\|(in 1h" &&
    pass "second login with the password, --ttl below cert_ttl honoured" ||
    fail "second login with the password" "$out"
out=$(login alice --ttl 48h)
echo "$out" | grep -q "(in 1[12]h" &&
    pass "--ttl above cert_ttl gets cert_ttl" || fail "--ttl above cert_ttl" "$out"
out=$(echo "$PW" | "$BIN/mcpgate" login --proxy="$GW" --user=alice --ttl=1h \
    --password-stdin --format=json)
[ $? -eq 0 ] && echo "$out" | jq -e --arg gw "$GW" '.proxy == $gw' >/dev/null &&
    "$BIN/mcpgate" status | grep -q "(in 59m\|(in 1h" &&
    pass "login --proxy=HOST --user=NAME --ttl=1h, and --format=json after the command" ||
    fail "login with --name=value" "$out"
out=$("$BIN/mcpgate" status)
[ $? -eq 0 ] && echo "$out" | grep -q "State:       valid" &&
    echo "$out" | grep -q "Roles:       access" &&
    pass "status: valid, with the gateway's view of the roles" ||
    fail "status: valid" "$out"
"$BIN/mcpgate" --format json status | is '.state == "valid" and
    .traits.mcp_tools == ["*"]' && pass "status --format json" ||
    fail "status --format json" "$("$BIN/mcpgate" --format json status)"

# --- wrong passwords and throttling (more in login.sh) -------------------------
out=$(PW="wrong password!!" login alice 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "login refused: wrong user name or password" &&
    pass "a wrong password is refused clearly" ||
    fail "a wrong password" "$out"
PW="wrong password!!" login alice >/dev/null 2>&1
PW="wrong password!!" login alice >/dev/null 2>&1
out=$(login alice 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "too many failed logins for this user from your network; try again in 1 s" &&
    pass "after 3 failures (throttle_failures) from a prefix even the right password waits" ||
    fail "user and prefix throttle" "$out"
audit_has '.event == "user.login" and .reason == "throttled by user and prefix" and .prefix == "127.0.0.0/24" and .retry_after == 1' &&
    pass "the throttled attempt is audited, with the time to wait" ||
    fail "the throttled attempt is audited" "no record"
sleep 2.2
out=$(login alice 2>&1)
[ $? -eq 0 ] && pass "the delay ends after throttle_delay" ||
    fail "the delay ends" "$out"

# Unknown users take as long as known ones: one Argon2id either way.
t_known=0
t_unknown=0
for i in 1 2; do
	s=$(date +%s%N); PW="nope nope nope" login bob >/dev/null 2>&1
	t_known=$((t_known + $(date +%s%N) - s))
	s=$(date +%s%N); PW="nope nope nope" login nosuchuser$i >/dev/null 2>&1
	t_unknown=$((t_unknown + $(date +%s%N) - s))
done
if [ $((t_unknown * 2)) -ge "$t_known" ] && [ $((t_known * 2)) -ge "$t_unknown" ]; then
	pass "an unknown user is answered as slowly as a known one ($((t_unknown / 2000000)) ms vs $((t_known / 2000000)) ms)"
else
	fail "an unknown user is answered as slowly" "$((t_unknown / 2000000)) ms vs $((t_known / 2000000)) ms"
fi
out=$(PW="nope nope nope" login nosuchuser 2>&1)
echo "$out" | grep -q "login refused: wrong user name or password" &&
    pass "an unknown user gets the same message as a wrong password" ||
    fail "an unknown user's message" "$out"
# Failures from this prefix so far: the reused invite, 3 for alice, 2 for
# bob, 3 for unknown users; one more reaches throttle_prefix_failures (10).
PW="nope nope nope" login ghost >/dev/null 2>&1
out=$(login alice 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "too many failed logins from your network; try again in 1 s" &&
    pass "after throttle_prefix_failures from one prefix, every user there waits" ||
    fail "prefix throttle" "$out"
sleep 2.2
audit_has '.event == "user.login" and .success == false and .reason == "unknown user" and .remote_addr == "127.0.0.1"' &&
    audit_has '.event == "user.login" and .success == true and .user == "alice" and .reason == "invite"' &&
    audit_has '.event == "user.login" and .success == false and .reason == "throttled by prefix"' &&
    pass "every attempt is audited with its outcome, reason and address" ||
    fail "login attempts are audited" "missing records"

# --- expiry ------------------------------------------------------------------------
login alice --ttl 2s >/dev/null
out=$("$BIN/mcpgate" status)
echo "$out" | grep -q "State:       valid" || fail "a 2 s certificate is valid at first" "$out"
sleep 2.5
out=$("$BIN/mcpgate" status)
[ $? -eq 1 ] && echo "$out" | grep -q "State:       expired: run 'mcpgate login'" &&
    pass "an expired certificate: status says so and what to do" ||
    fail "an expired certificate" "$out"
out=$(probe -C "$MCPGATE_HOME/cert.pem" -K "$MCPGATE_HOME/key.pem" 127.0.0.1 "$MG_PORT" '{"op":"whoami"}' 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q "certificate expired" &&
    pass "the gateway refuses an expired certificate with a TLS alert" ||
    fail "the gateway refuses an expired certificate" "$out"

# --- locked, reset, deleted ----------------------------------------------------------
login alice >/dev/null
# A connection waiting with alice's certificate ends when she is locked.
probe -C "$MCPGATE_HOME/cert.pem" -K "$MCPGATE_HOME/key.pem" -w 8 \
    127.0.0.1 "$MG_PORT" '{"op":"whoami"}' >"$MG_DIR/live" 2>&1 &
live=$!
sleep 0.5
start=$(date +%s%N)
ctl users lock alice >/dev/null
wait "$live"
ms=$((($(date +%s%N) - start) / 1000000))
grep -q '"error":"locked"' "$MG_DIR/live" && [ "$ms" -lt 1000 ] &&
    pass "locking a user ends their live connection at once (${ms} ms)" ||
    fail "locking ends live connections" "$ms ms: $(cat "$MG_DIR/live")"
out=$("$BIN/mcpgate" status)
[ $? -eq 1 ] && echo "$out" | grep -q "State:       locked: user alice is locked; ask an administrator" &&
    pass "a locked user is refused, with a clear message" ||
    fail "a locked user" "$out"
out=$(login alice 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "this user is locked" &&
    pass "a locked user cannot log in" || fail "a locked user cannot log in" "$out"
ctl users unlock alice >/dev/null
"$BIN/mcpgate" status | grep -q "State:       valid" &&
    pass "unlocking accepts the certificate again" || fail "unlock" "not valid"
out=$(ctl users reset alice)
NEWINV=$(echo "$out" | invite_of)
out=$("$BIN/mcpgate" status)
[ $? -eq 1 ] && echo "$out" | grep -q "State:       revoked: this certificate was issued before alice was reset" &&
    pass "after a reset, the certificates issued before are refused" ||
    fail "reset revokes certificates" "$out"
out=$(login alice 2>&1)
[ $? -eq 1 ] && pass "after a reset, the old password no longer works" ||
    fail "reset clears the password" "$out"
sleep 1
PW="another good password" ilogin alice "$NEWINV" >/dev/null &&
    "$BIN/mcpgate" status | grep -q "State:       valid" &&
    pass "the reset invite sets a new password, and its certificate is valid" ||
    fail "the reset invite" "$("$BIN/mcpgate" status)"
PW="another good password"
ctl users rm alice >/dev/null
out=$("$BIN/mcpgate" status)
[ $? -eq 1 ] && echo "$out" | grep -q "State:       revoked: user alice no longer exists" &&
    pass "a deleted user's certificate is refused, with a clear message" ||
    fail "a deleted user" "$out"
out=$("$BIN/mcpgate" logout)
[ ! -e "$MCPGATE_HOME/key.pem" ] && [ ! -e "$MCPGATE_HOME/cert.pem" ] &&
    [ -e "$MCPGATE_HOME/ca.pem" ] && "$BIN/mcpgate" status | grep -q "logged out" &&
    pass "logout removes the key and certificate, and keeps the pin" ||
    fail "logout" "$(ls "$MCPGATE_HOME")"
out=$("$BIN/mcpgate" logout --format=json)
[ $? -eq 0 ] && echo "$out" | jq -e --arg gw "$GW" '. == {"logged_out": true, "proxy": $gw}' >/dev/null &&
    pass "logout --format json: an object jansson wrote" ||
    fail "logout --format json" "$out"

# --- roles and users in YAML -------------------------------------------------------
out=$(ctl create <<'EOF' 2>&1
kind: role
version: v1
metadata:
  name: broken
spec:
  allow:
    mcp:
      tools: ['^delete_($']
  deny:
    app_label: {env: prod}
EOF
)
[ $? -eq 1 ] && echo "$out" | grep -q "stdin:8:15: regular expression '^delete_(\$'" &&
    echo "$out" | grep -q "stdin:10:5: unknown key 'app_label' in 'deny'" &&
    ! ctl get role/broken >/dev/null 2>&1 &&
    pass "role YAML errors name the line and column, and nothing is created" ||
    fail "role YAML errors" "$out"
cat >"$MG_DIR/devs.yaml" <<'EOF'
kind: role
version: v1
metadata:
  name: devs
  description: "Developers: read-only tools"
spec:
  allow:
    app_labels:
      env: [dev, staging]
    mcp:
      tools: ['get_*', '^list_[a-z]+$', '{{internal.mcp_tools}}']
  deny:
    mcp:
      tools: ['delete_*']
---
kind: user
version: v1
metadata:
  name: dave@example.com
spec:
  roles: [devs]
  traits:
    mcp_tools: [search]
EOF
out=$(ctl create -f "$MG_DIR/devs.yaml")
[ "$out" = "role/devs created
user/dave@example.com created" ] && pass "create -f takes a role and a user" ||
    fail "create -f" "$out"
out=$(ctl create -f "$MG_DIR/devs.yaml" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "devs.yaml:1: role 'devs' exists: give --force" &&
    pass "create does not replace without --force" ||
    fail "create without --force" "$out"
ctl get roles >"$MG_DIR/roles.yaml"
ctl get users >"$MG_DIR/users.yaml"
ctl create --force -f "$MG_DIR/roles.yaml" >/dev/null &&
    ctl create --force <"$MG_DIR/users.yaml" >/dev/null &&
    ctl get roles | cmp -s - "$MG_DIR/roles.yaml" &&
    ctl get users | cmp -s - "$MG_DIR/users.yaml" &&
    pass "get output fed back to create gives the same resources" ||
    fail "get output fed back to create" "differs"
out=$(ctl rm role/devs 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "role 'devs' is given to dave@example.com" &&
    pass "a role in use cannot be removed" || fail "rm of a role in use" "$out"
out=$(ctl rm role/mcp-user 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "preset role" &&
    pass "a preset role cannot be removed" || fail "rm of a preset role" "$out"
out=$(ctl users reset dave@example.com)
DINV=$(echo "$out" | invite_of)
ilogin dave@example.com "$DINV" >/dev/null &&
    "$BIN/mcpgate" --format json status | is '.roles == ["devs"]' &&
    pass "a user made with create logs in after users reset gives an invite" ||
    fail "a created user logs in" "$("$BIN/mcpgate" status 2>&1)"
ctl users update dave@example.com --set-roles devs,auditor --set-mcp-tools a,b >/dev/null
"$BIN/mcpgate" --format json status | is '.roles == ["devs","auditor"] and
    .traits.mcp_tools == ["a","b"]' &&
    pass "users update changes roles and traits, seen by the next request" ||
    fail "users update" "$("$BIN/mcpgate" --format json status)"
ctl users rm dave@example.com >/dev/null && ctl rm role/devs >/dev/null &&
    ! ctl get role/devs >/dev/null 2>&1 && [ ! -e "$MG_DIR/state/roles/devs.yaml" ] &&
    pass "rm role/NAME removes it once unused" || fail "rm role" "still there"

# --- the edges of the commands -----------------------------------------------------
out=$(ctl users add gina --roles access --mcp-tools '^get_' 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "tool names or patterns" &&
    pass "mcp_tools values must be valid patterns" ||
    fail "mcp_tools values must be valid patterns" "$out"
out=$(ctl users lock bob --roles access 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q "users lock does not take --roles" &&
    pass "a users subcommand refuses options that are not its own" ||
    fail "options of users subcommands" "$out"
# Long options as --name=value, the global options after the command or
# between users and its command, and "--" before the operands.
out=$("$BIN/mcpgatectl" users add hana --roles=access --mcp-tools=a,b \
    --invite-ttl=3h --format=json -c "$MG_CONF")
exp=$(echo "$out" | jq -r .expires)
[ "$(echo "$out" | jq -r .user)" = hana ] &&
    [ "$(( $(date -d "$exp" +%s) - $(date +%s) ))" -gt 10000 ] &&
    "$BIN/mcpgatectl" users -c "$MG_CONF" get hana --format=json |
    is '.roles == ["access"] and .traits.mcp_tools == ["a","b"]' &&
    pass "users add takes --name=value, and -c and --format after the command" ||
    fail "users add --name=value with global options after it" "$out"
"$BIN/mcpgatectl" users update --set-roles=mcp-user hana \
    --set-mcp-tools=c -s "$MG_DIR/ctl.sock" >/dev/null &&
    ctl --format=json users get -- hana |
    is '.roles == ["mcp-user"] and .traits.mcp_tools == ["c"]' &&
    "$BIN/mcpgatectl" -c "$MG_CONF" users rm hana --format json |
    is '.user == "hana"' &&
    pass "users update takes --name=value and -s after the command; -- ends the options" ||
    fail "users update --name=value" "$(ctl users get hana 2>&1)"
out=$(ctl --format json users reset bob --invite-ttl 3h)
exp=$(echo "$out" | jq -r .expires)
[ "$(( $(date -d "$exp" +%s) - $(date +%s) ))" -gt 10000 ] &&
    pass "users reset --invite-ttl sets how long the new invite lasts" ||
    fail "users reset --invite-ttl" "$out"
BOBINV=$(echo "$out" | jq -r .invite)
{
	for i in $(seq 1 400); do
		printf -- '---\nkind: role\nversion: v1\nmetadata:\n'
		printf '  name: r%d\n  description: "%s"\n' "$i" \
		    "$(head -c 200 /dev/zero | tr '\0' 'x')"
		printf 'spec:\n  allow:\n    mcp:\n      tools: [t%d]\n' "$i"
	done
} >"$MG_DIR/many.yaml"
out=$(ctl create -f "$MG_DIR/many.yaml" | wc -l)
[ "$(stat -c %s "$MG_DIR/many.yaml")" -gt 100000 ] && [ "$out" -eq 400 ] &&
    [ "$(ctl get roles | grep -c '^kind: role')" -eq 403 ] &&
    pass "create takes a file of 400 roles over 100 KB" ||
    fail "create of a large file" "$out roles created"
for i in $(seq 1 400); do echo "role/r$i"; done | while read -r r; do
	ctl rm "$r" >/dev/null || echo "rm $r failed"
done | grep -q failed && fail "rm of 400 roles" "some failed" ||
    pass "rm removes them one by one"

# --- join tokens -------------------------------------------------------------------
out=$(ctl --format json tokens add --type=app --ttl 30m)
tok=$(echo "$out" | jq -r .token)
id=$(echo "$out" | jq -r .id)
echo "$tok" | grep -q "^[0-9a-f]\{64\}$" && ! grep -rq "$tok" "$MG_DIR/state" &&
    grep -q "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" "$MG_DIR/state/tokens/$id.yaml" &&
    pass "tokens add prints a token that is stored only hashed" ||
    fail "tokens add" "$out"
ctl tokens ls | grep -q "^$id *app" && pass "tokens ls lists it" ||
    fail "tokens ls" "$(ctl tokens ls)"
out=$(ctl tokens add --type=node 2>&1)
[ $? -eq 1 ] && pass "a token type other than app is refused" ||
    fail "token type" "$out"
ctl tokens rm "$id" >/dev/null && ! ctl tokens ls | grep -q "$id" &&
    [ ! -e "$MG_DIR/state/tokens/$id.yaml" ] && pass "tokens rm removes it" ||
    fail "tokens rm" "$(ctl tokens ls)"
audit_has ".event == \"token.create\" and .admin_uid == $(id -u)" &&
    audit_has '.event == "token.delete"' && audit_has '.event == "role.create"' &&
    audit_has '.event == "role.delete"' && audit_has '.event == "user.update"' &&
    audit_has '.event == "user.lock"' && audit_has '.event == "user.unlock"' &&
    audit_has '.event == "user.reset"' && audit_has '.event == "user.delete"' &&
    pass "every change is audited with the administrator's uid" ||
    fail "changes are audited" "missing"

# --- it all survives a restart -------------------------------------------------------
ilogin bob "$BOBINV" >/dev/null
mg_stop
sed -i "s/listen_addr: 127.0.0.1:0/listen_addr: 127.0.0.1:$MG_PORT/" "$MG_CONF"
mg_start
out=$(login bob)
[ $? -eq 0 ] && "$BIN/mcpgate" status | grep -q "State:       valid" &&
    pass "users and passwords survive a restart" ||
    fail "users survive a restart" "$out"
out=$(ctl audit verify)
[ $? -eq 0 ] && pass "the audit log of all this verifies" || fail "audit verify" "$out"

# --- another gateway at the same address -------------------------------------------------
port=$MG_PORT
mg_stop
first=$MG_DIR
MG_LISTEN=127.0.0.1:$port mg_setup </dev/null
mg_start
out=$(login bob 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "WARNING: the gateway at $GW now presents CA" &&
    echo "$out" | grep -q "Refusing" &&
    pass "a gateway with another CA is refused by a client that pinned the first" ||
    fail "another CA is refused" "$out"
out=$("$BIN/mcpgate" status)
[ $? -eq 1 ] && echo "$out" | grep -q "State:       unreachable: the gateway at $GW is not the one you trusted" &&
    pass "status against it says it is not the gateway trusted" ||
    fail "status against another CA" "$out"
grep -q "$FPR" "$MCPGATE_HOME/profile.json" && pass "the pin is unchanged" ||
    fail "the pin is unchanged" "$(cat "$MCPGATE_HOME/profile.json")"
mg_stop

# --- fail closed: no change and no login without its audit record -----------------
mg_setup </dev/null
mkdir -m 0750 "$MG_DIR/audit"
if ! mount -t tmpfs -o size=256k,mode=0750 tmpfs "$MG_DIR/audit" 2>/dev/null; then
	skip "audit failure" "cannot mount a small tmpfs to fill up"
	exit 0
fi
chown _mcpgate-audit:_mcpgate-audit "$MG_DIR/audit"
mg_start
GW=127.0.0.1:$MG_PORT
out=$(ctl --format json users add erin --roles access)
EINV=$(echo "$out" | jq -r .invite)
EFPR=$(echo "$out" | jq -r .ca_fingerprint)
dd if=/dev/zero of="$MG_DIR/audit/fill" bs=4k 2>/dev/null
# The page the log ends in still has room: fill it with reloads.
for i in $(seq 1 40); do
	ctl status | grep -q FAILING && break
	ctl reload >/dev/null 2>&1
done
out=$(ctl users add frank --roles access 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "the audit log cannot be written (No space left on device); nothing was changed" &&
    ! ctl users ls | grep -q frank && [ ! -e "$MG_DIR/state/users/frank.yaml" ] &&
    pass "with the audit log full, a change is refused and nothing changes" ||
    fail "a change without its audit record" "$out"
out=$(ilogin erin "$EINV" --ca-fingerprint "$EFPR" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "cannot write its audit log" &&
    pass "with the audit log full, no certificate is issued" ||
    fail "a login without its audit record" "$out"
ctl status | grep -q "FAILING: records cannot be written" &&
    pass "status shows the audit log failing" ||
    fail "status shows the audit log failing" "$(ctl status)"
rm "$MG_DIR/audit/fill"
out=$(ilogin erin "$EINV" --ca-fingerprint "$EFPR" 2>&1)
[ $? -eq 0 ] && ctl users add frank --roles access >/dev/null &&
    ctl status | grep -q "fsync always, on_failure deny, writing" &&
    pass "once the log can be written, service resumes (the invite still works)" ||
    fail "service resumes" "$out"
mg_stop
out=$(ctl audit verify 2>&1)
[ $? -eq 0 ] && pass "the audit log verifies after the failures" ||
    fail "audit verify after the failures" "$out"
umount "$MG_DIR/audit"
