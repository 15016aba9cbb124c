// The D-Bus client against a real dbus-daemon (a private session bus in a temp dir): AUTH
// EXTERNAL, Hello, a method reply, an error reply, a signal. Skipped without dbus-daemon.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "cgroups/systemd/dbus.h"

namespace mydocker::cgroups::dbus {
namespace {

class DbusLive : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::access("/usr/bin/dbus-daemon", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/dbus-daemon";
        char tmpl[] = "/tmp/mydocker-dbus-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        socket_ = dir_ + "/bus";
        int p[2];
        ASSERT_EQ(::pipe(p), 0);
        pid_ = ::fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            ::close(p[0]);
            std::string addr = "--address=unix:path=" + socket_;
            std::string print = "--print-address=" + std::to_string(p[1]);
            ::execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile",
                    addr.c_str(), print.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(p[1]);
        // The daemon prints its address once it listens: that is the wait, bounded by its exit.
        char buf[256];
        ssize_t n = ::read(p[0], buf, sizeof buf);
        ::close(p[0]);
        ASSERT_GT(n, 0) << "dbus-daemon did not start";
    }
    void TearDown() override {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        if (!dir_.empty()) {
            ::unlink(socket_.c_str());
            ::rmdir(dir_.c_str());
        }
    }
    static Message bus_call(const std::string& member) {
        Message m;
        m.path = "/org/freedesktop/DBus";
        m.interface = "org.freedesktop.DBus";
        m.member = member;
        m.destination = "org.freedesktop.DBus";
        return m;
    }
    pid_t pid_ = -1;
    std::string dir_, socket_;
};

TEST_F(DbusLive, HelloCallErrorAndSignal) {
    auto c = Connection::open(socket_, true);
    ASSERT_TRUE(c) << c.error().message();
    // After Hello the bus tells us our unique name in a NameAcquired signal.
    auto sig = c->next_signal(5000);
    ASSERT_TRUE(sig) << sig.error().message();
    EXPECT_EQ(sig->member, "NameAcquired");
    auto names = c->call(bus_call("ListNames"), 5000);
    ASSERT_TRUE(names) << names.error().message();
    EXPECT_EQ(names->signature, "as");
    Reader r(names->body);
    EXPECT_TRUE(r.skip("as"));
    Message match = bus_call("AddMatch");
    match.signature = "s";
    Writer w;
    w.string("type='signal',member='JobRemoved'");
    match.body = w.data();
    auto ok = c->call(std::move(match), 5000);
    EXPECT_TRUE(ok) << ok.error().message();
    auto bad = c->call(bus_call("NoSuchMethod"), 5000);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message().find("org.freedesktop.DBus.Error.UnknownMethod"),
              std::string::npos)
        << bad.error().message();
}

}  // namespace
}  // namespace mydocker::cgroups::dbus
