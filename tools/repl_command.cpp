// `rapa repl`: a consultation session at the prompt. consult::Session does the work; this file
// parses arguments and reads lines: with libedit (editing, history across sessions, completion)
// on a terminal, plainly from standard input otherwise, so that scripts and tests can drive it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <histedit.h>
#include <unistd.h>

#include "consult/session.hpp"
#include "support/diagnostic_render.hpp"
#include "tools/commands.hpp"

namespace rapa::tools {
namespace {

constexpr std::string_view repl_help =
    "usage: rapa repl [options] [PATIENT.yaml]\n\n"
    "An interactive consultation: load a patient, change its facts, and ask for the advice,\n"
    "why an advice was given and why a rule gave none ('help' at the prompt lists the\n"
    "commands; docs/repl.md has an example session).\n\n"
    "On a terminal it offers line editing, tab completion and a history kept across sessions in\n"
    "$XDG_STATE_HOME/rapa/history, or ~/.rapa_history when XDG_STATE_HOME is unset.\n"
    "Otherwise it reads one command a line from standard input, echoes it after the prompt,\n"
    "and ends at the end of the input.\n\n"
    "options:\n"
    "  --rules PATH  a rule or kb file or directory to use instead of the bundled rules/ and\n"
    "                kb/ (repeatable: give the kb too)\n"
    "  --help        show this help\n\n"
    "exit status: 0 the session ended, 1 the rule base has errors, 2 usage error\n";

/// Where the history lives: $XDG_STATE_HOME/rapa/history, else ~/.rapa_history; empty: nowhere
/// to keep it.
std::string history_path() {
  namespace fs = std::filesystem;
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state) {
    std::error_code error;
    fs::create_directories(fs::path(state) / "rapa", error);
    if (!error) return (fs::path(state) / "rapa" / "history").string();
  }
  if (const char* home = std::getenv("HOME"); home && *home)
    return (fs::path(home) / ".rapa_history").string();
  return {};
}

// libedit calls completion through a plain function; the session it completes against is the
// one open at the prompt (there is one).
consult::Session* completing = nullptr;

std::string common_prefix(const std::vector<std::string>& words) {
  std::string prefix = words.front();
  for (const std::string& w : words) {
    std::size_t n = 0;
    while (n < prefix.size() && n < w.size() && prefix[n] == w[n]) ++n;
    prefix.resize(n);
  }
  return prefix;
}

unsigned char complete(EditLine* editor, int) {
  const LineInfo* info = el_line(editor);
  const std::string before(info->buffer, static_cast<std::size_t>(info->cursor - info->buffer));
  const std::vector<std::string> candidates = completing->complete(before);
  if (candidates.empty()) return CC_ERROR;
  // The word being completed is the candidates' common start already typed.
  std::size_t typed = 0;
  const std::string prefix = common_prefix(candidates);
  for (std::size_t n = std::min(prefix.size(), before.size()); n > 0; --n) {
    if (before.compare(before.size() - n, n, prefix, 0, n) == 0) {
      typed = n;
      break;
    }
  }
  if (prefix.size() > typed) {
    const std::string rest =
        prefix.substr(typed) +
        (candidates.size() == 1 && prefix.back() != ' ' && prefix.back() != '(' ? " " : "");
    el_insertstr(editor, rest.c_str());
    return CC_REFRESH;
  }
  if (candidates.size() == 1) return CC_NORM;
  std::string list = "\n";
  for (const std::string& c : candidates) list += c + "  ";
  list += "\n";
  std::fputs(list.c_str(), stdout);
  std::fflush(stdout);
  return CC_REDISPLAY;
}

const char* prompt(EditLine*) { return "rapa> "; }

/// The session at a terminal: libedit reads, the history is loaded before and saved after.
void interact(consult::Session& session) {
  EditLine* editor = el_init("rapa", stdin, stdout, stderr);
  History* past = history_init();
  HistEvent event;
  history(past, &event, H_SETSIZE, 1000);
  history(past, &event, H_SETUNIQUE, 1);
  const std::string path = history_path();
  if (!path.empty()) history(past, &event, H_LOAD, path.c_str());
  el_set(editor, EL_EDITOR, "emacs");
  el_set(editor, EL_PROMPT, prompt);
  el_set(editor, EL_HIST, history, past);
  completing = &session;
  el_set(editor, EL_ADDFN, "rapa-complete", "complete a command, fact, drug, rule or source", complete);
  el_set(editor, EL_BIND, "^I", "rapa-complete", nullptr);
  el_source(editor, nullptr);  // the user's ~/.editrc, as other libedit programs read it

  std::cout << "rapa repl: 'help' lists the commands, 'quit' or Ctrl-D ends\n" << std::flush;
  int count = 0;
  while (const char* read = el_gets(editor, &count)) {
    std::string line(read, static_cast<std::size_t>(count));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) {
      history(past, &event, H_ENTER, line.c_str());
      // Saved after every command, so that a session ended by a signal keeps its history.
      if (!path.empty()) history(past, &event, H_SAVE, path.c_str());
    }
    const consult::Session::Reply reply = session.execute(line);
    std::cout << reply.text << std::flush;
    if (reply.quit) break;
  }
  if (count == 0) std::cout << "\n";  // end of input: leave the terminal on a new line
  completing = nullptr;
  history_end(past);
  el_end(editor);
}

/// The session from a pipe or a file: each command echoed after a plain prompt, so that the
/// output reads as a transcript.
void script(consult::Session& session) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::cout << "rapa> " << line << "\n";
    const consult::Session::Reply reply = session.execute(line);
    std::cout << reply.text << std::flush;
    if (reply.quit) break;
  }
}

}  // namespace

int repl_command(const std::vector<std::string>& args) {
  std::vector<std::string> rules;
  std::string patient;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << repl_help;
      return exit_ok;
    } else if (a == "--rules") {
      if (i + 1 >= args.size()) {
        std::cerr << "rapa repl: '--rules' needs a value\n";
        return exit_usage;
      }
      rules.push_back(args[++i]);
    } else if (a.rfind("--rules=", 0) == 0) {
      rules.push_back(a.substr(8));
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "rapa repl: unknown option '" << a << "'\n" << repl_help;
      return exit_usage;
    } else if (patient.empty()) {
      patient = a;
    } else {
      std::cerr << "rapa repl: one patient file at a time ('load' changes it in the session)\n";
      return exit_usage;
    }
  }
  const std::string home = default_home();
  const bool bundled = rules.empty();
  if (bundled) rules = {home + "/rules", home + "/kb"};

  consult::Knowledge knowledge;
  support::DiagnosticEngine diags;
  // The rule base's warnings are for its authors, who see them with `rapa check`.
  diags.disable_warning_group("all");
  if (!consult::load_knowledge_into(knowledge, rules, diags)) {
    support::TextStyle style;
    style.colour = isatty(STDERR_FILENO) != 0;
    std::cerr << support::render_text(*knowledge.sources, diags.sorted(), style)
              << support::render_summary(diags.error_count(), diags.warning_count());
    return exit_errors;
  }
  consult::Session session(std::move(knowledge), bundled ? home : std::string());
  const bool terminal = isatty(STDIN_FILENO) != 0;
  if (!patient.empty()) {
    const consult::Session::Reply reply = session.execute("load " + patient);
    (reply.ok ? std::cout : std::cerr) << reply.text << std::flush;
  }
  if (terminal)
    interact(session);
  else
    script(session);
  return exit_ok;
}

}  // namespace rapa::tools
