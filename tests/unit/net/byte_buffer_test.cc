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
    ASSERT_TRUE(buffer.reserve_message(100));
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

TEST(MessageBudgetTest, TakesUpToItsLimitAndNoMore) {
  MessageBudget budget(100);
  EXPECT_TRUE(budget.try_take(60));
  EXPECT_FALSE(budget.try_take(41));
  EXPECT_TRUE(budget.try_take(40));
  EXPECT_EQ(budget.used(), 100u);
  budget.give_back(60);
  EXPECT_TRUE(budget.try_take(60));
  EXPECT_FALSE(budget.try_take(static_cast<std::size_t>(-1)));  // no wrap-around
}

TEST(MessageBudgetTest, ALowerLimitRefusesNewReservationsOnly) {
  MessageBudget budget(100);
  ASSERT_TRUE(budget.try_take(80));
  budget.set_limit(50);
  EXPECT_EQ(budget.used(), 80u);
  EXPECT_FALSE(budget.try_take(1));
  budget.give_back(80);
  EXPECT_TRUE(budget.try_take(50));
}

TEST(ByteBufferBudgetTest, ALargeMessageDrawsFromTheBudgetAndReleaseReturnsIt) {
  std::thread([] {
    MessageBudget budget(1000);
    ByteBuffer buffer(16, &budget);
    append(buffer, "head");
    ASSERT_TRUE(buffer.reserve_message(600));
    EXPECT_EQ(budget.used(), 600u);
    EXPECT_EQ(buffer.charged(), 600u);
    ASSERT_TRUE(buffer.reserve_message(600));  // room already: nothing more taken
    EXPECT_EQ(budget.used(), 600u);
    buffer.consume(4);
    buffer.release();
    EXPECT_EQ(budget.used(), 0u);
    EXPECT_EQ(buffer.charged(), 0u);
  }).join();
}

TEST(ByteBufferBudgetTest, RefusesToGrowPastTheBudgetAndKeepsItsBytes) {
  std::thread([] {
    MessageBudget budget(1000);
    ByteBuffer first(16, &budget);
    ByteBuffer second(16, &budget);
    append(first, "a");
    append(second, "partial");
    ASSERT_TRUE(first.reserve_message(700));
    EXPECT_FALSE(second.reserve_message(400));
    EXPECT_EQ(second.capacity(), 16u);
    EXPECT_EQ(second.readable(), "partial");
    EXPECT_EQ(budget.used(), 700u);
    EXPECT_TRUE(second.reserve_message(300));  // what is left fits
    EXPECT_EQ(budget.used(), 1000u);
  }).join();
}

TEST(ByteBufferBudgetTest, GrowingAgainChargesOnlyTheNewStorage) {
  std::thread([] {
    MessageBudget budget(1000);
    ByteBuffer buffer(16, &budget);
    append(buffer, "x");
    ASSERT_TRUE(buffer.reserve_message(300));
    ASSERT_TRUE(buffer.reserve_message(500));
    EXPECT_EQ(budget.used(), 500u);
    EXPECT_EQ(buffer.capacity(), 500u);
    EXPECT_EQ(buffer.readable(), "x");
  }).join();
}

TEST(ByteBufferBudgetTest, ABufferDestroyedWithUnreadBytesReturnsItsCharge) {
  MessageBudget budget(1000);
  {
    ByteBuffer buffer(16, &budget);
    append(buffer, "unfinished");
    ASSERT_TRUE(buffer.reserve_message(900));
    buffer.release();  // unread bytes: keeps its storage
    EXPECT_EQ(budget.used(), 900u);
  }
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace portcullis::net
