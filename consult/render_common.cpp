// The words the consultation renderers share.
#include "consult/render_common.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace rapa::consult::render_detail {

using inference::AdviceKind;

std::string_view section_title(AdviceKind kind) {
  switch (kind) {
    case AdviceKind::recommend: return "Recommendations";
    case AdviceKind::contraindicate: return "Contraindications";
    case AdviceKind::warn: return "Warnings";
    case AdviceKind::monitor: return "Monitoring";
    case AdviceKind::ask: return "Questions";
    case AdviceKind::info: return "Information";
  }
  return "Information";
}

std::string detail_phrase(const DetailView& detail) {
  // `reassess at 3 months` is how the rule language writes it (docs/language.md §6.1); the
  // other keys read well as they are.
  if (detail.key == "reassess") return "reassess at " + detail.shown;
  if (detail.key == "loading") return "loading dose " + detail.shown;
  return detail.key + " " + detail.shown;
}

std::string details_phrase(const std::vector<DetailView>& details) {
  std::string out;
  for (const DetailView& d : details) {
    if (!out.empty()) out += ", ";
    out += detail_phrase(d);
  }
  return out;
}

std::string grade_phrase(const AdviceView& advice) {
  if (advice.grade == '\0') return "not graded";
  std::string out = std::string("grade ") + advice.grade + (advice.grade_consensus ? ", consensus" : ", derived");
  if (!advice.grade_because.empty()) out += ", because " + advice.grade_because;
  return out;
}

std::string level_phrase(const CitationView& citation) {
  if (citation.level.empty()) return "level not given";
  // Labels and reference tables are not graded: "label" is their level, not a derived one.
  const bool graded = citation.level[0] >= '1' && citation.level[0] <= '5';
  if (!graded) return citation.level;
  return "level " + citation.level + (citation.level_derived ? ", derived" : "");
}

std::string link_of(const CitationView& citation) {
  if (!citation.doi.empty()) return "https://doi.org/" + citation.doi;
  return citation.url;
}

std::string headline(const AdviceView& advice) {
  switch (advice.kind) {
    case AdviceKind::recommend:
    case AdviceKind::contraindicate:
    case AdviceKind::monitor:
    case AdviceKind::ask: return advice.subject;
    case AdviceKind::warn: return advice.severity;
    case AdviceKind::info: return {};
  }
  return {};
}

std::string missing_phrase(const NeedsDataView& needs) {
  std::string out;
  for (const MissingView& m : needs.missing) {
    if (!out.empty()) out += ", ";
    out += m.label + " (" + m.reason + ")";
  }
  return out;
}

std::vector<const NeedsDataView*> distinct_needs(const std::vector<NeedsDataView>& needs) {
  std::vector<const NeedsDataView*> out;
  std::set<std::tuple<std::string, std::string, std::vector<std::string>>> seen;
  for (const NeedsDataView& n : needs)
    if (seen.emplace(n.rule, missing_phrase(n), n.at_stake).second) out.push_back(&n);
  return out;
}

std::vector<NeedsGroup> group_needs(const std::vector<NeedsDataView>& needs) {
  std::vector<NeedsGroup> groups;
  const auto add_unique = [](std::vector<std::string>& list, const std::string& item) {
    if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
  };
  for (const NeedsDataView* n : distinct_needs(needs)) {
    const std::string missing = missing_phrase(*n);
    auto group = std::find_if(groups.begin(), groups.end(), [&](const NeedsGroup& g) { return g.missing == missing; });
    if (group == groups.end()) group = groups.insert(groups.end(), NeedsGroup{missing, {}});
    for (const std::string& advice : n->at_stake) {
      auto stake = std::find_if(group->at_stake.begin(), group->at_stake.end(),
                                [&](const NeedsGroup::Stake& s) { return s.advice == advice; });
      if (stake == group->at_stake.end()) stake = group->at_stake.insert(group->at_stake.end(), NeedsGroup::Stake{advice, {}});
      add_unique(stake->rules, n->rule);
    }
  }
  return groups;
}

std::string shown_path(const std::string& location, const RenderOptions& options) {
  if (options.home.empty()) return location;
  std::string prefix = options.home;
  if (prefix.back() != '/') prefix += '/';
  if (location.size() > prefix.size() && location.compare(0, prefix.size(), prefix) == 0)
    return location.substr(prefix.size());
  return location;
}

std::string short_version(const std::string& version) { return version.substr(0, 12); }

}  // namespace rapa::consult::render_detail
