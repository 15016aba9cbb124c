// Registry credentials files: docker's config.json "auths" format as docker and podman write
// it (Docker Hub's "https://index.docker.io/v1/" key, podman's "docker.io" and "host/namespace"
// keys), what login writes (0600, base64 of user:password, other entries kept), what logout
// removes, base64 both ways, login server names.
#include "engine/images/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "images_testing.h"
#include "sys/files.h"

namespace mydocker::engine::images {
namespace {

using nlohmann::json;

TEST(Base64, RoundTripsAndMatchesRfc4648) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode("tester:pw"), "dGVzdGVyOnB3");
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    EXPECT_EQ(base64_decode(base64_encode(all)), all);
    EXPECT_EQ(base64_decode("Zm9vYg"), "foob");  // padding optional
    EXPECT_EQ(base64_decode("Zm9v YmFy"), std::nullopt);
    EXPECT_EQ(base64_decode("Z"), std::nullopt);
    EXPECT_EQ(base64_decode("Zm9v!"), std::nullopt);
}

TEST(LoginHost, NormalizesAsDockerDoes) {
    EXPECT_EQ(login_host("").value(), "docker.io");
    EXPECT_EQ(login_host("docker.io").value(), "docker.io");
    EXPECT_EQ(login_host("https://index.docker.io/v1/").value(), "docker.io");
    EXPECT_EQ(login_host("registry-1.docker.io").value(), "docker.io");
    EXPECT_EQ(login_host("127.0.0.1:5000").value(), "127.0.0.1:5000");
    EXPECT_EQ(login_host("https://127.0.0.1:5000/v2/").value(), "127.0.0.1:5000");
    EXPECT_EQ(login_host("http://localhost:5000").value(), "localhost:5000");
    EXPECT_EQ(login_host("[::1]:5000").value(), "[::1]:5000");
    EXPECT_EQ(auth_key("docker.io"), "https://index.docker.io/v1/");
    EXPECT_EQ(auth_key("ghcr.io"), "ghcr.io");
    for (const char* bad : {"https://", "a b", "host:99999", "host:", "host:x1", "ho\"st"}) {
        auto r = login_host(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find(bad), std::string::npos) << r.error().message();
    }
}

std::string entry(const std::string& user, const std::string& pw) {
    return R"({"auth": ")" + base64_encode(user + ":" + pw) + R"("})";
}

TEST(AuthFile, FindsDockersKeysByHost) {
    // As docker writes it: Docker Hub under its v1 URL, others by host[:port]; a credsStore beside.
    std::string text = R"({"auths": {"https://index.docker.io/v1/": )" + entry("hubuser", "hubpw") +
                       R"(, "127.0.0.1:5000": )" + entry("local", "pw:with:colons") +
                       R"(, "https://ghcr.io/v2/": )" + entry("gh", "ghpw") +
                       R"(}, "credsStore": "desktop"})";
    auto hub = find_in_auth_file(text, "f", "docker.io", "library/busybox").value();
    ASSERT_TRUE(hub);
    EXPECT_EQ(hub->username, "hubuser");
    EXPECT_EQ(hub->password, "hubpw");
    EXPECT_EQ(hub->source, "f");
    auto local = find_in_auth_file(text, "f", "127.0.0.1:5000", "x").value();
    ASSERT_TRUE(local);
    EXPECT_EQ(local->username, "local");
    EXPECT_EQ(local->password, "pw:with:colons");  // only the first ':' separates
    EXPECT_EQ(find_in_auth_file(text, "f", "ghcr.io", "o/r").value()->username, "gh");
    EXPECT_FALSE(find_in_auth_file(text, "f", "127.0.0.1:5001", "x").value());
    EXPECT_FALSE(find_in_auth_file("{}", "f", "docker.io", "x").value());
    EXPECT_FALSE(find_in_auth_file("", "f", "docker.io", "x").value());
}

TEST(AuthFile, PodmanKeysWithANamespaceWinForTheirRepositories) {
    std::string text = R"({"auths": {"docker.io": )" + entry("all", "1") +
                       R"(, "docker.io/team": )" + entry("team", "2") +
                       R"(, "docker.io/team/app": )" + entry("app", "3") + R"(}})";
    EXPECT_EQ(find_in_auth_file(text, "f", "docker.io", "team/app").value()->username, "app");
    EXPECT_EQ(find_in_auth_file(text, "f", "docker.io", "team/other").value()->username, "team");
    EXPECT_EQ(find_in_auth_file(text, "f", "docker.io", "teammate/x").value()->username, "all");
    EXPECT_EQ(find_in_auth_file(text, "f", "docker.io", "library/busybox").value()->username,
              "all");
}

TEST(AuthFile, RefusesWhatIsNotAnAuthsFileNamingIt) {
    for (std::string bad :
         {std::string("not json"), std::string("[]"), std::string(R"({"auths": []})"),
          std::string(R"({"auths": {"h": {"auth": "!!"}}})"),
          std::string(R"({"auths": {"h": {"auth": ")") + base64_encode("nocolon") + "\"}}}",
          std::string(R"({"auths": {"h": {"identitytoken": "t"}}})")}) {
        auto r = find_in_auth_file(bad, "/x/config.json", "h", "r");
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message().find("/x/config.json"), std::string::npos)
            << r.error().message();
    }
    // Spelled out, as older files did.
    auto old =
        find_in_auth_file(R"({"auths": {"h": {"username": "u", "password": "p"}}})", "f", "h", "r");
    ASSERT_TRUE(old && *old);
    EXPECT_EQ((*old)->password, "p");
}

TEST(AuthFile, WithAndWithoutKeepTheRest) {
    std::string old =
        R"({"auths": {"https://index.docker.io/v1/": {"auth": "eDp5"}, "h:1": {"auth": "YTpi"}},)"
        R"( "psFormat": "table {{.ID}}"})";
    std::string text = auth_file_with(old, "f", "h:1", {"tester", "s3cret", ""}).value();
    json j = json::parse(text);
    EXPECT_EQ(j["auths"]["h:1"]["auth"], base64_encode("tester:s3cret"));
    EXPECT_EQ(j["auths"]["https://index.docker.io/v1/"]["auth"], "eDp5");
    EXPECT_EQ(j["psFormat"], "table {{.ID}}");
    // Docker Hub is saved under docker's key, replacing any other spelling of it.
    text = auth_file_with(R"({"auths": {"docker.io": {"auth": "eDp5"}}})", "f", "docker.io",
                          {"u", "p", ""})
               .value();
    j = json::parse(text);
    EXPECT_EQ(j["auths"].size(), 1u);
    EXPECT_EQ(j["auths"]["https://index.docker.io/v1/"]["auth"], base64_encode("u:p"));
    EXPECT_FALSE(auth_file_with("{}", "f", "h", {"a:b", "p", ""}));

    auto without = auth_file_without(old, "f", "docker.io").value();
    ASSERT_TRUE(without);
    j = json::parse(*without);
    EXPECT_FALSE(j["auths"].contains("https://index.docker.io/v1/"));
    EXPECT_TRUE(j["auths"].contains("h:1"));
    EXPECT_EQ(j["psFormat"], "table {{.ID}}");
    EXPECT_FALSE(auth_file_without(old, "f", "other:2").value());
    EXPECT_FALSE(auth_file_without("", "f", "h:1").value());
}

TEST(AuthFile, StoreWritesMode0600InA0700DirAndRemoveUndoesIt) {
    testing::TempDir tmp;
    std::string dir = tmp / "cfg";
    std::string path = dir + "/config.json";
    ASSERT_TRUE(store_credentials(path, "h:1", {"tester", "pw", ""}));
    struct stat st;
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_TRUE(store_credentials(path, "docker.io", {"hub", "hpw", ""}));
    CredentialFiles files{path, {}};
    EXPECT_EQ(find_credentials(files, "h:1", "r").value()->username, "tester");
    EXPECT_EQ(find_credentials(files, "docker.io", "library/x").value()->password, "hpw");
    EXPECT_TRUE(remove_credentials(path, "h:1").value());
    EXPECT_FALSE(remove_credentials(path, "h:1").value());
    EXPECT_FALSE(find_credentials(files, "h:1", "r").value());
    EXPECT_FALSE(remove_credentials(tmp / "none.json", "h:1").value());
    EXPECT_FALSE(sys::path_exists(tmp / "none.json"));
    // No temp file is left beside it.
    EXPECT_EQ(sys::list_dir(dir).value().size(), 1u);
}

TEST(AuthFile, OwnFileFirstThenTheForeignOnes) {
    testing::TempDir tmp;
    ASSERT_TRUE(sys::write_file(tmp / "docker.json",
                                R"({"auths": {"h:1": )" + entry("docker", "d") + "}}"));
    ASSERT_TRUE(sys::write_file(tmp / "podman.json",
                                R"({"auths": {"h:2": )" + entry("podman", "p") + "}}"));
    CredentialFiles files{tmp / "own.json",
                          {tmp / "docker.json", tmp / "missing.json", tmp / "podman.json"}};
    EXPECT_EQ(find_credentials(files, "h:1", "r").value()->username, "docker");
    EXPECT_EQ(find_credentials(files, "h:2", "r").value()->source, tmp / "podman.json");
    ASSERT_TRUE(store_credentials(files.own, "h:1", {"mine", "m", ""}));
    EXPECT_EQ(find_credentials(files, "h:1", "r").value()->username, "mine");
    EXPECT_FALSE(find_credentials(files, "h:3", "r").value());
}

}  // namespace
}  // namespace mydocker::engine::images
