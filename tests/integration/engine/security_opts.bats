#!/usr/bin/env bats
# docker's default confinement: the seccomp profile (syscalls denied and allowed, with and
# without the capability that unlocks them), --security-opt seccomp=unconfined|PROFILE.json,
# no-new-privileges, and --privileged. Syscalls are made by tests/tools/sysprobe (static,
# mounted into the busybox container), which prints "OK <ret>" or the errno's name.

load engine_helpers
bats_require_minimum_version 1.5.0

setup() {
	engine_setup
	SYSPROBE="${BUILD_DIR:-$ENGINE_REPO_ROOT/build}/tools/sysprobe"
	[[ -x "$SYSPROBE" ]] || {
		echo "sysprobe '$SYSPROBE' is missing (build the sysprobe target)" >&2
		return 1
	}
	PROBE_DIR="$BATS_TEST_TMPDIR/probe"
	mkdir -p "$PROBE_DIR"
	cp "$SYSPROBE" "$PROBE_DIR/sysprobe"
}
teardown() { engine_teardown; }

# probe_table [RUN FLAGS...] -- "SYSCALL [ARG...]=WANT"...: one container runs every probe;
# each must print WANT ("OK" matches "OK <any return value>").
probe_table() {
	local flags=() line script=""
	while [[ "$1" != -- ]]; do
		flags+=("$1")
		shift
	done
	shift
	for line in "$@"; do script+="/t/sysprobe ${line%%=*}; "; done
	run md run --rm -v "$PROBE_DIR:/t:ro" "${flags[@]}" busybox sh -c "$script"
	assert_success
	local -a got
	mapfile -t got <<<"$output"
	local i=0 want bad=""
	for line in "$@"; do
		want="${line#*=}"
		[[ "${got[$i]}" == "$want" || "${got[$i]}" == "$want "* ]] || bad+="  ${line%%=*}: got '${got[$i]}', want '$want' (${flags[*]:-default})"$'\n'
		i=$((i + 1))
	done
	[[ -z "$bad" ]] || fail "$bad"
}

# status_field [RUN FLAGS...] FIELD: a /proc/self/status field of a new container's process.
status_field() {
	local field="${*: -1}"
	md run --rm "${@:1:$#-1}" busybox grep "^$field:" /proc/self/status | awk '{print $2}'
}

# mount_opts [RUN FLAGS...] MOUNTPOINT: the options of MOUNTPOINT in the container's mountinfo.
mount_opts() {
	local mp="${*: -1}"
	md run --rm "${@:1:$#-1}" busybox awk -v mp="$mp" '$5 == mp { print $6 }' /proc/self/mountinfo
}

no_containers_left() {
	run md ps -aq
	assert_success
	[[ -z "$output" ]] || fail "containers left: $output"
}

@test "seccomp mode 2 by default; 0 with --privileged or seccomp=unconfined" {
	[[ "$(status_field Seccomp)" == 2 ]]
	[[ "$(status_field --privileged Seccomp)" == 0 ]]
	[[ "$(status_field --security-opt seccomp=unconfined Seccomp)" == 0 ]]
	[[ "$(status_field --security-opt seccomp=builtin Seccomp)" == 2 ]]
}

@test "default profile: what a container may and may not call" {
	# clone 0x20011 = CLONE_NEWNS|SIGCHLD; 17 = SIGCHLD alone. socket 40 = AF_VSOCK.
	probe_table -- \
		"getpid=OK" \
		"clone 17=OK" \
		"clone 0x20011=EPERM" \
		"clone3 0 0=ENOSYS" \
		"unshare 0x20000=EPERM" \
		"unshare 0x10000000=EPERM" \
		"keyctl 0 -3 0=EPERM" \
		"add_key s:user s:k 0 0 -3=EPERM" \
		"request_key s:user s:k 0 0=EPERM" \
		"userfaultfd 0=EPERM" \
		"personality 0xffffffff=OK" \
		"personality 0=OK" \
		"personality 8=OK" \
		"personality 0x20008=OK" \
		"personality 0x40000=EPERM" \
		"ptrace 0=OK" \
		"mount s:none s:/tmp s:tmpfs 0 0=EPERM" \
		"umount2 s:/tmp 0=EPERM" \
		"pivot_root s:/ s:/=EPERM" \
		"setns 0 0=EPERM" \
		"sethostname s:x 1=EPERM" \
		"chroot s:/=OK" \
		"acct 0=EPERM" \
		"reboot 0 0 0 0=EPERM" \
		"settimeofday 0 0=EPERM" \
		"clock_settime 0 0=EPERM" \
		"kcmp self self 0 0 0=EPERM" \
		"bpf 999 0 0=EPERM" \
		"perf_event_open 0 0 -1 -1 0=EPERM" \
		"init_module 0 0 s:=EPERM" \
		"kexec_load 0 0 0 0=EPERM" \
		"ioperm 0 1 1=EPERM" \
		"socket 1 1 0=OK" \
		"socket 40 1 0=EPERM"
}

@test "a capability unlocks its syscalls, and only its own" {
	probe_table --cap-add SYS_ADMIN -- \
		"unshare 0x20000=OK" \
		"clone 0x20011=OK" \
		"clone3 0 0=EINVAL" \
		"mount s:none s:/tmp s:tmpfs 0 0=OK" \
		"keyctl 0 -3 0=EPERM" \
		"userfaultfd 0=EPERM" \
		"reboot 0 0 0 0=EPERM" \
		"personality 0x40000=EPERM"
	probe_table --cap-add SYS_BOOT -- "reboot 0 0 0 0=EINVAL" "unshare 0x20000=EPERM"
	probe_table --cap-add SYS_PACCT -- "acct 0=OK"
	probe_table --cap-add SYS_TIME -- "settimeofday 0 0=OK" "acct 0=EPERM"
	probe_table --cap-add SYS_PTRACE -- "kcmp self self 0 0 0=OK" "ptrace 0=OK"
	probe_table --cap-add BPF -- "bpf 999 0 0=EINVAL"
	probe_table --cap-add PERFMON -- "perf_event_open 0 0 -1 -1 0=EFAULT"
	probe_table --cap-add SYS_ADMIN --cap-add BPF --cap-add SYSLOG -- "bpf 999 0 0=EINVAL"
	# CAP_SYS_CHROOT is in docker's default set; without it chroot is denied.
	probe_table --cap-drop SYS_CHROOT -- "chroot s:/=EPERM"
}

@test "busybox applets: unshare and mount need CAP_SYS_ADMIN" {
	run md run --rm busybox unshare -m true
	assert_failure
	assert_output_contains "Operation not permitted"
	run md run --rm --cap-add SYS_ADMIN busybox unshare -m true
	assert_success
	run md run --rm busybox mount -t tmpfs none /tmp
	assert_failure
	run md run --rm --cap-add SYS_ADMIN busybox sh -c 'mount -t tmpfs none /tmp && grep " /tmp " /proc/mounts'
	assert_success
	assert_output_contains tmpfs
}

@test "seccomp=unconfined lets keyctl through" {
	probe_table --security-opt seccomp=unconfined -- "keyctl 0 -3 0=OK" "personality 0x40000=OK"
}

@test "a custom profile (docker's format) denies mkdir; kept in the record for a restart" {
	cat >"$BATS_TEST_TMPDIR/deny-mkdir.json" <<-'EOF'
		{
		  "defaultAction": "SCMP_ACT_ALLOW",
		  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
		  "syscalls": [
		    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
		    {"name": "keyctl", "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_ADMIN"]}}
		  ]
		}
	EOF
	run md run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/deny-mkdir.json" busybox mkdir /x
	assert_failure
	assert_output_contains "Operation not permitted"
	# Allowed by this profile, denied by the default one.
	probe_table --security-opt "seccomp=$BATS_TEST_TMPDIR/deny-mkdir.json" -- "unshare 0x20000=EPERM" "personality 0x40000=OK" "keyctl 0 -3 0=EPERM"
	probe_table --security-opt "seccomp=$BATS_TEST_TMPDIR/deny-mkdir.json" --cap-add SYS_ADMIN -- "keyctl 0 -3 0=OK"

	run md create --name custom --security-opt "seccomp=$BATS_TEST_TMPDIR/deny-mkdir.json" busybox mkdir /x
	assert_success
	rm "$BATS_TEST_TMPDIR/deny-mkdir.json"
	run md inspect custom
	assert_success
	[[ "$(jq -r '.[0].HostConfig.SecurityOpt[0]' <<<"$output")" == 'seccomp={"archMap":'* ]]
	run md start custom
	assert_success
	run md wait custom
	[[ "$output" == 1 ]]
	run md logs custom
	assert_output_contains "Operation not permitted"
}

@test "inspect: HostConfig.SecurityOpt as given, null without" {
	run md create --name plain busybox true
	assert_success
	run md inspect plain
	[[ "$(jq -c '.[0].HostConfig.SecurityOpt' <<<"$output")" == null ]]
	run md create --name opts --security-opt no-new-privileges --security-opt seccomp=unconfined busybox true
	assert_success
	run md inspect opts
	[[ "$(jq -c '.[0].HostConfig.SecurityOpt' <<<"$output")" == '["no-new-privileges","seccomp=unconfined"]' ]]
}

@test "bad --security-opt values: exit 125, the option named, nothing left" {
	echo '{"defaultAction": "SCMP_ACT_NOPE"}' >"$BATS_TEST_TMPDIR/bad-action.json"
	echo 'not json' >"$BATS_TEST_TMPDIR/not-json.json"
	local bad
	for bad in "seccomp=$BATS_TEST_TMPDIR/no-such.json" "seccomp=$BATS_TEST_TMPDIR/bad-action.json" \
		"seccomp=$BATS_TEST_TMPDIR/not-json.json" seccomp "no-new-privileges=maybe" bogus=1 "apparmor=docker-default"; do
		run md run --rm --name bad-opts --security-opt "$bad" busybox true
		assert_status 125
		assert_output_contains "--security-opt"
		assert_output_contains "$bad"
		run md create --name bad-opts --security-opt "$bad" busybox true
		assert_status 125
		no_containers_left
	done
	run md run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/bad-action.json" busybox true
	assert_output_contains "defaultAction: unknown action"
}

@test "no_new_privs: off by default (setuid works), on with no-new-privileges" {
	[[ "$(status_field NoNewPrivs)" == 0 ]]
	[[ "$(status_field --security-opt no-new-privileges NoNewPrivs)" == 1 ]]
	[[ "$(status_field --security-opt no-new-privileges:true NoNewPrivs)" == 1 ]]
	[[ "$(status_field --security-opt no-new-privileges=false NoNewPrivs)" == 0 ]]
	# A setuid-root program run by uid 1000 gains euid 0 only without no_new_privs.
	chown root:root "$PROBE_DIR/sysprobe"
	chmod 4755 "$PROBE_DIR/sysprobe"
	run md run --rm -u 1000 -v "$PROBE_DIR:/t:ro" busybox /t/sysprobe euid
	assert_success
	[[ "$output" == 0 ]] || fail "setuid program: euid $output, want 0"
	run md run --rm -u 1000 -v "$PROBE_DIR:/t:ro" --security-opt no-new-privileges busybox /t/sysprobe euid
	assert_success
	[[ "$output" == 1000 ]] || fail "setuid program under no_new_privs: euid $output, want 1000"
}

@test "--privileged: all capabilities, host devices, writable /sys and cgroup, nothing masked" {
	local host_caps
	host_caps="$(awk '/^CapPrm:/ { print $2 }' /proc/self/status)"
	[[ "$(status_field --privileged CapEff)" == "$host_caps" ]]
	[[ "$(status_field CapEff)" != "$host_caps" ]]
	# The host's devices: /dev/kmsg (char) and a loop device (block), when the host has them.
	local dev
	for dev in /dev/kmsg /dev/loop0; do
		[[ -e "$dev" ]] || continue
		run md run --rm --privileged busybox stat -c '%F %t:%T' "$dev"
		assert_success
		[[ "$output" == "$(stat -c '%F %t:%T' "$dev")" ]] || fail "$dev in the container: $output"
		run md run --rm busybox test -e "$dev"
		assert_failure
	done
	run md run --rm --privileged busybox sh -c 'test -c /dev/null && test -L /dev/ptmx && test -d /dev/pts'
	assert_success
	[[ "$(mount_opts --privileged /sys)" == rw,* ]]
	[[ "$(mount_opts /sys)" == ro,* ]]
	[[ "$(mount_opts --privileged /sys/fs/cgroup)" == rw,* ]]
	[[ "$(mount_opts /sys/fs/cgroup)" == ro,* ]]
	# Masked and read-only paths: /proc/keys is /dev/null and /proc/sys read-only by default.
	[[ -n "$(mount_opts /proc/keys)" && "$(mount_opts /proc/sys)" == ro,* ]]
	[[ -z "$(mount_opts --privileged /proc/keys)" ]]
	[[ -z "$(mount_opts --privileged /proc/sys)" ]]
	run md run --rm busybox test -c /proc/keys
	assert_success
	run md run --rm --privileged busybox test -c /proc/keys
	assert_failure
}

@test "exec --privileged: every capability in a default container" {
	local host_caps
	host_caps="$(awk '/^CapPrm:/ { print $2 }' /proc/self/status)"
	run md run -d --name ex busybox sleep 60
	assert_success
	run md exec --privileged ex grep CapEff /proc/self/status
	assert_success
	[[ "$(awk '{print $2}' <<<"$output")" == "$host_caps" ]] || fail "exec --privileged CapEff: $output, want $host_caps"
	run md exec ex grep CapEff /proc/self/status
	assert_success
	[[ "$(awk '{print $2}' <<<"$output")" != "$host_caps" ]]
	run md rm -f ex
	assert_success
}
