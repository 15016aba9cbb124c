#!/usr/bin/env bats
# Bad input fails cleanly: a non-zero exit, a message that says what is wrong, and nothing
# left behind (no state, no cgroup, no process).

load helpers

# expect_create_fails [JSON-PATH]: create fails, leaves nothing, and (for mydocker-runc,
# whose messages name the JSON path of the bad field) mentions JSON-PATH. Leaves create's
# message in $output.
expect_create_fails() {
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	local create_output="$output"
	[[ -n "$output" ]] || fail "no error message"
	if [[ -n "${1:-}" ]] && is_mydocker; then
		assert_output_contains "$1"
	fi
	runtime state "$CID"
	assert_failure
	no_state_left
	wait_for no_cgroup_left
	output="$create_output"
}

@test "a memory limit given as a string is rejected, naming the field" {
	update_config '.linux.resources.memory = {"limit": "lots"}'
	expect_create_fails linux.resources.memory.limit
	# runc says it with Go's words, but names the field too.
	assert_output_contains "memory"
}

@test "missing process.args is rejected" {
	update_config 'del(.process.args)'
	expect_create_fails process.args
	assert_output_contains args
}

@test "empty process.args is rejected" {
	update_config '.process.args = []'
	expect_create_fails process.args
	assert_output_contains args
}

@test "config.json that is not JSON is rejected" {
	echo '{"ociVersion": "1.0.2", "process": ' >"$BUNDLE/config.json"
	expect_create_fails
}

@test "a bundle without config.json is rejected" {
	rm "$BUNDLE/config.json"
	expect_create_fails
	assert_output_contains config.json
}

@test "a missing rootfs is rejected" {
	update_config '.root.path = "no-such-rootfs"'
	expect_create_fails root.path
	assert_output_contains no-such-rootfs
}

@test "an unknown namespace type is rejected" {
	update_config '.linux.namespaces += [{"type": "bogus"}]'
	expect_create_fails linux.namespaces
	assert_output_contains bogus
}

@test "an unknown seccomp action is rejected" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}'
	expect_create_fails linux.seccomp.defaultAction
	assert_output_contains SCMP_ACT_BOGUS
}

@test "an unknown rlimit type is rejected" {
	update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
	expect_create_fails process.rlimits
	assert_output_contains RLIMIT_BOGUS
}

@test "a bind mount of a missing source fails and leaves nothing" {
	add_bind "$BATS_TEST_TMPDIR/no-such-source" /data
	set_args sleep 1234323
	expect_create_fails
	assert_output_contains no-such-source
	refute pgrep -f 'sleep 1234323'
}

@test "a namespace path that does not exist fails and leaves nothing" {
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "/no/such/netns" else . end)'
	expect_create_fails
	assert_output_contains /no/such/netns
}

@test "unknown fields are ignored" {
	update_config '.x_unknown = {"a": 1} | .process.x_unknown_field = "x" | .linux.x_more = [1]'
	set_args echo fine
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = fine ]
}

@test "an executable that does not exist fails, naming it" {
	set_args no-such-binary-xyz arg
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains no-such-binary-xyz
	runtime state "$CID"
	assert_failure
	wait_for no_cgroup_left
}

@test "an executable that does not exist fails create or start, naming it" {
	set_args /bin/no-such-binary-abc
	runtime_detached create --bundle "$BUNDLE" "$CID"
	if [[ "$status" -eq 0 ]]; then
		runtime start "$CID"
		assert_failure
	fi
	assert_output_contains no-such-binary-abc
}

@test "a duplicate id on create is refused and the first container is untouched" {
	run_sleeping_container
	local pid
	pid="$(container_pid "$CID")"
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "exists"
	status_is "$CID" running
	[ "$(container_pid "$CID")" = "$pid" ]
	[ -d "$(cgroup_dir pids)" ]
}

@test "commands on an unknown container id fail" {
	local cmd
	for cmd in state start kill delete pause resume ps "exec" "update --memory 100000000"; do
		# shellcheck disable=SC2086
		if [[ "$cmd" == exec ]]; then
			runtime exec no-such-container true
		else
			runtime $cmd no-such-container
		fi
		assert_failure
		assert_output_contains "does not exist"
	done
}

@test "an invalid container id is refused and nothing is created outside the root" {
	local id
	for id in "../escape" "a/b" ""; do
		runtime_detached create --bundle "$BUNDLE" "$id"
		assert_failure
	done
	[ ! -e "$BATS_TEST_TMPDIR/escape" ]
	[ ! -e "$ROOT/a" ]
}

@test "--log FILE --log-format json writes JSON lines" {
	local log="$BATS_TEST_TMPDIR/runtime.log"
	runtime --log "$log" --log-format json state no-such-container
	assert_failure
	[ -s "$log" ]
	# Every line is a JSON object with a level, a message and a time.
	while IFS= read -r line; do
		jq -e '(.level | type == "string") and (.msg | type == "string") and has("time")' <<<"$line" >/dev/null ||
			fail "not a JSON log line: $line"
	done <"$log"
	grep -q "does not exist" "$log"
}

@test "--log FILE in text format" {
	local log="$BATS_TEST_TMPDIR/runtime.log"
	runtime --log "$log" state no-such-container
	assert_failure
	grep -q "does not exist" "$log"
}

@test "--version prints a version" {
	run "$RUNTIME" --version
	assert_success
	[[ "$output" =~ [Vv]ersion[[:space:]:]+[0-9]+\.[0-9]+ ]] || fail "no version in: $output"
	assert_output_contains "spec"
}

@test "an unknown command or flag fails with runc's exit codes: 3 and 1" {
	runtime no-such-command
	assert_status 3
	runtime state --no-such-flag "$CID"
	assert_status 1
	runtime --no-such-global-flag list
	assert_status 1
}
