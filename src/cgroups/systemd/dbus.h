// A minimal D-Bus client: the wire protocol (little-endian marshalling, the message header),
// AUTH EXTERNAL over a unix socket, method calls and their replies, and the signals that
// arrive meanwhile. Just what the systemd cgroup driver needs: no libdbus or sd-bus, whose
// dependencies (and, for sd-bus, glibc's static dlopen of libsystemd's own) a static
// mydocker-runc would have to carry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sys/error.h"
#include "sys/fd.h"

namespace mydocker::cgroups::dbus {

enum class MessageType : uint8_t { method_call = 1, method_return = 2, error = 3, signal = 4 };

/// Marshals values at their D-Bus alignment; offsets count from the start of the buffer,
/// which must sit at an 8-aligned position of the message (the header and the body both do).
class Writer {
  public:
    void align(size_t n);
    void byte(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
    void u32(uint32_t v);
    void u64(uint64_t v);
    void boolean(bool v) { u32(v ? 1 : 0); }
    void string(std::string_view s);     // 's' and 'o'
    void signature(std::string_view s);  // 'g'
    /// Starts an array whose elements align to `elem_align`; returns a token for end_array.
    size_t begin_array(size_t elem_align);
    void end_array(size_t token);
    void begin_struct() { align(8); }
    const std::string& data() const { return buf_; }

  private:
    std::string buf_;
};

/// Reads values back, with the same alignment rules; every read checks the bounds.
class Reader {
  public:
    Reader(std::string_view data, size_t base = 0) : data_(data), base_(base) {}
    sys::Result<void> align(size_t n);
    sys::Result<uint8_t> byte();
    sys::Result<uint32_t> u32();
    sys::Result<uint64_t> u64();
    sys::Result<std::string> string();
    sys::Result<std::string> signature();
    /// Skips one complete value of signature `sig` (which must be a single complete type).
    sys::Result<void> skip(std::string_view sig);
    size_t pos() const { return pos_; }
    void seek(size_t p) { pos_ = p; }

  private:
    sys::Result<void> need(size_t n) const;
    std::string_view data_;
    size_t base_;  // the absolute offset of data_[0] in its message (alignment counts from there)
    size_t pos_ = 0;
};

/// A message: its header fields and its marshalled body.
struct Message {
    MessageType type = MessageType::method_call;
    uint8_t flags = 0;
    uint32_t serial = 0;
    std::string path, interface, member, error_name, destination, sender, signature;
    uint32_t reply_serial = 0;
    std::string body;
};

/// The bytes of `m` on the wire (little-endian, protocol version 1).
std::string encode(const Message& m);
/// How long the message starting with these (at least 16) bytes is; error if malformed.
sys::Result<size_t> message_length(std::string_view head);
/// Parses one whole message.
sys::Result<Message> decode(std::string_view bytes);
/// The error reply's text: "Name: message" (its first string argument, when it has one).
std::string error_text(const Message& m);

/// One connection to a bus, authenticated and registered (Hello).
class Connection {
  public:
    /// Connects to the unix socket `path` and authenticates as our uid (EXTERNAL); on a bus
    /// (`hello`: not a peer-to-peer socket) registers with Hello.
    static sys::Result<Connection> open(const std::string& path, bool hello);
    /// Calls a method and waits up to `timeout_ms` for its reply; an error reply is an Error.
    /// Signals read meanwhile are kept for next_signal().
    sys::Result<Message> call(Message m, int timeout_ms);
    /// The next signal (kept, or read within `timeout_ms`); not_found on timeout.
    sys::Result<Message> next_signal(int timeout_ms);

  private:
    sys::Result<Message> read_message(int timeout_ms);
    sys::Result<void> send(const std::string& bytes);
    sys::UniqueFd fd_;
    uint32_t serial_ = 0;
    std::string in_;  // bytes read but not yet parsed
    std::vector<Message> signals_;
};

}  // namespace mydocker::cgroups::dbus
