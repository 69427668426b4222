// The SPDY exec stream relay: each stream's purpose read from the client's SYN_STREAM, stdout
// and stderr masked however the server frames them, stdin recorded, the client's bytes passed
// as they came, the exit status read; and what a raw client or an odd server could use to get
// output past masking refused.
#include "proto/kubernetes/spdy_exec_stream.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "spdy_test_frames.h"
#include "test_masker.h"

namespace portcullis::proto::kubernetes {
namespace {

using spdy_test::data_frame;
using spdy_test::syn_reply;
using spdy_test::syn_stream;

constexpr uint32_t kError = 1, kStdin = 3, kStdout = 5, kStderr = 7;

// The data of every data frame on `stream`, in order, and whether the last had FIN.
struct SpdyStreamData {
  std::string data;
  bool fin = false;
};
SpdyStreamData spdy_data_on(uint32_t stream, std::string_view bytes) {
  SpdyFrameReader reader;
  reader.feed(bytes);
  SpdyStreamData seen;
  for (;;) {
    auto next = reader.next();
    if (!next) {
      ADD_FAILURE() << next.error().message;
      break;
    }
    if (!*next) break;
    if ((*next)->control || (*next)->stream_id != stream) continue;
    EXPECT_FALSE(seen.fin) << "data after FIN";
    seen.data.append((*next)->payload);
    seen.fin = (*next)->fin();
  }
  EXPECT_EQ(reader.buffered(), 0U);
  return seen;
}

class SpdyExecStreamTest : public ::testing::Test {
 protected:
  SpdyExecStreamTest() {
    config::MaskingProfileConfig profile;
    profile.detectors = {"email", "us_ssn"};
    profile.strategy = "redact";
    masker_ = masking::testing::make_masker(profile);
    restart();
  }

  // Each stream relayed starts both directions' zlib streams afresh, as a new connection does.
  void restart() {
    client_headers_.emplace();
    server_headers_.emplace();
  }

  // kubectl's streams for `exec -i` without a terminal, each replied to by the server.
  void open_streams(SpdyExecStream& stream) {
    std::string to_server, to_client;
    for (const auto& [id, type] : {std::pair{kError, "error"}, std::pair{kStdin, "stdin"},
                                   std::pair{kStdout, "stdout"}, std::pair{kStderr, "stderr"}}) {
      const std::string frame = syn_stream(*client_headers_, id, {{"streamtype", type}});
      ASSERT_TRUE(stream.from_client(frame, to_server).ok());
      const std::string reply = syn_reply(*server_headers_, id);
      ASSERT_TRUE(stream.from_server(reply, to_client).ok());
    }
  }

  Result<void> open(SpdyExecStream& stream, uint32_t id, const SpdyHeaders& headers) {
    std::string to_server;
    return stream.from_client(syn_stream(*client_headers_, id, headers), to_server);
  }

  std::shared_ptr<const masking::Masker> masker_;
  masking::Scratch scratch_;
  masking::MaskCounts counts_;
  std::optional<SpdyHeaderWriter> client_headers_;
  std::optional<SpdyHeaderWriter> server_headers_;
};

TEST_F(SpdyExecStreamTest, MasksAnEmailSplitAcrossTwoStdoutFrames) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  open_streams(stream);
  std::string out;
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "mail ali"), out).ok());
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "ce@example.com now\n"), out).ok());
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "", true), out).ok());
  const auto seen = spdy_data_on(kStdout, out);
  EXPECT_EQ(seen.data, "mail [email] now\n");
  EXPECT_TRUE(seen.fin);
  EXPECT_EQ(stream.output_seen(), "mail [email] now\n");
  EXPECT_EQ(stream.output_bytes(), seen.data.size());
}

TEST_F(SpdyExecStreamTest, MasksOutputFedAtEverySplitPoint) {
  const std::string frames =
      data_frame(kStderr, "ssn 123-45-6789 end") + data_frame(kStderr, "", true);
  for (std::size_t cut = 1; cut < frames.size(); ++cut) {
    restart();
    SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
    open_streams(stream);
    std::string out;
    ASSERT_TRUE(stream.from_server(frames.substr(0, cut), out).ok());
    ASSERT_TRUE(stream.from_server(frames.substr(cut), out).ok());
    EXPECT_EQ(spdy_data_on(kStderr, out).data, "ssn [us_ssn] end") << cut;
  }
}

TEST_F(SpdyExecStreamTest, HoldsAPromptUntilFlushedAndTheRestUntilFinished) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  open_streams(stream);
  std::string out;
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "$ "), out).ok());
  EXPECT_EQ(spdy_data_on(kStdout, out).data, "");
  stream.flush(out);
  EXPECT_EQ(spdy_data_on(kStdout, out).data, "$ ");
  out.clear();
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "bob@example.org"), out).ok());
  stream.finish(out);
  EXPECT_EQ(spdy_data_on(kStdout, out).data, "[email]");
}

TEST_F(SpdyExecStreamTest, GoawaySendsWhatIsHeldFirst) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  open_streams(stream);
  std::string out;
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "tail bob@example.org"), out).ok());
  const std::string goaway = spdy_test::goaway(0);
  ASSERT_TRUE(stream.from_server(goaway, out).ok());
  EXPECT_EQ(spdy_data_on(kStdout, out).data, "tail [email]");
  EXPECT_TRUE(out.ends_with(goaway));
}

TEST_F(SpdyExecStreamTest, WithoutAMaskerOutputPassesUnchanged) {
  SpdyExecStream stream(nullptr, &scratch_, &counts_);
  open_streams(stream);
  std::string out;
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "a@b.example\n", true), out).ok());
  EXPECT_EQ(spdy_data_on(kStdout, out).data, "a@b.example\n");
}

TEST_F(SpdyExecStreamTest, PassesTheClientsBytesAsTheyCameAndRecordsStdin) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_, {.kept = {.kept_input = 8}});
  std::string sent, to_server;
  for (const auto& [id, type] :
       {std::pair{kError, "error"}, std::pair{kStdin, "stdin"}, std::pair{kStdout, "stdout"}}) {
    const std::string frame = syn_stream(*client_headers_, id, {{"streamtype", type}});
    sent += frame;
    ASSERT_TRUE(stream.from_client(frame, to_server).ok());
  }
  for (const auto& frame : {data_frame(kStdin, "ssn 123-45-6789\n"), data_frame(kStdin, "", true),
                            spdy_test::ping(1)}) {
    sent += frame;
    ASSERT_TRUE(stream.from_client(frame, to_server).ok());
  }
  EXPECT_EQ(to_server, sent);
  EXPECT_EQ(stream.input_bytes(), 16U);
  EXPECT_EQ(stream.input_seen(), "ssn 123-");
  EXPECT_TRUE(stream.input_cut());
}

TEST_F(SpdyExecStreamTest, ReadsTheExitStatusAndPassesTheStatusOn) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  open_streams(stream);
  std::string out;
  const std::string status =
      R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit )"
      R"(code: exit status 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":)"
      R"("ExitCode","message":"3"}]}})";
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "last alice@example.com"), out).ok());
  ASSERT_TRUE(stream.from_server(data_frame(kError, status.substr(0, 40)), out).ok());
  EXPECT_FALSE(stream.exit_code());
  ASSERT_TRUE(stream.from_server(data_frame(kError, status.substr(40), true), out).ok());
  EXPECT_EQ(stream.exit_code(), 3);
  EXPECT_EQ(spdy_data_on(kError, out).data, status);
  // Output held when the Status came went out before it.
  EXPECT_EQ(spdy_data_on(kStdout, out).data, "last [email]");
  EXPECT_LT(out.find("[email]"), out.find("Failure"));
}

TEST_F(SpdyExecStreamTest, ReadsASuccessAndAnotherFailure) {
  {
    SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
    open_streams(stream);
    std::string out;
    ASSERT_TRUE(stream.from_server(data_frame(kError, R"({"status":"Success"})"), out).ok());
    EXPECT_EQ(stream.exit_code(), 0);
  }
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  restart();
  open_streams(stream);
  std::string out;
  ASSERT_TRUE(stream
                  .from_server(data_frame(kError, R"({"status":"Failure","message":"exec: )"
                                                  R"(\"nope\": not found"})"),
                               out)
                  .ok());
  EXPECT_FALSE(stream.exit_code());
  EXPECT_EQ(stream.status_message(), "exec: \"nope\": not found");
}

TEST_F(SpdyExecStreamTest, PassesPingsSettingsAndWindowUpdatesBothWays) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  open_streams(stream);
  std::string window;
  spdy_test::append_u32(window, kStdout);
  spdy_test::append_u32(window, 1000);
  const std::string frames =
      spdy_test::ping(2) +
      spdy_test::control_frame(SpdyControl::settings, 0, std::string(4, '\0')) +
      spdy_test::control_frame(SpdyControl::window_update, 0, window);
  std::string to_client, to_server;
  ASSERT_TRUE(stream.from_server(frames, to_client).ok());
  ASSERT_TRUE(stream.from_client(frames, to_server).ok());
  EXPECT_EQ(to_client, frames);
  EXPECT_EQ(to_server, frames);
}

// A stream the server opens could carry anything to the client: refused.
TEST_F(SpdyExecStreamTest, RefusesAStreamTheServerOpens) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  open_streams(stream);
  std::string out;
  auto pushed =
      stream.from_server(syn_stream(*server_headers_, 2, {{"streamtype", "stdout"}}), out);
  EXPECT_FALSE(pushed.ok());
  EXPECT_TRUE(out.empty());
}

TEST_F(SpdyExecStreamTest, RefusesServerDataOnAStreamItCannotPlace) {
  for (const uint32_t id : {9U, kStdin}) {
    restart();
    SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
    open_streams(stream);
    std::string out;
    EXPECT_FALSE(stream.from_server(data_frame(id, "alice@example.com"), out).ok()) << id;
    EXPECT_TRUE(out.empty()) << id;
  }
}

TEST_F(SpdyExecStreamTest, AStreamOfUnknownPurposeCarriesNothingBack) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  ASSERT_TRUE(open(stream, 1, {{"streamtype", "Stdout"}}).ok());
  std::string out;
  EXPECT_FALSE(stream.from_server(data_frame(1, "alice@example.com"), out).ok());
  EXPECT_TRUE(out.empty());
}

TEST_F(SpdyExecStreamTest, RefusesDataAfterTheServerEndedTheStream) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  open_streams(stream);
  std::string out;
  ASSERT_TRUE(stream.from_server(data_frame(kStdout, "", true), out).ok());
  EXPECT_FALSE(stream.from_server(data_frame(kStdout, "alice@example.com"), out).ok());
  EXPECT_EQ(out.find("alice"), std::string::npos);
}

// What a raw client could send to make the gateway and the server read a stream two ways.
TEST_F(SpdyExecStreamTest, RefusesStreamsWhosePurposeCouldReadTwoWays) {
  const std::vector<SpdyHeaders> ambiguous{
      {{"streamtype", "stdin"}, {"StreamType", "stdout"}},
      {{"streamtype", std::string("stdin\0stdout", 12)}},
      {{"other", "x"}},
  };
  for (const auto& headers : ambiguous) {
    restart();
    SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
    EXPECT_FALSE(open(stream, 1, headers).ok());
  }
}

TEST_F(SpdyExecStreamTest, RefusesASecondStreamOfOnePurpose) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  ASSERT_TRUE(open(stream, 1, {{"streamtype", "stdout"}}).ok());
  EXPECT_FALSE(open(stream, 3, {{"streamtype", "stdout"}}).ok());
}

TEST_F(SpdyExecStreamTest, RefusesStreamIdsOutOfOrder) {
  {
    SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
    EXPECT_FALSE(open(stream, 2, {{"streamtype", "stdout"}}).ok());
  }
  restart();
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_);
  ASSERT_TRUE(open(stream, 5, {{"streamtype", "stdout"}}).ok());
  EXPECT_FALSE(open(stream, 3, {{"streamtype", "stderr"}}).ok());
}

TEST_F(SpdyExecStreamTest, RefusesMoreStreamsThanItsBound) {
  SpdyExecStream stream(masker_.get(), &scratch_, &counts_, {.max_streams = 2});
  ASSERT_TRUE(open(stream, 1, {{"streamtype", "a"}}).ok());
  ASSERT_TRUE(open(stream, 3, {{"streamtype", "b"}}).ok());
  EXPECT_FALSE(open(stream, 5, {{"streamtype", "c"}}).ok());
}

TEST(SpdyExecProtocolsTest, KeepsTheProtocolsItReadsInTheClientsOrder) {
  EXPECT_EQ(readable_spdy_exec_protocols(
                {"v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "channel.k8s.io"}),
            (std::vector<std::string>{"v5.channel.k8s.io", "v4.channel.k8s.io"}));
  EXPECT_EQ(readable_spdy_exec_protocols({"v2.channel.k8s.io, v4.channel.k8s.io"}),
            (std::vector<std::string>{"v4.channel.k8s.io"}));
  EXPECT_TRUE(
      readable_spdy_exec_protocols({"v3.channel.k8s.io", "v4.base64.channel.k8s.io"}).empty());
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
