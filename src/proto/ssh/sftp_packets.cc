// SFTP version 3 packets: the big-endian reader every field goes through, the requests read
// into what they name, and the STATUS reply the gateway writes.
#include "proto/ssh/sftp_packets.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>

namespace portcullis::proto::ssh::sftp {
namespace {

// ATTRS flags (section 5); other bits carry no field in version 3.
constexpr uint32_t kAttrSize = 0x00000001;
constexpr uint32_t kAttrUidGid = 0x00000002;
constexpr uint32_t kAttrPermissions = 0x00000004;
constexpr uint32_t kAttrAccessModifyTime = 0x00000008;
constexpr uint32_t kAttrExtended = 0x80000000;

// The one reader of SFTP fields: uint32, uint64 and string (uint32 length, then bytes), all
// big-endian. A read past the end fails, and every later read fails too.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool ok() const { return ok_; }
  std::size_t left() const { return data_.size(); }

  uint8_t byte() {
    if (!take(1)) return 0;
    return static_cast<uint8_t>(taken_[0]);
  }
  uint32_t u32() {
    if (!take(4)) return 0;
    uint32_t value = 0;
    for (const char c : taken_) value = (value << 8) | static_cast<uint8_t>(c);
    return value;
  }
  uint64_t u64() {
    const uint64_t high = u32();
    return (high << 32) | u32();
  }
  std::string_view string() {
    const uint32_t size = u32();
    if (!take(size)) return {};
    return taken_;
  }
  // ATTRS: only checked to be whole, the gateway decides nothing on them.
  void attributes() {
    const uint32_t flags = u32();
    if (flags & kAttrSize) u64();
    if (flags & kAttrUidGid) u64();
    if (flags & kAttrPermissions) u32();
    if (flags & kAttrAccessModifyTime) u64();
    if (flags & kAttrExtended) {
      const uint32_t count = u32();
      // Each pair takes at least 8 bytes: a count the packet cannot hold ends the loop early.
      for (uint32_t i = 0; i < count && ok_; ++i) {
        string();
        string();
      }
    }
  }

 private:
  bool take(std::size_t n) {
    if (!ok_ || data_.size() < n) {
      ok_ = false;
      taken_ = {};
      return false;
    }
    taken_ = data_.substr(0, n);
    data_.remove_prefix(n);
    return true;
  }

  std::string_view data_;
  std::string_view taken_;
  bool ok_ = true;
};

void put_u32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

void put_string(std::string& out, std::string_view value) {
  put_u32(out, static_cast<uint32_t>(value.size()));
  out.append(value);
}

Error malformed(std::string_view what) {
  return Error{fmt::format("malformed sftp {} request", what)};
}

// How a request type reads: what it is called, whether it names paths (and how many), whether
// it writes, and whether ATTRS follow.
struct Shape {
  uint8_t type;
  std::string_view operation;
  Treatment treatment;
  int paths;  // strings naming files, first in the request
  bool writes;
  bool attributes;
  bool handle;  // a handle first (FSETSTAT)
};

constexpr std::array kShapes{
    Shape{kOpen, "open", Treatment::decide, 1, false, false, false},
    Shape{kClose, "close", Treatment::pass, 0, false, false, false},
    Shape{kRead, "read", Treatment::pass, 0, false, false, false},
    Shape{kWrite, "write", Treatment::pass, 0, false, false, false},
    Shape{kLstat, "lstat", Treatment::decide, 1, false, false, false},
    Shape{kFstat, "fstat", Treatment::pass, 0, false, false, false},
    Shape{kSetstat, "setstat", Treatment::decide, 1, true, true, false},
    // A handle opened to read still lets fchmod and fchown change its file.
    Shape{kFsetstat, "fsetstat", Treatment::decide, 0, true, true, true},
    Shape{kOpendir, "opendir", Treatment::decide, 1, false, false, false},
    Shape{kReaddir, "readdir", Treatment::pass, 0, false, false, false},
    Shape{kRemove, "remove", Treatment::decide, 1, true, false, false},
    Shape{kMkdir, "mkdir", Treatment::decide, 1, true, true, false},
    Shape{kRmdir, "rmdir", Treatment::decide, 1, true, false, false},
    Shape{kRealpath, "realpath", Treatment::decide, 1, false, false, false},
    Shape{kStat, "stat", Treatment::decide, 1, false, false, false},
    Shape{kRename, "rename", Treatment::decide, 2, true, false, false},
    Shape{kReadlink, "readlink", Treatment::decide, 1, false, false, false},
    // OpenSSH sends the target first, then the link (its PROTOCOL file, section 4.1): both
    // are paths to decide on, whichever order a server reads them in.
    Shape{kSymlink, "symlink", Treatment::decide, 2, true, false, false},
};

// OpenSSH's extended requests (PROTOCOL, section 4), and what they take after their name.
struct ExtendedShape {
  std::string_view name;
  std::string_view operation;
  Treatment treatment;
  int paths;
  bool writes;
  bool attributes;
};

constexpr std::array kExtendedShapes{
    ExtendedShape{"posix-rename@openssh.com", "posix-rename", Treatment::decide, 2, true, false},
    ExtendedShape{"hardlink@openssh.com", "hardlink", Treatment::decide, 2, true, false},
    ExtendedShape{"lsetstat@openssh.com", "lsetstat", Treatment::decide, 1, true, true},
    ExtendedShape{"statvfs@openssh.com", "statvfs", Treatment::decide, 1, false, false},
    ExtendedShape{"expand-path@openssh.com", "expand-path", Treatment::decide, 1, false, false},
    // On handles opened (and decided) earlier, or naming no file.
    ExtendedShape{"fstatvfs@openssh.com", "fstatvfs", Treatment::pass, 0, false, false},
    ExtendedShape{"fsync@openssh.com", "fsync", Treatment::pass, 0, false, false},
    ExtendedShape{"copy-data", "copy-data", Treatment::pass, 0, false, false},
    ExtendedShape{"limits@openssh.com", "limits", Treatment::pass, 0, false, false},
    ExtendedShape{"home-directory", "home-directory", Treatment::pass, 0, false, false},
    ExtendedShape{"users-groups-by-id@openssh.com", "users-groups-by-id", Treatment::pass, 0, false,
                  false},
};

// Reads `count` paths; false when one is missing or holds a NUL.
bool read_paths(Reader& reader, int count, std::vector<std::string>& paths) {
  for (int i = 0; i < count; ++i) {
    const auto path = reader.string();
    if (!reader.ok() || path.find('\0') != std::string_view::npos) return false;
    paths.emplace_back(path);
  }
  return true;
}

std::string open_mode(uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {kOpenRead, "read"},     {kOpenWrite, "write"},       {kOpenAppend, "append"},
      {kOpenCreate, "create"}, {kOpenTruncate, "truncate"}, {kOpenExclusive, "exclusive"},
  };
  std::string mode;
  uint32_t known = 0;
  for (const auto& [bit, name] : kNames) {
    known |= bit;
    if (!(flags & bit)) continue;
    if (!mode.empty()) mode += ',';
    mode += name;
  }
  if (flags & ~known)
    fmt::format_to(std::back_inserter(mode), "{}0x{:x}", mode.empty() ? "" : ",", flags & ~known);
  return mode.empty() ? "none" : mode;
}

}  // namespace

Frame next_frame(std::string_view stream) {
  if (stream.size() < kLengthSize) return {};
  Reader reader(stream);
  const uint32_t length = reader.u32();
  if (length == 0 || length > kMaxPacketBody) return {.state = Frame::State::too_large, .size = 0};
  const std::size_t size = kLengthSize + length;
  return {.state = stream.size() < size ? Frame::State::need_more : Frame::State::ready,
          .size = size};
}

Result<Request> read_request(std::string_view body) {
  Reader reader(body);
  Request request;
  request.type = reader.byte();
  if (!reader.ok()) return malformed("empty");
  if (request.type == kInit) {
    // INIT carries the client's version where other requests carry their id.
    request.id = reader.u32();
    if (!reader.ok()) return malformed("init");
    request.operation = "init";
    return request;
  }
  request.id = reader.u32();
  if (!reader.ok()) return malformed("request id of an");

  if (request.type == kExtended) {
    const auto name = reader.string();
    if (!reader.ok()) return malformed("extended");
    const auto shape = std::find_if(kExtendedShapes.begin(), kExtendedShapes.end(),
                                    [&](const ExtendedShape& s) { return s.name == name; });
    if (shape == kExtendedShapes.end()) {
      // Whatever it does is unknown to the gateway: it cannot be decided.
      request.operation = fmt::format("extended {:?}", name);
      request.treatment = Treatment::refuse;
      return request;
    }
    request.operation = shape->operation;
    request.treatment = shape->treatment;
    request.writes = shape->writes;
    if (!read_paths(reader, shape->paths, request.paths)) return malformed(shape->operation);
    if (shape->attributes) reader.attributes();
    if (!reader.ok()) return malformed(shape->operation);
    return request;
  }

  const auto shape = std::find_if(kShapes.begin(), kShapes.end(),
                                  [&](const Shape& s) { return s.type == request.type; });
  if (shape == kShapes.end()) {
    request.operation = fmt::format("request type {}", request.type);
    request.treatment = Treatment::refuse;
    return request;
  }
  request.operation = shape->operation;
  request.treatment = shape->treatment;
  request.writes = shape->writes;
  if (shape->handle) {
    request.handle = reader.string();
    if (!reader.ok()) return malformed(shape->operation);
  }
  if (!read_paths(reader, shape->paths, request.paths)) return malformed(shape->operation);
  if (request.type == kOpen) {
    request.open_flags = reader.u32();
    // Any flag but READ may create or change the file (TRUNC alone truncates on Linux, CREAT
    // alone creates it): only a plain read is a read.
    request.writes = (request.open_flags & ~kOpenRead) != 0;
    reader.attributes();
  } else if (shape->attributes) {
    reader.attributes();
  }
  if (!reader.ok()) return malformed(shape->operation);
  return request;
}

std::string describe(const Request& request) {
  std::string text(request.operation);
  for (const auto& path : request.paths) fmt::format_to(std::back_inserter(text), " {:?}", path);
  if (request.type == kOpen)
    fmt::format_to(std::back_inserter(text), " {}", open_mode(request.open_flags));
  if (!request.handle.empty()) {
    text += " handle ";
    for (const char c : request.handle)
      fmt::format_to(std::back_inserter(text), "{:02x}", static_cast<uint8_t>(c));
  }
  return text;
}

Reply read_reply(std::string_view body_start) {
  Reader reader(body_start);
  Reply reply;
  reply.type = reader.byte();
  const uint32_t value = reader.u32();
  if (!reader.ok()) return reply;
  if (reply.type == kVersion) {
    reply.version = value;
    return reply;
  }
  reply.id = value;
  if (reply.type == kStatus) {
    const uint32_t code = reader.u32();
    if (reader.ok()) reply.status = code;
  }
  return reply;
}

std::string status_packet(uint32_t id, StatusCode code, std::string_view message) {
  std::string body;
  body.push_back(static_cast<char>(kStatus));
  put_u32(body, id);
  put_u32(body, code);
  put_string(body, message);
  put_string(body, "en");
  std::string packet;
  put_string(packet, body);
  return packet;
}

std::string init_packet() {
  std::string body;
  body.push_back(static_cast<char>(kInit));
  put_u32(body, kVersion3);
  std::string packet;
  put_string(packet, body);
  return packet;
}

std::string realpath_packet(uint32_t id, std::string_view path) {
  std::string body;
  body.push_back(static_cast<char>(kRealpath));
  put_u32(body, id);
  put_string(body, path);
  std::string packet;
  put_string(packet, body);
  return packet;
}

Result<RealpathAnswer> read_realpath_answer(std::string_view body) {
  Reader reader(body);
  RealpathAnswer answer;
  const uint8_t type = reader.byte();
  answer.id = reader.u32();
  if (type == kStatus) {
    answer.status = reader.u32();
    if (!reader.ok()) return Error{"malformed sftp status reply"};
    if (answer.status == kOk) return Error{"an sftp realpath answered with status ok"};
    return answer;
  }
  if (type != kName) return Error{fmt::format("an sftp realpath answered with type {}", type)};
  const uint32_t count = reader.u32();
  const std::string_view name = reader.string();
  reader.string();  // the long name, ls -l style
  reader.attributes();
  if (!reader.ok()) return Error{"malformed sftp name reply"};
  if (count != 1) return Error{fmt::format("an sftp realpath answered with {} names", count)};
  if (name.empty() || name.find('\0') != std::string_view::npos)
    return Error{"an sftp realpath answered with an empty or NUL-holding name"};
  answer.path = std::string(name);
  return answer;
}

bool follows_last_link(const Request& request) {
  // lstat, readlink and lsetstat look at the link; remove, rmdir, rename, mkdir, symlink and
  // hardlink change the directory entry itself (OpenSSH's sftp-server uses lstat, unlink,
  // rmdir, rename, mkdir, symlink and link, none of which follows a last link).
  static constexpr std::string_view kOnTheLink[] = {
      "lstat",  "readlink", "lsetstat", "remove",   "rmdir",
      "rename", "mkdir",    "symlink",  "hardlink", "posix-rename",
  };
  return std::find(std::begin(kOnTheLink), std::end(kOnTheLink), request.operation) ==
         std::end(kOnTheLink);
}

std::string_view status_name(uint32_t code) {
  static constexpr std::string_view kNames[] = {
      "ok",          "end of file",   "no such file",    "permission denied", "failure",
      "bad message", "no connection", "connection lost", "unsupported",
  };
  return code < std::size(kNames) ? kNames[code] : "unknown status";
}

}  // namespace portcullis::proto::ssh::sftp
