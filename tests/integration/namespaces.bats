#!/usr/bin/env bats
# linux.namespaces: the user process is PID 1 of its own pid, uts, ipc, net and mount
# namespaces; "path" joins an existing one.

load helpers

@test "the user process is PID 1" {
	# (The trailing exit keeps busybox sh from exec'ing its last command in place of itself.)
	set_args sh -c 'echo "self $$"; tr "\0" " " </proc/1/cmdline; exit 0'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains "self 1"
	assert_output_contains 'sh -c echo "self $$"'
}

@test "/proc is the container's: only its own processes" {
	set_args sh -c 'ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\n" " "'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	# sh (1), ls, grep, sort, tr of the pipeline: a handful, starting with 1, nothing of the host.
	[[ "$output" == "1 "* ]]
	local n
	n="$(echo "$output" | wc -w)"
	[ "$n" -le 6 ]
}

@test "hostname and domainname come from the config, the host's stay" {
	local host_name
	host_name="$(hostname)"
	update_config '.hostname = "box-one" | .domainname = "example.org"'
	set_args sh -c 'hostname; cat /proc/sys/kernel/domainname; hostname changed-inside'
	update_config '.process.capabilities[] += ["CAP_SYS_ADMIN"]'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "${lines[0]}" = box-one ]
	# runc 1.1 ignores domainname (it came in runc 1.2); ours sets it.
	if is_mydocker; then
		[ "${lines[1]}" = example.org ]
	fi
	[ "$(hostname)" = "$host_name" ]
}

@test "pid, ipc, uts, net, mount namespaces differ from the host's" {
	set_args sh -c 'for n in pid ipc uts net mnt; do echo "$n $(readlink /proc/self/ns/$n)"; done'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	local n
	for n in pid ipc uts net mnt; do
		printf '%s\n' "$output" | grep -q "^$n $n:\[[0-9]*\]$" || fail "no $n namespace line"
		assert_output_not_contains "$(readlink /proc/self/ns/$n)"
	done
}

@test "the network namespace has only lo" {
	set_args sh -c 'ls /sys/class/net; echo ---; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "lo
---
lo" ]
}

@test "without a network namespace the host's interfaces are visible" {
	update_config '.linux.namespaces |= map(select(.type != "network"))'
	set_args readlink /proc/self/ns/net
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "$(readlink /proc/self/ns/net)" ]
}

@test "SysV ipc objects of the host are not visible in the container" {
	command -v ipcmk >/dev/null || skip "needs ipcmk (util-linux) on the host"
	local shmid key
	shmid="$(ipcmk -M 4096 | grep -o '[0-9]*$')"
	key="$(awk -v id="$shmid" '$2 == id {print $1}' /proc/sysvipc/shm)"
	set_args cat /proc/sysvipc/shm
	runtime run --bundle "$BUNDLE" "$CID"
	ipcrm -m "$shmid"
	assert_success
	# The header line only: the host's segment lives in the host's ipc namespace.
	[ "${#lines[@]}" -eq 1 ]
	[ -n "$key" ]
	assert_output_not_contains "$key"
}

@test "a mount made inside the container does not appear on the host" {
	local marker="mdt-marker-$$-$BATS_TEST_NUMBER"
	add_bind "$HOST_DIR" /host
	update_config '.process.capabilities[] += ["CAP_SYS_ADMIN"]'
	set_args sh -c "mkdir -p /mnt/x && mount -t tmpfs $marker /mnt/x && grep -c $marker /proc/self/mountinfo >/host/inside; exec sleep 1000"
	run_detached
	wait_for test -s "$HOST_DIR/inside"
	[ "$(cat "$HOST_DIR/inside")" = 1 ]
	refute grep -q "$marker" /proc/self/mountinfo
	refute grep -q "$marker" /proc/1/mountinfo
	# Nor did the container's /proc or rootfs mounts leak out.
	refute grep -q " $BUNDLE/rootfs" /proc/1/mountinfo
}

@test "the host's mounts made later do not change the container's /" {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'touch /host/ready; while [ ! -e /host/go ]; do sleep 0.05; done; grep -c mdt-late /proc/self/mountinfo >/host/count; true'
	run_detached
	wait_for test -e "$HOST_DIR/ready"
	mkdir -p "$BATS_TEST_TMPDIR/late"
	mount -t tmpfs mdt-late "$BATS_TEST_TMPDIR/late"
	touch "$HOST_DIR/go"
	wait_for test -s "$HOST_DIR/count"
	umount "$BATS_TEST_TMPDIR/late"
	[ "$(cat "$HOST_DIR/count")" = 0 ]
}

@test "a namespace path joins an existing namespace" {
	run_sleeping_container
	local pid
	pid="$(container_pid "$CID")"
	make_test_bundle "$BATS_TEST_TMPDIR/b2" "$CGROUP_PATH-b"
	CONFIG="$BATS_TEST_TMPDIR/b2/config.json" update_config '
		.linux.namespaces |= map(if .type == "network" or .type == "ipc" or .type == "uts"
			then .path = "/proc/\($p)/ns/" + ({"network": "net", "ipc": "ipc", "uts": "uts"}[.type])
			else . end)
		| del(.hostname)
		| .process.args = ["sh", "-c", "for n in net ipc uts; do readlink /proc/self/ns/$n; done; hostname"]' \
		--arg p "$pid"
	runtime run --bundle "$BATS_TEST_TMPDIR/b2" "$CID-b"
	assert_success
	assert_output_contains "$(readlink "/proc/$pid/ns/net")"
	assert_output_contains "$(readlink "/proc/$pid/ns/ipc")"
	assert_output_contains "$(readlink "/proc/$pid/ns/uts")"
	# The uts namespace came with the first container's hostname.
	[ "${lines[3]}" = "$(jq -r .hostname "$BUNDLE/config.json")" ]
}

@test "a cgroup namespace hides the cgroup path" {
	add_namespace cgroup
	set_args cat /proc/self/cgroup
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	if cgroup_v2; then
		[ "$output" = "0::/" ] || fail "not the namespace's root: $output"
	else
		printf '%s\n' "$output" | grep -E '^[0-9]+:memory:/$'
	fi
	assert_output_not_contains "$CGROUP_PATH"
}

@test "a user namespace maps container root to an unprivileged host uid" {
	# Path components must be traversable by the mapped uid.
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR" "$BUNDLE"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	add_namespace user
	update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	add_bind "$HOST_DIR" /host
	set_args sh -c 'id -u; cat /proc/self/uid_map; touch /host/ready; exec sleep 1000'
	chmod 777 "$HOST_DIR"
	run_detached
	wait_for test -e "$HOST_DIR/ready"
	[ "$(sed -n 1p "$CTR_STDIO")" = 0 ]
	[ "$(sed -n 2p "$CTR_STDIO" | awk '{print $1, $2, $3}')" = "0 100000 65536" ]
	# On the host the container's root is uid 100000.
	[ "$(stat -c %u "/proc/$(container_pid "$CID")")" = 100000 ]
	[ "$(stat -c %u "$HOST_DIR/ready")" = 100000 ]
}

@test "a joined user namespace with a new pid namespace: init is PID 1 and root of that user namespace" {
	# The first container holds a user namespace (container root = host 100000).
	chmod 755 "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR" "$BUNDLE"
	chown -R 100000:100000 "$BUNDLE/rootfs"
	add_namespace user
	update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
	run_sleeping_container
	local holder
	holder="$(container_pid "$CID")"
	# The second joins it by path and makes every other namespace, pid included, inside it.
	local b2="$BATS_TEST_TMPDIR/b2"
	make_test_bundle "$b2" "$CGROUP_PATH-b"
	chmod 755 "$b2"
	chown -R 100000:100000 "$b2/rootfs"
	CONFIG="$b2/config.json" update_config '
		.linux.namespaces = ([.linux.namespaces[] | select(.type != "user")]
			+ [{type: "user", path: "/proc/\($p)/ns/user"}])
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .process.args = ["sh", "-c", "echo \"pid $$\"; id -u; readlink /proc/self/ns/user; readlink /proc/self/ns/pid; ps -o pid= | wc -l; touch /tmp/made && stat -c %u /tmp/made"]' \
		--arg p "$holder"
	jq -e '.linux.namespaces | map(.type) | index("pid") != null' "$b2/config.json"
	runtime run --bundle "$b2" "$CID-b"
	assert_success
	[ "${lines[0]}" = "pid 1" ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = "$(readlink "/proc/$holder/ns/user")" ]
	[ "${lines[3]}" != "$(readlink "/proc/$holder/ns/pid")" ]
	[ "${lines[3]}" != "$(readlink /proc/self/ns/pid)" ]
	# Its own /proc: only sh and its children.
	[ "${lines[4]}" -le 3 ]
	[ "${lines[5]}" = 0 ]
	# On the host the file belongs to the joined namespace's root.
	[ "$(stat -c %u "$b2/rootfs/tmp/made")" = 100000 ]
}
