#!/usr/bin/env bats
# hooks: prestart, createRuntime, createContainer, startContainer, poststart, poststop.
# Each gets the container state JSON on stdin.

load helpers

setup() {
	common_setup
	add_bind "$HOST_DIR" /host
	# One script serves every hook: it saves its stdin as $2/$1.json, appends $1 to
	# $2/order, and records its args and HOOK_VAR. It runs on the host for most hooks and
	# inside the container (as /host/hook.sh writing to /host) for startContainer.
	cat >"$HOST_DIR/hook.sh" <<-'SH'
		#!/bin/sh
		cat >"$2/$1.json"
		echo "$1" >>"$2/order"
		echo "$1 args=$* var=${HOOK_VAR:-}" >>"$2/args"
	SH
	chmod 755 "$HOST_DIR/hook.sh"
}

# hook NAME: the hook object for NAME.
hook() {
	local path="$HOST_DIR/hook.sh" dir="$HOST_DIR"
	if [[ "$1" == startContainer ]]; then
		path=/host/hook.sh dir=/host
	fi
	jq -cn --arg p "$path" --arg n "$1" --arg d "$dir" \
		'{path: $p, args: ["hook.sh", $n, $d], env: ["HOOK_VAR=var-\($n)", "PATH=/bin:/usr/bin"]}'
}

all_hooks() {
	local h obj="{}"
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		obj="$(jq -c --arg n "$h" --argjson v "$(hook "$h")" '.[$n] = [$v]' <<<"$obj")"
	done
	update_config '.hooks = $h' --argjson h "$obj"
}

# hook_state NAME FILTER: jq -e FILTER on the state NAME received.
hook_state() {
	[[ -s "$HOST_DIR/$1.json" ]] || fail "hook $1 did not run"
	jq -e --arg id "$CID" --arg b "$BUNDLE" "$2" "$HOST_DIR/$1.json" >/dev/null ||
		fail "hook $1 got $(cat "$HOST_DIR/$1.json"), expected $2"
}

@test "every hook runs in order and gets the state on stdin" {
	all_hooks
	set_args sleep 1000
	create_container
	hook_state prestart '.id == $id and .status == "creating" and .bundle == $b and .pid > 0'
	hook_state createRuntime '.id == $id and .status == "creating" and .bundle == $b and .pid > 0'
	hook_state createContainer '.id == $id and .status == "creating"'
	# The pid prestart and createRuntime see is the container's host pid.
	[ "$(jq .pid "$HOST_DIR/createRuntime.json")" = "$(container_pid "$CID")" ]
	[ ! -e "$HOST_DIR/startContainer.json" ]
	# poststart runs after the user process started (runc 1.1 runs it in create already).
	[ ! -e "$HOST_DIR/poststart.json" ] || ! is_mydocker

	runtime start "$CID"
	assert_success
	wait_for test -s "$HOST_DIR/poststart.json"
	hook_state startContainer '.id == $id and (.status == "created" or .status == "running")'
	# runc 1.1 reports "created" to poststart; "running" is as good.
	hook_state poststart '.id == $id and (.status == "created" or .status == "running") and .pid > 0'
	[ ! -e "$HOST_DIR/poststop.json" ]

	runtime delete --force "$CID"
	assert_success
	hook_state poststop '.id == $id and .status == "stopped" and .bundle == $b'

	local order
	order="$(tr '\n' ' ' <"$HOST_DIR/order")"
	if is_mydocker; then
		# The runtime-spec's lifecycle order.
		[ "$order" = "prestart createRuntime createContainer startContainer poststart poststop " ]
	else
		# runc 1.1 runs poststart at the end of create, before startContainer (fixed in 1.2).
		[[ "$order" == "prestart createRuntime createContainer "* ]]
		[[ "$order" == *"startContainer "*"poststop " ]]
	fi
}

@test "hooks get their args and env from the config" {
	update_config '.hooks.createRuntime = [$h]' --argjson h "$(hook createRuntime)"
	set_args true
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	grep -qx "createRuntime args=createRuntime $HOST_DIR var=var-createRuntime" "$HOST_DIR/args"
}

@test "createContainer runs in the container's mount namespace, startContainer inside the container" {
	cat >"$HOST_DIR/ns.sh" <<-'SH'
		#!/bin/sh
		readlink /proc/self/ns/mnt >"$1"
	SH
	chmod 755 "$HOST_DIR/ns.sh"
	update_config '.hooks.createContainer = [{path: $p, args: ["ns.sh", $d + "/cc-ns"]}]
		| .hooks.startContainer = [{path: "/host/ns.sh", args: ["ns.sh", "/host/sc-ns"]}]' \
		--arg p "$HOST_DIR/ns.sh" --arg d "$HOST_DIR"
	set_args sleep 1000
	run_detached
	wait_for_status "$CID" running
	local ns
	ns="$(readlink "/proc/$(container_pid "$CID")/ns/mnt")"
	[ "$(cat "$HOST_DIR/cc-ns")" = "$ns" ]
	[ "$(cat "$HOST_DIR/sc-ns")" = "$ns" ]
}

@test "a failing createRuntime hook fails create and leaves nothing behind" {
	cat >"$HOST_DIR/fail.sh" <<-'SH'
		#!/bin/sh
		echo "hook-says-no" >&2
		exit 7
	SH
	chmod 755 "$HOST_DIR/fail.sh"
	update_config '.hooks.createRuntime = [{path: $p}]' --arg p "$HOST_DIR/fail.sh"
	set_args sleep 1234321
	runtime_detached create --bundle "$BUNDLE" "$CID"
	assert_failure
	assert_output_contains "hook-says-no"
	runtime state "$CID"
	assert_failure
	no_state_left
	wait_for no_cgroup_left
	refute pgrep -f 'sleep 1234321'
}

@test "a failing prestart hook fails run and leaves nothing behind" {
	update_config '.hooks.prestart = [{path: "/bin/false"}]'
	set_args true
	runtime run --bundle "$BUNDLE" "$CID"
	assert_failure
	runtime state "$CID"
	assert_failure
	no_state_left
	wait_for no_cgroup_left
}

@test "a hook that outlives its timeout fails create" {
	cat >"$HOST_DIR/slow.sh" <<-'SH'
		#!/bin/sh
		exec sleep 4321
	SH
	chmod 755 "$HOST_DIR/slow.sh"
	update_config '.hooks.createRuntime = [{path: $p, timeout: 1}]' --arg p "$HOST_DIR/slow.sh"
	local start=$SECONDS
	runtime_detached create --bundle "$BUNDLE" "$CID"
	local took=$((SECONDS - start))
	local pid
	for pid in $(pgrep -fx 'sleep 4321'); do kill -KILL "$pid"; done
	assert_failure
	[ "$took" -lt 10 ] || fail "create took ${took}s with a 1s hook timeout"
	runtime state "$CID"
	assert_failure
	wait_for no_cgroup_left
}

@test "a failing poststart hook is reported" {
	update_config '.hooks.poststart = [{path: "/bin/false"}]'
	set_args sleep 1234322
	runtime_detached run -d --bundle "$BUNDLE" "$CID"
	# runc 1.1 fails the run and removes the container. The runtime-spec says: log a
	# warning and carry on as if the hook had succeeded; mydocker-runc does that.
	[[ -n "$output" ]] || fail "the hook failure went unreported"
	if is_mydocker; then
		assert_success
		status_is "$CID" running
	else
		assert_failure
		wait_for eval '! pgrep -f "sleep 1234322"'
	fi
}

@test "a failing poststop hook does not keep delete from removing the container" {
	update_config '.hooks.poststop = [{path: "/bin/false"}]'
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime delete "$CID"
	runtime state "$CID"
	assert_failure
	no_cgroup_left
}
