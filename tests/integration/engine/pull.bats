#!/usr/bin/env bats
# mydocker pull (issue 17, first part) against Debian's docker-registry on 127.0.0.1
# (registry_helpers.bash): images pushed by skopeo from what `mydocker save` wrote, pulled
# into a second, empty store and run; an index picks the platform; zstd layers; TLS with the
# registry's CA in certs.d; and the refusals: unknown tag, a tampered blob, no matching
# platform, a registry that wants a login, a bad reference: an error naming it and nothing
# stored.

load engine_helpers
load registry_helpers
bats_require_minimum_version 1.5.0

setup() { registry_setup; }
teardown() { registry_teardown; }

# image_count: how many images the pulling store lists.
image_count() { mdp images -q | wc -l; }

@test "pull by tag from a plain-HTTP registry into an empty store, then run it" {
	registry_start plain
	registry_push_image busybox test/busybox:1
	run mdp pull "$REGISTRY/test/busybox:1"
	assert_success
	assert_output_contains "1: Pulling from test/busybox"
	assert_output_contains "Pull complete"
	assert_output_contains "Digest: $PUSHED_DIGEST"
	assert_output_contains "Status: Downloaded newer image for $REGISTRY/test/busybox:1"
	[[ "${lines[-1]}" == "$REGISTRY/test/busybox:1" ]] || fail "last line: ${lines[-1]}"
	run mdp run --rm --network none "$REGISTRY/test/busybox:1" echo pulled-and-ran
	assert_success
	assert_output_contains pulled-and-ran
	# Again: nothing to fetch.
	run mdp pull "$REGISTRY/test/busybox:1"
	assert_success
	assert_output_contains "Status: Image is up to date for $REGISTRY/test/busybox:1"
	run mdp pull -q "$REGISTRY/test/busybox:1"
	assert_success
	[[ "$output" == "$REGISTRY/test/busybox:1" ]] || fail "pull -q printed: $output"
}

@test "pull by digest; a tag defaults to latest" {
	registry_start plain
	registry_push_image busybox test/bb:latest
	run mdp pull "$REGISTRY/test/bb@$PUSHED_DIGEST"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	run mdp pull "$REGISTRY/test/bb"
	assert_success
	assert_output_contains "Using default tag: latest"
	run mdp run --rm --network none "$REGISTRY/test/bb" true
	assert_success
}

@test "pull of a two-platform index takes this host's platform, or --platform's" {
	registry_start plain
	registry_push_multiplatform test/multi:latest
	local mine
	case "$(uname -m)" in
	x86_64) mine=amd64 ;; aarch64) mine=arm64 ;; *) skip "the test index holds amd64 and arm64 only" ;;
	esac
	run mdp pull "$REGISTRY/test/multi"
	assert_success
	mdp create --network none --name m1 "$REGISTRY/test/multi" >/dev/null
	[[ "$(mdp export m1 | tar -xOf - platform)" == "linux/$mine" ]] || fail "wrong platform pulled"
	local other=arm64
	[[ "$mine" == amd64 ]] || other=amd64
	run mdp pull --platform "linux/$other" "$REGISTRY/test/multi:latest"
	assert_success
	mdp create --network none --name m2 "$REGISTRY/test/multi" >/dev/null
	[[ "$(mdp export m2 | tar -xOf - platform)" == "linux/$other" ]] || fail "--platform not honoured"
	run mdp pull --platform linux/s390x "$REGISTRY/test/multi:latest"
	assert_status 1
	assert_output_contains "no matching manifest for linux/s390x"
}

@test "pull of zstd layers, and over TLS with the registry's CA in certs.d" {
	registry_start tls
	mkdir -p "$BATS_TEST_TMPDIR/certs.d/$REGISTRY"
	cp "$REGISTRY_CA" "$BATS_TEST_TMPDIR/certs.d/$REGISTRY/ca.crt"
	registry_push_zstd busybox test/zbox:1
	# Without the CA: the certificate is not trusted (and TLS is not given up for plain HTTP).
	run mdp pull "$REGISTRY/test/zbox:1"
	assert_status 1
	assert_output_contains "$REGISTRY"
	MYDOCKER_CERTS_D="$BATS_TEST_TMPDIR/certs.d" run mdp pull "$REGISTRY/test/zbox:1"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/zbox:1" echo zstd-ok
	assert_success
	assert_output_contains zstd-ok
}

@test "pull and push with the client certificate a TLS registry requires: NAME.cert and NAME.key in certs.d" {
	REGISTRY_CLIENT_CERTS=1 registry_start tls
	registry_push_image busybox test/mtls:1
	local certs="$BATS_TEST_TMPDIR/certs.d"
	mkdir -p "$certs/$REGISTRY"
	cp "$REGISTRY_CA" "$certs/$REGISTRY/ca.crt"
	# The CA alone: the registry refuses the handshake; nothing stored.
	MYDOCKER_CERTS_D="$certs" run mdp pull "$REGISTRY/test/mtls:1"
	assert_status 1
	assert_output_contains "$REGISTRY"
	[[ "$(mdp images -q | wc -l)" -eq 0 ]] || fail "an image was stored: $(mdp images)"
	# A certificate without its key is refused, naming both.
	registry_make_client_cert "$certs/$REGISTRY" me || fail "openssl failed"
	mv "$certs/$REGISTRY/me.key" "$BATS_TEST_TMPDIR/me.key"
	MYDOCKER_CERTS_D="$certs" run mdp pull "$REGISTRY/test/mtls:1"
	assert_status 1
	assert_output_contains "me.cert"
	assert_output_contains "me.key"
	# The pair: pull, run, and push it back under another name.
	mv "$BATS_TEST_TMPDIR/me.key" "$certs/$REGISTRY/me.key"
	MYDOCKER_CERTS_D="$certs" run mdp pull "$REGISTRY/test/mtls:1"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/mtls:1" echo mtls-ok
	assert_success
	assert_output_contains mtls-ok
	mdp tag "$REGISTRY/test/mtls:1" "$REGISTRY/test/mtls:2"
	MYDOCKER_CERTS_D="$certs" run mdp push "$REGISTRY/test/mtls:2"
	assert_success
	reg_skopeo_inspect test/mtls:2 >/dev/null || fail "the pushed image is not in the registry"
}

@test "pull refusals: unknown tag, a tampered blob, a login required, a bad reference; nothing stored" {
	registry_start plain
	registry_push_image busybox test/busybox:1
	run mdp pull "$REGISTRY/test/busybox:nope"
	assert_status 1
	assert_output_contains "not found"
	[[ "$(image_count)" -eq 0 ]] || fail "an image was stored"
	# Tamper with every layer blob in the registry's storage (same size, other bytes).
	local blob
	while read -r blob; do
		printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc status=none
	done < <(find "$REGISTRY_DIR/storage" -path '*/blobs/sha256/*/data' -size +10k)
	run mdp pull "$REGISTRY/test/busybox:1"
	assert_status 1
	assert_output_contains "does not match its digest"
	[[ "$(image_count)" -eq 0 ]] || fail "an image was stored from a tampered blob"
	[[ -z "$(find "$PULL_ROOT" -path '*pull.*' 2>/dev/null)" ]] || fail "a pull's temp dir was left"
	run mdp pull "Bad/Name"
	assert_status 1
	assert_output_contains "invalid reference format"
}

@test "pull from a registry that wants a login fails naming the registry" {
	registry_start basic
	run mdp pull "$REGISTRY/test/busybox:1"
	assert_status 1
	assert_output_contains "authentication required"
	assert_output_contains "$REGISTRY"
	[[ "$(image_count)" -eq 0 ]]
}

@test "pull through token auth: an anonymous pull token from the realm, as from Docker Hub" {
	REGISTRY_TOKEN_ANONYMOUS_PULL=1 registry_start token
	registry_push_image busybox test/busybox:1
	run mdp pull "$REGISTRY/test/busybox:1"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	run mdp run --rm --network none "$REGISTRY/test/busybox:1" echo token-ok
	assert_success
	assert_output_contains token-ok
}

@test "pull through token auth when the token grants nothing fails, nothing stored" {
	registry_start token
	registry_push_image busybox test/busybox:1
	run mdp pull "$REGISTRY/test/busybox:1"
	assert_status 1
	assert_output_contains "$REGISTRY/test/busybox:1"
	[[ "$(image_count)" -eq 0 ]]
}

@test "run pulls a missing image (--pull missing, the default); never and always; a bad value" {
	registry_start plain
	registry_push_image busybox test/busybox:1
	run mdp run --rm --pull never "$REGISTRY/test/busybox:1" true
	assert_status 125
	[[ "$(image_count)" -eq 0 ]] || fail "--pull never pulled"
	run mdp run --rm "$REGISTRY/test/busybox:1" echo ran-after-pull
	assert_success
	assert_output_contains "Unable to find image '$REGISTRY/test/busybox:1' locally"
	assert_output_contains "Pull complete"
	assert_output_contains ran-after-pull
	# Present now: no pull.
	run mdp run --rm "$REGISTRY/test/busybox:1" echo again
	assert_success
	[[ "$output" == again ]] || fail "a present image was pulled again: $output"
	run mdp run --rm --pull always "$REGISTRY/test/busybox:1" echo always
	assert_success
	assert_output_contains "Status: Image is up to date"
	run mdp run -d --rm --pull sometimes "$REGISTRY/test/busybox:1" true
	assert_status 125
	assert_output_contains "--pull"
	# The embedded busybox is never pulled under the default.
	run mdp run --rm busybox echo embedded
	assert_success
	[[ "$output" == embedded ]]
}
