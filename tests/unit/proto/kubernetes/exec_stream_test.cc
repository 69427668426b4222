// The exec stream relay: stdout and stderr masked however the server frames them, stdin
// recorded and forwarded unchanged, the exit status read, the other channels and control
// frames passed on.
#include "proto/kubernetes/exec_stream.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "test_masker.h"

namespace portcullis::proto::kubernetes {
namespace {

std::string on_channel(ExecChannel channel, std::string_view data) {
  std::string payload(1, static_cast<char>(channel));
  payload.append(data);
  return payload;
}

// A frame as the API server writes it (unmasked).
std::string server_frame(ExecChannel channel, std::string_view data, bool fin = true,
                         Opcode opcode = Opcode::binary) {
  return write_frame(opcode, fin, on_channel(channel, data), std::nullopt);
}

// A frame as kubectl writes it (masked).
std::string client_frame(ExecChannel channel, std::string_view data) {
  return write_frame(Opcode::binary, true, on_channel(channel, data),
                     std::array<uint8_t, 4>{1, 2, 3, 4});
}

std::vector<Frame> frames_of(Sender sender, std::string_view bytes) {
  FrameReader reader(sender);
  reader.feed(bytes);
  std::vector<Frame> frames;
  for (;;) {
    auto next = reader.next();
    if (!next) {
      ADD_FAILURE() << next.error().message;
      break;
    }
    if (!*next) break;
    frames.push_back(std::move(**next));
  }
  EXPECT_EQ(reader.buffered(), 0U);
  return frames;
}

// The data of every frame on `channel`, in order, put together.
std::string data_on(ExecChannel channel, const std::vector<Frame>& frames) {
  std::string data;
  for (const auto& frame : frames)
    if (!frame.payload.empty() &&
        static_cast<uint8_t>(frame.payload[0]) == static_cast<uint8_t>(channel))
      data += frame.payload.substr(1);
  return data;
}

class ExecStreamTest : public ::testing::Test {
 protected:
  ExecStreamTest() {
    config::MaskingProfileConfig profile;
    profile.detectors = {"email", "us_ssn"};
    profile.strategy = "redact";
    masker_ = masking::testing::make_masker(profile);
  }

  ExecStream make(const masking::Masker* masker, ExecStreamLimits limits = {}) {
    return ExecStream(
        masker, &scratch_, &counts_,
        [this] {
          ++keys_drawn_;
          return std::array<uint8_t, 4>{0xa5, static_cast<uint8_t>(keys_drawn_), 0x5a, 0x0f};
        },
        limits);
  }

  std::shared_ptr<const masking::Masker> masker_;
  masking::Scratch scratch_;
  masking::MaskCounts counts_;
  int keys_drawn_ = 0;
};

TEST_F(ExecStreamTest, MasksAnEmailSplitAcrossTwoStdoutFrames) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(
      stream.from_server(server_frame(ExecChannel::stdout_data, "mail: alice.sm"), to_client));
  ASSERT_TRUE(
      stream.from_server(server_frame(ExecChannel::stdout_data, "ith@example.com\n"), to_client));
  stream.finish(to_client);
  const auto frames = frames_of(Sender::server, to_client);
  for (const auto& frame : frames) {
    EXPECT_EQ(frame.opcode, Opcode::binary);
    EXPECT_EQ(frame.payload.find("example.com"), std::string::npos);
  }
  EXPECT_EQ(data_on(ExecChannel::stdout_data, frames), "mail: [email]\n");
  EXPECT_EQ(stream.output_bytes(), std::string("mail: [email]\n").size());
  EXPECT_EQ(stream.output_seen(), "mail: [email]\n");
}

TEST_F(ExecStreamTest, MasksStderr) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(stream.from_server(
      server_frame(ExecChannel::stderr_data, "ssn 123-45-6789 for bob@example.com\n"), to_client));
  const auto frames = frames_of(Sender::server, to_client);
  ASSERT_EQ(frames.size(), 1U);
  const std::string data = data_on(ExecChannel::stderr_data, frames);
  EXPECT_EQ(data.find("123-45-6789"), std::string::npos);
  EXPECT_EQ(data.find("bob@example.com"), std::string::npos);
  EXPECT_NE(data.find("[email]"), std::string::npos);
}

TEST_F(ExecStreamTest, MasksAStdoutMessageFragmentedIntoContinuationFrames) {
  auto stream = make(masker_.get());
  std::string bytes = server_frame(ExecChannel::stdout_data, "to carol@exa", false);
  bytes += write_frame(Opcode::ping, true, "keepalive", std::nullopt);
  bytes += write_frame(Opcode::continuation, false, "mple.", std::nullopt);
  bytes += write_frame(Opcode::continuation, true, "org\n", std::nullopt);
  std::string to_client;
  ASSERT_TRUE(stream.from_server(bytes, to_client));
  const auto frames = frames_of(Sender::server, to_client);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].opcode, Opcode::ping);
  EXPECT_EQ(frames[0].payload, "keepalive");
  EXPECT_EQ(frames[1].payload, on_channel(ExecChannel::stdout_data, "to [email]\n"));
}

TEST_F(ExecStreamTest, MasksOutputFedAtEverySplitPoint) {
  std::string bytes = server_frame(ExecChannel::stdout_data, "a dave@exam");
  bytes += server_frame(ExecChannel::stderr_data, "err erin@example.net\n");
  bytes += server_frame(ExecChannel::stdout_data, "ple.com b\n");
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    auto stream = make(masker_.get());
    std::string to_client;
    ASSERT_TRUE(stream.from_server(bytes.substr(0, cut), to_client));
    ASSERT_TRUE(stream.from_server(bytes.substr(cut), to_client));
    stream.finish(to_client);
    const auto frames = frames_of(Sender::server, to_client);
    EXPECT_EQ(data_on(ExecChannel::stdout_data, frames), "a [email] b\n") << cut;
    EXPECT_EQ(data_on(ExecChannel::stderr_data, frames), "err [email]\n") << cut;
  }
}

TEST_F(ExecStreamTest, HoldsAPromptUntilFlushed) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::stdout_data, "# "), to_client));
  EXPECT_TRUE(to_client.empty());
  stream.flush(to_client);
  EXPECT_EQ(data_on(ExecChannel::stdout_data, frames_of(Sender::server, to_client)), "# ");
}

TEST_F(ExecStreamTest, FinishSendsTheHeldRestMasked) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::stdout_data, "last frank@example.com"),
                                 to_client));
  EXPECT_TRUE(to_client.empty());
  stream.finish(to_client);
  EXPECT_EQ(data_on(ExecChannel::stdout_data, frames_of(Sender::server, to_client)),
            "last [email]");
}

TEST_F(ExecStreamTest, WithoutAMaskerOutputPassesUnchanged) {
  auto stream = make(nullptr);
  std::string to_client;
  ASSERT_TRUE(
      stream.from_server(server_frame(ExecChannel::stdout_data, "gina@example.com\n"), to_client));
  EXPECT_EQ(to_client, server_frame(ExecChannel::stdout_data, "gina@example.com\n"));
}

TEST_F(ExecStreamTest, ATextFrameOnStdoutIsMaskedAndSentAsBinary) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(stream.from_server(
      server_frame(ExecChannel::stdout_data, "hank@example.com\n", true, Opcode::text), to_client));
  const auto frames = frames_of(Sender::server, to_client);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].opcode, Opcode::binary);
  EXPECT_EQ(frames[0].payload, on_channel(ExecChannel::stdout_data, "[email]\n"));
}

TEST_F(ExecStreamTest, RecordsStdinAndForwardsItUnchanged) {
  auto stream = make(masker_.get());
  std::string to_server;
  // stdin is the caller's own input: it is recorded as typed, not masked.
  ASSERT_TRUE(stream.from_client(client_frame(ExecChannel::stdin_data, "echo ivy@example.com\n"),
                                 to_server));
  ASSERT_TRUE(stream.from_client(client_frame(ExecChannel::stdin_data, "exit\n"), to_server));
  const auto frames = frames_of(Sender::client, to_server);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_TRUE(frames[0].masked);
  EXPECT_EQ(frames[0].payload, on_channel(ExecChannel::stdin_data, "echo ivy@example.com\n"));
  EXPECT_EQ(frames[1].payload, on_channel(ExecChannel::stdin_data, "exit\n"));
  EXPECT_EQ(keys_drawn_, 2);
  EXPECT_EQ(stream.input_seen(), "echo ivy@example.com\nexit\n");
  EXPECT_EQ(stream.input_bytes(), 26U);
  EXPECT_FALSE(stream.input_cut());
}

TEST_F(ExecStreamTest, KeepsABoundedCopyOfStdin) {
  auto stream = make(masker_.get(), ExecStreamLimits{.kept_input = 4});
  std::string to_server;
  ASSERT_TRUE(stream.from_client(client_frame(ExecChannel::stdin_data, "abc"), to_server));
  ASSERT_TRUE(stream.from_client(client_frame(ExecChannel::stdin_data, "defg"), to_server));
  EXPECT_EQ(stream.input_seen(), "abcd");
  EXPECT_TRUE(stream.input_cut());
  EXPECT_EQ(stream.input_bytes(), 7U);
  EXPECT_EQ(data_on(ExecChannel::stdin_data, frames_of(Sender::client, to_server)), "abcdefg");
}

TEST_F(ExecStreamTest, ReassemblesFragmentedStdin) {
  auto stream = make(masker_.get());
  const std::array<uint8_t, 4> key{9, 8, 7, 6};
  std::string bytes =
      write_frame(Opcode::binary, false, on_channel(ExecChannel::stdin_data, "ab"), key);
  bytes += write_frame(Opcode::ping, true, "", key);
  bytes += write_frame(Opcode::continuation, true, "cd", key);
  std::string to_server;
  ASSERT_TRUE(stream.from_client(bytes, to_server));
  const auto frames = frames_of(Sender::client, to_server);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].opcode, Opcode::ping);
  EXPECT_EQ(frames[1].payload, on_channel(ExecChannel::stdin_data, "abcd"));
  EXPECT_EQ(stream.input_seen(), "abcd");
}

TEST_F(ExecStreamTest, PassesResizeToTheServer) {
  auto stream = make(masker_.get());
  std::string to_server;
  const std::string resize = R"({"Width":120,"Height":40})";
  ASSERT_TRUE(stream.from_client(client_frame(ExecChannel::resize, resize), to_server));
  const auto frames = frames_of(Sender::client, to_server);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].payload, on_channel(ExecChannel::resize, resize));
  EXPECT_TRUE(stream.input_seen().empty());
  EXPECT_EQ(stream.input_bytes(), 0U);
}

TEST_F(ExecStreamTest, PassesTheCloseChannelFrameBothWays) {
  auto stream = make(masker_.get());
  std::string to_server;
  ASSERT_TRUE(
      stream.from_client(client_frame(ExecChannel::close, std::string(1, '\0')), to_server));
  auto frames = frames_of(Sender::client, to_server);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(frames[0].payload, std::string("\xff\x00", 2));
  EXPECT_EQ(stream.input_bytes(), 0U);

  // From the server, a close of stdout sends what is held of it first.
  std::string to_client;
  ASSERT_TRUE(
      stream.from_server(server_frame(ExecChannel::stdout_data, "held jo@example.com"), to_client));
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::close, "\x01"), to_client));
  frames = frames_of(Sender::server, to_client);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].payload, on_channel(ExecChannel::stdout_data, "held [email]"));
  EXPECT_EQ(frames[1].payload, std::string("\xff\x01", 2));
  EXPECT_FALSE(stream.closed());
}

TEST_F(ExecStreamTest, ReadsExitCodeZeroFromASuccessStatus) {
  auto stream = make(masker_.get());
  EXPECT_FALSE(stream.exit_code());
  std::string to_client;
  const std::string status = R"({"metadata":{},"status":"Success"})";
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::status, status), to_client));
  EXPECT_EQ(stream.exit_code(), 0);
  EXPECT_EQ(stream.status_message(), "");
  EXPECT_EQ(to_client, server_frame(ExecChannel::status, status));
}

TEST_F(ExecStreamTest, ReadsTheExitCodeOfANonZeroExitCodeStatus) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::stdout_data, "partial"), to_client));
  const std::string status =
      R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}})";
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::status, status), to_client));
  EXPECT_EQ(stream.exit_code(), 3);
  EXPECT_EQ(stream.status_message(), "");
  // The command ended: the held output went out before its Status.
  const auto frames = frames_of(Sender::server, to_client);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].payload, on_channel(ExecChannel::stdout_data, "partial"));
  EXPECT_EQ(frames[1].payload, on_channel(ExecChannel::status, status));
}

TEST_F(ExecStreamTest, ReadsTheMessageOfAnotherFailure) {
  auto stream = make(masker_.get());
  std::string to_client;
  const std::string status =
      R"json({"metadata":{},"status":"Failure","message":"container not found (\"app\")","reason":"InternalError"})json";
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::status, status), to_client));
  EXPECT_FALSE(stream.exit_code());
  EXPECT_EQ(stream.status_message(), R"(container not found ("app"))");
}

TEST_F(ExecStreamTest, ReadsAStatusSplitAcrossMessages) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(
      stream.from_server(server_frame(ExecChannel::status, R"({"status":"Fail)"), to_client));
  EXPECT_FALSE(stream.exit_code());
  ASSERT_TRUE(stream.from_server(
      server_frame(
          ExecChannel::status,
          R"(ure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"127"}]}})"),
      to_client));
  EXPECT_EQ(stream.exit_code(), 127);
}

TEST_F(ExecStreamTest, PassesControlFramesAndNotesTheClose) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(stream.from_server(write_frame(Opcode::ping, true, "x", std::nullopt), to_client));
  EXPECT_FALSE(stream.closed());
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::stderr_data, "no newline"), to_client));
  ASSERT_TRUE(stream.from_server(
      write_frame(Opcode::close, true, std::string("\x03\xe8", 2), std::nullopt), to_client));
  EXPECT_TRUE(stream.closed());
  const auto frames = frames_of(Sender::server, to_client);
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(frames[0].opcode, Opcode::ping);
  EXPECT_EQ(frames[1].payload, on_channel(ExecChannel::stderr_data, "no newline"));
  EXPECT_EQ(frames[2].opcode, Opcode::close);
  // Data after the close is refused.
  EXPECT_FALSE(stream.from_server(server_frame(ExecChannel::stdout_data, "late\n"), to_client));

  auto other = make(masker_.get());
  std::string to_server;
  ASSERT_TRUE(other.from_client(
      write_frame(Opcode::close, true, "", std::array<uint8_t, 4>{1, 1, 1, 1}), to_server));
  EXPECT_TRUE(other.closed());
  EXPECT_EQ(frames_of(Sender::client, to_server).at(0).opcode, Opcode::close);
}

TEST_F(ExecStreamTest, RefusesFramesMaskedTheWrongWay) {
  auto stream = make(masker_.get());
  std::string out;
  EXPECT_FALSE(stream.from_server(client_frame(ExecChannel::stdout_data, "x\n"), out));
  EXPECT_TRUE(out.empty());
  auto other = make(masker_.get());
  EXPECT_FALSE(other.from_client(server_frame(ExecChannel::stdin_data, "x\n"), out));
}

TEST_F(ExecStreamTest, RefusesAnOversizeMessageWithoutSendingIt) {
  auto stream = make(masker_.get(), ExecStreamLimits{.max_frame = 16});
  std::string to_client;
  EXPECT_FALSE(stream.from_server(
      server_frame(ExecChannel::stdout_data, "kim@example.com and more\n"), to_client));
  EXPECT_TRUE(to_client.empty());
}

TEST_F(ExecStreamTest, RefusesOutputOnAChannelTheSubprotocolDoesNotHave) {
  // A base64 subprotocol's stdout: the channel as the digit '1', the data in base64.
  auto stream = make(masker_.get());
  std::string to_client;
  EXPECT_FALSE(stream.from_server(
      write_frame(Opcode::text, true, "1bGVvQGV4YW1wbGUuY29tCg==", std::nullopt), to_client));
  EXPECT_TRUE(to_client.empty());
  auto other = make(masker_.get());
  EXPECT_FALSE(other.from_server(
      write_frame(Opcode::binary, true, std::string("\x05x", 2), std::nullopt), to_client));
  EXPECT_TRUE(to_client.empty());
}

TEST_F(ExecStreamTest, PassesEmptyAndChannelOnlyMessages) {
  auto stream = make(masker_.get());
  std::string to_client;
  ASSERT_TRUE(stream.from_server(write_frame(Opcode::binary, true, "", std::nullopt), to_client));
  ASSERT_TRUE(stream.from_server(server_frame(ExecChannel::stdout_data, ""), to_client));
  const auto frames = frames_of(Sender::server, to_client);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].payload, "");
  EXPECT_EQ(frames[1].payload, on_channel(ExecChannel::stdout_data, ""));
}

// The API server is offered only the subprotocols whose frames the relay reads: the base64
// ones write data masking cannot read.
TEST(ExecSubprotocols, OnlyTheChannelProtocolsTheRelayReadsAreOffered) {
  EXPECT_EQ(readable_exec_subprotocols("v5.channel.k8s.io"), "v5.channel.k8s.io");
  EXPECT_EQ(readable_exec_subprotocols(
                "v5.channel.k8s.io, v4.channel.k8s.io,v4.base64.channel.k8s.io, channel.k8s.io"),
            "v5.channel.k8s.io, v4.channel.k8s.io");
  EXPECT_EQ(readable_exec_subprotocols(" v4.channel.k8s.io\t"), "v4.channel.k8s.io");
  EXPECT_EQ(readable_exec_subprotocols("base64.channel.k8s.io, v4.base64.channel.k8s.io"), "");
  EXPECT_EQ(readable_exec_subprotocols("V5.CHANNEL.K8S.IO"), "");
  EXPECT_EQ(readable_exec_subprotocols(""), "");
}

}  // namespace
}  // namespace portcullis::proto::kubernetes
