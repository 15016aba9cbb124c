// The runtime-spec "features" document (`mydocker-runc features`): what this runtime
// recognises, so callers such as containerd can adapt before writing a config.json.
#pragma once

#include <string>

namespace mydocker::runtime {

/// The features JSON (runtime-spec features.md), pretty-printed, without a final newline.
std::string features_json();

}  // namespace mydocker::runtime
