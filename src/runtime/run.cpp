#include <signal.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/foreground.h"
#include "runtime/lifecycle.h"
#include "sys/fd.h"
#include "sys/files.h"

namespace mydocker::runtime {

sys::Result<int> run(const Context& ctx, const RunOptions& opts) {
    CreateOptions co = opts.create;
    int master = -1;
    if (!opts.detach) {
        sigset_t old;
        block_forwarded_signals(&old);
        if (co.console_socket.empty()) co.console_master_out = &master;
    }
    // One process creates, starts and deletes: what create knows is handed on in memory,
    // and init is started over the sync socket (no exec.fifo nobody else may use).
    auto bundle = MD_TRY(sys::absolute_path(co.bundle));
    auto text = sys::read_file(sys::path_join(bundle, "config.json"));
    if (!text) return sys::fail(std::move(text.error()).wrap("load bundle"));
    auto spec = MD_TRY(parse_spec(*text, bundle));
    co.bundle = bundle;
    auto c = create_container(ctx, co, std::move(spec), *text, true);
    if (!c) return sys::fail(std::move(c.error()));
    sys::UniqueFd master_fd(master);
    if (auto r = start_created(ctx, *c); !r) {
        (void)remove_created(ctx, *c);
        return sys::fail(std::move(r.error()));
    }
    if (opts.detach) return 0;
    auto code = wait_foreground(c->state.pid, master_fd.get());
    if (!opts.keep) {
        if (auto r = remove_created(ctx, *c); !r) ctx.log.warn("delete \"" + co.id + "\": " + r.error().message());
    }
    return code;
}

}  // namespace mydocker::runtime
