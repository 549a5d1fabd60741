// A REPL session, independent of any terminal: the knowledge and one engine, and one command line
// at a time turned into the text to print. `rapa repl` adds line editing around it; tests drive it
// directly. The engine keeps its network across commands, so each change is matched
// incrementally and only run() follows it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "consult/consultation.hpp"
#include "consult/knowledge.hpp"
#include "inference/engine.hpp"

namespace rapa::consult {

class Session {
 public:
  /// `home`: rule and kb files under it are shown relative to it (`rules/itp.rules:6`); empty
  /// shows them as loaded.
  Session(Knowledge knowledge, std::string home);

  struct Reply {
    std::string text;   // to print as it is; ends with a newline unless empty
    bool ok = true;     // false: the command was refused (unknown, malformed, failed)
    bool quit = false;  // `quit`: the session is over
  };
  /// Executes one command line (blank lines and `#` comments do nothing).
  Reply execute(std::string_view line);

  /// The words that may complete the last word of `line` (the text before the cursor):
  /// commands, then by context fact types, slots after `TYPE(`, drugs, diagnoses and lab tests
  /// after a slot that takes them, rule names after `whynot`/`rules`, source keys after
  /// `sources`, command names after `help`. Sorted, each once.
  std::vector<std::string> complete(std::string_view line) const;

  /// The command names, in the order `help` lists them.
  static std::vector<std::string_view> command_names();

  const Knowledge& knowledge() const { return knowledge_; }
  const inference::Engine& engine() const { return engine_; }

 private:
  Reply load(std::string_view args);
  Reply facts() const;
  Reply set(std::string_view args, std::string_view line);
  Reply retract(std::string_view args);
  Reply change(std::string_view args);
  Reply advise();
  Reply why(std::string_view args);
  Reply why_not(std::string_view args) const;
  Reply sources(std::string_view args) const;
  Reply rules(std::string_view args) const;
  Reply help(std::string_view args) const;

  /// Parses `TYPE(slot: value, ...)` through the patient-file loader and asserts it; the new
  /// fact's id, or 0 with the error text (diagnostics with a caret under `line`) in `error`.
  bool assert_written(std::string_view fact_text, std::string_view line, inference::FactId& fact,
                      std::string& error);
  /// The fact numbered `word` in `facts`, or an error message.
  bool numbered_fact(std::string_view word, std::size_t& index, std::string& error) const;
  /// "examples/patients/itp_adult.yaml:12", "typed: set lab(...)", "kb kb/drugs.yaml:30", ...
  std::string origin_phrase(inference::FactId fact) const;
  std::string shown_location(support::SourceRange range) const;
  /// Runs the engine and, with `report_changes`, adds to `notes` the advice that came and went
  /// since the last run.
  void run_engine(std::string& notes, bool report_changes = true);
  /// "warn critical  (ddi.voriconazole)": an advice in a line, as `why` and the change notes
  /// name it.
  static std::string advice_line(const AdviceView& advice);

  Knowledge knowledge_;
  std::string home_;
  inference::Engine engine_;
  /// Input facts in the order they were numbered: `facts` shows index + 1. A retracted fact
  /// keeps its number (dead) so that numbers the user has seen never change meaning; `change`
  /// gives the new fact the old number.
  std::vector<inference::FactId> numbered_;
  /// Buffers made for `set` and `change`, with the command that typed them: a typed fact's origin.
  std::vector<std::pair<support::FileId, std::string>> typed_;
  std::size_t commands_ = 0;               // names the buffers
  std::string command_;                    // the command being executed
  std::vector<std::string> advice_lines_;  // advice_line() of each item after the last run
  std::string patient_;                    // the file loaded, for the consultation's header
};

}  // namespace rapa::consult
