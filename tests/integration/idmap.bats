#!/usr/bin/env bats
# Id-mapped bind mounts (runtime-spec 1.1 mounts[].uidMappings / gidMappings): the container
# sees the source's ids through the mount's mappings; on disk they stay what they were.

load helpers

# runc learnt id-mapped mounts in 1.2; 1.1 ignores the mappings (and its spec has no such field).
require_idmap_runtime() {
	is_mydocker && return 0
	local v
	v="$("$RUNTIME" --version 2>/dev/null | sed -n 's/^runc version \([0-9]*\.[0-9]*\).*/\1/p')"
	if [[ -n "$v" ]] && [[ "$(printf '%s\n1.2\n' "$v" | sort -V | head -1)" != 1.2 ]]; then
		skip "runc $v has no id-mapped mounts"
	fi
}

# idmap_bind DEST UIDMAP GIDMAP [OPTION...]: binds $HOST_DIR on DEST with the mappings (JSON).
idmap_bind() {
	local dst="$1" uids="$2" gids="$3"
	shift 3
	update_config '.mounts += [{source: $s, destination: $d, type: "bind", options: $o,
		uidMappings: $u, gidMappings: $g}]' \
		--arg s "$HOST_DIR" --arg d "$dst" --argjson o "$(json_array bind "$@")" \
		--argjson u "$uids" --argjson g "$gids"
}

@test "idmap: a host dir owned by 1000 is seen as 0, and files made through it stay 1000 on disk" {
	require_idmap_runtime
	chown 1000:1000 "$HOST_DIR"
	touch "$HOST_DIR/f"
	chown 1000:1000 "$HOST_DIR/f"
	idmap_bind /mnt '[{"containerID": 1000, "hostID": 0, "size": 1}]' \
		'[{"containerID": 1000, "hostID": 0, "size": 1}]'
	set_args sh -c 'stat -c "%u %g" /mnt /mnt/f; touch /mnt/new && stat -c "%u %g" /mnt/new'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "${lines[0]}" = "0 0" ]
	[ "${lines[1]}" = "0 0" ]
	[ "${lines[2]}" = "0 0" ]
	# Root's file, written through the mapping, is 1000's on the host.
	[ "$(stat -c '%u %g' "$HOST_DIR/new")" = "1000 1000" ]
	[ "$(stat -c '%u %g' "$HOST_DIR/f")" = "1000 1000" ]
	# The mapping is the container's only: the host still sees the dir as 1000's.
	[ "$(stat -c %u "$HOST_DIR")" = 1000 ]
}

@test "idmap: ids outside the mapping show as the overflow id" {
	require_idmap_runtime
	touch "$HOST_DIR/root-owned"
	idmap_bind /mnt '[{"containerID": 1000, "hostID": 0, "size": 1}]' \
		'[{"containerID": 1000, "hostID": 0, "size": 1}]' ro
	set_args sh -c 'stat -c %u /mnt/root-owned; touch /mnt/x; echo "touch $?"'
	runtime run --bundle "$BUNDLE" "$CID"
	[ "${lines[0]}" = 65534 ]
	# ro applies to the id-mapped bind too.
	assert_output_contains "Read-only file system"
	[ ! -e "$HOST_DIR/x" ]
}

@test "idmap: with a new user namespace the mount maps into the container's ids" {
	require_idmap_runtime
	# Path components must be traversable by the mapped uid.
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR" "$BUNDLE"
	chown 1000:1000 "$HOST_DIR"
	add_namespace user
	update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	# Disk 1000 -> host 100000 -> the container's 0.
	idmap_bind /mnt '[{"containerID": 1000, "hostID": 100000, "size": 1}]' \
		'[{"containerID": 1000, "hostID": 100000, "size": 1}]'
	chown -R 100000:100000 "$BUNDLE/rootfs"
	set_args sh -c 'stat -c "%u %g" /mnt; id -u'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "${lines[0]}" = "0 0" ]
	[ "${lines[1]}" = 0 ]
}

@test "idmap: an overlapping mapping is rejected, naming the field, and leaves nothing" {
	require_idmap_runtime
	idmap_bind /mnt '[{"containerID": 0, "hostID": 1000, "size": 10}, {"containerID": 5, "hostID": 5000, "size": 1}]' \
		'[{"containerID": 0, "hostID": 1000, "size": 1}]'
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	if is_mydocker; then
		assert_output_contains "uidMappings[1].containerID: overlaps"
	fi
	no_state_left
	wait_for no_cgroup_left
}

@test "idmap: mappings on a mount that is not a bind are rejected" {
	is_mydocker || skip "mydocker-runc's message"
	update_config '.mounts += [{destination: "/mnt", type: "tmpfs", source: "tmpfs",
		uidMappings: [{"containerID": 0, "hostID": 1000, "size": 1}],
		gidMappings: [{"containerID": 0, "hostID": 1000, "size": 1}]}]'
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "uidMappings: only a bind mount can be id-mapped"
	no_state_left
}

@test "idmap: uidMappings without gidMappings are rejected" {
	require_idmap_runtime
	update_config '.mounts += [{source: $s, destination: "/mnt", type: "bind", options: ["bind"],
		uidMappings: [{"containerID": 1000, "hostID": 0, "size": 1}]}]' --arg s "$HOST_DIR"
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	if is_mydocker; then
		assert_output_contains "gidMappings: required for an id-mapped mount"
	fi
	no_state_left
}
