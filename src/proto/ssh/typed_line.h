// TypedLine: the line a person is typing at an interactive shell's prompt, rebuilt from the
// keys the client sends, so that the gateway can decide it when Enter is pressed and before
// the shell sees the Enter. It follows what a terminal in canonical mode and a line editor's
// basic keys do: characters are added, Backspace removes one, Ctrl-U clears the line, Ctrl-W
// removes a word, Ctrl-C abandons the line. Keys it cannot follow without seeing the shell's
// own state (Tab completion, arrows and history, cursor movement, other control keys) make the
// line "unfollowed": the gateway then knows the text only in part, and decides it as a program
// it cannot name (class unknown). Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace portcullis::proto::ssh {

class TypedLine {
 public:
  // Longest line followed; past it the line is unfollowed (and its text kept to this much).
  static constexpr std::size_t kMaxLine = 16 * 1024;

  // Takes the keys in `input` up to the first key that ends the line (not taken): returns how
  // many bytes were taken, all of `input` when none ends it. Enter (CR or LF) ends a line; so
  // do keys with which a shell can run it without one (Ctrl-D on a line with text, Ctrl-O,
  // Ctrl-X), which leave it unfollowed. Ctrl-D on an empty line is the end of input, taken as
  // any key.
  std::size_t take(std::string_view input);

  // The line so far, and whether every key since it began was followed.
  const std::string& text() const { return text_; }
  bool followed() const { return followed_; }
  // Whether nothing but the key that ends it was typed since the line began.
  bool empty() const { return text_.empty() && followed_; }
  // A new line begins (after Enter, or after the gateway refused the line).
  void reset();

 private:
  void key(unsigned char byte);
  void escape_byte(unsigned char byte);
  void erase_character();
  void erase_word();

  std::string text_;
  bool followed_ = true;
  // Inside an escape sequence (ESC, then CSI parameters up to a final byte).
  enum class Escape { none, started, csi } escape_ = Escape::none;
  std::string csi_;  // the CSI parameters so far: "200" and "201" mark a bracketed paste
};

}  // namespace portcullis::proto::ssh
