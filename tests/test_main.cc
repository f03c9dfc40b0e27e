// The main of every test binary: the built-in models and data sources registered (as the repro
// tool does), then GoogleTest.
#include <gtest/gtest.h>

#include "models/models.h"

int main(int argc, char** argv) {
  repro::models::register_builtins();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
