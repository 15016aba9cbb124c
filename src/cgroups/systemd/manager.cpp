// The systemd driver's D-Bus side: StartTransientUnit, its JobRemoved, StopUnit.
#include "cgroups/systemd/manager.h"

#include <cerrno>

#include "cgroups/systemd/dbus.h"

namespace mydocker::cgroups::systemd {
namespace {

// Under emulation (the test guest) a unit's start takes seconds; systemd's own default
// method timeout is 25 s.
constexpr int kTimeoutMs = 30000;

struct Bus {
    dbus::Connection conn;
};

// The system bus, as runc. (systemd's private socket, /run/systemd/private, for hosts without
// dbus-daemon, is not used: a first try there had our calls time out, not yet understood.)
sys::Result<Bus> connect_systemd() {
    auto c = MD_TRY_CTX(dbus::Connection::open(kSystemBus, true), "connect to systemd");
    return Bus{std::move(c)};
}

dbus::Message manager_call(const std::string& member, std::string signature, std::string body) {
    dbus::Message m;
    m.path = "/org/freedesktop/systemd1";
    m.interface = "org.freedesktop.systemd1.Manager";
    m.member = member;
    m.destination = "org.freedesktop.systemd1";
    m.signature = std::move(signature);
    m.body = std::move(body);
    return m;
}

// Asks for the manager's JobRemoved signals (on the bus: a match rule, and Subscribe, without
// which systemd emits nothing on the system bus).
sys::Result<void> subscribe(Bus& bus) {
    dbus::Message match;
    match.path = "/org/freedesktop/DBus";
    match.interface = "org.freedesktop.DBus";
    match.member = "AddMatch";
    match.destination = "org.freedesktop.DBus";
    match.signature = "s";
    dbus::Writer w;
    w.string(
        "type='signal',sender='org.freedesktop.systemd1',"
        "interface='org.freedesktop.systemd1.Manager',"
        "member='JobRemoved',path='/org/freedesktop/systemd1'");
    match.body = w.data();
    MD_TRY(bus.conn.call(std::move(match), kTimeoutMs));
    MD_TRY(bus.conn.call(manager_call("Subscribe", "", ""), kTimeoutMs));
    return {};
}

// Waits for the JobRemoved of `job` and returns its result ("done", "failed", ...).
sys::Result<std::string> wait_job(Bus& bus, const std::string& job) {
    for (;;) {
        auto sig = bus.conn.next_signal(kTimeoutMs);
        if (!sig)
            return sys::fail(std::move(sig.error()).wrap("wait for systemd job \"" + job + "\""));
        if (sig->member != "JobRemoved" || sig->signature != "uoss") continue;
        dbus::Reader r(sig->body);
        MD_TRY(r.u32());
        std::string path = MD_TRY(r.string());
        MD_TRY(r.string());
        std::string result = MD_TRY(r.string());
        if (path == job) return result;
    }
}

std::string job_of(const dbus::Message& reply) {
    dbus::Reader r(reply.body);
    auto p = r.string();
    return p ? *p : "";
}

}  // namespace

sys::Result<bool> SystemdManager::apply() {
    // A slice may exist before any process, a scope may not: add_process starts it.
    return true;
}

sys::Result<void> SystemdManager::set(const Resources& r) {
    if (!started_) {
        pending_ = r;  // properties of the unit add_process starts, and the rest after it
        return {};
    }
    // An update: systemd's properties too, or its next daemon-reload would put the unit's
    // create-time limits back into the cgroup.
    auto props = MD_TRY(resource_properties(r, inner_->version()));
    Bus bus = MD_TRY_CTX(connect_systemd(), "update unit \"" + unit_.unit + "\"");
    MD_TRY_CTX(bus.conn.call(manager_call("SetUnitProperties", "sba(sv)",
                                          set_unit_properties_body(unit_.unit, props)),
                             kTimeoutMs),
               "update unit \"" + unit_.unit + "\"");
    return inner_->set(r);
}

sys::Result<void> SystemdManager::add_process(pid_t pid) {
    if (started_) return inner_->add_process(pid);
    MD_TRY_CTX(start_unit(pid), "start systemd unit \"" + unit_.unit + "\"");
    started_ = true;
    if (unit_.is_slice()) {
        MD_TRY(inner_->apply());
        MD_TRY(inner_->add_process(pid));
    }
    // What systemd has no property for (devices, hugetlb, swappiness, unified, ...), and the
    // rest again, which the cgroupfs driver writes as the OCI spec says (idempotent).
    if (pending_) MD_TRY_CTX(inner_->set(*pending_), "linux.resources");
    return {};
}

sys::Result<void> SystemdManager::start_unit(pid_t pid) {
    std::vector<Property> props;
    props.push_back({"Description", std::string("mydocker container ") + unit_.unit});
    if (unit_.is_slice()) {
        if (unit_.slice != "-.slice") props.push_back({"Slice", unit_.slice});
    } else {
        props.push_back({"Slice", unit_.slice});
        props.push_back({"Delegate", true});
        props.push_back({"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}});
    }
    // No ordering after basic.target and no Conflicts=shutdown.target: a container may start
    // at any point of the boot, and stops when its runtime says.
    props.push_back({"DefaultDependencies", false});
    auto res = MD_TRY(resource_properties(pending_.value_or(Resources{}), inner_->version()));
    props.insert(props.end(), res.begin(), res.end());

    Bus bus = MD_TRY(connect_systemd());
    MD_TRY(subscribe(bus));
    log_->debug("systemd: StartTransientUnit \"" + unit_.unit + "\" in \"" + unit_.slice + "\"");
    auto reply = MD_TRY(bus.conn.call(manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))",
                                                   start_transient_unit_body(unit_.unit, props)),
                                      kTimeoutMs));
    std::string job = job_of(reply);
    std::string result = MD_TRY(wait_job(bus, job));
    if (result != "done")
        return sys::fail(
            sys::Error::from_errno(EIO, "systemd job " + job + " ended \"" + result + "\""));
    return {};
}

sys::Result<void> SystemdManager::destroy() {
    if (started_) {
        auto bus = connect_systemd();
        if (!bus) {
            log_->warn("stop unit \"" + unit_.unit + "\": " + bus.error().message());
        } else if (auto s = subscribe(*bus); !s) {
            log_->warn("stop unit \"" + unit_.unit + "\": " + s.error().message());
        } else {
            dbus::Writer w;
            w.string(unit_.unit);
            w.string("replace");
            auto reply = bus->conn.call(manager_call("StopUnit", "ss", w.data()), kTimeoutMs);
            if (reply) {
                auto result = wait_job(*bus, job_of(*reply));
                if (!result)
                    log_->warn("stop unit \"" + unit_.unit + "\": " + result.error().message());
            } else if (reply.error().message().find("NoSuchUnit") == std::string::npos) {
                // Gone already is fine: a scope whose processes all exited is collected.
                return sys::fail(std::move(reply.error()).wrap("stop unit \"" + unit_.unit + "\""));
            }
        }
    }
    return inner_->destroy();
}

sys::Result<std::unique_ptr<Manager>> make_systemd_manager(const std::string& cgroups_path,
                                                           const std::string& root, bool started,
                                                           const sys::Logger& log) {
    UnitPath u = MD_TRY(parse_cgroups_path(cgroups_path));
    auto inner = MD_TRY(make_manager(Config{root, u.path}, log));
    return std::unique_ptr<Manager>(
        std::make_unique<SystemdManager>(std::move(u), std::move(inner), started, log));
}

}  // namespace mydocker::cgroups::systemd
