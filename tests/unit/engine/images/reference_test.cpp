// Image references: the answers of docker (distribution/reference's ParseNormalizedNamed) for
// valid and invalid names, and the names and registry paths derived from them.
#include "engine/images/reference.h"

#include <gtest/gtest.h>

#include "engine/images/store.h"

namespace mydocker::engine::images {
namespace {

const std::string kHex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kSha256 = "sha256:" + kHex64;

struct Valid {
    std::string in;
    std::string domain;
    std::string path;
    std::optional<std::string> tag;
    std::optional<std::string> digest;
};

TEST(ParseReference, AcceptsWhatDockerAccepts) {
    const Valid cases[] = {
        {"busybox", "docker.io", "library/busybox", {}, {}},
        {"library/busybox:1.36", "docker.io", "library/busybox", "1.36", {}},
        {"docker.io/busybox", "docker.io", "library/busybox", {}, {}},
        {"docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", {}},
        {"index.docker.io/library/busybox", "docker.io", "library/busybox", {}, {}},
        {"index.docker.io/busybox", "docker.io", "library/busybox", {}, {}},
        {"user/repo", "docker.io", "user/repo", {}, {}},
        {"docker.io/library/foo/bar", "docker.io", "library/foo/bar", {}, {}},
        {"localhost:5000/foo/bar:tag", "localhost:5000", "foo/bar", "tag", {}},
        {"localhost/foo", "localhost", "foo", {}, {}},
        {"127.0.0.1:5000/x@" + kSha256, "127.0.0.1:5000", "x", {}, kSha256},
        {"x:tag@" + kSha256, "docker.io", "library/x", "tag", kSha256},
        {"quay.io/podman/hello", "quay.io", "podman/hello", {}, {}},
        {"b.gcr.io/test.example.com/my-app:test.example.com",
         "b.gcr.io",
         "test.example.com/my-app",
         "test.example.com",
         {}},
        {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", {}, {}},
        {"test-com:8080/foo", "test-com:8080", "foo", {}, {}},
        // IPv6 hosts in brackets (distribution/reference v0.6).
        {"[::1]:5000/foo", "[::1]:5000", "foo", {}, {}},
        {"[2001:db8::1]/repo:tag", "[2001:db8::1]", "repo", "tag", {}},
        {"[fc00:1:2:3:4:5:6:7]:5000/library/debian",
         "[fc00:1:2:3:4:5:6:7]:5000",
         "library/debian",
         {},
         {}},
        // A single component is always a Docker Hub name: no domain, and ":5000" is a tag.
        {"localhost", "docker.io", "library/localhost", {}, {}},
        {"localhost:5000", "docker.io", "library/localhost", "5000", {}},
        {"example.com", "docker.io", "library/example.com", {}, {}},
        {"192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", {}},
        // An uppercase first component can only be a registry: repositories are lowercase.
        {"Foo/bar", "Foo", "bar", {}, {}},
        {"FOO/bar", "FOO", "bar", {}, {}},
        // Separators: one '.', one or two '_', any number of '-'.
        {"foo_bar", "docker.io", "library/foo_bar", {}, {}},
        {"foo__bar", "docker.io", "library/foo__bar", {}, {}},
        {"foo--bar", "docker.io", "library/foo--bar", {}, {}},
        {"docker---rules/docker", "docker.io", "docker---rules/docker", {}, {}},
        {"a/my-app__x.y", "docker.io", "a/my-app__x.y", {}, {}},
        {"test_com/foo", "docker.io", "test_com/foo", {}, {}},
        {"d/docker", "docker.io", "d/docker", {}, {}},
        // Uppercase is fine in a tag.
        {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", {}},
        {"a:_x-1.Y", "docker.io", "library/a", "_x-1.Y", {}},
        // 64 hex characters is an id, but not under a domain or at another length.
        {"docker.io/" + kHex64, "docker.io", "library/" + kHex64, {}, {}},
        {kHex64.substr(0, 63), "docker.io", "library/" + kHex64.substr(0, 63), {}, {}},
        {"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
         "docker.io",
         "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
         {},
         {}},
        // Other digest algorithms are accepted by their syntax.
        {"a@sha512:" + std::string(128, 'f'),
         "docker.io",
         "library/a",
         {},
         "sha512:" + std::string(128, 'f')},
        {"a@sha384:" + std::string(96, '0'),
         "docker.io",
         "library/a",
         {},
         "sha384:" + std::string(96, '0')},
        {"a@blake3:" + std::string(32, 'A'),
         "docker.io",
         "library/a",
         {},
         "blake3:" + std::string(32, 'A')},
        {"a@sha256+b64u.x-y_z:" + std::string(40, '9'),
         "docker.io",
         "library/a",
         {},
         "sha256+b64u.x-y_z:" + std::string(40, '9')},
    };
    for (const auto& c : cases) {
        auto r = parse_reference(c.in);
        ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message();
        EXPECT_EQ(r->domain, c.domain) << c.in;
        EXPECT_EQ(r->path, c.path) << c.in;
        EXPECT_EQ(r->tag, c.tag) << c.in;
        EXPECT_EQ(r->digest, c.digest) << c.in;
    }
}

TEST(ParseReference, TagUpTo128Characters) {
    std::string tag128 = "t" + std::string(127, 'a');
    auto r = parse_reference("foo:" + tag128);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->tag, tag128);
    EXPECT_FALSE(parse_reference("foo:" + tag128 + "a").has_value());
}

// The 255 limit is on the path: the domain is not counted (distribution/reference v0.6).
TEST(ParseReference, PathUpTo255Characters) {
    EXPECT_TRUE(parse_reference("example.com/" + std::string(255, 'a')).has_value());
    EXPECT_FALSE(parse_reference("example.com/" + std::string(256, 'a')).has_value());
    // "library/" counts: a 247-character official name is the longest.
    EXPECT_TRUE(parse_reference(std::string(247, 'a')).has_value());
    EXPECT_FALSE(parse_reference(std::string(248, 'a')).has_value());
    std::string a255;
    for (int i = 0; i < 127; i++) a255 += "a/";
    a255 += "a";
    ASSERT_EQ(a255.size(), 255u);
    EXPECT_TRUE(parse_reference(a255 + ":tag-puts-this-over-max").has_value());
    EXPECT_FALSE(parse_reference("b/" + a255).has_value());
}

TEST(ParseReference, RejectsWhatDockerRejectsNamingTheInput) {
    const std::string bads[] = {
        "",
        "foo:",
        ":tag",
        "@" + kSha256,
        "foo@",
        "foo@sha256:short",
        "foo@sha256:" + kHex64.substr(1),
        "foo@sha256:" + kHex64 + "0",
        "foo@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "foo@sha512:" + kHex64,
        "foo@md5:0123456789abcdef",
        "foo@1sha:" + kHex64,
        "foo@sha-:" + kHex64,
        "foo@" + kHex64,
        "foo@blake3:" + std::string(31, 'a'),
        "foo@blake3:" + std::string(32, 'g'),
        "foo/../bar",
        "-foo",
        "-docker/docker",
        "docker-/docker",
        "foo-",
        "foo.",
        "foo..bar",
        "foo___bar",
        "foo_-bar",
        "foo-.bar",
        "_docker/_docker",
        "a//b",
        "docker/",
        "docker///docker",
        "localhost/",
        "foo:tag:x",
        "foo:-tag",
        "foo:.tag",
        "foo:t/ag",
        "bus box",
        "foo bar:tag",
        "https://github.com/docker/docker",
        kHex64,
        "[::1]",
        "[::1]:5000",
        "[fe80::1%eth0]:5000/foo",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        "fc00::1:5000/debian",
        "localhost:/x",
        "localhost:50a0/x",
        "UPPER.io:port/x",
        "-docker.io/x",
        "docker.io-/x",
        "a..b/x",
        // A first component with a '.' is a host, and a host has no '_'. (docker would take the
        // whole as a path with no registry, which nothing could pull.)
        "my_host.x/y",
        std::string("nul\0byte", 8),
        "caf\xc3\xa9",
    };
    for (const auto& bad : bads) {
        auto r = parse_reference(bad);
        ASSERT_FALSE(r.has_value()) << "accepted \"" << bad << "\" as " << r->string();
        EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
        EXPECT_TRUE(r.error().message().starts_with("invalid reference format \"" + bad + "\": "))
            << r.error().message();
    }
}

TEST(ParseReference, UppercaseRepositoryGetsDockersMessage) {
    const std::pair<std::string, std::string> cases[] = {
        {"Foo", "library/Foo"},
        {"FOO:tag", "library/FOO"},
        {"a/B", "a/B"},
        {"docker.io/Foo", "library/Foo"},
        {"localhost:5000/Foo:tag", "Foo"},
        {"Foo/Bar", "Bar"},
        {"test:5000/Uppercase/lowercase:tag", "Uppercase/lowercase"},
        {"Foo@" + kSha256, "library/Foo"},
    };
    for (const auto& [in, repo] : cases) {
        auto r = parse_reference(in);
        ASSERT_FALSE(r.has_value()) << in;
        EXPECT_EQ(r.error().message(), "invalid reference format \"" + in +
                                           "\": repository name (" + repo + ") must be lowercase");
    }
}

TEST(ParseReference, ErrorsSayWhatIsWrong) {
    auto why = [](std::string_view in) {
        auto r = parse_reference(in);
        return r ? std::string("accepted") : r.error().message();
    };
    EXPECT_NE(why("foo:").find("empty tag"), std::string::npos);
    EXPECT_NE(why("foo___bar").find("\"___\""), std::string::npos);
    EXPECT_NE(why("-foo").find("must start with"), std::string::npos);
    EXPECT_NE(why("foo@sha256:short").find("64 lowercase hex digits"), std::string::npos);
    EXPECT_NE(why("my_host.x/y").find("registry host \"my_host.x\""), std::string::npos);
    EXPECT_NE(why(kHex64).find("image id"), std::string::npos);
    EXPECT_NE(why(":tag").find("no repository name"), std::string::npos);
}

TEST(Reference, NamesInDockersSpellings) {
    struct Case {
        std::string in, familiar, full, str, familiar_str;
    };
    const Case cases[] = {
        {"busybox", "busybox", "docker.io/library/busybox", "docker.io/library/busybox", "busybox"},
        {"index.docker.io/library/busybox:1.36", "busybox", "docker.io/library/busybox",
         "docker.io/library/busybox:1.36", "busybox:1.36"},
        {"user/repo:v1", "user/repo", "docker.io/user/repo", "docker.io/user/repo:v1",
         "user/repo:v1"},
        {"docker.io/library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar",
         "docker.io/library/foo/bar", "library/foo/bar"},
        {"localhost:5000/x:1", "localhost:5000/x", "localhost:5000/x", "localhost:5000/x:1",
         "localhost:5000/x:1"},
        {"x:tag@" + kSha256, "x", "docker.io/library/x", "docker.io/library/x:tag@" + kSha256,
         "x:tag@" + kSha256},
        {"[::1]:5000/foo@" + kSha256, "[::1]:5000/foo", "[::1]:5000/foo",
         "[::1]:5000/foo@" + kSha256, "[::1]:5000/foo@" + kSha256},
    };
    for (const auto& c : cases) {
        auto r = parse_reference(c.in);
        ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message();
        EXPECT_EQ(r->familiar_name(), c.familiar) << c.in;
        EXPECT_EQ(r->full_name(), c.full) << c.in;
        EXPECT_EQ(r->string(), c.str) << c.in;
        EXPECT_EQ(r->familiar_string(), c.familiar_str) << c.in;
        // What docker prints parses back to the same reference.
        auto again = parse_reference(c.familiar_str);
        ASSERT_TRUE(again.has_value()) << c.familiar_str;
        EXPECT_EQ(*again, *r) << c.familiar_str;
    }
}

TEST(Reference, NormalizedAddsLatestOnlyWithoutTagOrDigest) {
    EXPECT_EQ(parse_reference("busybox")->normalized().string(),
              "docker.io/library/busybox:latest");
    EXPECT_EQ(parse_reference("busybox:1")->normalized().string(), "docker.io/library/busybox:1");
    EXPECT_EQ(parse_reference("busybox@" + kSha256)->normalized().string(),
              "docker.io/library/busybox@" + kSha256);
    EXPECT_FALSE(parse_reference("busybox")->tag.has_value());
}

TEST(Reference, RegistryApiHostAndPaths) {
    auto hub = *parse_reference("busybox");
    EXPECT_EQ(hub.registry_host(), "registry-1.docker.io");
    EXPECT_EQ(hub.repository(), "library/busybox");
    EXPECT_EQ(hub.manifest_reference(), "latest");

    auto local = *parse_reference("localhost:5000/ns/repo:1.0");
    EXPECT_EQ(local.registry_host(), "localhost:5000");
    EXPECT_EQ(local.repository(), "ns/repo");
    EXPECT_EQ(local.manifest_reference(), "1.0");

    // A digest pins the content: the tag beside it is not asked for.
    auto pinned = *parse_reference("quay.io/a/b:tag@" + kSha256);
    EXPECT_EQ(pinned.registry_host(), "quay.io");
    EXPECT_EQ(pinned.manifest_reference(), kSha256);
}

// The embedded busybox is docker.io/library/busybox:latest under every spelling, and the store
// keeps its short name for it.
TEST(Reference, EmbeddedBusyboxIsDockerHubsBusybox) {
    for (const char* s : {"busybox", "busybox:latest", "docker.io/library/busybox:latest",
                          "index.docker.io/busybox", "library/busybox"}) {
        auto r = parse_reference(s);
        ASSERT_TRUE(r.has_value()) << s;
        EXPECT_EQ(r->normalized().string(), "docker.io/library/busybox:latest") << s;
        auto stored = normalize_name(s);
        ASSERT_TRUE(stored.has_value()) << s;
        EXPECT_EQ(*stored, "busybox:latest") << s;
    }
}

}  // namespace
}  // namespace mydocker::engine::images
