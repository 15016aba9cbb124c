#!/usr/bin/env bats
# linux.resources and linux.cgroupsPath, checked in the cgroup files: on a v1 host the
# hierarchies /sys/fs/cgroup/<controller> (plus hybrid's near-empty cgroup2 at unified/), on a
# v2 host (the Debian 12 guest, tests/guest) the one cgroup2 hierarchy at /sys/fs/cgroup.

load helpers

setup() {
	common_setup
	cgroup_v2 || [[ -d "$CGROUP_ROOT/memory" ]] || skip "needs the cgroup v1 memory hierarchy or cgroup v2"
}

MiB=$((1024 * 1024))

@test "the container's processes are in cgroupsPath of every controller" {
	run_sleeping_container
	local pid c
	pid="$(container_pid "$CID")"
	if cgroup_v2; then
		grep -qx "$pid" "$(cgroup_dir -)/cgroup.procs" || fail "$pid not in $(cgroup_dir -)"
		grep -qx "0::$CGROUP_PATH" /proc/"$pid"/cgroup
		# Every controller reached the cgroup through its parents' subtree_control.
		for c in memory pids cpu cpuset io; do
			grep -qw "$c" "$(cgroup_dir -)/cgroup.controllers" || fail "no $c controller in $(cgroup_dir -)"
		done
		return
	fi
	for c in memory pids cpu cpuset freezer devices blkio; do
		grep -qx "$pid" "$(cgroup_dir "$c")/cgroup.procs" || fail "$pid not in the $c cgroup"
	done
	grep -E "^[0-9]+:memory:$CGROUP_PATH\$" /proc/"$pid"/cgroup
}

@test "memory limit is written to memory.limit_in_bytes (v2: memory.max)" {
	update_config '.linux.resources.memory = {"limit": 33554432, "reservation": 16777216, "swap": 50331648}'
	run_sleeping_container
	cgroup_is memory memory.limit_in_bytes $((32 * MiB)) memory.max $((32 * MiB))
	cgroup_is memory memory.soft_limit_in_bytes $((16 * MiB)) memory.low $((16 * MiB))
	# The spec's swap is memory+swap (v1's memsw); v2's memory.swap.max counts swap alone.
	if cgroup_v2 || [[ -f "$(cgroup_dir memory)/memory.memsw.limit_in_bytes" ]]; then
		cgroup_is memory memory.memsw.limit_in_bytes $((48 * MiB)) memory.swap.max $((16 * MiB))
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
	cgroup_is pids pids.max 42 pids.max 42
}

@test "cpu shares, quota and period are written to the cpu controller" {
	update_config '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}'
	run_sleeping_container
	# v2: the weight is 1 + (shares - 2) * 9999 / 262142, as runc maps it.
	cgroup_is cpu cpu.shares 512 cpu.weight 20
	cgroup_is cpu cpu.cfs_quota_us 50000 cpu.max "50000 100000"
	cgroup_is cpu cpu.cfs_period_us 100000 - -
}

@test "cpuset cpus and mems are written to the cpuset controller" {
	update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	add_bind "$HOST_DIR" /host
	set_args sh -c 'grep Cpus_allowed_list /proc/self/status >/host/allowed; exec sleep 1000'
	run_detached
	wait_for test -s "$HOST_DIR/allowed"
	cgroup_is cpuset cpuset.cpus 0 cpuset.cpus 0
	cgroup_is cpuset cpuset.mems 0 cpuset.mems 0
	[ "$(awk '{print $2}' "$HOST_DIR/allowed")" = 0 ]
}

# some_disk: MAJ:MIN of the block device behind /, else of the first whole disk the kernel
# has (a loop device will do: the limits only need a gendisk).
some_disk() {
	local dev majmin="" d
	dev="$(findmnt -no SOURCE / 2>/dev/null || true)"
	[[ -b "$dev" ]] && majmin="$(lsblk -dno MAJ:MIN "$dev" | tr -d ' ')"
	if [[ "$majmin" != *:* ]]; then
		for d in /sys/block/*/dev; do
			[[ -r "$d" ]] && majmin="$(cat "$d")" && break
		done
	fi
	[[ "$majmin" == *:* ]] && echo "$majmin"
}

@test "blockIO throttle rules are written to the blkio controller (v2: io.max)" {
	local majmin
	majmin="$(some_disk)" || skip "no block device on this host"
	update_config '.linux.resources.blockIO = {"throttleReadBpsDevice": [{"major": $ma, "minor": $mi, "rate": 1048576}],
			"throttleWriteIOPSDevice": [{"major": $ma, "minor": $mi, "rate": 300}]}' \
		--argjson ma "${majmin%:*}" --argjson mi "${majmin#*:}"
	run_sleeping_container
	if cgroup_v2; then
		grep -qx "$majmin rbps=1048576 wbps=max riops=max wiops=300" "$(cgroup_dir io)/io.max" ||
			fail "io.max: $(cat "$(cgroup_dir io)/io.max")"
		return
	fi
	grep -qx "$majmin 1048576" "$(cgroup_dir blkio)/blkio.throttle.read_bps_device"
	grep -qx "$majmin 300" "$(cgroup_dir blkio)/blkio.throttle.write_iops_device"
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
	# v2 has no list to read: the eBPF filter attached to the cgroup is checked by its effect
	# above.
	cgroup_v2 && return
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
	cgroup_is pids pids.max 20 pids.max 20
	runtime delete --force "$CID"
	assert_success
	no_cgroup_left
}

# Makes cgroup $1 in every v1 hierarchy (cpuset needs cpus and mems before it takes tasks).
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
	# cgroup. On v1 the runtime runs from a shell that joined a parent cgroup made by this test
	# in every hierarchy, so either reading stays inside cgroups this test owns.
	local parent="" rel="mydocker-test-rel-$$" own pid cg dir
	CGROUP_PATHS+=("/$rel")
	update_config '.linux.cgroupsPath = $p | .linux.resources.pids = {"limit": 21}' --arg p "$rel"
	set_args sleep 1000
	if cgroup_v2; then
		# On v2 a cgroup holding a process enables no controllers for its children, and the
		# runtime's own cgroup holds the runtime: runc's base works only from the root cgroup
		# (where the guest lane runs its tests).
		own="$(sed -n 's/^0:://p' /proc/self/cgroup)"
		[[ "$own" == / ]] || is_mydocker || skip "runc nests a relative path under its own cgroup '$own'"
		run_detached
	else
		parent="$CGROUP_PATH-parent"
		make_parent_cgroup "$parent"
		run bash -c 'for h in '"$CGROUP_ROOT"'/*/; do echo $$ >"${h%/}'"$parent"'/cgroup.procs"; done
			exec "$RUNTIME" --root "$ROOT" run -d --bundle "$BUNDLE" "$CID" </dev/null >/dev/null 2>&1 3>&-'
		assert_success
	fi
	wait_for_status "$CID" running
	pid="$(container_pid "$CID")"
	if cgroup_v2; then
		cg="$(sed -n 's/^0:://p' "/proc/$pid/cgroup")"
		dir="$CGROUP_ROOT$cg"
	else
		cg="$(awk -F: '$2 == "pids" {print $3}' "/proc/$pid/cgroup")"
		dir="$CGROUP_ROOT/pids$cg"
	fi
	[[ "$cg" == */"$rel" ]] || fail "pids cgroup '$cg' does not end in '$rel'"
	[[ "$cg" == "/$rel" || "$cg" == "$parent/$rel" ]] || fail "pids cgroup '$cg' is outside the test's cgroups"
	[ "$(cat "$dir/pids.max")" -eq 21 ]
	runtime delete --force "$CID"
	assert_success
	[ ! -d "$dir" ] || fail "$dir is left"
}

# The spec's cgroup mount, read from inside: the container's own cgroups at /sys/fs/cgroup,
# read-only (v1: a dir per controller; v2: the cgroup2 files at the top). ARGS: extra options
# of the cgroup mount. The output ends with /proc/self/cgroup as the container sees it.
check_cgroup_mount_inside() {
	local pids=/sys/fs/cgroup/pids mem=/sys/fs/cgroup/memory
	if cgroup_v2; then
		pids=/sys/fs/cgroup mem=/sys/fs/cgroup
	fi
	update_config '.linux.resources.pids = {"limit": 23}
		| (.mounts[] | select(.type == "cgroup") | .options) += $o' --argjson o "$(json_array "$@")"
	set_args sh -c "cat $pids/pids.max; grep -c . $mem/cgroup.procs
		touch $pids/x 2>&1; mkdir /sys/fs/cgroup/new 2>&1; cat /proc/self/cgroup"
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

@test "with a cgroup namespace the container's cgroup is its root, mounted read-only" {
	add_namespace cgroup
	check_cgroup_mount_inside
	# Every line of /proc/self/cgroup ends in the namespace's root ("0::/" on v2).
	local l n=0
	for l in "${lines[@]}"; do
		[[ "$l" =~ ^[0-9]+:[^:]*:/.* ]] || continue
		[[ "$l" == *:/ ]] || fail "outside the namespace root: '$l'"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || fail "no /proc/self/cgroup lines in: $output"
	if cgroup_v2; then
		assert_output_contains "0::/"
	fi
}
