// See login.h.
#include "engine/images/login.h"

#include "engine/images/reference.h"
#include "engine/images/registry_client.h"
#include "sys/files.h"

namespace mydocker::engine::images {

sys::Result<LoginResult> login(const std::string& server, const Credentials& creds,
                               const CredentialFiles& files) {
    std::string host = MD_TRY(login_host(server));
    if (creds.username.empty()) return sys::fail_invalid("login " + host + ": empty username");
    if (creds.password.empty()) return sys::fail_invalid("login " + host + ": empty password");
    if (creds.username.find(':') != std::string::npos)
        return sys::fail_invalid("login " + host + ": username \"" + creds.username +
                                 "\" holds a ':'");
    Reference ref;
    ref.domain = host;
    RegistryClient reg(ref, "");
    reg.set_credentials(creds);
    // As docker checks a login: the API's root, which any valid user may GET (a Bearer token
    // with no scope is enough).
    HttpRequest req;
    req.timeout_seconds = 60;
    auto resp = MD_TRY_CTX(reg.request(std::move(req), "/v2/"), "login " + host);
    std::string url = resp.effective_url.empty() ? reg.base() + "/v2/" : resp.effective_url;
    if (resp.status == 401 || resp.status == 403)
        return sys::fail_invalid("login " + host + ": " +
                                 registry_status_error(resp, "Get \"" + url + "\": unauthorized"));
    if (resp.status != 200)
        return sys::fail_invalid("login " + host + ": " +
                                 registry_status_error(resp, "Get \"" + url + "\""));
    MD_TRY(store_credentials(files.own, host, creds));
    return LoginResult{auth_key(host), files.own};
}

sys::Result<LogoutResult> logout(const std::string& server, const CredentialFiles& files) {
    std::string host = MD_TRY(login_host(server));
    LogoutResult r;
    r.key = auth_key(host);
    r.removed = MD_TRY(remove_credentials(files.own, host));
    if (!r.removed) {
        for (const auto& f : files.foreign) {
            if (f.empty() || !sys::path_exists(f)) continue;
            auto text = sys::read_file(f);
            if (!text) continue;
            auto found = find_in_auth_file(*text, f, host, "");
            if (found && *found) {
                r.foreign = f;
                break;
            }
        }
    }
    return r;
}

}  // namespace mydocker::engine::images
