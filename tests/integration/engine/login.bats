#!/usr/bin/env bats
# mydocker login / logout (issue 17) against Debian's docker-registry on 127.0.0.1
# (registry_helpers.bash) in basic, tls+basic and token modes: credentials checked against the
# registry before they are saved (docker's config.json "auths" format, mode 0600), a wrong
# password refused with nothing saved, --password-stdin, a private image pulled after login
# and refused after logout, and credentials read from docker's and podman's files. Every
# credentials file lives in the test's temp dir (MYDOCKER_CONFIG, DOCKER_CONFIG, HOME, ...).

load engine_helpers
load registry_helpers
bats_require_minimum_version 1.5.0

setup() {
	engine_setup
	command -v skopeo >/dev/null || fail "skopeo is not installed (run scripts/setup)"
	export MYDOCKER_CONFIG="$BATS_TEST_TMPDIR/mycfg"
	export DOCKER_CONFIG="$BATS_TEST_TMPDIR/dockercfg"
	export HOME="$BATS_TEST_TMPDIR/home"
	export XDG_RUNTIME_DIR="$BATS_TEST_TMPDIR/xdg-run" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/xdg-cfg"
	mkdir -p "$HOME"
	CFG="$MYDOCKER_CONFIG/config.json"
	# The store that pulls: empty, so every blob comes from the registry.
	PULL_ROOT="$BATS_TEST_TMPDIR/p"
	mkdir -p "$PULL_ROOT"
}

teardown() {
	local rc=0
	registry_stop || rc=1
	local id
	for id in $(MYDOCKER_ROOT="$PULL_ROOT" "$MYDOCKER" ps -aq --no-trunc 2>/dev/null </dev/null); do
		MYDOCKER_ROOT="$PULL_ROOT" "$MYDOCKER" rm -f "$id" >/dev/null 2>&1 || rc=1
	done
	if awk -v r="$PULL_ROOT" 'index($5, r) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
		echo "teardown: mounts left under $PULL_ROOT" >&2
		rc=1
	fi
	# The pulling store's default bridge and nft table (its containers ran on it) go too:
	# left behind, each holds a subnet of the host's default pools until none is free.
	MYDOCKER_ROOT="$PULL_ROOT" engine_teardown || rc=1
	# A write of the credentials file leaves no temp file beside it.
	if [[ -n "$(find "$MYDOCKER_CONFIG" -name '*.tmp*' 2>/dev/null)" ]]; then
		echo "teardown: temp files left in $MYDOCKER_CONFIG" >&2
		rc=1
	fi
	engine_teardown || rc=1
	return "$rc"
}

# mdp ARGS...: mydocker on the pulling store.
mdp() { MYDOCKER_ROOT="$PULL_ROOT" md "$@"; }

# saved_auth HOST: the decoded "auth" of HOST in mydocker's credentials file.
saved_auth() { jq -er --arg h "$1" '.auths[$h].auth' "$CFG" | base64 -d; }

# login_stdin: mydocker login -u $REGISTRY_USER --password-stdin $REGISTRY, the
# password on stdin.
login_stdin() { printf '%s\n' "$REGISTRY_PASS" | md login -u "$REGISTRY_USER" --password-stdin "$REGISTRY"; }

@test "login to a basic-auth registry saves docker's format, mode 0600; logout removes it" {
	registry_start basic
	run md login -u "$REGISTRY_USER" -p "$REGISTRY_PASS" "$REGISTRY"
	assert_success
	assert_output_contains "WARNING! Using --password via the CLI is insecure. Use --password-stdin."
	assert_output_contains "Login Succeeded"
	[[ "$(stat -c %a "$CFG")" == 600 ]] || fail "mode $(stat -c %a "$CFG")"
	[[ "$(stat -c %a "$MYDOCKER_CONFIG")" == 700 ]] || fail "dir mode $(stat -c %a "$MYDOCKER_CONFIG")"
	[[ "$(saved_auth "$REGISTRY")" == "$REGISTRY_USER:$REGISTRY_PASS" ]] || fail "saved: $(cat "$CFG")"
	# Exactly as docker writes it: auths -> host -> auth, nothing else.
	[[ "$(jq -c '.auths | map_values(keys)' "$CFG")" == "{\"$REGISTRY\":[\"auth\"]}" ]] || fail "$(cat "$CFG")"
	# Nothing of it went to docker's or podman's files.
	[[ ! -e "$DOCKER_CONFIG" && ! -e "$XDG_RUNTIME_DIR" && ! -e "$REGISTRY_AUTH_FILE" ]] || fail "a foreign file was written"
	run md logout "$REGISTRY"
	assert_success
	[[ "$output" == "Removing login credentials for $REGISTRY" ]] || fail "logout said: $output"
	[[ "$(jq -c .auths "$CFG")" == "{}" ]] || fail "left: $(cat "$CFG")"
	run md logout "$REGISTRY"
	assert_success
	[[ "$output" == "Not logged in to $REGISTRY" ]] || fail "second logout said: $output"
}

@test "login with a wrong password is refused naming the registry, nothing saved (basic and token)" {
	local mode
	for mode in basic token; do
		registry_start "$mode"
		run md login -u "$REGISTRY_USER" -p wrong "$REGISTRY"
		assert_status 1
		assert_output_contains "login $REGISTRY"
		assert_output_contains "unauthorized"
		refute grep -q "Login Succeeded" <<<"$output"
		[[ ! -e "$CFG" ]] || fail "$mode: a file was written: $(cat "$CFG")"
		# An unknown user too.
		run md login -u nobody -p "$REGISTRY_PASS" "$REGISTRY"
		assert_status 1
		assert_output_contains unauthorized
		[[ ! -e "$CFG" ]] || fail "$mode: a file was written for nobody"
		# A saved login stays as it was after a refused one.
		login_stdin
		cp "$CFG" "$BATS_TEST_TMPDIR/before.json"
		run md login -u "$REGISTRY_USER" -p wrong "$REGISTRY"
		assert_status 1
		cmp "$CFG" "$BATS_TEST_TMPDIR/before.json" || fail "$mode: a refused login changed the file"
		registry_stop
		rm -rf "$REGISTRY_DIR" "$MYDOCKER_CONFIG"
	done
}

@test "login --password-stdin over TLS (the CA in certs.d); misused flags are refused" {
	registry_start tls+basic
	export MYDOCKER_CERTS_D="$BATS_TEST_TMPDIR/certs.d"
	mkdir -p "$MYDOCKER_CERTS_D/$REGISTRY"
	cp "$REGISTRY_CA" "$MYDOCKER_CERTS_D/$REGISTRY/ca.crt"
	run --separate-stderr md login -u "$REGISTRY_USER" -p x --password-stdin "$REGISTRY" </dev/null
	assert_failure
	[[ "$stderr" == *"--password and --password-stdin are mutually exclusive"* ]] || fail "stderr: $stderr"
	run --separate-stderr md login --password-stdin "$REGISTRY" </dev/null
	assert_failure
	[[ "$stderr" == *"must provide --username with --password-stdin"* ]] || fail "stderr: $stderr"
	run --separate-stderr md login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" </dev/null
	assert_failure
	[[ "$stderr" == *"--password-stdin: no password on stdin"* ]] || fail "stderr: $stderr"
	run --separate-stderr md login "$REGISTRY" </dev/null
	assert_failure
	[[ "$stderr" == *"stdin is not a terminal"* ]] || fail "stderr: $stderr"
	run --separate-stderr md login -u "$REGISTRY_USER" "$REGISTRY" </dev/null
	assert_failure
	run --separate-stderr md login -u "$REGISTRY_USER" -p "$REGISTRY_PASS" "bad host" </dev/null
	assert_failure
	[[ "$stderr" == *'"bad host"'* ]] || fail "stderr: $stderr"
	[[ ! -e "$CFG" ]] || fail "a refused command wrote $CFG"
	run --separate-stderr login_stdin
	assert_success
	[[ "$output" == "Login Succeeded" ]] || fail "stdout: $output"
	[[ "$stderr" != *"insecure"* ]] || fail "stderr: $stderr"
	[[ "$(saved_auth "$REGISTRY")" == "$REGISTRY_USER:$REGISTRY_PASS" ]]
	# On a terminal (script(1) gives it one) the username and password are asked for.
	md logout "$REGISTRY" >/dev/null
	command -v script >/dev/null || fail "script(1) is not installed (bsdutils)"
	run bash -c 'printf "%s\n%s\n" "$1" "$2" | timeout 20 script -qec "$3 login $4" /dev/null' _ \
		"$REGISTRY_USER" "$REGISTRY_PASS" "$MYDOCKER" "$REGISTRY"
	assert_success
	assert_output_contains "Username: "
	assert_output_contains "Password: "
	assert_output_contains "Login Succeeded"
	[[ "$(saved_auth "$REGISTRY")" == "$REGISTRY_USER:$REGISTRY_PASS" ]]
	# The server may be spelled as a URL, as docker allows; the entry is the host's.
	run md logout "https://$REGISTRY/v2/"
	assert_success
	assert_output_contains "Removing login credentials for $REGISTRY"
}

# pull_private_after_login MODE: a private image is refused, pulled after login, refused after logout.
pull_private_after_login() {
	registry_start "$1"
	registry_push_image busybox private/bb:1
	run mdp pull "$REGISTRY/private/bb:1"
	assert_status 1
	assert_output_contains "$REGISTRY"
	login_stdin
	run mdp pull "$REGISTRY/private/bb:1"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	run mdp run --rm --network none "$REGISTRY/private/bb:1" echo private-ok
	assert_success
	assert_output_contains private-ok
	mdp rmi "$REGISTRY/private/bb:1" >/dev/null
	md logout "$REGISTRY" >/dev/null
	run mdp pull "$REGISTRY/private/bb:1"
	assert_status 1
	[[ -z "$(mdp images -q)" ]] || fail "an image was stored after logout"
}

@test "pull of a private image after login with basic auth, refused after logout" {
	pull_private_after_login basic
	assert_output_contains "authentication required"
}

@test "pull of a private image after login with token auth: the token is for the repository's pull" {
	pull_private_after_login token
	# The token server was asked for this repository's pull, with the user's account.
	grep -q 'account=tester' "$REGISTRY_DIR/token.log" || fail "no account in: $(cat "$REGISTRY_DIR/token.log")"
	grep -q 'scope=repository%3Aprivate%2Fbb%3Apull' "$REGISTRY_DIR/token.log" ||
		fail "no pull scope in: $(cat "$REGISTRY_DIR/token.log")"
	# A login's own check asks for no scope.
	grep -E 'GET /token\?service=[^& ]*&account=tester HTTP' "$REGISTRY_DIR/token.log" >/dev/null ||
		fail "no unscoped login request in: $(cat "$REGISTRY_DIR/token.log")"
}

@test "pull with credentials from docker's config.json at DOCKER_CONFIG, then from podman's auth file" {
	registry_start basic
	registry_push_image busybox private/bb:1
	local auth
	auth="$(printf '%s' "$REGISTRY_USER:$REGISTRY_PASS" | base64 -w0)"
	mkdir -p "$DOCKER_CONFIG"
	jq -n --arg h "$REGISTRY" --arg a "$auth" '{auths: {($h): {auth: $a}}, credsStore: ""}' >"$DOCKER_CONFIG/config.json"
	run mdp pull "$REGISTRY/private/bb:1"
	assert_success
	[[ ! -e "$CFG" ]] || fail "reading docker's file wrote ours"
	# logout does not touch docker's file, and says where the credentials are.
	run md logout "$REGISTRY"
	assert_success
	assert_output_contains "Not logged in to $REGISTRY"
	assert_output_contains "$DOCKER_CONFIG/config.json"
	[[ "$(jq -r --arg h "$REGISTRY" '.auths[$h].auth' "$DOCKER_CONFIG/config.json")" == "$auth" ]]
	# Older docker versions keyed by URL: the host is what counts.
	jq -n --arg h "https://$REGISTRY" --arg a "$auth" '{auths: {($h): {auth: $a}}}' >"$DOCKER_CONFIG/config.json"
	mdp rmi "$REGISTRY/private/bb:1" >/dev/null
	run mdp pull "$REGISTRY/private/bb:1"
	assert_success
	# A wrong password there: sent, and refused by the registry.
	jq -n --arg h "https://$REGISTRY" --arg a "$(printf 'tester:wrong' | base64 -w0)" '{auths: {($h): {auth: $a}}}' \
		>"$DOCKER_CONFIG/config.json"
	mdp rmi "$REGISTRY/private/bb:1" >/dev/null
	run mdp pull "$REGISTRY/private/bb:1"
	assert_status 1
	assert_output_contains "manifest for $REGISTRY/private/bb:1: authentication required"
	rm "$DOCKER_CONFIG/config.json"
	# podman's auth file, keyed by the repository's namespace as podman allows.
	jq -n --arg h "$REGISTRY/private" --arg a "$auth" '{auths: {($h): {auth: $a}}}' >"$REGISTRY_AUTH_FILE"
	run mdp pull "$REGISTRY/private/bb:1"
	assert_success
	# A broken file is an error naming it, not an anonymous pull.
	echo '{"auths": {' >"$REGISTRY_AUTH_FILE"
	mdp rmi "$REGISTRY/private/bb:1" >/dev/null
	run mdp pull "$REGISTRY/private/bb:1"
	assert_status 1
	assert_output_contains "$REGISTRY_AUTH_FILE"
}
