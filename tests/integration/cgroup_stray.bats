#!/usr/bin/env bats
# A host where other tools have run: plain directories beside the mounted hierarchies under
# /sys/fs/cgroup (runc's own tests leave hugetlb, net_cls, net_prio, perf_event on the tmpfs,
# not mounted). The runtime must find the hierarchies from what is mounted, not from names.
#
# The host is never touched: each test runs the runtime in a private mount namespace where a
# fresh tmpfs over /sys/fs/cgroup holds binds of the real hierarchies plus the stray
# directories (see stray_cgroupfs.bash).

load helpers
load stray_cgroupfs

setup() {
	common_setup
	[[ -d "$CGROUP_ROOT/memory" ]] || skip "needs the cgroup v1 memory hierarchy"
}

@test "stray plain directories under /sys/fs/cgroup: run starts, limits land in the mounted hierarchies" {
	update_config '.linux.resources.memory = {"limit": 33554432} | .linux.resources.pids = {"limit": 42}'
	set_args sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; echo started'
	run in_stray_cgroupfs "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains started
	assert_output_contains 33554432
	assert_output_contains 42
	# The stray directories stayed plain and empty: nothing was created in them.
	[[ -z "$(cat "$BATS_TEST_TMPDIR/stray-left")" ]] || fail "made in stray dirs: $(cat "$BATS_TEST_TMPDIR/stray-left")"
	no_cgroup_left
	no_state_left
}

@test "stray plain directories under /sys/fs/cgroup: create, start, exec, kill and delete work" {
	set_args sleep 100
	run in_stray_cgroupfs sh -c '
		"$1" --root "$2" create --bundle "$3" "$4" </dev/null >/dev/null 2>&1 3>&- || exit 10
		"$1" --root "$2" start "$4" || exit 11
		"$1" --root "$2" exec "$4" echo exec-ok || exit 12
		"$1" --root "$2" kill "$4" KILL || exit 13
		for i in $(seq 200); do
			[ "$("$1" --root "$2" state "$4" | grep -c "\"status\": *\"stopped\"")" = 1 ] && break
			sleep 0.05
		done
		"$1" --root "$2" delete "$4" || exit 14
	' sh "$RUNTIME" "$ROOT" "$BUNDLE" "$CID"
	assert_success
	assert_output_contains exec-ok
	no_cgroup_left
	no_state_left
}
