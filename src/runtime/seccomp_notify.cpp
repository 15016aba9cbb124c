// seccomp user notification: the parent's half. Init loads the filter and hands the listener
// fd over the sync socket (sync.h); the parent passes it on to the agent at listenerPath.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "runtime/seccomp.h"
#include "sys/files.h"
#include "sys/unix_socket.h"
#include "sys/json_text.h"

namespace mydocker::runtime {

std::string container_process_state_json(pid_t pid, const std::string& metadata,
                                         const std::string& state_json) {
    using OJson = nlohmann::ordered_json;
    // runtime-spec config-linux.md "The Container Process State": the fd names, in the order
    // of the SCM_RIGHTS array, the pid of the process the filter belongs to, the opaque
    // listenerMetadata and the container's state.
    OJson state = OJson::parse(state_json, nullptr, false);
    OJson doc = {
        {"ociVersion",
         state.is_object() && state.contains("ociVersion") ? state["ociVersion"] : OJson("1.2.0")},
        {"fds", {"seccompFd"}},
        {"pid", pid},
        {"metadata", metadata},
        {"state", state.is_discarded() ? OJson::object() : state},
    };
    return sys::json_text(doc);
}

sys::Result<void> send_seccomp_listener(const std::string& listener_path,
                                        const std::string& process_state, int listener_fd) {
    const std::string what = "linux.seccomp.listenerPath: ";
    // The spec asks for SOCK_STREAM and one state per connection, closed after sending.
    int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return sys::fail_errno(what + "socket");
    sys::UniqueFd sock(s);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (listener_path.size() >= sizeof addr.sun_path)
        return sys::fail_invalid(what + "\"" + listener_path + "\" is too long for a unix socket");
    std::memcpy(addr.sun_path, listener_path.c_str(), listener_path.size());
    if (MD_RETRY(::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr)) < 0)
        return sys::fail_errno(what + "connect to seccomp agent \"" + listener_path + "\"");

    // The fd rides on the first byte; the rest of the state follows on the stream.
    auto first = sys::send_with_fds(sock.get(), process_state, {&listener_fd, 1});
    if (!first)
        return sys::fail(sys::Error::from_errno(first.error().err(), what + "send the seccomp listener to \"" + listener_path + "\""));
    ssize_t n = 0;
    size_t sent = *first;
    while (sent < process_state.size()) {
        n = MD_RETRY(::send(sock.get(), process_state.data() + sent, process_state.size() - sent,
                            MSG_NOSIGNAL));
        if (n < 0)
            return sys::fail_errno(what + "send the container state to \"" + listener_path + "\"");
        sent += static_cast<size_t>(n);
    }
    return {};
}

}  // namespace mydocker::runtime
