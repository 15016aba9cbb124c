// network create / ls / inspect / rm / prune / connect / disconnect, and `port`.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/docker/cli.h"
#include "engine/containers/containers.h"
#include "engine/networks/networks.h"
#include "sys/json_text.h"

namespace mydocker::cli {

namespace {

namespace ec = engine::containers;
namespace nets = engine::networks;
using Json = nlohmann::ordered_json;

// inspect's document: the record plus the containers attached right now.
sys::Result<Json> inspect_json(nets::Store& store, const nets::Network& n) {
    Json j = Json::parse(nets::to_json(n));
    Json cs = Json::object();
    for (const auto& [id, v] : MD_TRY(store.attached(n))) cs[id] = {{"Name", v.first}, {"IPv4Address", v.second}};
    j["Containers"] = cs;
    return j;
}


}  // namespace

static void register_port(CLI::App& app, Globals& g);

void register_networks(CLI::App& app, Globals& g) {
    if (g.wants("port")) register_port(app, g);
    if (!g.wants("network")) return;
    auto* network = app.add_subcommand("network", "manage networks");
    network->require_subcommand(1);

    struct CreateArgs {
        nets::CreateRequest req;
        std::vector<std::string> labels;
    };
    auto ca = std::make_shared<CreateArgs>();
    auto* create = network->add_subcommand("create", "create a bridge network");
    create->add_option("NETWORK", ca->req.name, "network name")->required();
    create->add_option("-d,--driver", ca->req.driver, "driver (bridge)");
    create->add_option("--subnet", ca->req.subnet, "subnet in CIDR form, e.g. 172.30.0.0/16 (default: a free one)");
    create->add_option("--gateway", ca->req.gateway, "gateway address in the subnet (default: its first address)");
    create->add_option("--label", ca->labels, "set metadata on the network (key=value)")->allow_extra_args(false);
    create->callback([&g, ca] {
        g.action = [ca](engine::Context& ctx) -> sys::Result<int> {
            for (const auto& l : ca->labels) {
                auto eq = l.find('=');
                if (l.empty() || eq == 0) return sys::fail_invalid("--label \"" + l + "\": a label needs a key (key=value)");
                ca->req.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
            }
            auto n = MD_TRY(nets::Store(ctx).create(ca->req));
            println(n.id);
            return 0;
        };
    });

    struct LsArgs {
        bool quiet = false, no_trunc = false;
        std::string format = "table";
        std::vector<std::string> filters;
    };
    auto la = std::make_shared<LsArgs>();
    auto* ls = network->add_subcommand("ls", "list networks");
    ls->alias("list");
    ls->add_flag("-q,--quiet", la->quiet, "only ids");
    ls->add_flag("--no-trunc", la->no_trunc, "full ids");
    ls->add_option("--format", la->format, "table or json (one object per line)");
    ls->add_option("-f,--filter", la->filters, "name=SUBSTRING, driver=NAME, id=PREFIX")->allow_extra_args(false);
    ls->callback([&g, la] {
        g.action = [la](engine::Context& ctx) -> sys::Result<int> {
            if (la->format != "table" && la->format != "json")
                return sys::fail_invalid("--format \"" + la->format + "\": table or json");
            auto all = MD_TRY(nets::Store(ctx).list());
            std::vector<nets::Network> shown;
            for (const auto& n : all) {
                bool ok = true;
                for (const auto& f : la->filters) {
                    auto eq = f.find('=');
                    if (eq == std::string::npos) return sys::fail_invalid("--filter \"" + f + "\": want key=value");
                    std::string k = f.substr(0, eq), v = f.substr(eq + 1);
                    if (k == "name") ok = ok && n.name.find(v) != std::string::npos;
                    else if (k == "driver") ok = ok && n.driver == v;
                    else if (k == "id") ok = ok && n.id.rfind(v, 0) == 0;
                    else return sys::fail_invalid("--filter \"" + f + "\": unknown filter \"" + k + "\" (name, driver, id)");
                }
                if (ok) shown.push_back(n);
            }
            for (const auto& n : shown) {
                std::string id = la->no_trunc ? n.id : n.id.substr(0, 12);
                if (la->quiet) println(id);
                else if (la->format == "json")
                    println(sys::json_text(Json{{"CreatedAt", n.created}, {"Driver", n.driver}, {"ID", id}, {"Name", n.name},
                                                {"Scope", "local"}, {"Subnet", n.subnet ? n.subnet->str() : ""}}));
            }
            if (la->quiet || la->format == "json") return 0;
            size_t w = la->no_trunc ? 64 : 12;
            size_t nw = 4;
            for (const auto& n : shown) nw = std::max(nw, n.name.size());
            println(pad("NETWORK ID", w + 3) + pad("NAME", nw + 3) + pad("DRIVER", 9) + "SCOPE");
            for (const auto& n : shown)
                println(pad(la->no_trunc ? n.id : n.id.substr(0, 12), w + 3) + pad(n.name, nw + 3) + pad(n.driver, 9) + "local");
            return 0;
        };
    });

    auto ia = std::make_shared<std::vector<std::string>>();
    auto ifmt = std::make_shared<std::string>();
    auto* inspect = network->add_subcommand("inspect", "show networks as JSON");
    inspect->add_option("NETWORK", *ia, "network name or id")->required();
    inspect->add_option("-f,--format", *ifmt, "print one field: {{.IPAM.Config}} or .Driver");
    inspect->callback([&g, ia, ifmt] {
        g.action = [ia, ifmt](engine::Context& ctx) -> sys::Result<int> {
            nets::Store store(ctx);
            return print_inspect(
                *ia, *ifmt, [&](const std::string& r) { return store.get(r); },
                [&](const nets::Network& n) { return inspect_json(store, n); });
        };
    });

    auto ra = std::make_shared<std::vector<std::string>>();
    auto* rm = network->add_subcommand("rm", "remove networks (refused while containers use them)");
    rm->alias("remove");
    rm->add_option("NETWORK", *ra, "network name or id")->required();
    rm->callback([&g, ra] {
        g.action = [ra](engine::Context& ctx) -> sys::Result<int> {
            nets::Store store(ctx);
            int rc = 0;
            for (const auto& r : *ra) {
                if (auto res = store.remove(r); !res) {
                    print_error(res.error().message());
                    rc = 1;
                } else {
                    println(r);
                }
            }
            return rc;
        };
    });

    auto* prune = network->add_subcommand("prune", "remove every user network no container uses");
    auto pforce = std::make_shared<bool>(false);
    prune->add_flag("-f,--force", *pforce, "do not ask (we never ask)");
    prune->callback([&g] {
        g.action = [](engine::Context& ctx) -> sys::Result<int> {
            auto removed = MD_TRY(nets::Store(ctx).prune());
            if (!removed.empty()) {
                println("Deleted Networks:");
                for (const auto& n : removed) println(n);
            }
            return 0;
        };
    });

    struct ConnArgs {
        std::string network, container, ip;
        bool force = false;
    };
    auto cn = std::make_shared<ConnArgs>();
    auto* connect = network->add_subcommand("connect", "connect a container to a network");
    connect->add_option("NETWORK", cn->network)->required();
    connect->add_option("CONTAINER", cn->container)->required();
    connect->add_option("--ip", cn->ip, "IPv4 address on the network");
    connect->callback([&g, cn] {
        g.action = [cn](engine::Context& ctx) -> sys::Result<int> {
            MD_TRY(ec::connect(ctx, cn->network, cn->container, cn->ip));
            return 0;
        };
    });
    auto dn = std::make_shared<ConnArgs>();
    auto* disconnect = network->add_subcommand("disconnect", "disconnect a container from a network");
    disconnect->add_option("NETWORK", dn->network)->required();
    disconnect->add_option("CONTAINER", dn->container)->required();
    disconnect->add_flag("-f,--force", dn->force, "accepted for docker compatibility");
    disconnect->callback([&g, dn] {
        g.action = [dn](engine::Context& ctx) -> sys::Result<int> {
            MD_TRY(ec::disconnect(ctx, dn->network, dn->container));
            return 0;
        };
    });
}

// port CONTAINER [PRIVATE_PORT[/PROTO]]
static void register_port(CLI::App& app, Globals& g) {
    struct PortArgs {
        std::string container, port;
    };
    auto pa = std::make_shared<PortArgs>();
    auto* port = app.add_subcommand("port", "list a container's published ports");
    port->add_option("CONTAINER", pa->container)->required();
    port->add_option("PRIVATE_PORT", pa->port, "80 or 80/tcp");
    port->callback([&g, pa] {
        g.action = [pa](engine::Context& ctx) -> sys::Result<int> {
            auto c = MD_TRY(ec::inspect(ctx, pa->container));
            std::optional<nets::PortBinding> want;
            if (!pa->port.empty()) want = MD_TRY(nets::parse_exposed(pa->port));
            bool any = false;
            for (const auto& p : c.network.ports) {
                if (want && (want->container_port != p.container_port || want->proto != p.proto)) continue;
                std::string host = (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port);
                println(want ? host : std::to_string(p.container_port) + "/" + p.proto + " -> " + host);
                any = true;
            }
            if (want && !any)
                return sys::fail(sys::Error::not_found("no public port '" + pa->port + "' published for " + c.name));
            return 0;
        };
    });
}

}  // namespace mydocker::cli
