#!/usr/bin/env bats
# mydocker push (issue 17, push part) to Debian's docker-registry on 127.0.0.1
# (registry_helpers.bash): what we push is read back by skopeo (the printed digest, the bytes
# of the manifest, its OCI media type), pulled into a second, empty store and run, and pulled
# by podman; committed, imported, loaded and pulled images; a second push finds every layer
# there; a second repository of the same registry gets its layers by a cross-repository
# mount; TLS with the registry's CA in certs.d; the refusals: an unknown image, a digest, an
# unreachable registry, a bad name, a registry that wants a login: an error naming it, exit 1.
# Pushing with credentials is login's to test. Containers run with --network none: no test
# here needs a bridge, and the host's default subnets are few.

load engine_helpers
load registry_helpers
bats_require_minimum_version 1.5.0

setup() {
	registry_setup
	EXTRA_ROOTS=("$BATS_TEST_TMPDIR/l")
}
teardown() { registry_teardown; }

# pushed_digest: the digest of push's last line ("TAG: digest: sha256:... size: N").
pushed_digest() { sed -n 's/^.*: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"${lines[-1]}"; }

@test "push busybox: skopeo sees the printed digest; pulled into an empty store, it runs" {
	registry_start plain
	md tag busybox "$REGISTRY/test/bb:1"
	run md push "$REGISTRY/test/bb:1"
	assert_success
	[[ "${lines[0]}" == "The push refers to repository [$REGISTRY/test/bb]" ]] || fail "first line: ${lines[0]}"
	assert_output_contains ": Pushed"
	local digest size
	digest="$(pushed_digest)"
	[[ -n "$digest" ]] || fail "no digest line: ${lines[-1]}"
	[[ "${lines[-1]}" == "1: digest: $digest size: "* ]] || fail "last line: ${lines[-1]}"
	size="${lines[-1]##* }"
	run reg_skopeo_inspect test/bb:1
	assert_success
	[[ "$(jq -r .Digest <<<"$output")" == "$digest" ]] || fail "skopeo says $(jq -r .Digest <<<"$output"), push said $digest"
	# The manifest, byte for byte: its size and sha256 are what push printed, its media type OCI's.
	skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/bb:1" >"$BATS_TEST_TMPDIR/manifest.json"
	[[ "sha256:$(sha256sum <"$BATS_TEST_TMPDIR/manifest.json" | cut -d' ' -f1)" == "$digest" ]] || fail "raw manifest digest differs"
	[[ "$(wc -c <"$BATS_TEST_TMPDIR/manifest.json")" -eq "$size" ]] || fail "raw manifest size differs from $size"
	[[ "$(jq -r .mediaType "$BATS_TEST_TMPDIR/manifest.json")" == application/vnd.oci.image.manifest.v1+json ]] ||
		fail "media type: $(cat "$BATS_TEST_TMPDIR/manifest.json")"
	run mdp pull "$REGISTRY/test/bb:1"
	assert_success
	assert_output_contains "Digest: $digest"
	run mdp run --rm --network none "$REGISTRY/test/bb:1" echo pushed-and-pulled
	assert_success
	assert_output_contains pushed-and-pulled
	# A pulled image pushes too: to another repository, its layers mounted from the first.
	mdp tag "$REGISTRY/test/bb:1" "$REGISTRY/test/again:1"
	run mdp push "$REGISTRY/test/again:1"
	assert_success
	assert_output_contains ": Mounted from test/bb"
	[[ "$(pushed_digest)" == "$digest" ]] || fail "the pulled image pushed as $(pushed_digest), not $digest"
}

@test "push twice: every layer already exists, same digest; -q prints the name" {
	registry_start plain
	md tag busybox "$REGISTRY/test/bb:1"
	run md push "$REGISTRY/test/bb:1"
	assert_success
	local first
	first="$(pushed_digest)"
	run md push "$REGISTRY/test/bb:1"
	assert_success
	assert_output_contains ": Layer already exists"
	refute grep -q ": Pushed" <<<"$output"
	[[ "$(pushed_digest)" == "$first" ]] || fail "second push: $(pushed_digest), first: $first"
	run md push -q "$REGISTRY/test/bb:1"
	assert_success
	[[ "$output" == "$REGISTRY/test/bb:1" ]] || fail "push -q printed: $output"
}

@test "push to a second repository of the same registry mounts the layers; the default tag is latest" {
	registry_start plain
	md tag busybox "$REGISTRY/test/one:1"
	md push "$REGISTRY/test/one:1" >/dev/null
	md tag busybox "$REGISTRY/test/two"
	run md push "$REGISTRY/test/two"
	assert_success
	assert_output_contains ": Mounted from test/one"
	[[ "${lines[-1]}" == "latest: digest: sha256:"* ]] || fail "last line: ${lines[-1]}"
	run reg_skopeo_inspect test/two:latest
	assert_success
	run mdp pull "$REGISTRY/test/two"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/two" true
	assert_success
}

@test "push a committed image and an imported one; their files come back with a pull" {
	registry_start plain
	md run --network none --name src busybox sh -c 'echo committed-file > /pushed.txt'
	md commit src "$REGISTRY/test/committed:v1" >/dev/null
	run md push "$REGISTRY/test/committed:v1"
	assert_success
	run mdp pull "$REGISTRY/test/committed:v1"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/committed:v1" cat /pushed.txt
	assert_success
	[[ "$output" == committed-file ]] || fail "cat printed: $output"
	# An imported rootfs (one layer made from a tarball).
	md export src >"$BATS_TEST_TMPDIR/rootfs.tar"
	md import "$BATS_TEST_TMPDIR/rootfs.tar" "$REGISTRY/test/imported:1" >/dev/null
	run md push "$REGISTRY/test/imported:1"
	assert_success
	run mdp pull "$REGISTRY/test/imported:1"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/imported:1" cat /pushed.txt
	assert_success
	[[ "$output" == committed-file ]] || fail "cat printed: $output"
	# A loaded image (docker save / load) pushes too.
	md save -o "$BATS_TEST_TMPDIR/saved.tar" "$REGISTRY/test/committed:v1"
	mkdir -p "$BATS_TEST_TMPDIR/l"
	MYDOCKER_ROOT="$BATS_TEST_TMPDIR/l" md load -i "$BATS_TEST_TMPDIR/saved.tar" >/dev/null
	MYDOCKER_ROOT="$BATS_TEST_TMPDIR/l" md tag "$REGISTRY/test/committed:v1" "$REGISTRY/test/loaded:1"
	MYDOCKER_ROOT="$BATS_TEST_TMPDIR/l" run md push "$REGISTRY/test/loaded:1"
	assert_success
	run reg_skopeo_inspect test/loaded:1
	assert_success
}

@test "push over TLS with the registry's CA in certs.d" {
	registry_start tls
	mkdir -p "$BATS_TEST_TMPDIR/certs.d/$REGISTRY"
	cp "$REGISTRY_CA" "$BATS_TEST_TMPDIR/certs.d/$REGISTRY/ca.crt"
	md tag busybox "$REGISTRY/test/bb:tls"
	# Without the CA: refused (not trusted), and not given up for plain HTTP.
	run md push "$REGISTRY/test/bb:tls"
	assert_status 1
	assert_output_contains "$REGISTRY"
	MYDOCKER_CERTS_D="$BATS_TEST_TMPDIR/certs.d" run md push "$REGISTRY/test/bb:tls"
	assert_success
	local digest
	digest="$(pushed_digest)"
	run reg_skopeo_inspect test/bb:tls
	assert_success
	[[ "$(jq -r .Digest <<<"$output")" == "$digest" ]] || fail "skopeo: $output"
}

@test "podman pulls what we pushed, with the same digest" {
	command -v podman >/dev/null || skip "podman is not installed"
	registry_start plain
	md tag busybox "$REGISTRY/test/bb:pm"
	run md push "$REGISTRY/test/bb:pm"
	assert_success
	local digest pm="$BATS_TEST_TMPDIR/podman"
	digest="$(pushed_digest)"
	mkdir -p "$pm/tmp"
	printf '[engine]\nevents_logger = "file"\nevents_logfile_path = "%s/events.log"\n' "$pm" >"$pm/containers.conf"
	printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/storage"\nrunroot = "%s/runroot"\n' "$pm" "$pm" >"$pm/storage.conf"
	pmc() {
		# (registry_start's REGISTRY_AUTH_FILE is skopeo's, and podman reads it too: there is none.)
		env -u REGISTRY_AUTH_FILE CONTAINERS_CONF="$pm/containers.conf" CONTAINERS_STORAGE_CONF="$pm/storage.conf" \
			TMPDIR="$pm/tmp" podman --root "$pm/storage" --runroot "$pm/runroot" --storage-driver vfs --events-backend file "$@"
	}
	run pmc pull --tls-verify=false "$REGISTRY/test/bb:pm"
	assert_success
	run pmc image inspect --format '{{.Digest}}' "$REGISTRY/test/bb:pm"
	assert_success
	[[ "$output" == "$digest" ]] || fail "podman: $output, push: $digest"
	pmc rmi -a -f >/dev/null 2>&1 || true
}

@test "push refusals: an unknown image, a digest, an unreachable registry; exit 1" {
	run md push 127.0.0.1:1/test/none:1
	assert_status 1
	assert_output_contains "an image does not exist locally with the tag 127.0.0.1:1/test/none:1"
	md tag busybox 127.0.0.1:1/test/bb:1
	run md push 127.0.0.1:1/test/bb:1
	assert_status 1
	assert_output_contains "registry 127.0.0.1:1"
	run md push "127.0.0.1:1/test/bb@sha256:$(printf '%064d' 0)"
	assert_status 1
	assert_output_contains "NAME[:TAG]"
	run md push "Bad/Name"
	assert_status 1
	assert_output_contains "invalid reference format"
}

@test "push to a registry that wants a login fails naming the registry, exit 1" {
	registry_start basic
	md tag busybox "$REGISTRY/test/bb:1"
	run md push "$REGISTRY/test/bb:1"
	assert_status 1
	assert_output_contains "push $REGISTRY/test/bb:1"
	assert_output_contains "authentication required"
	refute grep -q ": Pushed" <<<"$output"
}

@test "push to a registry named by a host name resolves it (no crash of the static binary): exit 1 on a closed port" {
	local name
	name="$(hostname)"
	# /etc/hosts only: no DNS query leaves the machine.
	[[ "$(getent -s files hosts "$name" | awk '{ print $1; exit }')" == 127.* ]] ||
		skip "the host name \"$name\" is not a 127.x name in /etc/hosts"
	md tag busybox "$name:1/test/bb:1"
	run md push "$name:1/test/bb:1"
	assert_status 1
	assert_output_contains "registry $name:1"
}
