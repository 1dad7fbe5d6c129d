// What the demo prints: a line per card attempt while it runs, then a table,
// totals, and what is missing when something did not work out.
#pragma once

#include "checkout_runner.hpp"

#include <iosfwd>
#include <string>
#include <vector>

namespace demo {

/// One line as soon as an attempt has its outcome.
void print_attempt(std::ostream& out, const checkout_result& r,
                   const attempt_result& a);

/// "4242 paid" or "0002 declined, 4242 paid".
std::string attempts_summary(const checkout_result& r);

void print_table(std::ostream& out, const std::vector<checkout_result>& all);

void print_totals(std::ostream& out, const std::vector<checkout_result>& all);

/// One line per unsettled checkout saying what is missing; returns how many.
size_t print_missing(std::ostream& out,
                     const std::vector<checkout_result>& all);

} // namespace demo
