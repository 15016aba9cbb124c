#include "engine/networks/ipam.h"

#include <gtest/gtest.h>

#include <set>

namespace mydocker::engine::networks {
namespace {

Ipv4 ip(const char* s) { return *parse_ipv4(s); }
Subnet net(const char* s) { return *parse_subnet(s); }
auto all_alive = [](const Lease&) { return true; };

TEST(Ipv4, ParsesAndPrints) {
    EXPECT_EQ(ip("172.17.0.2").str(), "172.17.0.2");
    EXPECT_EQ(ip("0.0.0.0").value, 0u);
    EXPECT_EQ(ip("255.255.255.255").value, 0xffffffffu);
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-4", "01.2.3.4", "a.b.c.d", "1.2.3.4 ", "1..2.3"})
        EXPECT_FALSE(parse_ipv4(bad)) << bad;
}

TEST(Subnet, ParsesValidatesAndDerives) {
    Subnet s = net("10.1.0.0/16");
    EXPECT_EQ(s.str(), "10.1.0.0/16");
    EXPECT_EQ(s.first_host().str(), "10.1.0.1");
    EXPECT_EQ(s.broadcast().str(), "10.1.255.255");
    EXPECT_EQ(s.hosts(), 65534u);
    EXPECT_TRUE(s.contains(ip("10.1.200.3")));
    EXPECT_FALSE(s.contains(ip("10.2.0.1")));
    EXPECT_EQ(net("10.0.0.0/8").hosts(), 16777214u);
    EXPECT_EQ(net("192.168.1.0/30").hosts(), 2u);
}

TEST(Subnet, ErrorsNameTheProblem) {
    auto e = parse_subnet("10.0.0.1/8");
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message().find("host bits are set (did you mean 10.0.0.0/8?)"), std::string::npos);
    EXPECT_NE(parse_subnet("10.0.0.0/31").error().message().find("between /8 and /30"), std::string::npos);
    EXPECT_NE(parse_subnet("10.0.0.0/7").error().message().find("between /8 and /30"), std::string::npos);
    EXPECT_NE(parse_subnet("10.0.0.0").error().message().find("ADDRESS/PREFIX"), std::string::npos);
    EXPECT_NE(parse_subnet("10.0.0.0/x").error().message().find("prefix length"), std::string::npos);
    EXPECT_NE(parse_subnet("10.0.0.0/33").error().message().find("prefix length"), std::string::npos);
}

TEST(Subnet, Overlaps) {
    EXPECT_TRUE(overlaps(net("10.0.0.0/8"), net("10.5.0.0/16")));
    EXPECT_TRUE(overlaps(net("10.5.0.0/16"), net("10.0.0.0/8")));
    EXPECT_TRUE(overlaps(net("10.5.0.0/16"), net("10.5.0.0/16")));
    EXPECT_FALSE(overlaps(net("10.5.0.0/16"), net("10.6.0.0/16")));
    EXPECT_FALSE(overlaps(net("192.168.0.0/30"), net("192.168.0.4/30")));
}

TEST(Pools, PicksTheFirstFreePool) {
    EXPECT_EQ(pick_subnet({})->str(), "172.17.0.0/16");
    EXPECT_EQ(pick_subnet({net("172.17.0.0/16"), net("172.18.5.0/24")})->str(), "172.19.0.0/16");
    // A host route over all of 172.16/12 pushes us to 192.168.
    EXPECT_EQ(pick_subnet({net("172.16.0.0/12")})->str(), "192.168.0.0/20");
    auto none = pick_subnet({net("172.16.0.0/12"), net("192.168.0.0/16")});
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message().find("give one with --subnet"), std::string::npos);
}

TEST(Leases, LowestFreeAddressSkippingTheGateway) {
    LeaseTable t(net("10.9.0.0/24"), ip("10.9.0.1"));
    EXPECT_EQ(t.allocate({"a"}, std::nullopt, all_alive)->str(), "10.9.0.2");
    EXPECT_EQ(t.allocate({"b"}, std::nullopt, all_alive)->str(), "10.9.0.3");
    t.release("a");
    EXPECT_EQ(t.allocate({"c"}, std::nullopt, all_alive)->str(), "10.9.0.2");
    // A gateway in the middle of the range is skipped too.
    LeaseTable mid(net("10.9.1.0/29"), ip("10.9.1.3"));
    std::set<std::string> got;
    for (int i = 0; i < 5; ++i) got.insert(mid.allocate({"x" + std::to_string(i)}, std::nullopt, all_alive)->str());
    EXPECT_EQ(got, (std::set<std::string>{"10.9.1.1", "10.9.1.2", "10.9.1.4", "10.9.1.5", "10.9.1.6"}));
}

TEST(Leases, A26HoldsSixtyOneContainersAndNoMore) {
    LeaseTable t(net("10.237.0.0/26"), ip("10.237.0.1"));
    std::set<Ipv4> seen;
    for (int i = 0; i < 61; ++i) {
        auto got = t.allocate({"c" + std::to_string(i)}, std::nullopt, all_alive);
        ASSERT_TRUE(got) << i;
        EXPECT_TRUE(seen.insert(*got).second);
        EXPECT_NE(*got, ip("10.237.0.1"));
        EXPECT_NE(*got, ip("10.237.0.63"));
    }
    auto full = t.allocate({"c61"}, std::nullopt, all_alive);
    ASSERT_FALSE(full);
    EXPECT_NE(full.error().message().find("no free address left in the network's subnet 10.237.0.0/26"), std::string::npos);
}

TEST(Leases, StaleLeasesAreReclaimed) {
    LeaseTable t(net("10.238.0.0/30"), ip("10.238.0.1"));
    ASSERT_EQ(t.allocate({"dead", "victim", 4242}, std::nullopt, all_alive)->str(), "10.238.0.2");
    EXPECT_FALSE(t.allocate({"new"}, std::nullopt, all_alive));
    auto alive = [](const Lease& l) { return l.pid != 4242; };
    EXPECT_EQ(t.allocate({"new"}, std::nullopt, alive)->str(), "10.238.0.2");
    EXPECT_FALSE(t.release("dead"));  // the old holder's cleanup must not free the heir's address
    EXPECT_EQ(t.leases().at(ip("10.238.0.2")).container, "new");
}

TEST(Leases, RequestedAddresses) {
    LeaseTable t(net("10.236.0.0/24"), ip("10.236.0.1"));
    EXPECT_EQ(t.allocate({"a", "alpha"}, ip("10.236.0.77"), all_alive)->str(), "10.236.0.77");
    auto taken = t.allocate({"b"}, ip("10.236.0.77"), all_alive);
    ASSERT_FALSE(taken);
    EXPECT_NE(taken.error().message().find("already in use by container alpha"), std::string::npos);
    EXPECT_NE(t.allocate({"b"}, ip("10.236.0.1"), all_alive).error().message().find("gateway"), std::string::npos);
    EXPECT_NE(t.allocate({"b"}, ip("10.236.1.5"), all_alive).error().message().find("not a host address"), std::string::npos);
    EXPECT_FALSE(t.allocate({"b"}, ip("10.236.0.0"), all_alive));
    EXPECT_FALSE(t.allocate({"b"}, ip("10.236.0.255"), all_alive));
    // Automatic allocation goes around a static one.
    EXPECT_EQ(t.allocate({"c"}, std::nullopt, all_alive)->str(), "10.236.0.2");
}

TEST(Leases, JsonRoundTrip) {
    LeaseTable t(net("10.5.0.0/16"), ip("10.5.0.1"));
    (void)t.allocate({"id1", "one", 10, 99}, std::nullopt, all_alive);
    (void)t.allocate({"id2", "two", 11, 100}, ip("10.5.3.4"), all_alive);
    LeaseTable back(net("10.5.0.0/16"), ip("10.5.0.1"));
    ASSERT_TRUE(leases_from_json(leases_to_json(t), back));
    ASSERT_EQ(back.leases().size(), 2u);
    const Lease& l = back.leases().at(ip("10.5.3.4"));
    EXPECT_EQ(l.container, "id2");
    EXPECT_EQ(l.name, "two");
    EXPECT_EQ(l.pid, 11);
    EXPECT_EQ(l.start, 100u);
    EXPECT_FALSE(leases_from_json("{not json", back));
}

TEST(Mac, DerivedFromTheAddress) { EXPECT_EQ(mac_for(ip("172.17.0.2")), "02:42:ac:11:00:02"); }

}  // namespace
}  // namespace mydocker::engine::networks
