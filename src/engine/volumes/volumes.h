// Named volumes: <root>/volumes/<name>/_data holds the data, <root>/volumes/<name>/volume.json
// the record (name, driver "local", created, labels). A volume outlives its containers.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/context.h"
#include "sys/error.h"

namespace mydocker::engine::volumes {

struct Volume {
    std::string name;
    std::string driver = "local";
    std::string mountpoint;  // absolute path of the data dir
    std::string created;     // RFC 3339
    std::map<std::string, std::string> labels;
};

/// What prune_report() removed and how many bytes of data went with it.
struct PruneReport {
    std::vector<std::string> removed;
    uint64_t reclaimed = 0;
};

/// Docker's volume name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ .
bool valid_name(const std::string& name);

class Store {
public:
    explicit Store(const Context& ctx) : ctx_(ctx) {}
    /// Create (an empty name gets a random 64-hex one). Creating an existing name returns it.
    sys::Result<Volume> create(const std::string& name, const std::map<std::string, std::string>& labels = {});
    /// not_found "no such volume: NAME" when it does not exist (or NAME is no valid name).
    sys::Result<Volume> get(const std::string& name);
    /// Create on first use (`run -v name:/path`).
    sys::Result<Volume> get_or_create(const std::string& name);
    /// Every volume, sorted by name; a record that cannot be read is skipped with a warning.
    sys::Result<std::vector<Volume>> list();
    /// Refused (bad_state, "volume is in use") when `in_use` holds the name, unless force.
    /// A missing volume is not_found, or success with force (as `docker volume rm -f`).
    sys::Result<void> remove(const std::string& name, bool force, const std::set<std::string>& in_use);
    /// Remove every volume not in `in_use`; returns the names removed.
    sys::Result<std::vector<std::string>> prune(const std::set<std::string>& in_use);
    /// prune() that also counts the bytes of the removed data ("Total reclaimed space").
    sys::Result<PruneReport> prune_report(const std::set<std::string>& in_use);

private:
    const Context& ctx_;
};

}  // namespace mydocker::engine::volumes
