#!/usr/bin/env bats
# The store is root-only: a host user cannot reach a setuid-root file or a device node that came
# in an image, was written into a volume or into a container's upper dir (the class of docker's
# CVE-2021-41091), in a new store or in one made before with wider modes.

load engine_helpers
bats_require_minimum_version 1.5.0

setup() {
	engine_setup
	# Not under bats' own temp dir: that is 0700, and would deny the user whatever our modes.
	# /var/tmp is traversable by all, as /var/lib is for the default root.
	MYDOCKER_ROOT="$(mktemp -d /var/tmp/mdperm.XXXXXX)"
	export MYDOCKER_ROOT
	chmod 0755 "$MYDOCKER_ROOT"
}

teardown() {
	engine_teardown
	local left
	left="$(awk -v r="$MYDOCKER_ROOT" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo)"
	[[ -z "$left" ]] && rm -rf "$MYDOCKER_ROOT"
	[[ -z "$left" ]] || {
		echo "teardown: still mounted under the root: $left" >&2
		return 1
	}
}

# as_nobody CMD...: run CMD as uid/gid 65534 with no supplementary groups. Through env: setpriv
# keeps its capabilities until it execs, so its own execve(CMD) would still traverse as root.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env -- "$@"; }

# denied PATH: the unprivileged user can neither stat, open nor execute PATH, for want of
# permission (EACCES) rather than because it is missing.
denied() {
	run as_nobody stat -- "$1"
	[[ "$status" -ne 0 && "$output" == *"Permission denied"* ]] || {
		echo "stat of $1 as nobody: status $status: $output" >&2
		return 1
	}
	run as_nobody "$1" true
	[[ "$status" -ne 0 && "$output" == *"Permission denied"* ]] || {
		echo "exec of $1 as nobody: status $status: $output" >&2
		return 1
	}
	run as_nobody dd if="$1" of=/dev/null count=1
	[[ "$status" -ne 0 && "$output" == *"Permission denied"* ]] || {
		echo "open of $1 as nobody: status $status: $output" >&2
		return 1
	}
}

# The user reaches the root's parent: a denial below it is the store's doing.
parent_reachable() { as_nobody stat -- "$(dirname "$MYDOCKER_ROOT")" >/dev/null; }

# make_image_tar TAR: a rootfs with a setuid-root busybox and a 0666 char device like /dev/null.
make_image_tar() {
	local tree="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$tree/bin" "$tree/dev"
	cp "$(command -v busybox)" "$tree/bin/busybox"
	chown 0:0 "$tree/bin/busybox"
	chmod 4755 "$tree/bin/busybox"
	mknod -m 0666 "$tree/dev/null0" c 1 3
	tar -C "$tree" -cf "$1" .
}

@test "an imported layer's setuid file and device node are out of reach of a host user" {
	make_image_tar "$BATS_TEST_TMPDIR/img.tar"
	run md import "$BATS_TEST_TMPDIR/img.tar" suid:1
	assert_success
	local suid dev
	suid="$(find "$MYDOCKER_ROOT/layers" -path '*/bin/busybox' -perm -4000 -user 0)"
	dev="$(find "$MYDOCKER_ROOT/layers" -path '*/dev/null0' -type c)"
	[[ -u "$suid" && -O "$suid" ]]
	[[ -c "$dev" && "$(stat -c '%a %t,%T' "$dev")" == "666 1,3" ]]
	parent_reachable
	denied "$suid"
	denied "$dev"
}

@test "a setuid file a container wrote into a volume or its upper dir is out of reach of a host user" {
	run md run --rm -v vol:/data busybox sh -c 'cp /bin/busybox /data/sh; chmod 4755 /data/sh'
	assert_success
	local in_vol="$MYDOCKER_ROOT/volumes/vol/_data/sh"
	[[ -u "$in_vol" && -O "$in_vol" ]]
	md run -d --name up busybox sh -c 'cp /bin/busybox /bin/suid; chmod 4755 /bin/suid; touch /done; sleep 60'
	local id upper merged
	id="$(field up .Id)"
	upper="$MYDOCKER_ROOT/containers/$id/diff"
	wait_for test -e "$upper/done"
	[[ -u "$upper/bin/suid" ]]
	parent_reachable
	denied "$in_vol"
	denied "$upper/bin/suid"
	# The merged rootfs is on the host only where the kernel cannot make a detached overlay.
	merged="$MYDOCKER_ROOT/run/containers/$id/rootfs/bin/suid"
	if [[ -e "$merged" ]]; then denied "$merged"; fi
	run as_nobody stat -- "$MYDOCKER_ROOT/run/containers/$id"
	assert_output_contains "Permission denied"
}

@test "a store made with 0755 dirs is tightened at the next command, and still runs containers" {
	run md run --rm -v vol:/data busybox sh -c 'cp /bin/busybox /data/sh; chmod 4755 /data/sh'
	assert_success
	local d dirs=("$MYDOCKER_ROOT" "$MYDOCKER_ROOT/layers" "$MYDOCKER_ROOT/images" "$MYDOCKER_ROOT/containers"
		"$MYDOCKER_ROOT/volumes" "$MYDOCKER_ROOT/run" "$MYDOCKER_ROOT/run/containers" "$MYDOCKER_ROOT/run/runtime")
	for d in "${dirs[@]}"; do
		[[ -d "$d" ]] || {
			echo "missing $d" >&2
			return 1
		}
		chmod 0755 "$d"
	done
	# As an old store: the user could reach the volume's setuid file.
	as_nobody stat -- "$MYDOCKER_ROOT/volumes/vol/_data/sh" >/dev/null
	run md ps -a
	assert_success
	for d in "${dirs[@]}"; do
		[[ "$(stat -c %a "$d")" == "700" ]] || {
			echo "$d is $(stat -c %a "$d") after a command" >&2
			return 1
		}
	done
	denied "$MYDOCKER_ROOT/volumes/vol/_data/sh"
	run md run --rm -v vol:/data busybox ls -l /data/sh
	assert_success
	assert_output_contains "rwsr-xr-x"
}

@test "a store made by its first command is root-only from the start" {
	rmdir "$MYDOCKER_ROOT"
	run md run --rm -v vol:/data busybox true
	assert_success
	local d
	for d in "" layers images containers volumes run run/containers run/runtime; do
		[[ "$(stat -c %a "$MYDOCKER_ROOT/$d")" == "700" ]] || {
			echo "$MYDOCKER_ROOT/$d is $(stat -c %a "$MYDOCKER_ROOT/$d")" >&2
			return 1
		}
	done
}
