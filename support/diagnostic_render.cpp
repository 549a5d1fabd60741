// Text and JSON renderers. Everything a renderer needs comes from the SourceManager: files are
// never read again to show a line.
#include "support/diagnostic_render.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/utf8.hpp"

namespace rapa::support {
namespace {

constexpr std::string_view bold = "\x1b[1m";
constexpr std::string_view reset = "\x1b[0m";

std::string_view severity_colour(Severity severity) {
  switch (severity) {
    case Severity::note: return "\x1b[1;36m";
    case Severity::warning: return "\x1b[1;35m";
    case Severity::error: return "\x1b[1;31m";
  }
  return "";
}

class TextRenderer {
 public:
  TextRenderer(const SourceManager& sources, const TextStyle& style) : sources_(sources), style_(style) {}

  void diagnostic(const Diagnostic& d) {
    std::string message = d.message;
    const auto group = diag_group(d.id);
    if (d.severity != Severity::note && !group.empty()) message += fmt::format(" [-W{}]", group);
    line(d.range, d.severity, message, d.fixit ? &*d.fixit : nullptr);
    for (const auto& n : d.notes) line(n.range, Severity::note, n.message, nullptr);
  }

  std::string take() { return std::move(out_); }

 private:
  void line(SourceRange range, Severity severity, std::string_view message, const FixIt* fixit) {
    if (style_.colour) out_ += bold;
    if (range.valid()) {
      const auto lc = sources_.line_column(range.file, range.begin);
      out_ += fmt::format("{}:{}:{}: ", sources_.name(range.file), lc.line, lc.column);
    } else {
      out_ += "rapa: ";
    }
    if (style_.colour) out_ += severity_colour(severity);
    out_ += severity_name(severity);
    out_ += ": ";
    if (style_.colour) { out_ += reset; out_ += bold; }
    out_ += message;
    if (style_.colour) out_ += reset;
    out_ += '\n';
    if (style_.show_source && range.valid()) snippet(range, fixit);
  }

  // The source line, then a caret under the first byte and tildes under the rest of the range
  // (clipped to the line), then the replacement text of a fix-it under it.
  void snippet(SourceRange range, const FixIt* fixit) {
    const auto lc = sources_.line_column(range.file, range.begin);
    const auto text = sources_.line_text(range.file, lc.line);
    const std::string gutter = fmt::format("{:>5} | ", lc.line);
    out_ += gutter;
    out_ += expand_tabs(text);
    out_ += '\n';
    const std::size_t column = std::min<std::size_t>(lc.column - 1, text.size());
    const std::size_t indent = display_width(expand_tabs(text.substr(0, column)));
    const std::size_t line_end = sources_.line_start(range.file, lc.line) + text.size();
    const std::size_t end = std::clamp<std::size_t>(range.end, range.begin, line_end);
    const std::size_t span = std::max<std::size_t>(
        1, display_width(text.substr(column, end - std::min<std::size_t>(end, range.begin))));
    const std::string blank_gutter = "      | ";
    out_ += blank_gutter + std::string(indent, ' ');
    if (style_.colour) out_ += "\x1b[1;32m";
    out_ += '^';
    out_ += std::string(span - 1, '~');
    if (style_.colour) out_ += reset;
    out_ += '\n';
    if (fixit && fixit->range.file == range.file) {
      out_ += blank_gutter + std::string(indent, ' ') + fixit->replacement + '\n';
    }
  }

  static std::string expand_tabs(std::string_view text) {
    std::string result;
    for (char c : text) result += c == '\t' ? ' ' : c;
    return result;
  }

  const SourceManager& sources_;
  const TextStyle& style_;
  std::string out_;
};

nlohmann::json location(const SourceManager& sources, SourceRange range) {
  nlohmann::json j = nlohmann::json::object();
  if (!range.valid()) return j;
  const auto begin = sources.line_column(range.file, range.begin);
  const auto end = sources.line_column(range.file, std::max(range.begin, range.end));
  j["file"] = std::string(sources.name(range.file));
  j["line"] = begin.line;
  j["column"] = begin.column;
  j["end_line"] = end.line;
  j["end_column"] = end.column;
  return j;
}

}  // namespace

std::string render_text(const SourceManager& sources, const std::vector<Diagnostic>& diagnostics,
                        const TextStyle& style) {
  TextRenderer renderer(sources, style);
  for (const auto& d : diagnostics) renderer.diagnostic(d);
  return renderer.take();
}

std::string render_json(const SourceManager& sources, const std::vector<Diagnostic>& diagnostics) {
  nlohmann::json list = nlohmann::json::array();
  std::size_t errors = 0, warnings = 0;
  for (const auto& d : diagnostics) {
    errors += d.severity == Severity::error;
    warnings += d.severity == Severity::warning;
    nlohmann::json j = location(sources, d.range);
    j["id"] = std::string(diag_name(d.id));
    j["severity"] = std::string(severity_name(d.severity));
    j["group"] = std::string(diag_group(d.id));
    j["message"] = d.message;
    nlohmann::json notes = nlohmann::json::array();
    for (const auto& n : d.notes) {
      nlohmann::json note = location(sources, n.range);
      note["message"] = n.message;
      notes.push_back(std::move(note));
    }
    j["notes"] = std::move(notes);
    if (d.fixit) {
      nlohmann::json fix = location(sources, d.fixit->range);
      fix["replacement"] = d.fixit->replacement;
      j["fixit"] = std::move(fix);
    }
    list.push_back(std::move(j));
  }
  nlohmann::json root;
  root["diagnostics"] = std::move(list);
  root["errors"] = errors;
  root["warnings"] = warnings;
  // Invalid UTF-8 never reaches a message (files are validated first), but replace rather than
  // throw should a byte slip through.
  return root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_summary(std::size_t errors, std::size_t warnings) {
  const auto plural = [](std::size_t n, std::string_view word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
  };
  if (errors && warnings) return plural(errors, "error") + " and " + plural(warnings, "warning") + " generated.\n";
  if (errors) return plural(errors, "error") + " generated.\n";
  if (warnings) return plural(warnings, "warning") + " generated.\n";
  return {};
}

}  // namespace rapa::support
