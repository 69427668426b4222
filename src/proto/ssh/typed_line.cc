// The keys of a typed line, as a terminal's line discipline and a shell's line editor treat
// the common ones.
#include "proto/ssh/typed_line.h"

namespace portcullis::proto::ssh {
namespace {

constexpr unsigned char kEscape = 0x1b;
constexpr unsigned char kBackspace = 0x08;
constexpr unsigned char kDelete = 0x7f;
constexpr unsigned char kCtrlC = 0x03;
constexpr unsigned char kCtrlU = 0x15;
constexpr unsigned char kCtrlW = 0x17;

constexpr unsigned char kCtrlD = 0x04;
constexpr unsigned char kCtrlO = 0x0f;
constexpr unsigned char kCtrlX = 0x18;

bool is_enter(unsigned char c) {
  return c == '\r' || c == '\n';
}

// Keys that can make a shell run the line without an Enter: Ctrl-D on a line with text (the
// terminal hands the text over, and a second Ctrl-D ends the input: sh runs what it read),
// Ctrl-O (bash runs the line and fetches the next from history), Ctrl-X (bash's Ctrl-X Ctrl-E
// runs the line after an editor).
bool submits(unsigned char c) {
  return c == kCtrlD || c == kCtrlO || c == kCtrlX;
}

}  // namespace

std::size_t TypedLine::take(std::string_view input) {
  std::size_t i = 0;
  for (; i < input.size(); ++i) {
    const auto byte = static_cast<unsigned char>(input[i]);
    if (is_enter(byte)) {
      // An Enter ends the line wherever it comes, in an escape sequence too (ESC then Enter is
      // an Enter to a terminal that has no line editor).
      if (escape_ != Escape::none) {
        escape_ = Escape::none;
        followed_ = false;
      }
      return i;
    }
    if (submits(byte) && !(byte == kCtrlD && empty())) {
      // Decided as an Enter is; what the shell then runs is not known.
      escape_ = Escape::none;
      followed_ = false;
      return i;
    }
    key(byte);
  }
  return i;
}

void TypedLine::reset() {
  text_.clear();
  followed_ = true;
  escape_ = Escape::none;
  csi_.clear();
}

void TypedLine::key(unsigned char byte) {
  if (escape_ != Escape::none) {
    escape_byte(byte);
    return;
  }
  switch (byte) {
    case kEscape:
      escape_ = Escape::started;
      return;
    case kBackspace:
    case kDelete:
      erase_character();
      return;
    case kCtrlU:
      text_.clear();
      return;
    case kCtrlW:
      erase_word();
      return;
    case kCtrlC:
      // The shell abandons the line and prints a new prompt.
      reset();
      return;
    case kCtrlD:
      return;  // on an empty line (take() ends a line with text here): the end of input
    default:
      break;
  }
  if (byte < 0x20) {
    // Tab completion, Ctrl-A/E/K/R/Y and the like change the line in ways only the shell
    // knows.
    followed_ = false;
    return;
  }
  if (text_.size() >= kMaxLine) {
    followed_ = false;
    return;
  }
  text_.push_back(static_cast<char>(byte));
}

void TypedLine::escape_byte(unsigned char byte) {
  if (escape_ == Escape::started) {
    if (byte == '[') {
      escape_ = Escape::csi;
      csi_.clear();
      return;
    }
    // Alt-key or another two-byte sequence: a line editor command.
    escape_ = Escape::none;
    followed_ = false;
    return;
  }
  // CSI: parameter and intermediate bytes (0x20-0x3f), then one final byte (0x40-0x7e).
  if (byte >= 0x20 && byte <= 0x3f) {
    if (csi_.size() < 16) csi_.push_back(static_cast<char>(byte));
    return;
  }
  escape_ = Escape::none;
  // ESC [ 200 ~ and ESC [ 201 ~ open and close a bracketed paste: the pasted keys between them
  // are typed text, taken as any other.
  if (byte == '~' && (csi_ == "200" || csi_ == "201")) return;
  followed_ = false;  // arrows, Home, End, Delete: cursor movement and history
}

void TypedLine::erase_character() {
  // One character: a UTF-8 sequence's continuation bytes go with it.
  while (!text_.empty()) {
    const auto last = static_cast<unsigned char>(text_.back());
    text_.pop_back();
    if ((last & 0xc0) != 0x80) break;
  }
}

void TypedLine::erase_word() {
  while (!text_.empty() && text_.back() == ' ') text_.pop_back();
  while (!text_.empty() && text_.back() != ' ') text_.pop_back();
}

}  // namespace portcullis::proto::ssh
