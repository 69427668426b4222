// $'...' decoding, following bash's ansicstr() (lib/sh/strtrans.c).
#include "shell/ansi_c_quoting.h"

#include <cstdint>

namespace portcullis::shell {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::size_t decode_ansi_c_quote(std::string_view text, std::size_t begin, std::string& out) {
  std::size_t i = begin;
  bool ended_by_nul = false;
  auto emit = [&](uint32_t cp, bool as_utf8) {
    if (ended_by_nul) return;
    if (cp == 0) {
      ended_by_nul = true;
      return;
    }
    if (as_utf8) {
      append_utf8(cp, out);
    } else {
      out += static_cast<char>(cp & 0xFF);
    }
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '\'') return i + 1;
    if (c != '\\' || i + 1 >= text.size()) {
      emit(static_cast<unsigned char>(c), false);
      ++i;
      continue;
    }
    char e = text[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        emit('\a', false);
        break;
      case 'b':
        emit('\b', false);
        break;
      case 'e':
      case 'E':
        emit('\x1b', false);
        break;
      case 'f':
        emit('\f', false);
        break;
      case 'n':
        emit('\n', false);
        break;
      case 'r':
        emit('\r', false);
        break;
      case 't':
        emit('\t', false);
        break;
      case 'v':
        emit('\v', false);
        break;
      case '\\':
      case '\'':
      case '"':
      case '?':
        emit(static_cast<unsigned char>(e), false);
        break;
      case 'x': {
        uint32_t v = 0;
        int n = 0;
        while (n < 2 && i < text.size() && hex_value(text[i]) >= 0) {
          v = v * 16 + static_cast<uint32_t>(hex_value(text[i]));
          ++i;
          ++n;
        }
        if (n == 0) {
          emit('\\', false);
          emit('x', false);
        } else {
          emit(v, false);
        }
        break;
      }
      case 'u':
      case 'U': {
        int max = e == 'u' ? 4 : 8;
        uint32_t v = 0;
        int n = 0;
        while (n < max && i < text.size() && hex_value(text[i]) >= 0) {
          v = v * 16 + static_cast<uint32_t>(hex_value(text[i]));
          ++i;
          ++n;
        }
        if (n == 0) {
          emit('\\', false);
          emit(static_cast<unsigned char>(e), false);
        } else {
          emit(v, true);
        }
        break;
      }
      case 'c':
        if (i < text.size()) {
          emit(static_cast<unsigned char>(text[i]) & 0x1F, false);
          ++i;
        } else {
          emit('\\', false);
          emit('c', false);
        }
        break;
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          int n = 1;
          while (n < 3 && i < text.size() && text[i] >= '0' && text[i] <= '7') {
            v = v * 8 + static_cast<uint32_t>(text[i] - '0');
            ++i;
            ++n;
          }
          emit(v, false);
        } else {
          emit('\\', false);
          emit(static_cast<unsigned char>(e), false);
        }
    }
  }
  return std::string_view::npos;
}

}  // namespace portcullis::shell
