// ByteBuffer: a read buffer for one direction of a connection. Bytes are appended at the end
// by reads and consumed from the front by the codec; the capacity is bounded by the caller,
// so a slow peer gets back-pressure instead of unbounded memory.
//
// An idle connection holds no buffer: a relay gives its storage back (release()) before it
// waits for the socket to become readable, and takes it again for the read. Storage of the
// usual size goes to a small per-thread free list rather than to malloc, so the busy path
// costs no allocation per read; storage is not zero-filled.
//
// Storage larger than the initial capacity (a large message held whole) is drawn from a
// MessageBudget shared by every session, when one is given.
#pragma once

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "net/message_budget.h"

namespace portcullis::net {

// Free storage of one size, kept per thread (each I/O thread runs its own sessions).
class BufferPool {
 public:
  // Storage of `size` bytes: from the free list when it holds that size.
  static std::unique_ptr<char[]> take(std::size_t size) {
    auto& pool = local();
    if (size == pool.size_ && !pool.free_.empty()) {
      auto storage = std::move(pool.free_.back());
      pool.free_.pop_back();
      return storage;
    }
    return std::unique_ptr<char[]>(new char[size]);
  }
  // Returns storage to the free list (or to malloc when the list is full or the size is not
  // the pooled one).
  static void give(std::unique_ptr<char[]> storage, std::size_t size) {
    auto& pool = local();
    if (pool.size_ == 0) pool.size_ = size;
    if (size == pool.size_ && pool.free_.size() < kMaxFree)
      pool.free_.push_back(std::move(storage));
  }
  // How many buffers this thread keeps for reuse (tests).
  static std::size_t free_count() { return local().free_.size(); }

 private:
  // Enough for a burst of connections waking at once; the rest goes back to malloc.
  static constexpr std::size_t kMaxFree = 64;
  static BufferPool& local() {
    thread_local BufferPool pool;
    return pool;
  }
  std::size_t size_ = 0;  // the first size given back is the one pooled
  std::vector<std::unique_ptr<char[]>> free_;
};

class ByteBuffer {
 public:
  // `budget` (may be null: no shared bound) must outlive the buffer.
  explicit ByteBuffer(std::size_t capacity, MessageBudget* budget = nullptr)
      : capacity_(capacity), pooled_size_(capacity), budget_(budget) {}
  ~ByteBuffer() {
    release();
    give_back_charge();  // storage still holding unread bytes goes with the buffer
  }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  std::string_view readable() const { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return begin_ == end_; }
  // Whether storage is held now (an idle relay holds none).
  bool holds_storage() const { return data_ != nullptr; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Room for the next read. Moves unread bytes to the front when that makes room, and
  // takes storage of `capacity()` if it holds none.
  boost::asio::mutable_buffer writable() {
    if (!data_) data_ = BufferPool::take(capacity_);
    if (end_ == capacity_ && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {data_.get() + end_, capacity_ - end_};
  }
  void commit(std::size_t n) { end_ += n; }

  // Gives the storage back while no byte is unread (before waiting for the next read), and
  // the memory of a large message with it: the capacity returns to the initial one.
  void release() {
    if (!data_ || begin_ != end_) return;
    if (capacity_ == pooled_size_) {
      BufferPool::give(std::move(data_), capacity_);
    } else {
      data_.reset();
      capacity_ = pooled_size_;
      give_back_charge();
    }
    begin_ = end_ = 0;
  }

  // Makes room for at least `total` unread bytes in all (an inspected message whose whole
  // body must be in memory). Never shrinks. False, with nothing changed, when the budget
  // cannot spare the storage.
  [[nodiscard]] bool reserve_message(std::size_t total) {
    if (total > capacity_) {
      if (budget_ && !budget_->try_take(total)) return false;
      std::unique_ptr<char[]> bigger(new char[total]);
      if (data_) std::memcpy(bigger.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      if (data_ && capacity_ == pooled_size_) {
        BufferPool::give(std::move(data_), capacity_);
      }
      data_ = std::move(bigger);
      capacity_ = total;
      give_back_charge();  // of the smaller large storage just replaced, if any
      if (budget_) charged_ = total;
    } else if (data_ && begin_ + total > capacity_) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return true;
  }

  // Bytes of the shared budget this buffer holds now.
  std::size_t charged() const { return charged_; }

 private:
  void give_back_charge() {
    if (charged_ == 0) return;
    budget_->give_back(charged_);
    charged_ = 0;
  }

  std::unique_ptr<char[]> data_;
  std::size_t capacity_;
  std::size_t pooled_size_;  // the initial capacity: storage of this size is pooled
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  MessageBudget* budget_;
  std::size_t charged_ = 0;  // taken from budget_ for the storage held now
};

}  // namespace portcullis::net
