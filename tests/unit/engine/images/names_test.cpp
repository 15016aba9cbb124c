// Image names: normalisation and the errors for bad ones.
#include <gtest/gtest.h>

#include "engine/images/names.h"
#include "engine/images/store.h"

namespace mydocker::engine::images {
namespace {

TEST(NormalizeName, AddsLatestAndCollapsesDockerHubSpellings) {
    const std::pair<const char*, const char*> cases[] = {
        {"busybox", "busybox:latest"},
        {"busybox:1.36", "busybox:1.36"},
        {"docker.io/library/busybox", "busybox:latest"},
        {"docker.io/busybox:x", "busybox:x"},
        {"index.docker.io/library/busybox:musl", "busybox:musl"},
        {"library/busybox", "busybox:latest"},
        {"docker.io/foo/bar", "foo/bar:latest"},
        {"localhost/busybox:latest", "localhost/busybox:latest"},
        {"localhost:5000/a/b:v1.0-rc_1", "localhost:5000/a/b:v1.0-rc_1"},
        {"quay.io/podman/hello", "quay.io/podman/hello:latest"},
        {"a/my-app__x.y", "a/my-app__x.y:latest"},
        {"a.b/c", "a.b/c:latest"},
        {"docker.io/library/busybox:latest", "busybox:latest"},
        {"registry-1.docker.io/library/busybox", "busybox:latest"},
        {"localhost:5000/x:1", "localhost:5000/x:1"},
        {"[::1]:5000/x", "[::1]:5000/x:latest"},
        // An uppercase first component is a registry host, as in docker.
        {"Registry/x", "Registry/x:latest"},
    };
    for (const auto& [in, want] : cases) {
        auto r = normalize_name(in);
        ASSERT_TRUE(r.has_value()) << in << ": " << r.error().message();
        EXPECT_EQ(*r, want) << in;
    }
}

TEST(NormalizeName, RejectsBadNamesNamingThem) {
    const std::string bads[] = {
        "",
        "Busybox",
        "busybox:",
        "bus box",
        "-x",
        "a//b",
        "x:-tag",
        "a/b@sha256:00",
        "UPPER.io:port/x",
        "a_-b",
        "my_host.x/y",
        std::string(64, 'a'),
        // Valid references the store cannot name: a digest, an id.
        "busybox@sha256:" + std::string(64, 'a'),
        "docker.io/" + std::string(64, 'a'),
    };
    for (const auto& bad : bads) {
        auto r = normalize_name(bad);
        ASSERT_FALSE(r.has_value()) << "accepted \"" << bad << "\" as " << *r;
        EXPECT_EQ(r.error().code(), sys::ErrorCode::invalid_argument);
        EXPECT_NE(r.error().message().find("\"" + bad + "\""), std::string::npos)
            << r.error().message();
    }
}

TEST(SplitName, TagColonIsNotThePortColon) {
    EXPECT_EQ(split_name("localhost:5000/x:y").repo, "localhost:5000/x");
    EXPECT_EQ(split_name("localhost:5000/x:y").tag, "y");
    EXPECT_EQ(split_name("localhost:5000/x").repo, "localhost:5000/x");
    EXPECT_EQ(split_name("localhost:5000/x").tag, "latest");
}

TEST(RepoDigest, ParsedInDockersFamiliarSpelling) {
    const std::string d = "sha256:" + std::string(64, 'a');
    EXPECT_EQ(*parse_repo_digest("busybox@" + d), std::optional<std::string>("busybox@" + d));
    EXPECT_EQ(*parse_repo_digest("docker.io/library/busybox:1@" + d),
              std::optional<std::string>("busybox@" + d));
    EXPECT_EQ(*parse_repo_digest("127.0.0.1:5000/t/bb@" + d),
              std::optional<std::string>("127.0.0.1:5000/t/bb@" + d));
    EXPECT_EQ(*parse_repo_digest("busybox:latest"), std::nullopt);
    EXPECT_FALSE(parse_repo_digest("busybox@sha256:123").has_value());
    EXPECT_EQ(repo_of_digest("127.0.0.1:5000/t/bb@" + d), "127.0.0.1:5000/t/bb");
    EXPECT_EQ(*repo_digest("busybox", d), "busybox@" + d);
    EXPECT_FALSE(repo_digest("busybox", "sha256:xyz").has_value());
}

}  // namespace
}  // namespace mydocker::engine::images
