// Diagnostics as data: the library reports them here and never prints or exits; the tools
// decide how to render them and which exit status follows.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "support/source_manager.hpp"

namespace rapa::support {

enum class Severity { note, warning, error };

enum class DiagId {
#define DIAG(id, severity, group, format) id,
#include "support/diagnostic_kinds.def"
};

/// The stable name of a diagnostic ("unknown_fact_type"), its catalogue severity, -W group
/// ("" for errors) and format string.
std::string_view diag_name(DiagId id);
Severity diag_severity(DiagId id);
std::string_view diag_group(DiagId id);
std::string_view diag_format(DiagId id);
std::string_view severity_name(Severity severity);

struct Note {
  SourceRange range;
  std::string message;
};

/// A proposed replacement for the text at a range ("did you mean 'voriconazole'?").
struct FixIt {
  SourceRange range;
  std::string replacement;
};

struct Diagnostic {
  DiagId id;
  Severity severity;
  SourceRange range;
  std::string message;
  std::vector<Note> notes;
  std::optional<FixIt> fixit;
};

class DiagnosticEngine {
 public:
  /// Adds notes and fix-its to the diagnostic just reported.
  class Builder {
   public:
    Builder(DiagnosticEngine& engine, std::size_t index) : engine_(engine), index_(index) {}

    template <class... Args>
    Builder& note(SourceRange range, DiagId id, const Args&... args) {
      diagnostic().notes.push_back({range, format(id, args...)});
      return *this;
    }
    /// Appends "; did you mean 'X'?" to the message and records the replacement as a fix-it.
    Builder& suggest(std::string_view replacement);

   private:
    Diagnostic& diagnostic() {
      return index_ == npos ? engine_.scratch_ : engine_.diagnostics_[index_];
    }
    DiagnosticEngine& engine_;
    std::size_t index_;
  };

  template <class... Args>
  Builder report(DiagId id, SourceRange range, const Args&... args) {
    return add({id, diag_severity(id), range, format(id, args...), {}, {}});
  }

  /// Warnings in these groups are dropped; "all" drops every warning.
  void disable_warning_group(std::string group);
  /// Turns every reported warning into an error (-Werror).
  void set_warnings_as_errors(bool value) { warnings_as_errors_ = value; }

  std::size_t error_count() const;
  std::size_t warning_count() const;
  bool has_errors() const { return error_count() > 0; }

  /// In report order.
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  /// Ordered by file, then offset, then severity (errors first): the order they are shown in.
  std::vector<Diagnostic> sorted() const;
  void clear() { diagnostics_.clear(); }

  template <class... Args>
  static std::string format(DiagId id, const Args&... args) {
    return fmt::format(fmt::runtime(diag_format(id)), args...);
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  Builder add(Diagnostic diagnostic);
  std::vector<Diagnostic> diagnostics_;
  Diagnostic scratch_{};  // receives notes of a diagnostic whose warning group is disabled
  std::vector<std::string> disabled_groups_;
  bool warnings_as_errors_ = false;
};

}  // namespace rapa::support
