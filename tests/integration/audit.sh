# The audit log: rotation with the chain running through the files,
# verification that catches every kind of tampering, search and tail.
. "$(dirname "$0")/lib.sh"

MG_MAX_FILE=64KiB mg_setup </dev/null
mg_start

# --- tail -f sees new records as they are written ----------------------------
ctl audit tail -f -n 1 >"$MG_DIR/tail" 2>&1 &
tailer=$!
sleep 0.4
ctl reload >/dev/null
for i in $(seq 1 40); do
	grep -q "daemon.reload" "$MG_DIR/tail" && break
	sleep 0.05
done
grep -q "daemon.start" "$MG_DIR/tail" && grep -q "daemon.reload" "$MG_DIR/tail" &&
    pass "audit tail -f prints the last record, then new ones as they come" ||
    fail "audit tail -f" "$(cat "$MG_DIR/tail")"

ctl audit tail -f -n 0 >"$MG_DIR/tail0" 2>&1 &
tailer0=$!
sleep 0.4
ctl reload >/dev/null
for i in $(seq 1 40); do
	grep -q "daemon.reload" "$MG_DIR/tail0" && break
	sleep 0.05
done
kill "$tailer0"
wait "$tailer0" 2>/dev/null
[ "$(wc -l <"$MG_DIR/tail0")" -eq 1 ] && grep -q "daemon.reload" "$MG_DIR/tail0" &&
    pass "audit tail -f -n 0 prints only what comes next" ||
    fail "audit tail -f -n 0" "$(cat "$MG_DIR/tail0")"

# --- rotation: enough reloads to fill 64 KiB files ------------------------------
for i in $(seq 1 600); do
	ctl reload >/dev/null || break
done
nfiles=$(ls "$MG_DIR"/audit/audit-*.jsonl | wc -l)
[ "$nfiles" -ge 2 ] && pass "the log rotates at max_file_size ($nfiles files)" ||
    fail "the log rotates at max_file_size" "$nfiles file"
big=0
for f in "$MG_DIR"/audit/audit-*.jsonl; do
	[ "$(stat -c %s "$f")" -gt 65536 ] && big=1
done
[ $big -eq 0 ] && pass "no file grows past max_file_size" ||
    fail "no file grows past max_file_size" "$(ls -l "$MG_DIR/audit")"
first=$(ls "$MG_DIR"/audit/audit-*.jsonl | head -n 1)
second=$(ls "$MG_DIR"/audit/audit-*.jsonl | sed -n 2p)
[ "$(tail -n 1 "$first" | jq -r .event)" = audit.checkpoint ] &&
    pass "each rotated file ends with a signed checkpoint" ||
    fail "each rotated file ends with a signed checkpoint" \
    "$(tail -n 1 "$first" | cut -c1-100)"
n=$(basename "$second" .jsonl | sed 's/audit-0*//')
[ "$(head -n 1 "$second" | jq -r .seq)" = "$n" ] &&
    [ "$(head -n 1 "$second" | jq -r .prev)" = "$(tail -n 1 "$first" |
    tr -d '\n' | sha256sum | cut -d' ' -f1)" ] &&
    pass "the next file is named by its first record and continues the chain" ||
    fail "the next file continues the chain" "$(head -n 1 "$second")"
sleep 0.5
kill "$tailer" 2>/dev/null
wait "$tailer" 2>/dev/null
got=$(grep -c "daemon.reload" "$MG_DIR/tail")
[ "$got" -eq 602 ] && pass "tail -f followed the log across rotation (602 reloads)" ||
    fail "tail -f followed the log across rotation" "$got of 602 reloads"
mg_stop

out=$(ctl audit verify 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "intact: 6[0-9][0-9] records in $nfiles files" &&
    pass "audit verify checks the chain across rotated files" ||
    fail "audit verify across files" "$out"
out=$(ctl audit verify --format json)
[ "$(echo "$out" | jget .ok)" = true ] &&
    [ "$(echo "$out" | jget .signatures_checked)" = true ] &&
    [ "$(echo "$out" | jget .checkpoints)" -ge "$nfiles" ] &&
    pass "audit verify --format json" || fail "audit verify --format json" "$out"
out=$("$BIN/mcpgatectl" audit verify --key="$MG_DIR/state/audit.pub" \
    --anchor="$MG_DIR/state/audit.anchor" --format=json -c "$MG_CONF")
[ "$(echo "$out" | jget .ok)" = true ] &&
    [ "$(echo "$out" | jget .signatures_checked)" = true ] &&
    [ "$(echo "$out" | jget .anchor_seq)" != null ] &&
    pass "audit verify takes --key=FILE and --anchor=FILE, -c and --format after the command" ||
    fail "audit verify --name=value" "$out"

# --- tampering ------------------------------------------------------------------
t=$MG_DIR/tamper
mkdir "$t"
cp "$first" "$t/orig.jsonl"
verify_fails() {
	# verify_fails NAME FILE LINE: verify exits 1 naming FILE:LINE
	local name=$1 file=$2 line=$3 out
	out=$(ctl audit verify "$file" 2>&1)
	if [ $? -eq 1 ] && echo "$out" | grep -qF "$file:$line:"; then
		pass "verify catches $name, at $(basename "$file"):$line"
	else
		fail "verify catches $name" "$out"
	fi
}
out=$(ctl audit verify "$t/orig.jsonl" 2>&1)
[ $? -eq 0 ] && pass "a copy of one file verifies on its own" ||
    fail "a copy of one file verifies on its own" "$out"

# One byte changed in record 5: the chain breaks at record 6.
sed '5s/"trigger":"control"/"trigger":"contrOl"/' "$t/orig.jsonl" >"$t/byte.jsonl"
verify_fails "one changed byte" "$t/byte.jsonl" 6
# A record removed.
sed '7d' "$t/orig.jsonl" >"$t/removed.jsonl"
verify_fails "a removed record" "$t/removed.jsonl" 7
# Two records swapped.
sed -n '1,8p' "$t/orig.jsonl" >"$t/swapped.jsonl"
sed -n '10p' "$t/orig.jsonl" >>"$t/swapped.jsonl"
sed -n '9p' "$t/orig.jsonl" >>"$t/swapped.jsonl"
sed -n '11,$p' "$t/orig.jsonl" >>"$t/swapped.jsonl"
verify_fails "two swapped records" "$t/swapped.jsonl" 9
# A record inserted.
{ sed -n '1,3p' "$t/orig.jsonl"; sed -n '3p' "$t/orig.jsonl"
    sed -n '4,$p' "$t/orig.jsonl"; } >"$t/dup.jsonl"
verify_fails "a duplicated record" "$t/dup.jsonl" 4
# The last record is the checkpoint: one byte there breaks its signature.
last=$(wc -l <"$t/orig.jsonl")
sed "${last}s/\"records\":/\"records\":1/" "$t/orig.jsonl" >"$t/sig.jsonl"
verify_fails "a changed checkpoint" "$t/sig.jsonl" "$last"
# A rewritten tail with a recomputed chain still fails the signature.
head -n $((last - 1)) "$t/orig.jsonl" >"$t/forged.jsonl"
prev=$(sed -n "$((last - 1))p" "$t/orig.jsonl" | tr -d '\n' | sha256sum | cut -d' ' -f1)
sed -n "${last}p" "$t/orig.jsonl" |
    sed 's/"records":\([0-9]*\)/"records":999/' >>"$t/forged.jsonl"
verify_fails "a forged checkpoint" "$t/forged.jsonl" "$last"
# The checkpoint signed by another key.
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout >"$t/other.pub"
out=$(ctl audit verify --key "$t/other.pub" "$t/orig.jsonl" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "not by the audit key" &&
    pass "verify with another key fails at the first checkpoint" ||
    fail "verify with another key" "$out"
# A directory stands for its audit files, in the order of their numbers;
# a copy of the log is not held to the anchor, the audit directory is.
cp -r "$MG_DIR/audit" "$t/copy"
out=$(ctl audit verify "$t/copy" 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "intact: 6[0-9][0-9] records in $nfiles files" &&
    ! echo "$out" | grep -q "reaches the checkpoint" &&
    pass "verify DIR reads the audit files of a directory" ||
    fail "verify DIR" "$out"
out=$(ctl audit verify "$MG_DIR/audit/" 2>&1)
[ $? -eq 0 ] && [ "$out" = "$(ctl audit verify 2>&1)" ] &&
    echo "$out" | grep -q "reaches the checkpoint" &&
    pass "verify of the audit directory checks it as verify alone does" ||
    fail "verify of the audit directory" "$out"
sed -i '5s/"trigger":"control"/"trigger":"contrOl"/' "$t/copy/$(basename "$first")"
out=$(ctl audit verify "$t/copy" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -qF "$t/copy/$(basename "$first"):6:" &&
    pass "verify DIR finds a changed record in the directory's files" ||
    fail "verify DIR with a changed record" "$out"
mkdir "$t/none"
touch "$t/none/notes.txt"
out=$(ctl audit verify "$t/none" 2>&1)
[ $? -eq 1 ] && [ "$out" = "mcpgatectl: $t/none: no audit files (audit-*.jsonl) in this directory" ] &&
    pass "verify of a directory without audit files says so" ||
    fail "verify of a directory without audit files" "$out"
# A file in the middle of the chain removed.
cp -r "$MG_DIR/audit" "$t/dir"
rm "$t/dir/$(basename "$second")"
if [ "$nfiles" -ge 3 ]; then
	out=$(ctl audit verify "$t"/dir/audit-*.jsonl 2>&1)
	[ $? -eq 1 ] && echo "$out" | grep -q "where .* was expected" &&
	    pass "verify catches a missing file" ||
	    fail "verify catches a missing file" "$out"
	out=$(ctl audit verify "$t/dir" 2>&1)
	[ $? -eq 1 ] && echo "$out" | grep -q "where .* was expected" &&
	    pass "verify DIR catches a missing file" ||
	    fail "verify DIR catches a missing file" "$out"
fi

# --- a log cut short: the anchor in the state directory ------------------------
# The daemon keeps its newest synced checkpoint where the audit user cannot
# write; a log that ends before it fails, naming what is missing.
a=$MG_DIR/state/audit.anchor
[ -f "$a" ] && [ "$(jq -r .seq "$a")" = "$(tail -n 1 "$(ls "$MG_DIR"/audit/audit-*.jsonl |
    tail -n 1)" | jq -r .seq)" ] && [ "$(jq -r .sha256 "$a")" = "$(tail -n 1 \
    "$(ls "$MG_DIR"/audit/audit-*.jsonl | tail -n 1)" | tr -d '\n' | sha256sum |
    cut -d' ' -f1)" ] && [ "$(stat -c %u "$a")" = "$(id -u)" ] &&
    pass "the anchor in state_dir names the last checkpoint, the clean stop's" ||
    fail "the anchor names the last checkpoint" "$(cat "$a" 2>&1)"
last_seq=$(jq -r .seq "$a")
cp -a "$MG_DIR/audit" "$t/backup"
restore() {
	rm -rf "$MG_DIR/audit"
	cp -a "$t/backup" "$MG_DIR/audit"
}
# cut_fails NAME FROM: verify exits 1 and says records FROM to the
# anchor's are missing.
cut_fails() {
	local out
	out=$(ctl audit verify 2>&1)
	if [ $? -eq 1 ] && echo "$out" | grep -q "records $2 to $last_seq are missing"; then
		pass "verify fails when $1, naming records $2 to $last_seq"
	else
		fail "verify fails when $1" "$out"
	fi
	restore
}
newest=$(ls "$MG_DIR"/audit/audit-*.jsonl | tail -n 1)
rm "$newest"
cut_fails "the newest file is deleted" "$(basename "$newest" .jsonl | sed 's/audit-0*//')"
# A file cut at line 100 and the next, the newest, removed: its closing
# checkpoint is lost.
before=$(ls "$MG_DIR"/audit/audit-*.jsonl | tail -n 2 | head -n 1)
head -n 100 "$before" >"$t/cut" && cat "$t/cut" >"$before"
rm "$newest"
cut_fails "a file is cut at line 100 and the next removed" \
    "$(($(basename "$before" .jsonl | sed 's/audit-0*//') + 100))"
# Only the first 60 records kept.
for f in "$MG_DIR"/audit/audit-*.jsonl; do
	[ "$f" = "$first" ] || rm "$f"
done
head -n 60 "$first" >"$t/cut" && cat "$t/cut" >"$first"
cut_fails "only the first 60 records are kept" 61
# Every file removed.
rm "$MG_DIR"/audit/audit-*.jsonl
out=$(ctl audit verify 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "records 1 to $last_seq are missing; the log was removed" &&
    pass "verify fails when every file is removed" ||
    fail "verify fails when every file is removed" "$out"
restore
# The log rewritten from the anchor's record on.
jq -c --arg s "$last_seq" '.seq = ($s | tonumber) | .sha256 = ("0" * 64)' "$a" \
    >"$t/anchor"
out=$(ctl audit verify --anchor "$t/anchor" "$MG_DIR"/audit/audit-*.jsonl 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "record $last_seq is not the checkpoint that the daemon recorded" &&
    pass "verify fails when the record at the anchor is not the one recorded" ||
    fail "verify against a different anchor" "$out"
out=$(ctl audit verify --anchor "$a" "$MG_DIR"/audit/audit-*.jsonl 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "reaches the checkpoint at seq $last_seq" &&
    pass "a copy of the log verifies against a copy of the anchor" ||
    fail "verify --anchor" "$out"
# Files removed from the start: reported, an error with --strict.
rm "$first"
out=$(ctl audit verify 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "warning: the chain starts at record $n: records 1 to $((n - 1)) are not here" &&
    pass "verify reports files removed from the start of the log" ||
    fail "verify reports files removed from the start" "$out"
out=$(ctl audit verify --strict 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "$(basename "$second"):1: the chain starts at record $n" &&
    pass "verify --strict fails when files were removed from the start" ||
    fail "verify --strict with files removed from the start" "$out"
restore
out=$(ctl audit verify --strict --format json)
[ $? -eq 0 ] && echo "$out" | is ".ok and .anchor_seq == $last_seq and .warnings == []" &&
    pass "verify --strict passes the whole log, up to the anchor" ||
    fail "verify --strict of the whole log" "$out"
# Only regular files, never through a symbolic link.
mv "$second" "$t/second"
ln -s "$t/second" "$second"
out=$(timeout 10 "$BIN/mcpgatectl" -c "$MG_CONF" audit verify 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "$(basename "$second"): a symbolic link; not followed" &&
    pass "verify refuses a file that is a symbolic link" ||
    fail "verify refuses a symbolic link" "$out"
rm "$second"
mkfifo "$second"
out=$(timeout 10 "$BIN/mcpgatectl" -c "$MG_CONF" audit verify 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "$(basename "$second"): not a regular file" &&
    pass "verify refuses a FIFO, without blocking on it" ||
    fail "verify refuses a FIFO" "$out"
restore
# An auditor who cannot read the state directory: a warning, an error with
# --strict.
mkdir -m 0755 "$t/ro" "$t/ro/audit"
mkdir -m 0700 "$t/ro/state"
cp "$MG_DIR"/audit/audit-*.jsonl "$MG_DIR/audit/audit.pub" "$t/ro/audit/"
chmod 0644 "$t"/ro/audit/*
cp "$a" "$t/ro/state/"
sed -e "s|$MG_DIR/state|$t/ro/state|" -e "s|$MG_DIR/audit|$t/ro/audit|" \
    "$MG_CONF" >"$t/ro/conf"
chmod 0755 "$t"
if [ "$(id -u)" -eq 0 ]; then
	share_bin
	out=$(as_user nobody mcpgatectl -c "$t/ro/conf" audit verify 2>&1)
	[ $? -eq 0 ] && echo "$out" |
	    grep -q "warning: cannot read the anchor .*Permission denied" &&
	    pass "an auditor who cannot read the anchor is warned" ||
	    fail "an unreadable anchor is a warning" "$out"
	out=$(as_user nobody mcpgatectl -c "$t/ro/conf" audit verify \
	    --strict 2>&1)
	[ $? -eq 1 ] && echo "$out" | grep -q "audit.anchor: Permission denied" &&
	    pass "an unreadable anchor fails verify --strict" ||
	    fail "an unreadable anchor with --strict" "$out"
else
	skip "an auditor who cannot read the anchor" "needs root to run mcpgatectl as nobody"
fi
rm "$t/ro/state/audit.anchor"
out=$("$BIN/mcpgatectl" -c "$t/ro/conf" audit verify --strict 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no anchor .*: whether the newest records are all there is not checked" &&
    pass "a log with checkpoints but no anchor fails verify --strict" ||
    fail "no anchor with --strict" "$out"

# --- search ----------------------------------------------------------------------
n=$(ctl audit search --event daemon.reload | wc -l)
[ "$n" -eq 602 ] && pass "search --event finds every reload" ||
    fail "search --event" "$n"
n=$("$BIN/mcpgatectl" audit search --event=daemon.reload -c "$MG_CONF" \
    --since=1h --format=json | jq -r .event | grep -c '^daemon.reload$')
[ "$n" -eq 602 ] &&
    pass "search takes --event=TYPE and --since=T, -c and --format after the command" ||
    fail "search --event=TYPE" "$n"
n=$(ctl audit search --event 'daemon.*' | wc -l)
[ "$n" -eq 604 ] && pass "search --event 'daemon.*' matches a prefix" ||
    fail "search --event 'daemon.*'" "$n"
n=$(ctl audit search --since 1h --event daemon.start | wc -l)
[ "$n" -eq 1 ] && pass "search --since with a duration" ||
    fail "search --since with a duration" "$n"
out=$(ctl audit search --until 2001-01-01 2>&1)
[ "$out" = "mcpgatectl: no matching records" ] &&
    pass "search --until a date before the log finds nothing, and says so" ||
    fail "search --until" "$out"
n=$(ctl audit search --user nobody --event daemon.reload | wc -l)
[ "$n" -eq 0 ] && pass "search --user filters on the user field" ||
    fail "search --user" "$n"
ctl audit search --format json --event daemon.stop | is '.event == "daemon.stop"' && pass "search --format json prints the records as written" ||
    fail "search --format json" "not JSON"
out=$(ctl audit search --since yesterday-ish 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q "is not a time" &&
    pass "search with a bad time is a usage error" ||
    fail "search with a bad time" "$out"
out=$(ctl audit tail -n 2)
[ "$(echo "$out" | wc -l)" -eq 2 ] && echo "$out" | tail -n 1 |
    grep -q "audit.checkpoint MG0100I" && pass "tail -n 2 prints the last two" ||
    fail "tail -n 2" "$out"
out=$("$BIN/mcpgatectl" audit tail -n1 -c "$MG_CONF" --format=json)
[ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | is '.event == "audit.checkpoint"' &&
    pass "tail -n1 -c CONF --format=json prints the last record as written" ||
    fail "tail -n1 --format=json" "$out"

# The audit commands need no daemon, but do need to read the directory.
if [ "$(id -u)" -eq 0 ]; then
	share_bin
	out=$(as_user nobody mcpgatectl -c "$MG_CONF" audit verify 2>&1)
	[ $? -eq 1 ] && echo "$out" |
	    grep -qF "audit directory $MG_DIR/audit: Permission denied" &&
	    pass "a user who cannot read the audit directory is told so" ||
	    fail "unreadable audit directory" "$out"
else
	skip "unreadable audit directory" "needs root to run mcpgatectl as nobody"
fi

# --- while the daemon runs ---------------------------------------------------------
mg_setup </dev/null
mg_start
# Records written slowly: a checkpoint comes within 10 s of the first
# record it covers, and the anchor follows it.
got=
for i in $(seq 1 65); do
	[ $((i % 10)) -eq 0 ] && ctl reload >/dev/null
	got=$(jq -c 'select(.event == "audit.checkpoint")' \
	    "$MG_DIR"/audit/audit-*.jsonl | head -n 1)
	[ -n "$got" ] && break
	sleep 0.2
done
t0=$(jq -r 'select(.event == "daemon.start") | .time' "$MG_DIR"/audit/audit-*.jsonl)
secs=$(echo "$got" | jq -r --arg t0 "$t0" '(.time | sub("\\.[0-9]*Z$"; "Z") |
    fromdate) - ($t0 | sub("\\.[0-9]*Z$"; "Z") | fromdate)' 2>/dev/null)
[ -n "$got" ] && [ "$secs" -ge 9 ] && [ "$secs" -le 11 ] &&
    pass "while records come slowly a checkpoint follows within 10 s ($secs s)" ||
    fail "a checkpoint within 10 s" "after ${secs:-?} s: ${got:-none in 13 s}"
for i in $(seq 1 20); do
	[ "$(jq -r .seq "$MG_DIR/state/audit.anchor" 2>/dev/null)" = \
	    "$(echo "$got" | jq -r .seq)" ] && break
	sleep 0.1
done
[ "$(jq -r .seq "$MG_DIR/state/audit.anchor" 2>/dev/null)" = "$(echo "$got" | jq -r .seq)" ] &&
    pass "the anchor follows the checkpoint while the daemon runs" ||
    fail "the anchor follows the checkpoint" "$(cat "$MG_DIR/state/audit.anchor" 2>&1)"
out=$(ctl audit verify --strict 2>&1)
[ $? -eq 0 ] && pass "a running daemon's log verifies with --strict" ||
    fail "a running daemon's log verifies" "$out"

# tamper_seen WHAT: an audit.tamper record of WHAT appears within 2 s;
# prints the milliseconds it took.
tamper_seen() {
	local i start=$(date +%s%N)
	for i in $(seq 1 40); do
		if cat "$MG_DIR"/audit/audit-*.jsonl 2>/dev/null |
		    grep -q "\"event\":\"audit.tamper\".*\"what\":\"$1\""; then
			echo $((($(date +%s%N) - start) / 1000000))
			return 0
		fi
		sleep 0.05
	done
	return 1
}
# The current file deleted: noticed within about a second, restored from
# the descriptor auditd holds, with every record, and written on.
cur=$(ctl status --format json | jget .audit.file)
records=$(wc -l <"$cur")
ino=$(stat -c %i "$cur")
rm "$cur"
if ms=$(tamper_seen removed); then
	pass "deleting the current file is noticed (${ms} ms)"
else
	fail "deleting the current file is noticed" "$(ls -l "$MG_DIR/audit"; tail -n 3 "$MG_DIR/log")"
fi
grep -q "auditd: $(basename "$cur") was removed while auditd was writing it; it is restored" \
    "$MG_DIR/log" && [ -f "$cur" ] && [ "$(stat -c %i "$cur")" != "$ino" ] &&
    [ "$(wc -l <"$cur")" -eq $((records + 1)) ] &&
    pass "the removed file is logged, restored as a new file with every record" ||
    fail "the removed file is restored" "$(ls -li "$MG_DIR/audit"; tail -n 3 "$MG_DIR/log")"
ctl reload >/dev/null
tail -n 1 "$cur" | grep -q daemon.reload &&
    pass "later records land in the restored file" ||
    fail "later records land in the restored file" "$(tail -n 2 "$cur")"
# The current file replaced: a new file continues the chain.
cp "$cur" "$MG_DIR/copy" && mv "$MG_DIR/copy" "$cur"
if ms=$(tamper_seen replaced); then
	pass "replacing the current file is noticed (${ms} ms)"
else
	fail "replacing the current file is noticed" "$(ls -l "$MG_DIR/audit")"
fi
ctl reload >/dev/null
new=$(ls "$MG_DIR"/audit/audit-*.jsonl | tail -n 1)
[ "$new" != "$cur" ] && head -n 1 "$new" | grep -q '"event":"audit.tamper"' &&
    tail -n 1 "$new" | grep -q daemon.reload &&
    pass "after a replaced file the chain goes on in a new file" ||
    fail "after a replaced file the chain goes on in a new file" "$(ls "$MG_DIR/audit")"
# The current file cut short: records are lost, and verify says so.
truncate -s -30 "$new"
if ms=$(tamper_seen "cut short"); then
	pass "cutting the current file short is noticed (${ms} ms)"
else
	fail "cutting the current file short is noticed" "$(ls -l "$MG_DIR/audit")"
fi
ctl reload >/dev/null
[ "$(ctl status --format json | jget .audit.failing)" = false ] &&
    pass "after each change the log is written on" ||
    fail "after each change the log is written on" "$(ctl status)"
mg_stop
out=$(ctl audit verify 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "torn last line\|where .* was expected" &&
    echo "$out" | grep -q "warning: at .* auditd found that $(basename "$cur"), which held records 1 to [0-9]*, was removed; it restored it" &&
    pass "verify reports each change and fails on the records that were cut" ||
    fail "verify after the changes" "$out"
