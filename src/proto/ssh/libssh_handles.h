// Owning handles for libssh objects, so that every exit path frees them. Channels are not
// here: a session frees its channels itself (ssh_free), and freeing one after its session is
// a use after free.
#pragma once

#include <libssh/libssh.h>
#include <libssh/server.h>

#include <memory>

namespace portcullis::proto::ssh {

struct SessionFree {
  void operator()(ssh_session session) const { ssh_free(session); }
};
struct KeyFree {
  void operator()(ssh_key key) const { ssh_key_free(key); }
};
struct EventFree {
  void operator()(ssh_event event) const { ssh_event_free(event); }
};
struct BindFree {
  void operator()(ssh_bind bind) const { ssh_bind_free(bind); }
};
struct StringFree {
  void operator()(char* text) const { ssh_string_free_char(text); }
};

using SessionHandle = std::unique_ptr<ssh_session_struct, SessionFree>;
using KeyHandle = std::unique_ptr<ssh_key_struct, KeyFree>;
using EventHandle = std::unique_ptr<ssh_event_struct, EventFree>;
using BindHandle = std::unique_ptr<ssh_bind_struct, BindFree>;
using LibsshString = std::unique_ptr<char, StringFree>;

}  // namespace portcullis::proto::ssh
