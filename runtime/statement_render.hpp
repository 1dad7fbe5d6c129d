#pragma once

// A statement in the three formats an operator or a merchant gets: JSON
// (what is stored as `statement:<merchant>:<from>`), CSV (one row per
// opening balance, transaction, total and closing balance, amounts as
// integers of minor units) and a printable HTML page. Pure functions.

#include "runtime/statement.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace psp::statement {

enum class statement_format { json, csv, html };

/// "json" | "csv" | "html"; nullopt otherwise.
std::optional<statement_format> parse_format(const std::string& text);

/// The Content-Type of a format.
const char* content_type(statement_format f);

/// "2024-05-01T10:00:00Z".
std::string utc_timestamp(int64_t unix_s);

nlohmann::json to_json(const merchant_statement& s);

/// The statement stored by to_json(); nullopt when `doc` is not one.
std::optional<merchant_statement> from_json(const nlohmann::json& doc);

std::string render_csv(const merchant_statement& s);
std::string render_html(const merchant_statement& s);

/// The statement in format `f`.
std::string render(const merchant_statement& s, statement_format f);

} // namespace psp::statement
