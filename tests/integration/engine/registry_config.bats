#!/usr/bin/env bats
# The engine's daemon configuration for registries (MYDOCKER_DAEMON_CONFIG, else
# /etc/mydocker/daemon.json): registry-mirrors for docker.io pulls (a mirror is a local
# registry holding library/busybox; a dead mirror is passed over; push never uses one), and
# insecure-registries for a registry that is not on loopback (an address on a veth pair the
# test makes): plain HTTP and an unknown CA refused unless the registry is listed, by
# host:port or by CIDR; a malformed file or a bad value: an error naming the file.
#
# Every test points MYDOCKER_DAEMON_CONFIG at its own file: the host's /etc/mydocker is not read.

load engine_helpers
load registry_helpers
bats_require_minimum_version 1.5.0

TEST_IF=""

setup() {
	registry_setup
	export MYDOCKER_DAEMON_CONFIG="$BATS_TEST_TMPDIR/daemon.json"
}

teardown() {
	local rc=0
	registry_teardown || rc=1
	if [[ -n "$TEST_IF" ]] && ip link show "$TEST_IF" >/dev/null 2>&1; then
		ip link del "$TEST_IF" || rc=1
		if ip link show "$TEST_IF" >/dev/null 2>&1; then
			echo "teardown: interface $TEST_IF left" >&2
			rc=1
		fi
	fi
	return "$rc"
}

# daemon_json JSON: the test's daemon configuration.
daemon_json() { printf '%s\n' "$1" >"$MYDOCKER_DAEMON_CONFIG"; }

# image_count: how many images the pulling store lists.
image_count() { mdp images -q | wc -l; }

# test_address: a veth pair holding one address of 10.0.0.0/8 (a /32 on one end), not loopback,
# that only this host answers (a veth, not a dummy: the dummy module may be missing); sets
# TEST_IF and TEST_ADDR. Deleting one end deletes the pair (teardown).
test_address() {
	local i
	TEST_IF="mdrc$$"
	ip link add "$TEST_IF" type veth peer name "${TEST_IF}p" || fail "ip link add $TEST_IF type veth failed" || return
	ip link set "$TEST_IF" up && ip link set "${TEST_IF}p" up || return
	for ((i = 0; i < 20; i++)); do
		TEST_ADDR="10.$((RANDOM % 100 + 150)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"
		# An address the host already has (another test's) is not ours to take.
		ip -4 -o addr show | grep -q " $TEST_ADDR/" && continue
		ip addr add "$TEST_ADDR/32" dev "$TEST_IF" || return
		return 0
	done
	fail "test_address: no free address"
}

# hub_unreachable: true when registry-1.docker.io does not resolve here. The tests that end
# at Docker Hub run only then: they must not reach the internet (and with it, their tag
# would just be unknown there).
hub_unreachable() { ! timeout 5 getent ahosts registry-1.docker.io >/dev/null 2>&1; }

# dead_port: a port on 127.0.0.1 that nobody listens on.
dead_port() { REGISTRY_ADDR=127.0.0.1 registry_free_port; }

@test "registry-mirrors: a docker.io pull comes from the mirror, a dead one passed over; named as docker.io's" {
	registry_start plain
	registry_push_image busybox library/busybox:mirrortest
	local dead
	dead="$(dead_port)"
	daemon_json "{\"debug\": false, \"registry-mirrors\": [\"http://127.0.0.1:$dead\", \"$REGISTRY_URL/\"]}"
	run mdp pull busybox:mirrortest
	assert_success
	assert_output_contains "mirrortest: Pulling from library/busybox"
	assert_output_contains "Digest: $PUSHED_DIGEST"
	assert_output_contains "Status: Downloaded newer image for busybox:mirrortest"
	[[ "${lines[-1]}" == "docker.io/library/busybox:mirrortest" ]] || fail "last line: ${lines[-1]}"
	run mdp image inspect -f .RepoTags busybox:mirrortest
	assert_success
	assert_output_contains '"busybox:mirrortest"'
	run mdp inspect -f '{{.RepoDigests}}' busybox:mirrortest
	assert_success
	[[ "$output" == "[\"busybox@$PUSHED_DIGEST\"]" ]] || fail "RepoDigests: $output"
	[[ "$output" != *127.0.0.1* ]] || fail "the mirror's address was recorded: $output"
	run mdp run --rm --network none busybox:mirrortest echo from-the-mirror
	assert_success
	assert_output_contains from-the-mirror
	# library/ spelled out, by digest: the same image from the mirror.
	run mdp pull "docker.io/library/busybox@$PUSHED_DIGEST"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
}

@test "registry-mirrors: a mirror without a layer (or under a wrong path) is passed over for the next" {
	# Two registries holding the image: the first loses its layer blobs (its manifest stays).
	BATS_TEST_TMPDIR="$BATS_TEST_TMPDIR/first" registry_start plain
	registry_push_image busybox library/busybox:mirrortest
	local first_url="$REGISTRY_URL" first_dir="$REGISTRY_DIR" blob
	while read -r blob; do
		rm "$blob"
	done < <(find "$first_dir/storage" -path '*/blobs/sha256/*/data' -size +10k)
	# Alone, the first one serves the manifest, then fails the layer (then Docker Hub is asked).
	if hub_unreachable; then
		daemon_json "{\"registry-mirrors\": [\"$first_url\"]}"
		run mdp pull busybox:mirrortest
		assert_status 1
		assert_output_contains "mirrors passed over: $first_url ($first_url/v2/library/busybox/blobs/sha256:"
	fi
	registry_start plain
	registry_push_image busybox library/busybox:mirrortest
	daemon_json "{\"registry-mirrors\": [\"$REGISTRY_URL/no/such/prefix\", \"$first_url\", \"$REGISTRY_URL\"]}"
	run mdp pull busybox:mirrortest
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	run mdp run --rm --network none busybox:mirrortest echo second-mirror
	assert_success
	assert_output_contains second-mirror
}

@test "registry-mirrors: without a mirror, or when every mirror fails, the pull goes to Docker Hub and fails clearly" {
	hub_unreachable || skip "registry-1.docker.io resolves here: the test would reach the internet"
	registry_start plain
	registry_push_image busybox library/busybox:mirrortest
	# No mirror: Docker Hub itself, unreachable here.
	daemon_json '{}'
	run mdp pull busybox:mirrortest
	assert_status 1
	assert_output_contains "pull busybox:mirrortest"
	assert_output_contains "registry-1.docker.io"
	[[ "$(image_count)" -eq 0 ]] || fail "an image was stored"
	# A dead mirror and one without the tag: both passed over, both named.
	local dead
	dead="$(dead_port)"
	daemon_json "{\"registry-mirrors\": [\"http://127.0.0.1:$dead\", \"$REGISTRY_URL\"]}"
	run mdp pull busybox:nosuchtag
	assert_status 1
	assert_output_contains "registry-1.docker.io"
	assert_output_contains "mirrors passed over: http://127.0.0.1:$dead ("
	assert_output_contains "$REGISTRY_URL"
	[[ "$(image_count)" -eq 0 ]] || fail "an image was stored"
	# Only docker.io images use the mirrors: another registry's name is its own.
	run mdp pull "$REGISTRY/library/busybox:mirrortest"
	assert_success
}

@test "registry-mirrors: a push to docker.io never goes to a mirror" {
	hub_unreachable || skip "registry-1.docker.io resolves here: the test would reach the internet"
	registry_start plain
	daemon_json "{\"registry-mirrors\": [\"$REGISTRY_URL\"]}"
	md tag busybox myuser/pushed:1
	run md push myuser/pushed:1
	assert_status 1
	assert_output_contains "registry-1.docker.io"
	run reg_skopeo_inspect myuser/pushed:1
	assert_status 1
}

@test "insecure-registries: plain HTTP off loopback is refused unless listed, by host:port or by CIDR" {
	test_address
	REGISTRY_ADDR="$TEST_ADDR" registry_start plain
	[[ "$REGISTRY" == "$TEST_ADDR:"* ]] || fail "registry on $REGISTRY"
	registry_push_image busybox test/bb:1
	daemon_json '{}'
	run mdp pull "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains "registry $REGISTRY"
	assert_output_contains "\"$REGISTRY\" is not an insecure registry"
	assert_output_contains "$MYDOCKER_DAEMON_CONFIG"
	[[ "$(image_count)" -eq 0 ]] || fail "an image was stored"
	# Listed by another port: still refused.
	daemon_json "{\"insecure-registries\": [\"$TEST_ADDR:1\"]}"
	run mdp pull "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains "not an insecure registry"
	# By host:port.
	daemon_json "{\"insecure-registries\": [\"$REGISTRY\"]}"
	run mdp pull "$REGISTRY/test/bb:1"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	run mdp run --rm --network none "$REGISTRY/test/bb:1" echo insecure-ok
	assert_success
	assert_output_contains insecure-ok
	run mdp rmi "$REGISTRY/test/bb:1"
	assert_success
	# By CIDR: the /16 around the address (host bits given, as docker allows).
	daemon_json "{\"insecure-registries\": [\"${TEST_ADDR%.*.*}.7.7/16\"]}"
	run mdp pull "$REGISTRY/test/bb:1"
	assert_success
	run mdp rmi "$REGISTRY/test/bb:1"
	assert_success
	# A CIDR that does not hold it: refused.
	daemon_json '{"insecure-registries": ["192.0.2.0/24"]}'
	run mdp pull "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains "not an insecure registry"
}

@test "insecure-registries: one named without a port, on port 80, is reached over plain HTTP" {
	test_address
	REGISTRY_ADDR="$TEST_ADDR" REGISTRY_PORT=80 registry_start plain
	[[ "$REGISTRY" == "$TEST_ADDR:80" ]] || fail "registry on $REGISTRY"
	registry_push_image busybox test/bb:80
	daemon_json '{}'
	run mdp pull "$TEST_ADDR/test/bb:80"
	assert_status 1
	assert_output_contains "registry $TEST_ADDR"
	# HTTPS to port 443 is refused: plain HTTP to port 80 next, as docker does.
	daemon_json "{\"insecure-registries\": [\"$TEST_ADDR\"]}"
	run mdp pull "$TEST_ADDR/test/bb:80"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	run mdp run --rm --network none "$TEST_ADDR/test/bb:80" echo port-80-ok
	assert_success
	assert_output_contains port-80-ok
}

@test "insecure-registries: a TLS registry whose CA is unknown works when listed, without its CA" {
	test_address
	REGISTRY_ADDR="$TEST_ADDR" registry_start tls
	registry_push_image busybox test/tls:1
	daemon_json '{}'
	run mdp pull "$REGISTRY/test/tls:1"
	assert_status 1
	assert_output_contains "\"$REGISTRY\" is not an insecure registry"
	daemon_json "{\"insecure-registries\": [\"$TEST_ADDR/32\"]}"
	run mdp pull "$REGISTRY/test/tls:1"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	run mdp run --rm --network none "$REGISTRY/test/tls:1" echo tls-insecure-ok
	assert_success
	assert_output_contains tls-insecure-ok
	# And a push to it, the certificate unchecked as well.
	run mdp push "$REGISTRY/test/tls:1"
	assert_success
}

@test "insecure-registries: a loopback TLS registry with an unknown CA works when listed" {
	registry_start tls
	registry_push_image busybox test/lo:1
	daemon_json '{}'
	run mdp pull "$REGISTRY/test/lo:1"
	assert_status 1
	# The TLS error, not the 400 its plain-HTTP fallback got.
	assert_output_contains "registry $REGISTRY (it refuses plain HTTP too): GET https://$REGISTRY/"
	assert_output_contains "certificate"
	daemon_json "{\"insecure-registries\": [\"$REGISTRY\"]}"
	run mdp pull "$REGISTRY/test/lo:1"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
}

@test "daemon config: malformed JSON or a bad value fails the pull naming the file, the key and the value" {
	registry_start plain
	registry_push_image busybox test/bb:1
	daemon_json '{"registry-mirrors": ["http://127.0.0.1:1",'
	run mdp pull "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains "daemon config \"$MYDOCKER_DAEMON_CONFIG\": malformed JSON"
	daemon_json '{"insecure-registries": ["10.0.0.0/33"]}'
	run mdp pull "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains "\"$MYDOCKER_DAEMON_CONFIG\""
	assert_output_contains '"insecure-registries": "10.0.0.0/33"'
	daemon_json '{"registry-mirrors": "https://mirror.example"}'
	run mdp pull "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains '"registry-mirrors" must be a list of strings'
	[[ "$(image_count)" -eq 0 ]] || fail "an image was stored"
	# A directory where the file should be: an error, not the defaults.
	rm -f "$MYDOCKER_DAEMON_CONFIG"
	mkdir "$MYDOCKER_DAEMON_CONFIG"
	run mdp pull "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains "$MYDOCKER_DAEMON_CONFIG"
	# No file at all: the defaults (loopback plain HTTP allowed).
	rmdir "$MYDOCKER_DAEMON_CONFIG"
	run mdp pull "$REGISTRY/test/bb:1"
	assert_success
}
