// The consultation as Markdown, to paste into a report: a heading per item so the report can be
// navigated, tables for the data still needed and for the sources cited, in full, at the end.
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "consult/render.hpp"
#include "consult/render_common.hpp"

namespace rapa::consult {

namespace {

using namespace render_detail;

/// Text with the characters Markdown would read as markup escaped (CommonMark backslash
/// escapes), so that a rule's "[inference]" or "*" stays text.
std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '`' || c == '*' || c == '_' || c == '[' || c == ']' || c == '<' || c == '>' || c == '|' ||
        c == '#')
      out += '\\';
    // A table cell ends at a newline; texts are one paragraph anyway.
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string code(std::string_view text) { return fmt::format("`{}`", text); }

}  // namespace

std::string render_markdown(const Consultation& consultation, const RenderOptions& options) {
  std::string out = fmt::format("# Consultation: {}\n\n", code(options.patient));
  if (consultation.critical)
    out += "> **Critical:** a contraindication or a critical warning was raised; read it before anything else.\n\n";
  if (consultation.advice.empty() && consultation.needs_data.empty())
    out += "No advice: no rule of the rule base applies to these facts.\n\n";

  std::vector<const CitationView*> cited;  // each source once, in order of first citation
  for (std::size_t i = 0; i < consultation.advice.size(); ++i) {
    const AdviceView& a = consultation.advice[i];
    if (i == 0 || consultation.advice[i - 1].kind != a.kind) out += fmt::format("## {}\n\n", section_title(a.kind));
    std::string head = headline(a);
    if (a.kind == inference::AdviceKind::warn) head += " warning";
    out += fmt::format("### [{}] {}{}({})\n\n", a.number, escaped(head), head.empty() ? "" : " ", escaped(grade_phrase(a)));
    if (!a.details.empty()) out += fmt::format("**{}**\n\n", escaped(details_phrase(a.details)));
    if (!a.text.empty()) out += escaped(a.text) + "\n\n";
    std::string evidence;
    for (const CitationView& c : a.citations) {
      evidence += fmt::format("{}{} ({})", evidence.empty() ? "" : "; ", code(c.key), level_phrase(c));
      bool known = false;
      for (const CitationView* seen : cited) known = known || seen->key == c.key;
      if (!known) cited.push_back(&c);
    }
    out += fmt::format("*Evidence:* {}  \n*Rule:* {} ({}, {})\n\n", evidence, code(a.rule), escaped(a.title),
                       code(shown_path(a.defined_at, options)));
  }

  const std::size_t held_back = distinct_needs(consultation.needs_data).size();
  if (held_back != 0) {
    out += "## Needs data\n\nAdvice held back until these are known:\n\n";
    out += "| missing | at stake | rules |\n|---|---|---|\n";
    for (const NeedsGroup& group : group_needs(consultation.needs_data)) {
      for (const NeedsGroup::Stake& stake : group.at_stake) {
        std::string rules;
        for (const std::string& r : stake.rules) rules += (rules.empty() ? "" : ", ") + code(r);
        out += fmt::format("| {} | {} | {} |\n", escaped(group.missing), escaped(stake.advice), rules);
      }
    }
    out += "\n";
  }

  if (!cited.empty()) {
    out += "## Sources\n\n";
    out += options.doi ? "| key | level | citation | link |\n|---|---|---|---|\n" : "| key | level | citation |\n|---|---|---|\n";
    for (const CitationView* c : cited) {
      out += fmt::format("| {} | {} | {} |", code(c->key), level_phrase(*c), escaped(c->citation));
      if (options.doi) {
        const std::string link = link_of(*c);
        out += fmt::format(" {} |", link.empty() ? "" : "<" + link + ">");
      }
      out += "\n";
    }
    out += "\n";
  }

  out += fmt::format("---\n\nRule base {}: {} advice items, {} held back for data; {} rules fired.\n",
                     code(short_version(consultation.rules_version)), consultation.advice.size(), held_back,
                     consultation.fired);
  return out;
}

}  // namespace rapa::consult
