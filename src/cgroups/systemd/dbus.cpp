// The D-Bus wire protocol (https://dbus.freedesktop.org/doc/dbus-specification.html):
// "Marshaling", "Message Format" and "Authentication Protocol".
#include "cgroups/systemd/dbus.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mydocker::cgroups::dbus {
namespace {

enum HeaderField : uint8_t {
    kPath = 1,
    kInterface = 2,
    kMember = 3,
    kErrorName = 4,
    kReplySerial = 5,
    kDestination = 6,
    kSender = 7,
    kSignature = 8,
};

// A message may be at most 128 MiB (the specification's limit); ours are a few hundred bytes.
constexpr size_t kMaxMessage = 128u << 20;

sys::Error malformed(const std::string& what) {
    return sys::Error::invalid("malformed D-Bus message: " + what);
}

size_t alignment_of(char c) {
    switch (c) {
        case 'y':
        case 'g':
        case 'v':
            return 1;
        case 'n':
        case 'q':
            return 2;
        case 't':
        case 'x':
        case 'd':
        case '(':
        case '{':
            return 8;
        default:
            return 4;  // b i u s o a h
    }
}

// The end (one past) of the single complete type starting at sig[i].
sys::Result<size_t> complete_type_end(std::string_view sig, size_t i) {
    if (i >= sig.size())
        return sys::fail(malformed("truncated signature \"" + std::string(sig) + "\""));
    char c = sig[i];
    if (c == 'a') return complete_type_end(sig, i + 1);
    if (c == '(' || c == '{') {
        char close = c == '(' ? ')' : '}';
        size_t j = i + 1;
        while (j < sig.size() && sig[j] != close) j = MD_TRY(complete_type_end(sig, j));
        if (j >= sig.size())
            return sys::fail(malformed("unbalanced signature \"" + std::string(sig) + "\""));
        return j + 1;
    }
    return i + 1;
}

void header_string(Writer& w, uint8_t code, char type, const std::string& v) {
    if (v.empty()) return;
    w.begin_struct();
    w.byte(code);
    w.signature(std::string(1, type));
    if (type == 'g')
        w.signature(v);
    else
        w.string(v);
}

}  // namespace

void Writer::align(size_t n) {
    while (buf_.size() % n) buf_.push_back('\0');
}

void Writer::u32(uint32_t v) {
    align(4);
    for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<char>(v >> (8 * i)));
}

void Writer::u64(uint64_t v) {
    align(8);
    for (int i = 0; i < 8; ++i) buf_.push_back(static_cast<char>(v >> (8 * i)));
}

void Writer::string(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    buf_.append(s);
    buf_.push_back('\0');
}

void Writer::signature(std::string_view s) {
    byte(static_cast<uint8_t>(s.size()));
    buf_.append(s);
    buf_.push_back('\0');
}

size_t Writer::begin_array(size_t elem_align) {
    u32(0);  // the length, patched by end_array
    size_t token = buf_.size();
    // The padding to the first element is there even for an empty array, and is not counted.
    align(elem_align);
    return token | (buf_.size() - token) << 48;
}

void Writer::end_array(size_t token) {
    size_t len_end = token & ((size_t{1} << 48) - 1);
    size_t pad = token >> 48;
    auto len = static_cast<uint32_t>(buf_.size() - len_end - pad);
    for (int i = 0; i < 4; ++i) buf_[len_end - 4 + i] = static_cast<char>(len >> (8 * i));
}

sys::Result<void> Reader::need(size_t n) const {
    if (pos_ + n > data_.size()) return sys::fail(malformed("value past the end"));
    return {};
}

sys::Result<void> Reader::align(size_t n) {
    size_t abs = base_ + pos_;
    size_t pad = (n - abs % n) % n;
    MD_TRY(need(pad));
    pos_ += pad;
    return {};
}

sys::Result<uint8_t> Reader::byte() {
    MD_TRY(need(1));
    return static_cast<uint8_t>(data_[pos_++]);
}

sys::Result<uint32_t> Reader::u32() {
    MD_TRY(align(4));
    MD_TRY(need(4));
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<uint32_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return v;
}

sys::Result<uint64_t> Reader::u64() {
    MD_TRY(align(8));
    MD_TRY(need(8));
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
}

sys::Result<std::string> Reader::string() {
    uint32_t len = MD_TRY(u32());
    MD_TRY(need(size_t{len} + 1));
    std::string s(data_.substr(pos_, len));
    pos_ += size_t{len} + 1;
    return s;
}

sys::Result<std::string> Reader::signature() {
    uint8_t len = MD_TRY(byte());
    MD_TRY(need(size_t{len} + 1));
    std::string s(data_.substr(pos_, len));
    pos_ += size_t{len} + 1;
    return s;
}

sys::Result<void> Reader::skip(std::string_view sig) {
    if (sig.empty()) return sys::fail(malformed("empty signature"));
    char c = sig[0];
    switch (c) {
        case 'y':
            MD_TRY(byte());
            return {};
        case 'n':
        case 'q':
            MD_TRY(align(2));
            MD_TRY(need(2));
            pos_ += 2;
            return {};
        case 'b':
        case 'i':
        case 'u':
        case 'h':
            MD_TRY(u32());
            return {};
        case 't':
        case 'x':
        case 'd':
            MD_TRY(u64());
            return {};
        case 's':
        case 'o':
            MD_TRY(string());
            return {};
        case 'g':
            MD_TRY(signature());
            return {};
        case 'v': {
            std::string inner = MD_TRY(signature());
            return skip(inner);
        }
        case 'a': {
            uint32_t len = MD_TRY(u32());
            MD_TRY(align(alignment_of(sig[1])));
            MD_TRY(need(len));
            pos_ += len;
            return {};
        }
        case '(':
        case '{': {
            MD_TRY(align(8));
            size_t end = MD_TRY(complete_type_end(sig, 0));
            for (size_t i = 1; i + 1 < end;) {
                size_t j = MD_TRY(complete_type_end(sig, i));
                MD_TRY(skip(sig.substr(i, j - i)));
                i = j;
            }
            return {};
        }
        default:
            return sys::fail(malformed(std::string("unknown type code '") + c + "'"));
    }
}

std::string encode(const Message& m) {
    Writer h;
    h.byte('l');
    h.byte(static_cast<uint8_t>(m.type));
    h.byte(m.flags);
    h.byte(1);
    h.u32(static_cast<uint32_t>(m.body.size()));
    h.u32(m.serial);
    size_t fields = h.begin_array(8);
    header_string(h, kPath, 'o', m.path);
    header_string(h, kInterface, 's', m.interface);
    header_string(h, kMember, 's', m.member);
    header_string(h, kErrorName, 's', m.error_name);
    if (m.reply_serial) {
        h.begin_struct();
        h.byte(kReplySerial);
        h.signature("u");
        h.u32(m.reply_serial);
    }
    header_string(h, kDestination, 's', m.destination);
    header_string(h, kSender, 's', m.sender);
    header_string(h, kSignature, 'g', m.signature);
    h.end_array(fields);
    h.align(8);
    return h.data() + m.body;
}

sys::Result<size_t> message_length(std::string_view head) {
    if (head.size() < 16) return sys::fail(malformed("short header"));
    if (head[0] != 'l') return sys::fail(malformed("not little-endian"));
    Reader r(head);
    r.seek(4);
    uint32_t body = MD_TRY(r.u32());
    r.seek(12);
    uint32_t fields = MD_TRY(r.u32());
    size_t header = 16 + size_t{fields};
    header = (header + 7) & ~size_t{7};
    size_t total = header + body;
    if (total > kMaxMessage)
        return sys::fail(malformed("message of " + std::to_string(total) + " bytes"));
    return total;
}

sys::Result<Message> decode(std::string_view bytes) {
    size_t total = MD_TRY(message_length(bytes));
    if (bytes.size() < total) return sys::fail(malformed("truncated message"));
    Message m;
    Reader r(bytes.substr(0, total));
    r.seek(1);
    m.type = static_cast<MessageType>(MD_TRY(r.byte()));
    m.flags = MD_TRY(r.byte());
    if (MD_TRY(r.byte()) != 1) return sys::fail(malformed("protocol version is not 1"));
    uint32_t body_len = MD_TRY(r.u32());
    m.serial = MD_TRY(r.u32());
    uint32_t fields_len = MD_TRY(r.u32());
    size_t fields_end = r.pos() + fields_len;
    while (r.pos() < fields_end) {
        MD_TRY(r.align(8));
        uint8_t code = MD_TRY(r.byte());
        std::string sig = MD_TRY(r.signature());
        std::string* dst = nullptr;
        switch (code) {
            case kPath:
                dst = &m.path;
                break;
            case kInterface:
                dst = &m.interface;
                break;
            case kMember:
                dst = &m.member;
                break;
            case kErrorName:
                dst = &m.error_name;
                break;
            case kDestination:
                dst = &m.destination;
                break;
            case kSender:
                dst = &m.sender;
                break;
            default:
                break;
        }
        if (dst && (sig == "s" || sig == "o"))
            *dst = MD_TRY(r.string());
        else if (code == kSignature && sig == "g")
            m.signature = MD_TRY(r.signature());
        else if (code == kReplySerial && sig == "u")
            m.reply_serial = MD_TRY(r.u32());
        else
            MD_TRY(r.skip(sig));  // a field a later version defines
    }
    size_t body_start = total - body_len;
    m.body = std::string(bytes.substr(body_start, body_len));
    return m;
}

std::string error_text(const Message& m) {
    std::string text = m.error_name;
    if (m.signature.starts_with("s")) {
        Reader r(m.body);
        if (auto s = r.string()) text += ": " + *s;
    }
    return text;
}

namespace {

int64_t now_ms() {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// Reads what is there (waiting up to `timeout_ms`) and appends it to `buf`.
sys::Result<void> read_some(int fd, std::string& buf, int timeout_ms) {
    struct pollfd p {
        fd, POLLIN, 0
    };
    int n;
    do n = ::poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    if (n < 0) return sys::fail_errno("poll D-Bus socket");
    if (n == 0) return sys::fail(sys::Error::from_errno(ETIMEDOUT, "wait for D-Bus"));
    char chunk[4096];
    ssize_t got;
    do got = ::read(fd, chunk, sizeof chunk);
    while (got < 0 && errno == EINTR);
    if (got < 0) return sys::fail_errno("read D-Bus socket");
    if (got == 0)
        return sys::fail(sys::Error::from_errno(ECONNRESET, "D-Bus peer closed the connection"));
    buf.append(chunk, static_cast<size_t>(got));
    return {};
}

}  // namespace

sys::Result<void> Connection::send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
        ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys::fail_errno("write D-Bus socket");
        off += static_cast<size_t>(n);
    }
    return {};
}

sys::Result<Connection> Connection::open(const std::string& path, bool hello_bus) {
    Connection c;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return sys::fail_errno("socket");
    c.fd_.reset(fd);
    struct sockaddr_un sa {};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        return sys::fail_invalid("D-Bus socket path \"" + path + "\" is too long");
    std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    int rc;
    do rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) return sys::fail_errno("connect to D-Bus \"" + path + "\"");
    // AUTH EXTERNAL: the server checks the uid we name (hex of its decimal digits) against
    // the socket's peer credentials.
    std::string uid = std::to_string(::getuid()), hex;
    static const char digits[] = "0123456789abcdef";
    for (unsigned char ch : uid) {
        hex += digits[ch >> 4];
        hex += digits[ch & 15];
    }
    MD_TRY(c.send(std::string(1, '\0') + "AUTH EXTERNAL " + hex + "\r\n"));
    std::string line;
    while (line.find("\r\n") == std::string::npos)
        MD_TRY_CTX(read_some(fd, line, 5000), "D-Bus authentication");
    if (!line.starts_with("OK ")) {
        return sys::fail(sys::Error::from_errno(
            EACCES, "D-Bus authentication refused: " + line.substr(0, line.find('\r'))));
    }
    c.in_ = line.substr(line.find("\r\n") + 2);
    MD_TRY(c.send("BEGIN\r\n"));
    if (!hello_bus) return c;
    Message hello;
    hello.path = "/org/freedesktop/DBus";
    hello.interface = "org.freedesktop.DBus";
    hello.member = "Hello";
    hello.destination = "org.freedesktop.DBus";
    MD_TRY_CTX(c.call(std::move(hello), 5000), "D-Bus Hello");
    return c;
}

sys::Result<Message> Connection::read_message(int timeout_ms) {
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        if (in_.size() >= 16) {
            size_t len = MD_TRY(message_length(in_));
            if (in_.size() >= len) {
                Message m = MD_TRY(decode(in_));
                in_.erase(0, len);
                return m;
            }
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) return sys::fail(sys::Error::from_errno(ETIMEDOUT, "wait for D-Bus"));
        MD_TRY(read_some(fd_.get(), in_, static_cast<int>(left)));
    }
}

sys::Result<Message> Connection::call(Message m, int timeout_ms) {
    m.type = MessageType::method_call;
    m.serial = ++serial_;
    uint32_t serial = m.serial;
    MD_TRY(send(encode(m)));
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return sys::fail(
                sys::Error::from_errno(ETIMEDOUT, "wait for the reply to " + m.member));
        Message r = MD_TRY(read_message(static_cast<int>(left)));
        if (r.type == MessageType::signal) {
            signals_.push_back(std::move(r));
            continue;
        }
        if (r.reply_serial != serial) continue;  // a reply to a call we gave up on
        if (r.type == MessageType::error)
            return sys::fail(sys::Error::invalid(m.member + ": " + error_text(r)));
        return r;
    }
}

sys::Result<Message> Connection::next_signal(int timeout_ms) {
    if (!signals_.empty()) {
        Message m = std::move(signals_.front());
        signals_.erase(signals_.begin());
        return m;
    }
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) return sys::fail(sys::Error::not_found("no D-Bus signal in time"));
        auto r = read_message(static_cast<int>(left));
        if (!r) {
            if (r.error().code() == sys::ErrorCode::system && r.error().err() == ETIMEDOUT)
                return sys::fail(sys::Error::not_found("no D-Bus signal in time"));
            return sys::fail(r.error());
        }
        if (r->type == MessageType::signal) return std::move(*r);
    }
}

}  // namespace mydocker::cgroups::dbus
