// The network store: records, bridges, leases, veths, published ports and the nft table.
// One flock (<root>/networks/lock) serialises every change, so 50 `run -d` at once see one
// consistent lease table; each network's leases live in their own locked file besides.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/networks/files.h"
#include "engine/networks/netlink.h"
#include "engine/networks/networks.h"
#include "engine/networks/nft.h"
#include "sys/cleanup.h"
#include "sys/clock.h"
#include "sys/files.h"
#include "sys/random.h"
#include "sys/proc.h"
#include "sys/strings.h"
#include "sys/json_text.h"

namespace mydocker::engine::networks {

using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kDefaultRoot = "/var/lib/mydocker";

// FNV-1a: a stable short tag of a --root path for the names of host-global objects.
std::string root_tag(const std::string& root) {
    uint32_t h = 2166136261u;
    for (unsigned char c : root) h = (h ^ c) * 16777619u;
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", h);
    return buf;
}

bool valid_network_name(const std::string& name) {
    if (name.empty() || name.size() > 128) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
    if (!alnum(name[0])) return false;
    return std::all_of(name.begin(), name.end(), [&](char c) { return alnum(c) || c == '_' || c == '.' || c == '-'; });
}

sys::Result<Network> from_json(const std::string& text) {
    try {
        Json j = Json::parse(text);
        Network n;
        n.name = j.at("Name").get<std::string>();
        n.id = j.at("Id").get<std::string>();
        n.created = j.value("Created", "");
        n.driver = j.value("Driver", "bridge");
        n.internal = j.value("Internal", false);
        const Json& cfg = j.at("IPAM").at("Config");
        if (!cfg.empty()) {
            n.subnet = MD_TRY(parse_subnet(cfg[0].at("Subnet").get<std::string>()));
            n.gateway = MD_TRY(parse_ipv4(cfg[0].at("Gateway").get<std::string>()));
        }
        if (j.contains("Options") && j["Options"].contains("com.docker.network.bridge.name"))
            n.bridge = j["Options"]["com.docker.network.bridge.name"].get<std::string>();
        if (j.contains("Labels"))
            for (auto& [k, v] : j["Labels"].items()) n.labels[k] = v.get<std::string>();
        return n;
    } catch (const std::exception& e) {
        return sys::fail_invalid(std::string("network record: ") + e.what());
    }
}

bool lease_alive(const Lease& l) { return l.pid > 0 && sys::process_alive(l.pid, l.start); }

// A network's lease file, read and written under its own lock.
class Leases {
public:
    static sys::Result<Leases> open(const std::string& dir, const Network& n) {
        Leases l(dir, n);
        MD_TRY(sys::mkdir_all(dir, 0700));
        l.lock_ = MD_TRY(sys::FileLock::acquire(sys::path_join(dir, "leases.lock")));
        std::string path = sys::path_join(dir, "leases.json");
        if (sys::path_exists(path)) {
            auto text = MD_TRY(sys::read_file(path));
            MD_TRY_CTX(leases_from_json(text, l.table_), "network " + n.name);
        }
        return l;
    }
    LeaseTable& table() { return table_; }
    sys::Result<void> save() {
        return sys::write_file_atomic(sys::path_join(dir_, "leases.json"), leases_to_json(table_), 0600);
    }

private:
    Leases(const std::string& dir, const Network& n)
        : dir_(dir), table_(n.subnet.value_or(Subnet{}), n.gateway) {}
    std::string dir_;
    LeaseTable table_;
    sys::FileLock lock_;
};

// Published ports of live containers: <root>/networks/ports.json.
struct PortEntry {
    std::string container;
    pid_t pid = 0;
    uint64_t start = 0;
    PortRule rule;
};

sys::Result<std::vector<PortEntry>> load_ports(const std::string& path) {
    std::vector<PortEntry> out;
    if (!sys::path_exists(path)) return out;
    auto text = MD_TRY(sys::read_file(path));
    try {
        for (const auto& e : Json::parse(text)) {
            PortEntry p;
            p.container = e.at("container").get<std::string>();
            p.pid = e.value("pid", 0);
            p.start = e.value("start", uint64_t{0});
            p.rule.proto = e.value("proto", "tcp");
            p.rule.host_ip = e.value("host_ip", "");
            p.rule.host_port = e.value("host_port", uint16_t{0});
            p.rule.container_ip = MD_TRY(parse_ipv4(e.at("container_ip").get<std::string>()));
            p.rule.container_port = e.value("container_port", uint16_t{0});
            out.push_back(std::move(p));
        }
    } catch (const std::exception& e) {
        return sys::fail_invalid("\"" + path + "\": " + e.what());
    }
    return out;
}

sys::Result<void> save_ports(const std::string& path, const std::vector<PortEntry>& ports) {
    Json a = Json::array();
    for (const auto& p : ports)
        a.push_back({{"container", p.container},
                     {"pid", p.pid},
                     {"start", p.start},
                     {"proto", p.rule.proto},
                     {"host_ip", p.rule.host_ip},
                     {"host_port", p.rule.host_port},
                     {"container_ip", p.rule.container_ip.str()},
                     {"container_port", p.rule.container_port}});
    return sys::write_file_atomic(path, sys::json_text(a, 2), 0600);
}

bool any_ip(const std::string& ip) { return ip.empty() || ip == "0.0.0.0"; }

// Is HOST_IP:PORT/PROTO free on the host? A bind(2) probe; port 0 asks the kernel for a free
// one, which is returned.
sys::Result<uint16_t> probe_port(const PortBinding& b) {
    int type = b.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    sys::UniqueFd s(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
    if (!s.valid()) return sys::fail_errno("socket");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(b.host_port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (!any_ip(b.host_ip) && ::inet_pton(AF_INET, b.host_ip.c_str(), &sa.sin_addr) != 1)
        return sys::fail_invalid("-p: invalid host IP \"" + b.host_ip + "\"");
    std::string where = (any_ip(b.host_ip) ? "0.0.0.0" : b.host_ip) + ":" + std::to_string(b.host_port);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        if (errno == EADDRINUSE) return sys::fail(sys::Error::exists("Bind for " + where + " failed: port is already allocated"));
        if (errno == EADDRNOTAVAIL) return sys::fail_invalid("-p: " + b.host_ip + " is not an address of this host");
        return sys::fail_errno("bind " + where);
    }
    socklen_t len = sizeof sa;
    if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&sa), &len) < 0) return sys::fail_errno("getsockname");
    return ntohs(sa.sin_port);
}

sys::Result<uint16_t> parse_port(const std::string& s, const std::string& flag, const std::string& whole) {
    if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return sys::fail_invalid(flag + " \"" + whole + "\": invalid port \"" + s + "\"");
    unsigned long v = std::stoul(s);
    if (v == 0 || v > 65535) return sys::fail_invalid(flag + " \"" + whole + "\": port " + s + " is out of range 1-65535");
    return static_cast<uint16_t>(v);
}

}  // namespace

std::string to_json(const Network& n) {
    Json ipam = Json::array();
    if (n.subnet) ipam.push_back({{"Subnet", n.subnet->str()}, {"Gateway", n.gateway.str()}});
    Json labels = Json::object();
    for (const auto& [k, v] : n.labels) labels[k] = v;
    Json j = {{"Name", n.name},
              {"Id", n.id},
              {"Created", n.created},
              {"Scope", "local"},
              {"Driver", n.driver},
              {"EnableIPv6", false},
              {"IPAM", {{"Driver", "default"}, {"Options", Json::object()}, {"Config", ipam}}},
              {"Internal", n.internal},
              {"Options", n.bridge.empty() ? Json::object() : Json{{"com.docker.network.bridge.name", n.bridge}}},
              {"Labels", labels}};
    return sys::json_text(j, 4);
}

bool predefined(const std::string& name) { return name == "bridge" || name == "host" || name == "none"; }

sys::Result<PortBinding> parse_publish(const std::string& s) {
    PortBinding b;
    std::string rest = s;
    size_t slash = rest.rfind('/');
    if (slash != std::string::npos) {
        b.proto = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (b.proto != "tcp" && b.proto != "udp")
            return sys::fail_invalid("-p, --publish \"" + s + "\": unknown protocol \"" + b.proto + "\" (tcp or udp)");
    }
    std::vector<std::string> parts = sys::split(rest, ':');
    if (parts.size() > 3 || parts.back().empty())
        return sys::fail_invalid("-p, --publish \"" + s + "\": expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]");
    if (parts.back().find('-') != std::string::npos)
        return sys::fail_invalid("-p, --publish \"" + s + "\": port ranges are not supported");
    b.container_port = MD_TRY(parse_port(parts.back(), "-p, --publish", s));
    if (parts.size() >= 2 && !parts[parts.size() - 2].empty())
        b.host_port = MD_TRY(parse_port(parts[parts.size() - 2], "-p, --publish", s));
    if (parts.size() == 3) {
        b.host_ip = parts[0];
        if (!b.host_ip.empty() && !parse_ipv4(b.host_ip))
            return sys::fail_invalid("-p, --publish \"" + s + "\": invalid host IP \"" + b.host_ip + "\"");
    }
    return b;
}

sys::Result<PortBinding> parse_exposed(const std::string& s) {
    PortBinding b;
    size_t slash = s.find('/');
    b.proto = slash == std::string::npos ? "tcp" : s.substr(slash + 1);
    if (b.proto != "tcp" && b.proto != "udp") return sys::fail_invalid("exposed port \"" + s + "\": unknown protocol");
    b.container_port = MD_TRY(parse_port(s.substr(0, slash), "exposed port", s));
    return b;
}

Store::Store(const Context& ctx) : ctx_(ctx), dir_(ctx.networks_dir()) {
    if (ctx.root == kDefaultRoot) {
        table_ = "mydocker";
        default_bridge_ = "mydocker0";
    } else {
        std::string tag = root_tag(ctx.root);
        table_ = "mydocker_" + tag;
        default_bridge_ = "mydocker" + tag.substr(0, 6);
    }
}

std::string Store::dir_of(const std::string& id) const { return sys::path_join(dir_, id); }
std::string Store::leases_dir(const std::string& id) const {
    return sys::path_join(ctx_.leases_dir(), id);
}

sys::Result<sys::FileLock> Store::lock() {
    MD_TRY(sys::mkdir_all(dir_, 0700));
    return sys::FileLock::acquire(sys::path_join(dir_, "lock"));
}

sys::Result<std::vector<Network>> Store::load_all() {
    std::vector<Network> out;
    if (!sys::path_exists(dir_)) return out;
    for (const auto& e : MD_TRY(sys::list_dir(dir_))) {
        if (e.size() != 64) continue;
        auto text = sys::read_file(sys::path_join(dir_of(e), "network.json"));
        if (!text) continue;
        auto n = from_json(*text);
        if (!n) {
            ctx_.log.warn("skip network " + e + ": " + n.error().message());
            continue;
        }
        out.push_back(std::move(*n));
    }
    return out;
}

sys::Result<void> Store::save(const Network& n) {
    MD_TRY(sys::mkdir_all(dir_of(n.id), 0700));
    return sys::write_file_atomic(sys::path_join(dir_of(n.id), "network.json"), to_json(n), 0600);
}

sys::Result<Network> Store::ensure_predefined(const std::string& name) {
    for (auto& n : MD_TRY(load_all()))
        if (n.name == name) return n;
    Network n;
    n.id = sys::random_hex(64);
    n.name = name;
    n.created = sys::now_rfc3339();
    n.driver = name == "bridge" ? "bridge" : name == "host" ? "host" : "null";
    if (name == "bridge") n.bridge = default_bridge_;
    MD_TRY(save(n));
    return n;
}

sys::Result<Network> Store::find(const std::string& ref) {
    if (predefined(ref)) return ensure_predefined(ref);
    auto all = MD_TRY(load_all());
    for (auto& n : all)
        if (n.name == ref || n.id == ref) return n;
    std::vector<Network*> hits;
    for (auto& n : all)
        if (ref.size() >= 1 && n.id.compare(0, ref.size(), ref) == 0) hits.push_back(&n);
    if (hits.size() == 1) return *hits[0];
    if (hits.size() > 1) return sys::fail_invalid("network id prefix \"" + ref + "\" matches more than one network");
    return sys::fail(sys::Error::not_found("network " + ref + " not found"));
}

sys::Result<std::vector<Subnet>> Store::taken_subnets(const std::string& except_id) {
    std::vector<Subnet> taken;
    for (const auto& n : MD_TRY(load_all()))
        if (n.subnet && n.id != except_id) taken.push_back(*n.subnet);
    auto nl = MD_TRY(Netlink::open());
    for (const auto& r : MD_TRY(nl.routes())) taken.push_back(r.dst);
    return taken;
}

sys::Result<int> Store::ensure_bridge(Network& n) {
    if (n.driver != "bridge") return sys::fail_invalid("network " + n.name + " has no bridge (driver " + n.driver + ")");
    if (!n.subnet) {
        // The default bridge: its subnet is chosen at first use and kept in its record.
        if (!ctx_.default_bip.empty()) {
            size_t slash = ctx_.default_bip.find('/');
            if (slash == std::string::npos) return sys::fail_invalid("--bip \"" + ctx_.default_bip + "\": expected IP/PREFIX, e.g. 172.30.0.1/16");
            auto gw = MD_TRY_CTX(parse_ipv4(ctx_.default_bip.substr(0, slash)), "--bip");
            auto probe = MD_TRY_CTX(parse_subnet("0.0.0.0" + ctx_.default_bip.substr(slash)), "--bip");
            Subnet sn{Ipv4{gw.value & probe.mask()}, probe.prefix};
            if (gw == sn.network || gw == sn.broadcast())
                return sys::fail_invalid("--bip \"" + ctx_.default_bip + "\": the bridge address must be a host address");
            for (const auto& t : MD_TRY(taken_subnets(n.id)))
                if (overlaps(t, sn)) return sys::fail_invalid("--bip \"" + ctx_.default_bip + "\": overlaps " + t.str() + ", already in use on this host");
            n.subnet = sn;
            n.gateway = gw;
        } else {
            n.subnet = MD_TRY_CTX(pick_subnet(MD_TRY(taken_subnets(n.id))), "default bridge network");
            n.gateway = n.subnet->first_host();
        }
        MD_TRY(save(n));
    }
    auto nl = MD_TRY(Netlink::open());
    auto idx = nl.link_index(n.bridge);
    if (idx) return *idx;
    if (idx.error().code() != sys::ErrorCode::not_found) return sys::fail(std::move(idx.error()));
    sys::CleanupStack undo;
    MD_TRY(nl.add_bridge(n.bridge));
    undo.push([&] { (void)nl.delete_link(n.bridge); });
    int bi = MD_TRY(nl.link_index(n.bridge));
    MD_TRY_CTX(nl.add_address(bi, n.gateway, *n.subnet), "bridge " + n.bridge);
    // Published ports answer on 127.0.0.1 too: DNAT to the container keeps the loopback
    // source (masqueraded later), which the kernel routes out of a non-loopback device only
    // with route_localnet.
    MD_TRY(set_interface_sysctl(n.bridge, "route_localnet", "1"));
    MD_TRY(enable_ip_forward());
    ctx_.log.debug("created bridge " + n.bridge + " " + n.gateway.str() + "/" + std::to_string(n.subnet->prefix));
    MD_TRY(refresh_rules(true));
    undo.commit();
    return bi;
}

sys::Result<void> Store::refresh_rules(bool force) {
    std::vector<NatNetwork> nets;
    auto nl = MD_TRY(Netlink::open());
    for (const auto& n : MD_TRY(load_all())) {
        if (n.driver != "bridge" || !n.subnet) continue;
        if (!nl.link_index(n.bridge)) continue;  // no device: nothing to NAT
        nets.push_back({n.bridge, *n.subnet});
    }
    std::sort(nets.begin(), nets.end(), [](const NatNetwork& a, const NatNetwork& b) { return a.bridge < b.bridge; });
    std::vector<PortRule> rules;
    for (const auto& p : MD_TRY(load_ports(sys::path_join(dir_, "ports.json"))))
        if (sys::process_alive(p.pid, p.start)) rules.push_back(p.rule);
    std::string script = render_table(table_, nets, rules);
    // The last script applied is kept: a run that changes nothing costs no libnftables.
    std::string applied = sys::path_join(dir_, "rules.nft");
    if (!force) {
        auto last = sys::read_file(applied);
        if (last && *last == script) return {};
    }
    MD_TRY_CTX(run_nft(script), "nftables table inet " + table_);
    if (nets.empty() && rules.empty()) {
        ::unlink(applied.c_str());
        return {};
    }
    return sys::write_file_atomic(applied, script, 0600);
}

sys::Result<Network> Store::create(const CreateRequest& req) {
    if (!valid_network_name(req.name))
        return sys::fail_invalid("invalid network name \"" + req.name + "\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*");
    if (predefined(req.name))
        return sys::fail(sys::Error::exists("network with name " + req.name + " already exists (a pre-defined network)"));
    if (req.driver != "bridge")
        return sys::fail_invalid("--driver \"" + req.driver + "\": only the bridge driver is supported");
    std::optional<Subnet> subnet;
    if (!req.subnet.empty()) subnet = MD_TRY_CTX(parse_subnet(req.subnet), "--subnet");
    if (!req.gateway.empty() && !subnet) return sys::fail_invalid("--gateway needs --subnet");
    auto lk = MD_TRY(lock());
    for (const auto& n : MD_TRY(load_all()))
        if (n.name == req.name) return sys::fail(sys::Error::exists("network with name " + req.name + " already exists"));
    auto taken = MD_TRY(taken_subnets(""));
    if (subnet) {
        for (const auto& n : MD_TRY(load_all()))
            if (n.subnet && overlaps(*n.subnet, *subnet))
                return sys::fail_invalid("invalid pool request: --subnet " + subnet->str() + " overlaps with network " + n.name +
                                         " (" + n.subnet->str() + ")");
        for (const auto& t : taken)
            if (overlaps(t, *subnet))
                return sys::fail_invalid("invalid pool request: --subnet " + subnet->str() + " overlaps with " + t.str() +
                                         ", a route of this host");
    } else {
        subnet = MD_TRY(pick_subnet(taken));
    }
    Network n;
    n.id = sys::random_hex(64);
    n.name = req.name;
    n.created = sys::now_rfc3339();
    n.subnet = subnet;
    n.gateway = subnet->first_host();
    if (!req.gateway.empty()) {
        n.gateway = MD_TRY_CTX(parse_ipv4(req.gateway), "--gateway");
        if (!subnet->contains(n.gateway) || n.gateway == subnet->network || n.gateway == subnet->broadcast())
            return sys::fail_invalid("--gateway " + req.gateway + ": not a host address of the subnet " + subnet->str());
    }
    n.bridge = "md-" + n.id.substr(0, 12);
    n.labels = req.labels;
    n.internal = req.internal;
    sys::CleanupStack undo;
    MD_TRY(save(n));
    undo.push([&] { (void)sys::remove_all(dir_of(n.id)); });
    MD_TRY(ensure_bridge(n));
    undo.commit();
    return n;
}

sys::Result<std::vector<Network>> Store::list() {
    auto lk = MD_TRY(lock());
    for (const char* p : {"bridge", "host", "none"}) MD_TRY(ensure_predefined(p));
    auto all = MD_TRY(load_all());
    std::sort(all.begin(), all.end(), [](const Network& a, const Network& b) { return a.name < b.name; });
    return all;
}

sys::Result<Network> Store::get(const std::string& ref) {
    auto lk = MD_TRY(lock());
    return find(ref);
}

sys::Result<std::map<std::string, std::pair<std::string, std::string>>> Store::attached(const Network& n) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    if (!n.subnet || !sys::path_exists(dir_of(n.id))) return out;
    auto leases = MD_TRY(Leases::open(leases_dir(n.id), n));
    for (const auto& [ip, l] : leases.table().leases())
        if (lease_alive(l)) out[l.container] = {l.name, ip.str() + "/" + std::to_string(n.subnet->prefix)};
    return out;
}

sys::Result<void> Store::remove(const std::string& ref) {
    auto lk = MD_TRY(lock());
    auto n = MD_TRY(find(ref));
    if (n.name == "host" || n.name == "none")
        return sys::fail(sys::Error::bad_state(n.name + " is a pre-defined network and cannot be removed"));
    auto users = MD_TRY(attached(n));
    if (!users.empty()) {
        std::string names;
        for (const auto& [id, v] : users) names += (names.empty() ? "" : ", ") + v.first;
        return sys::fail(sys::Error::bad_state("error while removing network: network " + n.name + " id " + n.id +
                                               " has active endpoints (" + names + ")"));
    }
    auto nl = MD_TRY(Netlink::open());
    if (auto r = nl.delete_link(n.bridge); !r && r.error().code() != sys::ErrorCode::not_found) return r;
    MD_TRY(sys::remove_all(leases_dir(n.id)));
    // The default network's record stays (docker's is pre-defined); its device and rules go
    // until the next container needs them.
    if (n.name != "bridge") MD_TRY(sys::remove_all(dir_of(n.id)));
    return refresh_rules(false);
}

sys::Result<std::vector<std::string>> Store::prune() {
    std::vector<std::string> removed;
    std::vector<Network> all;
    {
        auto lk = MD_TRY(lock());
        all = MD_TRY(load_all());
    }
    for (const auto& n : all) {
        if (predefined(n.name)) continue;
        if (remove(n.id)) removed.push_back(n.name);
    }
    return removed;
}

sys::Result<void> Store::write_files(const std::string& container, const std::string& hostname,
                                     const std::vector<std::string>& extra_hosts, const std::vector<std::string>& dns,
                                     const std::string& mode) {
    bool host_network = mode == "host";
    std::string dir = sys::path_join(ctx_.bundles_dir(), container);
    std::string host_resolv = sys::read_file("/etc/resolv.conf").value_or("");
    std::vector<HostEntry> extra;
    for (const auto& h : extra_hosts) extra.push_back(MD_TRY(parse_add_host(h)));
    std::string hosts;
    if (host_network) {
        hosts = sys::read_file("/etc/hosts").value_or("127.0.0.1\tlocalhost\n");
        for (const auto& e : extra) hosts += e.ip + "\t" + e.names + "\n";
    } else {
        if (mode != "none") {
            Json meta = {{"hostname", hostname}, {"extra", extra_hosts}, {"ip", ""}};
            MD_TRY(sys::write_file_atomic(sys::path_join(dir, "hosts.json"), sys::json_text(meta), 0600));
        }
        hosts = render_hosts(hostname, "", extra, {});
    }
    MD_TRY(sys::write_file(sys::path_join(dir, "hosts"), hosts, 0644));
    MD_TRY(sys::write_file(sys::path_join(dir, "resolv.conf"),
                           host_network && dns.empty() ? host_resolv : render_resolv_conf(host_resolv, dns), 0644));
    MD_TRY(sys::write_file(sys::path_join(dir, "hostname"), hostname + "\n", 0644));
    return {};
}

void Store::update_hosts(const std::vector<std::string>& network_ids, const std::string& also) {
    // Who is where: every live lease of the touched networks.
    std::map<std::string, std::vector<std::string>> nets_of;  // container -> network ids
    struct Member {
        std::string container;
        HostEntry entry;
    };
    std::map<std::string, std::vector<Member>> members;  // network id -> who is on it
    auto all = load_all();
    if (!all) return;
    std::set<std::string> wanted(network_ids.begin(), network_ids.end());
    std::set<std::string> containers;
    std::map<std::string, Network> by_id;
    for (const auto& n : *all) by_id[n.id] = n;
    auto read_members = [&](const Network& n) {
        // docker resolves peers' names on user networks only, not on the default bridge.
        if (members.count(n.id) || n.name == "bridge" || !n.subnet || !sys::path_exists(dir_of(n.id))) return;
        auto leases = Leases::open(leases_dir(n.id), n);
        auto& m = members[n.id];
        if (!leases) return;
        for (const auto& [ip, l] : leases->table().leases()) {
            if (!lease_alive(l)) continue;
            m.push_back({l.container, {ip.str(), l.name}});
            nets_of[l.container].push_back(n.id);
        }
    };
    for (const auto& id : wanted)
        if (by_id.count(id)) read_members(by_id[id]);
    for (const auto& id : wanted)
        if (members.count(id))
            for (const auto& [c, ns] : nets_of)
                if (std::count(ns.begin(), ns.end(), id)) containers.insert(c);
    // A container's peers come from all of its networks, not only the touched ones.
    if (!also.empty()) containers.insert(also);  // its own address, even on the default bridge
    if (!containers.empty())
        for (const auto& [id, n] : by_id) read_members(n);
    for (const auto& c : containers) {
        std::string dir = sys::path_join(ctx_.bundles_dir(), c);
        auto meta_text = sys::read_file(sys::path_join(dir, "hosts.json"));
        if (!meta_text) continue;
        try {
            Json meta = Json::parse(*meta_text);
            std::vector<HostEntry> extra, peers;
            for (const auto& h : meta.value("extra", std::vector<std::string>{}))
                if (auto e = parse_add_host(h)) extra.push_back(*e);
            std::string own_ip = meta.value("ip", "");
            std::set<std::string> seen;
            for (const auto& id : nets_of[c]) {
                for (const auto& m : members[id]) {
                    if (m.container == c || !seen.insert(m.entry.ip).second) continue;
                    peers.push_back(m.entry);
                }
            }
            std::string text = render_hosts(meta.value("hostname", ""), own_ip, extra, peers);
            // Rewritten in place (O_TRUNC, same inode): the container's bind mount sees it.
            if (auto r = sys::write_file(sys::path_join(dir, "hosts"), text, 0644); !r)
                ctx_.log.warn("update /etc/hosts of " + c + ": " + r.error().message());
        } catch (const std::exception& e) {
            ctx_.log.warn("hosts.json of " + c + ": " + e.what());
        }
    }
}

sys::Result<Attached> Store::attach(const AttachRequest& req) {
    Attached out;
    auto lk = MD_TRY(lock());
    sys::UniqueFd own_ns;
    if (req.netns_fd < 0) own_ns = MD_TRY(sys::open_file("/proc/" + std::to_string(req.pid) + "/ns/net", O_RDONLY));
    const int ns = req.netns_fd >= 0 ? req.netns_fd : own_ns.get();
    auto host = MD_TRY(Netlink::open());
    auto inside = MD_TRY(Netlink::open_in(ns));
    sys::CleanupStack undo;
    std::vector<std::string> touched;
    std::string own_ip;
    for (size_t i = 0; i < req.endpoints.size(); ++i) {
        Endpoint ep = req.endpoints[i];
        Network n = MD_TRY(find(ep.network));
        if (n.driver != "bridge") return sys::fail_invalid("network " + n.name + " cannot be joined with other networks");
        int master = MD_TRY_CTX(ensure_bridge(n), "network " + n.name);
        std::optional<Ipv4> want;
        if (!ep.requested_ip.empty()) want = MD_TRY_CTX(parse_ipv4(ep.requested_ip), "--ip");
        Ipv4 ip;
        {
            auto leases = MD_TRY(Leases::open(leases_dir(n.id), n));
            Lease l{req.container, req.name, req.pid, req.pid_start};
            auto got = leases.table().allocate(l, want, lease_alive);
            if (!got) return sys::fail(std::move(got.error()).wrap("network " + n.name));
            ip = *got;
            MD_TRY(leases.save());
        }
        std::string nid = n.id;
        undo.push([this, nid, n, c = req.container] {
            if (auto l = Leases::open(leases_dir(nid), n); l && l->table().release(c)) (void)l->save();
        });
        touched.push_back(n.id);
        ep.network = n.name;
        ep.network_id = n.id;
        ep.ip = ip.str();
        ep.prefix = n.subnet->prefix;
        ep.gateway = n.gateway.str();
        ep.mac = mac_for(ip);
        // ethN: the lowest name not taken inside (connect adds eth1, eth2, ...).
        for (int k = 0;; ++k) {
            std::string name = "eth" + std::to_string(k);
            if (!inside.link_index(name)) {
                ep.ifname = name;
                break;
            }
        }
        for (int attempt = 0;; ++attempt) {
            ep.host_veth = "veth" + sys::random_hex(7);
            auto r = host.add_veth(ep.host_veth, master, ep.ifname, ns, ep.mac);
            if (r) break;
            if (r.error().err() != EEXIST || attempt > 5) return sys::fail(std::move(r.error()));
        }
        undo.push([&host, v = ep.host_veth] { (void)host.delete_link(v); });
        int idx = MD_TRY(inside.link_index(ep.ifname));
        MD_TRY(inside.add_address(idx, ip, *n.subnet));
        MD_TRY(inside.set_up(idx));
        if (i == 0 && req.default_route) {
            MD_TRY(inside.add_default_route(n.gateway));
            own_ip = ep.ip;
        }
        ctx_.log.debug("container " + req.container.substr(0, 12) + ": " + ep.ifname + " " + ep.ip + " on " + n.name);
        out.endpoints.push_back(std::move(ep));
    }
    if (!req.ports.empty()) {
        if (out.endpoints.empty()) return sys::fail_invalid("-p, --publish: the container has no network address to publish to");
        std::string path = sys::path_join(dir_, "ports.json");
        auto entries = MD_TRY(load_ports(path));
        std::erase_if(entries, [](const PortEntry& p) { return !sys::process_alive(p.pid, p.start); });
        auto ctr_ip = MD_TRY(parse_ipv4(out.endpoints[0].ip));
        for (auto b : req.ports) {
            for (const auto& e : entries) {
                if (b.host_port == 0 || e.rule.proto != b.proto || e.rule.host_port != b.host_port) continue;
                if (any_ip(e.rule.host_ip) || any_ip(b.host_ip) || e.rule.host_ip == b.host_ip)
                    return sys::fail(sys::Error::exists("Bind for " + (any_ip(b.host_ip) ? "0.0.0.0" : b.host_ip) + ":" +
                                                        std::to_string(b.host_port) + " failed: port is already allocated"));
            }
            b.host_port = MD_TRY(probe_port(b));
            PortEntry e{req.container, req.pid, req.pid_start, {b.proto, b.host_ip, b.host_port, ctr_ip, b.container_port}};
            entries.push_back(e);
            out.ports.push_back(b);
        }
        MD_TRY(save_ports(path, entries));
        undo.push([this, path, c = req.container] {
            if (auto all = load_ports(path)) {
                std::erase_if(*all, [&](const PortEntry& p) { return p.container == c; });
                (void)save_ports(path, *all);
                (void)refresh_rules(false);
            }
        });
    }
    // With or without ports: the bridges and the table outlive the mydocker that made them,
    // and an upgraded one brings the table to its own rules here, at the next container (the
    // loopback guard of issue 16 reaches existing bridges this way). When nothing changed
    // this is a comparison with the last script applied, without libnftables.
    if (!out.endpoints.empty()) MD_TRY(refresh_rules(false));
    // The container's own address in its /etc/hosts, then everyone's peers.
    std::string dir = sys::path_join(ctx_.bundles_dir(), req.container);
    if (auto text = sys::read_file(sys::path_join(dir, "hosts.json"))) {
        try {
            Json meta = Json::parse(*text);
            if (req.default_route) meta["ip"] = own_ip;
            MD_TRY(sys::write_file_atomic(sys::path_join(dir, "hosts.json"), sys::json_text(meta), 0600));
        } catch (const std::exception& e) {
            return sys::fail_invalid(std::string("hosts.json: ") + e.what());
        }
    }
    update_hosts(touched, req.container);
    undo.commit();
    return out;
}

void Store::detach(const std::string& container, const std::vector<Endpoint>& endpoints, bool delete_links) {
    auto lk = lock();
    if (!lk) {
        ctx_.log.warn("detach " + container + ": " + lk.error().message());
        return;
    }
    // With the container's namespace gone, the kernel removes its veths on its own (in a
    // worker, off our path); a synchronous RTM_DELLINK would wait 10-20 ms for RCU here.
    if (auto host = Netlink::open(); host && delete_links) {
        for (const auto& ep : endpoints) {
            if (ep.host_veth.empty()) continue;
            if (auto r = host->delete_link(ep.host_veth); !r && r.error().code() != sys::ErrorCode::not_found)
                ctx_.log.warn("delete " + ep.host_veth + ": " + r.error().message());
        }
    }
    // Every network: a crashed start may have leased an address the record never saw.
    std::vector<std::string> touched;
    if (auto all = load_all()) {
        for (const auto& n : *all) {
            if (!n.subnet || !sys::path_exists(sys::path_join(leases_dir(n.id), "leases.json"))) continue;
            auto leases = Leases::open(leases_dir(n.id), n);
            if (leases && leases->table().release(container)) {
                (void)leases->save();
                touched.push_back(n.id);
            }
        }
    }
    std::string path = sys::path_join(dir_, "ports.json");
    if (auto ports = load_ports(path)) {
        size_t before = ports->size();
        std::erase_if(*ports, [&](const PortEntry& p) { return p.container == container; });
        if (ports->size() != before) {
            (void)save_ports(path, *ports);
            if (auto r = refresh_rules(false); !r) ctx_.log.warn("detach " + container + ": " + r.error().message());
        }
    }
    update_hosts(touched);
}

sys::Result<void> Store::rename(const std::string& container, const std::string& name) {
    auto lk = MD_TRY(lock());
    std::vector<std::string> touched;
    for (const auto& n : MD_TRY(load_all())) {
        if (!n.subnet || !sys::path_exists(sys::path_join(leases_dir(n.id), "leases.json"))) continue;
        auto leases = MD_TRY(Leases::open(leases_dir(n.id), n));
        bool changed = false;
        for (const auto& [ip, l] : leases.table().leases()) {
            if (l.container != container || l.name == name) continue;
            Lease renamed = l;
            renamed.name = name;
            leases.table().insert(ip, renamed);
            changed = true;
        }
        if (changed) {
            MD_TRY(leases.save());
            touched.push_back(n.id);
        }
    }
    update_hosts(touched);
    return {};
}

sys::Result<void> Store::detach_one(const std::string& container, const Endpoint& ep) {
    auto lk = MD_TRY(lock());
    auto n = MD_TRY(find(ep.network_id.empty() ? ep.network : ep.network_id));
    auto host = MD_TRY(Netlink::open());
    if (auto r = host.delete_link(ep.host_veth); !r && r.error().code() != sys::ErrorCode::not_found) return r;
    {
        auto leases = MD_TRY(Leases::open(leases_dir(n.id), n));
        if (leases.table().release(container)) MD_TRY(leases.save());
    }
    update_hosts({n.id});
    return {};
}

}  // namespace mydocker::engine::networks
