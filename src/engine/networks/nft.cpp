#include "engine/networks/nft.h"

#include <cstdio>

#include "sys/dynlib.h"

namespace mydocker::engine::networks {

namespace {

// route_localnet=1 on our bridges (so that replies to the host's 127.0.0.1 come back from a
// published port) also lets the kernel accept a packet that a container addresses to
// 127.0.0.0/8 through the bridge's MAC: every service the host binds to loopback would be
// reachable from containers (the class of CVE-2020-8558). 127.0.0.0/8 is in the local routing
// table, so such packets are always delivered locally and all pass the input hook, after the
// prerouting DNAT: a published port's packets no longer have a loopback destination there,
// and the only legitimate ones that do are the replies of connections the host opened from
// 127.0.0.1 to a published port (DNAT'd, then masqueraded; de-masqueraded back to 127.0.0.1
// in prerouting). Those carry the conntrack's dnat status; everything else is dropped,
// untracked or invalid packets included (a rule on "ct status" does not match a packet without
// a conntrack, hence accept-then-drop rather than one negated match). The gateway's own
// address is not in 127.0.0.0/8 and stays reachable.
std::string render_localnet_guard(const std::vector<NatNetwork>& networks) {
    if (networks.empty()) return "";
    return "\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
           "\t\tiifname @bridges ip daddr 127.0.0.0/8 ct status dnat accept\n"
           "\t\tiifname @bridges ip daddr 127.0.0.0/8 drop\n\t}\n";
}

}  // namespace

std::string render_table(const std::string& table, const std::vector<NatNetwork>& networks,
                         const std::vector<PortRule>& ports) {
    // "add" then "delete" then the new table: one transaction that works whether the table
    // exists or not, and never shows a half-built table.
    std::string s = "add table inet " + table + "\ndelete table inet " + table + "\n";
    if (networks.empty() && ports.empty()) return s;
    s += "table inet " + table + " {\n";
    if (!networks.empty()) {
        s += "\tset bridges {\n\t\ttype ifname\n\t\telements = { ";
        for (size_t i = 0; i < networks.size(); ++i) s += (i ? ", \"" : "\"") + networks[i].bridge + "\"";
        s += " }\n\t}\n\n";
    }
    std::string dnat;
    {
        std::string& r = dnat;
        for (const auto& p : ports) {
            std::string match = (p.host_ip.empty() || p.host_ip == "0.0.0.0") ? "fib daddr type local"
                                                                               : "ip daddr " + p.host_ip;
            r += "\t\tmeta nfproto ipv4 " + match + " " + p.proto + " dport " + std::to_string(p.host_port) +
                 " dnat ip to " + p.container_ip.str() + ":" + std::to_string(p.container_port) + "\n";
        }
    }
    s += "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n" + dnat + "\t}\n\n";
    s += "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n" + dnat + "\t}\n\n";
    s += "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
    for (const auto& n : networks) {
        std::string br = "\"" + n.bridge + "\"";
        s += "\t\tip saddr " + n.subnet.str() + " oifname != " + br + " masquerade\n";
        s += "\t\toifname " + br + " ct status dnat ip saddr { 127.0.0.0/8, " + n.subnet.str() + " } masquerade\n";
    }
    s += "\t}\n\n";
    // Replies, and connections to a published port (DNAT'd), cross between networks; a new
    // connection from one of our bridges to another does not.
    s += "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n";
    if (!networks.empty()) s += "\t\tct state established,related accept\n\t\tct status dnat accept\n";
    for (const auto& n : networks) {
        std::string br = "\"" + n.bridge + "\"";
        s += "\t\tiifname " + br + " oifname != " + br + " oifname @bridges drop\n";
    }
    s += "\t}\n";
    s += render_localnet_guard(networks);
    s += "}\n";
    return s;
}

namespace {

struct LibNftables {
    void* (*ctx_new)(uint32_t) = nullptr;
    void (*ctx_free)(void*) = nullptr;
    int (*buffer_output)(void*) = nullptr;
    int (*buffer_error)(void*) = nullptr;
    const char* (*get_error_buffer)(void*) = nullptr;
    const char* (*get_output_buffer)(void*) = nullptr;
    int (*run_cmd_from_buffer)(void*, const char*) = nullptr;
};

sys::Result<const LibNftables*> libnftables() {
    static sys::Result<LibNftables> loaded = []() -> sys::Result<LibNftables> {
        const char* so = "libnftables.so.1";
        void* h = MD_TRY(sys::open_library(so, "libnftables1"));
        LibNftables l;
        auto get = [&](auto& fn, const char* name) { return sys::bind_symbol(h, so, name, fn); };
        MD_TRY(get(l.ctx_new, "nft_ctx_new"));
        MD_TRY(get(l.ctx_free, "nft_ctx_free"));
        MD_TRY(get(l.buffer_output, "nft_ctx_buffer_output"));
        MD_TRY(get(l.buffer_error, "nft_ctx_buffer_error"));
        MD_TRY(get(l.get_error_buffer, "nft_ctx_get_error_buffer"));
        MD_TRY(get(l.get_output_buffer, "nft_ctx_get_output_buffer"));
        MD_TRY(get(l.run_cmd_from_buffer, "nft_run_cmd_from_buffer"));
        return l;
    }();
    if (!loaded) return sys::fail(loaded.error());
    return &*loaded;
}

}  // namespace

sys::Result<void> run_nft(const std::string& script) {
    const auto* nft = MD_TRY(libnftables());
    void* ctx = nft->ctx_new(0 /* NFT_CTX_DEFAULT */);
    if (!ctx) return sys::fail_invalid("nftables: cannot create a context");
    nft->buffer_output(ctx);
    nft->buffer_error(ctx);
    int rc = nft->run_cmd_from_buffer(ctx, script.c_str());
    std::string err;
    if (rc != 0) {
        const char* e = nft->get_error_buffer(ctx);
        const char* o = nft->get_output_buffer(ctx);
        err = std::string(e ? e : "") + (o && *o ? std::string(e && *e ? "; " : "") + o : "");
    }
    nft->ctx_free(ctx);
    if (rc != 0) {
        while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
        return sys::fail(sys::Error(sys::ErrorCode::system, "nftables: " + (err.empty() ? "the rules were refused" : err), 0));
    }
    return {};
}

}  // namespace mydocker::engine::networks
