// PendingNetns: a new network namespace with lo up, made on its own thread; the caller's
// namespace is left alone. (Needs root, as every runtime test does.)
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runtime/netns.h"

namespace mydocker::runtime {
namespace {

ino_t ns_inode(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

TEST(PendingNetns, MakesANewNamespaceWithLoUp) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ino_t ours = ns_inode("/proc/thread-self/ns/net");
    auto pending = PendingNetns::start();
    auto fd = pending.take();
    ASSERT_TRUE(fd) << fd.error().message();
    struct stat st {};
    ASSERT_EQ(::fstat(fd->get(), &st), 0);
    EXPECT_NE(st.st_ino, ours);
    EXPECT_EQ(ns_inode("/proc/thread-self/ns/net"), ours);  // we stayed where we were
    // A child joins it: lo is there and up.
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::setns(fd->get(), CLONE_NEWNET) < 0) ::_exit(2);
        int s = ::socket(AF_INET, SOCK_DGRAM, 0);
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) < 0) ::_exit(3);
        ::_exit((ifr.ifr_flags & IFF_UP) ? 0 : 4);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(netns_fd_path(7), "/proc/self/fd/7");
}

TEST(PendingNetns, AssigningOverARunningOneWaitsForIt) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto p = PendingNetns::start();
    p = PendingNetns::start();  // the first thread is joined, its namespace dropped
    EXPECT_TRUE(p.take());
}

TEST(PendingNetns, TakeWithoutStartIsAnError) {
    PendingNetns none;
    EXPECT_FALSE(none.take());
}

}  // namespace
}  // namespace mydocker::runtime
