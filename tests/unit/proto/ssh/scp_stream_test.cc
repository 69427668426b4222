// A legacy scp transfer followed in lock step: each file and directory held for a decision with
// where it is on the host, forwarded or answered with a warning, its data passed byte for byte,
// and every line the gateway cannot read, or answer out of turn, ending the stream.
#include "proto/ssh/scp_stream.h"

#include <gtest/gtest.h>

#include <optional>

#include "shell/scp_request.h"

namespace portcullis::proto::ssh::scp {
namespace {

using Step = ScpStream::Step;
using namespace std::string_literals;

ScpStream stream_for(std::string_view line) {
  const auto request = shell::read_scp_request(line);
  EXPECT_TRUE(request.has_value()) << line;
  return ScpStream(request.value_or(shell::ScpRequest{}));
}

// Both ends, driven by a test: what the sender writes and what the receiver answers.
struct Transfer {
  ScpStream stream;
  std::string to_receiver, to_sender;
  explicit Transfer(std::string_view line) : stream(stream_for(line)) { answer("\0"s); }

  Step send(std::string bytes) {
    input += bytes;
    const auto step = stream.from_sender(input);
    collect();
    return step;
  }
  Step answer(std::string bytes) {
    const auto step = stream.from_receiver(bytes);
    if (step != Step::broken) {
      EXPECT_TRUE(bytes.empty());
    }
    collect();
    return step;
  }
  // Sends what is still waiting (a line that waited for its turn).
  Step resume() { return send(""); }
  void collect() {
    to_receiver += stream.to_receiver();
    stream.to_receiver().clear();
    to_sender += stream.to_sender();
    stream.to_sender().clear();
  }
  std::optional<std::string> outcome() {
    std::string error;
    if (!stream.next_outcome(error)) return std::nullopt;
    return error;
  }
  std::string input;
};

TEST(ScpStreamTest, HoldsAnUploadedFileForADecisionThenPassesItsData) {
  Transfer t("scp -t uploads");
  EXPECT_EQ(t.to_sender, "\0"s);  // the host's "ready"
  ASSERT_EQ(t.send("C0644 5 report.txt\n"), Step::decide);
  EXPECT_EQ(t.to_receiver, "");
  const Entry& entry = t.stream.pending();
  EXPECT_FALSE(entry.directory);
  EXPECT_EQ(entry.name, "report.txt");
  // Without -d, PATH may be the file itself rather than a folder.
  EXPECT_EQ(entry.paths, (std::vector<std::string>{"uploads/report.txt", "uploads"}));
  EXPECT_EQ(describe(entry, true), "scp write \"uploads/report.txt\" \"uploads\"");
  t.stream.allow();
  t.collect();
  EXPECT_EQ(t.to_receiver, "C0644 5 report.txt\n");
  // Data waits for the host's answer to the line, then passes byte for byte.
  EXPECT_EQ(t.send("ab\0\n\x01"s), Step::wait);
  EXPECT_EQ(t.to_receiver, "C0644 5 report.txt\n");
  EXPECT_EQ(t.answer("\0"s), Step::wait);
  EXPECT_EQ(t.resume(), Step::wait);
  EXPECT_EQ(t.to_receiver, "C0644 5 report.txt\nab\0\n\x01"s);
  EXPECT_EQ(t.send("\0"s), Step::wait);
  EXPECT_EQ(t.outcome(), std::nullopt);  // the host has not answered the data yet
  EXPECT_EQ(t.answer("\0"s), Step::wait);
  EXPECT_EQ(t.outcome(), "");
  EXPECT_EQ(t.to_sender, "\0\0\0"s);
}

TEST(ScpStreamTest, ARefusedUploadIsAnsweredWithAWarningAndNeverReachesTheHost) {
  Transfer t("scp -d -t .ssh/");
  ASSERT_EQ(t.send("C0600 10 authorized_keys\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().paths, std::vector<std::string>{".ssh/authorized_keys"});
  t.stream.refuse("portcullis: blocked by rule \"keys\": no\nkeys");
  t.collect();
  EXPECT_EQ(t.to_receiver, "");
  EXPECT_EQ(t.to_sender, "\0\x01portcullis: blocked by rule \"keys\": no keys\n"s);
  // OpenSSH's scp skips the file and sends the next one; no answer is owed.
  ASSERT_EQ(t.send("C0644 1 ok\n"), Step::decide);
  t.stream.allow();
  t.collect();
  EXPECT_EQ(t.to_receiver, "C0644 1 ok\n");
  EXPECT_EQ(t.outcome(), std::nullopt);
}

TEST(ScpStreamTest, FollowsDirectoriesAndTimesOfARecursiveUpload) {
  Transfer t("scp -r -p -t .");
  ASSERT_EQ(t.send("T1700000000 0 1700000001 0\n"), Step::wait);
  EXPECT_EQ(t.to_receiver, "T1700000000 0 1700000001 0\n");
  t.answer("\0"s);
  ASSERT_EQ(t.send("D0755 0 home\n"), Step::decide);
  EXPECT_TRUE(t.stream.pending().directory);
  EXPECT_EQ(t.stream.pending().paths, (std::vector<std::string>{"home", "."}));
  EXPECT_EQ(describe(t.stream.pending(), true), "scp mkdir \"home\" \".\"");
  t.stream.allow();
  t.answer("\0"s);
  EXPECT_EQ(t.outcome(), "");
  ASSERT_EQ(t.send("D0700 0 .ssh\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().paths, (std::vector<std::string>{"home/.ssh", ".ssh"}));
  t.stream.allow();
  t.answer("\0"s);
  ASSERT_EQ(t.send("C0600 3 authorized_keys\n"), Step::decide);
  // Wherever the folder landed, the file is seen under .ssh/.
  EXPECT_EQ(t.stream.pending().paths,
            (std::vector<std::string>{"home/.ssh/authorized_keys", ".ssh/authorized_keys"}));
  t.stream.refuse("no");
  t.collect();
  EXPECT_EQ(t.send("E\n"), Step::wait);
  t.answer("\0"s);
  ASSERT_EQ(t.send("C0644 2 notes\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().paths, (std::vector<std::string>{"home/notes", "notes"}));
  t.stream.allow();
  t.answer("\0"s);
  t.send("hi\0"s);
  t.answer("\0"s);
  EXPECT_EQ(t.send("E\n"), Step::wait);
  t.answer("\0"s);
  // Past the last end of directory, an E is out of place.
  EXPECT_EQ(t.send("E\n"), Step::broken);
}

// The host reaches an entry through PATH as it was sent: `lnk/..` is not `.` when lnk is a
// link, so what the gateway asks the host about is not normalised.
TEST(ScpStreamTest, NamesEachEntryAsTheHostReachesItToo) {
  Transfer t("scp -r -t lnk/../up/");
  ASSERT_EQ(t.send("D0755 0 d\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().paths, (std::vector<std::string>{"up/d", "up"}));
  EXPECT_EQ(t.stream.pending().host_paths, (std::vector<std::string>{"lnk/../up/d", "lnk/../up/"}));
  t.stream.allow();
  t.answer("\0"s);
  ASSERT_EQ(t.send("C0644 1 f\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().host_paths,
            (std::vector<std::string>{"lnk/../up/d/f", "lnk/../up/f"}));

  Transfer into_folder("scp -d -t lnk/..");
  ASSERT_EQ(into_folder.send("C0644 1 f\n"), Step::decide);
  EXPECT_EQ(into_folder.stream.pending().host_paths, std::vector<std::string>{"lnk/../f"});

  Transfer download("scp -f lnk/../secret");
  ASSERT_EQ(download.send("C0644 1 secret\n"), Step::decide);
  EXPECT_EQ(download.stream.pending().paths, std::vector<std::string>{"secret"});
  EXPECT_EQ(download.stream.pending().host_paths, std::vector<std::string>{"lnk/../secret"});
}

TEST(ScpStreamTest, ADirectoryTheHostRefusesIsNotEntered) {
  Transfer t("scp -r -t out");
  ASSERT_EQ(t.send("D0755 0 exists-as-file\n"), Step::decide);
  t.stream.allow();
  t.answer("\x01scp: out/exists-as-file: Not a directory\n");
  EXPECT_EQ(t.outcome(), "scp: out/exists-as-file: Not a directory");
  ASSERT_EQ(t.send("C0644 1 x\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().paths, (std::vector<std::string>{"out/x", "out"}));
}

TEST(ScpStreamTest, AFileTheHostCannotOpenSendsNoData) {
  Transfer t("scp -t out");
  ASSERT_EQ(t.send("C0644 4 x\n"), Step::decide);
  t.stream.allow();
  t.answer("\x01scp: out/x: Permission denied\n");
  EXPECT_EQ(t.outcome(), "scp: out/x: Permission denied");
  // The next bytes are a line again, not data.
  EXPECT_EQ(t.send("C0644 1 y\n"), Step::decide);
}

TEST(ScpStreamTest, ADownloadNamesThePathAndWhatIsBelowIt) {
  Transfer t("scp -r -f /srv/app");
  ASSERT_EQ(t.send("D0755 0 app\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().paths, std::vector<std::string>{"/srv/app"});
  EXPECT_EQ(describe(t.stream.pending(), false), "scp readdir \"/srv/app\"");
  t.stream.allow();
  t.answer("\0"s);
  ASSERT_EQ(t.send("C0640 3 secret.env\n"), Step::decide);
  EXPECT_EQ(t.stream.pending().paths, std::vector<std::string>{"/srv/app/secret.env"});
  EXPECT_EQ(describe(t.stream.pending(), false), "scp read \"/srv/app/secret.env\"");
  t.stream.refuse("blocked");
  t.collect();
  // The client never sees the line; the host is told to skip the file.
  EXPECT_EQ(t.to_receiver, "D0755 0 app\n");
  EXPECT_EQ(t.to_sender,
            "\0\0\x01"s
            "blocked\n");
}

TEST(ScpStreamTest, LinesWaitForTheAnswerToTheOneBefore) {
  Transfer t("scp -t out");
  ASSERT_EQ(t.send("C0644 1 a\n"), Step::decide);
  t.stream.allow();
  // A sender that does not wait: its bytes are not taken for data the host has not agreed
  // to, nor its next line read before its turn.
  EXPECT_EQ(t.send("x\0C0644 1 b\n"s), Step::wait);
  EXPECT_EQ(t.to_receiver, "C0644 1 a\n");
  t.answer("\0"s);
  EXPECT_EQ(t.resume(), Step::wait);
  EXPECT_EQ(t.to_receiver, "C0644 1 a\nx\0"s);
  t.answer("\0"s);
  EXPECT_EQ(t.outcome(), "");
  EXPECT_EQ(t.resume(), Step::decide);
  EXPECT_EQ(t.stream.pending().name, "b");
}

TEST(ScpStreamTest, AnAnswerToNothingEndsTheStream) {
  Transfer t("scp -f x");
  // After the ready answer nothing is owed: a second answer would let the two ends disagree.
  EXPECT_EQ(t.answer("\0"s), Step::broken);
  EXPECT_FALSE(t.stream.error().empty());
}

struct Unreadable {
  std::string request;
  std::string line;
};

class ScpStreamUnreadable : public ::testing::TestWithParam<Unreadable> {};

TEST_P(ScpStreamUnreadable, EndsTheStream) {
  Transfer t(GetParam().request);
  EXPECT_EQ(t.send(GetParam().line), Step::broken) << GetParam().line;
  EXPECT_FALSE(t.stream.error().empty());
  EXPECT_EQ(t.to_receiver, "");
  EXPECT_EQ(t.send("C0644 1 x\n"), Step::broken);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ScpStreamUnreadable,
    ::testing::Values(
        Unreadable{"scp -t x", "C0644 1 ../x\n"}, Unreadable{"scp -t x", "C0644 1 ..\n"},
        Unreadable{"scp -t x", "C0644 1 .\n"}, Unreadable{"scp -t x", "C0644 1 a/b\n"},
        Unreadable{"scp -t x", "C0644 1 /etc/x\n"}, Unreadable{"scp -t x", "C0644 1 \n"},
        Unreadable{"scp -t x", "C0644 1 a\0b\n"s}, Unreadable{"scp -t x", "C644 1 x\n"},
        Unreadable{"scp -t x", "C0648 1 x\n"}, Unreadable{"scp -t x", "C0644 -1 x\n"},
        Unreadable{"scp -t x", "C0644 99999999999999999999 x\n"},
        Unreadable{"scp -t x", "C0644 1x\n"}, Unreadable{"scp -t x", "C0644  1 x\n"},
        Unreadable{"scp -t x", "D0755 0 dir\n"},  // without -r
        Unreadable{"scp -r -t x", "E\n"}, Unreadable{"scp -t x", "Ex\n"},
        Unreadable{"scp -t x", "T1 0 2\n"}, Unreadable{"scp -t x", "Tx 0 1 0\n"},
        Unreadable{"scp -t x", "\n"}, Unreadable{"scp -t x", "X\n"},
        Unreadable{"scp -t x", "c0644 1 x\n"},
        Unreadable{"scp -t x", "C0644 1 " + std::string(9000, 'a') + "\n"},
        Unreadable{"scp -t x", "C0644 1 " + std::string(9000, 'a')}));

TEST(ScpStreamTest, PassesTheSendersOwnMessagesUnanswered) {
  Transfer t("scp -f missing");
  EXPECT_EQ(t.send("\x01scp: missing: No such file or directory\n"), Step::wait);
  EXPECT_EQ(t.to_receiver, "\x01scp: missing: No such file or directory\n");
  EXPECT_EQ(t.answer("\0"s), Step::broken);  // and owes no answer to them
}

TEST(ScpStreamTest, AFatalMessageForTheClientEndsAnAnswerCutShort) {
  Transfer t("scp -t x");
  ASSERT_EQ(t.send("C0644 1 a\n"), Step::decide);
  t.stream.allow();
  t.answer("\x01scp: part of");
  EXPECT_EQ(t.stream.fatal_for_client("stop"), "\n\x02stop\n");
  Transfer down("scp -f x");
  EXPECT_EQ(down.stream.fatal_for_client("stop\nnow"), "\x02stop now\n");
}

TEST(ScpStreamTest, TakesBytesCutAnywhere) {
  ScpStream stream = stream_for("scp -r -t in");
  std::string ready = "\0"s;
  stream.from_receiver(ready);
  const std::string sent = "D0755 0 d\nC0644 3 f\nabc\0E\n"s;
  // Where in what was forwarded the host owes an answer: after D, C, the data, and E.
  const std::vector<std::size_t> answer_at = {10, 20, 24, 26};
  std::size_t answered = 0;
  std::string input;
  std::vector<std::string> decided;
  for (const char c : sent) {
    input += c;
    for (;;) {
      const auto step = stream.from_sender(input);
      ASSERT_NE(step, Step::broken) << stream.error();
      if (step == Step::decide) {
        decided.push_back(stream.pending().paths.front());
        stream.allow();
        continue;
      }
      if (answered < answer_at.size() && stream.to_receiver().size() == answer_at[answered]) {
        std::string ok = "\0"s;
        ++answered;
        ASSERT_EQ(stream.from_receiver(ok), Step::wait);
        continue;  // what waited for the answer may go now
      }
      break;
    }
  }
  EXPECT_EQ(stream.to_receiver(), sent);
  EXPECT_EQ(answered, answer_at.size());
  EXPECT_EQ(decided, (std::vector<std::string>{"in/d", "in/d/f"}));
}

}  // namespace
}  // namespace portcullis::proto::ssh::scp
