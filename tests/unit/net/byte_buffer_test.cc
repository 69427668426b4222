// ByteBuffer: reads append, the codec consumes, idle buffers give their storage back to the
// per-thread pool, and large messages' memory does not outlive them.
#include "net/byte_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>

namespace portcullis::net {
namespace {

void append(ByteBuffer& buffer, std::string_view bytes) {
  auto space = buffer.writable();
  ASSERT_GE(space.size(), bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
}

TEST(ByteBufferTest, HoldsNoStorageUntilTheFirstRead) {
  ByteBuffer buffer(1024);
  EXPECT_FALSE(buffer.holds_storage());
  EXPECT_TRUE(buffer.empty());
  append(buffer, "hello");
  EXPECT_TRUE(buffer.holds_storage());
  EXPECT_EQ(buffer.readable(), "hello");
}

TEST(ByteBufferTest, ConsumesFromTheFrontAndRewindsWhenEmpty) {
  ByteBuffer buffer(16);
  append(buffer, "0123456789");
  buffer.consume(4);
  EXPECT_EQ(buffer.readable(), "456789");
  buffer.consume(6);
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.writable().size(), 16u);  // the whole capacity again
}

TEST(ByteBufferTest, MovesUnreadBytesToTheFrontForRoom) {
  ByteBuffer buffer(8);
  append(buffer, "abcdefgh");
  buffer.consume(6);
  auto space = buffer.writable();
  EXPECT_EQ(space.size(), 6u);
  EXPECT_EQ(buffer.readable(), "gh");
}

TEST(ByteBufferTest, ReleaseKeepsUnreadBytes) {
  ByteBuffer buffer(64);
  append(buffer, "pending");
  buffer.release();  // not empty: nothing is given back
  EXPECT_TRUE(buffer.holds_storage());
  EXPECT_EQ(buffer.readable(), "pending");
}

TEST(ByteBufferTest, IdleStorageGoesToThePoolAndComesBack) {
  // A thread of its own: the pool is per thread and starts empty there.
  std::thread([] {
    ByteBuffer first(4096);
    append(first, "query");
    first.consume(5);
    EXPECT_EQ(BufferPool::free_count(), 0u);
    first.release();
    EXPECT_FALSE(first.holds_storage());
    EXPECT_EQ(BufferPool::free_count(), 1u);

    ByteBuffer second(4096);
    append(second, "reused");  // takes the pooled storage
    EXPECT_EQ(BufferPool::free_count(), 0u);
    EXPECT_EQ(second.readable(), "reused");
  }).join();
}

TEST(ByteBufferTest, ALargeMessageGrowsTheBufferAndReleaseShrinksIt) {
  std::thread([] {
    ByteBuffer buffer(16);
    append(buffer, "head");
    buffer.reserve_message(100);
    EXPECT_EQ(buffer.capacity(), 100u);
    EXPECT_EQ(buffer.readable(), "head");
    EXPECT_EQ(BufferPool::free_count(), 1u);  // the small storage went back to the pool
    buffer.consume(4);
    buffer.release();
    EXPECT_EQ(buffer.capacity(), 16u);
    EXPECT_EQ(BufferPool::free_count(), 1u);  // large storage goes to malloc, not the pool
    append(buffer, "small again");
    EXPECT_EQ(buffer.readable(), "small again");
  }).join();
}

TEST(ByteBufferTest, ThePoolIsBounded) {
  std::thread([] {
    std::vector<std::unique_ptr<ByteBuffer>> buffers;
    for (int i = 0; i < 200; ++i) {
      buffers.push_back(std::make_unique<ByteBuffer>(512));
      buffers.back()->writable();
    }
    buffers.clear();  // destruction releases each
    EXPECT_EQ(BufferPool::free_count(), 64u);
  }).join();
}

}  // namespace
}  // namespace portcullis::net
