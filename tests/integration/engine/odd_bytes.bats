#!/usr/bin/env bats
# Arguments, env, labels and output may be any bytes (issue 19.4): invalid UTF-8 must never
# abort the engine. The process gets its bytes as given; the records and JSON show U+FFFD for
# a bad sequence, as docker's Go encoder writes it.

load engine_helpers

setup() { engine_setup; }
teardown() { engine_teardown; }

@test "run with invalid UTF-8 in an argument: the process gets the bytes, the engine does not abort" {
	run md run --rm --network none busybox echo $'a\xffb'
	[[ "$status" -eq 0 ]] || fail "exit $status (134 was std::terminate): $output"
	[[ "$output" == $'a\xffb' ]] || fail "unexpected output: $(printf %s "$output" | od -c)"
}

@test "invalid UTF-8 in env and labels: inspect, ps --format json and logs show U+FFFD; rm works" {
	md run -d --network none --name odd -l $'k=\xfe' -e $'E=\xff' busybox sh -c 'echo "$E"; sleep 100'
	run md inspect odd
	assert_success
	jq -e '.[0].Config.Labels.k == "\ufffd"' <<<"$output" >/dev/null || fail "label not U+FFFD: $output"
	jq -e '.[0].Config.Env | index("E=\ufffd") != null' <<<"$output" >/dev/null || fail "env not U+FFFD: $output"
	run md ps --format json
	assert_success
	jq -e '.Labels.k == "\ufffd"' <<<"$output" >/dev/null || fail "ps json: $output"
	wait_for sh -c '"$MYDOCKER" logs odd | grep -q .'
	run md logs odd
	assert_success
	# The json-file log holds U+FFFD for it, as docker's does.
	[[ "$output" == $'\xef\xbf\xbd' ]] || fail "logs: $(printf %s "$output" | od -c)"
	md rm -f odd >/dev/null
}
