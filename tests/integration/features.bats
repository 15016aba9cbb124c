#!/usr/bin/env bats
# `features`: the runtime-spec features document.

load helpers

@test "features prints the runtime-spec features document" {
	runtime features
	assert_success
	echo "$output" | jq -e '
		(.ociVersionMin | startswith("1.")) and (.ociVersionMax | startswith("1."))
		and ((.hooks | sort) == (["createContainer", "createRuntime", "poststart", "poststop", "prestart", "startContainer"]))
		and (.mountOptions | index("rbind") != null and index("ro") != null and index("nosuid") != null)
		and ((["cgroup", "ipc", "mount", "network", "pid", "user", "uts"] - .linux.namespaces) == [])
		and (.linux.capabilities | index("CAP_CHOWN") != null and index("CAP_SYS_ADMIN") != null)
		and (.linux.cgroup.v1 == true and .linux.cgroup.v2 == true)'
}

@test "features lists the seccomp actions and operators the runtime supports" {
	runtime features
	assert_success
	echo "$output" | jq -e '
		.linux.seccomp.enabled == true
		and ((["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP",
			"SCMP_ACT_TRACE", "SCMP_ACT_LOG"] - .linux.seccomp.actions) == [])
		and ((["SCMP_CMP_EQ", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_GT", "SCMP_CMP_GE",
			"SCMP_CMP_MASKED_EQ"] - .linux.seccomp.operators) == [])'
}

@test "features claims only what works: every listed namespace but user can be created" {
	runtime features
	assert_success
	# (user needs mappings and a rootfs the mapped root can use: see namespaces.bats)
	update_config '.linux.namespaces = [$f.linux.namespaces[] | select(. != "user") | {type: .}]' \
		--argjson f "$output"
	set_args sh -c 'echo "pid $$"'
	runtime run --bundle "$BUNDLE" "$CID"
	assert_success
	[ "$output" = "pid 1" ]
}
