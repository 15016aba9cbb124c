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

}  // namespace
}  // namespace mydocker::engine::networks
