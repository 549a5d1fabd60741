// The catalogue tables generated from diagnostic_kinds.def, and the collecting engine.
#include "support/diagnostics.hpp"

#include <algorithm>
#include <array>
#include <tuple>

namespace rapa::support {
namespace {

struct Kind {
  std::string_view name;
  Severity severity;
  std::string_view group;
  std::string_view format;
};

constexpr std::array kinds = {
#define DIAG(id, severity, group, format) Kind{#id, Severity::severity, group, format},
#include "support/diagnostic_kinds.def"
};

const Kind& kind(DiagId id) { return kinds[static_cast<std::size_t>(id)]; }

}  // namespace

std::string_view diag_name(DiagId id) { return kind(id).name; }
Severity diag_severity(DiagId id) { return kind(id).severity; }
std::string_view diag_group(DiagId id) { return kind(id).group; }
std::string_view diag_format(DiagId id) { return kind(id).format; }

std::string_view severity_name(Severity severity) {
  switch (severity) {
    case Severity::note: return "note";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "error";
}

DiagnosticEngine::Builder& DiagnosticEngine::Builder::suggest(std::string_view replacement) {
  auto& d = diagnostic();
  d.message += fmt::format("; did you mean '{}'?", replacement);
  d.fixit = FixIt{d.range, std::string(replacement)};
  return *this;
}

void DiagnosticEngine::disable_warning_group(std::string group) {
  disabled_groups_.push_back(std::move(group));
}

DiagnosticEngine::Builder DiagnosticEngine::add(Diagnostic diagnostic) {
  if (diagnostic.severity == Severity::warning) {
    const auto group = diag_group(diagnostic.id);
    const bool disabled = std::any_of(disabled_groups_.begin(), disabled_groups_.end(),
                                      [&](const std::string& g) { return g == "all" || g == group; });
    if (disabled) {
      // Still hand out a builder, onto a scratch slot that is removed again at once, so that
      // callers need not know whether their warning is enabled.
      scratch_ = std::move(diagnostic);
      return Builder(*this, npos);
    }
    if (warnings_as_errors_) diagnostic.severity = Severity::error;
  }
  diagnostics_.push_back(std::move(diagnostic));
  return Builder(*this, diagnostics_.size() - 1);
}

std::size_t DiagnosticEngine::error_count() const {
  return static_cast<std::size_t>(std::count_if(diagnostics_.begin(), diagnostics_.end(),
      [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

std::size_t DiagnosticEngine::warning_count() const {
  return static_cast<std::size_t>(std::count_if(diagnostics_.begin(), diagnostics_.end(),
      [](const Diagnostic& d) { return d.severity == Severity::warning; }));
}

std::vector<Diagnostic> DiagnosticEngine::sorted() const {
  auto result = diagnostics_;
  std::stable_sort(result.begin(), result.end(), [](const Diagnostic& a, const Diagnostic& b) {
    // Diagnostics without a location (usage, missing paths) come first.
    return std::tuple(a.range.file, a.range.begin, b.severity) <
           std::tuple(b.range.file, b.range.begin, a.severity);
  });
  return result;
}

}  // namespace rapa::support
