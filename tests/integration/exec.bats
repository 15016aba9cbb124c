#!/usr/bin/env bats
# `exec`: a new process in a running container's namespaces and cgroup.

load helpers

setup() {
	common_setup
	update_config '.process.env += ["FROM_CONFIG=config-value"]'
}

@test "exec sees the container's processes: PID 1 is the container command" {
	run_sleeping_container
	runtime exec "$CID" ps
	assert_success
	printf '%s\n' "$output" | grep -E '^ +1 +root +sleep 1000$'
	runtime exec "$CID" sh -c 'tr "\0" " " </proc/1/cmdline'
	assert_success
	[ "$output" = "sleep 1000 " ]
}

@test "exec joins the container's namespaces and cgroup" {
	run_sleeping_container
	local pid ns
	pid="$(container_pid "$CID")"
	runtime exec "$CID" sh -c 'for n in pid mnt net ipc uts; do readlink /proc/self/ns/$n; done; echo "self $$"'
	assert_success
	for ns in pid mnt net ipc uts; do
		assert_output_contains "$(readlink "/proc/$pid/ns/$ns")"
	done
	# Not PID 1: the container already has one.
	assert_output_not_contains "self 1"
	# Same cgroups as PID 1 (compared inside: the spec may give the container a cgroup
	# namespace, so the paths read there are relative to it).
	runtime exec "$CID" sh -c 'cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup'
	assert_success
	[ "$(printf '%s\n' "$output" | sed '/^---$/,$d')" = "$(printf '%s\n' "$output" | sed '1,/^---$/d')" ]
}

@test "exec passes the exit code through" {
	run_sleeping_container
	runtime exec "$CID" sh -c 'exit 7'
	assert_status 7
	status_is "$CID" running
}

@test "exec gets the config env plus -e values" {
	run_sleeping_container
	runtime exec -e FOO=bar -e "SPACED=a b" "$CID" sh -c 'echo "[$FOO][$SPACED][$FROM_CONFIG]"'
	assert_success
	[ "$output" = "[bar][a b][config-value]" ]
}

@test "exec --cwd sets the working directory" {
	run_sleeping_container
	runtime exec --cwd /tmp "$CID" pwd
	assert_success
	[ "$output" = /tmp ]
}

@test "exec -u uid:gid runs as that user" {
	run_sleeping_container
	runtime exec -u 1000:1000 "$CID" sh -c 'id -u; id -g'
	assert_success
	[ "$output" = "1000
1000" ]
	runtime exec -u 65534 "$CID" id -u
	assert_success
	[ "$output" = 65534 ]
}

@test "exec -p process.json runs the described process" {
	run_sleeping_container
	cat >"$BATS_TEST_TMPDIR/process.json" <<-'JSON'
		{
		  "terminal": false,
		  "user": {"uid": 1000, "gid": 1000},
		  "args": ["sh", "-c", "echo \"from-json $(id -u) $(pwd) $JSON_ENV\"; exit 4"],
		  "env": ["PATH=/bin", "JSON_ENV=yes"],
		  "cwd": "/tmp"
		}
	JSON
	runtime exec -p "$BATS_TEST_TMPDIR/process.json" "$CID"
	assert_status 4
	[ "$output" = "from-json 1000 /tmp yes" ]
}

@test "exec -d --pid-file leaves the process running in the container" {
	run_sleeping_container
	runtime_detached exec -d --pid-file "$BATS_TEST_TMPDIR/exec.pid" "$CID" sleep 999
	assert_success
	local pid
	pid="$(cat "$BATS_TEST_TMPDIR/exec.pid")"
	[ "$pid" -gt 0 ]
	kill -0 "$pid"
	# It is the process that runs (or is about to exec) the command, not a helper.
	wait_for cmdline_is "$pid" "sleep 999 "
	grep -qx "$pid" "$(cgroup_dir pids)/cgroup.procs"
	runtime exec "$CID" ps
	assert_output_contains "sleep 999"
}

@test "exec passes stdin through" {
	run_sleeping_container
	run bash -c 'echo exec-input | "$RUNTIME" --root "$ROOT" exec "$CID" cat 3>&-'
	assert_success
	[ "$output" = exec-input ]
}

@test "exec of a missing executable fails naming it" {
	run_sleeping_container
	runtime exec "$CID" no-such-binary
	assert_failure
	assert_output_contains no-such-binary
	status_is "$CID" running
}

@test "exec into a stopped container fails" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime exec "$CID" true
	assert_failure
}

@test "exec into an unknown container fails" {
	runtime exec no-such-container true
	assert_failure
	assert_output_contains "does not exist"
}
