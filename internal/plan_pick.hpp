// The measure-mode choice among ranked candidates, kept pure so that tests can hand it any ranking.
#pragma once

#include <cstddef>
#include <vector>

#include "mfgrad/plan.hpp"

namespace mfgrad::detail {

// `ranked` is the candidate list as Plan::candidates() shows it: those timed to the end first, fastest
// first, then the dropped. The fastest is chosen, except that a cache-size variant must beat its
// implementation's default by more than 5 % (what one machine's timing repeats to): otherwise the
// default is kept. A dropped candidate is never chosen: its layout was freed and its one time is a
// cold run, not comparable with the medians of the others.
inline std::size_t pick_candidate(const std::vector<PlanCandidate>& ranked) {
  std::size_t pick = 0;
  if (ranked.empty() || ranked[0].dropped) return pick;
  const PlanCandidate& best = ranked[0];
  for (std::size_t x = 1; x < ranked.size(); ++x) {
    const PlanCandidate& c = ranked[x];
    if (!c.dropped && c.kernel == best.kernel && c.caches.l2 == 0 && c.caches.l3 == 0 &&
        c.seconds <= 1.05 * best.seconds) {
      pick = x;
      break;
    }
  }
  return pick;
}

}  // namespace mfgrad::detail
