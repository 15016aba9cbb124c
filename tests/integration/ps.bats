#!/usr/bin/env bats
# `ps`: the processes of a container, as host pids.

load helpers

@test "ps --format json lists the host pids of every container process" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'sleep 1005 & echo $! >/host/child; exec sleep 1000'
	run_detached
	wait_for_status "$CID" running
	wait_for pgrep -f '^sleep 1005$'
	local init child
	init="$(container_pid "$CID")"
	child="$(pgrep -f '^sleep 1005$')"
	runtime ps --format json "$CID"
	assert_success
	echo "$output" | jq -e --argjson a "$init" --argjson b "$child" 'sort == ([$a, $b] | sort)'
}

@test "ps (table) shows the container's processes" {
	run_sleeping_container
	runtime ps "$CID"
	assert_success
	[[ "${lines[0]}" == *PID* ]]
	assert_output_contains "sleep 1000"
	printf '%s\n' "$output" | grep -E "\b$(container_pid "$CID")\b"
}

@test "ps includes exec'd processes" {
	run_sleeping_container
	runtime_detached exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$CID" sleep 1006
	assert_success
	runtime ps --format json "$CID"
	assert_success
	echo "$output" | jq -e --argjson p "$(cat "$BATS_TEST_TMPDIR/exec.pid")" 'index($p) != null and length == 2'
}

@test "ps of a stopped container lists no process" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime ps --format json "$CID"
	assert_success
	echo "$output" | jq -e '(. // []) | length == 0'
}

@test "ps of an unknown container fails" {
	runtime ps no-such-container
	assert_failure
	assert_output_contains "does not exist"
}
