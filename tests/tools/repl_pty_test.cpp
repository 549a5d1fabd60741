// `rapa repl` at a terminal: runs it under a pseudo-terminal, types as a person would, and reads
// the screen. Checks tab completion, and that history survives from one session to the next
// (the up arrow recalls the last command of the previous session). Every read has a deadline, so
// a broken prompt fails the test instead of hanging it.
//
// usage: repl_pty_test RAPA_EXECUTABLE
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;

struct Terminal {
  pid_t child = -1;
  int master = -1;
  std::string screen;  // everything the program wrote, escapes included

  /// Reads until `expected` appears after `from` or the deadline passes.
  bool wait_for(const std::string& expected, std::size_t from = 0, int seconds = 20) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (screen.find(expected, from) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{master, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[4096];
      const ssize_t n = read(master, buffer, sizeof buffer);
      if (n <= 0) return screen.find(expected, from) != std::string::npos;  // the program ended
      screen.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }

  void type(const std::string& keys) {
    if (write(master, keys.data(), keys.size()) != static_cast<ssize_t>(keys.size())) std::perror("write");
  }

  /// Waits for the program to end, reading what it still writes; kills it after 20 seconds.
  int finish() {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      int status = 0;
      if (waitpid(child, &status, WNOHANG) == child) {
        close(master);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
      }
      pollfd p{master, POLLIN, 0};
      char buffer[4096];
      ssize_t n = 0;
      if (poll(&p, 1, 50) > 0 && (n = read(master, buffer, sizeof buffer)) > 0)
        screen.append(buffer, static_cast<std::size_t>(n));
      else
        usleep(20000);  // the terminal is closed or quiet: the program is on its way out
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    close(master);
    return 129;
  }
};

Terminal start(const std::string& rapa, const std::string& state) {
  Terminal t;
  winsize size{};
  size.ws_row = 40;
  size.ws_col = 100;
  t.child = forkpty(&t.master, nullptr, nullptr, &size);
  if (t.child == 0) {
    setenv("XDG_STATE_HOME", state.c_str(), 1);
    setenv("HOME", state.c_str(), 1);  // no ~/.editrc of the person running the tests
    setenv("TERM", "xterm", 1);
    execl(rapa.c_str(), rapa.c_str(), "repl", static_cast<char*>(nullptr));
    std::perror("exec");
    _exit(127);
  }
  return t;
}

int failures = 0;

void check(bool ok, const std::string& what, const Terminal& t) {
  if (ok) return;
  ++failures;
  std::cerr << "FAILED: " << what << "\n--- screen ---\n" << t.screen << "\n--------------\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: repl_pty_test RAPA_EXECUTABLE\n";
    return 2;
  }
  const std::string rapa = argv[1];
  char pattern[] = "/tmp/rapa-repl-pty-XXXXXX";
  if (!mkdtemp(pattern)) return 2;
  const std::string state = pattern;

  {
    Terminal t = start(rapa, state);
    if (t.child < 0) return 2;
    check(t.wait_for("rapa> "), "the prompt appears", t);
    // A unique command completes in place: "hel<TAB>" becomes "help ", which then runs.
    std::size_t mark = t.screen.size();
    t.type("hel\t\n");
    check(t.wait_for("help [COMMAND]", mark), "'hel' + tab completes to 'help'", t);
    // An ambiguous one completes the common part ("wh" to "why"), and a second tab lists the
    // choices.
    mark = t.screen.size();
    t.type("wh\t\t");
    check(t.wait_for("whynot", mark), "'wh' + tab + tab lists why and whynot", t);
    t.type("\x15");  // Ctrl-U: clear the line
    mark = t.screen.size();
    t.type("rules ddi.vorico\n");
    check(t.wait_for("Voriconazole with sirolimus", mark), "a command runs", t);
    t.type("quit\n");
    const int status = t.finish();
    check(status == 0, "quit ends with status 0, not " + std::to_string(status), t);
  }
  check(std::filesystem::exists(state + "/rapa/history"),
        "the history is saved in $XDG_STATE_HOME/rapa/history", {});
  {
    Terminal t = start(rapa, state);
    check(t.wait_for("rapa> "), "the prompt appears again", t);
    // Up twice: past "quit" to the command before it, then run it again.
    const std::size_t mark = t.screen.size();
    t.type("\x1b[A\x1b[A");
    check(t.wait_for("rules ddi.vorico", mark), "the up arrow recalls the previous session's command", t);
    const std::size_t ran = t.screen.size();
    t.type("\n");
    check(t.wait_for("Voriconazole with sirolimus", ran), "the recalled command runs", t);
    // Ctrl-D on an empty line ends the session too; typed once the prompt is back, as a person
    // would (typed earlier, the terminal is still in line mode and the key means nothing).
    check(t.wait_for("rapa> ", t.screen.find("Voriconazole with sirolimus", ran)), "the prompt returns", t);
    usleep(200000);
    t.type("\x04");
    const int status = t.finish();
    check(status == 0, "Ctrl-D ends with status 0, not " + std::to_string(status), t);
  }
  std::filesystem::remove_all(state);
  if (failures == 0) std::cout << "repl_pty_test: all checks passed\n";
  return failures == 0 ? 0 : 1;
}
