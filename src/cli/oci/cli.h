// mydocker-runc: runc's command line over the runtime library. Each command file registers
// its subcommand; handlers parse, call one library function, print, and set the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "runtime/context.h"
#include "sys/error.h"
#include "sys/log.h"

namespace mydocker::cli {

struct Globals {
    std::string root = "/run/mydocker-runc";
    std::string log_file;
    std::string log_format = "text";
    std::string log_level;
    bool debug = false;
    bool systemd_cgroup = false;
    std::string rootless = "auto";
    std::string criu;
    std::unique_ptr<sys::Logger> logger;
    /// Set by the chosen subcommand: runs after parsing, returns the exit code.
    std::function<sys::Result<int>(runtime::Context&)> action;
};

void register_lifecycle(CLI::App& app, Globals& g);  // create start run delete kill
void register_info(CLI::App& app, Globals& g);       // state list ps spec features
void register_exec(CLI::App& app, Globals& g);       // exec
void register_resources(CLI::App& app, Globals& g);  // update pause resume

}  // namespace mydocker::cli
