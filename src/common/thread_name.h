// Names the calling thread as `top -H`, `ps -L`, perf and gdb show it. Linux keeps 15 bytes
// of a name: longer ones are cut rather than refused.
#pragma once

#include <pthread.h>

#include <string>

namespace portcullis {

inline void name_this_thread(std::string name) {
  if (name.size() > 15) name.resize(15);
  pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace portcullis
