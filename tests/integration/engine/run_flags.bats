#!/usr/bin/env bats
# Every `run` flag, checked by its effect inside the container or in its cgroup.

load engine_helpers
bats_require_minimum_version 1.5.0

setup() { engine_setup; }
teardown() { engine_teardown; }

@test "-e, --env-file: image env, file, then flags; KEY alone takes our value" {
	printf '# comment\nFROM_FILE=1\nOVER=file\n' >"$BATS_TEST_TMPDIR/env"
	export MD_TEST_PASSTHROUGH=through
	run md run --rm --env-file "$BATS_TEST_TMPDIR/env" -e OVER=flag -e MD_TEST_PASSTHROUGH busybox env
	assert_success
	assert_output_contains FROM_FILE=1
	assert_output_contains OVER=flag
	assert_output_contains MD_TEST_PASSTHROUGH=through
	assert_output_contains PATH=/usr/local/sbin
	run md run --rm --env-file /no/such/file busybox true
	assert_status 125
	assert_output_contains /no/such/file
}

@test "-w, -u, -h, --entrypoint" {
	run md run --rm -w /made/here busybox pwd
	[[ "$output" == "/made/here" ]]
	run md run --rm -u nobody busybox id -u
	[[ "$output" == "65534" ]]
	run md run --rm -u 1234:5678 busybox sh -c 'echo $(id -u):$(id -g)'
	[[ "$output" == "1234:5678" ]]
	run md run --rm -u no-such-user busybox true
	assert_status 125
	assert_output_contains no-such-user
	run md run --rm -h myhost busybox hostname
	[[ "$output" == "myhost" ]]
	run md run --rm --entrypoint /bin/echo busybox hello
	[[ "$output" == "hello" ]]
}

@test "--read-only, --tmpfs" {
	run md run --rm --read-only busybox touch /file
	[[ "$status" -ne 0 ]]
	run md run --rm --read-only --tmpfs /scratch busybox sh -c 'touch /scratch/f && grep " /scratch " /proc/mounts'
	assert_success
	assert_output_contains tmpfs
	run md run --rm --tmpfs relative busybox true
	assert_status 125
}

@test "--privileged, --cap-add, --cap-drop" {
	# CapEff in hex: docker's default set lacks NET_ADMIN (bit 12)
	cap_eff() { md run --rm "$@" busybox sh -c 'grep CapEff /proc/self/status' | awk '{print $2}'; }
	has_bit() { (( (16#$1 >> $2) & 1 )); }
	def="$(cap_eff)"
	refute has_bit "$def" 12
	has_bit "$(cap_eff --cap-add NET_ADMIN)" 12
	refute has_bit "$(cap_eff --cap-drop CHOWN)" 0
	has_bit "$def" 0
	has_bit "$(cap_eff --privileged)" 21 # SYS_ADMIN
	run md run --rm --cap-add NOT_A_CAP busybox true
	assert_status 125
	assert_output_contains NOT_A_CAP
}

@test "--ulimit, --pids-limit, --memory-swap, -l" {
	run md run --rm --ulimit nofile=512:1024 busybox sh -c 'ulimit -n; ulimit -Hn'
	[[ "$output" == $'512\n1024' ]]
	run md run -d --name pl --pids-limit 20 -m 64m --memory-swap 128m -l team=blue busybox sleep 60
	assert_success
	id="$output"
	cgroup_is pids "$id" pids.max 20 pids.max 20
	cgroup_is memory "$id" memory.limit_in_bytes 67108864 memory.max 67108864
	# --memory-swap is memory+swap (v1's memsw); v2's memory.swap.max counts swap alone.
	if cgroup_v2 || [[ -e "$(cgroup_dir_of memory "$id")/memory.memsw.limit_in_bytes" ]]; then
		cgroup_is memory "$id" memory.memsw.limit_in_bytes 134217728 memory.swap.max 67108864
	fi
	run md ps --filter label=team=blue -q
	[[ "$output" == "${id:0:12}" ]]
	run md run --rm --ulimit nofile=x busybox true
	assert_status 125
}

@test "-i: stdin reaches the container; without -i it gets EOF" {
	run bash -c "echo piped-in | '$MYDOCKER' run --rm -i --cgroup-parent $CG_PARENT busybox cat"
	[[ "$output" == "piped-in" ]]
	run bash -c "echo piped-in | '$MYDOCKER' run --rm --cgroup-parent $CG_PARENT busybox cat"
	[[ -z "$output" ]]
}

@test "foreground run forwards SIGTERM to the container" {
	# (the binary itself in the background: $! of a shell function would be a subshell)
	"$MYDOCKER" run --cgroup-parent "$CG_PARENT" --name fg busybox \
		sh -c 'trap "echo got-term; exit 42" TERM; while true; do sleep 0.1; done' &
	fgpid=$!
	wait_for status_is fg running
	kill -TERM "$fgpid"
	code=0
	wait "$fgpid" || code=$?
	[[ "$code" -eq 42 ]]
	md logs fg | grep -q got-term
}
