// The event loops run on threads named for them, so that `top -H` and perf tell them apart.
#include "net/io_threads.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <array>
#include <boost/asio/post.hpp>
#include <future>
#include <string>
#include <thread>

#include "common/thread_name.h"

namespace portcullis::net {
namespace {

std::string current_thread_name() {
  std::array<char, 16> name{};
  pthread_getname_np(pthread_self(), name.data(), name.size());
  return name.data();
}

TEST(IoThreadsTest, EachLoopRunsOnAThreadNamedForIt) {
  IoThreads threads(2);
  threads.start();
  for (std::size_t i = 0; i < 2; ++i) {
    std::promise<std::string> seen;
    boost::asio::post(threads.context(i), [&seen] { seen.set_value(current_thread_name()); });
    EXPECT_EQ(seen.get_future().get(), "io " + std::to_string(i));
  }
  threads.stop();
  threads.join();
}

TEST(ThreadNameTest, LongNamesAreCutToWhatLinuxKeeps) {
  std::promise<std::string> seen;
  std::thread thread([&seen] {
    name_this_thread("a name longer than fifteen bytes");
    seen.set_value(current_thread_name());
  });
  EXPECT_EQ(seen.get_future().get(), "a name longer t");
  thread.join();
}

}  // namespace
}  // namespace portcullis::net
