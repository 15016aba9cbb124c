#include "engine/networks/files.h"

#include <arpa/inet.h>

#include <sstream>

namespace mydocker::engine::networks {

std::string render_hosts(const std::string& hostname, const std::string& own_ip, const std::vector<HostEntry>& extra,
                         const std::vector<HostEntry>& peers) {
    std::string s =
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\n"
        "ff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n";
    for (const auto& e : extra) s += e.ip + "\t" + e.names + "\n";
    if (!own_ip.empty() && !hostname.empty()) s += own_ip + "\t" + hostname + "\n";
    for (const auto& p : peers) s += p.ip + "\t" + p.names + "\n";
    return s;
}

std::string render_resolv_conf(const std::string& host_resolv, const std::vector<std::string>& dns) {
    std::vector<std::string> servers, other;
    std::istringstream in(host_resolv);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key, value;
        words >> key >> value;
        if (key == "nameserver") {
            // Loopback servers of the host are not reachable from the container's namespace.
            if (value.rfind("127.", 0) == 0 || value == "::1") continue;
            servers.push_back(value);
        } else if (key == "search" || key == "domain" || key == "options") {
            other.push_back(line);
        }
    }
    if (!dns.empty()) servers = dns;
    if (servers.empty()) servers = {"8.8.8.8", "8.8.4.4"};
    std::string s;
    for (const auto& o : other) s += o + "\n";
    for (const auto& v : servers) s += "nameserver " + v + "\n";
    return s;
}

sys::Result<HostEntry> parse_add_host(const std::string& s) {
    size_t sep = s.find(':');
    if (sep == std::string::npos) sep = s.find('=');
    if (sep == std::string::npos || sep == 0 || sep + 1 >= s.size())
        return sys::fail_invalid("--add-host \"" + s + "\": expected HOST:IP");
    HostEntry e{s.substr(sep + 1), s.substr(0, sep)};
    unsigned char buf[16];
    if (::inet_pton(AF_INET, e.ip.c_str(), buf) != 1 && ::inet_pton(AF_INET6, e.ip.c_str(), buf) != 1) return sys::fail_invalid("--add-host \"" + s + "\": invalid IP address \"" + e.ip + "\"");
    for (char ch : e.names)
        if (ch == ' ' || ch == '\t' || ch == '\n') return sys::fail_invalid("--add-host \"" + s + "\": invalid host name");
    return e;
}

}  // namespace mydocker::engine::networks
