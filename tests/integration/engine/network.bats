#!/usr/bin/env bats
# Networking (issue 4): the default bridge, user networks, IPAM, published ports, names in
# /etc/hosts, isolation between networks, and that nothing is left behind. Every test has
# its own root, so its own default bridge (mydocker<hash>) and nft table (mydocker_<hash>);
# traffic goes only to loopback and to the test's own containers, in bounded loops.

load engine_helpers
bats_require_minimum_version 1.5.0

setup() {
	engine_setup
	command -v nft >/dev/null || skip "nft (nftables) not found"
}
teardown() { engine_teardown; }

link_gone() { ! ip link show "$1" >/dev/null 2>&1; }
# PID is gone or a zombie: it has exited (what the engine's liveness check asks).
proc_dead() { [[ ! -e "/proc/$1" ]] || grep -q '^State:[[:space:]]*[ZX]' "/proc/$1/status" 2>/dev/null; }

ip_of() { "$MYDOCKER" inspect -f "{{.NetworkSettings.Networks.$2.IPAddress}}" "$1"; }


@test "default bridge: eth0 with an address, lo up, default route, /etc/hosts, resolv.conf, hostname" {
	run md run --rm -h box1 busybox sh -c 'ip -4 -o addr show eth0; ip route; ip -o link show lo; cat /etc/hostname; grep box1 /etc/hosts; cat /etc/resolv.conf'
	assert_success
	echo "$output"
	[[ "$output" =~ eth0\ +inet\ ([0-9.]+)/([0-9]+) ]]
	addr="${BASH_REMATCH[1]}"
	gw=$(md network inspect -f '{{.IPAM.Config}}' bridge | jq -r '.[0].Gateway')
	[[ "$output" == *"default via $gw dev eth0"* ]]
	[[ "$output" == *"<LOOPBACK,UP,LOWER_UP>"* ]]
	[[ "$output" == *"$addr	box1"* ]]
	[[ "$output" == *nameserver* ]]
	# the default bridge exists on the host with the gateway address, and our table NATs it
	br=$(md network inspect bridge | jq -r '.[0].Options["com.docker.network.bridge.name"]')
	ip -4 addr show "$br" | grep -q "inet $gw/"
	nft list tables | grep -q mydocker_
}

@test "--network none has only lo; --network host sees the host's interfaces" {
	run md run --rm --network none busybox sh -c 'ls /sys/class/net'
	assert_success
	[[ "$output" == "lo" ]]
	# lo is up (init sets it, as docker's none network has it), and answers.
	run md run --rm --network none busybox sh -c 'cat /sys/class/net/lo/operstate; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo pong'
	assert_success
	[[ "$output" == *pong* ]]
	host_ifs=$(ls /sys/class/net | sort | tr '\n' ' ')
	run md run --rm --network host busybox sh -c 'ls /sys/class/net | sort | tr "\n" " "'
	assert_success
	[[ "$output" == "$host_ifs" ]]
}

@test "two containers on one network reach each other by name; /etc/hosts follows connect, disconnect, rename" {
	md network create n1
	md network create n2
	md run -d --name alpha --network n1 busybox sleep 300
	md run -d --name beta --network n1 busybox sleep 300
	run md exec beta ping -c 1 -W 2 alpha
	assert_success
	assert_output_contains "$(ip_of alpha n1)"
	run md exec alpha ping -c 1 -W 2 beta
	assert_success
	# beta's /etc/hosts names alpha; a third container joins and leaves
	md run -d --name gamma --network n2 busybox sleep 300
	md exec beta grep -qw alpha /etc/hosts
	refute md exec beta grep -qw gamma /etc/hosts
	md network connect n1 gamma
	md exec gamma ip -o addr show eth1 | grep -q "inet $(ip_of gamma n1)/"
	md exec beta grep -qw gamma /etc/hosts
	run md exec gamma ping -c 1 -W 2 alpha
	assert_success
	md network disconnect n1 gamma
	refute md exec beta grep -qw gamma /etc/hosts
	run md exec gamma ip link show eth1
	[[ "$status" -ne 0 ]]
	# a rename reaches the peers' /etc/hosts
	md rename alpha alpha2
	md exec beta grep -qw alpha2 /etc/hosts
	run md exec beta ping -c 1 -W 2 alpha2
	assert_success
	# a connected name that is taken again is an error
	run md network connect n2 gamma
	[[ "$status" -ne 0 ]]
	assert_output_contains "already exists in network n2"
}

@test "containers on different networks cannot reach each other" {
	md network create --subnet 10.231.1.0/24 left
	md network create --subnet 10.231.2.0/24 right
	md run -d --name l1 --network left busybox sleep 300
	md run -d --name l2 --network left busybox sleep 300
	md run -d --name r1 --network right busybox sleep 300
	[[ "$(cat /proc/sys/net/ipv4/ip_forward)" == 1 ]]  # routed between bridges, if we let it
	run md exec l1 ping -c 1 -W 2 "$(ip_of l2 left)"
	assert_success
	run md exec l1 ping -c 2 -W 1 "$(ip_of r1 right)"
	[[ "$status" -ne 0 ]]
	run md exec r1 ping -c 2 -W 1 "$(ip_of l1 left)"
	[[ "$status" -ne 0 ]]
	refute md exec l1 grep -qw r1 /etc/hosts
}

@test "httpd with -p 18080:80 answers on 127.0.0.1 and the host's address; the rule goes with the container" {
	md run -d --name web -p 18080:80 busybox sh -c 'mkdir /www && echo hello-web > /www/index.html && exec httpd -f -p 80 -h /www'
	[[ "$(http_fetch http://127.0.0.1:18080/)" == hello-web ]]
	host_ip=$(ip -4 -o addr show scope global | awk 'NR==1 { sub("/.*", "", $4); print $4 }')
	if [[ -n "$host_ip" ]]; then
		[[ "$(http_fetch "http://$host_ip:18080/")" == hello-web ]]
		# from a container on the same bridge (hairpin) and from another network, through the
		# host's address. busybox's wget -T crashes, so timeout(1) bounds it, with --init: as
		# PID 1, wget (which busybox's timeout execs) would ignore timeout's SIGTERM.
		run md run --rm --init busybox timeout 5 wget -qO- "http://$host_ip:18080/"
		[[ "$output" == hello-web ]]
		md network create elsewhere
		run md run --rm --init --network elsewhere busybox timeout 5 wget -qO- "http://$host_ip:18080/"
		[[ "$output" == hello-web ]]
		# but not straight to the container's address on the other network
		run md run --rm --init --network elsewhere busybox timeout 3 wget -qO- "http://$(ip_of web bridge):80/"
		[[ "$status" -ne 0 ]]
	fi
	run md port web
	[[ "$output" == "80/tcp -> 0.0.0.0:18080" ]]
	run md ps
	assert_output_contains "0.0.0.0:18080->80/tcp"
	nft list ruleset | grep -q "dport 18080 dnat ip to $(ip_of web bridge):80"
	# the same host port again is refused, and leaves nothing behind
	run md run -d --name web2 -p 18080:80 busybox sleep 300
	assert_status 125
	assert_output_contains "port is already allocated"
	run md ps -aq --filter name=web2
	[[ -z "$output" ]]
	md rm -f web
	refute bash -c 'nft list ruleset | grep -q "dport 18080"'
	run wget -qO- -T 1 http://127.0.0.1:18080/
	[[ "$status" -ne 0 ]]
}

@test "-P publishes the exposed ports to free host ports; 127.0.0.1:PORT binds one address" {
	md run -d --name pub --expose 80 -P busybox sh -c 'mkdir /www && echo auto > /www/index.html && exec httpd -f -p 80 -h /www'
	run md port pub 80
	assert_success
	[[ "$output" =~ ^0\.0\.0\.0:([0-9]+)$ ]]
	[[ "$(http_fetch "http://127.0.0.1:${BASH_REMATCH[1]}/")" == auto ]]
	md run -d --name lo1 -p 127.0.0.1:18081:80 busybox sh -c 'mkdir /www && echo local > /www/index.html && exec httpd -f -p 80 -h /www'
	[[ "$(http_fetch http://127.0.0.1:18081/)" == local ]]
	nft list ruleset | grep -q "ip daddr 127.0.0.1 tcp dport 18081"
}

@test "network rm of a network in use is refused, naming the containers; then removes the bridge" {
	md network create busy
	br=$(md network inspect busy | jq -r '.[0].Options["com.docker.network.bridge.name"]')
	ip link show "$br" >/dev/null
	md run -d --name user1 --network busy busybox sleep 300
	run md network rm busy
	assert_status 1
	assert_output_contains "network busy"
	assert_output_contains "has active endpoints (user1)"
	ip link show "$br" >/dev/null
	md rm -f user1
	md network rm busy
	run ip link show "$br"
	[[ "$status" -ne 0 ]]
	run md network inspect busy
	[[ "$status" -ne 0 ]]
	assert_output_contains "network busy not found"
	run md network rm host
	assert_output_contains "pre-defined network and cannot be removed"
}

@test "bad network input: overlapping or invalid --subnet, bad --gateway, --ip, unknown network, -p" {
	md network create --subnet 10.232.0.0/16 first
	run md network create --subnet 10.232.5.0/24 second
	assert_status 125
	assert_output_contains "overlaps with network first (10.232.0.0/16)"
	run md network create --subnet 10.233.0.1/16 hostbits
	assert_output_contains "host bits are set"
	run md network create --subnet 10.233.0.0/31 tiny
	assert_output_contains "between /8 and /30"
	run md network create --subnet banana fruit
	assert_output_contains 'invalid subnet "banana"'
	run md network create --subnet 10.234.0.0/24 --gateway 10.235.0.1 gw
	assert_output_contains "not a host address of the subnet"
	run md network create first
	assert_output_contains "network with name first already exists"
	run md network create bridge
	assert_status 125
	run md network ls -q
	[[ "$(wc -l <<<"$output")" -eq 4 ]]  # bridge host none first
	run md run --rm --network nosuchnet busybox true
	assert_status 125
	assert_output_contains "network nosuchnet not found"
	run md run --rm --ip 172.17.0.50 busybox true
	assert_output_contains "user defined networks only"
	run md run --rm --network first --ip 10.99.0.5 busybox true
	assert_status 125
	assert_output_contains "not a host address of the subnet 10.232.0.0/16"
	run md run --rm -p 99999:80 busybox true
	assert_output_contains "out of range"
	run md run --rm -p 80:80/sctp busybox true
	assert_output_contains 'unknown protocol "sctp"'
	run md run --rm --network none -p 8080:80 busybox true
	assert_output_contains "conflicting options"
	run md ps -aq
	[[ -z "$output" ]]
	[[ "$(jq '.leases | length' "$MYDOCKER_ROOT"/run/networks/*/leases.json 2>/dev/null | sort -u | tr -d '\n')" =~ ^0?$ ]]
}

@test "a start that fails inside init leaves no record, veth, lease, port rule or cgroup" {
	# The networks are joined and the record written while init mounts; then init fails
	# (a hard nofile limit above ours: EPERM without CAP_SYS_RESOURCE, after the mounts).
	md network create failnet >/dev/null
	veths_before=$(ip -o link show type veth | wc -l)
	for args in "-d" "-d --network failnet -p 18089:80" "--rm" "-d --network none"; do
		# shellcheck disable=SC2086
		run md run $args --name failer --ulimit nofile=30000:30000 busybox true
		assert_status 125
		assert_output_contains "RLIMIT_NOFILE: Operation not permitted"
		[[ "$output" != *"Operation not permitted: Operation not permitted"* ]]
		run md ps -aq
		[[ -z "$output" ]]
		run md inspect failer
		[[ "$status" -ne 0 ]]
		[[ "$(ip -o link show type veth | wc -l)" -eq "$veths_before" ]]
		[[ "$(jq -s 'map(.leases | length) | add // 0' "$MYDOCKER_ROOT"/run/networks/*/leases.json)" -eq 0 ]]
		refute bash -c 'nft list ruleset 2>/dev/null | grep -q 18089'
		refute mounts_under_root
		refute cgroups_left
	done
}

@test "--ip takes a static address; --dns and --add-host land in the container's files" {
	md network create --subnet 10.236.0.0/24 static
	run md run --rm --network static --ip 10.236.0.77 --dns 10.236.0.53 --add-host db.example:10.236.0.9 busybox \
		sh -c 'ip -4 -o addr show eth0; cat /etc/resolv.conf; cat /etc/hosts'
	assert_success
	assert_output_contains "inet 10.236.0.77/24"
	assert_output_contains "nameserver 10.236.0.53"
	assert_output_contains "10.236.0.9	db.example"
	md run -d --name holder --network static --ip 10.236.0.78 busybox sleep 300
	run md run --rm --network static --ip 10.236.0.78 busybox true
	assert_status 125
	assert_output_contains "already in use by container holder"
}

@test "--network container:NAME shares the network namespace and its /etc/hosts" {
	md run -d --name netowner busybox sleep 300
	run md run --rm --network container:netowner busybox ip -4 -o addr show eth0
	assert_success
	assert_output_contains "inet $(ip_of netowner bridge)/"
	# a joiner keeps the namespace alive: the owner's veth is deleted when the owner stops
	md run -d --name joiner --network container:netowner busybox sleep 300
	[[ "$(field joiner .HostConfig.NetworkMode)" == "container:$(field netowner .Id)" ]]
	veth=$(md inspect -f '{{.NetworkSettings.Networks.bridge.HostVeth}}' netowner)
	ip link show "$veth" >/dev/null
	md kill netowner
	wait_for status_is netowner exited
	wait_for link_gone "$veth"
	run md run --rm --network container:netowner busybox true
	assert_status 125
	assert_output_contains "it is not running"
	run md run --rm --network container:joiner -p 80:80 busybox true
	assert_output_contains "conflicting options"
	run md run --rm --network container:nobody busybox true
	assert_status 125
	assert_output_contains "no such container: nobody"
}

@test "50 concurrent run -d on a /26 get distinct addresses; the 62nd gets a clear no-free-address error" {
	md network create --subnet 10.237.0.0/26 small
	pids=()
	for i in $(seq 1 50); do
		md run -d --name "c$i" --network small busybox sleep 600 >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
		pids+=($!)
	done
	failed=0
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
	[[ "$failed" -eq 0 ]] || { cat "$BATS_TEST_TMPDIR"/out.*; false; }
	for i in $(seq 51 61); do md run -d --name "c$i" --network small busybox sleep 600 >/dev/null; done
	addrs=$(for i in $(seq 1 61); do ip_of "c$i" small; done)
	[[ "$(sort -u <<<"$addrs" | grep -c '^10\.237\.0\.')" -eq 61 ]]
	refute grep -qx 10.237.0.1 <<<"$addrs" # the gateway
	run md run -d --name c62 --network small busybox sleep 600
	assert_status 125
	assert_output_contains "no free address left in the network's subnet 10.237.0.0/26"
	run md ps -aq --filter name=c62
	[[ -z "$output" ]]
	[[ "$(md network inspect small | jq '.[0].Containers | length')" -eq 61 ]]
}

@test "a stale lease of a dead container is reclaimed after the engine is killed with SIGKILL" {
	md network create --subnet 10.238.0.0/30 one  # one address for containers: .2
	"$MYDOCKER" run --cgroup-parent "$CG_PARENT" --name victim --network one busybox sleep 600 </dev/null >/dev/null 2>&1 &
	cli=$!
	wait_for status_is victim running
	[[ "$(ip_of victim one)" == 10.238.0.2 ]]
	pid=$(field victim .State.Pid)
	kill -9 "$cli"
	kill -9 "$pid"
	wait "$cli" 2>/dev/null || true
	# SIGKILL is not death: the container's init exits only once its mount namespace is torn
	# down (an RCU grace period, longer than a start now takes).
	wait_for proc_dead "$pid"
	# the engine never recorded the exit; the lease still names the dead container
	grep -q victim "$MYDOCKER_ROOT"/run/networks/*/leases.json
	md run -d --name heir --network one busybox sleep 600
	[[ "$(ip_of heir one)" == 10.238.0.2 ]]
	# cleaning up the dead one must not take the heir's address
	md rm -f victim
	md exec heir ip -4 -o addr show eth0 | grep -q "inet 10.238.0.2/30"
	[[ "$(md network inspect one | jq -r '.[0].Containers[].Name')" == heir ]]
}

@test "rm removes every veth, lease and rule; network rm and prune remove bridges and the table" {
	md network create gone1
	md network create gone2
	md run -d --name v1 --network gone1 -p 18082:80 busybox sleep 300
	veth=$(md inspect -f '{{.NetworkSettings.Networks.gone1.HostVeth}}' v1)
	ip link show "$veth" >/dev/null
	md rm -f v1
	wait_for link_gone "$veth"  # the kernel removes it with the container's namespace
	[[ "$(md network inspect gone1 | jq '.[0].Containers | length')" -eq 0 ]]
	brs=$(for n in gone1 gone2 bridge; do md network inspect "$n" | jq -r '.[0].Options["com.docker.network.bridge.name"]'; done)
	tables=$(nft list tables | grep -c mydocker_)
	run md network prune -f
	assert_output_contains gone1
	assert_output_contains gone2
	md network rm bridge
	# this root's table is gone (another root's, a developer's, may exist), and its bridges
	[[ "$(nft list tables | grep -c mydocker_)" -eq $((tables - 1)) ]]
	for br in $brs; do link_gone "$br"; done
}
