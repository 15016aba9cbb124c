#!/usr/bin/env bats
# Containers and the host's loopback (issue 16, item 4). Our bridges have route_localnet=1
# (replies of published ports to the host's 127.0.0.1 need it), which also lets the host
# accept a packet a container sends to 127.0.0.0/8 through the bridge's MAC (the class of
# CVE-2020-8558). The test performs that attack from a default container (NET_RAW only) with
# tests/tools/localnet_probe against listeners on the host's loopback, and a control: the same
# crafting to a listener on the bridge's gateway address must get through. Traffic goes only
# to the host's loopback and to the test's own bridge, in bounded loops.

load engine_helpers
bats_require_minimum_version 1.5.0

PROBE="${BUILD_DIR:-$ENGINE_REPO_ROOT/build}/tools/localnet_probe"

setup() {
	LISTENER_PID= BRIDGE= TABLE=
	engine_setup
	command -v nft >/dev/null || skip "nft (nftables) not found"
	command -v python3 >/dev/null || skip "python3 not found (the listener of the test)"
	[[ -x "$PROBE" ]] || {
		echo "'$PROBE' is not an executable (build the tools)" >&2
		return 1
	}
}

# A listener left running, or this root's bridge or nft table left after the engine's
# teardown, fails the test.
teardown() {
	local leftover=0
	if [[ -n "$LISTENER_PID" ]] && kill -0 "$LISTENER_PID" 2>/dev/null; then
		echo "teardown: the listener (pid $LISTENER_PID) is still running" >&2
		kill "$LISTENER_PID" 2>/dev/null
		wait "$LISTENER_PID" 2>/dev/null
		leftover=1
	fi
	engine_teardown
	if [[ -n "$BRIDGE" ]] && ip link show "$BRIDGE" >/dev/null 2>&1; then
		echo "teardown: bridge $BRIDGE is left" >&2
		leftover=1
	fi
	if [[ -n "$TABLE" ]] && nft list table inet "$TABLE" >/dev/null 2>&1; then
		echo "teardown: nft table inet $TABLE is left" >&2
		leftover=1
	fi
	return "$leftover"
}

# start_listener ADDR...: a UDP and a TCP listener on each ADDR (free ports), recording in
# $LOG one line per datagram ("udp ADDR:PORT PAYLOAD"), accepted connection
# ("tcp ADDR:PORT accepted") and data received on it ("tcp ADDR:PORT data PAYLOAD"). The
# ports go to $PORTS ("udp ADDR PORT" lines), written once all are bound. Each wake-up drains
# every socket before the log is flushed, so a datagram queued before another is logged no
# later. It exits by itself after 120 s.
start_listener() {
	LOG="$BATS_TEST_TMPDIR/listener.log" PORTS="$BATS_TEST_TMPDIR/listener.ports"
	cat >"$BATS_TEST_TMPDIR/listener.py" <<'EOF'
import os, select, socket, sys, time
log_path, ports_path, addrs = sys.argv[1], sys.argv[2], sys.argv[3:]
socks, conns = {}, {}
for a in addrs:
    for kind in ("udp", "tcp"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        s.bind((a, 0))
        if kind == "tcp":
            s.listen(8)
        s.setblocking(False)
        socks[s] = (kind, "%s:%d" % (a, s.getsockname()[1]))
with open(ports_path + ".tmp", "w") as f:
    for kind, where in socks.values():
        f.write("%s %s\n" % (kind, where.replace(":", " ")))
os.rename(ports_path + ".tmp", ports_path)
deadline = time.monotonic() + 120
with open(log_path, "a") as log:
    while time.monotonic() < deadline:
        select.select(list(socks) + list(conns), [], [], max(0, deadline - time.monotonic()))
        busy = True
        while busy:
            busy = False
            for s, (kind, where) in list(socks.items()):
                try:
                    if kind == "udp":
                        data = s.recv(2048)
                        log.write("udp %s %s\n" % (where, data.decode(errors="replace")))
                    else:
                        c, _ = s.accept()
                        c.setblocking(False)
                        conns[c] = where
                        log.write("tcp %s accepted\n" % where)
                    busy = True
                except BlockingIOError:
                    pass
            for c, where in list(conns.items()):
                try:
                    data = c.recv(2048)
                    if data:
                        log.write("tcp %s data %s\n" % (where, data.decode(errors="replace")))
                        busy = True
                    else:
                        del conns[c]
                        c.close()
                except BlockingIOError:
                    pass
                except OSError:
                    del conns[c]
                    c.close()
        log.flush()
EOF
	: >"$LOG"
	python3 "$BATS_TEST_TMPDIR/listener.py" "$LOG" "$PORTS" "$@" 2>"$BATS_TEST_TMPDIR/listener.err" 3>&- &
	LISTENER_PID=$!
	wait_for test -e "$PORTS"
}

# root_network_names: BRIDGE and TABLE, this root's default bridge and nft table (for the
# teardown's check).
root_network_names() {
	BRIDGE=$(md network inspect bridge | jq -r '.[0].Options["com.docker.network.bridge.name"]')
	TABLE=$(sed -n 's/^add table inet //p' "$MYDOCKER_ROOT/networks/rules.nft")
	[[ -n "$BRIDGE" && "$TABLE" == mydocker_* ]]
	nft list table inet "$TABLE" | grep -q "\"$BRIDGE\""
}

# port_of PROTO ADDR: the listener's port for PROTO on ADDR.
port_of() { awk -v p="$1" -v a="$2" '$1 == p && $2 == a { print $3 }' "$PORTS"; }


stop_listener() {
	kill "$LISTENER_PID"
	wait "$LISTENER_PID" || true
	run kill -0 "$LISTENER_PID"
	assert_status 1
	LISTENER_PID=
}

@test "a container cannot reach the host's 127.0.0.0/8 through the bridge; the gateway's address it can" {
	md run -d --name prober -v "$PROBE:/localnet_probe:ro" busybox sleep 300
	root_network_names
	gw=$(md network inspect bridge | jq -r '.[0].IPAM.Config[0].Gateway')
	mac=$(cat "/sys/class/net/$BRIDGE/address")
	[[ "$(cat "/proc/sys/net/ipv4/conf/$BRIDGE/route_localnet")" == 1 ]]  # what makes the attack possible

	# The container reaches the gateway's address the ordinary way; this also gives the host a
	# neighbour entry for the container, which the replies need: an ARP request of the host's
	# sent from 127.0.0.1 would go unanswered and hold back every reply queued behind it.
	run md exec prober ping -c 1 -W 2 "$gw"
	assert_success
	start_listener 127.0.0.1 127.0.0.2 "$gw"
	# The attack first, then the controls: sent from one CPU, in this order, so once the
	# control datagram is logged the earlier ones would be too. A SYN gets the tool's whole
	# --timeout-ms to be answered.
	run md exec prober /localnet_probe --timeout-ms 2000 eth0 "$mac" \
		"tcp:127.0.0.1:$(port_of tcp 127.0.0.1):attack-tcp-lo1" \
		"udp:127.0.0.1:$(port_of udp 127.0.0.1):attack-udp-lo1" \
		"udp:127.0.0.2:$(port_of udp 127.0.0.2):attack-udp-lo2" \
		"udp:$gw:$(port_of udp "$gw"):control-udp" \
		"tcp:$gw:$(port_of tcp "$gw"):control-tcp"
	assert_success
	probe_output=$output
	echo "$output"
	# the control: the crafting works, and the gateway's own address is reachable
	assert_output_contains "tcp $gw:$(port_of tcp "$gw") answered"
	wait_for grep -q "^udp $gw:[0-9]* control-udp$" "$LOG"
	# the attack: nothing received on the host's loopback, no SYN-ACK from 127.0.0.1
	silent="tcp 127.0.0.1:$(port_of tcp 127.0.0.1) silent"
	cat "$LOG"
	run -1 grep -E '^(udp|tcp) 127\.' "$LOG"
	[[ "$probe_output" == *"$silent"* ]]
	stop_listener
}

@test "published ports still answer the host on 127.0.0.1 (both forms) through the guard" {
	md run -d --name lo1 -p 127.0.0.1::80 busybox sh -c 'mkdir /www && echo local > /www/index.html && exec httpd -f -p 80 -h /www'
	md run -d --name any1 -p 80 busybox sh -c 'mkdir /www && echo any > /www/index.html && exec httpd -f -p 80 -h /www'
	root_network_names
	run md port lo1 80
	[[ "$output" =~ ^127\.0\.0\.1:([0-9]+)$ ]]
	lo_port=${BASH_REMATCH[1]}
	run md port any1 80
	[[ "$output" =~ ^0\.0\.0\.0:([0-9]+)$ ]]
	any_port=${BASH_REMATCH[1]}
	# the guard is in place: replies come back to 127.0.0.1 on the bridge and must pass it
	nft list table inet "$TABLE" | grep -q "iifname @bridges ip daddr 127.0.0.0/8 drop"
	[[ "$(http_fetch "http://127.0.0.1:$lo_port/")" == local ]]
	[[ "$(http_fetch "http://127.0.0.1:$any_port/")" == any ]]
}

@test "a table of an older mydocker, without the guard, gets it at the next container" {
	md run -d --name first busybox sleep 300
	root_network_names
	guard="iifname @bridges ip daddr 127.0.0.0/8 drop"
	nft list table inet "$TABLE" | grep -q "$guard"
	# what an older mydocker left: the table and the record of the last script, without it
	nft delete chain inet "$TABLE" input
	sed -i '/^\tchain input {$/,/^\t}$/d' "$MYDOCKER_ROOT/networks/rules.nft"
	run -1 grep -q "chain input" "$MYDOCKER_ROOT/networks/rules.nft"
	run -1 nft list chain inet "$TABLE" input
	# a container without ports on the existing bridge
	run md run --rm busybox true
	assert_success
	nft list table inet "$TABLE" | grep -q "$guard"
	grep -q "$guard" "$MYDOCKER_ROOT/networks/rules.nft"
}
