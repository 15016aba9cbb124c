#!/usr/bin/env bats
# `state`: the runtime-spec state JSON.

load helpers

@test "state of a running container has the runtime-spec fields" {
	update_config '.annotations = {"org.example.key": "value-1", "other": "two"}'
	run_sleeping_container
	runtime state "$CID"
	assert_success
	echo "$output" | jq -e --arg id "$CID" --arg b "$BUNDLE" '
		(.ociVersion | type == "string" and startswith("1."))
		and .id == $id and .status == "running"
		and (.pid | type == "number" and . > 0)
		and .bundle == $b
		and .annotations["org.example.key"] == "value-1" and .annotations.other == "two"'
	# The pid is the host pid of the container's PID 1.
	local pid
	pid="$(echo "$output" | jq -r .pid)"
	wait_for cmdline_is "$pid" "sleep 1000 "
}

@test "state reports created, running and stopped in turn" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'while [ ! -e /host/go ]; do sleep 0.05; done'
	create_container
	[ "$(container_status "$CID")" = created ]
	runtime start "$CID"
	assert_success
	wait_for_status "$CID" running
	touch "$HOST_DIR/go"
	wait_for_status "$CID" stopped
}

@test "state bundle is absolute even when --bundle was relative" {
	cd "$(dirname "$BUNDLE")"
	set_args sleep 1000
	runtime_detached run -d --bundle "$(basename "$BUNDLE")" "$CID"
	assert_success
	[ "$(container_state "$CID" | jq -r .bundle)" = "$BUNDLE" ]
}

@test "state of an unknown container fails" {
	runtime state no-such-container
	assert_failure
	assert_output_contains "does not exist"
}

@test "state of a deleted container fails" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime state "$CID"
	assert_success
	runtime delete "$CID"
	assert_success
	runtime state "$CID"
	assert_failure
	assert_output_contains "does not exist"
}

@test "state of a stopped container says stopped after its process was killed from outside" {
	run_sleeping_container
	local pid
	pid="$(container_pid "$CID")"
	kill -KILL "$pid"
	wait_for_status "$CID" stopped
}
