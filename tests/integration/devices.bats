#!/usr/bin/env bats
# /dev: the default devices every container gets, and linux.devices.

load helpers

@test "the default devices exist with the right type and numbers" {
	set_args sh -c 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done
		for l in ptmx fd stdin stdout stderr; do echo "/dev/$l -> $(readlink /dev/$l)"; done'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	# busybox stat prints major:minor in hex.
	assert_output_contains "/dev/null character special file 1:3 666"
	assert_output_contains "/dev/zero character special file 1:5 666"
	assert_output_contains "/dev/full character special file 1:7 666"
	assert_output_contains "/dev/random character special file 1:8 666"
	assert_output_contains "/dev/urandom character special file 1:9 666"
	assert_output_contains "/dev/tty character special file 5:0 666"
	assert_output_contains "/dev/ptmx -> pts/ptmx"
	assert_output_contains "/dev/fd -> /proc/self/fd"
	assert_output_contains "/dev/stdin -> /proc/self/fd/0"
	assert_output_contains "/dev/stdout -> /proc/self/fd/1"
	assert_output_contains "/dev/stderr -> /proc/self/fd/2"
}

@test "the default devices work" {
	set_args sh -c 'echo discard >/dev/null && echo null-ok
		[ "$(head -c 4 /dev/zero | od -An -tx1 | tr -d " ")" = 00000000 ] && echo zero-ok
		[ "$(head -c 16 /dev/urandom | wc -c)" = 16 ] && echo urandom-ok
		echo x 2>&1 >/dev/full | grep -q "No space left" && echo full-ok'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains null-ok
	assert_output_contains zero-ok
	assert_output_contains urandom-ok
	assert_output_contains full-ok
}

@test "/dev is a fresh tmpfs: none of the host's devices" {
	set_args sh -c 'ls /dev'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_not_contains vda
	assert_output_not_contains kmsg
	assert_output_not_contains console
}

@test "a linux.devices entry creates the node with its mode and owner" {
	update_config '.linux.devices = [
		{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 432, "uid": 1000, "gid": 1000},
		{"path": "/dev/sub/dir/mydisk", "type": "b", "major": 7, "minor": 42, "fileMode": 384, "uid": 0, "gid": 0}]'
	set_args sh -c 'stat -c "%n %F %t:%T %a %u:%g" /dev/fuse /dev/sub/dir/mydisk'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	# 10:229 is a:e5, 7:42 is 7:2a in hex; 432 = 0660, 384 = 0600.
	assert_output_contains "/dev/fuse character special file a:e5 660 1000:1000"
	assert_output_contains "/dev/sub/dir/mydisk block special file 7:2a 600 0:0"
}

@test "a device allowed in linux.resources.devices can be opened" {
	update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}]'
	set_args sh -c 'exec 3</dev/fuse && echo opened'
	[[ -e /dev/fuse ]] || skip "no fuse device on the host"
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains opened
}

@test "a device node without an allow rule cannot be opened" {
	update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]'
	set_args sh -c 'exec 3</dev/fuse'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "Operation not permitted"
}
