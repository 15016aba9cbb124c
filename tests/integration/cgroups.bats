#!/usr/bin/env bats
# linux.resources and linux.cgroupsPath on this host's cgroup v1 hierarchies
# (/sys/fs/cgroup/<controller>, plus a near-empty cgroup2 at /sys/fs/cgroup/unified).

load helpers

setup() {
	common_setup
	[[ -d "$CGROUP_ROOT/memory" ]] || skip "needs the cgroup v1 memory hierarchy"
}

MiB=$((1024 * 1024))

@test "the container's processes are in cgroupsPath of every controller" {
	run_sleeping_container
	local pid c
	pid="$(container_pid "$CID")"
	for c in memory pids cpu cpuset freezer devices blkio; do
		grep -qx "$pid" "$(cgroup_dir "$c")/cgroup.procs" || fail "$pid not in the $c cgroup"
	done
	grep -E "^[0-9]+:memory:$CGROUP_PATH\$" /proc/"$pid"/cgroup
}

@test "memory limit is written to memory.limit_in_bytes" {
	update_config '.linux.resources.memory = {"limit": 33554432, "reservation": 16777216, "swap": 33554432}'
	run_sleeping_container
	[ "$(cgroup_read memory memory.limit_in_bytes)" -eq $((32 * MiB)) ]
	[ "$(cgroup_read memory memory.soft_limit_in_bytes)" -eq $((16 * MiB)) ]
	if [[ -f "$(cgroup_dir memory)/memory.memsw.limit_in_bytes" ]]; then
		[ "$(cgroup_read memory memory.memsw.limit_in_bytes)" -eq $((32 * MiB)) ]
	fi
}

@test "memory limit is enforced: a process allocating more is OOM-killed (137)" {
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	# dd allocates its 64 MiB block buffer up front.
	set_args dd if=/dev/zero of=/dev/null bs=64M count=1
	runtime run --bundle "$BUNDLE" "$CID"
	assert_status 137
}

@test "memory below the limit is fine" {
	update_config '.linux.resources.memory = {"limit": 67108864}'
	set_args sh -c 'dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null && echo fits'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains fits
}

@test "pids limit is written to pids.max and enforced" {
	update_config '.linux.resources.pids = {"limit": 10}'
	set_args sh -c 'for i in $(seq 50); do sleep 10 & done; echo all-forked'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "can't fork"
	assert_output_not_contains all-forked
}

@test "pids.max holds the configured limit" {
	update_config '.linux.resources.pids = {"limit": 42}'
	run_sleeping_container
	[ "$(cgroup_read pids pids.max)" -eq 42 ]
}

@test "cpu shares, quota and period are written to the cpu controller" {
	update_config '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}'
	run_sleeping_container
	[ "$(cgroup_read cpu cpu.shares)" -eq 512 ]
	[ "$(cgroup_read cpu cpu.cfs_quota_us)" -eq 50000 ]
	[ "$(cgroup_read cpu cpu.cfs_period_us)" -eq 100000 ]
}

@test "cpuset cpus and mems are written to the cpuset controller" {
	update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	add_bind "$HOST_DIR" /host
	set_args sh -c 'grep Cpus_allowed_list /proc/self/status >/host/allowed; exec sleep 1000'
	run_detached
	wait_for test -s "$HOST_DIR/allowed"
	[ "$(cgroup_read cpuset cpuset.cpus)" = 0 ]
	[ "$(cgroup_read cpuset cpuset.mems)" = 0 ]
	[ "$(awk '{print $2}' "$HOST_DIR/allowed")" = 0 ]
}

@test "blockIO throttle rules are written to the blkio controller" {
	local dev majmin
	dev="$(findmnt -no SOURCE / 2>/dev/null || true)"
	[[ -b "$dev" ]] || skip "no block device behind /"
	majmin="$(lsblk -dno MAJ:MIN "$dev" | tr -d ' ')"
	[[ "$majmin" == *:* ]] || skip "cannot find the major:minor of $dev"
	update_config '.linux.resources.blockIO = {"throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}]}' \
		--argjson ma "${majmin%:*}" --argjson mi "${majmin#*:}"
	run_sleeping_container
	grep -qx "$majmin 1048576" "$(cgroup_dir blkio)/blkio.throttle.read_bps_device"
}

@test "device rules: default deny, an allowed device works, others fail with EPERM" {
	# /dev/mem and /dev/kmsg nodes exist in the container; only kmsg is allowed, read-only.
	update_config '.linux.devices = [
			{"path": "/dev/mem", "type": "c", "major": 1, "minor": 1, "fileMode": 384},
			{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 384}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]
		| .process.capabilities[] += ["CAP_SYS_RAWIO", "CAP_SYSLOG"]'
	update_config 'del(.process.capabilities.ambient, .process.capabilities.inheritable)'
	add_bind "$HOST_DIR" /host
	set_args sh -c 'head -c 1 /dev/mem >/dev/null 2>/host/mem.err; echo "mem $?"
		head -c 1 /dev/kmsg | wc -c
		echo x 2>/host/kmsg.err >/dev/kmsg; echo "kmsg-write $?"
		exec sleep 1000'
	run_detached
	wait_for grep -q kmsg-write "$CTR_STDIO"
	grep -q "mem 1" "$CTR_STDIO"
	grep -q "Operation not permitted" "$HOST_DIR/mem.err"
	grep -qx 1 "$CTR_STDIO"
	grep -q "kmsg-write 1" "$CTR_STDIO"
	grep -q "Operation not permitted" "$HOST_DIR/kmsg.err"
	local list
	list="$(cgroup_read devices devices.list)"
	[[ "$list" != *"a *:* rwm"* ]]
	[[ "$list" == *"c 1:11 r"* ]]
	[[ "$list" != *"c 1:1 "* ]]
}

@test "the cgroup dirs vanish after delete" {
	update_config '.linux.resources.memory = {"limit": 33554432} | .linux.resources.pids = {"limit": 20}'
	run_sleeping_container
	local c
	for c in memory pids cpu freezer devices; do
		[ -d "$(cgroup_dir "$c")" ] || fail "no $c cgroup"
	done
	runtime delete --force "$CID"
	assert_success
	no_cgroup_left
}

# Makes cgroup $1 in every hierarchy (cpuset needs cpus and mems before it takes tasks).
make_parent_cgroup() {
	local parent="$1" hier
	CGROUP_PATHS+=("$parent")
	for hier in "$CGROUP_ROOT"/*/; do
		mkdir -p "${hier%/}$parent"
		if [[ -f "${hier%/}/cpuset.cpus" ]]; then
			cat "${hier%/}/cpuset.cpus" >"${hier%/}$parent/cpuset.cpus"
			cat "${hier%/}/cpuset.mems" >"${hier%/}$parent/cpuset.mems"
		fi
	done
}

@test "a relative cgroupsPath is created, used and removed" {
	# The runtime-spec leaves the base of a relative path to the runtime; runc takes its own
	# cgroup. The runtime runs from a shell that joined a parent cgroup made by this test in
	# every hierarchy, so either reading stays inside cgroups this test owns.
	local parent="$CGROUP_PATH-parent" rel="mydocker-test-rel-$$"
	make_parent_cgroup "$parent"
	CGROUP_PATHS+=("/$rel")
	update_config '.linux.cgroupsPath = $p | .linux.resources.pids = {"limit": 21}' --arg p "$rel"
	set_args sleep 1000
	run bash -c 'for h in '"$CGROUP_ROOT"'/*/; do echo $$ >"${h%/}'"$parent"'/cgroup.procs"; done
		exec "$RUNTIME" --root "$ROOT" run -d --bundle "$BUNDLE" "$CID" </dev/null >/dev/null 2>&1 3>&-'
	assert_success
	wait_for_status "$CID" running
	local pid cg
	pid="$(container_pid "$CID")"
	cg="$(awk -F: '$2 == "pids" {print $3}' "/proc/$pid/cgroup")"
	[[ "$cg" == */"$rel" ]] || fail "pids cgroup '$cg' does not end in '$rel'"
	[[ "$cg" == "/$rel" || "$cg" == "$parent/$rel" ]] || fail "pids cgroup '$cg' is outside the test's cgroups"
	[ "$(cat "$CGROUP_ROOT/pids$cg/pids.max")" -eq 21 ]
	runtime delete --force "$CID"
	assert_success
	[ ! -d "$CGROUP_ROOT/pids$cg" ]
}

# The spec's cgroup mount, read from inside: the container's own cgroups at /sys/fs/cgroup,
# read-only. ARGS: extra options of the cgroup mount.
check_cgroup_mount_inside() {
	update_config '.linux.resources.pids = {"limit": 23}
		| (.mounts[] | select(.type == "cgroup") | .options) += $o' --argjson o "$(json_array "$@")"
	set_args sh -c 'cat /sys/fs/cgroup/pids/pids.max; grep -c . /sys/fs/cgroup/memory/cgroup.procs
		touch /sys/fs/cgroup/pids/x 2>&1; mkdir /sys/fs/cgroup/new 2>&1; true'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "${lines[0]}" = 23 ]
	# Only the container's own processes (sh and grep) in its memory cgroup.
	[ "${lines[1]}" -le 2 ]
	assert_output_contains "Read-only file system"
}

@test "the cgroup mount shows the container's own cgroups, read-only" {
	check_cgroup_mount_inside
}

@test "the cgroup mount with an option the detached build cannot take (sync) is the same" {
	# mydocker-runc builds the v1 cgroup mount detached in the parent (fsmount, open_tree)
	# and falls back to building it in init for flags that API cannot express: here after
	# pivot_root, through the old root still attached.
	check_cgroup_mount_inside sync
}
