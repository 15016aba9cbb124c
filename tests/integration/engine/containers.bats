#!/usr/bin/env bats
# Container commands beyond run: start/restart, inspect, top, stats, wait, rename, pause,
# logs -f/--since, exec flags, export, container prune, rmi of an image in use, volumes.

load engine_helpers
bats_require_minimum_version 1.5.0

setup() { engine_setup; }
teardown() { engine_teardown; }

@test "start of a stopped container runs it again; restart; wait gives the exit code" {
	run -3 md run --name again busybox sh -c 'echo run; exit 3'
	[[ "$(field again .State.ExitCode)" == "3" ]]
	md start again
	run md wait again
	[[ "$output" == "3" ]]
	[[ $(md logs again | grep -c run) -eq 2 ]]
	md run -d --name rs busybox sleep 60
	pid1="$(field rs .State.Pid)"
	md restart -t 1 rs
	wait_for status_is rs running
	[[ "$(field rs .State.Pid)" != "$pid1" ]]
}

@test "inspect: State, Config, Mounts; top; stats --no-stream" {
	md run -d --name insp -m 64m -e X=1 -v "$BATS_TEST_TMPDIR/h:/h" busybox sleep 60
	run md inspect insp
	assert_success
	echo "$output" | jq -e '.[0].State.Status == "running" and .[0].State.Pid > 0 and .[0].Config.Env != null
		and .[0].Mounts[0].Destination == "/h" and .[0].Name == "/insp"' >/dev/null
	run md top insp
	assert_success
	assert_output_contains "sleep 60"
	run md stats --no-stream insp
	assert_success
	assert_output_contains insp
	# The usage and limit read from the cgroup (v1 or v2 files): a limit of 64 MiB, one pid.
	echo "$output" | grep -Eq ' insp +[0-9.]+s +[0-9.]+[KMG]iB / 64\.0MiB +1$' || fail "stats: $output"
	run md inspect no-such-container
	[[ "$status" -ne 0 ]]
	assert_output_contains no-such-container
}

@test "rename; pause and unpause; ids by unique prefix" {
	md run -d --name old busybox sleep 60
	id="$(field old .Id)"
	md rename old new
	[[ "$(field new .Name)" == "/new" ]]
	run md inspect old
	[[ "$status" -ne 0 ]]
	md pause new
	wait_for status_is new paused
	cgroup_is freezer "$id" freezer.state FROZEN cgroup.freeze 1
	md unpause "${id:0:8}"
	wait_for status_is new running
	cgroup_is freezer "$id" freezer.state THAWED cgroup.freeze 0
}

@test "logs -f follows until the container exits; --since" {
	md run -d --name lf busybox sh -c 'echo one; sleep 0.5; echo two'
	run timeout 20 "$MYDOCKER" logs -f lf
	assert_success
	[[ "$output" == $'one\ntwo' ]]
	run md logs --since 1h lf
	[[ "$output" == $'one\ntwo' ]]
	run md logs --since 2099-01-01T00:00:00Z lf
	[[ -z "$output" ]]
	run md logs --since yesterday-ish lf
	[[ "$status" -ne 0 ]]
}

@test "a silent container has an empty log; logs -f waits for its first output" {
	id="$(md run -d --name silent busybox sleep 60)"
	# Its dir is made in a staging dir (by the id's first two digits) and renamed into place:
	# the staging dir stays, empty, and is no container.
	[[ -d "$MYDOCKER_ROOT/containers/$id" && -d "$MYDOCKER_ROOT/containers/.new-${id:0:2}" ]]
	[[ -z "$(ls -A "$MYDOCKER_ROOT/containers/.new-${id:0:2}")" ]]
	[[ "$(md ps -aq --no-trunc)" == "$id" ]]
	run md logs silent
	assert_success
	[[ -z "$output" ]]
	# The log file is made at the first output.
	[[ ! -e "$(field silent .LogPath)" ]]
	md run -d --name late busybox sh -c 'sleep 1; echo finally; echo also >&2'
	run timeout 20 "$MYDOCKER" logs -f late
	assert_success
	[[ "$output" == $'finally\nalso' ]]
	md rm -f silent
}

@test "exec: -e, -w, -u, -d; exit code; not running is an error" {
	md run -d --name ex -e BASE=1 busybox sleep 60
	run md exec -e EXTRA=2 -w /tmp ex sh -c 'echo $BASE $EXTRA $(pwd)'
	[[ "$output" == "1 2 /tmp" ]]
	run md exec -u 1000:1000 ex id -u
	[[ "$output" == "1000" ]]
	run md exec -u nobody ex id -u
	[[ "$output" == "65534" ]]
	run md exec ex sh -c 'exit 5'
	assert_status 5
	md exec -d ex sh -c 'echo detached > /tmp/d'
	wait_for md exec ex test -s /tmp/d
	run -127 md exec ex no-such-command
}

@test "export writes the container's filesystem as a tar" {
	md run --name exp busybox sh -c 'echo exported > /marker'
	md export -o "$BATS_TEST_TMPDIR/fs.tar" exp
	tar -xOf "$BATS_TEST_TMPDIR/fs.tar" ./marker | grep -q exported || tar -xOf "$BATS_TEST_TMPDIR/fs.tar" marker | grep -q exported
	tar -tf "$BATS_TEST_TMPDIR/fs.tar" | grep -q 'bin/busybox'
	refute mounts_under_root
}

@test "a running container's overlay is in its own mount namespace only; export of it" {
	md run -d --name live -v "$BATS_TEST_TMPDIR/vol:/data" busybox sh -c 'echo live > /marker; rm /bin/ls; exec sleep 60'
	wait_for md exec live test -s /marker
	# Mounted for the container, not on the host: the host's mount table does not grow.
	run md exec live sh -c 'grep " / overlay " /proc/mounts'
	assert_success
	refute mounts_under_root
	# export sees the container's changes (a whiteout too), none of what is mounted on it.
	md export -o "$BATS_TEST_TMPDIR/live.tar" live
	tar -tf "$BATS_TEST_TMPDIR/live.tar" >"$BATS_TEST_TMPDIR/list"
	grep -Eq '^(\./)?marker$' "$BATS_TEST_TMPDIR/list"
	refute grep -Eq '^(\./)?bin/ls$' "$BATS_TEST_TMPDIR/list"
	refute grep -Eq '^(\./)?(proc|sys)/.' "$BATS_TEST_TMPDIR/list"
	grep -Eq '^(\./)?bin/busybox$' "$BATS_TEST_TMPDIR/list"
	md rm -f live
	refute mounts_under_root
}

@test "container prune removes stopped containers only; rmi refuses an image in use" {
	md run --name done1 busybox true
	md run -d --name alive busybox sleep 60
	run md container prune -f
	assert_success
	run md ps -a --format json
	[[ $(echo "$output" | jq -r .Names) == "alive" ]]
	run md rmi busybox
	[[ "$status" -ne 0 ]]
	md rm -f alive
	md rmi busybox
	run md images -q
	[[ -z "$output" ]]
}

@test "volume create, ls, inspect, rm (refused while in use), prune" {
	run md volume create data1
	[[ "$output" == "data1" ]]
	run md volume inspect data1
	echo "$output" | jq -e '.[0].Name == "data1" and .[0].Driver == "local"' >/dev/null
	mp="$(echo "$output" | jq -r '.[0].Mountpoint')"
	md run -d --name user -v data1:/d busybox sh -c 'echo hi > /d/f; sleep 60'
	wait_for test -s "$mp/f"
	run md volume rm data1
	[[ "$status" -ne 0 ]]
	assert_output_contains "in use"
	md rm -f user
	md volume create spare
	run md volume prune -f
	assert_success
	run md volume ls -q
	[[ -z "$output" ]]
	run md volume create 'bad name'
	[[ "$status" -ne 0 ]]
}

@test "logs of a -t container: what its pty printed" {
	command -v script >/dev/null || skip "script (util-linux) not found"
	run bash -c "script -qefc '$MYDOCKER run -it --name ttylog --cgroup-parent $CG_PARENT busybox sh -c \"echo said-on-the-pty; exit 4\"' /dev/null </dev/null"
	assert_status 4
	run md logs ttylog
	assert_success
	assert_output_contains said-on-the-pty
}

@test "--runroot / MYDOCKER_RUNROOT: runtime state and bundle there, gone after rm" {
	local rr="$BATS_TEST_TMPDIR/rr"
	id="$(md --runroot "$rr" run -d --cgroup-parent "$CG_PARENT" --name rr busybox sleep 60)"
	export MYDOCKER_RUNROOT="$rr" # from here on (teardown too) the env var finds it
	[[ -f "$rr/runtime/$id/state.json" ]]
	[[ -f "$rr/containers/$id/config.json" ]]
	grep -q "${id:0:12}" "$rr/containers/$id/hosts"
	[[ ! -e "$MYDOCKER_ROOT/run/runtime/$id" ]]
	# The record stays in the store; the env var finds the same state as the flag.
	[[ -f "$MYDOCKER_ROOT/containers/$id/container.json" ]]
	[[ "$(md exec rr hostname)" == "${id:0:12}" ]]
	md rm -f rr
	[[ ! -e "$rr/runtime/$id" && ! -e "$rr/containers/$id" ]]
	[[ ! -e "$MYDOCKER_ROOT/containers/$id" ]]
}
