#include "runtime/stub.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sys/files.h"

namespace mydocker::runtime {

// The stub's bytes (generated from src/stub/stub.c by cmake/embed.cmake).
extern const unsigned char kStubImage[];
extern const std::size_t kStubImageSize;

namespace {

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

void exec_stub(int stub_fd, std::vector<const char*>& argv, const std::vector<std::string>& args,
               const std::vector<std::string>& env) {
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::vector<const char*> envp;
    envp.reserve(env.size() + 1);
    for (const auto& e : env) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    // execveat, not execve of /proc/self/fd/N: the container's /proc may not be ours to use.
    ::syscall(SYS_execveat, stub_fd, "", argv.data(), envp.data(), AT_EMPTY_PATH);
}

}  // namespace

sys::Result<sys::UniqueFd> sealed_stub() {
    // MFD_EXEC: kernels with vm.memfd_noexec (6.3+) want to be told the memfd is to be run.
    int fd = ::memfd_create("mydocker-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = ::memfd_create("mydocker-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return sys::fail_errno("memfd_create for the exec stub");
    sys::UniqueFd memfd(fd);
    MD_TRY_CTX(
        sys::write_all(memfd.get(),
                       std::string_view(reinterpret_cast<const char*>(kStubImage), kStubImageSize)),
        "write the exec stub");
    constexpr int seals = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
    // F_SEAL_EXEC (6.3+) also keeps its mode from changing; older kernels refuse the bit.
    if (::fcntl(memfd.get(), F_ADD_SEALS, seals | F_SEAL_EXEC | F_SEAL_SEAL) < 0 &&
        ::fcntl(memfd.get(), F_ADD_SEALS, seals | F_SEAL_SEAL) < 0)
        return sys::fail_errno("seal the exec stub");
    return memfd;
}

void exec_through_stub(int stub_fd, const std::string& path, const std::vector<std::string>& args,
                       const std::vector<std::string>& env) {
    std::vector<const char*> argv{"E", path.c_str()};
    exec_stub(stub_fd, argv, args, env);
}

void fork_through_stub(int stub_fd, int sync_fd, bool tty, const std::string& path,
                       const std::vector<std::string>& args, const std::vector<std::string>& env) {
    std::string fd = std::to_string(sync_fd);
    std::vector<const char*> argv{"F", fd.c_str(), tty ? "t" : "-", path.c_str()};
    exec_stub(stub_fd, argv, args, env);
}

}  // namespace mydocker::runtime
