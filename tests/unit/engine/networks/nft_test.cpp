#include "engine/networks/nft.h"

#include <gtest/gtest.h>

namespace mydocker::engine::networks {
namespace {

TEST(Nft, NoNetworksNoPortsDeletesTheTable) {
    EXPECT_EQ(render_table("mydocker", {}, {}), "add table inet mydocker\ndelete table inet mydocker\n");
}

TEST(Nft, MasqueradeIsolationAndPorts) {
    std::vector<NatNetwork> nets = {{"mydocker0", *parse_subnet("172.17.0.0/16")}, {"md-abc", *parse_subnet("10.1.0.0/24")}};
    std::vector<PortRule> ports = {{"tcp", "", 18080, *parse_ipv4("172.17.0.2"), 80},
                                   {"udp", "127.0.0.1", 5353, *parse_ipv4("10.1.0.3"), 53}};
    std::string s = render_table("mydocker", nets, ports);
    // Replaced in one transaction.
    EXPECT_EQ(s.rfind("add table inet mydocker\ndelete table inet mydocker\ntable inet mydocker {\n", 0), 0u);
    EXPECT_NE(s.find("elements = { \"mydocker0\", \"md-abc\" }"), std::string::npos);
    EXPECT_NE(s.find("ip saddr 172.17.0.0/16 oifname != \"mydocker0\" masquerade"), std::string::npos);
    EXPECT_NE(s.find("oifname \"md-abc\" ct status dnat ip saddr { 127.0.0.0/8, 10.1.0.0/24 } masquerade"), std::string::npos);
    EXPECT_NE(s.find("iifname \"md-abc\" oifname != \"md-abc\" oifname @bridges drop"), std::string::npos);
    // Replies and published ports cross networks; they come before the drops.
    EXPECT_LT(s.find("ct state established,related accept"), s.find("oifname @bridges drop"));
    EXPECT_LT(s.find("ct status dnat accept"), s.find("oifname @bridges drop"));
    // Ports in both the prerouting and the output chain (the host's own 127.0.0.1 goes through output).
    std::string any = "meta nfproto ipv4 fib daddr type local tcp dport 18080 dnat ip to 172.17.0.2:80";
    std::string one = "meta nfproto ipv4 ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.1.0.3:53";
    size_t pre = s.find("chain prerouting"), out = s.find("chain output"), post = s.find("chain postrouting");
    EXPECT_NE(s.find(any, pre), std::string::npos);
    EXPECT_LT(s.find(any, pre), out);
    EXPECT_LT(s.find(any, out), post);
    EXPECT_LT(s.find(one, out), post);
}

// route_localnet is on for our bridges: what arrives on them for the host's 127.0.0.0/8 is
// dropped in the input hook, except DNAT'd connections (replies to the host's 127.0.0.1 of a
// published port). Accept-then-drop: a packet without a conntrack does not match "ct status".
TEST(Nft, LoopbackFromBridgesIsDroppedUnlessDnat) {
    std::vector<NatNetwork> nets = {{"mydocker0", *parse_subnet("172.17.0.0/16")}};
    std::vector<PortRule> ports = {{"tcp", "127.0.0.1", 18081, *parse_ipv4("172.17.0.2"), 80}};
    std::string s = render_table("mydocker", nets, ports);
    size_t input =
        s.find("\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n");
    ASSERT_NE(input, std::string::npos);
    std::string accept = "\t\tiifname @bridges ip daddr 127.0.0.0/8 ct status dnat accept\n";
    std::string drop = "\t\tiifname @bridges ip daddr 127.0.0.0/8 drop\n";
    size_t a = s.find(accept, input), d = s.find(drop, input);
    ASSERT_NE(a, std::string::npos);
    ASSERT_NE(d, std::string::npos);
    EXPECT_LT(a, d);
    // Inside the input chain, which closes before the table does.
    EXPECT_LT(d, s.find("\t}\n", input));
    EXPECT_TRUE(s.ends_with("\t}\n}\n"));
    // Only these two rules: no other drop of loopback destinations, nothing on the gateway.
    EXPECT_EQ(s.find("127.0.0.0/8", d + drop.size()), std::string::npos);
    EXPECT_EQ(s.find("ip daddr 172.17.0.1"), std::string::npos);
}

TEST(Nft, NoBridgesNoInputChain) {
    std::vector<PortRule> ports = {{"tcp", "", 18080, *parse_ipv4("172.17.0.2"), 80}};
    std::string s = render_table("mydocker", {}, ports);
    EXPECT_EQ(s.find("chain input"), std::string::npos);
    EXPECT_EQ(s.find("@bridges"), std::string::npos);  // no set to refer to
}

}  // namespace
}  // namespace mydocker::engine::networks
