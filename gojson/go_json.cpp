#include "gojson/go_json.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace uvm::gojson {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence at s[i] and its code point, or 0 when
// the bytes are not valid UTF-8 (overlong forms, surrogates and values above
// U+10FFFF are invalid, as in Go's utf8.DecodeRuneInString).
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    lo = c == 0xE0 ? 0xA0 : 0x80;
    hi = c == 0xED ? 0x9F : 0xBF;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    unsigned char b = byte(i + k);
    if (b < lo || b > hi) {
      return 0;
    }
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return len;
}

void put_unicode_escape(std::string& out, uint32_t cp) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) {
    out += hex_digits[(cp >> shift) & 0xF];
  }
}

// Writes `\` and the letter at the same position in `letters` when `c`
// is one of `chars`; false otherwise.
bool put_short_escape(std::string& out, unsigned char c, std::string_view chars,
                      std::string_view letters) {
  size_t k = chars.find(static_cast<char>(c));
  if (k == std::string_view::npos) {
    return false;
  }
  out += '\\';
  out += letters[k];
  return true;
}

// Printable ASCII that json.Marshal writes as it is.
bool plain(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

// Eight bytes that are all plain(), tested on the whole word.
bool plain8(const char* p) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t highs = 0x8080808080808080ULL;
  uint64_t x = 0;
  std::memcpy(&x, p, 8);
  auto has = [&](char c) {
    uint64_t v = x ^ (ones * static_cast<unsigned char>(c));
    return (v - ones) & ~v & highs;
  };
  uint64_t control = (x - ones * 0x20) & ~x & highs; // a byte < 0x20
  return ((x & highs) | control | has('"') | has('\\') | has('<') | has('>') | has('&')) == 0;
}

void put_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    size_t run = i;
    while (s.size() - run >= 8 && plain8(s.data() + run)) {
      run += 8;
    }
    while (run < s.size() && plain(static_cast<unsigned char>(s[run]))) {
      ++run;
    }
    out.append(s, i, run - i);
    i = run;
    if (i == s.size()) {
      break;
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (!put_short_escape(out, c, "\"\\\n\r\t", "\"\\nrt")) {
        put_unicode_escape(out, c); // HTML-safe, as json.Marshal does
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = decode_utf8(s, i, cp);
    if (len == 0) {
      out += "\\ufffd";
      len = 1;
    } else if (cp == 0x2028 || cp == 0x2029) {
      put_unicode_escape(out, cp);
    } else {
      out.append(s, i, len);
    }
    i += len;
  }
  out += '"';
}

// encoding/json's float64 rule: 'f' format unless the magnitude is below
// 1e-6 or at least 1e21, then 'e' with a two-digit negative exponent
// shortened ("1e-07" becomes "1e-7").
void put_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    // Go refuses to encode these; null keeps the output valid JSON.
    out += "null";
    return;
  }
  char buf[64];
  double abs = std::fabs(d);
  bool exp = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof(buf), d,
                           exp ? std::chars_format::scientific : std::chars_format::fixed);
  std::string text(buf, res.ptr);
  size_t n = text.size();
  if (exp && n >= 4 && text[n - 4] == 'e' && text[n - 3] == '-' && text[n - 2] == '0') {
    text.erase(n - 2, 1);
  }
  out += text;
}

void put_value(std::string& out, const nlohmann::ordered_json& v) {
  using t = nlohmann::ordered_json::value_t;
  switch (v.type()) {
  case t::object: {
    out += '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!first) {
        out += ',';
      }
      first = false;
      put_string(out, it.key());
      out += ':';
      put_value(out, *it);
    }
    out += '}';
    break;
  }
  case t::array: {
    out += '[';
    bool first = true;
    for (const auto& element : v) {
      if (!first) {
        out += ',';
      }
      first = false;
      put_value(out, element);
    }
    out += ']';
    break;
  }
  case t::string:
    put_string(out, v.get_ref<const std::string&>());
    break;
  case t::boolean:
    out += v.get<bool>() ? "true" : "false";
    break;
  case t::number_integer:
    out += std::to_string(v.get<int64_t>());
    break;
  case t::number_unsigned:
    out += std::to_string(v.get<uint64_t>());
    break;
  case t::number_float:
    put_double(out, v.get<double>());
    break;
  default: // null, and binary/discarded which Go has no counterpart for
    out += "null";
  }
}

// Go's quoteChar: the offending byte as a rune, quoted like strconv.Quote
// but between single quotes.
std::string quote_char(unsigned char c) {
  if (c == '\'') {
    return "'\\''";
  }
  if (c == '"') {
    return "'\"'";
  }
  std::string q;
  if (put_short_escape(q, c, "\\\a\b\f\n\r\t\v", "\\abfnrtv")) {
    return "'" + q + "'";
  }
  if (c < 0x20 || c == 0x7F) {
    q = "\\x";
    q += hex_digits[c >> 4];
    q += hex_digits[c & 0xF];
  } else if (c < 0x80) {
    q = static_cast<char>(c);
  } else if (c < 0xA1 || c == 0xAD) {
    // Not printable for strconv.IsPrint: C1 controls, NBSP, soft hyphen.
    put_unicode_escape(q, c);
  } else {
    q += static_cast<char>(0xC0 | (c >> 6));
    q += static_cast<char>(0x80 | (c & 0x3F));
  }
  return "'" + q + "'";
}

// A recursive-descent copy of Go's scanner (encoding/json/scanner.go) that
// reports the same first error with the same words.
class syntax_checker {
public:
  explicit syntax_checker(std::string_view text) : s_(text) {}

  std::string run() {
    if (!value(0)) {
      return err_;
    }
    skip_space();
    if (!at_end()) {
      return invalid("after top-level value");
    }
    return {};
  }

private:
  static constexpr int max_depth = 10000;

  bool at_end() const { return i_ >= s_.size(); }
  unsigned char peek() const { return static_cast<unsigned char>(s_[i_]); }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\r' || peek() == '\n')) {
      ++i_;
    }
  }

  std::string invalid(const char* context) {
    return "invalid character " + quote_char(peek()) + " " + context;
  }

  // Sets the error for the current position; end of input wins.
  bool fail(const char* context) {
    err_ = at_end() ? "unexpected end of JSON input" : invalid(context);
    return false;
  }

  bool expect(char c, const char* context) {
    if (at_end() || peek() != static_cast<unsigned char>(c)) {
      return fail(context);
    }
    ++i_;
    return true;
  }

  static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

  bool value(int depth) {
    skip_space();
    if (at_end()) {
      return fail("");
    }
    switch (peek()) {
    case '{':
    case '[':
      if (depth + 1 > max_depth) {
        return fail("exceeded max depth");
      }
      return peek() == '{' ? object(depth + 1) : array(depth + 1);
    case '"':
      return string();
    case 't':
      return literal("true");
    case 'f':
      return literal("false");
    case 'n':
      return literal("null");
    default:
      if (peek() == '-' || is_digit(peek())) {
        return number();
      }
      return fail("looking for beginning of value");
    }
  }

  bool object(int depth) {
    ++i_;
    skip_space();
    if (!at_end() && peek() == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      skip_space();
      if (at_end() || peek() != '"') {
        return fail("looking for beginning of object key string");
      }
      if (!string()) {
        return false;
      }
      skip_space();
      if (!expect(':', "after object key") || !value(depth)) {
        return false;
      }
      skip_space();
      if (!at_end() && peek() == '}') {
        ++i_;
        return true;
      }
      if (!expect(',', "after object key:value pair")) {
        return false;
      }
    }
  }

  bool array(int depth) {
    ++i_;
    skip_space();
    if (!at_end() && peek() == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      if (!value(depth)) {
        return false;
      }
      skip_space();
      if (!at_end() && peek() == ']') {
        ++i_;
        return true;
      }
      if (!expect(',', "after array element")) {
        return false;
      }
    }
  }

  bool string() {
    ++i_;
    for (;;) {
      if (at_end()) {
        return fail("");
      }
      unsigned char c = peek();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) {
        return fail("in string literal");
      }
      ++i_;
      if (c != '\\') {
        continue;
      }
      if (at_end()) {
        return fail("");
      }
      c = peek();
      if (c == 'u') {
        ++i_;
        for (int k = 0; k < 4; ++k) {
          if (at_end() || !std::isxdigit(peek())) {
            return fail("in \\u hexadecimal character escape");
          }
          ++i_;
        }
      } else if (std::string_view("bfnrt\\/\"").find(static_cast<char>(c)) !=
                 std::string_view::npos) {
        ++i_;
      } else {
        return fail("in string escape code");
      }
    }
  }

  void digits() {
    while (!at_end() && is_digit(peek())) {
      ++i_;
    }
  }

  bool number() {
    if (peek() == '-') {
      ++i_;
      if (at_end() || !is_digit(peek())) {
        return fail("in numeric literal");
      }
    }
    if (peek() == '0') {
      ++i_;
    } else {
      digits();
    }
    if (!at_end() && peek() == '.') {
      ++i_;
      if (at_end() || !is_digit(peek())) {
        return fail("after decimal point in numeric literal");
      }
      digits();
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
      ++i_;
      if (!at_end() && (peek() == '+' || peek() == '-')) {
        ++i_;
      }
      if (at_end() || !is_digit(peek())) {
        return fail("in exponent of numeric literal");
      }
      digits();
    }
    return true;
  }

  bool literal(std::string_view word) {
    ++i_;
    for (char want : word.substr(1)) {
      if (at_end() || peek() != static_cast<unsigned char>(want)) {
        std::string context = "in literal " + std::string(word) + " (expecting '" + want + "')";
        return fail(context.c_str());
      }
      ++i_;
    }
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  std::string err_;
};

bool equal_fold_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

} // namespace

std::string go_dump(const nlohmann::ordered_json& value) {
  std::string out;
  out.reserve(256);
  put_value(out, value);
  return out;
}

void go_append(std::string& out, const nlohmann::ordered_json& value) {
  put_value(out, value);
}

void go_append_string(std::string& out, std::string_view s) {
  put_string(out, s);
}

std::string go_syntax_error(std::string_view text) {
  return syntax_checker(text).run();
}

const nlohmann::json* find_ci(const nlohmann::json& obj, std::string_view name) {
  if (!obj.is_object()) {
    return nullptr;
  }
  if (auto it = obj.find(std::string(name)); it != obj.end()) {
    return &*it;
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (equal_fold_ascii(it.key(), name)) {
      return &*it;
    }
  }
  return nullptr;
}

} // namespace uvm::gojson
