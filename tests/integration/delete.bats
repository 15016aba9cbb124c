#!/usr/bin/env bats
# `delete`: removes a stopped container (state and cgroup); --force kills first.

load helpers

@test "delete of a running container without --force is refused" {
	run_sleeping_container
	runtime delete "$CID"
	assert_failure
	assert_output_contains "not stopped"
	status_is "$CID" running
}

@test "delete --force kills a running container and removes everything" {
	run_sleeping_container
	local pid
	pid="$(container_pid "$CID")"
	[ -d "$(cgroup_dir memory)" ]
	runtime delete --force "$CID"
	assert_success
	wait_pid_exit "$pid"
	runtime state "$CID"
	assert_failure
	no_state_left
	no_cgroup_left
}

@test "delete of a stopped container removes its state and cgroup dirs" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	[ -d "$(cgroup_dir pids)" ]
	runtime delete "$CID"
	assert_success
	runtime state "$CID"
	assert_failure
	no_state_left
	no_cgroup_left
}

@test "delete of a paused container needs --force" {
	run_sleeping_container
	runtime pause "$CID"
	assert_success
	runtime delete "$CID"
	assert_failure
	status_is "$CID" paused
	runtime delete --force "$CID"
	assert_success
	runtime state "$CID"
	assert_failure
	no_cgroup_left
}

@test "delete --force also kills the other processes of the container" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'sleep 1003 & touch /host/ready; exec sleep 1000'
	run_detached
	wait_for test -e "$HOST_DIR/ready"
	wait_for pgrep -f '^sleep 1003$'
	runtime delete --force "$CID"
	assert_success
	wait_for eval '! pgrep -f "^sleep 1003$"'
	no_cgroup_left
}

@test "delete of an unknown container fails" {
	runtime delete no-such-container
	assert_failure
	assert_output_contains "does not exist"
}

@test "delete --force of an unknown container succeeds (as runc does)" {
	runtime delete --force no-such-container
	assert_success
}
