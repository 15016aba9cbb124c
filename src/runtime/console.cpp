#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "runtime/console.h"
#include "runtime/init.h"
#include "sys/files.h"
#include "sys/unix_socket.h"

namespace mydocker::runtime {

namespace {

sys::Result<void> send_fd(int sock, int fd, const std::string& name) {
    auto sent = sys::send_with_fds(sock, name, {&fd, 1});
    if (!sent) return sys::fail(sys::Error::from_errno(sent.error().err(), "send pty master to console socket"));
    return {};
}

/// Bind the pty `slave` onto /dev/console. In a /dev of the rootfs (no tmpfs at /dev)
/// /dev/console is the image's: a link there would carry the bind onto a file of the image's
/// choosing, ahead of the masked and read-only paths (CVE-2025-52565), so a link is refused
/// and the bind goes from fd to fd, with no lookup through the container's /proc either.
sys::Result<void> bind_console(int slave) {
    int f = ::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f >= 0) ::close(f);
    auto target = MD_TRY(sys::open_file("/dev/console", O_PATH | O_NOFOLLOW));
    struct stat st;
    if (::fstat(target.get(), &st) < 0) return sys::fail_errno("stat \"/dev/console\"");
    if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode))
        return sys::fail(sys::Error::invalid("\"/dev/console\" in the container is not a file or a device"));
    int tree = ::open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree >= 0) {
        sys::UniqueFd t(tree);
        if (::move_mount(t.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
            return sys::fail_errno("bind pty onto \"/dev/console\"");
        return {};
    }
    // No open_tree (before 5.2): through /proc/self/fd, the target still the checked file.
    if (::mount(("/proc/self/fd/" + std::to_string(slave)).c_str(),
                ("/proc/self/fd/" + std::to_string(target.get())).c_str(), nullptr, MS_BIND, nullptr) < 0)
        return sys::fail_errno("bind pty onto \"/dev/console\"");
    return {};
}

}  // namespace

sys::Result<void> setup_console(int console_sock, const std::optional<ConsoleSize>& size, bool console,
                                bool controlling) {
    auto master = MD_TRY(sys::open_file("/dev/ptmx", O_RDWR | O_NOCTTY));
    int unlock = 0;
    if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) return sys::fail_errno("unlock pty");
    unsigned ptn = 0;
    if (::ioctl(master.get(), TIOCGPTN, &ptn) < 0) return sys::fail_errno("get pty number");
    std::string slave_path = "/dev/pts/" + std::to_string(ptn);
    // TIOCGPTPEER opens the slave through the master: no path lookup an attacker could race.
    int s = ::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    sys::UniqueFd slave(s >= 0 ? s : -1);
    if (!slave) slave = MD_TRY(sys::open_file(slave_path, O_RDWR | O_NOCTTY));
    if (size && size->height && size->width) {
        struct winsize ws = {};
        ws.ws_row = static_cast<unsigned short>(size->height);
        ws.ws_col = static_cast<unsigned short>(size->width);
        ::ioctl(slave.get(), TIOCSWINSZ, &ws);
    }
    MD_TRY(send_fd(console_sock, master.get(), slave_path));
    master.reset();
    if (console) MD_TRY(bind_console(slave.get()));
    if (controlling && ::ioctl(slave.get(), TIOCSCTTY, 0) < 0) return sys::fail_errno("set controlling terminal");
    for (int i = 0; i < 3; ++i)
        if (::dup2(slave.get(), i) < 0) return sys::fail_errno("dup pty onto stdio");
    return {};
}

sys::Result<sys::UniqueFd> connect_console_socket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return sys::fail_errno("socket");
    sys::UniqueFd sock(fd);
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return sys::fail_invalid("console socket path \"" + path + "\" is too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    if (MD_RETRY(::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr)) < 0)
        return sys::fail_errno("connect to console socket \"" + path + "\"");
    return sock;
}

sys::Result<sys::UniqueFd> receive_fd(int sock) {
    char data[256];
    std::vector<sys::UniqueFd> fds;
    auto n = sys::recv_with_fds(sock, data, fds);
    if (!n) return sys::fail(sys::Error::from_errno(n.error().err(), "receive pty master"));
    if (fds.empty()) return sys::fail_invalid("no pty master received from the container");
    return std::move(fds.front());
}

}  // namespace mydocker::runtime
