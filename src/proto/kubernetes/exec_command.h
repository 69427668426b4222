// An exec request's command (its argv, from the `command` query values) written as one POSIX
// shell line, so that it is decided, and journaled, as an ssh command line is: the shell
// command reader reads that line back into exactly this argv. Pure.
#pragma once

#include <string>
#include <vector>

namespace portcullis::proto::kubernetes {

// The words joined by spaces, each as it is when made only of characters no shell reads
// specially ([A-Za-z0-9_./=:,@%+-]), otherwise single-quoted (a ' inside written '\''). The
// first word is quoted too when the shell would take it for something else than a program: a
// reserved word (if, for, ...) or an assignment (NAME=value). No words: an empty line.
std::string format_exec_line(const std::vector<std::string>& argv);

}  // namespace portcullis::proto::kubernetes
