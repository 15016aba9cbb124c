#!/usr/bin/env bats
# The engine on a host where other tools left plain directories beside the mounted cgroup
# hierarchies (see ../stray_cgroupfs.bash): containers start, their limits land in the
# mounted hierarchies, nothing is made in the stray directories.

load engine_helpers
load ../stray_cgroupfs

setup() {
	engine_setup
	[[ -d /sys/fs/cgroup/memory ]] || skip "needs the cgroup v1 memory hierarchy"
}
teardown() { engine_teardown; }

@test "engine: run -m and --pids-limit with stray plain directories under /sys/fs/cgroup" {
	run in_stray_cgroupfs "$MYDOCKER" run --rm --network none --cgroup-parent "$CG_PARENT" \
		-m 32m --pids-limit 42 busybox \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; echo started'
	[[ "$status" -eq 0 ]] || fail "run failed ($status): $output"
	[[ "$output" == *started* && "$output" == *33554432* && "$output" == *42* ]] || fail "unexpected output: $output"
	[[ -z "$(cat "$BATS_TEST_TMPDIR/stray-left")" ]] || fail "made in stray dirs: $(cat "$BATS_TEST_TMPDIR/stray-left")"
}

@test "engine: run -d, exec, stop and rm with stray plain directories under /sys/fs/cgroup" {
	run in_stray_cgroupfs sh -c '
		id="$("$1" run -d --network none --cgroup-parent "$2" busybox sleep 100)" || exit 10
		"$1" exec "$id" echo exec-ok || exit 11
		"$1" stop -t 1 "$id" >/dev/null || exit 12
		"$1" rm "$id" >/dev/null || exit 13
	' sh "$MYDOCKER" "$CG_PARENT"
	[[ "$status" -eq 0 ]] || fail "failed ($status): $output"
	[[ "$output" == *exec-ok* ]] || fail "no exec output: $output"
	[[ -z "$(cat "$BATS_TEST_TMPDIR/stray-left")" ]] || fail "made in stray dirs: $(cat "$BATS_TEST_TMPDIR/stray-left")"
}
