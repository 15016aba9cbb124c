#!/usr/bin/env bats
# `spec`: writes a default config.json that the runtime itself can run.

load helpers

@test "spec writes a valid config.json in the current directory" {
	mkdir "$BATS_TEST_TMPDIR/spec" && cd "$BATS_TEST_TMPDIR/spec"
	runtime spec
	assert_success
	[ -s config.json ]
	# Valid JSON with the fields every runtime-spec 1.x config has.
	run jq -e '(.ociVersion | startswith("1.")) and (.root.path == "rootfs")
		and (.process.args | length > 0) and (.process.cwd == "/")
		and ([.linux.namespaces[].type] | index("pid") != null and index("mount") != null)
		and ([.mounts[].destination] | index("/proc") != null)' config.json
	assert_success
}

@test "spec --bundle writes into the bundle dir" {
	local dir="$BATS_TEST_TMPDIR/other-bundle"
	mkdir "$dir"
	runtime spec --bundle "$dir"
	assert_success
	run jq -e '.ociVersion' "$dir/config.json"
	assert_success
	[ ! -e "$PWD/config.json" ] || [ "$PWD" = "$dir" ]
}

@test "spec refuses to overwrite an existing config.json" {
	local dir="$BATS_TEST_TMPDIR/exists"
	mkdir "$dir"
	echo '{"keep":"me"}' >"$dir/config.json"
	runtime spec --bundle "$dir"
	assert_failure
	[ "$(jq -r .keep "$dir/config.json")" = me ]
}

@test "spec --rootless adds a user namespace with uid and gid mappings" {
	local dir="$BATS_TEST_TMPDIR/rootless"
	mkdir "$dir"
	runtime spec --rootless --bundle "$dir"
	assert_success
	run jq -e '([.linux.namespaces[].type] | index("user") != null)
		and (.linux.uidMappings | length > 0) and (.linux.gidMappings | length > 0)
		and (.linux.uidMappings[0].size >= 1)' "$dir/config.json"
	assert_success
}

@test "the spec config runs as is (with the args swapped for a command)" {
	# setup() made $BUNDLE with make-bundle from `spec`; undo only what setup changed
	# besides the args, and keep the readonly root the default config asks for.
	update_config '.root.readonly = true'
	set_args sh -c 'echo spec-ok'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	assert_output_contains spec-ok
}

@test "a --rootless spec bundle runs in a user namespace" {
	"$MAKE_BUNDLE" "$BUNDLE" --rootless
	update_config '.process.terminal = false | .linux.cgroupsPath = $cg' --arg cg "$CGROUP_PATH"
	set_args sh -c 'cat /proc/self/uid_map; readlink /proc/self/ns/user'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$(echo "$output" | awk 'NR==1 {print $1, $2, $3}')" = "0 0 1" ]
	[ "$(echo "$output" | sed -n 2p)" != "$(readlink /proc/self/ns/user)" ]
}
