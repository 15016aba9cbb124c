# Shared by the engine's bats files: drive the real `mydocker` binary as root, each test with
# its own state root (MYDOCKER_ROOT in the test's temp dir) and cgroup parent, and check in
# teardown that the test left nothing behind: no mount under the root, no cgroup, no process,
# no network (bridge device, nft table) of the root.
#
# MYDOCKER: the binary (ctest sets it; default build/mydocker).

ENGINE_REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../../.." && pwd)"
MYDOCKER="${MYDOCKER:-$ENGINE_REPO_ROOT/build/mydocker}"

engine_setup() {
	[[ $EUID -eq 0 ]] || skip "the engine integration tests must run as root"
	[[ -x "$MYDOCKER" ]] || {
		echo "mydocker '$MYDOCKER' is not an executable (build it first)" >&2
		return 1
	}
	# One root per test: an empty image store too, so the busybox image is built here.
	# (Short path: overlay mount options have a page-size limit.)
	export MYDOCKER_ROOT="$BATS_TEST_TMPDIR/r"
	CG_PARENT="mydocker-test-$(basename "$BATS_TEST_FILENAME" .bats)-$BATS_TEST_NUMBER-$$"
	export CG_PARENT
	mkdir -p "$MYDOCKER_ROOT"
}

engine_teardown() {
	[[ -n "${MYDOCKER_ROOT:-}" && -d "$MYDOCKER_ROOT" ]] || return 0
	local id rc=0
	# Containers a test leaves are the teardown's to remove; a removal that fails is a bug.
	for id in $("$MYDOCKER" ps -aq --no-trunc 2>/dev/null </dev/null); do
		"$MYDOCKER" rm -f -v "$id" >/dev/null 2>&1 </dev/null || {
			echo "teardown: rm -f $id failed" >&2
			rc=1
		}
	done
	# Networks: user ones, then the default bridge's device and the root's nft table.
	if [[ -d "$MYDOCKER_ROOT/networks" ]]; then
		"$MYDOCKER" network prune -f >/dev/null 2>&1 </dev/null || {
			echo "teardown: network prune failed" >&2
			rc=1
		}
		"$MYDOCKER" network rm bridge >/dev/null 2>&1 </dev/null || {
			echo "teardown: network rm bridge failed" >&2
			rc=1
		}
	fi
	# Monitors exit once their container is gone; give them a bounded moment. What is still
	# mounted or still a cgroup after that leaked: removed here, and the test fails.
	local i
	for ((i = 0; i < 100; i++)); do
		mounts_under_root || cgroups_left || break
		sleep 0.05
	done
	local m
	while read -r m; do
		echo "teardown: mount left: $m" >&2
		rc=1
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v r="$MYDOCKER_ROOT" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	if cgroups_left; then
		echo "teardown: cgroups left under $CG_PARENT" >&2
		rc=1
	fi
	local mnt
	for mnt in $(cgroup_mounts); do
		[[ -d "$mnt$CG_PARENT" ]] && find "$mnt$CG_PARENT" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	return "$rc"
}

# root_bridge ROOT: the default bridge's device of the store at ROOT ("mydocker" and the first
# 6 hex digits of FNV-1a-32 of the path, as networks/store.cpp names it).
root_bridge() {
	local s="$1" h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$((((h ^ c) * 16777619) & 0xffffffff))
	done
	printf 'mydocker%06x\n' $((h >> 8))
}

# engine_teardown_root ROOT: engine_teardown for a second store a test used (containers,
# networks, mounts); fails when that store's default bridge is still there, since a leaked
# bridge holds one of the few default subnets for every later test on the host.
engine_teardown_root() {
	[[ -d "$1" ]] || return 0
	local id i dev rc=0
	for id in $(MYDOCKER_ROOT="$1" "$MYDOCKER" ps -aq --no-trunc 2>/dev/null </dev/null); do
		MYDOCKER_ROOT="$1" "$MYDOCKER" rm -f -v "$id" >/dev/null 2>&1 </dev/null || {
			echo "teardown: rm -f $id in \"$1\" failed" >&2
			rc=1
		}
	done
	for ((i = 0; i < 100; i++)); do
		MYDOCKER_ROOT="$1" mounts_under_root || break
		sleep 0.05
	done
	if MYDOCKER_ROOT="$1" mounts_under_root; then
		echo "teardown: mounts left under \"$1\"" >&2
		rc=1
	fi
	# Its networks, and whatever was left (unmounted).
	MYDOCKER_ROOT="$1" engine_teardown || rc=1
	dev="$(root_bridge "$1")"
	if [[ -e "/sys/class/net/$dev" ]]; then
		echo "teardown: the bridge $dev of the store \"$1\" was left" >&2
		rc=1
	fi
	return "$rc"
}

# mounts_under_root: true when something is still mounted under the test's root.
mounts_under_root() { awk -v r="$MYDOCKER_ROOT" 'index($5, r) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; }

# cgroups_left: true when a cgroup of the test's parent still has a child.
cgroups_left() {
	[[ -n "${CG_PARENT:-}" ]] || return 1
	local mnt
	for mnt in $(cgroup_mounts); do
		[[ -d "$mnt$CG_PARENT" ]] && [[ -n "$(find "$mnt$CG_PARENT" -mindepth 1 -type d 2>/dev/null)" ]] && return 0
	done
	return 1
}

# md ARGS...: run mydocker with the test's cgroup parent for run/create.
md() {
	case "${1:-}" in
	run | create) "$MYDOCKER" "$1" --cgroup-parent "$CG_PARENT" "${@:2}" ;;
	*) "$MYDOCKER" "$@" ;;
	esac
}

# wait_for CMD...: poll CMD every 50 ms for up to 10 s.
wait_for() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

field() { "$MYDOCKER" inspect -f "$2" "$1"; }
status_is() { [[ "$(field "$1" .State.Status 2>/dev/null)" == "$2" ]]; }
log_has() { "$MYDOCKER" logs "$1" 2>&1 | grep -q -- "$2"; }

assert_success() {
	[[ "$status" -eq 0 ]] || {
		echo "expected success, got $status: $output" >&2
		return 1
	}
}
assert_status() {
	[[ "$status" -eq "$1" ]] || {
		echo "expected status $1, got $status: $output" >&2
		return 1
	}
}
assert_output_contains() {
	[[ "$output" == *"$1"* ]] || {
		echo "output does not contain '$1': $output" >&2
		return 1
	}
}

# cgroup_v2: true on a host with cgroup2 alone at /sys/fs/cgroup (Debian 12, the guest lane
# of tests/guest); false on a v1 or hybrid host.
cgroup_v2() { [[ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" == cgroup2fs ]]; }

# cgroup_mounts: the hierarchies a cgroup can live under, each with a trailing /: every v1
# one and hybrid's unified/, or the v2 root alone.
cgroup_mounts() {
	if cgroup_v2; then
		echo /sys/fs/cgroup/
	else
		echo /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/
	fi
}

# cgroup_dir_of CONTROLLER ID: the container's cgroup dir, in CONTROLLER's v1 hierarchy or in
# the v2 one.
cgroup_dir_of() {
	if cgroup_v2; then
		echo "/sys/fs/cgroup/$CG_PARENT/$2"
	else
		echo "/sys/fs/cgroup/$1/$CG_PARENT/$2"
	fi
}

# cgroup_file CONTROLLER ID FILE: a file of the container's cgroup (see cgroup_dir_of).
cgroup_file() { cat "$(cgroup_dir_of "$1" "$2")/$3"; }

# cgroup_is CONTROLLER ID V1-FILE V1-VALUE V2-FILE V2-VALUE: the container's cgroup file holds
# the value, the V1 pair on a v1 host, the V2 pair on a v2 host ("-" for a file: no check).
cgroup_is() {
	local file want got
	if cgroup_v2; then
		file="$5" want="$6"
	else
		file="$3" want="$4"
	fi
	[[ "$file" != - ]] || return 0
	got="$(cgroup_file "$1" "$2" "$file")" || fail "cannot read $(cgroup_dir_of "$1" "$2")/$file"
	[[ "$got" == "$want" ]] || fail "$(cgroup_dir_of "$1" "$2")/$file holds '$got', expected '$want'"
}

# fail MESSAGE: fails the test with MESSAGE (as the runtime suite's helpers.bash).
fail() {
	echo "FAIL: $*" >&2
	return 1
}
# refute COMMAND...: fails when COMMAND succeeds. (A bare `! cmd` never fails a bats test:
# errexit ignores negated commands.)
refute() {
	if "$@"; then
		fail "expected to fail but succeeded: $*"
	fi
}
assert_failure() {
	[[ "$status" -ne 0 ]] || fail "command succeeded, expected a failure; output: $output"
}

# http_fetch URL: poll with wget (bounded: about 10 s; one try per call, as GNU wget retries a
# timed-out connection 20 times by default), print what it got.
http_fetch() {
	local end=$((SECONDS + 10)) out
	while ((SECONDS < end)); do
		if out=$(wget --tries=1 -qO- -T 1 "$1" 2>/dev/null); then
			printf '%s\n' "$out"
			return 0
		fi
		sleep 0.1
	done
	echo "no answer from $1" >&2
	return 1
}
