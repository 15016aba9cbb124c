#include "runtime/sync.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "sys/files.h"
#include "sys/unix_socket.h"

namespace mydocker::runtime {

namespace {
constexpr size_t kMaxText = 3800;

struct Header {
    uint32_t type;
    uint32_t text_len;
    int64_t value;
};

const char* type_name(SyncType t) {
    switch (t) {
        case SyncType::continue_: return "continue";
        case SyncType::hooks: return "hooks";
        case SyncType::hooks_done: return "hooks-done";
        case SyncType::ready: return "ready";
        case SyncType::error: return "error";
        case SyncType::cgroup_ready: return "cgroup-ready";
        case SyncType::start: return "start";
        case SyncType::cgroup_tree: return "cgroup-tree";
        case SyncType::seccomp_fd: return "seccomp-fd";
        case SyncType::seccomp_done: return "seccomp-done";
        case SyncType::exec_pid: return "exec-pid";
    }
    return "unknown";
}

// One received datagram (`n` bytes in `buf`, n < 0 already handled) as a message.
sys::Result<SyncMessage> parse_message(const char* buf, ssize_t n) {
    if (n == 0) return sys::fail(sys::Error::not_found("sync socket closed by peer"));
    if (static_cast<size_t>(n) < sizeof(Header)) return sys::fail_invalid("short sync message");
    Header h;
    std::memcpy(&h, buf, sizeof h);
    if (h.text_len > static_cast<size_t>(n) - sizeof h) return sys::fail_invalid("truncated sync message");
    SyncMessage m;
    m.type = static_cast<SyncType>(h.type);
    m.value = h.value;
    m.text.assign(buf + sizeof h, h.text_len);
    return m;
}
}  // namespace

sys::Result<void> sync_send(int fd, SyncType type, int64_t value, std::string_view text) {
    if (text.size() > kMaxText) text = text.substr(0, kMaxText);
    char buf[sizeof(Header) + kMaxText];
    Header h{static_cast<uint32_t>(type), static_cast<uint32_t>(text.size()), value};
    std::memcpy(buf, &h, sizeof h);
    std::memcpy(buf + sizeof h, text.data(), text.size());
    ssize_t n = MD_RETRY(::send(fd, buf, sizeof h + text.size(), MSG_NOSIGNAL));
    if (n < 0) return sys::fail_errno(std::string("send sync message \"") + type_name(type) + "\"");
    return {};
}

sys::Result<SyncMessage> sync_recv(int fd) {
    char buf[sizeof(Header) + kMaxText];
    ssize_t n = MD_RETRY(::recv(fd, buf, sizeof buf, 0));
    // A peer that exits with our messages unread resets the socket, and the kernel reports
    // that before what the peer sent first (its ERROR): the error is cleared by reporting it,
    // so read again (the peer is gone: a message or EOF, never a wait).
    if (n < 0 && errno == ECONNRESET) n = MD_RETRY(::recv(fd, buf, sizeof buf, 0));
    if (n < 0) return sys::fail_errno("receive sync message");
    return parse_message(buf, n);
}

sys::Result<SyncMessage> sync_wait_for(int fd, SyncType expected) {
    auto m = MD_TRY(sync_recv(fd));
    if (m.type == SyncType::error) {
        return sys::fail(sys::Error(sys::ErrorCode::system, m.text, static_cast<int>(m.value)));
    }
    if (m.type != expected) {
        return sys::fail_invalid(std::string("sync: expected \"") + type_name(expected) + "\", got \"" +
                                 type_name(m.type) + "\"");
    }
    return m;
}

sys::Result<void> sync_send_fds(int sock, SyncType type, const std::vector<int>& fds) {
    if (fds.size() > sys::kMaxPassedFds) return sys::fail_invalid("sync: too many fds for one message");
    Header h{static_cast<uint32_t>(type), 0, 0};
    auto sent = sys::send_with_fds(sock, {reinterpret_cast<const char*>(&h), sizeof h}, fds);
    if (!sent)
        return sys::fail(sys::Error::from_errno(sent.error().err(),
                                                std::string("send sync message \"") + type_name(type) + "\""));
    return {};
}

sys::Result<std::pair<SyncMessage, std::vector<sys::UniqueFd>>> sync_recv_fds(int sock) {
    char buf[sizeof(Header) + kMaxText];
    std::vector<sys::UniqueFd> fds;
    auto n = sys::recv_with_fds(sock, buf, fds);
    if (!n && n.error().err() == ECONNRESET) n = sys::recv_with_fds(sock, buf, fds);  // as sync_recv
    if (!n) return sys::fail(sys::Error::from_errno(n.error().err(), "receive sync message"));
    auto m = MD_TRY(parse_message(buf, static_cast<ssize_t>(*n)));
    return std::pair{std::move(m), std::move(fds)};
}

sys::Result<std::vector<sys::UniqueFd>> sync_wait_for_fds(int sock, SyncType expected) {
    auto [m, fds] = MD_TRY(sync_recv_fds(sock));
    if (m.type == SyncType::error)
        return sys::fail(sys::Error(sys::ErrorCode::system, m.text, static_cast<int>(m.value)));
    if (m.type != expected)
        return sys::fail_invalid(std::string("sync: expected \"") + type_name(expected) + "\", got \"" + type_name(m.type) + "\"");
    return std::move(fds);
}

sys::Result<void> sync_send_fd(int sock, SyncType type, int fd) {
    return sync_send_fds(sock, type, fd >= 0 ? std::vector<int>{fd} : std::vector<int>{});
}

sys::Result<sys::UniqueFd> sync_wait_for_fd(int sock, SyncType expected) {
    auto fds = MD_TRY(sync_wait_for_fds(sock, expected));
    if (fds.empty()) return sys::UniqueFd{};
    return std::move(fds.front());
}

void sync_send_error(int fd, const sys::Error& e) {
    (void)sync_send(fd, SyncType::error, e.code() == sys::ErrorCode::system ? e.err() : 0, e.context());
}

}  // namespace mydocker::runtime
