#!/usr/bin/env bats
# `run`: create + start (+ wait + delete) in one command.

load helpers

@test "run passes the exit code of the process through" {
	set_args sh -c 'exit 3'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_status 3
}

@test "run captures the process's stdout and stderr" {
	set_args sh -c 'echo to-stdout; echo to-stderr >&2'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains to-stdout
	assert_output_contains to-stderr
}

@test "run passes stdin to the process" {
	set_args sh -c 'read line; echo "got:$line"'
	run bash -c 'echo piped-in | "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CID" 3>&-'
	assert_success
	assert_output_contains "got:piped-in"
}

@test "run without --keep deletes the container after it exits" {
	set_args true
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	runtime state "$CID"
	assert_failure
	runtime list -q
	assert_success
	[ -z "$output" ]
	no_cgroup_left
}

@test "run --keep keeps a stopped container until delete" {
	set_args sh -c 'exit 5'
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_status 5
	runtime state "$CID"
	assert_success
	[ "$(echo "$output" | jq -r .status)" = stopped ]
	runtime delete "$CID"
	assert_success
	runtime state "$CID"
	assert_failure
}

@test "run -d returns at once and leaves the container running" {
	run_sleeping_container
	runtime state "$CID"
	assert_success
	[ "$(echo "$output" | jq -r .status)" = running ]
	local pid
	pid="$(echo "$output" | jq -r .pid)"
	[ "$pid" -gt 0 ]
	kill -0 "$pid"
}

@test "run -d --pid-file writes the host pid of the container process" {
	set_args sleep 1000
	run_detached --pid-file "$BATS_TEST_TMPDIR/pid"
	[ -s "$BATS_TEST_TMPDIR/pid" ]
	[ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$(container_pid "$CID")" ]
	# It is the sleep itself (exec'd by the init), not a runtime helper.
	wait_for cmdline_is "$(cat "$BATS_TEST_TMPDIR/pid")" "sleep 1000 "
}

@test "run passes process.env and process.args exactly" {
	update_config '.process.env = ["PATH=/bin", "FOO=bar baz", "EMPTY="]'
	set_args sh -c 'printf "[%s]" "$FOO" "$EMPTY" "$0" "$1"' 'arg zero' 'it'"'"'s "quoted"'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "[bar baz][][arg zero][it's \"quoted\"]" ]
}

@test "run reports a process killed by a signal as 128+signal" {
	set_args sleep 1000
	"$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local runner=$!
	BG_PIDS+=("$runner")
	wait_for_status "$CID" running
	runtime kill "$CID" KILL
	assert_success
	local rc=0
	wait "$runner" || rc=$?
	[ "$rc" -eq 137 ] || fail "run exited $rc, expected 137: $(cat "$BATS_TEST_TMPDIR/out")"
}

@test "run of a second container with the same id fails and leaves the first alone" {
	run_sleeping_container
	local pid
	pid="$(container_pid "$CID")"
	runtime_detached run -d --bundle "$BUNDLE" "$CID"
	assert_failure
	status_is "$CID" running
	[ "$(container_pid "$CID")" = "$pid" ]
}

@test "a foreground run is visible to state, exec and delete from other processes" {
	set_args sleep 1000
	"$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CID" </dev/null >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local runner=$!
	BG_PIDS+=("$runner")
	wait_for_status "$CID" running
	runtime exec "$CID" sh -c 'echo exec-ok'
	assert_success
	assert_output_contains exec-ok
	runtime delete --force "$CID"
	assert_success
	local rc=0
	wait "$runner" || rc=$?
	[ "$rc" -eq 137 ] || fail "run exited $rc, expected 137: $(cat "$BATS_TEST_TMPDIR/out")"
	runtime state "$CID"
	assert_failure
	no_state_left
	no_cgroup_left
}

@test "the container process may run on every CPU its runtime may" {
	set_args sh -c 'grep Cpus_allowed_list /proc/self/status'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "$(grep Cpus_allowed_list /proc/self/status)" ] ||
		fail "container: $output, runtime: $(grep Cpus_allowed_list /proc/self/status)"
}
