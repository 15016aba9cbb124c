#!/usr/bin/env bats
# `list`: the containers of one --root.

load helpers

# Two containers: $CID running from $BUNDLE, $CID-b created from a second bundle.
two_containers() {
	run_sleeping_container
	make_test_bundle "$BATS_TEST_TMPDIR/b2" "$CGROUP_PATH-b"
	CONFIG="$BATS_TEST_TMPDIR/b2/config.json" update_config '.process.args = ["sleep", "1000"]'
	runtime_detached create --bundle "$BATS_TEST_TMPDIR/b2" "$CID-b"
	assert_success
}

@test "list -q prints one id per line" {
	two_containers
	runtime list -q
	assert_success
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf '%s\n' "$CID" "$CID-b" | sort)" ]
}

@test "list --format json describes every container" {
	two_containers
	runtime list --format json
	assert_success
	echo "$output" | jq -e --arg a "$CID" --arg b "$CID-b" --arg ba "$BUNDLE" --arg bb "$BATS_TEST_TMPDIR/b2" '
		length == 2
		and (map(select(.id == $a))[0] | .status == "running" and .bundle == $ba and .pid > 0)
		and (map(select(.id == $b))[0] | .status == "created" and .bundle == $bb and .pid > 0)'
}

@test "list (table) has a header and a row per container" {
	two_containers
	runtime list
	assert_success
	[[ "${lines[0]}" == ID*PID*STATUS*BUNDLE* ]]
	[ "${#lines[@]}" -eq 3 ]
	printf '%s\n' "$output" | grep -E "^$CID +[0-9]+ +running +$BUNDLE"
	printf '%s\n' "$output" | grep -E "^$CID-b +[0-9]+ +created +"
}

@test "list of an empty root lists nothing" {
	runtime list -q
	assert_success
	[ -z "$output" ]
	runtime list --format json
	assert_success
	# runc prints null, an empty array is as good.
	echo "$output" | jq -e '(. // []) | length == 0'
}

@test "list shows stopped containers until they are deleted" {
	set_args true
	runtime run --keep --bundle "$BUNDLE" "$CID"
	assert_success
	runtime list --format json
	assert_success
	echo "$output" | jq -e --arg a "$CID" '.[0].id == $a and .[0].status == "stopped"'
	runtime delete "$CID"
	assert_success
	runtime list -q
	assert_success
	[ -z "$output" ]
}
