// Answering a registry's 401: WWW-Authenticate challenges parsed as Docker Hub and
// distribution send them, Basic answered with the credentials or refused naming the registry.
// (The Bearer flow needs a token server: login.bats and pull.bats run it.)
#include "engine/images/registry_auth.h"

#include <gtest/gtest.h>

namespace mydocker::engine::images {
namespace {

TEST(Challenge, ParsesBasicAndBearer) {
    auto b = parse_challenge(R"(Basic realm="mydocker-test")");
    EXPECT_EQ(b.scheme, "basic");
    EXPECT_EQ(b.params["realm"], "mydocker-test");
    auto t = parse_challenge(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
    EXPECT_EQ(t.scheme, "bearer");
    EXPECT_EQ(t.params["realm"], "https://auth.docker.io/token");
    EXPECT_EQ(t.params["service"], "registry.docker.io");
    EXPECT_EQ(t.params["scope"], "repository:library/busybox:pull");
    auto u = parse_challenge(
        R"(bearer Realm=http://x/t, service="a \"b\"", error="insufficient_scope")");
    EXPECT_EQ(u.scheme, "bearer");
    EXPECT_EQ(u.params["realm"], "http://x/t");
    EXPECT_EQ(u.params["service"], "a \"b\"");
    EXPECT_EQ(u.params["error"], "insufficient_scope");
    EXPECT_EQ(parse_challenge("").scheme, "");
}

TEST(Challenge, BasicIsAnsweredWithTheCredentialsOrRefusedNamingTheRegistry) {
    AuthRequest req{"h:1", "", Credentials{"tester", "pw", ""}, ""};
    EXPECT_EQ(answer_challenge(R"(Basic realm="r")", req).value(),
              "Basic " + base64_encode("tester:pw"));
    req.creds.reset();
    auto r = answer_challenge(R"(Basic realm="r")", req);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("registry h:1: authentication required"), std::string::npos);
    EXPECT_NE(r.error().message().find("mydocker login h:1"), std::string::npos);
    r = answer_challenge("Negotiate", req);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("not a Basic or Bearer challenge"), std::string::npos);
}

}  // namespace
}  // namespace mydocker::engine::images
