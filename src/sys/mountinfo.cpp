#include "sys/mountinfo.h"

#include <sstream>

#include "sys/files.h"

namespace mydocker::sys {

namespace {
std::string unescape(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && isdigit(s[i + 1]) && isdigit(s[i + 2]) &&
            isdigit(s[i + 3])) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}
}  // namespace

std::vector<MountInfo> parse_mountinfo(const std::string& text) {
    std::vector<MountInfo> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        MountInfo m;
        std::string majmin, field;
        if (!(ls >> m.id >> m.parent >> majmin >> m.root >> m.mount_point >> m.options)) continue;
        // Optional fields end at " - ".
        while (ls >> field && field != "-") {
        }
        ls >> m.fstype >> m.source >> m.super_options;
        m.root = unescape(m.root);
        m.mount_point = unescape(m.mount_point);
        m.source = unescape(m.source);
        out.push_back(std::move(m));
    }
    return out;
}

Result<std::vector<MountInfo>> read_mountinfo() {
    auto text = MD_TRY(read_file("/proc/self/mountinfo"));
    return parse_mountinfo(text);
}

}  // namespace mydocker::sys
