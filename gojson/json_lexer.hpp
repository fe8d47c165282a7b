// The strict JSON (RFC 8259) reader behind read_json and view_json: one
// pass over the text that either builds nlohmann values or, for `discard`,
// only checks the text (nothing is allocated). The rules are read_json's
// (gojson/json_reader.hpp). Internal to gojson/.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "gojson/json_reader.hpp"

namespace uvm::gojson::detail {

// The "value" of a text that is only checked.
struct discard {};

// What the characters of a string become when they are only checked.
struct no_text {
  void append(const char*, size_t) {}
  no_text& operator+=(char) { return *this; }
};

// A number as nlohmann types it: unsigned when it is an integer that is
// not negative, signed when negative, floating-point otherwise and when
// the integer does not fit 64 bits.
struct number_token {
  enum class type : uint8_t { unsigned_integer, integer, floating };
  type kind = type::unsigned_integer;
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
};

// Told nothing: the default for what a reader reports of the members of
// the outermost object.
struct no_members {
  void operator()(std::string_view, std::string_view) {}
};

// `Members` is told of each member of the outermost object once it was
// checked: its key's text (with its quotes) and its value's text.
template <class Json, class Members = no_members>
class reader {
public:
  static constexpr bool builds = !std::is_same_v<Json, discard>;
  static constexpr bool reports = !std::is_same_v<Members, no_members>;

  explicit reader(std::string_view text, Members members = {})
      : p_(text.data()), end_(text.data() + text.size()), members_(std::move(members)) {}

  // The whole text is one value (after an optional BOM, with surrounding
  // whitespace, ended by the end of the text or a NUL); `at` gets where
  // that value starts and ends.
  bool document(Json& out, std::string_view* at = nullptr) {
    if (end_ - p_ >= 3 && static_cast<unsigned char>(p_[0]) == 0xEF &&
        static_cast<unsigned char>(p_[1]) == 0xBB && static_cast<unsigned char>(p_[2]) == 0xBF) {
      p_ += 3;
    }
    skip_space();
    const char* start = p_;
    if (!value(out, 0)) {
      return false;
    }
    if (at != nullptr) {
      *at = std::string_view(start, static_cast<size_t>(p_ - start));
    }
    skip_space();
    // nlohmann's lexer takes a NUL outside strings for the end of input.
    return p_ == end_ || *p_ == '\0';
  }

  // A string token at the start of the text, decoded into `out`.
  template <class Out>
  bool string(Out& out) {
    ++p_;
    for (;;) {
      // Plain ASCII in one run, eight bytes at a time while it lasts.
      const char* run = p_;
      while (end_ - p_ >= 8) {
        auto stop = not_plain8(p_);
        if (stop != 0) {
          p_ += first_marked(stop);
          break;
        }
        p_ += 8;
      }
      while (p_ != end_) {
        auto c = static_cast<unsigned char>(*p_);
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
          break;
        }
        ++p_;
      }
      out.append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) {
        return false;
      }
      auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        ++p_;
        if (!escape(out)) {
          return false;
        }
      } else if (c < 0x20 || !utf8(out)) {
        return false;
      }
    }
  }

  // A number token at the start of the text.
  bool number(number_token& out) {
    const char* start = p_;
    bool negative = take('-');
    if (p_ == end_ || !digit(*p_)) {
      return false;
    }
    if (!take('0')) {
      while (p_ != end_ && digit(*p_)) {
        ++p_;
      }
    }
    bool integral = true;
    if (take('.')) {
      integral = false;
      if (p_ == end_ || !digit(*p_)) {
        return false;
      }
      while (p_ != end_ && digit(*p_)) {
        ++p_;
      }
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (!take('+')) {
        take('-');
      }
      if (p_ == end_ || !digit(*p_)) {
        return false;
      }
      while (p_ != end_ && digit(*p_)) {
        ++p_;
      }
    }
    // strto* need a terminated copy; numbers are short.
    const std::string text(start, p_);
    char* stop = nullptr;
    if (integral) {
      errno = 0;
      if (negative) {
        auto v = std::strtoll(text.c_str(), &stop, 10);
        if (errno == 0) {
          out.kind = number_token::type::integer;
          out.i = static_cast<std::int64_t>(v);
          return true;
        }
      } else {
        auto v = std::strtoull(text.c_str(), &stop, 10);
        if (errno == 0) {
          out.kind = number_token::type::unsigned_integer;
          out.u = static_cast<std::uint64_t>(v);
          return true;
        }
      }
    }
    // Fractions, exponents and integers too large for 64 bits; a number
    // beyond double's range is an error, as in nlohmann.
    double d = std::strtod(text.c_str(), &stop);
    if (!std::isfinite(d)) {
      return false;
    }
    out.kind = number_token::type::floating;
    out.d = d;
    return true;
  }

private:
  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) {
      ++p_;
    }
  }

  bool take(char c) {
    if (p_ != end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  bool value(Json& out, int depth) {
    if (p_ == end_) {
      return false;
    }
    switch (*p_) {
    case '{':
      return object(out, depth + 1);
    case '[':
      return array(out, depth + 1);
    case '"':
      if constexpr (builds) {
        std::string s;
        if (!string(s)) {
          return false;
        }
        out = std::move(s);
        return true;
      } else {
        no_text s;
        return string(s);
      }
    case 't':
      return literal("true", out, true);
    case 'f':
      return literal("false", out, false);
    case 'n':
      return literal("null", out, nullptr);
    default: {
      number_token n;
      if (!number(n)) {
        return false;
      }
      if constexpr (builds) {
        switch (n.kind) {
        case number_token::type::unsigned_integer:
          out = n.u;
          break;
        case number_token::type::integer:
          out = n.i;
          break;
        case number_token::type::floating:
          out = n.d;
          break;
        }
      }
      return true;
    }
    }
  }

  template <class V>
  bool literal(std::string_view word, Json& out, V v) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    if constexpr (builds) {
      out = Json(v);
    }
    return true;
  }

  bool object(Json& out, int depth) {
    if (depth > max_json_depth) {
      return false;
    }
    ++p_;
    if constexpr (builds) {
      out = Json::object();
    }
    skip_space();
    if (take('}')) {
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') {
        return false;
      }
      const char* key_at = p_;
      std::conditional_t<builds, std::string, no_text> key;
      if (!string(key)) {
        return false;
      }
      const char* key_end = p_;
      skip_space();
      if (!take(':')) {
        return false;
      }
      skip_space();
      const char* value_at = p_;
      Json member;
      if (!value(member, depth)) {
        return false;
      }
      if constexpr (reports) {
        if (depth == 1) {
          members_(std::string_view(key_at, static_cast<size_t>(key_end - key_at)),
                   std::string_view(value_at, static_cast<size_t>(p_ - value_at)));
        }
      }
      if constexpr (builds) {
        out[std::move(key)] = std::move(member);
      }
      skip_space();
      if (take('}')) {
        return true;
      }
      if (!take(',')) {
        return false;
      }
      skip_space();
    }
  }

  bool array(Json& out, int depth) {
    if (depth > max_json_depth) {
      return false;
    }
    ++p_;
    if constexpr (builds) {
      out = Json::array();
    }
    skip_space();
    if (take(']')) {
      return true;
    }
    for (;;) {
      Json element;
      if (!value(element, depth)) {
        return false;
      }
      if constexpr (builds) {
        out.push_back(std::move(element));
      }
      skip_space();
      if (take(']')) {
        return true;
      }
      if (!take(',')) {
        return false;
      }
      skip_space();
    }
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  // Four hex digits after "\u"; -1 if they are not.
  long code_unit() {
    if (end_ - p_ < 4) {
      return -1;
    }
    long v = 0;
    for (int i = 0; i < 4; ++i) {
      int d = hex(p_[i]);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    p_ += 4;
    return v;
  }

  template <class Out>
  static void append_utf8(Out& out, long cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  template <class Out>
  bool escape(Out& out) {
    if (p_ == end_) {
      return false;
    }
    char c = *p_++;
    switch (c) {
    case '"':
    case '\\':
    case '/':
      out += c;
      return true;
    case 'b':
      out += '\b';
      return true;
    case 'f':
      out += '\f';
      return true;
    case 'n':
      out += '\n';
      return true;
    case 'r':
      out += '\r';
      return true;
    case 't':
      out += '\t';
      return true;
    case 'u':
      break;
    default:
      return false;
    }
    long cp = code_unit();
    if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) {
      return false;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate needs its low half right after it.
      if (!take('\\') || !take('u')) {
        return false;
      }
      long low = code_unit();
      if (low < 0xDC00 || low > 0xDFFF) {
        return false;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
    return true;
  }

  // One UTF-8 sequence of RFC 3629 starting at p_; false if it is not one.
  template <class Out>
  bool utf8(Out& out) {
    auto b = [this](long i) { return static_cast<unsigned char>(p_[i]); };
    auto in = [](unsigned char x, unsigned char lo, unsigned char hi) {
      return x >= lo && x <= hi;
    };
    unsigned char lead = b(0);
    long left = end_ - p_;
    long n = 0;
    if (in(lead, 0xC2, 0xDF)) {
      n = left >= 2 && in(b(1), 0x80, 0xBF) ? 2 : 0;
    } else if (lead == 0xE0) {
      n = left >= 3 && in(b(1), 0xA0, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    } else if (in(lead, 0xE1, 0xEC) || in(lead, 0xEE, 0xEF)) {
      n = left >= 3 && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    } else if (lead == 0xED) {
      n = left >= 3 && in(b(1), 0x80, 0x9F) && in(b(2), 0x80, 0xBF) ? 3 : 0;
    } else if (lead == 0xF0) {
      n = left >= 4 && in(b(1), 0x90, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    } else if (in(lead, 0xF1, 0xF3)) {
      n = left >= 4 && in(b(1), 0x80, 0xBF) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    } else if (lead == 0xF4) {
      n = left >= 4 && in(b(1), 0x80, 0x8F) && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) ? 4 : 0;
    }
    if (n == 0) {
      return false;
    }
    out.append(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  // The per-byte test of string() on eight bytes at once: zero when none is
  // a control character, a byte >= 0x80, a quote or a backslash; else the
  // high bit is set in the first such byte (and maybe in later ones).
  static uint64_t not_plain8(const char* p) {
    constexpr uint64_t ones = 0x0101010101010101ULL;
    constexpr uint64_t highs = 0x8080808080808080ULL;
    uint64_t x = 0;
    std::memcpy(&x, p, 8);
    auto has_zero = [](uint64_t v) { return (v - ones) & ~v & highs; };
    uint64_t control = (x - ones * 0x20) & ~x & highs; // a byte < 0x20 (high bit clear)
    return (x & highs) | control | has_zero(x ^ (ones * '"')) | has_zero(x ^ (ones * '\\'));
  }

  // How many bytes come before the first one marked in `mask` (memory
  // order); 0 when the byte order is not known, so that the caller's
  // per-byte loop finds it.
  static long first_marked(uint64_t mask) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_ctzll(mask) / 8;
#else
    (void)mask;
    return 0;
#endif
  }

  const char* p_;
  const char* end_;
  Members members_;
};

} // namespace uvm::gojson::detail
