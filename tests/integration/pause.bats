#!/usr/bin/env bats
# `pause` / `resume`: the freezer cgroup (v1: freezer.state; v2: cgroup.freeze).

load helpers

@test "pause freezes the cgroup and resume thaws it" {
	run_sleeping_container
	runtime pause "$CID"
	assert_success
	[ "$(container_status "$CID")" = paused ]
	cgroup_is freezer freezer.state FROZEN cgroup.freeze 1
	if cgroup_v2; then
		grep -qx "frozen 1" "$(cgroup_dir -)/cgroup.events"
	fi
	runtime list --format json
	echo "$output" | jq -e '.[0].status == "paused"'

	runtime resume "$CID"
	assert_success
	[ "$(container_status "$CID")" = running ]
	cgroup_is freezer freezer.state THAWED cgroup.freeze 0
	if cgroup_v2; then
		grep -qx "frozen 0" "$(cgroup_dir -)/cgroup.events"
	fi
}

@test "a paused container makes no progress until resumed" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'i=0; while true; do i=$((i+1)); echo $i >/host/count; sleep 0.01; done'
	run_detached
	wait_for test -s "$HOST_DIR/count"
	runtime pause "$CID"
	assert_success
	# pause returns once the cgroup is FROZEN: from then on the counter stays put (read it
	# twice, with a runtime call in between), and moves again after resume.
	local before after
	before="$(cat "$HOST_DIR/count")"
	runtime state "$CID"
	after="$(cat "$HOST_DIR/count")"
	[ "$before" = "$after" ]
	runtime resume "$CID"
	assert_success
	wait_for eval '[ "$(cat "$HOST_DIR/count")" != "'"$before"'" ]'
}

@test "exec into a paused container fails" {
	run_sleeping_container
	runtime pause "$CID"
	assert_success
	runtime exec "$CID" true
	assert_failure
	assert_output_contains paused
	runtime resume "$CID"
	assert_success
}

@test "pause of a paused container and resume of a running one fail" {
	run_sleeping_container
	runtime resume "$CID"
	assert_failure
	assert_output_contains "not paused"
	runtime pause "$CID"
	assert_success
	runtime pause "$CID"
	assert_failure
	assert_output_contains "not running"
	status_is "$CID" paused
}

@test "pause of a stopped container fails" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime pause "$CID"
	assert_failure
	status_is "$CID" stopped
}

@test "pause and resume of an unknown container fail" {
	runtime pause no-such-container
	assert_failure
	assert_output_contains "does not exist"
	runtime resume no-such-container
	assert_failure
	assert_output_contains "does not exist"
}
