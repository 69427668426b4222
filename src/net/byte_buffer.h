// ByteBuffer: a read buffer for one direction of a connection. Bytes are appended at the end
// by reads and consumed from the front by the codec; the capacity is bounded by the caller,
// so a slow peer gets back-pressure instead of unbounded memory. Storage is not zero-filled,
// so an idle connection only holds the pages its messages touched.
#pragma once

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <cstring>
#include <memory>
#include <string_view>

namespace portcullis::net {

class ByteBuffer {
 public:
  explicit ByteBuffer(std::size_t capacity) : capacity_(capacity) {}

  std::string_view readable() const { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return begin_ == end_; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Room for the next read. Moves unread bytes to the front when that makes room, and
  // grows the storage to `capacity()` if it must.
  boost::asio::mutable_buffer writable() {
    if (!data_) data_.reset(new char[capacity_]);
    if (end_ == capacity_ && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {data_.get() + end_, capacity_ - end_};
  }
  void commit(std::size_t n) { end_ += n; }

  // Gives back the memory of a large message once the buffer is empty again.
  void shrink_to(std::size_t capacity) {
    if (begin_ != end_ || capacity_ <= capacity) return;
    data_.reset();
    capacity_ = capacity;
    begin_ = end_ = 0;
  }

  // Makes room for at least `total` unread bytes in all (an inspected message whose whole
  // body must be in memory). Never shrinks.
  void reserve_message(std::size_t total) {
    if (total > capacity_) {
      std::unique_ptr<char[]> bigger(new char[total]);
      if (data_) std::memcpy(bigger.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
      data_ = std::move(bigger);
      capacity_ = total;
    } else if (data_ && begin_ + total > capacity_) {
      std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
  }

 private:
  std::unique_ptr<char[]> data_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace portcullis::net
