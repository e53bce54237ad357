# Apps: app_service.apps in the configuration and what mcpgated -n checks
# of each; kind: app resources created, shown and removed with mcpgatectl,
# audited; the configuration's apps and the store's never sharing a name;
# and what mcpgate mcp ls shows of them to users whose roles do and do
# not allow them.  HTTP and SSE apps likewise, read, checked, shown and
# audited; a session on one whose identity headers cannot be written for
# the user fails with the reason (http_session.sh has the rest).
. "$(dirname "$0")/lib.sh"
need_root "the apps' users are checked with getpwnam as the daemon would"

PW="correct horse battery"
T=$(mktemp -d /tmp/mgapps.XXXXXX)
MG_TMPS+=("$T")
chmod 0755 "$T"
unset XDG_CONFIG_HOME MCPGATE_HOME

# conf FILE: a configuration of stdin's app_service.apps entries.
conf() {
	{
		printf 'version: v1\napp_service:\n  apps:\n'
		cat
	} >"$1"
}

# --- app_service.apps and mcpgated -n ----------------------------------------
mkdir -p "$T/work" "$T/ro" "$T/rw"
printf '#!/bin/sh\n' >"$T/noexec"
chmod 0644 "$T/noexec"
conf "$T/good.conf" <<EOF
  - name: everything
    description: "The reference test server"
    labels: {env: dev, team: platform}
    uri: mcp+stdio://
    mcp:
      command: /bin/cat
      args: ["-u"]
      run_as_host_user: nobody
      env: {LOG_LEVEL: info}
      cwd: $T/work
      init_timeout: 10s
      sandbox:
        network: none
        read_only_paths: [$T/ro, /usr]
        writable_paths: [$T/rw]
        memory_max: 512MiB
        tasks_max: 64
  - name: memory
    mcp: {command: /bin/cat, run_as_host_user: nobody}
EOF
out=$("$BIN/mcpgated" -n -f "$T/good.conf" 2>&1)
[ $? -eq 0 ] && [ "$out" = "configuration OK" ] &&
    pass "-n: apps that can run: configuration OK" ||
    fail "-n: apps that can run: configuration OK" "$out"

# Each problem -n finds, one app each, named with the app.
conf "$T/bad.conf" <<EOF
  - name: missing
    mcp: {command: $T/no-such-program, run_as_host_user: nobody}
  - name: a-directory
    mcp: {command: $T/work, run_as_host_user: nobody}
  - name: no-x-bit
    mcp: {command: $T/noexec, run_as_host_user: nobody}
  - name: no-user
    mcp: {command: /bin/cat, run_as_host_user: mg-no-such-user}
  - name: no-cwd
    mcp: {command: /bin/cat, run_as_host_user: nobody, cwd: $T/gone}
  - name: cwd-file
    mcp: {command: /bin/cat, run_as_host_user: nobody, cwd: $T/noexec}
  - name: no-ro
    mcp:
      command: /bin/cat
      run_as_host_user: nobody
      sandbox: {read_only_paths: [$T/no-ro]}
  - name: no-rw
    mcp:
      command: /bin/cat
      run_as_host_user: nobody
      sandbox: {writable_paths: [$T/no-rw]}
EOF
out=$("$BIN/mcpgated" -n -f "$T/bad.conf" 2>&1)
st=$?
[ $st -eq 1 ] && ! echo "$out" | grep -q "configuration OK" &&
    pass "-n: an app that cannot run exits 1" ||
    fail "-n: an app that cannot run exits 1" "$st: $out"
for want in \
    "app 'missing': command $T/no-such-program: No such file or directory" \
    "app 'a-directory': command $T/work is not a regular file" \
    "app 'no-x-bit': command $T/noexec is not executable (it has no x bit)" \
    "app 'no-user': run_as_host_user mg-no-such-user does not exist" \
    "app 'no-cwd': cwd $T/gone: No such file or directory" \
    "app 'cwd-file': cwd $T/noexec is not a directory" \
    "app 'no-ro': read_only_paths: $T/no-ro: No such file or directory" \
    "app 'no-rw': writable_paths: $T/no-rw: No such file or directory"; do
	echo "$out" | grep -qF "$T/bad.conf: $want" &&
	    pass "-n says: ${want%%:*}: ${want#*: }" ||
	    fail "-n says: $want" "$out"
done
[ "$(echo "$out" | wc -l)" -eq 8 ] &&
    pass "-n: one line a problem, nothing for the good apps" ||
    fail "-n: one line a problem, nothing for the good apps" "$out"

# A user of uid 0 that is not called root.
uid0=mgt-uid0-$$
if useradd -o -u 0 -g 0 -M -N -d / -s /usr/sbin/nologin "$uid0" \
    2>/dev/null; then
	conf "$T/uid0.conf" <<EOF
  - name: as-root
    mcp: {command: /bin/cat, run_as_host_user: $uid0}
EOF
	out=$("$BIN/mcpgated" -n -f "$T/uid0.conf" 2>&1)
	st=$?
	userdel "$uid0" 2>/dev/null
	[ $st -eq 1 ] && echo "$out" | grep -qF \
	    "app 'as-root': run_as_host_user $uid0 has uid 0" &&
	    pass "-n: a run_as_host_user of uid 0 is refused, whatever its name" ||
	    fail "-n: a run_as_host_user of uid 0 is refused" "$st: $out"
else
	fail "-n: a run_as_host_user of uid 0 is refused" "useradd failed"
fi

# Parse errors name the file, line and column.
conf "$T/syntax.conf" <<EOF
  - name: a
    mcp: {command: /bin/cat, run_as_host_user: nobody}
  - name: a
    mcp: {command: /bin/cat, run_as_host_user: root}
  - name: mcpgate-demo
    mcp: {command: /bin/cat, run_as_host_user: nobody}
  - name: web
    uri: https://mcp.example.org/
    mcp: {command: /bin/cat, run_as_host_user: nobody}
EOF
out=$("$BIN/mcpgated" -n -f "$T/syntax.conf" 2>&1)
st=$?
[ $st -eq 1 ] &&
    echo "$out" | grep -qF "syntax.conf:7:48: 'run_as_host_user' may not be root" &&
    echo "$out" | grep -qF "syntax.conf:8:11: 'mcpgate-demo' is the name of the built-in demo server" &&
    echo "$out" | grep -qF "syntax.conf:11:10: uri 'https://mcp.example.org/' needs the transport in its scheme: mcp+http(s):// for Streamable HTTP, mcp+sse+http(s):// for SSE" &&
    pass "-n: an app's errors name the file, line and column" ||
    fail "-n: an app's errors name the file, line and column" "$st: $out"
conf "$T/twice.conf" <<EOF
  - name: a
    mcp: {command: /bin/cat, run_as_host_user: nobody}
  - name: a
    mcp: {command: /bin/true, run_as_host_user: nobody}
EOF
out=$("$BIN/mcpgated" -n -f "$T/twice.conf" 2>&1)
[ $? -eq 1 ] &&
    echo "$out" | grep -qF "twice.conf:6:5: app 'a' is in app_service.apps twice" &&
    pass "-n: two apps of one name are refused" ||
    fail "-n: two apps of one name are refused" "$out"

# --- HTTP and SSE apps: -n -----------------------------------------------------
openssl req -x509 -newkey ed25519 -nodes -keyout "$T/ca.key" \
    -out "$T/ca.pem" -subj /CN=apps-test-ca -days 1 2>/dev/null ||
    fail "setup: a test CA" "openssl req failed"
ln -s "$T/ca.pem" "$T/ca-link.pem"
conf "$T/http.conf" <<EOF
  - name: tickets
    description: "Ticket system"
    labels: {env: prod}
    uri: mcp+https://tickets.internal.example:8443/mcp
    tls:
      ca_file: $T/ca.pem
      insecure_skip_verify: false
    rewrite:
      jwt_claims: roles-and-traits
      headers:
      - "Authorization: Bearer {{internal.jwt}}"
      - "X-Mcpgate-User: {{internal.user}}"
      - "X-Team: {{external.team}}"
    timeout: 60s
  - name: linked-ca
    uri: mcp+https://h.example/mcp
    tls: {ca_file: $T/ca-link.pem}
  - name: legacy
    uri: mcp+sse+http://127.0.0.1:3001/sse
  - name: trusting
    uri: mcp+https://[::1]:8443/mcp
    tls: {insecure_skip_verify: true}
EOF
out=$("$BIN/mcpgated" -n -f "$T/http.conf" 2>&1)
st=$?
[ $st -eq 0 ] && [ "$(echo "$out" | tail -n 1)" = "configuration OK" ] &&
    echo "$out" | grep -qF "http.conf: app 'trusting': warning: tls.insecure_skip_verify is true: the server's certificate is not verified" &&
    [ "$(echo "$out" | wc -l)" -eq 2 ] &&
    pass "-n: HTTP and SSE apps are OK, insecure_skip_verify warned of" ||
    fail "-n: HTTP and SSE apps are OK, insecure_skip_verify warned of" "$st: $out"

mkdir "$T/ca-dir"
head -c $((1024 * 1024 + 1)) /dev/zero >"$T/big.pem"
echo "not a certificate" >"$T/text.pem"
cp "$T/ca.key" "$T/key-only.pem"
conf "$T/http-bad.conf" <<EOF
  - name: no-ca
    uri: mcp+https://h/mcp
    tls: {ca_file: $T/no-such-ca.pem}
  - name: ca-dir
    uri: mcp+https://h/mcp
    tls: {ca_file: $T/ca-dir}
  - name: big-ca
    uri: mcp+https://h/mcp
    tls: {ca_file: $T/big.pem}
  - name: text-ca
    uri: mcp+https://h/mcp
    tls: {ca_file: $T/text.pem}
  - name: key-ca
    uri: mcp+https://h/mcp
    tls: {ca_file: $T/key-only.pem}
EOF
out=$("$BIN/mcpgated" -n -f "$T/http-bad.conf" 2>&1)
st=$?
[ $st -eq 1 ] && ! echo "$out" | grep -q "configuration OK" &&
    pass "-n: an HTTP app whose CA file is wrong exits 1" ||
    fail "-n: an HTTP app whose CA file is wrong exits 1" "$st: $out"
for want in \
    "app 'no-ca': tls.ca_file $T/no-such-ca.pem: No such file or directory" \
    "app 'ca-dir': tls.ca_file $T/ca-dir is not a regular file" \
    "app 'big-ca': tls.ca_file $T/big.pem is larger than 1 MiB" \
    "app 'text-ca': tls.ca_file $T/text.pem holds no certificate in PEM" \
    "app 'key-ca': tls.ca_file $T/key-only.pem holds no certificate in PEM"; do
	echo "$out" | grep -qF "$T/http-bad.conf: $want" &&
	    pass "-n says: ${want%%:*}: ${want#*: }" ||
	    fail "-n says: $want" "$out"
done

# The parser's errors: line and column, whatever the file's other apps.
conf "$T/http-syntax.conf" <<'EOF'
  - name: runs-nowhere
    uri: mcp+https://h.example/mcp
    mcp: {command: /bin/cat, run_as_host_user: nobody}
  - name: with-password
    uri: mcp+https://user:secret@h.example/mcp
  - name: plain-tls
    uri: mcp+http://h.example/mcp
    tls: {insecure_skip_verify: true}
  - name: stdio-timeout
    mcp: {command: /bin/cat, run_as_host_user: nobody}
    timeout: 10s
  - name: bad-headers
    uri: mcp+sse+https://h.example/sse
    rewrite:
      jwt_claims: everything
      headers:
      - "Host: elsewhere.example"
      - "X-Team: {{external.team}"
      - "X-Who: {{internal.password}}"
      - "X-A: 1"
      - "x-a: 2"
  - name: short-timeout
    uri: mcp+http://h.example:0/mcp
    timeout: 500ms
EOF
out=$("$BIN/mcpgated" -n -f "$T/http-syntax.conf" 2>&1)
st=$?
ok=1
for want in \
    "http-syntax.conf:6:10: an HTTP app has no mcp: block, it runs nowhere" \
    "http-syntax.conf:8:10: uri 'mcp+https://user:secret@h.example/mcp' holds user information (user:password@): credentials belong in rewrite.headers" \
    "http-syntax.conf:11:10: 'tls' is for an https server: uri mcp+http://h.example/mcp is plain http" \
    "http-syntax.conf:14:14: 'timeout' is for HTTP and SSE apps: app 'stdio-timeout' is a stdio server" \
    "http-syntax.conf:18:19: 'jwt_claims' must be roles-and-traits, roles, traits or none, not 'everything'" \
    "http-syntax.conf:20:9: header Host is one the gateway sets itself" \
    "http-syntax.conf:21:9: header X-Team: '{{external.team}' opens a placeholder with '{{' that no '}}' closes" \
    "http-syntax.conf:22:9: header X-Who: '{{internal.password}}' is not a placeholder" \
    "http-syntax.conf:24:9: header x-a is given twice" \
    "http-syntax.conf:26:10: uri 'mcp+http://h.example:0/mcp': the port must be a number from 1 to 65535" \
    "http-syntax.conf:27:14: 'timeout' must be between 1000ms and 3600s"; do
	echo "$out" | grep -qF "$want" || { ok=0; echo "missing: $want" >&2; }
done
[ $st -eq 1 ] && [ $ok -eq 1 ] &&
    pass "-n: an HTTP app's errors name the file, line and column" ||
    fail "-n: an HTTP app's errors name the file, line and column" "$st: $out"

# --- a daemon with a configured app ------------------------------------------
mg_setup <<EOF
app_service:
  mcp_demo_server: true
  apps:
  - name: configured
    description: "From the file"
    labels: {env: dev}
    mcp: {command: /bin/cat, run_as_host_user: nobody}
  - name: configured-http
    description: "Streamable HTTP, from the file"
    labels: {env: dev}
    uri: mcp+https://127.0.0.1:9/mcp
    tls: {ca_file: $T/ca.pem}
    rewrite:
      headers: ["Authorization: Bearer {{internal.jwt}}"]
  - name: configured-sse
    labels: {env: dev}
    uri: mcp+sse+http://localhost:9/sse
EOF
mg_start || exit 1

cat >"$T/app.yaml" <<EOF
kind: app
version: v1
metadata:
  name: everything
  description: "The reference test server"
  labels: {env: dev, team: platform}
spec:
  uri: mcp+stdio://
  mcp:
    command: /bin/cat
    args: ["-u", "--"]
    run_as_host_user: nobody
    env: {LOG_LEVEL: info, API_TOKEN: "s3cret-value"}
    cwd: $T/work
    init_timeout: 5s
    sandbox:
      network: none
      writable_paths: [$T/rw]
      memory_max: 256MiB
      tasks_max: 32
EOF
out=$(ctl create -f "$T/app.yaml" 2>&1)
[ $? -eq 0 ] && [ "$out" = "app/everything created" ] &&
    pass "create: kind: app" || fail "create: kind: app" "$out"
[ -f "$MG_DIR/state/apps/everything.yaml" ] &&
    [ "$(stat -c %a "$MG_DIR/state/apps/everything.yaml")" = 600 ] &&
    pass "create: the app is kept in state_dir/apps, mode 0600" ||
    fail "create: the app is kept in state_dir/apps" "$(ls -l "$MG_DIR/state/apps" 2>&1)"
sleep 0.3
audit_has '.event == "app.create" and .app == "everything" and
    .command == "/bin/cat" and .run_as_host_user == "nobody" and
    .args == ["-u", "--"] and .env == ["LOG_LEVEL", "API_TOKEN"] and
    .code == "MG1030I" and (.admin_uid | type) == "number"' &&
    ! grep -q "s3cret-value" "$MG_DIR"/audit/audit-*.jsonl &&
    pass "create: audited as app.create, env by names only" ||
    fail "create: audited as app.create" "$(grep app\\. "$MG_DIR"/audit/audit-*.jsonl)"

out=$(ctl get app/everything 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -qF 'command: "/bin/cat"' &&
    echo "$out" | grep -qF 'run_as_host_user: "nobody"' &&
    echo "$out" | grep -qF '"API_TOKEN": "s3cret-value"' &&
    echo "$out" | grep -qF 'network: none' &&
    echo "$out" | grep -qF 'memory_max: 256MiB' &&
    pass "get app/NAME: the whole app, to root" ||
    fail "get app/NAME: the whole app, to root" "$out"
# What get prints, create --force takes back unchanged.
echo "$out" >"$T/back.yaml"
out2=$(ctl create --force -f "$T/back.yaml" 2>&1) &&
    [ "$(ctl get app/everything)" = "$out" ] &&
    pass "get's output goes back to create --force unchanged" ||
    fail "get's output goes back to create --force unchanged" "$out2"
sleep 0.3
audit_has '.event == "app.update" and .app == "everything" and .code == "MG1031I"' &&
    pass "create --force: audited as app.update" ||
    fail "create --force: audited as app.update" ""
out=$(ctl get apps 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -qF 'name: "everything"' &&
    ! echo "$out" | grep -qF 'configured' &&
    pass "get apps: those created with mcpgatectl" ||
    fail "get apps: those created with mcpgatectl" "$out"
out=$(ctl create -f "$T/app.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -qF "app 'everything' exists: give --force" &&
    pass "create: an app that exists needs --force" ||
    fail "create: an app that exists needs --force" "$out"

# The configuration's names are its own.
sed 's/name: everything/name: configured/' "$T/app.yaml" >"$T/clash.yaml"
out=$(ctl create --force -f "$T/clash.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -qF "app 'configured' is in the configuration file (app_service.apps): change it there" &&
    [ ! -e "$MG_DIR/state/apps/configured.yaml" ] &&
    pass "create: the name of a configured app is refused" ||
    fail "create: the name of a configured app is refused" "$out"
out=$(ctl get app/configured 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -qF "app 'configured' is in the configuration file" &&
    pass "get app/NAME of a configured app says where it is" ||
    fail "get app/NAME of a configured app says where it is" "$out"
out=$(ctl rm app/configured 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -qF "remove it there and reload" &&
    pass "rm app/NAME of a configured app says where it is" ||
    fail "rm app/NAME of a configured app says where it is" "$out"

# Bad resources: line and column, nothing created.
cat >"$T/bad.yaml" <<EOF
kind: app
version: v1
metadata:
  name: bad
spec:
  mcp:
    command: /bin/cat
    run_as_host_user: root
EOF
out=$(ctl create -f "$T/bad.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -qF "$T/bad.yaml:8:23: 'run_as_host_user' may not be root" &&
    [ ! -e "$MG_DIR/state/apps/bad.yaml" ] &&
    pass "create: a bad app is refused with line and column" ||
    fail "create: a bad app is refused with line and column" "$out"

out=$(ctl rm app/everything 2>&1)
[ $? -eq 0 ] && [ "$out" = "app/everything removed" ] &&
    [ ! -e "$MG_DIR/state/apps/everything.yaml" ] &&
    pass "rm app/NAME" || fail "rm app/NAME" "$out"
sleep 0.3
audit_has '.event == "app.delete" and .app == "everything" and .code == "MG1032I"' &&
    pass "rm: audited as app.delete" || fail "rm: audited as app.delete" ""
out=$(ctl rm app/everything 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -qF "there is no app 'everything'" &&
    pass "rm app/NAME of no app" || fail "rm app/NAME of no app" "$out"

# --- what users see: mcp ls -------------------------------------------------
MG=$BIN/mcpgate
GW=127.0.0.1:$MG_PORT
as() {
	local u=$1
	shift
	MCPGATE_HOME=$MG_DIR/home-$u "$@"
}
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
ctl create -f - >/dev/null <<'EOF2'
kind: role
version: v1
metadata: {name: dev-apps}
spec:
  allow:
    app_labels: {env: dev}
    mcp: {tools: ['read_*', '{{internal.mcp_tools}}']}
  deny:
    mcp: {tools: ['delete_*']}
---
kind: role
version: v1
metadata: {name: prod-apps}
spec:
  allow:
    app_labels: {env: prod}
    mcp: {tools: ['*']}
EOF2
ctl create -f "$T/app.yaml" >/dev/null &&
    newuser alice --roles dev-apps --mcp-tools search_files &&
    newuser bob --roles prod-apps ||
    fail "setup: roles, users and their logins" "$(tail -5 "$MG_DIR/log")"

json=$(as alice "$MG" --format json mcp ls 2>&1)
echo "$json" | is 'map(select(.name == "everything"))[0] |
    .type == "stdio" and .description == "The reference test server" and
    .labels == {"env": "dev", "team": "platform"} and
    .tools.allowed == ["read_*", "search_files"] and
    .tools.denied == ["delete_*"] and .tools.all == false' &&
    echo "$json" | is 'map(select(.name == "configured"))[0] |
        .type == "stdio" and .description == "From the file"' &&
    pass "mcp ls: stdio apps, with type, description, labels and the roles' tool patterns" ||
    fail "mcp ls: stdio apps with type, description, labels, patterns" "$json"
out=$(as alice "$MG" mcp ls -v 2>&1)
echo "$out" | grep -E "^everything +The reference test server +stdio +read_\*, search_files +delete_\* +env=dev,team=platform" >/dev/null &&
    echo "$out" | grep -E "^configured .* stdio " >/dev/null &&
    pass "mcp ls -v: Type stdio, allowed and denied patterns, labels" ||
    fail "mcp ls -v: Type stdio, allowed and denied patterns, labels" "$out"
json=$(as bob "$MG" --format json mcp ls 2>&1)
echo "$json" | is 'map(.name) | index("everything") == null and
    index("configured") == null' &&
    pass "mcp ls: a user whose roles do not select an app does not see it" ||
    fail "mcp ls: a user whose roles do not select an app does not see it" "$json"

# --- HTTP and SSE apps created with mcpgatectl --------------------------------
cat >"$T/http-app.yaml" <<EOF
kind: app
version: v1
metadata:
  name: tickets
  description: "Ticket system"
  labels: {env: dev}
spec:
  uri: mcp+https://tickets.internal.example:8443/mcp?tenant=a
  tls:
    ca_file: $T/ca.pem
    insecure_skip_verify: false
  rewrite:
    jwt_claims: roles
    headers:
    - "Authorization: Bearer {{internal.jwt}}"
    - "X-Api-Key: k3y-s3cret-literal"
    - "X-Team: {{ external.team }}"
  timeout: 90s
EOF
out=$(ctl create -f "$T/http-app.yaml" 2>&1)
[ $? -eq 0 ] && [ "$out" = "app/tickets created" ] &&
    pass "create: kind: app with a Streamable HTTP uri" ||
    fail "create: kind: app with a Streamable HTTP uri" "$out"
sleep 0.3
audit_has '.event == "app.create" and .app == "tickets" and
    .uri == "mcp+https://tickets.internal.example:8443/mcp?tenant=a" and
    .headers == ["Authorization", "X-Api-Key", "X-Team"] and
    .ca_file == "'"$T/ca.pem"'" and .insecure_skip_verify == false and
    (has("command") | not) and .code == "MG1030I"' &&
    ! grep -q "k3y-s3cret-literal" "$MG_DIR"/audit/audit-*.jsonl &&
    ! grep -q "internal.jwt" "$MG_DIR"/audit/audit-*.jsonl &&
    pass "create: audited with the uri and the headers' names only" ||
    fail "create: audited with the uri and the headers' names only" \
    "$(grep '"app.create"' "$MG_DIR"/audit/audit-*.jsonl | tail -1)"
out=$(ctl get app/tickets 2>&1)
[ $? -eq 0 ] &&
    echo "$out" | grep -qF 'uri: "mcp+https://tickets.internal.example:8443/mcp?tenant=a"' &&
    echo "$out" | grep -qF "ca_file: \"$T/ca.pem\"" &&
    echo "$out" | grep -qF 'insecure_skip_verify: false' &&
    echo "$out" | grep -qF 'jwt_claims: roles' &&
    echo "$out" | grep -qF '"X-Api-Key: k3y-s3cret-literal"' &&
    echo "$out" | grep -qF '"X-Team: {{ external.team }}"' &&
    echo "$out" | grep -qF 'timeout: 90s' &&
    ! echo "$out" | grep -q 'mcp:' &&
    pass "get app/NAME: an HTTP app's tls, rewrite and timeout" ||
    fail "get app/NAME: an HTTP app's tls, rewrite and timeout" "$out"
echo "$out" >"$T/http-back.yaml"
out2=$(ctl create --force -f "$T/http-back.yaml" 2>&1) &&
    [ "$(ctl get app/tickets)" = "$out" ] &&
    pass "get's output of an HTTP app goes back to create --force unchanged" ||
    fail "get's output of an HTTP app goes back to create --force unchanged" "$out2"
sleep 0.3
audit_has '.event == "app.update" and .app == "tickets" and .code == "MG1031I"' &&
    pass "create --force of an HTTP app: audited as app.update" ||
    fail "create --force of an HTTP app: audited as app.update" ""
cat >"$T/sse-app.yaml" <<'EOF'
kind: app
version: v1
metadata:
  name: legacy
  labels: {env: dev}
spec:
  uri: mcp+sse+http://[::1]:3001/sse
EOF
out=$(ctl create -f "$T/sse-app.yaml" 2>&1)
[ $? -eq 0 ] && [ "$out" = "app/legacy created" ] &&
    ctl get app/legacy | grep -qF 'timeout: 60s' &&
    ctl get app/legacy | grep -qF 'jwt_claims: roles-and-traits' &&
    ! ctl get app/legacy | grep -q 'tls:' &&
    pass "create: an SSE app, with the defaults" ||
    fail "create: an SSE app, with the defaults" "$out $(ctl get app/legacy 2>&1)"
cat >"$T/http-bad.yaml" <<'EOF'
kind: app
version: v1
metadata:
  name: bad-http
spec:
  uri: mcp+https://h.example/mcp
  rewrite:
    headers: ["Authorization: Bearer {{internal.jwt}}", "authorization: x"]
  mcp: {command: /bin/cat, run_as_host_user: nobody}
EOF
out=$(ctl create -f "$T/http-bad.yaml" 2>&1)
[ $? -ne 0 ] &&
    echo "$out" | grep -qF "$T/http-bad.yaml:8:57: header authorization is given twice" &&
    echo "$out" | grep -qF "$T/http-bad.yaml:9:8: an HTTP app has no mcp: block, it runs nowhere" &&
    [ ! -e "$MG_DIR/state/apps/bad-http.yaml" ] &&
    pass "create: a bad HTTP app is refused with line and column" ||
    fail "create: a bad HTTP app is refused with line and column" "$out"

# What users see of them: their type.
json=$(as alice "$MG" --format json mcp ls 2>&1)
echo "$json" | is 'map(select(.name == "tickets"))[0] |
    .type == "Streamable HTTP" and .description == "Ticket system" and
    .tools.allowed == ["read_*", "search_files"]' &&
    echo "$json" | is 'map(select(.name == "legacy"))[0].type == "SSE"' &&
    echo "$json" | is 'map(select(.name == "configured-http"))[0].type ==
        "Streamable HTTP"' &&
    echo "$json" | is 'map(select(.name == "configured-sse"))[0].type == "SSE"' &&
    ! echo "$json" | grep -qE 'tickets.internal|k3y|8443|ca.pem' &&
    pass "mcp ls: HTTP and SSE apps' type, and nothing of how they are reached" ||
    fail "mcp ls: HTTP and SSE apps' type" "$json"
out=$(as alice "$MG" mcp ls 2>&1)
echo "$out" | grep -E "^tickets +Ticket system +Streamable HTTP +read_\*, search_files +env=dev" >/dev/null &&
    echo "$out" | grep -E "^legacy +SSE +read_\*" >/dev/null &&
    pass "mcp ls: Type Streamable HTTP and SSE" ||
    fail "mcp ls: Type Streamable HTTP and SSE" "$out"

# A session whose header the user has no trait for fails with the
# reason, from the parent; others are served meanwhile.
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"apps.sh","version":"1"}}}'
out=$({ printf '%s\n' "$INIT"; sleep 2; } | user_session alice 10 tickets 2>&1)
echo "$out" | has '.id == 1 and .error.code == -32000 and
    (.error.message | test("app tickets: header X-Team: the user has no trait team; a header takes one value"))' &&
    grep -q "of alice: app tickets: header X-Team: the user has no trait team" "$MG_DIR/log" &&
    pass "a session on tickets fails: alice has no trait team for its header" ||
    fail "a session on tickets fails: alice has no trait team for its header" "$out"

sleep 0.3
audit_has '.event == "mcp.session.end" and .app == "tickets" and
    .reason == "server_failed"' &&
    pass "the session's end is audited with reason server_failed" ||
    fail "the session's end is audited with reason server_failed" \
    "$(grep session.end "$MG_DIR"/audit/audit-*.jsonl | tail -2)"
newuser carol --roles mcp-user ||
    fail "setup: carol's login" "$(tail -5 "$MG_DIR/log")"
out=$({ printf '%s\n' "$INIT" '{"jsonrpc":"2.0","id":9,"method":"ping"}'; sleep 1; } |
    user_session carol 10 mcpgate-demo 2>&1)
echo "$out" | has '.id == 9 and .result != null' &&
    kill -0 "$MG_PID" &&
    pass "the gateway serves other sessions after those failures" ||
    fail "the gateway serves other sessions after those failures" "$out"
# The same app turned into a stdio one: users see the new type.
cat >"$T/legacy-stdio.yaml" <<'EOF'
kind: app
version: v1
metadata:
  name: legacy
  labels: {env: dev}
spec:
  mcp: {command: /bin/cat, run_as_host_user: nobody}
EOF
ctl create --force -f "$T/legacy-stdio.yaml" >/dev/null
sleep 0.3
json=$(as alice "$MG" --format json mcp ls 2>&1)
echo "$json" | is 'map(select(.name == "legacy"))[0].type == "stdio"' &&
    pass "an SSE app made a stdio one: mcp ls shows its new type" ||
    fail "an SSE app made a stdio one: mcp ls shows its new type" "$json"
ctl rm app/tickets >/dev/null && ctl rm app/legacy >/dev/null ||
    fail "rm app/NAME of HTTP apps" "refused"

# A session on the app: a change leaves it be, a removal ends it.
mkfifo "$T/in"
user_session alice 30 everything <"$T/in" >"$T/live" 2>&1 &
live=$!
exec 7>"$T/in"
for i in $(seq 1 50); do
	grep -q '"ok":true' "$T/live" 2>/dev/null && break
	sleep 0.1
done
grep -q '"ok":true' "$T/live" &&
    pass "connect: a session on a stdio app of the store" ||
    fail "connect: a session on a stdio app of the store" "$(cat "$T/live")"
sed 's/The reference test server/Changed/' "$T/app.yaml" >"$T/changed.yaml"
ctl create --force -f "$T/changed.yaml" >/dev/null
sleep 0.5
json=$(as alice "$MG" --format json mcp ls 2>&1)
kill -0 $live 2>/dev/null &&
    ! audit_has '.event == "mcp.session.end" and .app == "everything"' &&
    echo "$json" | is 'map(select(.name == "everything"))[0].description == "Changed"' &&
    pass "an app changed: new sessions see the change, the open one goes on" ||
    fail "an app changed: the open session goes on" "$(cat "$T/live") $json"
ctl rm app/everything >/dev/null
wait_gone $live 5 &&
    grep -q "the MCP server everything was removed" "$T/live" &&
    pass "rm app/NAME ends its sessions, saying why" ||
    fail "rm app/NAME ends its sessions, saying why" "$(cat "$T/live")"
exec 7>&-
sleep 0.3
audit_has '.event == "mcp.session.end" and .app == "everything" and
    .reason == "app_removed"' &&
    pass "the session's end is audited with reason app_removed" ||
    fail "the session's end is audited with reason app_removed" \
    "$(grep session.end "$MG_DIR"/audit/audit-*.jsonl | tail -2)"
json=$(as alice "$MG" --format json mcp ls 2>&1)
echo "$json" | is 'map(.name) | index("everything") == null' &&
    echo "$json" | is 'map(.name) | index("configured") != null' &&
    pass "rm app/NAME: the app is gone from mcp ls" ||
    fail "rm app/NAME: the app is gone from mcp ls" "$json"

# A reload takes the configuration's apps anew.
sed -i 's/^  - name: configured$/  - name: renamed/' "$MG_CONF"
out=$(ctl reload 2>&1)
sleep 0.3
json=$(as alice "$MG" --format json mcp ls 2>&1)
echo "$json" | is 'map(.name) | index("renamed") != null and
    index("configured") == null' &&
    pass "reload: the configuration's apps, new and gone, in mcp ls" ||
    fail "reload: the configuration's apps in mcp ls" "$out $json"
# app_service off: no app at all.
sed -i 's/^  mcp_demo_server: true$/  enabled: false/' "$MG_CONF"
ctl reload >/dev/null 2>&1
sleep 0.3
json=$(as alice "$MG" --format json mcp ls 2>&1)
out=$(as alice "$MG" mcp ls 2>&1)
! echo "$json" | grep -q renamed && echo "$out" | grep -qi "no MCP server" &&
    pass "app_service.enabled false: no app is offered" ||
    fail "app_service.enabled false: no app is offered" "$json $out"
