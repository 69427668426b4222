// The sh grammar alone: words after quote removal, static flags, assignments, redirections.
#include "shell/parser.h"

#include <gtest/gtest.h>

namespace portcullis::shell {
namespace {

SimpleCommand only_command(std::string_view text) {
  ParsedText p = parse(text);
  EXPECT_EQ(p.error, "") << text;
  EXPECT_EQ(p.commands.size(), 1u) << text;
  return p.commands.empty() ? SimpleCommand{} : p.commands[0];
}

TEST(ShellParser, RemovesQuotesAndKeepsTheirContentAsOneWord) {
  SimpleCommand c = only_command("echo 'a b' \"c  $x d\" e\\ f $'g\\th'");
  ASSERT_EQ(c.argv.size(), 5u);
  EXPECT_EQ(c.argv[1].value, "a b");
  EXPECT_TRUE(c.argv[1].is_static);
  EXPECT_EQ(c.argv[2].value, "c  $x d");
  EXPECT_FALSE(c.argv[2].is_static);
  EXPECT_EQ(c.argv[3].value, "e f");
  EXPECT_EQ(c.argv[4].value, "g\th");
  EXPECT_EQ(c.argv[4].raw, "$'g\\th'");
}

TEST(ShellParser, DoubleQuotesKeepABackslashBeforeOrdinaryCharacters) {
  SimpleCommand c = only_command(R"(echo "a\b \$ \" \\ \`")");
  EXPECT_EQ(c.argv[1].value, R"(a\b $ " \ `)");
  EXPECT_TRUE(c.argv[1].is_static);
}

TEST(ShellParser, QuotedGlobCharactersAreStatic) {
  SimpleCommand c = only_command("ls '*' \\? \"[a]\" [a] x? {a,b} {a} ~/x");
  ASSERT_EQ(c.argv.size(), 9u);
  EXPECT_TRUE(c.argv[1].is_static);
  EXPECT_TRUE(c.argv[2].is_static);
  EXPECT_TRUE(c.argv[3].is_static);
  EXPECT_FALSE(c.argv[4].is_static);
  EXPECT_FALSE(c.argv[5].is_static);
  EXPECT_FALSE(c.argv[6].is_static);
  EXPECT_TRUE(c.argv[7].is_static);  // {a} is not a brace expansion
  EXPECT_TRUE(c.argv[8].is_static);
  EXPECT_EQ(c.argv[8].value, "~/x");
}

TEST(ShellParser, ALoneBracketIsAProgramNotAGlob) {
  SimpleCommand c = only_command("[ -f x ]");
  EXPECT_EQ(c.argv[0].value, "[");
  EXPECT_TRUE(c.argv[0].is_static);
}

TEST(ShellParser, ReadsAssignmentsBeforeTheProgramOnly) {
  ParsedText p = parse("A=1 B+=\"x y\" C=$(id) ls D=2");
  ASSERT_EQ(p.commands.size(), 2u);  // id, then ls
  const SimpleCommand& c = p.commands[1];
  ASSERT_EQ(c.assignments.size(), 3u);
  EXPECT_EQ(c.assignments[0].name, "A");
  EXPECT_EQ(c.assignments[1].name, "B");
  EXPECT_EQ(c.assignments[1].value.value, "x y");
  EXPECT_FALSE(c.assignments[2].value.is_static);
  ASSERT_EQ(c.argv.size(), 2u);
  EXPECT_EQ(c.argv[1].value, "D=2");
}

TEST(ShellParser, ReadsRedirectionsWithTheirDescriptors) {
  SimpleCommand c = only_command("cmd 2>&1 >out 3< in 4>>log 5<&- &>all <<<word 10>x");
  ASSERT_EQ(c.redirections.size(), 8u);
  EXPECT_EQ(c.redirections[0].fd, 2);
  EXPECT_EQ(c.redirections[0].op, ">&");
  EXPECT_EQ(c.redirections[0].target.value, "1");
  EXPECT_EQ(c.redirections[0].kind, RedirectionKind::duplicate);
  EXPECT_EQ(c.redirections[1].fd, -1);
  EXPECT_EQ(c.redirections[1].kind, RedirectionKind::output);
  EXPECT_EQ(c.redirections[2].fd, 3);
  EXPECT_EQ(c.redirections[2].kind, RedirectionKind::input);
  EXPECT_EQ(c.redirections[3].op, ">>");
  EXPECT_EQ(c.redirections[4].kind, RedirectionKind::duplicate);
  EXPECT_EQ(c.redirections[5].op, "&>");
  EXPECT_EQ(c.redirections[6].kind, RedirectionKind::here_string);
  EXPECT_EQ(c.redirections[7].fd, 10);
  ASSERT_EQ(c.argv.size(), 1u);
}

TEST(ShellParser, AHereDocumentBodyIsNotParsedAsCommands) {
  ParsedText p = parse("cat <<'END'\nrm -rf /\n;;) fi\nEND\necho after");
  EXPECT_EQ(p.error, "");
  ASSERT_EQ(p.commands.size(), 2u);
  EXPECT_EQ(p.commands[1].argv[0].value, "echo");
  EXPECT_EQ(p.commands[0].redirections[0].kind, RedirectionKind::here_document);
  EXPECT_EQ(p.commands[0].redirections[0].target.value, "END");
}

TEST(ShellParser, CommandsInsideAnUnquotedHereDocumentComeFromIt) {
  ParsedText p = parse("cat <<END\n$(id) `uname` ${x:-$(date)}\nEND\n");
  ASSERT_EQ(p.commands.size(), 4u);
  EXPECT_EQ(p.commands[1].origin, Origin::here_document);
  EXPECT_EQ(p.commands[2].origin, Origin::here_document);
  EXPECT_EQ(p.commands[3].argv[0].value, "date");
}

TEST(ShellParser, ACloseParenthesisInQuotesOrCasePatternsDoesNotEndASubstitution) {
  ParsedText p = parse("echo $(echo ')'; case a in a) id ;; esac)");
  EXPECT_EQ(p.error, "");
  ASSERT_EQ(p.commands.size(), 3u);
  EXPECT_EQ(p.commands[0].argv[1].value, ")");
  EXPECT_EQ(p.commands[1].argv[0].value, "id");
}

TEST(ShellParser, ReservedWordsAreOnlyReservedWhereACommandStarts) {
  ParsedText p = parse("echo if then fi }");
  EXPECT_EQ(p.error, "");
  ASSERT_EQ(p.commands.size(), 1u);
  EXPECT_EQ(p.commands[0].argv.size(), 5u);
  EXPECT_NE(parse("then").error, "");
  EXPECT_EQ(parse("\"if\" x").error, "");  // a quoted reserved word is a plain word
}

TEST(ShellParser, RecordsFunctionDefinitions) {
  ParsedText p = parse("f() { id; }\nfunction g() ( ls )");
  EXPECT_EQ(p.functions, (std::vector<std::string>{"f", "g"}));
  ASSERT_EQ(p.commands.size(), 2u);
  EXPECT_EQ(p.commands[0].origin, Origin::function_body);
}

TEST(ShellParser, RedirectionsOfACompoundCommandApplyInside) {
  ParsedText p = parse("while read l; do echo $l; done < in > out");
  ASSERT_EQ(p.commands.size(), 2u);
  EXPECT_EQ(p.commands[1].redirections.size(), 2u);
}

TEST(ShellParser, GivesErrorsForTextThatDoesNotParse) {
  EXPECT_NE(parse("echo 'x").error.find("unterminated single quote"), std::string::npos);
  EXPECT_NE(parse("echo \"x").error.find("unterminated double quote"), std::string::npos);
  EXPECT_NE(parse("echo $(x").error.find("command substitution"), std::string::npos);
  EXPECT_NE(parse("echo ${x").error.find("${"), std::string::npos);
  EXPECT_NE(parse("fi").error.find("unexpected `fi`"), std::string::npos);
  EXPECT_NE(parse("a && || b").error, "");
  EXPECT_NE(parse("echo $'x").error, "");
  EXPECT_EQ(parse("").error, "");
  EXPECT_EQ(parse("   # only a comment").commands.size(), 0u);
}

}  // namespace
}  // namespace portcullis::shell
