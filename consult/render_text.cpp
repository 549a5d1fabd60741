// The consultation for a terminal: sections in reading order, long texts wrapped with a hanging
// indent so that nothing passes the 80th column, colour only when asked for.
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "consult/render.hpp"
#include "consult/render_common.hpp"

namespace rapa::consult {

namespace {

using inference::AdviceKind;
using namespace render_detail;

namespace ansi {
constexpr std::string_view bold = "\033[1m";
constexpr std::string_view red = "\033[1;31m";
constexpr std::string_view yellow = "\033[33m";
constexpr std::string_view green = "\033[32m";
constexpr std::string_view cyan = "\033[36m";
constexpr std::string_view dim = "\033[2m";
constexpr std::string_view reset = "\033[0m";
}  // namespace ansi

/// Bytes of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte, so that a
/// walk always advances).
std::size_t sequence_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

char32_t decode(std::string_view text, std::size_t at, std::size_t length) {
  const auto byte = [&](std::size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(text[at + i])); };
  switch (length) {
    case 2: return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
    case 3: return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    case 4: return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
    default: return byte(0);
  }
}

/// East Asian wide and fullwidth ranges (Unicode UAX #11), where Chinese drug names fall.
bool is_wide(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) || (c >= 0xAC00 && c <= 0xD7A3) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD);
}

/// Collects output lines. Every line goes through paragraph(), which wraps at the width, so the
/// 80-column promise is kept in one place.
class TextWriter {
 public:
  TextWriter(bool colour, std::size_t width) : colour_(colour), width_(width) {}

  /// `lead` (shown in `lead_style`) and then `text` (in `text_style`), wrapped: continuation
  /// lines start after `hang` spaces.
  void paragraph(std::string_view lead, std::string_view lead_style, std::string_view text, std::size_t hang,
                 std::string_view text_style = {}) {
    line_ = std::string(lead.empty() ? "" : styled(lead, lead_style));
    column_ = display_width(lead);
    line_has_word_ = false;
    hang_ = hang;
    style_ = text_style;
    pending_.clear();
    for (std::string_view word : words(text)) add_word(word);
    finish_line();
  }

  void blank() { out_ += "\n"; }
  std::string take() { return std::move(out_); }

 private:
  std::string styled(std::string_view text, std::string_view style) const {
    if (!colour_ || style.empty() || text.empty()) return std::string(text);
    return fmt::format("{}{}{}", style, text, ansi::reset);
  }

  static std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++i;
      std::size_t start = i;
      while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t' && text[i] != '\r') ++i;
      if (i > start) out.push_back(text.substr(start, i - start));
    }
    return out;
  }

  void add_word(std::string_view word) {
    const std::size_t width = display_width(word);
    const std::size_t space = line_has_word_ ? 1 : 0;
    if (column_ + space + width > width_ && (line_has_word_ || column_ > hang_)) {
      finish_line();
      start_continuation();
      return add_word(word);
    }
    if (column_ + width > width_) {
      // A word longer than a whole line (a long URL): break it at the width, at a character.
      std::size_t at = 0, used = column_;
      while (at < word.size()) {
        const std::size_t n = sequence_length(static_cast<unsigned char>(word[at]));
        const std::size_t w = display_width(word.substr(at, n));
        if (used + w > width_ && used > column_) break;
        used += w;
        at += n;
      }
      append(word.substr(0, at), used - column_);
      finish_line();
      start_continuation();
      if (at < word.size()) add_word(word.substr(at));
      return;
    }
    if (space) append(" ", 1);
    append(word, width);
  }

  void append(std::string_view text, std::size_t width) {
    pending_ += text;
    column_ += width;
    line_has_word_ = true;
  }

  void start_continuation() {
    line_ = std::string(hang_, ' ');
    column_ = hang_;
    line_has_word_ = false;
    pending_.clear();
  }

  void finish_line() {
    out_ += line_;
    out_ += styled(pending_, style_);
    // Trailing spaces of an empty lead are noise in a terminal and in a diff.
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    out_ += "\n";
    line_.clear();
    pending_.clear();
    line_has_word_ = false;
  }

  bool colour_;
  std::size_t width_;
  std::string out_;
  std::string line_;      // the lead or the hanging indent, styled
  std::string pending_;   // the words of the line, unstyled
  std::size_t column_ = 0;
  std::size_t hang_ = 0;
  bool line_has_word_ = false;
  std::string_view style_;
};

std::string_view headline_style(const AdviceView& advice) {
  switch (advice.kind) {
    case AdviceKind::contraindicate: return ansi::red;
    case AdviceKind::warn:
      if (advice.severity == "critical") return ansi::red;
      if (advice.severity == "high") return ansi::yellow;
      return ansi::bold;
    case AdviceKind::recommend: return ansi::green;
    case AdviceKind::monitor:
    case AdviceKind::ask:
    case AdviceKind::info: return ansi::bold;
  }
  return ansi::bold;
}

bool is_critical(const AdviceView& advice) {
  return advice.kind == AdviceKind::contraindicate || (advice.kind == AdviceKind::warn && advice.severity == "critical");
}

// Item layout: the number in the margin, then everything at a hanging indent past it, so that
// the numbers stand out when scanning for `why N`.
constexpr std::size_t kItemIndent = 7;

void write_item(TextWriter& out, const AdviceView& advice, const RenderOptions& options) {
  const std::string number = fmt::format("  [{}]", advice.number);
  const std::string lead = number + std::string(number.size() < kItemIndent ? kItemIndent - number.size() : 1, ' ');
  std::string head = headline(advice);
  if (advice.kind == AdviceKind::warn) head += " warning";
  const std::string grade = grade_phrase(advice);
  // The headline is coloured; the grade in brackets after it stays plain.
  out.paragraph(lead + head + (head.empty() ? "" : " "), headline_style(advice), "(" + grade + ")", kItemIndent);
  if (!advice.details.empty()) out.paragraph(std::string(kItemIndent, ' '), {}, details_phrase(advice.details), kItemIndent + 2, ansi::cyan);
  if (!advice.text.empty()) out.paragraph(std::string(kItemIndent, ' '), {}, advice.text, kItemIndent);
  const std::string evidence_lead = std::string(kItemIndent, ' ') + "Evidence:";
  if (options.doi) {
    out.paragraph(evidence_lead, ansi::dim, "", kItemIndent);
    for (const CitationView& c : advice.citations) {
      std::string link = link_of(c);
      out.paragraph(std::string(kItemIndent + 2, ' '), {},
                    c.key + " (" + level_phrase(c) + ")" + (link.empty() ? "" : " " + link), kItemIndent + 4);
    }
  } else {
    std::string cited;
    for (const CitationView& c : advice.citations) cited += (cited.empty() ? "" : ", ") + c.key + " (" + level_phrase(c) + ")";
    out.paragraph(evidence_lead + " ", ansi::dim, cited, kItemIndent + 2);
  }
  out.paragraph(std::string(kItemIndent, ' ') + "Rule: ", ansi::dim,
                advice.rule + " (" + shown_path(advice.defined_at, options) + ")", kItemIndent + 2, ansi::dim);
}

void write_needs(TextWriter& out, const NeedsGroup& group) {
  out.paragraph("  - ", ansi::bold, group.missing, 4, ansi::bold);
  for (const NeedsGroup::Stake& stake : group.at_stake) {
    std::string rules;
    for (const std::string& r : stake.rules) rules += (rules.empty() ? "" : ", ") + r;
    out.paragraph("      " + stake.advice + ": ", {}, rules, 8, ansi::dim);
  }
}

}  // namespace

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = std::min(sequence_length(static_cast<unsigned char>(text[i])), text.size() - i);
    // Escape sequences take no columns; only the renderer writes them, always as ESC [ ... m.
    if (text[i] == '\033') {
      while (i < text.size() && text[i] != 'm') ++i;
      ++i;
      continue;
    }
    width += is_wide(decode(text, i, n)) ? 2 : 1;
    i += n;
  }
  return width;
}

std::string render_text(const Consultation& consultation, const RenderOptions& options) {
  TextWriter out(options.colour, options.width);
  out.paragraph("Consultation for ", ansi::bold, options.patient, 2, ansi::bold);
  if (consultation.critical)
    out.paragraph("", {}, "A contraindication or a critical warning was raised: read it before anything else.", 0,
                  ansi::red);
  if (consultation.advice.empty() && consultation.needs_data.empty()) {
    out.blank();
    out.paragraph("", {}, "No advice: no rule of the rule base applies to these facts.", 0);
  }

  std::size_t critical = 0;
  for (std::size_t i = 0; i < consultation.advice.size(); ++i) {
    const AdviceView& advice = consultation.advice[i];
    critical += is_critical(advice);
    if (i == 0 || consultation.advice[i - 1].kind != advice.kind) {
      out.blank();
      out.paragraph("", {}, section_title(advice.kind), 0, ansi::bold);
    }
    write_item(out, advice, options);
  }
  const std::size_t held_back = distinct_needs(consultation.needs_data).size();
  if (held_back != 0) {
    out.blank();
    out.paragraph("", {}, "Needs data", 0, ansi::bold);
    out.paragraph("  ", {}, "Advice held back until these are known, and the rules that would give it:", 2);
    for (const NeedsGroup& group : group_needs(consultation.needs_data)) write_needs(out, group);
  }

  out.blank();
  out.paragraph("", {},
                fmt::format("Rule base {}: {} {}, {} critical, {} held back, {} {}.",
                            short_version(consultation.rules_version), consultation.advice.size(),
                            consultation.advice.size() == 1 ? "item" : "items", critical, held_back,
                            consultation.fired, consultation.fired == 1 ? "firing" : "firings"),
                2, ansi::dim);
  return out.take();
}

}  // namespace rapa::consult
