// bfloat16 and float16: widening is exact, rounding is to nearest even, and the array conversions
// (vectorised per ISA, threaded) agree with an independent reference on the cases that break them:
// every 16-bit value, every midpoint between neighbours (the ties), subnormals, overflow, NaN.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "mfgrad/half.hpp"
#include "mfgrad/isa.hpp"
#include "mfgrad/types.hpp"

namespace mfgrad::test {
namespace {

// The reference: every finite 16-bit value's exact double, sorted; rounding x picks the nearest by
// bisection, a tie going to the even bit pattern, and |x| at or past the first value not representable
// (max + half an ulp) going to ±∞. Nothing here uses the library's rounding.
template <class S>
struct Reference {
  std::vector<std::pair<double, std::uint16_t>> finite;  // ascending, -0 dropped (it ties with +0)
  double overflow = 0;                                   // the magnitude from which x rounds to ∞

  Reference() {
    for (std::uint32_t b = 0; b <= 0xffff; ++b) {
      const double d = static_cast<double>(static_cast<float>(S{static_cast<std::uint16_t>(b)}));
      if (std::isfinite(d) && !(d == 0 && b != 0)) finite.emplace_back(d, static_cast<std::uint16_t>(b));
    }
    std::sort(finite.begin(), finite.end());
    const double max = finite.back().first, below = finite[finite.size() - 2].first;
    overflow = max + (max - below) / 2;
  }

  std::uint16_t round(float x) const {
    const double d = x;
    const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    if (std::fabs(d) >= overflow) return static_cast<std::uint16_t>(sign | S{}.bits | infinity_bits());
    auto hi = std::lower_bound(finite.begin(), finite.end(), std::make_pair(d, std::uint16_t{0}));
    if (hi == finite.end()) --hi;
    auto lo = hi == finite.begin() ? hi : hi - 1;
    const double dl = d - lo->first, dh = hi->first - d;
    std::uint16_t pick;
    if (dl < dh)
      pick = lo->second;
    else if (dh < dl)
      pick = hi->second;
    else
      pick = (lo->second & 1) == 0 ? lo->second : hi->second;
    // Zero keeps the sign of x.
    if ((pick & 0x7fff) == 0) pick = sign;
    return pick;
  }

  static std::uint16_t infinity_bits() { return std::is_same_v<S, bfloat16> ? 0x7f80 : 0x7c00; }
};

template <class S>
S make(float x);
template <>
bfloat16 make(float x) {
  return to_bfloat16(x);
}
template <>
float16 make(float x) {
  return to_float16(x);
}

template <class S>
std::vector<float> hard_cases() {
  const Reference<S> ref;
  std::vector<float> xs = {0.0f,
                           -0.0f,
                           1.0f,
                           -1.0f,
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity(),
                           std::numeric_limits<float>::max(),
                           std::numeric_limits<float>::denorm_min(),
                           std::numeric_limits<float>::min(),
                           static_cast<float>(ref.overflow),
                           std::nextafter(static_cast<float>(ref.overflow), 0.0f)};
  // Every 16-bit value, and the midpoints (and their float neighbours) between consecutive ones.
  for (std::size_t x = 0; x < ref.finite.size(); ++x) {
    const auto v = static_cast<float>(ref.finite[x].first);
    xs.push_back(v);
    if (x + 1 < ref.finite.size()) {
      const auto mid = static_cast<float>((ref.finite[x].first + ref.finite[x + 1].first) / 2);
      xs.insert(xs.end(), {mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY)});
    }
  }
  std::mt19937 rng(3);
  for (int x = 0; x < 200000; ++x) {
    std::uint32_t bits = rng();
    float f;
    std::memcpy(&f, &bits, 4);
    if (!std::isnan(f)) xs.push_back(f);
  }
  return xs;
}

template <class S>
void check_format() {
  const Reference<S> ref;
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {
    const S h{static_cast<std::uint16_t>(b)};
    const float f = h;
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(static_cast<float>(make<S>(f)))) << "NaN " << b << " did not stay NaN";
      continue;
    }
    // Widening is exact: rounding back gives the same bits.
    ASSERT_EQ(make<S>(f).bits, b) << "value " << f;
  }
  const std::vector<float> xs = hard_cases<S>();
  std::vector<std::uint16_t> want(xs.size());
  for (std::size_t x = 0; x < xs.size(); ++x) {
    want[x] = ref.round(xs[x]);
    ASSERT_EQ(make<S>(xs[x]).bits, want[x]) << "scalar rounding of " << xs[x];
  }
  // The array conversions at every SIMD level this CPU allows, on 1 and 3 threads.
  for (Isa isa : built_isas()) {
    if (!cpu_supports(isa)) continue;
    const ScopedSimdLevel level(isa);
    for (int threads : {1, 3}) {
      std::vector<S> out(xs.size());
      round_to(std::span<const float>(xs), std::span<S>(out), threads);
      std::size_t bad = 0;
      for (std::size_t x = 0; x < xs.size(); ++x)
        if (out[x].bits != want[x] && bad++ < 5)
          ADD_FAILURE() << to_string(isa) << ", " << threads << " threads: round_to(" << xs[x] << ") gave bits "
                        << out[x].bits << ", want " << want[x];
      EXPECT_EQ(bad, 0u);
      std::vector<float> back(xs.size());
      widen(std::span<const S>(out), std::span<float>(back), threads);
      for (std::size_t x = 0; x < xs.size(); ++x)
        if (back[x] != static_cast<float>(out[x]) && bad++ < 5)
          ADD_FAILURE() << to_string(isa) << ": widen of bits " << out[x].bits << " gave " << back[x];
      EXPECT_EQ(bad, 0u);
    }
  }
}

TEST(Half, BFloat16RoundsToNearestEvenAndWidensExactly) { check_format<bfloat16>(); }
TEST(Half, Float16RoundsToNearestEvenAndWidensExactly) { check_format<float16>(); }

TEST(Half, ArrayConversionsRefuseMismatchedOrOverlappingSpans) {
  std::vector<float> f(8);
  std::vector<bfloat16> b(7);
  EXPECT_THROW(round_to(std::span<const float>(f), std::span<bfloat16>(b)), Error);
  auto* alias = reinterpret_cast<bfloat16*>(f.data());
  EXPECT_THROW(round_to(std::span<const float>(f.data(), 4), std::span<bfloat16>(alias, 4)), Error);
}

}  // namespace
}  // namespace mfgrad::test
