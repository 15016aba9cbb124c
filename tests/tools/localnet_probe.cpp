// localnet_probe: crafts IPv4 packets onto an interface to a chosen next-hop MAC, for tests of
// what a container can reach through its bridge (the CVE-2020-8558 class: a packet for the
// host's 127.0.0.1 sent to the bridge's MAC, which the host accepts when route_localnet=1).
// It runs inside a container (linked -static for the busybox image) and needs only NET_RAW.
//
//   localnet_probe [--timeout-ms N] IFACE NEXTHOP_MAC TARGET...
//
// TARGET is udp:IP:PORT:PAYLOAD or tcp:IP:PORT:PAYLOAD. The source is IFACE's IPv4 address.
// The targets are sent in the order given, from one CPU (the process pins itself), so the
// receiver gets them in that order: a test may send a forbidden packet, then a control one,
// and once the control one has arrived know that the forbidden one would have too.
// - udp: one datagram with PAYLOAD.
// - tcp: a SYN. A SYN-ACK that comes back (within --timeout-ms, 3000 by default, for all tcp
//   targets together) is answered with an ACK carrying PAYLOAD, which completes the handshake
//   so the listener's accept() returns. Prints "tcp IP:PORT answered" or "tcp IP:PORT silent".
// (The container's own kernel has no socket for these ports; for a SYN-ACK from 127.0.0.1 it
// drops it as a martian, for one from another address it may send a RST after ours.)
// Exit status 0 when everything was sent, 1 on an error, 2 on a usage error.

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void die(std::string_view what) {
    int saved = errno;
    std::fprintf(stderr, "localnet_probe: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
                 std::strerror(saved));
    std::exit(1);
}

[[noreturn]] void usage(std::string_view what) {
    std::fprintf(stderr,
                 "localnet_probe: %.*s\nusage: localnet_probe [--timeout-ms N] IFACE NEXTHOP_MAC "
                 "{udp|tcp}:IP:PORT:PAYLOAD...\n",
                 static_cast<int>(what.size()), what.data());
    std::exit(2);
}

struct Target {
    bool tcp = false;
    in_addr ip{};
    uint16_t port = 0;
    std::string payload;
    uint16_t sport = 0;
    uint32_t seq = 0;
    bool answered = false;
};

Target parse_target(const std::string& arg) {
    Target t;
    size_t a = arg.find(':'), b = arg.find(':', a == std::string::npos ? a : a + 1);
    size_t c = b == std::string::npos ? b : arg.find(':', b + 1);
    if (c == std::string::npos) usage("bad target \"" + arg + "\"");
    std::string proto = arg.substr(0, a), ip = arg.substr(a + 1, b - a - 1);
    std::string port = arg.substr(b + 1, c - b - 1);
    if (proto != "udp" && proto != "tcp") usage("bad protocol in \"" + arg + "\"");
    t.tcp = proto == "tcp";
    if (inet_pton(AF_INET, ip.c_str(), &t.ip) != 1) usage("bad address in \"" + arg + "\"");
    char* end = nullptr;
    unsigned long p = std::strtoul(port.c_str(), &end, 10);
    if (port.empty() || *end || p == 0 || p > 65535) usage("bad port in \"" + arg + "\"");
    t.port = static_cast<uint16_t>(p);
    t.payload = arg.substr(c + 1);
    return t;
}

bool parse_mac(const char* s, uint8_t mac[6]) {
    unsigned v[6];
    if (std::sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return false;
    for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(v[i]);
    return true;
}

uint32_t sum16(const void* data, size_t len, uint32_t sum = 0) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (; len > 1; p += 2, len -= 2) sum += static_cast<uint32_t>(p[0] << 8 | p[1]);
    if (len) sum += static_cast<uint32_t>(p[0] << 8);
    return sum;
}

uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return htons(static_cast<uint16_t>(~sum & 0xffff));
}

// An IPv4 packet of protocol PROTO around L4 (whose checksum field is at CSUM_OFF, computed
// here over the pseudo-header).
std::vector<uint8_t> ip_packet(in_addr src, in_addr dst, uint8_t proto, std::vector<uint8_t> l4,
                               size_t csum_off) {
    struct {
        in_addr src, dst;
        uint8_t zero, proto;
        uint16_t len;
    } __attribute__((packed)) pseudo{src, dst, 0, proto, htons(static_cast<uint16_t>(l4.size()))};
    uint16_t csum = fold(sum16(l4.data(), l4.size(), sum16(&pseudo, sizeof pseudo)));
    if (proto == IPPROTO_UDP && csum == 0) csum = 0xffff;
    std::memcpy(&l4[csum_off], &csum, 2);
    iphdr ip{};
    ip.version = 4;
    ip.ihl = 5;
    ip.tot_len = htons(static_cast<uint16_t>(sizeof ip + l4.size()));
    ip.id = htons(static_cast<uint16_t>(std::rand()));
    ip.frag_off = htons(IP_DF);
    ip.ttl = 64;
    ip.protocol = proto;
    ip.saddr = src.s_addr;
    ip.daddr = dst.s_addr;
    ip.check = fold(sum16(&ip, sizeof ip));
    std::vector<uint8_t> pkt(sizeof ip + l4.size());
    std::memcpy(pkt.data(), &ip, sizeof ip);
    std::memcpy(pkt.data() + sizeof ip, l4.data(), l4.size());
    return pkt;
}

std::vector<uint8_t> udp_packet(in_addr src, const Target& t) {
    std::vector<uint8_t> l4(sizeof(udphdr) + t.payload.size());
    udphdr u{};
    u.source = htons(t.sport);
    u.dest = htons(t.port);
    u.len = htons(static_cast<uint16_t>(l4.size()));
    std::memcpy(l4.data(), &u, sizeof u);
    std::memcpy(l4.data() + sizeof u, t.payload.data(), t.payload.size());
    return ip_packet(src, t.ip, IPPROTO_UDP, std::move(l4), offsetof(udphdr, check));
}

std::vector<uint8_t> tcp_packet(in_addr src, const Target& t, uint32_t seq, uint32_t ack, bool syn,
                                std::string_view payload) {
    std::vector<uint8_t> l4(sizeof(tcphdr) + payload.size());
    tcphdr h{};
    h.source = htons(t.sport);
    h.dest = htons(t.port);
    h.seq = htonl(seq);
    h.ack_seq = htonl(ack);
    h.doff = sizeof h / 4;
    h.syn = syn;
    h.ack = !syn;
    h.psh = !payload.empty();
    h.window = htons(64240);
    std::memcpy(l4.data(), &h, sizeof h);
    std::memcpy(l4.data() + sizeof h, payload.data(), payload.size());
    return ip_packet(src, t.ip, IPPROTO_TCP, std::move(l4), offsetof(tcphdr, check));
}

int64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

int main(int argc, char** argv) {
    int timeout_ms = 3000;
    int i = 1;
    if (i + 1 < argc && std::string_view(argv[i]) == "--timeout-ms") {
        timeout_ms = std::atoi(argv[i + 1]);
        if (timeout_ms <= 0 || timeout_ms > 60000) usage("--timeout-ms: 1..60000");
        i += 2;
    }
    if (argc - i < 3) usage("missing arguments");
    const char* iface = argv[i];
    uint8_t mac[6];
    if (!parse_mac(argv[i + 1], mac)) usage(std::string("bad MAC \"") + argv[i + 1] + "\"");
    std::vector<Target> targets;
    for (int j = i + 2; j < argc; ++j) targets.push_back(parse_target(argv[j]));

    // One CPU: packets sent one after another are queued on the same CPU's backlog, and
    // handled by the receiver in that order.
    cpu_set_t one;
    CPU_ZERO(&one);
    int cpu = sched_getcpu();
    CPU_SET(cpu < 0 ? 0 : cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) die("sched_setaffinity");

    unsigned ifindex = if_nametoindex(iface);
    if (ifindex == 0) die(std::string("interface \"") + iface + "\"");
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
    if (fd < 0) die("socket(AF_PACKET)");
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", iface);
    if (ioctl(fd, SIOCGIFADDR, &ifr) != 0) die(std::string("the IPv4 address of ") + iface);
    in_addr src = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr)->sin_addr;
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = static_cast<int>(ifindex);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) die("bind(AF_PACKET)");
    ll.sll_halen = 6;
    std::memcpy(ll.sll_addr, mac, 6);
    auto send = [&](const std::vector<uint8_t>& pkt) {
        if (sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&ll), sizeof ll) < 0)
            die("sendto");
    };

    std::srand(static_cast<unsigned>(getpid() ^ now_ms()));
    size_t pending = 0;
    for (size_t j = 0; j < targets.size(); ++j) {
        Target& t = targets[j];
        t.sport = static_cast<uint16_t>(40000 + (std::rand() % 20000));
        t.seq = static_cast<uint32_t>(std::rand());
        if (t.tcp) {
            send(tcp_packet(src, t, t.seq, 0, true, ""));
            ++pending;
        } else {
            send(udp_packet(src, t));
        }
    }

    int64_t deadline = now_ms() + timeout_ms;
    std::vector<uint8_t> buf(65536);
    while (pending > 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0) break;
        pollfd p{fd, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) die("poll");
        if (n == 0) break;
        sockaddr_ll from{};
        socklen_t fl = sizeof from;
        ssize_t len =
            recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (len < 0) die("recvfrom");
        if (from.sll_pkttype == PACKET_OUTGOING || static_cast<size_t>(len) < sizeof(iphdr))
            continue;
        iphdr ip{};
        std::memcpy(&ip, buf.data(), sizeof ip);
        size_t ihl = ip.ihl * 4u;
        if (ip.protocol != IPPROTO_TCP || ip.daddr != src.s_addr ||
            static_cast<size_t>(len) < ihl + sizeof(tcphdr))
            continue;
        tcphdr h{};
        std::memcpy(&h, buf.data() + ihl, sizeof h);
        for (Target& t : targets) {
            if (!t.tcp || t.answered || ip.saddr != t.ip.s_addr || ntohs(h.source) != t.port ||
                ntohs(h.dest) != t.sport || !h.syn || !h.ack || ntohl(h.ack_seq) != t.seq + 1)
                continue;
            send(tcp_packet(src, t, t.seq + 1, ntohl(h.seq) + 1, false, t.payload));
            t.answered = true;
            --pending;
        }
    }
    for (const Target& t : targets) {
        if (!t.tcp) continue;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &t.ip, ip, sizeof ip);
        std::printf("tcp %s:%u %s\n", ip, t.port, t.answered ? "answered" : "silent");
    }
    return 0;
}
