#include <signal.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/foreground.h"
#include "sys/fd.h"

namespace mydocker::runtime {

sys::Result<int> run(const Context& ctx, const RunOptions& opts) {
    CreateOptions co = opts.create;
    int master = -1;
    if (!opts.detach) {
        sigset_t old;
        block_forwarded_signals(&old);
        if (co.console_socket.empty()) co.console_master_out = &master;
    }
    auto pid = create(ctx, co);
    if (!pid) return sys::fail(std::move(pid.error()));
    sys::UniqueFd master_fd(master);
    if (auto r = start(ctx, co.id); !r) {
        (void)remove(ctx, co.id, true);
        return sys::fail(std::move(r.error()));
    }
    if (opts.detach) return 0;
    auto code = wait_foreground(*pid, master_fd.get());
    if (!opts.keep) {
        if (auto r = remove(ctx, co.id, true); !r) ctx.log.warn("delete \"" + co.id + "\": " + r.error().message());
    }
    return code;
}

}  // namespace mydocker::runtime
