// GET /api/v1/reviews/stream: the pending reviews the caller may see, as Server-Sent Events —
// the whole list at the start and again whenever it changes, so that a reviewer's page shows a
// held statement as it is held and drops it once someone decides it. A whole list rather than
// changes: a client that reconnects needs no cursor, and the list is small (at most 1000).
#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <string>

#include "api/endpoints.h"
#include "api/event_stream.h"
#include "api/review_json.h"

namespace portcullis::api {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// How often the list is read again: a reviewer sees a new hold within half a second. The
// reviews live in the state store, shared by every instance, so this also sees the holds and
// decisions of the other instances.
constexpr std::chrono::milliseconds kPollInterval{500};
// Streams open at once, in all and per subject: each reads the store every poll, on the API's
// one thread, and holds one of its 64 connections; a console tab holds one. Well under the
// connection cap, so that reviewers and responders always find a connection free.
// A stream whose client left keeps its place until a write fails (the next change or
// keep-alive), so a person who moves between pages briefly holds a few.
constexpr std::size_t kMaxStreams = 24;
constexpr std::size_t kMaxStreamsPerSubject = 6;

// A stream's place in ReviewStreamSlots for as long as it is open.
class StreamSlot {
 public:
  StreamSlot(ReviewStreamSlots& slots, std::string subject)
      : slots_(slots), subject_(std::move(subject)) {
    ++slots_.total;
    ++slots_.by_subject[subject_];
  }
  ~StreamSlot() {
    --slots_.total;
    if (--slots_.by_subject[subject_] == 0) slots_.by_subject.erase(subject_);
  }
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;

 private:
  ReviewStreamSlots& slots_;
  std::string subject_;
};

}  // namespace

asio::awaitable<std::optional<Response>> get_review_stream(Call& call) {
  if (!call.services.reviews) co_return not_running("the approval workflow");
  if (!call.params.empty())
    co_return error_response(http::status::bad_request, "invalid_parameter",
                             "this stream takes no parameters");
  auto& slots = call.services.review_streams;
  const auto open_of_subject = slots.by_subject.find(call.caller->subject);
  if (slots.total >= kMaxStreams || (open_of_subject != slots.by_subject.end() &&
                                     open_of_subject->second >= kMaxStreamsPerSubject))
    co_return error_response(
        http::status::too_many_requests, "too_many_streams",
        fmt::format("at most {} review streams are open at once, {} per subject: close one",
                    kMaxStreams, kMaxStreamsPerSubject));
  const StreamSlot slot(slots, call.caller->subject);
  auto first = visible_reviews(call, store::ReviewStatus::pending);
  if (!first) co_return workflow_error(first.error());

  const std::string header(kEventStreamHead);
  if (!co_await call.write(header)) co_return std::nullopt;
  const std::string keep_alive(kKeepAliveComment);
  StreamCaller caller(call);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::string sent;
  auto last_write = Clock::now();
  Result<boost::json::array> reviews = std::move(first);
  for (;;) {
    if (!reviews) {
      const std::string error = error_event("unavailable", reviews.error().message);
      co_await call.write(error);
      co_return std::nullopt;
    }
    std::string list = boost::json::serialize(boost::json::object{{"reviews", *reviews}});
    if (list != sent) {
      const std::string event = fmt::format("event: reviews\ndata: {}\n\n", list);
      if (!co_await call.write(event)) co_return std::nullopt;
      sent = std::move(list);
      last_write = Clock::now();
    } else if (Clock::now() - last_write >= kKeepAliveInterval) {
      if (!co_await call.write(keep_alive)) co_return std::nullopt;
      last_write = Clock::now();
    }
    timer.expires_after(kPollInterval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (auto refused = caller.recheck(call)) {
      const std::string error = error_event("unauthorized", *refused);
      co_await call.write(error);
      co_return std::nullopt;
    }
    reviews = visible_reviews(call, store::ReviewStatus::pending);
  }
}

}  // namespace portcullis::api
