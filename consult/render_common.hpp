// The words the three consultation renderers share, so that text, JSON and Markdown name a
// section, a detail, a grade and an evidence level alike. Internal to consult/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "consult/consultation.hpp"
#include "consult/render.hpp"

namespace rapa::consult::render_detail {

/// The reading-order sections of consult(): one per advice kind.
std::string_view section_title(inference::AdviceKind kind);

/// "start 2..4 mg/day", "trough 5..15 ng/mL", "reassess at 3 months", "every 1 months".
std::string detail_phrase(const DetailView& detail);

/// The details of one item, joined: "start 2 mg/day, trough 5..15 ng/mL".
std::string details_phrase(const std::vector<DetailView>& details);

/// "grade B, derived" or "grade B, consensus"; "not graded" for advice resting on labels.
std::string grade_phrase(const AdviceView& advice);

/// "1b", "4, derived", "label".
std::string level_phrase(const CitationView& citation);

/// "https://doi.org/10.1182/..." or the URL; empty when the source has neither.
std::string link_of(const CitationView& citation);

/// The item's headline after its number: the drug, test or datum, or the warning's severity.
std::string headline(const AdviceView& advice);

/// "current medicines (not asked), eGFR (unknown)".
std::string missing_phrase(const NeedsDataView& needs);

/// The needs-data entries, each distinct one once: a rule held back in several ways (one firing
/// per medicine that might interact) says the same thing each time.
std::vector<const NeedsDataView*> distinct_needs(const std::vector<NeedsDataView>& needs);

/// Needs data as a clinician reads it: by the data missing, then by the advice at stake, with
/// the rules that would give it.
struct NeedsGroup {
  struct Stake {
    std::string advice;              // "warn high"
    std::vector<std::string> rules;  // distinct, in order
  };
  std::string missing;  // missing_phrase()
  std::vector<Stake> at_stake;
};
std::vector<NeedsGroup> group_needs(const std::vector<NeedsDataView>& needs);

/// A file:line as shown to people: relative to options.home when it lies under it.
std::string shown_path(const std::string& location, const RenderOptions& options);

/// The first 12 hex digits of the rule-base version, as git abbreviates a commit.
std::string short_version(const std::string& version);

}  // namespace rapa::consult::render_detail
