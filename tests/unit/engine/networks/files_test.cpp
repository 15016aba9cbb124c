#include "engine/networks/files.h"
#include "engine/networks/networks.h"

#include <gtest/gtest.h>

namespace mydocker::engine::networks {
namespace {

TEST(Hosts, OwnAddressExtraHostsAndPeers) {
    std::string h = render_hosts("web1", "172.18.0.2", {{"10.0.0.9", "db.example"}}, {{"172.18.0.3", "peer"}});
    EXPECT_EQ(h.rfind("127.0.0.1\tlocalhost\n", 0), 0u);
    EXPECT_NE(h.find("10.0.0.9\tdb.example\n"), std::string::npos);
    EXPECT_NE(h.find("172.18.0.2\tweb1\n"), std::string::npos);
    EXPECT_NE(h.find("172.18.0.3\tpeer\n"), std::string::npos);
    // No address (none): no line for the hostname.
    EXPECT_EQ(render_hosts("web1", "", {}, {}).find("web1"), std::string::npos);
}

TEST(Resolv, DropsLoopbackServersKeepsSearch) {
    std::string host = "# generated\nsearch corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n";
    std::string r = render_resolv_conf(host, {});
    EXPECT_NE(r.find("search corp.example\n"), std::string::npos);
    EXPECT_NE(r.find("options edns0\n"), std::string::npos);
    EXPECT_NE(r.find("nameserver 10.0.0.2\n"), std::string::npos);
    EXPECT_EQ(r.find("127.0.0.53"), std::string::npos);
    // Only a loopback stub: docker's fallback servers.
    EXPECT_EQ(render_resolv_conf("nameserver 127.0.0.53\n", {}), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    // --dns replaces the servers.
    EXPECT_EQ(render_resolv_conf("nameserver 10.0.0.2\n", {"1.1.1.1"}), "nameserver 1.1.1.1\n");
}

TEST(AddHost, ParsesAndRefuses) {
    auto e = parse_add_host("db:10.0.0.9");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->names, "db");
    EXPECT_EQ(e->ip, "10.0.0.9");
    EXPECT_EQ(parse_add_host("v6host:::1")->ip, "::1");
    EXPECT_EQ(parse_add_host("eq=10.1.1.1")->names, "eq");
    for (const char* bad : {"nocolon", ":10.0.0.1", "db:", "db:not-an-ip", "two words:10.0.0.1"}) {
        auto r = parse_add_host(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("--add-host"), std::string::npos);
    }
}

TEST(Publish, ParsesDockerForms) {
    auto a = *parse_publish("18080:80");
    EXPECT_EQ(a.host_port, 18080);
    EXPECT_EQ(a.container_port, 80);
    EXPECT_EQ(a.proto, "tcp");
    EXPECT_EQ(a.host_ip, "");
    auto b = *parse_publish("127.0.0.1:5353:53/udp");
    EXPECT_EQ(b.host_ip, "127.0.0.1");
    EXPECT_EQ(b.proto, "udp");
    auto c = *parse_publish("80");
    EXPECT_EQ(c.host_port, 0);  // any free port
    auto d = *parse_publish("127.0.0.1::80");
    EXPECT_EQ(d.host_port, 0);
    EXPECT_EQ(d.host_ip, "127.0.0.1");
    auto e = *parse_exposed("53/udp");
    EXPECT_EQ(e.container_port, 53);
    EXPECT_EQ(e.proto, "udp");
}

TEST(Publish, ErrorsNameTheFlag) {
    for (const char* bad : {"", "0:80", "80:0", "99999:80", "a:80", "1:2:3:4", "80/sctp", "8000-8010:80-90", "300.1.1.1:80:80", "80:"}) {
        auto r = parse_publish(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("-p, --publish"), std::string::npos) << bad;
    }
}

}  // namespace
}  // namespace mydocker::engine::networks
