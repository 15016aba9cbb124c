#!/usr/bin/env bats
# The create/start split: create prepares everything and stops short of the user process;
# start runs it.

load helpers

@test "create leaves a created container whose process has not run; start runs it" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'touch /host/started; exec sleep 1000'
	create_container --pid-file "$BATS_TEST_TMPDIR/pid"

	runtime state "$CID"
	assert_success
	[ "$(echo "$output" | jq -r .status)" = created ]
	local pid
	pid="$(cat "$BATS_TEST_TMPDIR/pid")"
	[ "$pid" -gt 0 ]
	[ "$(echo "$output" | jq -r .pid)" = "$pid" ]
	kill -0 "$pid"
	# The init waits for start: the command has not run.
	[ ! -e "$HOST_DIR/started" ]
	[[ "$(tr '\0' ' ' </proc/"$pid"/cmdline)" != *"touch /host/started"* ]]

	runtime start "$CID"
	assert_success
	wait_for test -e "$HOST_DIR/started"
	wait_for_status "$CID" running
	# The created init became the user process: same pid.
	[ "$(container_pid "$CID")" = "$pid" ]
	wait_for cmdline_is "$pid" "sleep 1000 "
}

@test "the process writes to the stdio create was given" {
	set_args sh -c 'echo hello-from-created; echo err-from-created >&2'
	create_container
	runtime start "$CID"
	assert_success
	wait_for_status "$CID" stopped
	grep -q hello-from-created "$CTR_STDIO"
	grep -q err-from-created "$CTR_STDIO"
}

@test "before start the user command does not exist as a process" {
	# Before start, nothing of the user command exists anywhere: no sleep 1000 process.
	set_args sleep 1234
	create_container
	refute pgrep -f '^sleep 1234$'
	runtime start "$CID"
	assert_success
	wait_for pgrep -f '^sleep 1234$'
}

@test "start of a running container fails" {
	run_sleeping_container
	runtime start "$CID"
	assert_failure
	status_is "$CID" running
}

@test "start of a stopped container fails" {
	set_args true
	create_container
	runtime start "$CID"
	assert_success
	wait_for_status "$CID" stopped
	runtime start "$CID"
	assert_failure
}

@test "start of an unknown container fails" {
	runtime start "no-such-container"
	assert_failure
	assert_output_contains "does not exist"
}

@test "create with a missing bundle fails and leaves no state" {
	runtime_detached create --bundle "$BATS_TEST_TMPDIR/nope" "$CID"
	assert_failure
	runtime state "$CID"
	assert_failure
	no_state_left
	no_cgroup_left
}

@test "create --no-pivot runs the container (rootfs via MS_MOVE + chroot)" {
	set_args sh -c 'echo "pid $$"; cat /etc/hostname'
	runtime run --no-pivot --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains "pid 1"
	# The bundle's rootfs, not the host's /.
	assert_output_contains mydocker-bundle
}

@test "delete of a created container (no --force) removes it and its init" {
	set_args sleep 1000
	create_container --pid-file "$BATS_TEST_TMPDIR/pid"
	local pid
	pid="$(cat "$BATS_TEST_TMPDIR/pid")"
	runtime delete "$CID"
	assert_success
	wait_pid_exit "$pid"
	runtime state "$CID"
	assert_failure
	no_cgroup_left
}
