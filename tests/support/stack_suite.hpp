#pragma once

// A GoogleTest fixture whose tests share one psp_stack (started once per
// suite): for suites whose tests only add their own objects. A stack that
// failed to start fails each test with the reason; a failed test prints the
// processes' log tails.

#include "tests/support/psp_stack.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>
#include <utility>

namespace psp::test {

class stack_suite : public ::testing::Test {
protected:
  static void SetUpTestSuite() { start_stack({}); }
  /// A suite whose stack needs other options defines its own
  /// SetUpTestSuite that calls this.
  static void start_stack(stack_options opts) {
    try {
      stack_ = std::make_unique<psp_stack>(std::move(opts));
    } catch (const std::exception& e) {
      start_error_ = e.what();
    }
  }
  static void TearDownTestSuite() { stack_.reset(); }
  void SetUp() override {
    ASSERT_NE(stack_, nullptr) << "the stack did not start: " << start_error_;
  }
  void TearDown() override {
    if (HasFailure() && stack_ != nullptr) {
      std::cerr << stack_->log_tails(30);
    }
  }

  psp_stack& stack() { return *stack_; }

private:
  // Shared by every fixture derived from this one: GoogleTest runs one
  // suite at a time, and each starts and stops its own stack.
  static inline std::unique_ptr<psp_stack> stack_;
  static inline std::string start_error_;
};

} // namespace psp::test
