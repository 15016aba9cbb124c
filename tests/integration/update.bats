#!/usr/bin/env bats
# `update`: changes the resources of a running container's cgroup (the v1 files, or the v2
# ones on a v2 host: see cgroup_is in helpers.bash).

load helpers

setup() {
	common_setup
	cgroup_v2 || [[ -d "$CGROUP_ROOT/memory" ]] || skip "needs the cgroup v1 memory hierarchy or cgroup v2"
}

MiB=$((1024 * 1024))

@test "update --memory changes memory.limit_in_bytes (v2: memory.max)" {
	update_config '.linux.resources.memory = {"limit": 33554432}'
	run_sleeping_container
	cgroup_is memory memory.limit_in_bytes $((32 * MiB)) memory.max $((32 * MiB))
	runtime update --memory $((64 * MiB)) "$CID"
	assert_success
	cgroup_is memory memory.limit_in_bytes $((64 * MiB)) memory.max $((64 * MiB))
}

@test "update --memory-swap changes the swap limit (v2: memory.swap.max, swap alone)" {
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 67108864}'
	run_sleeping_container
	cgroup_v2 || [[ -f "$(cgroup_dir memory)/memory.memsw.limit_in_bytes" ]] || skip "no swap accounting"
	cgroup_is memory memory.memsw.limit_in_bytes $((64 * MiB)) memory.swap.max $((32 * MiB))
	runtime update --memory $((32 * MiB)) --memory-swap $((96 * MiB)) "$CID"
	assert_success
	cgroup_is memory memory.memsw.limit_in_bytes $((96 * MiB)) memory.swap.max $((64 * MiB))
}

@test "update --pids-limit and --cpu-share change the cgroup" {
	run_sleeping_container
	runtime update --pids-limit 77 --cpu-share 256 "$CID"
	assert_success
	cgroup_is pids pids.max 77 pids.max 77
	cgroup_is cpu cpu.shares 256 cpu.weight 10
}

@test "update -r FILE applies the resources in the JSON file" {
	run_sleeping_container
	cat >"$BATS_TEST_TMPDIR/resources.json" <<-'JSON'
		{
		  "memory": {"limit": 50331648},
		  "cpu": {"shares": 300, "quota": 20000, "period": 100000},
		  "pids": {"limit": 33}
		}
	JSON
	runtime update -r "$BATS_TEST_TMPDIR/resources.json" "$CID"
	assert_success
	cgroup_is memory memory.limit_in_bytes $((48 * MiB)) memory.max $((48 * MiB))
	cgroup_is cpu cpu.shares 300 cpu.weight 12
	cgroup_is cpu cpu.cfs_quota_us 20000 cpu.max "20000 100000"
	cgroup_is pids pids.max 33 pids.max 33
}

@test "update -r - reads the resources from stdin" {
	run_sleeping_container
	run bash -c 'echo "{\"memory\": {\"limit\": 41943040}}" | "$RUNTIME" --root "$ROOT" update -r - "$CID" 3>&-'
	assert_success
	cgroup_is memory memory.limit_in_bytes $((40 * MiB)) memory.max $((40 * MiB))
}

@test "update of a new memory limit is enforced" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'touch /host/ready; while [ ! -e /host/go ]; do sleep 0.05; done
		exec dd if=/dev/zero of=/dev/null bs=64M count=1'
	run_detached
	wait_for test -e "$HOST_DIR/ready"
	runtime update --memory $((32 * MiB)) --memory-swap $((32 * MiB)) "$CID"
	assert_success
	touch "$HOST_DIR/go"
	wait_for_status "$CID" stopped
	# The OOM killer leaves its mark in the cgroup.
	if cgroup_v2; then
		grep -E '^oom_kill [1-9]' "$(cgroup_dir memory)/memory.events"
	else
		grep -E '^oom_kill [1-9]' "$(cgroup_dir memory)/memory.oom_control"
	fi
}

@test "update of an unknown container fails" {
	runtime update --memory $((64 * MiB)) no-such-container
	assert_failure
}


@test "update --cpu-quota, --cpu-period and --cpuset-cpus change the cgroup" {
	run_sleeping_container
	runtime update --cpu-period 200000 --cpu-quota 40000 --cpuset-cpus 0 "$CID"
	assert_success
	cgroup_is cpu cpu.cfs_period_us 200000 cpu.max "40000 200000"
	cgroup_is cpu cpu.cfs_quota_us 40000 - -
	cgroup_is cpuset cpuset.cpus 0 cpuset.cpus 0
}

@test "update of a stopped container fails" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime update --memory $((64 * MiB)) "$CID"
	assert_failure
	assert_output_contains "not running"
}
