// Result<T> and Error: the one error convention of mydocker (STYLE.md §2).
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace mydocker::sys {

/// A typed error kind for failures that are not a plain errno.
enum class ErrorCode {
    system,            // errno_ holds the cause
    not_found,         // a container, file or name does not exist
    already_exists,    // a container id or name is taken
    bad_state,         // the operation is not allowed in the current state
    invalid_argument,  // bad user input (flag, config field)
};

/// An error: errno or typed code, plus a chain of context ("create 'x': mount ...: EPERM").
class Error {
public:
    Error() = default;
    Error(ErrorCode code, std::string message, int err = 0)
        : code_(code), errno_(err), message_(std::move(message)) {}

    /// An errno failure of `what` (e.g. `mount "proc" on "/x"`).
    static Error from_errno(int err, std::string what) {
        return Error(ErrorCode::system, std::move(what), err);
    }
    static Error invalid(std::string message) {
        return Error(ErrorCode::invalid_argument, std::move(message));
    }
    static Error not_found(std::string message) {
        return Error(ErrorCode::not_found, std::move(message), ENOENT);
    }
    static Error bad_state(std::string message) {
        return Error(ErrorCode::bad_state, std::move(message));
    }
    static Error exists(std::string message) {
        return Error(ErrorCode::already_exists, std::move(message), EEXIST);
    }

    /// Prefix the message with the context of the caller; returns *this for chaining.
    Error& wrap(std::string_view context) & {
        message_ = std::string(context) + ": " + message_;
        return *this;
    }
    Error&& wrap(std::string_view context) && { return std::move(wrap(context)); }

    ErrorCode code() const { return code_; }
    int err() const { return errno_; }
    /// The full message, with strerror appended for system errors.
    std::string message() const;
    /// The message without the strerror suffix.
    const std::string& context() const { return message_; }

private:
    ErrorCode code_ = ErrorCode::system;
    int errno_ = 0;
    std::string message_;
};

template <typename T = void>
using Result = std::expected<T, Error>;

/// Shorthand for returning an error from a Result-returning function.
inline std::unexpected<Error> fail(Error e) { return std::unexpected<Error>(std::move(e)); }
/// The errno-capturing failure of `what`, errno read at the call.
inline std::unexpected<Error> fail_errno(std::string what) {
    return std::unexpected<Error>(Error::from_errno(errno, std::move(what)));
}
inline std::unexpected<Error> fail_invalid(std::string message) {
    return std::unexpected<Error>(Error::invalid(std::move(message)));
}

}  // namespace mydocker::sys

namespace mydocker::sys::detail {
template <typename T, typename E>
T unwrap(std::expected<T, E>&& r) { return std::move(*r); }
template <typename E>
void unwrap(std::expected<void, E>&&) {}
}  // namespace mydocker::sys::detail

/// Evaluate a Result; on error return it from the enclosing function, else yield the value.
#define MD_TRY(expr)                                                      \
    ({                                                                    \
        auto&& md_try_r_ = (expr);                                        \
        if (!md_try_r_) return std::unexpected(std::move(md_try_r_.error())); \
        ::mydocker::sys::detail::unwrap(std::move(md_try_r_));            \
    })

/// Like MD_TRY but wraps the error with a context string first.
#define MD_TRY_CTX(expr, ctx)                                                         \
    ({                                                                                \
        auto&& md_try_r_ = (expr);                                                    \
        if (!md_try_r_) return std::unexpected(std::move(md_try_r_.error()).wrap(ctx)); \
        ::mydocker::sys::detail::unwrap(std::move(md_try_r_));                        \
    })
