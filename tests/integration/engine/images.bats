#!/usr/bin/env bats
# mydocker's image commands: images, tag, rmi, import, save, load; and images crossing over to
# podman and back (both save formats). As root.
#
#   bats tests/integration/engine/images.bats
#   MYDOCKER=build/mydocker MYDOCKER_RUNC=build/mydocker-runc bats tests/integration/engine/images.bats
#
# Every test has its own engine root ($BATS_TEST_TMPDIR/root, passed as MYDOCKER_ROOT). podman
# is confined to one temp dir for the file ($CLIENTS_TMP: storage, runroot, tmpdir, config),
# as in tests/integration/podman.bats, and drives $RUNTIME (default $MYDOCKER_RUNC). Teardown
# checks that nothing is left: no mounts under the temp dirs, no /var/lib/mydocker or
# /run/mydocker created, no podman processes or cgroups.

load ../clients_helpers
# clients_helpers assumes its callers live in tests/integration/; this file is one level down.
CLIENTS_REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)"

BUILD="${BUILD_DIR:-/work/build-images}"
MYDOCKER="${MYDOCKER:-$BUILD/mydocker}"
export MYDOCKER_RUNC="${MYDOCKER_RUNC:-$BUILD/mydocker-runc}"
BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-180}"

# md ARGS...: mydocker with this test's root; containers in the file's cgroup parent, which
# clients_teardown_tmp removes.
md() {
	case "${1:-}" in
	run | create) MYDOCKER_ROOT="$ROOT" "$MYDOCKER" "$1" --cgroup-parent "$CLIENTS_CGROUP" "${@:2}" ;;
	*) MYDOCKER_ROOT="$ROOT" "$MYDOCKER" "$@" ;;
	esac
}


pm_run() {
	pm run --rm --network none --cgroup-parent "/$CLIENTS_CGROUP" "$@"
}

# True when this mydocker has `run` (the containers module may come later than images).
md_can_run() {
	"$MYDOCKER" --help 2>/dev/null | grep -qE '^ +run( |$)'
}

# The host paths an engine with the default root would create: they must never appear.
ENGINE_HOST_PATHS=(/var/lib/mydocker /run/mydocker)

setup_file() {
	[ -x "$MYDOCKER" ] || {
		echo "mydocker binary '$MYDOCKER' not found: build it or set MYDOCKER" >&2
		return 1
	}
	: >"$BATS_FILE_TMPDIR/host-before"
	local p
	for p in "${ENGINE_HOST_PATHS[@]}"; do
		[ -e "$p" ] && echo "$p" >>"$BATS_FILE_TMPDIR/host-before"
	done
	clients_setup_tmp images
	clients_busybox_rootfs --tar "$CLIENTS_TMP/busybox.tar"

	clients_prereqs podman:podman conmon:conmon jq:jq
	export PODMAN_SKIP="$CLIENTS_SKIP"
	CLIENTS_SKIP=""
	[ -z "$PODMAN_SKIP" ] || return 0
	clients_note_host_paths /var/lib/containers /var/lib/containers/cache \
		/var/lib/containers/cache/blob-info-cache-v1.boltdb "/run/$(basename "$RUNTIME")"
	mkdir -p "$CLIENTS_TMP"/{tmp,net,libpod}
	"$BATS_TEST_DIRNAME/../../../scripts/podman-conf" "$CLIENTS_TMP" "$(basename "$RUNTIME")"
	local driver
	for driver in overlay vfs; do
		cat >"$CLIENTS_TMP/storage.conf" <<-EOF
			[storage]
			driver = "$driver"
			graphroot = "$CLIENTS_TMP/storage"
			runroot = "$CLIENTS_TMP/runroot"
		EOF
		export PODMAN_DRIVER="$driver"
		if pm info >"$CLIENTS_TMP/info.log" 2>&1; then
			return 0
		fi
		pm system reset --force >/dev/null 2>&1 || true
		clients_unmount_under "$CLIENTS_TMP/storage"
		rm -rf "$CLIENTS_TMP/storage" "$CLIENTS_TMP/runroot"
	done
	export PODMAN_SKIP="podman cannot use overlay or vfs here: $(cat "$CLIENTS_TMP/info.log")"
}

teardown_file() {
	[ -n "${CLIENTS_TMP:-}" ] || return 0
	if [ -z "${PODMAN_SKIP:-}" ]; then
		pm rm --all --force --time 0 >/dev/null 2>&1 || true
		pm rmi --all --force >/dev/null 2>&1 || true
		pm unmount --all >/dev/null 2>&1 || true
	fi
	clients_teardown_tmp
}

setup() {
	ROOT="$BATS_TEST_TMPDIR/root"
	mkdir -p "$ROOT"
}

teardown() {
	local status=0 mounts p
	if md_can_run; then
		local ids
		ids="$(md ps -aq 2>/dev/null || true)"
		[ -z "$ids" ] || md rm -f $ids >/dev/null 2>&1 || true
		# The root's default bridge and nft table, made by the first container run here.
		[ ! -d "$ROOT/networks" ] || md network rm bridge >/dev/null 2>&1 || echo "teardown: network rm bridge failed" >&2
	fi
	mounts="$(clients_mounts_under "$BATS_TEST_TMPDIR")"
	if [ -n "$mounts" ]; then
		echo "left mounted: $mounts" >&2
		clients_unmount_under "$BATS_TEST_TMPDIR"
		status=1
	fi
	for p in "${ENGINE_HOST_PATHS[@]}"; do
		if [ -e "$p" ] && ! grep -qxF -- "$p" "$BATS_FILE_TMPDIR/host-before"; then
			echo "created outside the test root: $p" >&2
			status=1
		fi
	done
	rm -rf "$ROOT"
	return $status
}

# --- images, tag, rmi --------------------------------------------------------------------------

@test "images: empty store, then busybox on first use; -q, --no-trunc, --format json, REPO filter" {
	run md images
	[ "$status" -eq 0 ]
	[ "$output" = "REPOSITORY   TAG       IMAGE ID   CREATED   SIZE" ]
	# Reading the store creates nothing.
	[ -z "$(ls -A "$ROOT")" ]

	run md tag busybox mybox:1
	[ "$status" -eq 0 ]
	[ -f "$ROOT/images/oci-layout" ]
	[ -f "$ROOT/images/index.json" ]

	run md images
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[[ "$output" =~ busybox\ +latest\ +[0-9a-f]{12}\ +[^\ ].*\ ago\ +[0-9.]+[kMG]?B ]]
	[[ "$output" =~ mybox\ +1\ +[0-9a-f]{12} ]]

	run md images -q
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{12}$ ]]
	local short="$output"

	run md images -q --no-trunc
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	[ "${output:7:12}" = "$short" ]

	run md images --format json
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	run jq -r 'select(.Repository == "busybox") | [.Tag, .ID, .Size, .CreatedSince, .CreatedAt] | @tsv' <<<"$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^latest$'\t'$short$'\t'[0-9.]+MB$'\t'.*\ ago$'\t'[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\ \+0000\ UTC$ ]]

	run md images mybox
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == mybox* ]]
	run md images busybox:nope
	[ "${#lines[@]}" -eq 1 ]

	run md images --format yaml
	[ "$status" -eq 125 ]
	[[ "$output" == *"yaml"* ]]
}

@test "tag moves a name; bad names and unknown images are errors naming them" {
	run md tag busybox a:1
	[ "$status" -eq 0 ]
	local id
	id="$(md images -q --no-trunc a:1)"
	run md import "$CLIENTS_TMP/busybox.tar" other
	[ "$status" -eq 0 ]
	run md tag other a:1
	[ "$status" -eq 0 ]
	[ "$(md images -q --no-trunc a:1)" != "$id" ]
	# docker.io/library/ spellings are the short name.
	run md tag docker.io/library/busybox:latest b
	[ "$status" -eq 0 ]
	[ "$(md images -q --no-trunc b)" = "$id" ]

	run md tag busybox 'Bad:Name'
	[ "$status" -eq 125 ]
	[[ "$output" == *'"Bad:Name"'* ]]
	run md tag nosuchimage x
	[ "$status" -eq 125 ]
	[[ "$output" == *'unable to find image "nosuchimage"'* ]]
}

@test "rmi untags, then deletes the image and its layers; errors for unknown images" {
	md tag busybox keep:1
	local id layer
	id="$(md images -q --no-trunc busybox)"
	layer="$(ls "$ROOT/layers")"
	[ -d "$ROOT/layers/$layer/bin" ]

	run md rmi keep:1
	[ "$status" -eq 0 ]
	[ "$output" = "Untagged: keep:1" ]
	run md rmi busybox
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Untagged: busybox:latest" ]
	[ "${lines[1]}" = "Deleted: $id" ]
	[ "${lines[2]}" = "Deleted: sha256:$layer" ]
	[ -z "$(ls -A "$ROOT/layers")" ]
	[ -z "$(ls -A "$ROOT/images/blobs/sha256")" ]
	[ "$(md images -q)" = "" ]

	run md rmi nosuchimage
	[ "$status" -eq 125 ]
	[[ "$output" == *'"nosuchimage"'* ]]

	# Several names: removing by id needs -f.
	md tag busybox x:1
	md tag busybox x:2
	run md rmi "${id:7:12}"
	[ "$status" -eq 125 ]
	[[ "$output" == *"must be forced"* ]]
	run md rmi -f "${id:7:12}"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Deleted: $id"* ]]
}

@test "20 concurrent first uses of busybox build it once" {
	local i pids=()
	for i in $(seq 20); do
		md tag busybox "t$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run md images -q
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{12}$ ]]
	[ "$(md images | wc -l)" -eq 22 ]
	[ "$(ls "$ROOT/layers" | wc -l)" -eq 1 ]
	[ -z "$(ls -A "$ROOT/images/tmp")" ]
	[ "$(jq '.manifests | length' "$ROOT/images/index.json")" -eq 21 ]
}

@test "20 concurrent run -d busybox on a fresh root" {
	md_can_run || skip "this mydocker has no run command yet"
	local i pids=()
	for i in $(seq 20); do
		md run -d busybox sleep 60 >/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	[ "$(md ps -q | wc -l)" -eq 20 ]
	[ "$(md images -q | wc -l)" -eq 1 ]
	[ "$(ls "$ROOT/layers" | wc -l)" -eq 1 ]
	run md rm -f $(md ps -aq)
	[ "$status" -eq 0 ]
}

# --- import, save, load ------------------------------------------------------------------------

@test "import a busybox rootfs tarball: plain, gzip, stdin" {
	run md import "$CLIENTS_TMP/busybox.tar" imported:plain
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	local layer
	layer="$(ls "$ROOT/layers")"
	[ -x "$ROOT/layers/$layer/bin/busybox" ]
	[ "$(readlink "$ROOT/layers/$layer/bin/sh")" = busybox ]
	# The layer blob is the tarball itself: uncompressed, digest == diff_id.
	[ "$(sha256sum <"$CLIENTS_TMP/busybox.tar" | cut -d' ' -f1)" = "$layer" ]

	gzip -c "$CLIENTS_TMP/busybox.tar" >"$BATS_TEST_TMPDIR/busybox.tar.gz"
	run md import "$BATS_TEST_TMPDIR/busybox.tar.gz" imported:gz
	[ "$status" -eq 0 ]
	run md import - imported:stdin <"$BATS_TEST_TMPDIR/busybox.tar.gz"
	[ "$status" -eq 0 ]
	# One layer for all three.
	[ "$(ls "$ROOT/layers")" = "$layer" ]
	[ "$(md images imported | wc -l)" -eq 4 ]

	run md import "$BATS_TEST_TMPDIR/missing.tar"
	[ "$status" -eq 125 ]
	[[ "$output" == *missing.tar* ]]
}

@test "import refuses a tarball with an escaping entry, and writes nothing outside the root" {
	mkdir -p "$BATS_TEST_TMPDIR/evil"
	ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/evil/link"
	mkdir -p "$BATS_TEST_TMPDIR/victim"
	tar -C "$BATS_TEST_TMPDIR/evil" -cf "$BATS_TEST_TMPDIR/evil.tar" link
	mkdir -p "$BATS_TEST_TMPDIR/x/link" && echo pwned >"$BATS_TEST_TMPDIR/x/link/file"
	tar -C "$BATS_TEST_TMPDIR/x" -rf "$BATS_TEST_TMPDIR/evil.tar" link/file
	run md import "$BATS_TEST_TMPDIR/evil.tar" evil
	[ "$status" -eq 125 ]
	[[ "$output" == *'"link/file"'* ]]
	[ ! -e "$BATS_TEST_TMPDIR/victim/file" ]
	[ -z "$(ls -A "$ROOT/layers")" ]
	[ "$(md images -q)" = "" ]
}

@test "save and load round trip: docker-archive and oci-archive" {
	md tag busybox mybox:1
	local id
	id="$(md images -q --no-trunc busybox)"
	local fmt
	for fmt in docker-archive oci-archive; do
		run md save --format "$fmt" -o "$BATS_TEST_TMPDIR/$fmt.tar" busybox mybox:1
		[ "$status" -eq 0 ]
		ROOT="$BATS_TEST_TMPDIR/root-$fmt" run md load -i "$BATS_TEST_TMPDIR/$fmt.tar"
		[ "$status" -eq 0 ]
		[[ "$output" == *"Loaded image: busybox:latest"* ]]
		[[ "$output" == *"Loaded image: mybox:1"* ]]
		ROOT="$BATS_TEST_TMPDIR/root-$fmt" run md images -q --no-trunc busybox
		[ "$output" = "$id" ]
		rm -rf "$BATS_TEST_TMPDIR/root-$fmt"
	done
	tar -tf "$BATS_TEST_TMPDIR/docker-archive.tar" | grep -qx manifest.json
	tar -tf "$BATS_TEST_TMPDIR/docker-archive.tar" | grep -qx repositories
	tar -tf "$BATS_TEST_TMPDIR/oci-archive.tar" | grep -qx oci-layout
	[ "$(tar -xOf "$BATS_TEST_TMPDIR/docker-archive.tar" manifest.json | jq -r '.[0].RepoTags | sort | join(",")')" = "busybox:latest,mybox:1" ]

	# stdout and stdin work too; a terminal is refused.
	md save busybox | ROOT="$BATS_TEST_TMPDIR/root-pipe" md load -q | grep -qx "Loaded image: busybox:latest"
	rm -rf "$BATS_TEST_TMPDIR/root-pipe"
	if command -v script >/dev/null; then
		run script -qec "MYDOCKER_ROOT=$ROOT $MYDOCKER save busybox" /dev/null
		[ "$status" -eq 125 ]
		[[ "$output" == *terminal* ]]
	fi

	run md load -i "$CLIENTS_TMP/busybox.tar"
	[ "$status" -eq 125 ]
	[[ "$output" == *"not an image archive"* ]]
}

@test "a loaded image runs (mydocker run)" {
	md_can_run || skip "this mydocker has no run command yet"
	md import "$CLIENTS_TMP/busybox.tar" imported
	md save -o "$BATS_TEST_TMPDIR/i.tar" imported
	md rmi imported
	md load -i "$BATS_TEST_TMPDIR/i.tar"
	run md run --rm imported echo ran from a loaded image
	[ "$status" -eq 0 ]
	[ "$output" = "ran from a loaded image" ]
	run md run --rm busybox cat /etc/passwd
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "root:x:0:0:root:/root:/bin/sh" ]
	# The image's config reaches the container: Cmd ["sh"], Env PATH.
	run md run --rm busybox env
	[ "$status" -eq 0 ]
	[[ "$output" == *"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"* ]]
	run md run --rm busybox </dev/null
	[ "$status" -eq 0 ]
}

# --- podman -------------------------------------------------------------------------------------

@test "podman loads and runs an image mydocker saved (docker-archive and oci-archive)" {
	[ -z "$PODMAN_SKIP" ] || skip "$PODMAN_SKIP"
	md tag busybox mdbox:1
	local id
	id="$(md images -q --no-trunc busybox)"
	md save -o "$BATS_TEST_TMPDIR/d.tar" mdbox:1
	md save --format oci-archive -o "$BATS_TEST_TMPDIR/o.tar" mdbox:1

	run pm load -i "$BATS_TEST_TMPDIR/d.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Loaded image: localhost/mdbox:1"* ]]
	run pm images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[ "$status" -eq 0 ]
	[[ "$output" == *"localhost/mdbox:1 $id"* ]]
	run pm_run localhost/mdbox:1 sh -c 'echo hello from a mydocker image; cat /etc/passwd | head -1'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "hello from a mydocker image" ]
	[ "${lines[1]}" = "root:x:0:0:root:/root:/bin/sh" ]

	run pm load -i "$BATS_TEST_TMPDIR/o.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Loaded image: docker.io/library/mdbox:1"* ]]
	run pm_run docker.io/library/mdbox:1 echo oci
	[ "$status" -eq 0 ]
	[ "$output" = oci ]
	pm rmi --force localhost/mdbox:1 docker.io/library/mdbox:1 >/dev/null
}

@test "mydocker loads what podman saved (docker-archive and oci-archive)" {
	[ -z "$PODMAN_SKIP" ] || skip "$PODMAN_SKIP"
	pm import "$CLIENTS_TMP/busybox.tar" localhost/pmbox:latest >/dev/null
	pm save -o "$BATS_TEST_TMPDIR/pm.tar" localhost/pmbox:latest
	pm save --format oci-archive -o "$BATS_TEST_TMPDIR/pm-oci.tar" localhost/pmbox:latest
	local pid
	pid="$(pm images --no-trunc --format '{{.ID}}' localhost/pmbox:latest)"

	run md load -i "$BATS_TEST_TMPDIR/pm.tar"
	[ "$status" -eq 0 ]
	[ "$output" = "Loaded image: localhost/pmbox:latest" ]
	run md images
	[ "$status" -eq 0 ]
	[[ "$output" =~ localhost/pmbox\ +latest\ +${pid:7:12} ]] || [[ "$output" =~ localhost/pmbox\ +latest\ +${pid:0:12} ]]

	ROOT="$BATS_TEST_TMPDIR/root-oci" run md load -i "$BATS_TEST_TMPDIR/pm-oci.tar"
	[ "$status" -eq 0 ]
	[ "$output" = "Loaded image: localhost/pmbox:latest" ]
	rm -rf "$BATS_TEST_TMPDIR/root-oci"

	if md_can_run; then
		run md run --rm localhost/pmbox echo ran podman\'s image
		[ "$status" -eq 0 ]
		[ "$output" = "ran podman's image" ]
	fi
	pm rmi --force localhost/pmbox:latest >/dev/null
}
