#!/usr/bin/env bats
# mydocker push (issue 17, push part) to Debian's docker-registry on 127.0.0.1
# (registry_helpers.bash): what we push is read back by skopeo (the printed digest, the bytes
# of the manifest: docker's schema 2 with gzip layers), pulled into a second, empty store and
# run, and pulled and run by podman; layers are gzipped on the fly into a PATCH, and the
# registry's blobs are gzip; committed, imported, loaded and pulled images; a second push
# finds every layer there through the distribution metadata (same digest, no upload); another
# repository of the same registry gets the layers by a cross-repository mount, found from the
# metadata or from the image's names; TLS with the registry's CA in certs.d; the refusals: an
# unknown image, a digest, an unreachable registry, a bad name, a registry that wants a
# login: an error naming it, exit 1.
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

# assert_docker_gzip_manifest FILE: FILE is a docker schema-2 manifest whose config is docker's
# config type and whose layers (one at least) are all gzip.
assert_docker_gzip_manifest() {
	local m="$1"
	[[ "$(jq -r .mediaType "$m")" == application/vnd.docker.distribution.manifest.v2+json ]] ||
		fail "manifest media type: $(cat "$m")"
	[[ "$(jq -r .config.mediaType "$m")" == application/vnd.docker.container.image.v1+json ]] ||
		fail "config media type: $(cat "$m")"
	[[ "$(jq '.layers | length' "$m")" -ge 1 ]] || fail "no layers: $(cat "$m")"
	[[ "$(jq -r '.layers[].mediaType' "$m" | sort -u)" == application/vnd.docker.image.rootfs.diff.tar.gzip ]] ||
		fail "layer media types: $(cat "$m")"
}

# registry_requests METHOD PATH-PREFIX: how many requests the access log
# (REGISTRY_ACCESSLOG) holds with that method and a path starting so.
registry_requests() {
	grep -c "\"$1 $2" "$REGISTRY_DIR/registry.log" || true
}

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
	# The manifest, byte for byte: its size and sha256 are what push printed; docker's schema 2
	# with gzip layers, as docker 20.10 pushes.
	skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/bb:1" >"$BATS_TEST_TMPDIR/manifest.json"
	[[ "sha256:$(sha256sum <"$BATS_TEST_TMPDIR/manifest.json" | cut -d' ' -f1)" == "$digest" ]] || fail "raw manifest digest differs"
	[[ "$(wc -c <"$BATS_TEST_TMPDIR/manifest.json")" -eq "$size" ]] || fail "raw manifest size differs from $size"
	assert_docker_gzip_manifest "$BATS_TEST_TMPDIR/manifest.json"
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

@test "push gzips the layers on the fly into a PATCH; the registry holds gzip blobs that match the manifest" {
	REGISTRY_ACCESSLOG=1
	registry_start plain
	md run --network none --name src busybox sh -c 'seq 1 20000 > /numbers.txt'
	md commit src "$REGISTRY/test/gz:1" >/dev/null
	run md push "$REGISTRY/test/gz:1"
	assert_success
	[[ "$(grep -c ': Pushed$' <<<"$output")" -eq 2 ]] || fail "two layers pushed expected: $output"
	skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/gz:1" >"$BATS_TEST_TMPDIR/manifest.json"
	assert_docker_gzip_manifest "$BATS_TEST_TMPDIR/manifest.json"
	# Each layer's blob, as the registry stores it: gzip (1f 8b), of the manifest's size and
	# digest, and it decompresses to the layer the store keeps (its diff_id).
	local d hex data diff_ids i=0
	mapfile -t diff_ids < <(md image inspect "$REGISTRY/test/gz:1" | jq -r '.[0].RootFS.Layers[]')
	[[ "${#diff_ids[@]}" -eq 2 ]] || fail "diff_ids: ${diff_ids[*]}"
	for d in $(jq -r '.layers[].digest' "$BATS_TEST_TMPDIR/manifest.json"); do
		hex="${d#sha256:}"
		data="$REGISTRY_DIR/storage/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
		[[ -f "$data" ]] || fail "no blob $d in the registry's storage"
		[[ "$(head -c 2 "$data" | od -An -tx1 | tr -d ' ')" == 1f8b ]] || fail "blob $d is not gzip"
		[[ "$(sha256sum <"$data" | cut -d' ' -f1)" == "$hex" ]] || fail "blob $d: other bytes"
		[[ "$(stat -c %s "$data")" -eq "$(jq --arg d "$d" '.layers[] | select(.digest == $d) | .size' "$BATS_TEST_TMPDIR/manifest.json")" ]] ||
			fail "blob $d: size differs from the manifest's"
		[[ "sha256:$(gzip -dc <"$data" | sha256sum | cut -d' ' -f1)" == "${diff_ids[$i]}" ]] ||
			fail "layer $i decompresses to another tar than ${diff_ids[$i]}"
		i=$((i + 1))
	done
	# The upload: a PATCH per layer (the compressed stream), then a PUT of its digest; only
	# the config goes in one PUT.
	[[ "$(registry_requests PATCH /v2/test/gz/blobs/uploads/)" -eq 2 ]] ||
		fail "PATCH requests: $(grep -E '"(PATCH|PUT|POST) ' "$REGISTRY_DIR/registry.log")"
	[[ "$(registry_requests PUT /v2/test/gz/blobs/uploads/)" -eq 3 ]] ||
		fail "PUT requests: $(grep -E '"(PATCH|PUT|POST) ' "$REGISTRY_DIR/registry.log")"
	# Pulled back into an empty store, the files are there.
	run mdp pull "$REGISTRY/test/gz:1"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/gz:1" tail -n 1 /numbers.txt
	assert_success
	[[ "$output" == 20000 ]] || fail "tail printed: $output"
}

@test "push streams: a 128 MiB layer goes with a small peak RSS" {
	[[ -x /usr/bin/time ]] || skip "GNU time is not installed"
	registry_start plain
	# Random bytes would make gzip the long part of the test; repeated text compresses fast.
	md run --network none --name big busybox sh -c 'yes mydocker-push-rss | head -c 134217728 >/big'
	md commit big "$REGISTRY/test/big:1" >/dev/null
	run /usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$MYDOCKER" push "$REGISTRY/test/big:1"
	assert_success
	assert_output_contains ": Pushed"
	local rss_kib
	rss_kib="$(tail -n 1 "$BATS_TEST_TMPDIR/rss")"
	# The whole layer in memory would be 128 MiB at least.
	((rss_kib < 48 * 1024)) || fail "push peaked at $rss_kib KiB"
	run reg_skopeo_inspect test/big:1
	assert_success
}

@test "a second push uploads nothing: the distribution metadata knows the blobs, same digest" {
	REGISTRY_ACCESSLOG=1
	registry_start plain
	md tag busybox "$REGISTRY/test/bb:1"
	run md push "$REGISTRY/test/bb:1"
	assert_success
	local first patches
	first="$(pushed_digest)"
	jq -e 'length >= 1' "$MYDOCKER_ROOT/images/distribution.json" >/dev/null ||
		fail "no distribution metadata: $(cat "$MYDOCKER_ROOT/images/distribution.json")"
	patches="$(registry_requests PATCH /v2/)"
	md tag busybox "$REGISTRY/test/bb:2"
	run md push "$REGISTRY/test/bb:2"
	assert_success
	[[ "$(grep -c ': Layer already exists$' <<<"$output")" -eq "$(jq '.layers | length' <(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/bb:1"))" ]] ||
		fail "every layer should exist already: $output"
	[[ "$(pushed_digest)" == "$first" ]] || fail "second push: $(pushed_digest), first: $first"
	[[ "$(registry_requests PATCH /v2/)" -eq "$patches" ]] || fail "the second push uploaded"
}

@test "push to another repository mounts through the distribution metadata, not the image's names" {
	registry_start plain
	md tag busybox "$REGISTRY/test/one:1"
	md push "$REGISTRY/test/one:1" >/dev/null
	# The image no longer has a name in test/one: only the metadata says where its layers are.
	md rmi "$REGISTRY/test/one:1" >/dev/null
	md tag busybox "$REGISTRY/test/three:1"
	run md push "$REGISTRY/test/three:1"
	assert_success
	assert_output_contains ": Mounted from test/one"
	refute grep -q ": Pushed" <<<"$output"
	run mdp pull "$REGISTRY/test/three:1"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/three:1" true
	assert_success
	# A stale record (the blob gone from the registry) only costs an upload.
	local d hex
	for d in $(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/test/three:1" | jq -r '.layers[].digest'); do
		hex="${d#sha256:}"
		rm -rf "$REGISTRY_DIR/storage/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex"
	done
	md tag busybox "$REGISTRY/test/four:1"
	run md push "$REGISTRY/test/four:1"
	assert_success
	assert_output_contains ": Pushed"
	run mdp pull "$REGISTRY/test/four:1"
	assert_success
}

@test "rmi drops the distribution metadata of the layers it removes, keeps the others'" {
	registry_start plain
	md run --network none --name src busybox sh -c 'echo rmi-me > /f'
	md commit src "$REGISTRY/test/c:1" >/dev/null
	md push "$REGISTRY/test/c:1" >/dev/null
	local dist="$MYDOCKER_ROOT/images/distribution.json" base top
	base="$(md image inspect "$REGISTRY/test/c:1" | jq -r '.[0].RootFS.Layers[0]')"
	top="$(md image inspect "$REGISTRY/test/c:1" | jq -r '.[0].RootFS.Layers[-1]')"
	jq -e --arg b "$base" --arg t "$top" 'has($b) and has($t)' "$dist" >/dev/null || fail "after push: $(cat "$dist")"
	md rmi "$REGISTRY/test/c:1" >/dev/null
	# The top layer left the store; busybox's, under the base, is still there.
	jq -e --arg b "$base" --arg t "$top" 'has($b) and (has($t) | not)' "$dist" >/dev/null || fail "after rmi: $(cat "$dist")"
}

@test "a pulled image pushed to another repository mounts its layers from where it was pulled" {
	registry_start plain
	md tag busybox "$REGISTRY/test/bb:1"
	md push "$REGISTRY/test/bb:1" >/dev/null
	run mdp pull "$REGISTRY/test/bb:1"
	assert_success
	[[ -s "$PULL_ROOT/images/distribution.json" ]] ||
		skip "pull does not record its layers' sources yet (record_layer_source, distribution.h)"
	mdp tag "$REGISTRY/test/bb:1" "$REGISTRY/test/copy:1"
	mdp rmi "$REGISTRY/test/bb:1" >/dev/null
	run mdp push "$REGISTRY/test/copy:1"
	assert_success
	assert_output_contains ": Mounted from test/bb"
	refute grep -q ": Pushed" <<<"$output"
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

# pm_procs DIR: pids of the processes (conmon, podman's cleanup) whose command line names DIR.
pm_procs() {
	local p args
	for p in /proc/[0-9]*; do
		p="${p#/proc/}"
		[[ "$p" == "$$" || "$p" == "$BASHPID" ]] && continue
		mapfile -d '' args <"/proc/$p/cmdline" 2>/dev/null || continue
		[[ "${args[*]}" == *"$1"* ]] && echo "$p"
	done
	return 0
}
pm_quiet() { [[ -z "$(pm_procs "$1")" ]] && ! awk -v r="$1" 'index($5, r) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; }

@test "podman pulls what we pushed, with the same digest, and runs it" {
	command -v podman >/dev/null || skip "podman is not installed"
	# runc: Debian's crun refuses this host's hybrid cgroups.
	[[ -x /usr/sbin/runc ]] || skip "runc is not installed"
	registry_start plain
	md run --network none --name src busybox sh -c 'echo from-mydocker > /pushed.txt'
	md commit src "$REGISTRY/test/bb:pm" >/dev/null
	run md push "$REGISTRY/test/bb:pm"
	assert_success
	local digest pm="$BATS_TEST_TMPDIR/podman"
	digest="$(pushed_digest)"
	mkdir -p "$pm/tmp"
	"$BATS_TEST_DIRNAME/../../../scripts/podman-conf" "$pm"
	printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/storage"\nrunroot = "%s/runroot"\n' "$pm" "$pm" >"$pm/storage.conf"
	pmc() {
		# (registry_start's REGISTRY_AUTH_FILE is skopeo's, and podman reads it too: there is none.)
		env -u REGISTRY_AUTH_FILE CONTAINERS_CONF="$pm/containers.conf" CONTAINERS_STORAGE_CONF="$pm/storage.conf" \
			TMPDIR="$pm/tmp" podman --root "$pm/storage" --runroot "$pm/runroot" --tmpdir "$pm/tmp" \
			--storage-driver vfs --events-backend file "$@"
	}
	run pmc pull --tls-verify=false "$REGISTRY/test/bb:pm"
	assert_success
	run pmc image inspect --format '{{.Digest}}' "$REGISTRY/test/bb:pm"
	assert_success
	[[ "$output" == "$digest" ]] || fail "podman: $output, push: $digest"
	run pmc --runtime /usr/sbin/runc run --rm --network none "$REGISTRY/test/bb:pm" cat /pushed.txt
	local run_status=$status run_output=$output
	pmc rm -a -f >/dev/null 2>&1 || true
	# conmon and podman's cleanup of the container finish on their own: a bounded wait.
	wait_for pm_quiet "$pm" || fail "podman left processes or mounts: $(pm_procs "$pm")"
	pmc rmi -a -f >/dev/null 2>&1 || true
	status=$run_status output=$run_output
	assert_success
	[[ "$output" == from-mydocker ]] || fail "podman run printed: $output"
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

@test "push after login to a token registry over TLS: the chunked upload carries the token; a mount asks pull on its source" {
	registry_start tls+token
	mkdir -p "$BATS_TEST_TMPDIR/certs.d/$REGISTRY"
	cp "$REGISTRY_CA" "$BATS_TEST_TMPDIR/certs.d/$REGISTRY/ca.crt"
	export MYDOCKER_CERTS_D="$BATS_TEST_TMPDIR/certs.d"
	# The credentials file in the test's temp dir, never root's.
	export MYDOCKER_CONFIG="$BATS_TEST_TMPDIR/mycfg" DOCKER_CONFIG="$BATS_TEST_TMPDIR/dockercfg"
	md login -u "$REGISTRY_USER" -p "$REGISTRY_PASS" "$REGISTRY" >/dev/null
	md tag busybox "$REGISTRY/test/private:1"
	run md push "$REGISTRY/test/private:1"
	assert_success
	assert_output_contains ": Pushed"
	local digest
	digest="$(pushed_digest)"
	run reg_skopeo_inspect test/private:1
	assert_success
	[[ "$(jq -r .Digest <<<"$output")" == "$digest" ]] || fail "skopeo: $output"
	# Another repository: mounted, with a token that has pull on test/private too (as docker
	# asks for it); the same digest.
	md tag busybox "$REGISTRY/test/other:1"
	run md push "$REGISTRY/test/other:1"
	assert_success
	assert_output_contains ": Mounted from test/private"
	refute grep -q ": Pushed" <<<"$output"
	[[ "$(pushed_digest)" == "$digest" ]] || fail "second repository: $(pushed_digest), first: $digest"
	grep -q 'scope=repository%3Atest%2Fother%3Apull%2Cpush&scope=repository%3Atest%2Fprivate%3Apull' "$REGISTRY_DIR/token.log" ||
		fail "no token asked with both scopes: $(grep scope "$REGISTRY_DIR/token.log")"
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
