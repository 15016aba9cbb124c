// The parent <-> init protocol's receiving side (runtime/sync.h).
#include "runtime/sync.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mydocker::runtime {
namespace {

struct Pair {
    int fd[2] = {-1, -1};
    Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fd), 0); }
    ~Pair() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
};

// A child that fails while the parent's next message is still queued for it exits with it
// unread: the parent must still read the child's ERROR, not a bare "connection reset".
TEST(SyncTest, ErrorOfAPeerThatLeftOurMessageUnreadIsRead) {
    Pair p;
    ASSERT_TRUE(sync_send(p.fd[0], SyncType::cgroup_ready));
    sync_send_error(p.fd[1], sys::Error::from_errno(ENOENT, "bind mount source \"/no-such-source\""));
    ::close(p.fd[1]);
    p.fd[1] = -1;
    auto m = sync_wait_for(p.fd[0], SyncType::ready);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("/no-such-source"), std::string::npos) << m.error().message();
}

TEST(SyncTest, TheSameWithFds) {
    Pair p;
    ASSERT_TRUE(sync_send(p.fd[0], SyncType::cgroup_ready));
    sync_send_error(p.fd[1], sys::Error::from_errno(ENOENT, "bind mount source \"/no-such-source\""));
    ::close(p.fd[1]);
    p.fd[1] = -1;
    auto fds = sync_wait_for_fds(p.fd[0], SyncType::cgroup_tree);
    ASSERT_FALSE(fds);
    EXPECT_NE(fds.error().message().find("/no-such-source"), std::string::npos) << fds.error().message();
}

TEST(SyncTest, APeerGoneWithoutAWordIsNotFound) {
    Pair p;
    ::close(p.fd[1]);
    p.fd[1] = -1;
    auto m = sync_recv(p.fd[0]);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), sys::ErrorCode::not_found);
}

}  // namespace
}  // namespace mydocker::runtime
