#!/usr/bin/env bats
# mydocker pull of layer formats and layer stacks pull.bats does not cover (it has gzip, zstd
# through skopeo, a two-platform index, TLS): uncompressed layers; gzip, zstd and
# uncompressed layers in one image, with whiteouts and an opaque directory made by hand; and
# a five-layer image made by our own run + commit steps that delete and replace files of
# lower layers, pushed, pulled into an empty store and run. Hand-made images are written
# with tar, gzip, zstd, jq and sha256sum and uploaded byte for byte with curl (no client
# recompresses them), so what the test checks is what the registry serves.

load engine_helpers
load registry_helpers
bats_require_minimum_version 1.5.0

setup() { registry_setup; }
teardown() { registry_teardown; }

# layout_add_layer DIR ROOT none|gzip|zstd: the files of ROOT as one layer blob of the OCI
# layout DIR; appends its descriptor to LAYER_DESCS and its diff_id to DIFF_IDS.
layout_add_layer() {
	local dir="$1" root="$2" comp="$3" tmp mt=application/vnd.oci.image.layer.v1.tar names
	mkdir -p "$dir/blobs/sha256"
	tmp="$(mktemp "$BATS_TEST_TMPDIR/layer.XXXXXX")"
	mapfile -t names < <(ls -A "$root")
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$tmp" "${names[@]}" || return
	DIFF_IDS+=("sha256:$(sha256sum "$tmp" | cut -d' ' -f1)")
	case "$comp" in
	none) ;;
	gzip) gzip -n "$tmp" && tmp="$tmp.gz" && mt+="+gzip" ;;
	zstd) zstd -q --rm "$tmp" && tmp="$tmp.zst" && mt+="+zstd" ;;
	*) fail "layout_add_layer: unknown compression $comp" ;;
	esac || return
	LAYER_DESCS+=("$(oci_blob "$dir" "$tmp" "$mt")")
}

# layout_finish DIR: the config (its diff_ids) and the manifest of the layers added, and
# index.json naming it; resets LAYER_DESCS and DIFF_IDS.
layout_finish() {
	local dir="$1" config_desc
	printf '%s\n' "${DIFF_IDS[@]}" | jq -cRs --arg a "$(go_arch)" \
		'{architecture: $a, os: "linux", config: {Cmd: ["/nothing"]},
		  rootfs: {type: "layers", diff_ids: (split("\n") | map(select(. != "")))}}' >"$dir/config.json"
	config_desc="$(oci_blob "$dir" "$dir/config.json" application/vnd.oci.image.config.v1+json)"
	printf '%s\n' "${LAYER_DESCS[@]}" | jq -cs --argjson c "$config_desc" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: .}' \
		>"$dir/manifest.json"
	oci_blob "$dir" "$dir/manifest.json" application/vnd.oci.image.manifest.v1+json |
		jq -c '{schemaVersion: 2, manifests: [.]}' >"$dir/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	LAYER_DESCS=() DIFF_IDS=()
}

# go_arch: this host's architecture as images name it.
go_arch() {
	case "$(uname -m)" in
	x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;;
	esac
}

# reg_upload_layout DIR REPO:TAG: every blob of the layout DIR, then its manifest as TAG, to
# the plain registry, byte for byte (distribution's POST + PUT upload); PUSHED_DIGEST is the
# manifest's digest.
reg_upload_layout() {
	local dir="$1" repo="${2%:*}" tag="${2##*:}" f hex loc code manifest
	for f in "$dir"/blobs/sha256/*; do
		hex="${f##*/}"
		loc="$(registry_curl -X POST -D - -o /dev/null "$REGISTRY_URL/v2/$repo/blobs/uploads/" |
			tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
		[[ -n "$loc" ]] || fail "upload of $hex: no Location" || return
		[[ "$loc" == http* ]] || loc="$REGISTRY_URL$loc"
		[[ "$loc" == *\?* ]] && loc+="&" || loc+="?"
		code="$(registry_curl -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
			--data-binary "@$f" "${loc}digest=sha256:$hex")"
		[[ "$code" == 201 ]] || fail "upload of blob $hex: HTTP $code" || return
	done
	manifest="$(jq -r '.manifests[0].digest' "$dir/index.json")"
	code="$(registry_curl -o /dev/null -w '%{http_code}' -X PUT \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$dir/blobs/sha256/${manifest#sha256:}" "$REGISTRY_URL/v2/$repo/manifests/$tag")"
	[[ "$code" == 201 ]] || fail "upload of the manifest: HTTP $code" || return
	PUSHED_DIGEST="$manifest"
}

# exported_file CONTAINER PATH: the content of PATH in the container's filesystem (mdp export).
exported_file() { mdp export "$1" | tar -xOf - "$2"; }
# exported_list CONTAINER: every path in the container's filesystem, one a line, no "./".
exported_list() { mdp export "$1" | tar -tf - | sed 's|^\./||; s|/$||'; }

@test "pull of an image whose layers are uncompressed tars" {
	registry_start plain
	local dir="$BATS_TEST_TMPDIR/plain" r="$BATS_TEST_TMPDIR/r1"
	mkdir -p "$r/etc" "$BATS_TEST_TMPDIR/r2/etc"
	echo first >"$r/etc/one.txt"
	echo second >"$BATS_TEST_TMPDIR/r2/etc/two.txt"
	layout_add_layer "$dir" "$r" none
	layout_add_layer "$dir" "$BATS_TEST_TMPDIR/r2" none
	layout_finish "$dir"
	reg_upload_layout "$dir" test/plain:1
	run registry_curl -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$REGISTRY_URL/v2/test/plain/manifests/1"
	assert_success
	[[ "$(jq -r '[.layers[].mediaType] | unique | .[]' <<<"$output")" == application/vnd.oci.image.layer.v1.tar ]] ||
		fail "the layers are not plain tars: $output"
	run mdp pull "$REGISTRY/test/plain:1"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	mdp create --network none --name plain1 "$REGISTRY/test/plain:1" >/dev/null
	[[ "$(exported_file plain1 etc/one.txt)" == first ]] || fail "etc/one.txt"
	[[ "$(exported_file plain1 etc/two.txt)" == second ]] || fail "etc/two.txt"
}

@test "pull of gzip, zstd and uncompressed layers in one image, with whiteouts and an opaque directory" {
	registry_start plain
	local dir="$BATS_TEST_TMPDIR/mixed" l1="$BATS_TEST_TMPDIR/l1" l2="$BATS_TEST_TMPDIR/l2" l3="$BATS_TEST_TMPDIR/l3"
	mkdir -p "$l1/etc" "$l1/dir/sub" "$l2/etc" "$l2/dir" "$l3/etc"
	echo a1 >"$l1/etc/a.txt"
	echo gone >"$l1/etc/gone.txt"
	echo old >"$l1/dir/old.txt"
	echo deep >"$l1/dir/sub/deep.txt"
	echo kept >"$l1/keep.txt"
	# zstd: replaces a.txt, deletes gone.txt, makes dir opaque (its lower content hidden).
	echo a2 >"$l2/etc/a.txt"
	: >"$l2/etc/.wh.gone.txt"
	: >"$l2/dir/.wh..wh..opq"
	echo new >"$l2/dir/new.txt"
	# uncompressed: deletes a.txt (which the zstd layer replaced) and adds plain.txt.
	: >"$l3/etc/.wh.a.txt"
	echo plain >"$l3/etc/plain.txt"
	layout_add_layer "$dir" "$l1" gzip
	layout_add_layer "$dir" "$l2" zstd
	layout_add_layer "$dir" "$l3" none
	layout_finish "$dir"
	reg_upload_layout "$dir" test/mixed:1
	run mdp pull "$REGISTRY/test/mixed:1"
	assert_success
	assert_output_contains "Digest: $PUSHED_DIGEST"
	mdp create --network none --name mixed1 "$REGISTRY/test/mixed:1" >/dev/null
	local files
	files="$(exported_list mixed1)"
	# (The listing's spelling, checked on files that must be there: the absences below count.)
	grep -qx etc/plain.txt <<<"$files" && grep -qx dir/new.txt <<<"$files" || fail "listing: $files"
	[[ "$(exported_file mixed1 keep.txt)" == kept ]] || fail "keep.txt"
	[[ "$(exported_file mixed1 dir/new.txt)" == new ]] || fail "dir/new.txt"
	[[ "$(exported_file mixed1 etc/plain.txt)" == plain ]] || fail "etc/plain.txt"
	local gone
	for gone in etc/a.txt etc/gone.txt dir/old.txt dir/sub dir/sub/deep.txt; do
		grep -qx "$gone" <<<"$files" && fail "$gone is still there: $files"
	done
	# No whiteout file itself reaches the container.
	grep -q '\.wh\.' <<<"$files" && fail "a whiteout file was unpacked: $files"
	true
}

@test "pull of a five-layer image whose upper layers delete and replace lower files (run + commit)" {
	registry_start plain
	# Layer 1 is busybox; each step a container of the previous image, committed.
	md run --network none --name s1 busybox sh -c \
		'mkdir -p /data/dir /data/sub && echo a1 >/data/a.txt && echo b1 >/data/b.txt &&
		 echo x >/data/dir/x.txt && echo k >/data/keep.txt && echo s >/data/sub/s.txt'
	md commit s1 wh:1 >/dev/null
	md run --network none --name s2 wh:1 sh -c 'rm /data/a.txt && echo b2 >/data/b.txt && rm /bin/vi'
	md commit s2 wh:2 >/dev/null
	md run --network none --name s3 wh:2 sh -c 'rm -r /data/dir /data/sub && echo a3 >/data/a.txt'
	md commit s3 wh:3 >/dev/null
	md run --network none --name s4 wh:3 sh -c 'mkdir /data/dir && echo y >/data/dir/y.txt && echo b4 >/data/b.txt'
	md commit s4 "$REGISTRY/test/wh:5" >/dev/null
	run md push "$REGISTRY/test/wh:5"
	assert_success
	# Five layers, and the deletions travel as whiteouts (not as missing files).
	local raw
	raw="$(registry_curl -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "$REGISTRY_URL/v2/test/wh/manifests/5")"
	[[ "$(jq '.layers | length' <<<"$raw")" -eq 5 ]] || fail "not 5 layers: $raw"
	local d listing="" blob="$BATS_TEST_TMPDIR/blob"
	for d in $(jq -r '.layers[].digest' <<<"$raw"); do
		registry_curl -o "$blob" "$REGISTRY_URL/v2/test/wh/blobs/$d"
		# (tar finds the compression itself, if any.)
		listing+="$(tar -tf "$blob")"$'\n'
	done
	grep -q 'data/\.wh\.a\.txt$' <<<"$listing" || fail "no whiteout of data/a.txt in the layers"
	grep -q 'bin/\.wh\.vi$' <<<"$listing" || fail "no whiteout of bin/vi in the layers"
	grep -q 'data/\.wh\.sub$' <<<"$listing" || fail "no whiteout of data/sub in the layers"

	run mdp pull "$REGISTRY/test/wh:5"
	assert_success
	run mdp run --rm --network none "$REGISTRY/test/wh:5" sh -c \
		'cat /data/a.txt /data/b.txt /data/keep.txt /data/dir/y.txt; ls -A /data /data/dir;
		 for f in /data/dir/x.txt /data/sub /bin/vi; do [ -e "$f" ] && echo "LEFT $f"; done; true'
	assert_success
	[[ "$output" != *LEFT* ]] || fail "deleted files came back: $output"
	[[ "${lines[0]}" == a3 && "${lines[1]}" == b4 && "${lines[2]}" == k && "${lines[3]}" == y ]] ||
		fail "contents: $output"
	[[ "$output" != *.wh.* ]] || fail "a whiteout file is visible: $output"
	[[ "$output" == *y.txt* && "$output" != *x.txt* ]] || fail "/data/dir: $output"
	# And the same five layers' content as the store that made it.
	run md run --rm --network none "$REGISTRY/test/wh:5" sh -c 'cat /data/a.txt /data/b.txt'
	assert_success
	[[ "$output" == $'a3\nb4' ]] || fail "source store: $output"
}
