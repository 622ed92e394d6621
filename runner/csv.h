// results.csv: the schema (docs/csv_schema.md), the row writer and the
// reader used by --resume.
#ifndef ALLOCBENCH_RUNNER_CSV_H_
#define ALLOCBENCH_RUNNER_CSV_H_

#include <map>
#include <string>
#include <vector>

namespace allocbench {

constexpr int kSchemaVersion = 2;

// Column names, in order. The first is always schema_version.
const std::vector<std::string>& csv_columns();

// The header line (with '\n').
std::string csv_header();

// Formats one row from column -> value (missing columns are empty), with '\n'.
std::string csv_row(const std::map<std::string, std::string>& values);

// Splits one CSV line (RFC 4180 quoting) into fields. Returns false on an
// unterminated quote.
bool csv_split(const std::string& line, std::vector<std::string>* fields);

// The rows of an existing results file, for resuming.
struct CsvContents {
  std::vector<std::map<std::string, std::string>> rows;
  size_t valid_bytes = 0;       // Length of the file up to the last complete row.
  bool truncated_tail = false;  // A half-written last row was found (and should be cut).
};

// Reads `path`. Returns an empty string on success, or why the file cannot be
// resumed (wrong header, a malformed row before the last line).
std::string csv_read(const std::string& path, CsvContents* out);

}  // namespace allocbench

#endif  // ALLOCBENCH_RUNNER_CSV_H_
