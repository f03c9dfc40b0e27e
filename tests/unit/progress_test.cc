// session/progress.h: the rate a progress line shows counts this process's steps only.
#include "session/progress.h"

#include <gtest/gtest.h>

namespace repro {
namespace {

TEST(ProgressTest, RateCountsTheStepsOfThisProcess) {
  EXPECT_DOUBLE_EQ(internal::steps_per_second(0, 9, 2.0), 5.0);  // steps 0..9 in 2 s
  // Resumed at step 1000: 10 steps in 2 s is 5 steps/s, not (1000 + 10) / 2.
  EXPECT_DOUBLE_EQ(internal::steps_per_second(1000, 1009, 2.0), 5.0);
  EXPECT_DOUBLE_EQ(internal::steps_per_second(7, 7, 0.0), 0.0);
}

}  // namespace
}  // namespace repro
