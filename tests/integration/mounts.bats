#!/usr/bin/env bats
# mounts, root.readonly, maskedPaths, readonlyPaths, rootfsPropagation, and mount targets
# that must stay inside the rootfs.

load helpers

# The mount entry of DEST in the mountinfo text on stdin ("- fstype source superoptions"
# and the per-mount options), one line.
mount_line() { awk -v d="$1" '$5 == d' ; }

@test "a rw bind mount of a host dir: the container writes, the host sees it" {
	echo from-host >"$HOST_DIR/in"
	add_bind "$HOST_DIR" /data rw
	set_args sh -c 'cat /data/in; echo from-container >/data/out'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains from-host
	[ "$(cat "$HOST_DIR/out")" = from-container ]
}

@test "a ro bind mount can be read but not written" {
	echo from-host >"$HOST_DIR/in"
	add_bind "$HOST_DIR" /data ro
	set_args sh -c 'cat /data/in; touch /data/new'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains from-host
	assert_output_contains "Read-only file system"
	[ ! -e "$HOST_DIR/new" ]
	# The host's dir itself stays writable.
	touch "$HOST_DIR/host-can"
}

@test "a bind mount of a single file" {
	echo file-content >"$BATS_TEST_TMPDIR/single"
	add_bind "$BATS_TEST_TMPDIR/single" /etc/single.conf ro
	set_args cat /etc/single.conf
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = file-content ]
}

@test "a missing mount destination is created inside the rootfs" {
	add_bind "$HOST_DIR" /deep/new/dir
	set_args sh -c 'touch /deep/new/dir/made'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ -e "$HOST_DIR/made" ]
	[ -d "$BUNDLE/rootfs/deep/new/dir" ]
}

@test "tmpfs with options: size, mode, noexec" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
		"options": ["nosuid", "nodev", "noexec", "size=1m", "mode=0710"]}'
	set_args sh -c 'awk "\$5 == \"/scratch\"" /proc/self/mountinfo; stat -c "mode %a" /scratch
		cp /bin/busybox /scratch/bb 2>/dev/null; /scratch/bb true 2>/dev/null || echo cannot-exec
		dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1 | grep -o "No space left on device"'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	local line="${lines[0]}"
	[[ "$line" == *" - tmpfs "* ]]
	[[ "$line" == *noexec* && "$line" == *nosuid* && "$line" == *nodev* ]]
	[[ "$line" == *size=1024k* ]]
	assert_output_contains "mode 710"
	assert_output_contains cannot-exec
	assert_output_contains "No space left on device"
}

@test "root.readonly: writing to / fails with EROFS, mounts on top stay writable" {
	update_config '.root.readonly = true'
	add_mount '{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	set_args sh -c 'touch /new-file; echo "root $?"; touch /tmp/ok && echo tmp-ok'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains "Read-only file system"
	assert_output_contains "root 1"
	assert_output_contains tmp-ok
	[ ! -e "$BUNDLE/rootfs/new-file" ]
}

@test "masked paths: files read empty, directories look empty" {
	# (proc files report size 0: read them)
	[[ -n "$(head -c 1 /proc/keys)" ]] || skip "/proc/keys is empty on the host"
	echo top-secret >"$BUNDLE/rootfs/root/secret"
	echo hidden >"$BUNDLE/rootfs/etc/hidden.conf"
	update_config '.linux.maskedPaths = ["/proc/keys", "/proc/timer_list", "/root", "/etc/hidden.conf", "/does/not/exist"]'
	set_args sh -c 'echo "keys $(wc -c </proc/keys)"; echo "timer $(wc -c </proc/timer_list)"
		echo "root [$(ls -A /root)]"; echo "hidden [$(cat /etc/hidden.conf)]"'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains "keys 0"
	assert_output_contains "timer 0"
	assert_output_contains "root []"
	assert_output_contains "hidden []"
	assert_output_not_contains top-secret
}

@test "masked paths cannot be unmasked by writing to them" {
	update_config '.linux.maskedPaths = ["/proc/keys", "/root"]'
	# /proc/keys is masked by /dev/null: a write goes nowhere, a read stays empty.
	set_args sh -c 'echo x >/proc/keys; echo "keys $(wc -c </proc/keys)"; touch /root/x; echo "root $?"'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_output_contains "keys 0"
	assert_output_contains "root 1"
	[ ! -e "$BUNDLE/rootfs/root/x" ]
}

@test "readonly paths: /proc/sys and a config dir reject writes" {
	update_config '.linux.readonlyPaths = ["/proc/sys", "/etc"]'
	# CAP_SYS_ADMIN would let it write kernel.hostname without the read-only mount.
	update_config '.process.capabilities[] += ["CAP_SYS_ADMIN"]'
	set_args sh -c 'echo name >/proc/sys/kernel/hostname; echo "sys $?"; touch /etc/new; echo "etc $?"; cat /etc/hostname'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_output_contains "Read-only file system"
	assert_output_contains "sys 1"
	assert_output_contains "etc 1"
	assert_output_contains mydocker-bundle
	[ ! -e "$BUNDLE/rootfs/etc/new" ]
}

@test "/proc is procfs, /sys is a read-only sysfs, /dev/pts a devpts" {
	set_args cat /proc/self/mountinfo
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[[ "$(printf '%s\n' "$output" | mount_line /proc)" == *" - proc "* ]]
	local sys
	sys="$(printf '%s\n' "$output" | mount_line /sys)"
	[[ "$sys" == *" - sysfs "* && "$sys" == *" ro,"* ]]
	[[ "$(printf '%s\n' "$output" | mount_line /dev/pts)" == *" - devpts "* ]]
	[[ "$(printf '%s\n' "$output" | mount_line /dev/mqueue)" == *" - mqueue "* ]]
	[[ "$(printf '%s\n' "$output" | mount_line /dev/shm)" == *" - tmpfs "* ]]
}

@test "a symlinked mount destination pointing out of the rootfs stays inside (CVE-2021-30465)" {
	local target="$BATS_TEST_TMPDIR/host-target" target2="$BATS_TEST_TMPDIR/host-target2"
	local existing="$BATS_TEST_TMPDIR/host-existing"
	mkdir "$existing"
	echo untouched >"$existing/file"
	ln -s "$target" "$BUNDLE/rootfs/evil"
	ln -s "../../../../../../../../../..$target2" "$BUNDLE/rootfs/evil2"
	ln -s "$existing" "$BUNDLE/rootfs/evil3"
	add_mount '{"destination": "/evil", "type": "tmpfs", "source": "tmpfs"}'
	add_mount '{"destination": "/evil2/sub", "type": "tmpfs", "source": "tmpfs"}'
	add_mount '{"destination": "/evil3", "type": "tmpfs", "source": "tmpfs"}'
	add_bind "$HOST_DIR" /host
	set_args sh -c 'touch /evil/a /evil2/sub/b /evil3/c; touch /host/ready; exec sleep 1000'
	# A runtime may also refuse such a config; either way the host must be untouched.
	runtime_detached run -d --bundle "$BUNDLE" "$CID"
	if [[ "$status" -eq 0 ]]; then
		wait_for test -e "$HOST_DIR/ready"
	fi
	[ ! -e "$target" ]
	[ ! -e "$target2" ]
	[ "$(ls -A "$existing")" = file ]
	[ "$(cat "$existing/file")" = untouched ]
	refute grep -q "$BATS_TEST_TMPDIR/host-" /proc/self/mountinfo
	refute grep -q "$BATS_TEST_TMPDIR/host-" /proc/1/mountinfo
}

# Bundle on a shared tmpfs, so that propagation from the host into the container is possible
# at all (this host's / is private).
shared_bundle() {
	local shared="$BATS_TEST_TMPDIR/shared"
	mkdir -p "$shared"
	mount -t tmpfs mdt-shared "$shared"
	mount --make-shared "$shared"
	SHARED_MOUNT="$shared"
	BUNDLE="$shared/bundle"
	make_test_bundle "$BUNDLE" "$CGROUP_PATH"
	mkdir -p "$BUNDLE/rootfs/mnt/sub"
}

teardown() {
	common_teardown
	if [[ -n "${SHARED_MOUNT:-}" ]]; then
		umount -R -l "$SHARED_MOUNT" 2>/dev/null || true
	fi
}

# Starts a container on the shared bundle, mounts a tmpfs under its rootfs from the host,
# and prints how many times the container then sees it.
host_mount_seen_inside() {
	add_bind "$HOST_DIR" /host
	set_args sh -c 'touch /host/ready; while [ ! -e /host/go ]; do sleep 0.05; done
		grep -c mdt-late /proc/self/mountinfo >/host/count; true'
	run_detached
	wait_for test -e "$HOST_DIR/ready"
	mount -t tmpfs mdt-late "$BUNDLE/rootfs/mnt/sub"
	touch "$HOST_DIR/go"
	wait_for test -s "$HOST_DIR/count"
	umount "$BUNDLE/rootfs/mnt/sub"
	cat "$HOST_DIR/count"
}

@test "rootfsPropagation rslave: host mounts under the rootfs propagate in" {
	shared_bundle
	update_config '.linux.rootfsPropagation = "rslave"'
	[ "$(host_mount_seen_inside)" = 1 ]
}

@test "rootfsPropagation private: host mounts under the rootfs stay out" {
	shared_bundle
	update_config '.linux.rootfsPropagation = "private"'
	[ "$(host_mount_seen_inside)" = 0 ]
}

@test "bind mount propagation option rslave versus rprivate" {
	local src="$BATS_TEST_TMPDIR/src"
	mkdir -p "$src"
	mount -t tmpfs mdt-src "$src"
	mount --make-shared "$src"
	SHARED_MOUNT="$src"
	mkdir "$src/sub"
	add_bind "$src" /slave rslave
	add_bind "$src" /private rprivate
	add_bind "$HOST_DIR" /host
	set_args sh -c 'touch /host/ready; while [ ! -e /host/go ]; do sleep 0.05; done
		echo "slave $(ls /slave/sub)"; echo "private $(ls /private/sub)"; exit 0'
	run_detached
	wait_for test -e "$HOST_DIR/ready"
	mount -t tmpfs mdt-late "$src/sub"
	touch "$src/sub/late-file"
	touch "$HOST_DIR/go"
	wait_for_status "$CID" stopped
	umount "$src/sub"
	grep -qx "slave late-file" "$CTR_STDIO"
	grep -qx "private " "$CTR_STDIO"
}

@test "mounts inside /proc are refused, except the files lxcfs emulates" {
	echo hostile >"$HOST_DIR/core_pattern"
	add_bind "$HOST_DIR/core_pattern" /proc/sys/kernel/core_pattern
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "/proc/sys/kernel/core_pattern"
	no_state_left "$CID"
	# /proc itself takes only procfs.
	make_test_bundle "$BATS_TEST_TMPDIR/b2" "$CGROUP_PATH-2"
	CONFIG="$BATS_TEST_TMPDIR/b2/config.json" update_config \
		'.mounts |= map(if .destination == "/proc" then {destination: "/proc", type: "tmpfs", source: "tmpfs"} else . end)'
	runtime run --bundle "$BATS_TEST_TMPDIR/b2" "$CID-2"
	assert_failure
	assert_output_contains "/proc"
	# An lxcfs-style file is allowed.
	make_test_bundle "$BATS_TEST_TMPDIR/b3" "$CGROUP_PATH-3"
	echo "fake uptime" >"$HOST_DIR/uptime"
	CONFIG="$BATS_TEST_TMPDIR/b3/config.json" update_config \
		'.mounts += [{destination: "/proc/uptime", type: "bind", source: $s, options: ["bind", "ro"]}]
		| .process.args = ["cat", "/proc/uptime"]' --arg s "$HOST_DIR/uptime"
	runtime run --bundle "$BATS_TEST_TMPDIR/b3" "$CID-3"
	assert_success
	assert_output_contains "fake uptime"
}

@test "a mount whose destination reaches /proc through a link of the image is refused" {
	ln -s /proc/sys/kernel "$BUNDLE/rootfs/kernel-link"
	echo hostile >"$HOST_DIR/core_pattern"
	add_bind "$HOST_DIR/core_pattern" /kernel-link/core_pattern
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "inside /proc"
	no_state_left "$CID"
}
