#!/usr/bin/env bats
# process.capabilities, noNewPrivileges, seccomp, user, rlimits, oomScoreAdj, umask,
# linux.sysctl.

load helpers

# Docker's default capability set.
DOCKER_CAPS=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD CAP_NET_RAW CAP_SETGID
	CAP_SETUID CAP_SETFCAP CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL CAP_AUDIT_WRITE)

# set_caps CAP...: the same list in bounding, effective and permitted; no ambient/inheritable.
set_caps() {
	update_config '.process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c}' \
		--argjson c "$(json_array "$@")"
}

# status_field NAME: the value of NAME in the container's /proc/self/status (from $output).
status_field() { printf '%s\n' "$output" | awk -v f="$1:" '$1 == f {print $2}'; }

@test "the spec's default capabilities are exactly the effective set" {
	set_args cat /proc/self/status
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	# CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10) of runc's default spec.
	if [ "$(jq -c '.process.capabilities.effective | sort' "$BUNDLE/config.json")" = \
		'["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]' ]; then
		[ "$(status_field CapEff)" = 0000000020000420 ]
		[ "$(status_field CapBnd)" = 0000000020000420 ]
		[ "$(status_field CapPrm)" = 0000000020000420 ]
	fi
	# Never more than the bounding set.
	[ $((16#$(status_field CapEff) & ~16#$(status_field CapBnd))) -eq 0 ]
}

@test "capabilities: with CAP_CHOWN chown works, without it chown fails" {
	set_caps "${DOCKER_CAPS[@]}"
	set_args sh -c 'touch /tmp/x && chown 1 /tmp/x && echo chown-ok; grep CapEff /proc/self/status'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains chown-ok
	# Docker's set: 0x a80425fb
	assert_output_contains "00000000a80425fb"

	local without=()
	local c
	for c in "${DOCKER_CAPS[@]}"; do [[ "$c" == CAP_CHOWN ]] || without+=("$c"); done
	set_caps "${without[@]}"
	runtime run --bundle "$BUNDLE" "$CID-2"
	assert_output_contains "Operation not permitted"
	assert_output_contains "00000000a80425fa"
	assert_output_not_contains chown-ok
}

@test "capabilities: CAP_SYS_ADMIN is absent unless granted" {
	set_caps "${DOCKER_CAPS[@]}"
	set_args sh -c 'mount -t tmpfs none /tmp && echo mount-ok || echo mount-denied'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_output_contains mount-denied
	set_caps "${DOCKER_CAPS[@]}" CAP_SYS_ADMIN
	runtime run --bundle "$BUNDLE" "$CID-2"
	assert_output_contains mount-ok
}

@test "noNewPrivileges true sets NoNewPrivs, false leaves it clear" {
	update_config '.process.noNewPrivileges = true'
	set_args grep NoNewPrivs /proc/self/status
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[[ "$output" =~ NoNewPrivs:[[:space:]]+1 ]]
	update_config '.process.noNewPrivileges = false'
	runtime run --bundle "$BUNDLE" "$CID-2"
	assert_success
	[[ "$output" =~ NoNewPrivs:[[:space:]]+0 ]]
}

@test "seccomp: a denied syscall returns the configured errno" {
	update_config '.linux.seccomp = {
		"defaultAction": "SCMP_ACT_ALLOW",
		"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}'
	set_args sh -c 'mkdir /tmp/x; echo "mkdir $?"; touch /tmp/y && echo touch-ok; grep Seccomp: /proc/self/status'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_output_contains "No space left on device"
	assert_output_contains "mkdir 1"
	assert_output_contains touch-ok
	[[ "$output" =~ Seccomp:[[:space:]]+2 ]]
	[ ! -e "$BUNDLE/rootfs/tmp/x" ]
}

@test "seccomp: SCMP_ACT_ERRNO without errnoRet gives EPERM" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	set_args mkdir /tmp/x
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "Operation not permitted"
}

@test "seccomp: argument filters match only the given values" {
	# fchmodat(dirfd, path, mode, flags) and chmod(path, mode): only mode 0777 (511) denied.
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		 "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]},
		{"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
		 "args": [{"index": 2, "value": 511, "op": "SCMP_CMP_EQ"}]}]}'
	set_args sh -c 'touch /tmp/f; chmod 755 /tmp/f && echo 755-ok; chmod 777 /tmp/f 2>/dev/null; echo "777 $?"; stat -c %a /tmp/f'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_output_contains 755-ok
	assert_output_contains "777 1"
	[ "${lines[-1]}" = 755 ]
}

@test "seccomp: SCMP_ACT_KILL kills the process (SIGSYS)" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}'
	set_args sh -c 'mkdir /tmp/x; echo "status $?"'
	runtime run --bundle "$BUNDLE" "$CID"
	# The shell survives and sees its child killed by signal 31: 128+31.
	assert_output_contains "status 159"
}

@test "user: uid, gid and additionalGids" {
	update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 65534]}'
	set_args sh -c 'id -u; id -g; grep Groups: /proc/self/status'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 1000 ]
	[[ "${lines[2]}" =~ ^Groups:[[:space:]]+5\ 65534[[:space:]]*$ ]]
}

@test "user: a non-root user has no effective capabilities" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	set_args sh -c 'grep CapEff /proc/self/status; touch /tmp/x; chown 1 /tmp/x; echo "chown $?"'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_output_contains "0000000000000000"
	assert_output_contains "chown 1"
}

@test "user: umask" {
	update_config '.process.user.umask = 63'
	set_args sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "${lines[0]}" = 0077 ]
	[ "${lines[1]}" = 600 ]
}

@test "rlimits: soft and hard limits are applied" {
	# Hard limits above 20000 fail on this VM (no CAP_SYS_RESOURCE).
	update_config '.process.rlimits = [
		{"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
		{"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
		{"type": "RLIMIT_NPROC", "soft": 500, "hard": 600}]'
	set_args sh -c 'ulimit -n; ulimit -Hn; ulimit -c; ulimit -u; ulimit -Hu'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "1000
2000
0
500
600" ]
}

@test "oomScoreAdj is written to /proc/self/oom_score_adj" {
	update_config '.process.oomScoreAdj = 100'
	set_args cat /proc/self/oom_score_adj
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = 100 ]
}

@test "sysctl: a namespaced sysctl is set in the container only" {
	local host_value
	host_value="$(cat /proc/sys/net/ipv4/ip_forward)"
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}'
	set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "1
123456789" ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_value" ]
	[ "$(cat /proc/sys/kernel/shmmax)" != 123456789 ]
}

@test "sysctl: a sysctl of a namespace the container does not own is refused" {
	update_config '.linux.namespaces |= map(select(.type != "network"))
		| .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	local before
	before="$(cat /proc/sys/net/ipv4/ip_forward)"
	set_args true
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$before" ]
	no_cgroup_left
}

# keyring_probe: tests/tools/keyring_probe, copied into the bundle's rootfs.
require_keyring_probe() {
	[[ -x "${BUILD_DIR:-}/tools/keyring_probe" ]] || skip "keyring_probe not built (set BUILD_DIR)"
	cp "$BUILD_DIR/tools/keyring_probe" "$BUNDLE/rootfs/keyring_probe"
}

@test "the container gets a session keyring of its own: the caller's keys are not readable" {
	require_keyring_probe
	local probe="$BUNDLE/rootfs/keyring_probe" serial="$BUNDLE/rootfs/serial"
	# Positive control: a process started from the caller's session reads the caller's key.
	run "$probe" add s3cr3t "$serial" "$probe" read "$serial"
	assert_output_contains "read: s3cr3t"
	# The container, started by the runtime from that same session, cannot.
	set_args /keyring_probe read /serial
	run "$probe" add s3cr3t "$serial" "$RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$CID"
	echo "$output" >&2
	assert_output_contains "read failed"
	assert_output_not_contains "s3cr3t"
	# And an exec'd process neither.
	set_args sleep 100
	run_detached
	wait_for_status "$CID" running
	run "$probe" add s3cr3t "$serial" "$RUNTIME" --root "$ROOT" exec "$CID" /keyring_probe read /serial
	echo "$output" >&2
	assert_output_contains "read failed"
	assert_output_not_contains "s3cr3t"
}

# first_ungrantable_cap: the name of a capability this kernel knows and we do not hold.
first_ungrantable_cap() {
	local bnd last c
	bnd=$((16#$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)))
	last="$(cat /proc/sys/kernel/cap_last_cap)"
	for ((c = 0; c <= last; c++)); do
		if (( ((bnd >> c) & 1) == 0 )); then
			# capsh is not everywhere: the numbers of the few caps a VM or an outer
			# container commonly withholds.
			case "$c" in
			24) echo CAP_SYS_RESOURCE ;; 25) echo CAP_SYS_TIME ;; 16) echo CAP_SYS_MODULE ;;
			17) echo CAP_SYS_RAWIO ;; 22) echo CAP_SYS_BOOT ;; 33) echo CAP_MAC_ADMIN ;;
			32) echo CAP_MAC_OVERRIDE ;; 34) echo CAP_SYSLOG ;; 35) echo CAP_WAKE_ALARM ;;
			*) continue ;;
			esac
			return 0
		fi
	done
	return 1
}

@test "a capability the runtime cannot grant: a warning naming it and the process runs, never a silent non-start" {
	local cap
	cap="$(first_ungrantable_cap)" || skip "this host withholds no capability from root"
	update_config '.process.capabilities |= with_entries(if .key == "bounding" or .key == "effective" or .key == "permitted"
		then .value += [$c] else . end)' --arg c "$cap"
	set_args echo the-process-ran
	runtime run --bundle "$BUNDLE" "$CID"
	# runc fails visibly (without naming the capability); ours warns, naming it, and runs.
	if is_mydocker || [[ "$status" -eq 0 ]]; then
		assert_output_contains "$cap"
		assert_output_contains the-process-ran
	fi
	# create + start: the same, and start's success means the process ran.
	set_args sh -c 'echo the-process-ran >/ran'
	runtime_detached create --bundle "$BUNDLE" "$CID-2"
	if ! is_mydocker && [[ "$status" -ne 0 ]]; then
		return 0
	fi
	assert_output_contains "$cap"
	runtime start "$CID-2"
	assert_success
	wait_for test -e "$BUNDLE/rootfs/ran"
}
