// Text encodings for what the CLI writes and the server logs: one JSON string escaper and
// one CSV quoter for the whole product. The text is often hostile (tensor names from
// files, model names and status messages from clients), so every control character is
// escaped, never passed through.
#ifndef HTSR_BASE_TEXT_ESCAPE_H_
#define HTSR_BASE_TEXT_ESCAPE_H_

#include <string>
#include <string_view>

namespace htsr {

// A JSON string literal, quotes included. Control characters and DEL are escaped; bytes
// that are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
std::string JsonString(std::string_view s);

// One CSV field per RFC 4180: quoted (with doubled quotes) only where it holds a comma,
// quote or line break, so plain names stay diffable with pandas output.
std::string CsvField(std::string_view s);

// CsvField for a text cell, safe to open in a spreadsheet (OWASP "CSV injection"): text
// starting with = + - @, tab or carriage return would be read as a formula (a tensor named
// =HYPERLINK(...)), so it gets a leading single quote. Text that is a plain decimal number
// ("-1.5", "+3e-2") is left alone: it is no formula, and stays a number. Numeric cells are
// written without this; plain names come out byte-identical.
std::string CsvTextField(std::string_view s);

}  // namespace htsr

#endif  // HTSR_BASE_TEXT_ESCAPE_H_
