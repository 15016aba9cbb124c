// keyring_probe: the two sides of the session keyring test (static: it runs in busybox).
//   keyring_probe add DATA FILE CMD...  join a new session keyring, add a "user" key holding
//                                       DATA to it, write the key's serial to FILE, then exec
//                                       CMD (which inherits that keyring)
//   keyring_probe read FILE             print the payload of the key whose serial FILE holds
//                                       ("read: DATA"), or why it could not ("read failed")
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
constexpr long kJoinSession = 1, kRead = 11;
constexpr long kSpecSession = -3;
}  // namespace

int main(int argc, char** argv) {
    if (argc >= 5 && std::strcmp(argv[1], "add") == 0) {
        if (syscall(SYS_keyctl, kJoinSession, nullptr) < 0)
            return perror("join session keyring"), 1;
        long key = syscall(SYS_add_key, "user", "mydocker-test-secret", argv[2],
                           std::strlen(argv[2]), kSpecSession);
        if (key < 0) return perror("add_key"), 1;
        FILE* f = std::fopen(argv[3], "w");
        if (!f) return perror(argv[3]), 1;
        std::fprintf(f, "%ld\n", key);
        std::fclose(f);
        execvp(argv[4], argv + 4);
        return perror("exec"), 127;
    }
    if (argc == 3 && std::strcmp(argv[1], "read") == 0) {
        long serial = 0;
        FILE* f = std::fopen(argv[2], "r");
        if (!f || std::fscanf(f, "%ld", &serial) != 1)
            return std::printf("read failed: no serial in %s\n", argv[2]), 1;
        std::fclose(f);
        char buf[256];
        long n = syscall(SYS_keyctl, kRead, serial, buf, sizeof buf - 1);
        if (n < 0) return std::printf("read failed: %s\n", std::strerror(errno)), 1;
        buf[n < static_cast<long>(sizeof buf) ? n : sizeof buf - 1] = '\0';
        std::printf("read: %s\n", buf);
        return 0;
    }
    std::fprintf(stderr, "usage: keyring_probe add DATA FILE CMD... | read FILE\n");
    return 2;
}
