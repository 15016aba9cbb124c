#!/usr/bin/env bats
# Image digests in the store (issue 17): RepoDigests recorded by pull and push and shown by
# inspect, `images --digests` and `--format json`; `rmi REPO@DIGEST`; `image prune` of
# untagged images and what no image references, never an image a container uses. A second,
# empty store pulls from Debian's docker-registry on 127.0.0.1 (registry_helpers.bash).
# Containers use --network none: no test here needs a bridge.

load engine_helpers
load registry_helpers
bats_require_minimum_version 1.5.0

setup() { registry_setup; }
teardown() { registry_teardown; }

# store_files: the pulling store's blobs and unpacked layers, one a line (empty: none).
store_files() {
	find "$PULL_ROOT/images/blobs/sha256" -mindepth 1 2>/dev/null
	find "$PULL_ROOT/layers" -mindepth 1 -maxdepth 1 2>/dev/null
}

@test "pull records the digest: inspect RepoDigests, images --digests and json; rmi REPO@DIGEST" {
	registry_start plain
	registry_push_image busybox test/bb:1
	local repo="$REGISTRY/test/bb"
	run mdp pull "$repo:1"
	assert_success
	run mdp inspect -f '{{.RepoDigests}}' "$repo:1"
	assert_success
	[[ "$output" == "[\"$repo@$PUSHED_DIGEST\"]" ]] || fail "RepoDigests: $output"
	run mdp image inspect -f .RepoTags "$repo:1"
	assert_success
	[[ "$output" == "[\"$repo:1\"]" ]] || fail "RepoTags: $output"
	run mdp images --digests
	assert_success
	[[ "${lines[0]}" == "REPOSITORY"*"TAG"*"DIGEST"*"IMAGE ID"*"CREATED"*"SIZE" ]] || fail "header: ${lines[0]}"
	[[ "${lines[1]}" =~ ^$repo\ +1\ +$PUSHED_DIGEST\ + ]] || fail "row: ${lines[1]}"
	run mdp images --format json
	assert_success
	[[ "$(jq -r .Digest <<<"$output")" == "$PUSHED_DIGEST" ]] || fail "json: $output"
	# Found by its digest, as docker finds it.
	run mdp image inspect -f .Id "$repo@$PUSHED_DIGEST"
	assert_success
	local id="$output"

	# The digest alone goes; the tag keeps the image.
	run mdp rmi "$repo@$PUSHED_DIGEST"
	assert_success
	[[ "$output" == "Untagged: $repo@$PUSHED_DIGEST" ]] || fail "rmi printed: $output"
	run mdp image inspect -f '{{.RepoDigests}}' "$repo:1"
	assert_success
	[[ "$output" == "[]" ]] || fail "RepoDigests after rmi: $output"
	run mdp images --digests
	[[ "${lines[1]}" =~ ^$repo\ +1\ +\<none\>\ + ]] || fail "row without digest: ${lines[1]}"
	# (125: rmi's errors, as images.bats has them.)
	run mdp rmi "$repo@$PUSHED_DIGEST"
	assert_status 125
	assert_output_contains "no such image \"$repo@$PUSHED_DIGEST\""
	run mdp rmi "$repo@sha256:nothex"
	assert_status 125
	assert_output_contains "$repo@sha256:nothex"

	# Its last tag goes and the image with it; pulled by digest: repo <none> with its digest;
	# rmi by digest deletes the image and every blob and layer with it.
	run mdp rmi "$repo:1"
	assert_success
	assert_output_contains "Deleted: $id"
	[[ -z "$(store_files)" ]] || fail "left in the store: $(store_files)"
	run mdp pull "$repo@$PUSHED_DIGEST"
	assert_success
	run mdp images --digests
	assert_success
	[[ "${lines[1]}" =~ ^$repo\ +\<none\>\ +$PUSHED_DIGEST\ + ]] || fail "digest-only row: ${lines[1]}"
	run mdp rmi "$repo@$PUSHED_DIGEST"
	assert_success
	assert_output_contains "Untagged: $repo@$PUSHED_DIGEST"
	assert_output_contains "Deleted: $id"
	[[ -z "$(mdp images -q)" ]] || fail "an image is left"
	[[ -z "$(store_files)" ]] || fail "left in the store: $(store_files)"
	run mdp inspect nothing-here
	assert_status 1
	assert_output_contains "no such object: nothing-here"
}

@test "push records the digest it pushed in RepoDigests" {
	registry_start plain
	md tag busybox "$REGISTRY/test/pushed:1"
	run md push "$REGISTRY/test/pushed:1"
	assert_success
	local digest
	digest="$(sed -n 's/^1: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"${lines[-1]}")"
	[[ -n "$digest" ]] || fail "no digest line: ${lines[-1]}"
	run md image inspect -f '{{.RepoDigests}}' "$REGISTRY/test/pushed:1"
	assert_success
	[[ "$output" == "[\"$REGISTRY/test/pushed@$digest\"]" ]] || fail "RepoDigests: $output"
	md rmi "$REGISTRY/test/pushed:1" >/dev/null
}

@test "image prune: untagged images and their layers go, an image a container uses stays" {
	registry_start plain
	registry_push_image busybox test/bb:1
	local repo="$REGISTRY/test/bb"
	run mdp pull "$repo@$PUSHED_DIGEST"
	assert_success
	local id
	id="$(mdp image inspect -f .Id "$repo@$PUSHED_DIGEST")"
	mdp create --network none --name user "$repo@$PUSHED_DIGEST" true >/dev/null
	# In use: kept, and its layers with it.
	run mdp image prune -f
	assert_success
	[[ "$output" == "Total reclaimed space: 0B" ]] || fail "prune of nothing printed: $output"
	[[ -n "$(mdp images -q)" ]] || fail "an image in use was pruned"
	mdp rm user >/dev/null
	# No stdin and no terminal: prune never waits for a confirmation.
	run mdp image prune </dev/null
	assert_success
	[[ "${lines[0]}" == "Deleted Images:" ]] || fail "first line: ${lines[0]}"
	assert_output_contains "untagged: $repo@$PUSHED_DIGEST"
	assert_output_contains "deleted: $id"
	[[ "${lines[-1]}" =~ ^Total\ reclaimed\ space:\ [0-9.]+[kM]B$ ]] || fail "last line: ${lines[-1]}"
	[[ -z "$(mdp images -q)" ]] || fail "the untagged image is left"
	[[ -z "$(store_files)" ]] || fail "left in the store: $(store_files)"

	# -a: tagged images too; plain prune keeps them.
	run mdp pull "$repo:1"
	assert_success
	run mdp image prune -f
	assert_success
	[[ -n "$(mdp images -q)" ]] || fail "prune without -a removed a tagged image"
	run mdp image prune -a -f
	assert_success
	assert_output_contains "untagged: $repo:1"
	[[ -z "$(mdp images -q)" ]] || fail "prune -a left an image"
	[[ -z "$(store_files)" ]] || fail "left in the store: $(store_files)"
}
