// run/create flag parsing and validation: pure logic, no containers.
#include <gtest/gtest.h>

#include <map>

#include "engine/containers/options.h"
#include "engine/containers/record.h"

using namespace mydocker::engine;
using namespace mydocker::engine::containers;

namespace {

images::Image busybox_like() {
    images::Image img;
    img.id = std::string(64, 'a');
    img.config.env = {"PATH=/bin", "A=image"};
    img.config.cmd = {"sh"};
    img.layer_dirs = {"/layers/x"};
    return img;
}

RunRequest req_for(std::vector<std::string> cmd = {}) {
    RunRequest r;
    r.image = "busybox";
    r.command = std::move(cmd);
    return r;
}

}  // namespace

TEST(Volumes, BindNamedAnonymous) {
    auto b = parse_volume("/host/dir:/data:ro");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->type, "bind");
    EXPECT_EQ(b->source, "/host/dir");
    EXPECT_EQ(b->destination, "/data");
    EXPECT_FALSE(b->rw);
    auto n = parse_volume("myvol:/data");
    ASSERT_TRUE(n);
    EXPECT_EQ(n->type, "volume");
    EXPECT_EQ(n->source, "myvol");
    EXPECT_TRUE(n->rw);
    auto a = parse_volume("/data");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->type, "volume");
    EXPECT_TRUE(a->source.empty());
}

TEST(Volumes, BadSpecsNameTheProblem) {
    for (const char* bad : {"relative:dir", "/a:b", "/a:/b:xx", "/a:/b:ro:extra", ":/b", "/a:/"}) {
        auto r = parse_volume(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("invalid volume specification"), std::string::npos) << r.error().message();
        EXPECT_NE(r.error().message().find(bad), std::string::npos);
    }
}

TEST(Env, MergeAndFile) {
    auto m = merge_env({"A=1", "B=2"}, {"B=3", "C=4"});
    EXPECT_EQ(m, (std::vector<std::string>{"A=1", "B=3", "C=4"}));
    auto f = parse_env_file("# comment\n\nX=1\n  Y=two words\r\n", "f");
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, (std::vector<std::string>{"X=1", "Y=two words"}));
    EXPECT_FALSE(parse_env_file("BAD KEY=1\n", "f"));
}

TEST(Cpus, ToNanoCpus) {
    EXPECT_EQ(*parse_cpus(".5", 4), 500000000);
    EXPECT_EQ(*parse_cpus("2", 4), 2000000000);
    EXPECT_EQ(*parse_cpus("0.01", 4), 10000000);
    EXPECT_EQ(*parse_cpus("4", 4), 4000000000);
    EXPECT_FALSE(parse_cpus("abc", 4));
    EXPECT_FALSE(parse_cpus("-1", 4));
    EXPECT_FALSE(parse_cpus("0", 4));
    // docker's range: 0.01 to the host's CPUs, said so.
    auto small = parse_cpus("0.001", 4);
    ASSERT_FALSE(small);
    EXPECT_NE(small.error().message().find("from 0.01 to 4.00, as there are only 4 CPUs available"), std::string::npos)
        << small.error().message();
    EXPECT_FALSE(parse_cpus("4.5", 4));
    EXPECT_FALSE(parse_cpus("2", 1));
}

TEST(Ulimits, Parse) {
    auto u = parse_ulimit("nofile=1024:2048");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->type, "RLIMIT_NOFILE");
    EXPECT_EQ(u->soft, 1024u);
    EXPECT_EQ(u->hard, 2048u);
    EXPECT_EQ(parse_ulimit("nproc=10")->hard, 10u);
    EXPECT_FALSE(parse_ulimit("nofile"));
    EXPECT_FALSE(parse_ulimit("bogus=1"));
    EXPECT_FALSE(parse_ulimit("nofile=10:5"));
}

TEST(Caps, Normalize) {
    EXPECT_EQ(*normalize_cap("net_admin"), "CAP_NET_ADMIN");
    EXPECT_EQ(*normalize_cap("CAP_SYS_TIME"), "CAP_SYS_TIME");
    EXPECT_EQ(*normalize_cap("all"), "ALL");
    EXPECT_FALSE(normalize_cap("NOT_A_CAP"));
}

TEST(Prepare, ImageDefaultsAndOverrides) {
    auto r = req_for();
    r.env = {"A=flag", "B=2"};
    auto c = prepare(r, busybox_like());
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->path, "sh");
    EXPECT_TRUE(c->args.empty());
    EXPECT_EQ(c->config.env, (std::vector<std::string>{"PATH=/bin", "A=flag", "B=2"}));
    EXPECT_EQ(c->config.hostname, c->id.substr(0, 12));
    EXPECT_EQ(c->id.size(), 64u);

    auto r2 = req_for({"echo", "hi"});
    r2.entrypoint = "/bin/env";
    auto c2 = prepare(r2, busybox_like());
    ASSERT_TRUE(c2);
    EXPECT_EQ(c2->path, "/bin/env");
    EXPECT_EQ(c2->args, (std::vector<std::string>{"echo", "hi"}));
}

TEST(Prepare, Resources) {
    auto r = req_for();
    r.memory = "100m";
    r.cpus = ".5";
    r.cpu_shares = 512;
    r.cpuset_cpus = "0";
    r.pids_limit = 20;
    auto c = prepare(r, busybox_like());
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->host.memory, 100 * 1024 * 1024);
    EXPECT_EQ(c->host.nano_cpus, 500000000);
    EXPECT_EQ(c->host.cpu_shares, 512u);
    EXPECT_EQ(c->host.cpuset_cpus, "0");
    EXPECT_EQ(c->host.pids_limit, 20);
}

TEST(Prepare, BadInputNamesTheFlag) {
    struct Case {
        std::function<void(RunRequest&)> set;
        std::string flag;
    };
    std::vector<Case> cases = {
        {[](RunRequest& r) { r.memory = "lots"; }, "--memory"},
        {[](RunRequest& r) { r.memory = "1k"; }, "--memory"},
        {[](RunRequest& r) { r.memory_swap = "200m"; }, "--memory-swap"},
        {[](RunRequest& r) { r.cpus = "x"; }, "--cpus"},
        {[](RunRequest& r) { r.labels = {""}; }, "--label"},
        {[](RunRequest& r) { r.labels = {"=v"}; }, "--label"},
        {[](RunRequest& r) { r.cpuset_cpus = "a-b"; }, "--cpuset-cpus"},
        {[](RunRequest& r) { r.name = "-bad"; }, "--name"},
        {[](RunRequest& r) { r.workdir = "rel"; }, "--workdir"},
        {[](RunRequest& r) { r.network = "bogus:mode"; }, "--network"},
        {[](RunRequest& r) { r.network = "container:"; }, "--network"},
        {[](RunRequest& r) { r.ip = "172.17.0.9"; }, "--ip"},  // not on the default bridge
        {[](RunRequest& r) { r.network = "mynet"; r.ip = "10.0.0.300"; }, "--ip"},
        {[](RunRequest& r) { r.publish = {"80:80:80:80"}; }, "-p, --publish"},
        {[](RunRequest& r) { r.network = "none"; r.publish = {"80:80"}; }, "-p, --publish"},
        {[](RunRequest& r) { r.network = "container:web"; r.publish_all = true; }, "-p, --publish"},
        {[](RunRequest& r) { r.network = "container:web"; r.hostname = "h"; }, "--hostname"},
        {[](RunRequest& r) { r.expose = {"http"}; }, "--expose"},
        {[](RunRequest& r) { r.dns = {"dns.example"}; }, "--dns"},
        {[](RunRequest& r) { r.add_hosts = {"nohost"}; }, "--add-host"},
        {[](RunRequest& r) { r.volumes = {"x:y"}; }, "invalid volume specification"},
        {[](RunRequest& r) { r.volumes = {"/a:/d", "/b:/d"}; }, "duplicate mount point"},
        {[](RunRequest& r) { r.cap_add = {"NOPE"}; }, "--cap-add"},
        {[](RunRequest& r) { r.ulimits = {"nofile=x"}; }, "--ulimit"},
        {[](RunRequest& r) { r.tmpfs = {"rel"}; }, "--tmpfs"},
        {[](RunRequest& r) { r.log_driver = "syslog"; }, "--log-driver"},
        {[](RunRequest& r) { r.log_opts = {"max-size=abc"}; }, "--log-opt max-size=abc"},
        {[](RunRequest& r) { r.log_opts = {"max-size=0"}; }, "--log-opt max-size=0"},
        {[](RunRequest& r) { r.log_opts = {"max-size=1m", "max-file=0"}; }, "--log-opt max-file=0"},
        {[](RunRequest& r) { r.log_opts = {"max-file=two"}; }, "--log-opt max-file=two"},
        {[](RunRequest& r) { r.log_opts = {"colour=red"}; }, "--log-opt colour"},
        {[](RunRequest& r) { r.log_opts = {"max-size"}; }, "--log-opt"},
        {[](RunRequest& r) { r.log_driver = "none"; r.log_opts = {"max-size=1m"}; }, "--log-opt"},
    };
    for (const auto& tc : cases) {
        auto r = req_for();
        tc.set(r);
        auto c = prepare(r, busybox_like());
        ASSERT_FALSE(c) << tc.flag;
        EXPECT_NE(c.error().message().find(tc.flag), std::string::npos) << c.error().message();
    }
}

TEST(Prepare, Network) {
    auto img = busybox_like();
    img.config.exposed_ports = {"53/udp"};
    auto c = prepare(req_for(), img);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host.network_mode, "bridge");  // docker's default
    ASSERT_EQ(c->network.endpoints.size(), 1u);
    EXPECT_EQ(c->network.endpoints[0].network, "bridge");
    auto r = req_for();
    r.network = "mynet";
    r.ip = "10.1.0.7";
    r.publish = {"127.0.0.1:8080:80", "9000/udp"};
    r.dns = {"10.1.0.53"};
    r.add_hosts = {"db:10.1.0.9"};
    c = prepare(r, img);
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->network.endpoints[0].network, "mynet");
    EXPECT_EQ(c->network.endpoints[0].requested_ip, "10.1.0.7");
    ASSERT_EQ(c->host.port_bindings.size(), 2u);
    EXPECT_EQ(c->host.port_bindings[0].host_ip, "127.0.0.1");
    EXPECT_EQ(c->host.port_bindings[1].host_port, 0);
    EXPECT_EQ(c->config.exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp", "9000/udp"}));
    // Round trip through the record, with what a start filled in.
    c->network.endpoints[0].ip = "10.1.0.7";
    c->network.endpoints[0].host_veth = "veth1234567";
    c->network.ports = {{"tcp", "127.0.0.1", 8080, 80}};
    auto back = from_json(to_json(*c, false));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->network.endpoints[0].requested_ip, "10.1.0.7");
    EXPECT_EQ(back->network.endpoints[0].host_veth, "veth1234567");
    EXPECT_EQ(back->host.port_bindings.size(), 2u);
    ASSERT_EQ(back->network.ports.size(), 1u);
    EXPECT_EQ(back->network.ports[0].host_port, 8080);
    EXPECT_EQ(back->host.dns, (std::vector<std::string>{"10.1.0.53"}));
    EXPECT_EQ(back->config.exposed_ports.size(), 3u);
    // none, host and container: have no endpoints; host drops -p as docker does.
    r = req_for();
    r.network = "host";
    r.publish = {"80:80"};
    c = prepare(r, img);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->network.endpoints.empty());
    EXPECT_TRUE(c->host.port_bindings.empty());
}

TEST(Prepare, NoCommand) {
    auto img = busybox_like();
    img.config.cmd.clear();
    auto c = prepare(req_for(), img);
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().message().find("no command"), std::string::npos);
}

TEST(Prepare, LogConfig) {
    auto c = prepare(req_for(), busybox_like());
    ASSERT_TRUE(c);
    EXPECT_EQ(c->host.log_config.type, "json-file");
    EXPECT_TRUE(c->host.log_config.config.empty());
    auto r = req_for();
    r.log_opts = {"max-size=10m", "max-file=2", "max-file=3"};  // repeated: the last one counts
    c = prepare(r, busybox_like());
    ASSERT_TRUE(c) << c.error().message();
    std::map<std::string, std::string> want{{"max-size", "10m"}, {"max-file", "3"}};
    EXPECT_EQ(c->host.log_config.config, want);
    auto back = from_json(to_json(*c, false));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->host.log_config.type, "json-file");
    EXPECT_EQ(back->host.log_config.config, want);
    r = req_for();
    r.log_driver = "none";
    c = prepare(r, busybox_like());
    ASSERT_TRUE(c);
    EXPECT_EQ(from_json(to_json(*c, false))->host.log_config.type, "none");
}

TEST(Record, JsonRoundTrip) {
    auto c = prepare(req_for({"top"}), busybox_like());
    ASSERT_TRUE(c);
    c->name = "bird";
    c->state.status = "running";
    c->state.pid = 42;
    c->mounts.push_back({"volume", "v1", "/var/lib/x", "/data", false, ""});
    auto back = from_json(to_json(*c, true));
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->id, c->id);
    EXPECT_EQ(back->name, "bird");
    EXPECT_EQ(back->state.pid, 42);
    EXPECT_EQ(back->path, "top");
    ASSERT_EQ(back->mounts.size(), 1u);
    EXPECT_EQ(back->mounts[0].name, "v1");
    EXPECT_FALSE(back->mounts[0].rw);
    EXPECT_FALSE(from_json("{"));
}

TEST(Record, Names) {
    EXPECT_TRUE(valid_name("bird"));
    EXPECT_TRUE(valid_name("a.b-c_d"));
    EXPECT_FALSE(valid_name("_x"));
    EXPECT_FALSE(valid_name("a/b"));
    EXPECT_TRUE(valid_name(random_name()));
}
