// The systemd driver's pure parts: cgroupsPath, slices, unit properties, and D-Bus messages
// against byte strings worked out from the specification's marshalling rules.
#include <gtest/gtest.h>

#include "cgroups/systemd/dbus.h"
#include "cgroups/systemd/unit.h"

namespace mydocker::cgroups::systemd {
namespace {

using namespace std::string_literals;

UnitPath parsed(const std::string& p) {
    auto u = parse_cgroups_path(p);
    EXPECT_TRUE(u) << p << ": " << u.error().message();
    return u ? *u : UnitPath{};
}

std::string refused(const std::string& p) {
    auto u = parse_cgroups_path(p);
    EXPECT_FALSE(u) << p << " was accepted as " << (u ? u->path : "");
    return u ? "" : u.error().message();
}

TEST(SystemdPath, ScopeInSlice) {
    EXPECT_EQ(parsed("system.slice:mydocker:test1"),
              (UnitPath{"system.slice", "mydocker-test1.scope", "/system.slice/mydocker-test1.scope"}));
    // podman and the kubelet: nested slices and a prefix of their own.
    EXPECT_EQ(parsed("kubepods-besteffort.slice:cri-containerd:abc").path,
              "/kubepods.slice/kubepods-besteffort.slice/cri-containerd-abc.scope");
    EXPECT_EQ(parsed("-.slice:p:n").path, "/p-n.scope");
}

TEST(SystemdPath, Defaults) {
    EXPECT_EQ(parsed(":mydocker:x"), (UnitPath{"system.slice", "mydocker-x.scope", "/system.slice/mydocker-x.scope"}));
    EXPECT_EQ(parsed("system.slice::x").unit, "x.scope");
}

TEST(SystemdPath, SliceName) {
    EXPECT_EQ(parsed("my.slice::my-sub.slice"), (UnitPath{"my.slice", "my-sub.slice", "/my.slice/my-sub.slice"}));
    EXPECT_EQ(parsed("::my-sub.slice"), (UnitPath{"my.slice", "my-sub.slice", "/my.slice/my-sub.slice"}));
    EXPECT_NE(refused("system.slice:p:my-sub.slice").find("not a child of \"system.slice\""), std::string::npos);
}

TEST(SystemdPath, Refused) {
    for (const char* bad : {"/sys/fs/cgroup/x", "a:b", "a:b:c:d", "system.slice:p:", "system:p:n",
                            "bad/x.slice:p:n", "a--b.slice:p:n", "-a.slice:p:n", "system.slice:p:a/b",
                            "system.slice:p:a b"}) {
        std::string msg = refused(bad);
        EXPECT_NE(msg.find("cgroupsPath \""s + bad + "\""), std::string::npos) << msg;
    }
    EXPECT_NE(refused("a:b").find("expected \"slice:prefix:name\""), std::string::npos);
}

TEST(SystemdPath, ExpandSlice) {
    EXPECT_EQ(*expand_slice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
    EXPECT_EQ(*expand_slice("system.slice"), "/system.slice");
    EXPECT_EQ(*expand_slice("-.slice"), "/");
    EXPECT_FALSE(expand_slice("a-.slice"));
    EXPECT_FALSE(expand_slice(".slice"));
    EXPECT_FALSE(expand_slice("system"));
}

TEST(SystemdProps, CpusetBits) {
    EXPECT_EQ(*cpuset_bits("0-2,9"), (std::vector<uint8_t>{0x07, 0x02}));
    EXPECT_EQ(*cpuset_bits("0"), (std::vector<uint8_t>{0x01}));
    EXPECT_FALSE(cpuset_bits("3-1"));
    EXPECT_FALSE(cpuset_bits("a"));
    EXPECT_FALSE(cpuset_bits("1,"));
}

const Value* find(const std::vector<Property>& props, const std::string& name) {
    for (const auto& p : props)
        if (p.name == name) return &p.value;
    return nullptr;
}

TEST(SystemdProps, V2) {
    Resources r;
    r.memory = MemoryResources{};
    r.memory->limit = 64 << 20;
    r.memory->swap = 128 << 20;
    r.cpu = CpuResources{};
    r.cpu->shares = 1024;
    r.cpu->quota = 12345;
    r.cpu->period = 100000;
    r.cpu->cpus = "0-1";
    r.pids = PidsResources{100};
    r.block_io = BlockIoResources{};
    r.block_io->weight = 500;
    auto p = resource_properties(r, Version::v2);
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(*find(*p, "MemoryAccounting"), Value{true});
    EXPECT_EQ(*find(*p, "MemoryMax"), Value{uint64_t{64 << 20}});
    EXPECT_EQ(*find(*p, "MemorySwapMax"), Value{uint64_t{64 << 20}});  // OCI swap counts memory too
    EXPECT_EQ(*find(*p, "CPUWeight"), Value{uint64_t{39}});
    EXPECT_EQ(*find(*p, "CPUQuotaPeriodUSec"), Value{uint64_t{100000}});
    EXPECT_EQ(*find(*p, "CPUQuotaPerSecUSec"), Value{uint64_t{130000}});  // 123450 up to 10 ms steps
    EXPECT_EQ(*find(*p, "AllowedCPUs"), Value{std::vector<uint8_t>{0x03}});
    EXPECT_EQ(*find(*p, "TasksMax"), Value{uint64_t{100}});
    EXPECT_EQ(*find(*p, "IOWeight"), Value{uint64_t{4950}});
    EXPECT_EQ(find(*p, "CPUShares"), nullptr);
}

TEST(SystemdProps, V1AndUnlimited) {
    Resources r;
    r.memory = MemoryResources{};
    r.memory->limit = -1;
    r.cpu = CpuResources{};
    r.cpu->shares = 512;
    r.cpu->quota = -1;
    r.pids = PidsResources{-1};
    r.block_io = BlockIoResources{};
    r.block_io->weight = 300;
    auto p = resource_properties(r, Version::v1);
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(*find(*p, "MemoryLimit"), Value{kInfinity});
    EXPECT_EQ(*find(*p, "CPUShares"), Value{uint64_t{512}});
    EXPECT_EQ(*find(*p, "CPUQuotaPerSecUSec"), Value{kInfinity});
    EXPECT_EQ(*find(*p, "TasksMax"), Value{kInfinity});
    EXPECT_EQ(*find(*p, "BlockIOWeight"), Value{uint64_t{300}});
    EXPECT_EQ(find(*p, "MemorySwapMax"), nullptr);
    EXPECT_EQ(find(*p, "MemoryMax"), nullptr);
}

TEST(SystemdProps, BadSwapRefused) {
    Resources r;
    r.memory = MemoryResources{};
    r.memory->limit = 64 << 20;
    r.memory->swap = 32 << 20;
    EXPECT_FALSE(resource_properties(r, Version::v2));
}

// StartTransientUnit("a.scope", "replace", [("Delegate", <true>)], []).
TEST(DbusEncode, StartTransientUnitBody) {
    std::string want =
        "\x07\0\0\0a.scope\0"s
        "\x07\0\0\0replace\0"s
        "\x14\0\0\0"s "\0\0\0\0"s                        // a(sv): 20 bytes, then padding to 8
        "\x08\0\0\0Delegate\0"s "\x01" "b\0"s "\x01\0\0\0"s  // ("Delegate", <b true>)
        "\0\0\0\0"s;                                     // a(sa(sv)): empty
    EXPECT_EQ(start_transient_unit_body("a.scope", {{"Delegate", true}}), want);
}

// SetUnitProperties("u.s", true, [("MemoryX", <t 9>)]).
TEST(DbusEncode, SetUnitPropertiesBody) {
    std::string want =
        "\x03\0\0\0u.s\0"s
        "\x01\0\0\0"s                                       // runtime = true
        "\x18\0\0\0"s                                       // a(sv): 24 bytes, at 16 already
        "\x07\0\0\0MemoryX\0"s "\x01" "t\0"s "\0"s "\x09\0\0\0\0\0\0\0"s;  // t at 32
    EXPECT_EQ(set_unit_properties_body("u.s", {{"MemoryX", uint64_t{9}}}), want);
}

TEST(DbusEncode, VariantsOfUint64AndArrays) {
    std::string body = start_transient_unit_body("u", {{"TasksMax", uint64_t{5}},
                                                       {"PIDs", std::vector<uint32_t>{7}},
                                                       {"AllowedCPUs", std::vector<uint8_t>{3}}});
    std::string want =
        "\x01\0\0\0u\0\0\0"s
        "\x07\0\0\0replace\0"s
        "\x49\0\0\0"s                                        // 73 bytes of structs, at 24: no padding
        "\x08\0\0\0TasksMax\0"s "\x01" "t\0"s "\x05\0\0\0\0\0\0\0"s  // t lands 8-aligned at 40
        "\x04\0\0\0PIDs\0"s "\x02" "au\0"s "\0\0\0"s "\x04\0\0\0"s "\x07\0\0\0"s
        "\x0b\0\0\0AllowedCPUs\0"s "\x02" "ay\0"s "\x01\0\0\0"s "\x03"s
        "\0\0\0"s "\0\0\0\0"s;
    EXPECT_EQ(body, want);
}

// The Hello every client sends first, as dbus-monitor and the specification show it.
TEST(DbusEncode, Hello) {
    dbus::Message m;
    m.serial = 1;
    m.path = "/org/freedesktop/DBus";
    m.interface = "org.freedesktop.DBus";
    m.member = "Hello";
    m.destination = "org.freedesktop.DBus";
    std::string want =
        "l\x01\0\x01"s "\0\0\0\0"s "\x01\0\0\0"s "\x6d\0\0\0"s
        "\x01\x01o\0"s "\x15\0\0\0/org/freedesktop/DBus\0"s "\0\0"s
        "\x02\x01s\0"s "\x14\0\0\0org.freedesktop.DBus\0"s "\0\0\0"s
        "\x03\x01s\0"s "\x05\0\0\0Hello\0"s "\0\0"s
        "\x06\x01s\0"s "\x14\0\0\0org.freedesktop.DBus\0"s "\0\0\0"s;
    EXPECT_EQ(dbus::encode(m), want);
    auto len = dbus::message_length(want);
    ASSERT_TRUE(len);
    EXPECT_EQ(*len, want.size());
}

TEST(DbusDecode, ErrorReplyRoundTrip) {
    dbus::Message e;
    e.type = dbus::MessageType::error;
    e.serial = 9;
    e.reply_serial = 4;
    e.error_name = "org.freedesktop.systemd1.UnitExists";
    e.signature = "s";
    dbus::Writer w;
    w.string("Unit x.scope already exists.");
    e.body = w.data();
    std::string bytes = dbus::encode(e);
    auto d = dbus::decode(bytes);
    ASSERT_TRUE(d) << d.error().message();
    EXPECT_EQ(d->type, dbus::MessageType::error);
    EXPECT_EQ(d->reply_serial, 4u);
    EXPECT_EQ(d->serial, 9u);
    EXPECT_EQ(dbus::error_text(*d), "org.freedesktop.systemd1.UnitExists: Unit x.scope already exists.");
    EXPECT_FALSE(dbus::decode(bytes.substr(0, bytes.size() - 1)));
}

TEST(DbusDecode, SkipsNestedValues) {
    dbus::Writer w;
    w.u32(1);
    size_t a = w.begin_array(8);
    w.begin_struct();
    w.string("k");
    w.signature("t");
    w.u64(2);
    w.end_array(a);
    w.string("after");
    dbus::Reader r(w.data());
    ASSERT_TRUE(r.skip("u"));
    ASSERT_TRUE(r.skip("a(sv)"));
    auto s = r.string();
    ASSERT_TRUE(s);
    EXPECT_EQ(*s, "after");
    dbus::Reader bad(std::string_view("\x05\0\0\0ab", 6));
    EXPECT_FALSE(bad.string());
}

}  // namespace
}  // namespace mydocker::cgroups::systemd
