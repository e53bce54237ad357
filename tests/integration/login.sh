# Logins under attack: throttling by user and address prefix and by
# prefix, the lock that needs failures from many prefixes, a full throttle
# table, and a flood of logins that must not stall the parent.  Clients
# connect from different loopback addresses (all of 127.0.0.0/8 is
# loopback): 127.0.0.x and 127.0.1.x are different /24 prefixes.
#
# mcpgate-test: alone
# (tests/run runs it by itself: it measures how fast logins and status
# are answered under a flood, which other tests' load would slow.)
. "$(dirname "$0")/lib.sh"
need_root "it starts the daemon as root, as a production install does, and floods it"

PW="correct horse battery"
PUB=$(openssl genpkey -algorithm ed25519 2>/dev/null |
    openssl pkey -pubout -outform DER 2>/dev/null | tail -c 32 | base64)
[ "${#PUB}" -eq 44 ] || { fail "an Ed25519 key for the tests" "$PUB"; exit 1; }

# attempt FROM USER PASSWORD: a login over TLS from address FROM; prints
# the gateway's answer.
attempt() {
	probe -b "$1" 127.0.0.1 "$MG_PORT" \
	    "{\"op\":\"login\",\"user\":\"$2\",\"password\":\"$3\",\"pubkey\":\"$PUB\"}"
}

# add_user NAME: a user with the password $PW, set with its invite from
# 127.0.9.9, a prefix no test attacks from.
add_user() {
	local inv
	inv=$(ctl --format json users add "$1" --roles access | jq -r .invite)
	probe -b 127.0.9.9 127.0.0.1 "$MG_PORT" \
	    "{\"op\":\"login\",\"user\":\"$1\",\"invite\":\"$inv\",\"new_password\":\"$PW\",\"pubkey\":\"$PUB\"}" |
	    grep -q '"ok":true'
}

# answer_is TEXT: the answer on stdin is a refusal that says TEXT, or an
# acceptance when TEXT is "ok".
answer_is() {
	local in
	in=$(cat)
	if [ "$1" = ok ]; then
		printf '%s\n' "$in" | grep -q '"ok":true'
	else
		printf '%s\n' "$in" | grep -q '"ok":false' &&
		    printf '%s\n' "$in" | grep -q -- "$1"
	fi
}

# --- throttling by user and prefix, and by prefix ---------------------------
mg_setup <<'EOF'
auth:
  throttle_failures: 3
  throttle_prefix_failures: 8
  throttle_delay: 1s
  throttle_max_delay: 4s
  lock_failures: 12
  lock_prefixes: 4
  lock_duration: 1h
  failure_memory: 10m
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
add_user alice && add_user bob && add_user carol ||
    { fail "users with passwords" "cannot set them"; exit 1; }

WRONG="wrong password!"
ok=1
for i in 1 2 3; do
	attempt 127.0.0.2 alice "$WRONG" | answer_is "wrong user name or password" || ok=0
done
[ $ok = 1 ] && pass "three wrong passwords for alice from 127.0.0.2 are each checked" ||
    fail "three wrong passwords are checked" "$(attempt 127.0.0.2 alice "$WRONG")"
out=$(attempt 127.0.0.200 alice "$PW")
echo "$out" | answer_is "too many failed logins for this user from your network; try again in 1 s" &&
    echo "$out" | grep -q '"error":"throttled"' &&
    pass "another address in the same /24 does not escape: even the right password waits 1 s" ||
    fail "another address in the same /24" "$out"
audit_has '.event == "user.login" and .user == "alice" and .remote_addr == "127.0.0.200" and .reason == "throttled by user and prefix" and .prefix == "127.0.0.0/24" and .retry_after == 1 and .attempts == 1' &&
    pass "the throttled attempt is audited with its prefix and the time to wait" ||
    fail "the throttled attempt is audited" "no such record"

# Each further failure from there doubles the delay, up to 4 s.
waits=""
for w in 1 2 4; do
	sleep "$w.1"
	a=$(attempt 127.0.0.$((w + 4)) alice "$WRONG")
	b=$(attempt 127.0.0.$((w + 4)) alice "$WRONG")
	echo "$a" | answer_is "wrong user name or password" || waits="$waits [checked: $a]"
	waits="$waits $(echo "$b" | sed -n 's/.*try again in \([0-9]*\) s.*/\1/p')"
done
[ "$waits" = " 2 4 4" ] &&
    pass "each failure after the third doubles the wait: 1 s, 2 s, 4 s, capped at 4 s" ||
    fail "the delays double up to the cap" "got waits:$waits"

out=$(attempt 127.0.1.5 alice "$PW")
echo "$out" | answer_is ok &&
    pass "6 wrong passwords for alice from 127.0.0.0/24 do not keep her out from 127.0.1.5" ||
    fail "alice from another prefix" "$out"
ctl users ls | grep -q "^alice .* active " &&
    pass "alice is not locked (users ls)" || fail "alice is not locked" "$(ctl users ls)"

# The prefix has 6 failures; two of other names make the 8 of
# throttle_prefix_failures, and then everyone there waits.
attempt 127.0.0.3 mallory1 "$WRONG" >/dev/null
attempt 127.0.0.3 mallory2 "$WRONG" >/dev/null
out=$(attempt 127.0.0.9 bob "$PW")
echo "$out" | answer_is "too many failed logins from your network; try again in 1 s" &&
    pass "after 8 failures from a prefix, other users from it wait too (bob: 1 s)" ||
    fail "the prefix throttle" "$out"
attempt 127.0.2.7 bob "$PW" | answer_is ok &&
    pass "bob from another prefix is not throttled" ||
    fail "bob from another prefix" "$(attempt 127.0.2.7 bob "$PW")"
sleep 1.1
attempt 127.0.0.3 mallory3 "$WRONG" | answer_is "wrong user name or password" &&
    attempt 127.0.0.9 bob "$PW" | answer_is "from your network; try again in 2 s" &&
    pass "the prefix's delay doubles too (2 s)" ||
    fail "the prefix's delay doubles" "$(attempt 127.0.0.9 bob "$PW")"

# --- the lock needs many failures from many prefixes ----------------------------
# Three failures from each of three prefixes, a second apart, four rounds:
# 12 failures (lock_failures) but 3 prefixes (lock_prefixes is 4).
for round in 1 2; do
	for p in 3 4 5; do
		attempt 127.0.$p.1 carol "$WRONG" >/dev/null
		[ $round = 1 ] && attempt 127.0.$p.1 carol "$WRONG" >/dev/null
		[ $round = 1 ] && attempt 127.0.$p.1 carol "$WRONG" >/dev/null
	done
	[ $round = 1 ] && sleep 1.1
done
n=$(cat "$MG_DIR"/audit/*.jsonl | jq -s '[.[] | select(.event == "user.login" and .user == "carol" and .reason == "wrong password")] | length')
out=$(attempt 127.0.6.1 carol "$PW")
[ "$n" -eq 12 ] && echo "$out" | answer_is ok &&
    pass "12 failures for carol from 3 prefixes do not lock her" ||
    fail "no lock from 3 prefixes" "$n failures; $out"
out=$(attempt 127.0.7.1 carol "$WRONG")
out2=$(attempt 127.0.8.1 carol "$PW")
echo "$out" | answer_is "wrong user name or password" &&
    echo "$out2" | grep -q '"error":"locked_out"' &&
    echo "$out2" | answer_is "too many failed logins for this user from several networks; try again in 1h, or ask an administrator to unlock it" &&
    pass "a failure from a 4th prefix locks carol, even against the right password from a 5th" ||
    fail "the lock from 4 prefixes" "$out / $out2"
grep -q "login: user carol locked for 1h after 13 failed logins from 4 address prefixes" "$MG_DIR/log" &&
    audit_has '.event == "user.lock" and .user == "carol" and .reason == "failed logins" and .failures == 13 and .prefixes == 4 and (.until | test("Z$"))' &&
    audit_has '.event == "user.login" and .user == "carol" and .reason == "user login-locked" and .remote_addr == "127.0.8.1"' &&
    pass "the lock is logged and audited, and so is the refused attempt" ||
    fail "the lock is logged and audited" "$(grep carol "$MG_DIR/log")"
out=$(ctl users ls)
echo "$out" | grep -q "^carol .* login-locked " &&
    echo "$out" | grep -q "^carol is locked by 13 failed logins from 4 address prefixes until 20[0-9-]*T[0-9:]*Z; 'mcpgatectl users unlock carol' ends it sooner.$" &&
    echo "$out" | grep -q "^alice .* active " &&
    pass "users ls shows the lock, its cause and its end" ||
    fail "users ls shows the lock" "$out"
ctl --format json users ls | is '.users[] | select(.name == "carol") |
    .state == "login-locked" and .failed_logins == 13 and
    .failed_prefixes == 4 and (.login_locked_until | test("Z$"))' &&
    pass "users ls --format json shows it too" ||
    fail "users ls --format json" "$(ctl --format json users ls)"
out=$(ctl users unlock carol)
echo "$out" | grep -q "unlocked, and its lock after failed logins ended" &&
    ctl users ls | grep -q "^carol .* active " &&
    attempt 127.0.8.1 carol "$PW" | answer_is ok &&
    attempt 127.0.7.1 carol "$PW" | answer_is ok &&
    audit_has '.event == "user.unlock" and .user == "carol" and .login_lock == true and .admin_uid == 0' &&
    pass "users unlock ends the lock (audited), and carol logs in again" ||
    fail "users unlock ends the lock" "$out"
mg_stop

# --- a full throttle table forgets its oldest entries ---------------------------
# 16 entries a table, so that a test can fill it: 40 failures of distinct
# names from 20 prefixes.  A full table never refuses a login.
mg_setup <<'EOF'
auth:
  throttle_entries: 16
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
add_user dave || { fail "a user with a password" "cannot set it"; exit 1; }
for i in 1 2 3; do attempt 127.0.10.1 eve "$WRONG" >/dev/null; done
attempt 127.0.10.1 eve "$WRONG" | answer_is "try again in 1 s" ||
    fail "eve is throttled before the table fills" "$(attempt 127.0.10.1 eve "$WRONG")"
for i in $(seq 0 19); do
	attempt 127.0.$((20 + i)).1 "fill$i" "$WRONG" >/dev/null &
	a=$!
	attempt 127.0.$((20 + i)).2 "fill$i-b" "$WRONG" >/dev/null
	wait "$a"
done
out=$(attempt 127.0.1.5 dave "$PW")
echo "$out" | answer_is ok &&
    grep -q "login throttle: the user and prefix table is full (16 entries): forgetting the oldest" "$MG_DIR/log" &&
    pass "with the tables full (40 new keys for 16 entries), dave logs in" ||
    fail "a full table" "$out"
out=$(attempt 127.0.10.1 eve "$WRONG")
echo "$out" | answer_is "wrong user name or password" &&
    pass "the oldest entry (eve's delay) was the one forgotten" ||
    fail "the oldest entry is forgotten" "$out"
mg_stop

# --- a login flood does not stall the parent ---------------------------------------
# Every attempt of the flood costs an Argon2id computation here: the
# thresholds are out of reach, as they would be for an attacker with many
# prefixes.  16 clients send wrong passwords in a loop, 4 from each of
# 127.0.2-5.x, at most 20 attempts each and 60 s.  Meanwhile alice logs in
# from 127.0.1.5 and mcpgatectl status is asked, five times each, all
# timed; then 20 clients from 127.0.6.x try at once, more than may wait
# for a check from one prefix.
mg_setup <<'EOF'
auth:
  throttle_failures: 1000
  throttle_prefix_failures: 1000000
  lock_failures: 1000000
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
add_user alice || { fail "a user with a password" "cannot set it"; exit 1; }
ALICE="{\"op\":\"login\",\"user\":\"alice\",\"password\":\"$PW\",\"pubkey\":\"$PUB\"}"
alone=$(probe -T -b 127.0.1.5 127.0.0.1 "$MG_PORT" "$ALICE" |
    sed -n 's/^elapsed \([0-9]*\) ms$/\1/p')
flood=()
for i in $(seq 0 15); do
	timeout 60 "$HELPERS/tlsprobe" -c "$MG_DIR/state/ca.crt" \
	    -b 127.0.$((2 + i % 4)).$((10 + i)) -N 20 127.0.0.1 "$MG_PORT" \
	    "{\"op\":\"login\",\"user\":\"flood$i\",\"password\":\"$WRONG\",\"pubkey\":\"$PUB\"}" \
	    >"$MG_DIR/flood.$i" 2>&1 &
	flood+=($!)
done
sleep 1
logins=()
answers=()
statuses=()
lok=1
for i in 1 2 3 4 5; do
	out=$(probe -T -b 127.0.1.5 127.0.0.1 "$MG_PORT" "$ALICE")
	echo "$out" | answer_is ok || lok=0
	logins+=("$(echo "$out" | sed -n 's/^elapsed \([0-9]*\) ms$/\1/p')")
	out=$("$HELPERS/ctlprobe" -N 2 "$MG_DIR/ctl.sock" '{"cmd":"status"}') ||
	    lok=0
	answers+=($(echo "$out" | sed -n 's/^elapsed \([0-9]*\) ms$/\1/p'))
	s=$(date +%s%N)
	ctl status >/dev/null || lok=0
	statuses+=($((($(date +%s%N) - s) / 1000000)))
done
burst=()
for i in $(seq 1 20); do
	attempt 127.0.6.$i "burst$i" "$WRONG" >"$MG_DIR/burst.$i" 2>&1 &
	burst+=($!)
done
wait "${burst[@]}"
running=0
for p in "${flood[@]}"; do
	kill -0 "$p" 2>/dev/null && running=$((running + 1))
done
wait "${flood[@]}"
checked=$(cat "$MG_DIR"/flood.* | grep -c "wrong user name or password")
busy=$(cat "$MG_DIR"/burst.* | grep -c '"error":"busy".*try again in a moment')
bchecked=$(cat "$MG_DIR"/burst.* | grep -c "wrong user name or password")
max() { printf '%s\n' "$@" | sort -n | tail -n 1; }
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
echo "# alice's login alone: ${alone} ms; under the flood (ms): ${logins[*]}"
echo "# status under the flood, the daemon's answer (ms): ${answers[*]}"
echo "# status under the flood, the whole mcpgatectl command (ms): ${statuses[*]}"
echo "# the flood: $checked wrong passwords checked; the burst: $bchecked checked, $busy told to try again"
[ "$checked" -ge 100 ] && [ "$running" -ge 8 ] &&
    pass "the flood ran throughout the measurements: $checked wrong passwords checked" ||
    fail "the flood ran" "$checked checked, $running clients running at the end"
[ "$busy" -ge 1 ] && [ "$bchecked" -ge 1 ] && [ $((busy + bchecked)) -eq 20 ] &&
    grep -q "login: [0-9]* attempts refused since the last such line: too many waiting for a password check" "$MG_DIR/log" &&
    pass "20 at once from one prefix: $bchecked checked, $busy told to try again in a moment (logged)" ||
    fail "a burst from one prefix" "$bchecked checked, $busy busy"
lmax=$(max "${logins[@]}")
amax=$(max "${answers[@]}")
[ $lok = 1 ] && [ "$lmax" -lt 1000 ] &&
    pass "alice logs in from another prefix within 1 s under the flood (median $(median "${logins[@]}") ms, max $lmax ms)" ||
    fail "a login under the flood" "ok=$lok, times ${logins[*]} ms"
[ $lok = 1 ] && [ "$(median "${answers[@]}")" -lt 100 ] && [ "$amax" -lt 250 ] &&
    pass "status is answered within 100 ms under the flood (median $(median "${answers[@]}") ms, max $amax ms; with mcpgatectl's start-up median $(median "${statuses[@]}") ms)" ||
    fail "status under the flood" "answers ${answers[*]} ms; commands ${statuses[*]} ms"
kill -0 "$MG_PID" && ctl status >/dev/null &&
    pass "the daemon serves after the flood" || fail "the daemon after the flood" "gone"
mg_stop
