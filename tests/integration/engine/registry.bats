#!/usr/bin/env bats
# The registry test infrastructure of issue 17 (registry_helpers.bash), tested on its own
# before `mydocker pull` / `push` / `login` exist: Debian's docker-registry in each mode
# starts and stops cleanly, skopeo pushes what `mydocker save` wrote, auth refuses a wrong
# password, and the hand-made two-platform index arrives whole. As root:
#
#   bats tests/integration/engine/registry.bats
#
# The pull/push tests will join this file and use the same helpers.

load engine_helpers
load registry_helpers

setup() {
	engine_setup
	command -v skopeo >/dev/null || fail "skopeo is not installed (run scripts/setup)"
}

teardown() {
	local rc=0
	registry_stop || rc=1
	# Nothing here mounts (save reads the store): a mount left is a bug of the engine.
	if mounts_under_root; then
		echo "teardown: mounts left under $MYDOCKER_ROOT" >&2
		rc=1
	fi
	engine_teardown || rc=1
	return "$rc"
}

# http_code URL [CURL-ARGS...]: the status code of GET URL.
http_code() {
	local url="$1"
	shift
	registry_curl -o /dev/null -w '%{http_code}' "$@" "$url"
}

# fetch PATH [CURL-ARGS...]: GET $REGISTRY_URL/v2/PATH into $BATS_TEST_TMPDIR/fetched, bytes
# as served (`run` would strip a trailing newline and change the digest).
fetch() {
	local path="$1"
	shift
	registry_curl -f -L -o "$BATS_TEST_TMPDIR/fetched" "$@" "$REGISTRY_URL/v2/$path"
}
fetched_digest() { echo "sha256:$(sha256sum "$BATS_TEST_TMPDIR/fetched" | cut -d' ' -f1)"; }

# started_and_stops MODE: the registry of MODE answers /v2/ as it should, then stops and is
# gone (its pid no longer runs, its port no longer answers).
started_and_stops() {
	registry_start "$1"
	[[ "$REGISTRY" == 127.0.0.1:* ]] || fail "REGISTRY=$REGISTRY"
	local entry="${REGISTRY_PROCS[-1]}" # the token server, if any, comes first
	proc_alive "${entry%%:*}" "${entry#*:}" || fail "registry not running"
	run http_code "$REGISTRY_URL/v2/"
	assert_success
	case "$1" in
	*basic | *token) [[ "$output" == 401 ]] || fail "anonymous /v2/ gave $output, want 401" ;;
	*) [[ "$output" == 200 ]] || fail "/v2/ gave $output, want 200" ;;
	esac
	registry_stop
	refute proc_alive "${entry%%:*}" "${entry#*:}"
	refute registry_answers
	# Auth modes warn about each anonymous request; nothing may be worse than a warning.
	refute grep -E 'level=(error|fatal|panic)' "$REGISTRY_DIR/registry.log"
}

@test "registry: each mode starts on 127.0.0.1, answers /v2/ and stops cleanly" {
	local mode
	for mode in plain tls basic tls+basic token tls+token; do
		started_and_stops "$mode"
		rm -rf "$REGISTRY_DIR"
	done
}

@test "registry: tls serves a certificate for 127.0.0.1 and localhost signed by the test's CA" {
	registry_start tls
	[[ "$REGISTRY_URL" == https://* ]]
	# The CA is what makes it trusted: without it curl refuses.
	run curl -sS --noproxy '*' --max-time 10 -o /dev/null "$REGISTRY_URL/v2/"
	assert_failure
	run http_code "https://localhost:${REGISTRY#*:}/v2/"
	assert_success
	[[ "$output" == 200 ]]
	# Plain HTTP to the TLS port is not served.
	run http_code "http://$REGISTRY/v2/"
	[[ "$output" == 400 ]] || fail "plain http to the tls port gave $output"
}

@test "registry: skopeo pushes busybox saved by mydocker; inspect shows the pushed digest" {
	registry_start plain
	registry_push_image busybox library/busybox:1
	[[ "$PUSHED_DIGEST" =~ ^sha256:[0-9a-f]{64}$ ]] || fail "digest '$PUSHED_DIGEST'"
	run reg_skopeo_inspect library/busybox:1
	assert_success
	[[ "$(jq -r .Digest <<<"$output")" == "$PUSHED_DIGEST" ]] || fail "inspect: $output"
	[[ "$(jq -r .Architecture <<<"$output")" == "$(dpkg --print-architecture)" ]]
	# The registry serves that manifest under its digest too, byte for byte.
	fetch "library/busybox/manifests/$PUSHED_DIGEST" -H 'Accept: application/vnd.oci.image.manifest.v1+json'
	[[ "$(fetched_digest)" == "$PUSHED_DIGEST" ]]
	[[ "$(jq -r '.layers | length' "$BATS_TEST_TMPDIR/fetched")" -ge 1 ]]
}

@test "registry: tls+basic: push and inspect with the CA and credentials" {
	registry_start tls+basic
	registry_push_image busybox bb:tls
	run reg_skopeo_inspect bb:tls
	assert_success
	[[ "$(jq -r .Digest <<<"$output")" == "$PUSHED_DIGEST" ]]
	# Without the CA, skopeo refuses the certificate.
	run skopeo inspect --creds "$REGISTRY_USER:$REGISTRY_PASS" "docker://$REGISTRY/bb:tls"
	assert_failure
	assert_output_contains "certificate"
}

@test "registry: basic auth refuses a wrong password (401) and accepts the right one" {
	registry_start basic
	run http_code "$REGISTRY_URL/v2/" -u "$REGISTRY_USER:wrong"
	[[ "$output" == 401 ]] || fail "wrong password gave $output"
	run registry_curl -sSI "$REGISTRY_URL/v2/"
	assert_output_contains 'Www-Authenticate: Basic realm="mydocker-test"'
	run http_code "$REGISTRY_URL/v2/" -u "$REGISTRY_USER:$REGISTRY_PASS"
	[[ "$output" == 200 ]] || fail "right password gave $output"
	# skopeo: the wrong password cannot push, the right one can.
	run registry_push_image busybox bb:1 --dest-creds "$REGISTRY_USER:wrong"
	assert_failure
	assert_output_contains "unauthorized"
	registry_push_image busybox bb:1
	run skopeo inspect --tls-verify=false --creds "$REGISTRY_USER:wrong" "docker://$REGISTRY/bb:1"
	assert_failure
	run reg_skopeo_inspect bb:1
	assert_success
}

@test "registry: skopeo copy --all pushes a two-platform index with both manifests" {
	registry_start plain
	registry_push_multiplatform multi:latest
	run reg_skopeo_inspect multi:latest --raw
	assert_success
	local index="$output"
	[[ "$(jq -r .mediaType <<<"$index")" == application/vnd.oci.image.index.v1+json ]]
	[[ "$(jq -r '[.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(",")' <<<"$index")" == linux/amd64,linux/arm64 ]]
	fetch multi/manifests/latest -H 'Accept: application/vnd.oci.image.index.v1+json'
	[[ "$(fetched_digest)" == "$PUSHED_DIGEST" ]] || fail "index digest $(fetched_digest), pushed $PUSHED_DIGEST"
	# Each platform's manifest and its layer are there, and the layer holds its platform.
	local arch digest layer
	for arch in amd64 arm64; do
		digest="$(jq -r --arg a "$arch" '.manifests[] | select(.platform.architecture == $a) | .digest' <<<"$index")"
		run reg_skopeo_inspect "multi@$digest" --raw
		assert_success
		layer="$(jq -r '.layers[0].digest' <<<"$output")"
		fetch "multi/blobs/$layer"
		[[ "$(fetched_digest)" == "$layer" ]]
		run tar -xzOf "$BATS_TEST_TMPDIR/fetched" platform
		assert_success
		[[ "$output" == "linux/$arch" ]] || fail "$arch layer holds '$output'"
	done
}

@test "registry: skopeo pushes busybox with zstd layers" {
	registry_start plain
	registry_push_zstd busybox bb:zstd
	run reg_skopeo_inspect bb:zstd --raw
	assert_success
	[[ "$(jq -r .mediaType <<<"$output")" == application/vnd.oci.image.manifest.v1+json ]]
	[[ "$(jq -r '[.layers[].mediaType] | unique | join(",")' <<<"$output")" == application/vnd.oci.image.layer.v1.tar+zstd ]] ||
		fail "layers: $output"
	local layer
	layer="$(jq -r '.layers[0].digest' <<<"$output")"
	# The blob is zstd indeed (its magic), not only labelled so.
	fetch "bb/blobs/$layer"
	[[ "$(fetched_digest)" == "$layer" ]]
	run bash -c "head -c4 '$BATS_TEST_TMPDIR/fetched' | od -An -tx1 | tr -d ' '"
	[[ "$output" == 28b52ffd ]] || fail "layer starts with '$output'"
	zstd -t -q "$BATS_TEST_TMPDIR/fetched"
}

@test "registry: token auth: the test's token server grants the user, not anonymous or a wrong password" {
	registry_start tls+token
	run registry_curl -sSI "$REGISTRY_URL/v2/"
	assert_output_contains "Bearer realm=\"$REGISTRY_TOKEN_REALM\",service=\"mydocker-test-registry\""
	registry_push_image busybox bb:token
	run reg_skopeo_inspect bb:token
	assert_success
	[[ "$(jq -r .Digest <<<"$output")" == "$PUSHED_DIGEST" ]]
	# Anonymous: a token granting nothing, so the registry denies the manifest.
	run skopeo inspect --cert-dir "$REGISTRY_CERT_DIR" --no-creds "docker://$REGISTRY/bb:token"
	assert_failure
	assert_output_contains "authentication required"
	run skopeo inspect --cert-dir "$REGISTRY_CERT_DIR" --creds "$REGISTRY_USER:wrong" "docker://$REGISTRY/bb:token"
	assert_failure
	assert_output_contains "unauthorized"
	# By hand, as a client does it: a token for the scope from the realm, then Bearer.
	local token
	token="$(registry_curl -f -u "$REGISTRY_USER:$REGISTRY_PASS" \
		"$REGISTRY_TOKEN_REALM?service=mydocker-test-registry&scope=repository:bb:pull" | jq -r .token)"
	fetch bb/manifests/token -H "Authorization: Bearer $token" -H 'Accept: application/vnd.oci.image.manifest.v1+json'
	[[ "$(fetched_digest)" == "$PUSHED_DIGEST" ]]
}

@test "registry: registry_start takes another port when its port is taken meanwhile" {
	# A squatter listens on a port; the first port registry_start tries is that one.
	registry_spawn "$BATS_TEST_TMPDIR/squatter.log" "$REGISTRY_PYTHON" -c 'import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(120)' "$BATS_TEST_TMPDIR/squatter.port"
	wait_for test -s "$BATS_TEST_TMPDIR/squatter.port"
	local taken
	taken="$(cat "$BATS_TEST_TMPDIR/squatter.port")"
	eval "real_free_port() $(declare -f registry_free_port | tail -n +2)"
	# (registry_start calls it in a subshell: the count goes through a file.)
	registry_free_port() {
		echo x >>"$BATS_TEST_TMPDIR/calls"
		if [[ "$(wc -l <"$BATS_TEST_TMPDIR/calls")" -eq 1 ]]; then echo "$taken"; else real_free_port; fi
	}
	registry_start plain
	[[ "$(wc -l <"$BATS_TEST_TMPDIR/calls")" -eq 2 ]] || fail "registry_free_port called $(wc -l <"$BATS_TEST_TMPDIR/calls") times"
	[[ "$REGISTRY" != "127.0.0.1:$taken" ]]
	run http_code "$REGISTRY_URL/v2/"
	[[ "$output" == 200 ]]
}
