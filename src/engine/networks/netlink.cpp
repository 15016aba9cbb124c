#include "engine/networks/netlink.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <linux/magic.h>

#include "sys/files.h"

namespace mydocker::engine::networks {

namespace {

// A netlink message under construction: header, family struct, then attributes (nests are
// patched with their length when closed).
class Msg {
public:
    Msg(uint16_t type, uint16_t flags) {
        buf_.resize(NLMSG_HDRLEN);
        hdr()->nlmsg_type = type;
        hdr()->nlmsg_flags = static_cast<uint16_t>(flags | NLM_F_REQUEST | NLM_F_ACK);
        hdr()->nlmsg_len = static_cast<uint32_t>(buf_.size());
    }
    template <typename T>
    T* put_struct(const T& v) {
        size_t at = append(&v, sizeof v);
        return reinterpret_cast<T*>(buf_.data() + at);
    }
    void attr(uint16_t type, const void* data, size_t len) {
        rtattr a{};
        a.rta_type = type;
        a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
        append(&a, sizeof a, false);
        append(data, len);
    }
    void attr_str(uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
    void attr_u32(uint16_t type, uint32_t v) { attr(type, &v, sizeof v); }
    void attr_ip(uint16_t type, Ipv4 ip) {
        uint32_t be = htobe32(ip.value);
        attr(type, &be, sizeof be);
    }
    size_t nest_begin(uint16_t type) {
        size_t at = buf_.size();
        rtattr a{};
        a.rta_type = type;
        append(&a, sizeof a, false);
        return at;
    }
    void nest_end(size_t at) {
        auto* a = reinterpret_cast<rtattr*>(buf_.data() + at);
        a->rta_len = static_cast<unsigned short>(buf_.size() - at);
    }
    std::vector<char>& bytes() { return buf_; }

private:
    nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
    size_t append(const void* p, size_t n, bool pad = true) {
        size_t at = buf_.size();
        buf_.insert(buf_.end(), static_cast<const char*>(p), static_cast<const char*>(p) + n);
        if (pad) buf_.resize(NLMSG_ALIGN(buf_.size()), 0);
        hdr()->nlmsg_len = static_cast<uint32_t>(buf_.size());
        return at;
    }
    std::vector<char> buf_;
};

sys::Result<sys::UniqueFd> route_socket() {
    sys::UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid()) return sys::fail_errno("netlink socket");
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) return sys::fail_errno("bind netlink socket");
    int one = 1;
    // Errors carry the kernel's extended message where it has one.
    (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
    return fd;
}

bool parse_mac(const std::string& s, unsigned char out[6]) {
    unsigned v[6];
    if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return false;
    for (int i = 0; i < 6; ++i) out[i] = static_cast<unsigned char>(v[i]);
    return true;
}


// The messages of one datagram, without the NLMSG_OK/NEXT macros (they mix signed and
// unsigned lengths). `fn` returns false to stop.
template <typename Fn>
void each_message(const char* buf, ssize_t n, Fn fn) {
    size_t off = 0, total = static_cast<size_t>(n);
    while (off + sizeof(nlmsghdr) <= total) {
        const auto* r = reinterpret_cast<const nlmsghdr*>(buf + off);
        if (r->nlmsg_len < sizeof(nlmsghdr) || off + r->nlmsg_len > total) break;
        if (!fn(r)) break;
        off += NLMSG_ALIGN(r->nlmsg_len);
    }
}

}  // namespace

sys::Result<Netlink> Netlink::open() { return Netlink(MD_TRY(route_socket())); }

sys::Result<Netlink> Netlink::open_in(int netns_fd) {
    auto self = MD_TRY(sys::open_file("/proc/self/ns/net", O_RDONLY));
    if (::setns(netns_fd, CLONE_NEWNET) < 0) return sys::fail_errno("enter the container's network namespace");
    auto fd = route_socket();
    // Back to our own namespace whatever happened: the rest of this process works there.
    if (::setns(self.get(), CLONE_NEWNET) < 0) return sys::fail_errno("return to our network namespace");
    if (!fd) return sys::fail(std::move(fd.error()));
    return Netlink(std::move(*fd));
}

sys::Result<void> Netlink::request(std::vector<char>& msg, const std::string& what) {
    auto* h = reinterpret_cast<nlmsghdr*>(msg.data());
    h->nlmsg_seq = seq_++;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (MD_RETRY(::sendto(fd_.get(), msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel)) < 0)
        return sys::fail_errno(what + ": netlink send");
    char buf[8192];
    for (;;) {
        ssize_t n = MD_RETRY(::recv(fd_.get(), buf, sizeof buf, 0));
        if (n < 0) return sys::fail_errno(what + ": netlink receive");
        int err = -1;
        each_message(buf, n, [&](const nlmsghdr* r) {
            if (r->nlmsg_seq != h->nlmsg_seq || r->nlmsg_type != NLMSG_ERROR) return true;
            err = -static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
            return false;
        });
        if (err == 0) return {};
        if (err > 0) return sys::fail(sys::Error::from_errno(err, what));
    }
}

sys::Result<int> Netlink::link_index(const std::string& name) {
    if (name.size() >= IFNAMSIZ) return sys::fail_invalid("interface name \"" + name + "\" is too long");
    // if_nametoindex goes through an ioctl on a socket of our namespace; ours may be another
    // one, so ask this socket's namespace with RTM_GETLINK.
    Msg m(RTM_GETLINK, 0);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    m.put_struct(ifi);
    m.attr_str(IFLA_IFNAME, name);
    auto& msg = m.bytes();
    auto* h = reinterpret_cast<nlmsghdr*>(msg.data());
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = seq_++;
    if (MD_RETRY(::send(fd_.get(), msg.data(), msg.size(), 0)) < 0) return sys::fail_errno("get link \"" + name + "\"");
    char buf[16384];
    ssize_t n = MD_RETRY(::recv(fd_.get(), buf, sizeof buf, 0));
    if (n < 0) return sys::fail_errno("get link \"" + name + "\"");
    int index = 0, err = 0;
    each_message(buf, n, [&](const nlmsghdr* r) {
        if (r->nlmsg_type == NLMSG_ERROR) err = -static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
        else if (r->nlmsg_type == RTM_NEWLINK) index = static_cast<const ifinfomsg*>(NLMSG_DATA(r))->ifi_index;
        return false;
    });
    if (index > 0) return index;
    if (err != 0 && err != ENODEV) return sys::fail(sys::Error::from_errno(err, "get link \"" + name + "\""));
    return sys::fail(sys::Error::not_found("no such network interface \"" + name + "\""));
}

namespace {

// An RTM_*LINK request for link `index` (0: named by IFLA_IFNAME), setting `flags`.
Msg link_msg(uint16_t type, uint16_t nl_flags, int index, unsigned flags) {
    Msg m(type, nl_flags);
    ifinfomsg ifi{};
    ifi.ifi_family = AF_UNSPEC;
    ifi.ifi_index = index;
    ifi.ifi_flags = flags;
    ifi.ifi_change = flags;
    m.put_struct(ifi);
    return m;
}

}  // namespace

sys::Result<void> Netlink::add_bridge(const std::string& name) {
    Msg m = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, IFF_UP);
    m.attr_str(IFLA_IFNAME, name);
    size_t li = m.nest_begin(IFLA_LINKINFO);
    m.attr_str(IFLA_INFO_KIND, "bridge");
    m.nest_end(li);
    return request(m.bytes(), "create bridge \"" + name + "\"");
}

sys::Result<void> Netlink::add_veth(const std::string& host_name, int master, const std::string& peer_name,
                                    int peer_netns_fd, const std::string& peer_mac) {
    Msg m = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, IFF_UP);
    m.attr_str(IFLA_IFNAME, host_name);
    m.attr_u32(IFLA_MASTER, static_cast<uint32_t>(master));
    size_t li = m.nest_begin(IFLA_LINKINFO);
    m.attr_str(IFLA_INFO_KIND, "veth");
    size_t data = m.nest_begin(IFLA_INFO_DATA);
    size_t peer = m.nest_begin(VETH_INFO_PEER);
    ifinfomsg pifi{};
    pifi.ifi_family = AF_UNSPEC;
    m.put_struct(pifi);
    m.attr_str(IFLA_IFNAME, peer_name);
    m.attr_u32(IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
    unsigned char mac[6];
    if (parse_mac(peer_mac, mac)) m.attr(IFLA_ADDRESS, mac, sizeof mac);
    m.nest_end(peer);
    m.nest_end(data);
    m.nest_end(li);
    return request(m.bytes(), "create veth pair \"" + host_name + "\" / \"" + peer_name + "\"");
}


sys::Result<void> Netlink::delete_link(const std::string& name) {
    Msg m = link_msg(RTM_DELLINK, 0, 0, 0);
    m.attr_str(IFLA_IFNAME, name);
    auto r = request(m.bytes(), "delete link \"" + name + "\"");
    if (!r && r.error().err() == ENODEV) return sys::fail(sys::Error::not_found("no such network interface \"" + name + "\""));
    return r;
}

sys::Result<void> Netlink::set_up(int index) {
    Msg m = link_msg(RTM_NEWLINK, 0, index, IFF_UP);
    return request(m.bytes(), "set link " + std::to_string(index) + " up");
}

sys::Result<void> Netlink::add_address(int index, Ipv4 ip, const Subnet& subnet) {
    Msg m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = static_cast<unsigned char>(subnet.prefix);
    ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    ifa.ifa_index = static_cast<unsigned>(index);
    m.put_struct(ifa);
    m.attr_ip(IFA_LOCAL, ip);
    m.attr_ip(IFA_ADDRESS, ip);
    m.attr_ip(IFA_BROADCAST, subnet.broadcast());
    return request(m.bytes(), "add address " + ip.str() + "/" + std::to_string(subnet.prefix));
}

sys::Result<void> Netlink::add_default_route(Ipv4 gateway) {
    Msg m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    rtmsg rt{};
    rt.rtm_family = AF_INET;
    rt.rtm_table = RT_TABLE_MAIN;
    rt.rtm_protocol = RTPROT_BOOT;
    rt.rtm_scope = RT_SCOPE_UNIVERSE;
    rt.rtm_type = RTN_UNICAST;
    m.put_struct(rt);
    m.attr_ip(RTA_GATEWAY, gateway);
    return request(m.bytes(), "add default route via " + gateway.str());
}

sys::Result<std::vector<Route>> Netlink::routes() {
    Msg m(RTM_GETROUTE, NLM_F_DUMP);
    rtmsg rt{};
    rt.rtm_family = AF_INET;
    m.put_struct(rt);
    auto& msg = m.bytes();
    auto* h = reinterpret_cast<nlmsghdr*>(msg.data());
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    h->nlmsg_seq = seq_++;
    if (MD_RETRY(::send(fd_.get(), msg.data(), msg.size(), 0)) < 0) return sys::fail_errno("list routes");
    std::vector<Route> out;
    std::vector<char> buf(32768);
    for (;;) {
        ssize_t n = MD_RETRY(::recv(fd_.get(), buf.data(), buf.size(), 0));
        if (n < 0) return sys::fail_errno("list routes");
        bool done = false;
        int err = 0;
        each_message(buf.data(), n, [&](const nlmsghdr* r) {
            if (r->nlmsg_type == NLMSG_DONE) {
                done = true;
                return false;
            }
            if (r->nlmsg_type == NLMSG_ERROR) {
                err = -static_cast<const nlmsgerr*>(NLMSG_DATA(r))->error;
                done = true;
                return false;
            }
            if (r->nlmsg_type != RTM_NEWROUTE) return true;
            const auto* rm = static_cast<const rtmsg*>(NLMSG_DATA(r));
            if (rm->rtm_family != AF_INET || rm->rtm_dst_len == 0 || rm->rtm_type != RTN_UNICAST) return true;
            Route route;
            route.dst.prefix = rm->rtm_dst_len;
            uint32_t table = rm->rtm_table;
            size_t off = NLMSG_LENGTH(sizeof(rtmsg));
            while (off + sizeof(rtattr) <= r->nlmsg_len) {
                const auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(r) + off);
                if (a->rta_len < sizeof(rtattr) || off + a->rta_len > r->nlmsg_len) break;
                const void* data = reinterpret_cast<const char*>(a) + RTA_LENGTH(0);
                size_t len = a->rta_len - RTA_LENGTH(0);
                if (a->rta_type == RTA_DST && len == 4) {
                    uint32_t be;
                    std::memcpy(&be, data, 4);
                    route.dst.network.value = be32toh(be);
                } else if (a->rta_type == RTA_OIF && len == 4) {
                    std::memcpy(&route.oif, data, 4);
                } else if (a->rta_type == RTA_TABLE && len == 4) {
                    std::memcpy(&table, data, 4);
                }
                off += RTA_ALIGN(a->rta_len);
            }
            if (table == RT_TABLE_MAIN) out.push_back(route);
            return true;
        });
        if (err != 0) return sys::fail(sys::Error::from_errno(err, "list routes"));
        if (done) return out;
    }
}

namespace {

sys::Result<void> write_proc_sys(const std::string& path, const std::string& value) {
    // Written only on the real procfs (the same check the runtime makes for sysctls).
    struct statfs fs;
    if (::statfs("/proc/sys", &fs) < 0) return sys::fail_errno("statfs \"/proc/sys\"");
    if (fs.f_type != PROC_SUPER_MAGIC) return sys::fail_invalid("\"/proc/sys\" is not procfs: refusing to write " + path);
    return sys::write_existing(path, value);
}

}  // namespace

sys::Result<void> set_interface_sysctl(const std::string& ifname, const std::string& key, const std::string& value) {
    return write_proc_sys("/proc/sys/net/ipv4/conf/" + ifname + "/" + key, value);
}

sys::Result<void> enable_ip_forward() {
    auto cur = sys::read_file("/proc/sys/net/ipv4/ip_forward");
    if (cur && !cur->empty() && (*cur)[0] == '1') return {};
    return write_proc_sys("/proc/sys/net/ipv4/ip_forward", "1");
}

}  // namespace mydocker::engine::networks
