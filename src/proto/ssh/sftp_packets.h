// SFTP version 3 packets (draft-ietf-secsh-filexfer-02, the version OpenSSH's sftp-server
// speaks, with OpenSSH's extensions from its PROTOCOL file): framing of the byte stream of an
// sftp subsystem channel, the requests a client sends read into what they name, and the
// STATUS reply the gateway sends for a request it refused. Pure: no I/O, no policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace portcullis::proto::ssh::sftp {

// Packet types (draft-ietf-secsh-filexfer-02, section 3).
enum PacketType : uint8_t {
  kInit = 1,
  kVersion = 2,
  kOpen = 3,
  kClose = 4,
  kRead = 5,
  kWrite = 6,
  kLstat = 7,
  kFstat = 8,
  kSetstat = 9,
  kFsetstat = 10,
  kOpendir = 11,
  kReaddir = 12,
  kRemove = 13,
  kMkdir = 14,
  kRmdir = 15,
  kRealpath = 16,
  kStat = 17,
  kRename = 18,
  kReadlink = 19,
  kSymlink = 20,
  kStatus = 101,
  kHandle = 102,
  kData = 103,
  kName = 104,
  kAttrs = 105,
  kExtended = 200,
  kExtendedReply = 201,
};

// The version this codec reads; a server that answers with another is not followed.
constexpr uint32_t kVersion3 = 3;

// SSH_FXP_OPEN's pflags (section 6.3).
constexpr uint32_t kOpenRead = 0x01;
constexpr uint32_t kOpenWrite = 0x02;
constexpr uint32_t kOpenAppend = 0x04;
constexpr uint32_t kOpenCreate = 0x08;
constexpr uint32_t kOpenTruncate = 0x10;
constexpr uint32_t kOpenExclusive = 0x20;

// SSH_FXP_STATUS codes (section 7).
enum StatusCode : uint32_t {
  kOk = 0,
  kEof = 1,
  kNoSuchFile = 2,
  kPermissionDenied = 3,
  kFailure = 4,
  kBadMessage = 5,
  kNoConnection = 6,
  kConnectionLost = 7,
  kOpUnsupported = 8,
};

// The largest packet body (type and fields, after the length) either side may send: OpenSSH's
// SFTP_MAX_MSG_LENGTH (sftp-common.h), which its sftp-server and sftp client enforce too.
constexpr std::size_t kMaxPacketBody = 256 * 1024;
// The length field before every packet.
constexpr std::size_t kLengthSize = 4;

// Where the next packet of a stream stands.
struct Frame {
  enum class State {
    need_more,  // its length, or part of its body, has not arrived
    ready,      // the stream holds the whole packet
    too_large,  // its length is over kMaxPacketBody, or zero: the stream cannot be followed
  };
  State state = State::need_more;
  // The packet's size, its length field included, once the length has arrived (0 before).
  std::size_t size = 0;
};

// The packet at the start of `stream`.
Frame next_frame(std::string_view stream);

// How the gateway treats a request it read.
enum class Treatment {
  pass,    // moves data of a handle opened earlier, or names nothing: forwarded as it is
  decide,  // names files: decided, journaled, then forwarded or refused
  refuse,  // the gateway does not know what it does: refused whatever the grant
};

// A client's request, read into what the decision needs.
struct Request {
  uint8_t type = 0;
  uint32_t id = 0;  // the request id (INIT has none: its version)
  // What it is, in the journal's words: "open", "remove", "rename", "posix-rename", ...
  std::string operation;
  Treatment treatment = Treatment::pass;
  // Whether it creates, changes, renames or removes a file or its attributes.
  bool writes = false;
  // The paths it names, as sent (a rename's both ends, a symlink's both strings).
  std::vector<std::string> paths;
  // OPEN: its pflags.
  uint32_t open_flags = 0;
  // The handle, for a request on one (FSETSTAT).
  std::string handle;
};

// Reads one whole packet's body (after the length field). An error: the packet is malformed
// (fields missing, a path holding a NUL, which OpenSSH's sftp-server refuses too), and the
// stream cannot be followed.
Result<Request> read_request(std::string_view body);

// The text a request is journaled and approved with: the operation, its paths quoted, and for
// OPEN how it opens ("open \"/srv/a\" write,create,truncate").
std::string describe(const Request& request);

// A server's answer, as far as the gateway reads it: which request it answers and, for a
// STATUS, the code.
struct Reply {
  uint8_t type = 0;
  std::optional<uint32_t> id;       // every reply but VERSION
  std::optional<uint32_t> status;   // STATUS
  std::optional<uint32_t> version;  // VERSION
};

// The number of body bytes read_reply() needs: a reply's type, id and status code.
constexpr std::size_t kReplyHeader = 9;

// Reads the start of a reply's body (up to kReplyHeader bytes, fewer when the body is
// shorter).
Reply read_reply(std::string_view body_start);

// SSH_FXP_STATUS for request `id`, framed: the code, the message (English, as the draft's
// language tag says).
std::string status_packet(uint32_t id, StatusCode code, std::string_view message);

// The gateway as a client of the host's sftp-server, asking where paths lead: INIT for
// version 3, and SSH_FXP_REALPATH for `path` as request `id`, each framed.
std::string init_packet();
std::string realpath_packet(uint32_t id, std::string_view path);

// The answer to a REALPATH request: the path the host resolved (the one name of a NAME
// reply), or the STATUS code it gave instead.
struct RealpathAnswer {
  uint32_t id = 0;
  std::optional<std::string> path;
  uint32_t status = kOk;
};

// Reads a whole reply body (after the length field) to a REALPATH request. An error: it is
// neither a NAME with exactly one name nor a STATUS, or it is malformed.
Result<RealpathAnswer> read_realpath_answer(std::string_view body);

// Whether the operation acts on what a link at the end of its path points to (open, stat)
// rather than on the link itself (lstat, remove, rename): where a path leads is asked of the
// host accordingly.
bool follows_last_link(const Request& request);

// A status code as the journal writes it ("no such file").
std::string_view status_name(uint32_t code);

}  // namespace portcullis::proto::ssh::sftp
