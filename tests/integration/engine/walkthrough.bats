#!/usr/bin/env bats
# The tutorial's walkthrough, replayed on mydocker: run -it, limits in the cgroup, volumes,
# commit, a detached container with ps / logs / exec / stop / rm.

load engine_helpers
bats_require_minimum_version 1.5.0

setup() { engine_setup; }
teardown() { engine_teardown; }

@test "run -it busybox sh: ps -ef shows sh as PID 1 (through a pty)" {
	command -v script >/dev/null || skip "script (util-linux) not found"
	run bash -c "printf 'ps -ef\nexit 7\n' | script -qefc '$MYDOCKER run -it --rm --cgroup-parent $CG_PARENT busybox sh' /dev/null"
	assert_status 7
	# busybox ps: "PID USER [TIME] COMMAND", then "1 root [0:00] sh" (the pty adds \r)
	echo "$output" | tr -d '\r' | grep -Eq '^ *1 +root +([0-9:]+ +)?sh$'
}

@test "run --rm prints the output, exits with the container's code, leaves nothing" {
	run md run --rm busybox echo hello from mydocker
	assert_success
	[[ "$output" == "hello from mydocker" ]]
	run md run --rm busybox sh -c 'echo to-stderr >&2; exit 3'
	assert_status 3
	assert_output_contains to-stderr
	run md ps -aq
	[[ -z "$output" ]]
	refute mounts_under_root
	refute cgroups_left
}

@test "exit codes: 127 not found, 126 not executable, 137 killed, 125 engine error" {
	run -127 md run --rm busybox no-such-command
	assert_output_contains no-such-command
	run -126 md run --rm busybox /etc/passwd
	# (PID 1 of a pid namespace cannot get SIGKILL from inside: --init makes sh a child)
	run md run --rm --init busybox sh -c 'kill -9 $$'
	assert_status 137
	run md run --rm no-such-image true
	assert_status 125
	assert_output_contains no-such-image
	run md ps -aq
	[[ -z "$output" ]]
	refute mounts_under_root
}

@test "-m 100m lands in the cgroup; a process allocating more is OOM-killed (OOMKilled true)" {
	run md run -d --name lim -m 100m busybox sleep 60
	assert_success
	id="$output"
	cgroup_is memory "$id" memory.limit_in_bytes 104857600 memory.max 104857600
	md rm -f lim
	run md run --name oom -m 10m --memory-swap 10m busybox sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=1'
	assert_status 137
	[[ "$(field oom .State.OOMKilled)" == "true" ]]
	[[ "$(field oom .State.ExitCode)" == "137" ]]
}

@test "--cpuset-cpus 0, --cpu-shares 512 and --cpus .5 land in the cgroup" {
	run md run -d --cpuset-cpus 0 --cpu-shares 512 --cpus .5 busybox sleep 60
	assert_success
	id="$output"
	cgroup_is cpuset "$id" cpuset.cpus 0 cpuset.cpus 0
	# v2: cpu.weight 1 + (512 - 2) * 9999 / 262142, as runc maps the shares.
	cgroup_is cpu "$id" cpu.shares 512 cpu.weight 20
	cgroup_is cpu "$id" cpu.cfs_quota_us 50000 cpu.max "50000 100000"
	cgroup_is cpu "$id" cpu.cfs_period_us 100000 - -
}

@test "a file written to a -v volume is on the host after rm; a missing host dir is created" {
	host="$BATS_TEST_TMPDIR/host/data"
	run md run --name vol -v "$host:/data" busybox sh -c 'echo kept > /data/file'
	assert_success
	md rm vol
	[[ "$(cat "$host/file")" == "kept" ]]
	# read-only
	run md run --rm -v "$host:/data:ro" busybox sh -c 'echo x > /data/other'
	[[ "$status" -ne 0 ]]
	[[ ! -e "$host/other" ]]
}

@test "a named volume outlives its containers" {
	run md run --rm -v keep:/data busybox sh -c 'echo persisted > /data/f'
	assert_success
	run md run --rm -v keep:/data busybox cat /data/f
	assert_success
	[[ "$output" == "persisted" ]]
	run md volume ls -q
	assert_output_contains keep
	md volume rm keep
}

@test "commit: the committed container's file is in a new container of the image" {
	md run --name src busybox sh -c 'echo committed > /hello; rm /etc/group'
	run md commit src mine:v1
	assert_success
	run md run --rm mine:v1 cat /hello
	assert_success
	[[ "$output" == "committed" ]]
	# the deletion (a whiteout) is in the image too
	run md run --rm mine:v1 ls /etc/group
	[[ "$status" -ne 0 ]]
	md rm src
	md rmi mine:v1
}

@test "two containers writing the same path never see each other's files" {
	md run --name ca busybox sh -c 'echo A > /shared'
	md run --name cb busybox sh -c 'echo B > /shared'
	run md run --rm busybox cat /shared
	[[ "$status" -ne 0 ]]
	md start ca
	md rm -f ca cb
}

@test "run -d --name bird top: ps, logs, exec ps, exec env, stop, rm removes every trace" {
	run md run -d --name bird -e BIRD=tweety busybox top
	assert_success
	id="$output"
	[[ ${#id} -eq 64 ]]
	run md ps
	assert_output_contains bird
	assert_output_contains Up
	wait_for log_has bird "Mem:"
	run md exec bird ps
	assert_success
	echo "$output" | grep -Eq '^ *1 +root +([0-9:]+ +)?top$'
	run md exec bird env
	assert_output_contains BIRD=tweety
	run md stop -t 5 bird
	assert_success
	[[ "$(field bird .State.Status)" == "exited" ]]
	run md ps -q
	[[ -z "$output" ]]
	run md ps -a
	assert_output_contains bird
	refute mounts_under_root
	md rm bird
	[[ ! -d "$MYDOCKER_ROOT/containers/$id" ]]
	# The runtime's state and the bundle (config.json, /etc files) went with the stop.
	[[ ! -d "$MYDOCKER_ROOT/run/runtime/$id" ]]
	[[ ! -d "$MYDOCKER_ROOT/run/containers/$id" ]]
	[[ -z "$(ls -A "$MYDOCKER_ROOT/run/containers")" ]]
	refute cgroups_left
	run md inspect bird
	[[ "$status" -ne 0 ]]
}

@test "bad input: clear error, exit 125, nothing left behind" {
	md run -d --name taken busybox sleep 60
	for args in "no-such-image" "-m lots busybox true" "-v x:y busybox true" "--cpus abc busybox true" \
		"--name taken busybox true" "--name bad/name busybox true"; do
		# shellcheck disable=SC2086
		run md run --rm $args
		assert_status 125
		[[ -n "$output" ]]
	done
	run md run --rm -m lots busybox true
	assert_output_contains memory
	run md run --name taken busybox true
	assert_output_contains "already in use"
	run md ps -aq
	[[ $(echo "$output" | wc -l) -eq 1 ]]
	run md rm taken
	[[ "$status" -ne 0 ]]
	assert_output_contains "stop the container"
	md rm -f taken
	run md exec taken true
	[[ "$status" -ne 0 ]]
	md run --name stopped busybox true
	run md exec stopped true
	[[ "$status" -ne 0 ]]
	assert_output_contains "not running"
	md rm stopped
	refute mounts_under_root
	refute cgroups_left
}

@test "20 run -d at once from 20 processes: distinct ids and names, no corrupt record" {
	pids=()
	for i in $(seq 1 20); do
		md run -d busybox sleep 30 >"$BATS_TEST_TMPDIR/id.$i" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	[[ $(cat "$BATS_TEST_TMPDIR"/id.* | sort -u | wc -l) -eq 20 ]]
	run md ps -q
	[[ $(echo "$output" | wc -l) -eq 20 ]]
	run md ps --format json
	[[ $(echo "$output" | jq -r .Names | sort -u | wc -l) -eq 20 ]]
	md rm -f $(md ps -aq)
}

@test "logs keep stdout and stderr apart; --tail, -t" {
	md run --name lg busybox sh -c 'echo out1; echo err1 >&2; echo out2'
	run bash -c "'$MYDOCKER' logs lg 2>/dev/null"
	[[ "$output" == $'out1\nout2' ]]
	run bash -c "'$MYDOCKER' logs lg 2>&1 >/dev/null"
	[[ "$output" == "err1" ]]
	# --tail counts records of both streams, whose order between pipes is not fixed: one stream here
	md run --name tl busybox sh -c 'echo a; echo b; echo c'
	run md logs --tail 2 tl
	[[ "$output" == $'b\nc' ]]
	run md logs -t lg
	echo "$output" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
	grep -q '"stream":"stderr"' "$(field lg .LogPath)"
}

@test "--init: a reaper is PID 1, the command its child; signals reach the command" {
	run md run --rm --init busybox ps -o pid,comm
	assert_success
	echo "$output" | grep -Eq '^ *1 +init'
	md run -d --init --name ini busybox sleep 300
	# SIGTERM to the container reaches sleep through the reaper (sleep has no handler: it dies)
	md kill -s TERM ini
	wait_for status_is ini exited
	[[ "$(field ini .State.ExitCode)" == "143" ]]
}
