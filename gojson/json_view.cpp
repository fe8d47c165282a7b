#include "gojson/json_view.hpp"

#include <cstring>
#include <functional>

#include "gojson/json_lexer.hpp"

namespace uvm::gojson {

namespace {

bool fold_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) {
      return false;
    }
  }
  return true;
}

detail::number_token number_of(std::string_view text) {
  detail::number_token n;
  detail::reader<detail::discard>(text).number(n);
  return n;
}

} // namespace

namespace detail {

const char* skip_space(const char* p, const char* end) {
  while (p != end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
    ++p;
  }
  return p;
}

const char* string_end(const char* p, const char* end, bool& escaped) {
  ++p;
  // Most strings have no escape: up to the next quote, if no backslash
  // comes before it.
  const auto* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
  if (quote != nullptr && std::memchr(p, '\\', static_cast<size_t>(quote - p)) == nullptr) {
    return quote + 1;
  }
  while (p != end) {
    char c = *p;
    if (c == '"') {
      return p + 1;
    }
    if (c == '\\') {
      escaped = true;
      ++p; // the escaped character; \uXXXX holds no quote or backslash
    }
    ++p;
  }
  return end;
}

const char* value_end(const char* p, const char* end) {
  if (p == end) {
    return end;
  }
  bool escaped = false;
  if (*p == '"') {
    return string_end(p, end, escaped);
  }
  if (*p == '{' || *p == '[') {
    int depth = 0;
    while (p != end) {
      char c = *p;
      if (c == '"') {
        p = string_end(p, end, escaped);
        continue;
      }
      if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return p + 1;
      }
      ++p;
    }
    return end;
  }
  // A literal or a number: up to the next delimiter.
  while (p != end) {
    char c = *p;
    if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
        c == '\0') {
      break;
    }
    ++p;
  }
  return p;
}

std::string decode_string(std::string_view quoted) {
  std::string out;
  detail::reader<detail::discard>(quoted).string(out);
  return out;
}

} // namespace detail

json_view view_at(const char* p, const char* end) {
  using kind = json_view::kind;
  switch (*p) {
  case '{':
    return {p, end, kind::object};
  case '[':
    return {p, end, kind::array};
  case '"':
    return {p, end, kind::string};
  case 't':
  case 'f':
    return {p, end, kind::boolean};
  case 'n':
    return {p, end, kind::null};
  default:
    break;
  }
  switch (number_of({p, static_cast<size_t>(end - p)}).kind) {
  case detail::number_token::type::unsigned_integer:
    return {p, end, kind::number_unsigned};
  case detail::number_token::type::integer:
    return {p, end, kind::number_integer};
  case detail::number_token::type::floating:
    break;
  }
  return {p, end, kind::number_float};
}

std::optional<json_view> view_json(std::string_view text, json_object* members) {
  detail::discard nothing;
  std::string_view at;
  if (members == nullptr) {
    if (!detail::reader<detail::discard>(text).document(nothing, &at)) {
      return std::nullopt;
    }
    return view_at(at.data(), at.data() + at.size());
  }
  *members = json_object{};
  auto report = [members](std::string_view key, std::string_view value) {
    members->add_quoted(key, value);
  };
  if (!detail::reader<detail::discard, decltype(report)>(text, report).document(nothing, &at)) {
    *members = json_object{};
    return std::nullopt;
  }
  return view_at(at.data(), at.data() + at.size());
}

std::string json_view::get_string() const {
  if (kind_ != kind::string) {
    return {};
  }
  if (auto plain = plain_string()) {
    return std::string(*plain);
  }
  return detail::decode_string(text());
}

std::optional<std::string_view> json_view::plain_string() const {
  if (kind_ != kind::string) {
    return std::nullopt;
  }
  std::string_view inner(begin_ + 1, static_cast<size_t>(end_ - begin_ - 2));
  if (inner.find('\\') != std::string_view::npos) {
    return std::nullopt;
  }
  return inner;
}

uint64_t json_view::get_uint() const {
  auto n = number_of(text());
  switch (kind_) {
  case kind::number_unsigned:
    return n.u;
  case kind::number_integer:
    return static_cast<uint64_t>(n.i);
  case kind::number_float:
    return static_cast<uint64_t>(n.d);
  default:
    return 0;
  }
}

int64_t json_view::get_int() const {
  auto n = number_of(text());
  switch (kind_) {
  case kind::number_unsigned:
    return static_cast<int64_t>(n.u);
  case kind::number_integer:
    return n.i;
  case kind::number_float:
    return static_cast<int64_t>(n.d);
  default:
    return 0;
  }
}

double json_view::get_double() const {
  auto n = number_of(text());
  switch (kind_) {
  case kind::number_unsigned:
    return static_cast<double>(n.u);
  case kind::number_integer:
    return static_cast<double>(n.i);
  case kind::number_float:
    return n.d;
  default:
    return 0;
  }
}

json_object::json_object(const json_view& object) {
  auto text = object.text();
  std::less<const char*> before;
  object.for_each_member([&](std::string_view key, const json_view& value) {
    if (before(key.data(), text.data()) || before(text.data() + text.size(), key.data())) {
      key = decoded_.emplace_front(key); // decoded into for_each_member's buffer
    }
    add(key, value);
  });
}

void json_object::add_quoted(std::string_view quoted_key, std::string_view value) {
  std::string_view key = quoted_key.substr(1, quoted_key.size() - 2);
  if (key.find('\\') != std::string_view::npos) {
    key = decoded_.emplace_front(detail::decode_string(quoted_key));
  }
  add(key, view_at(value.data(), value.data() + value.size()));
}

void json_object::add(std::string_view key, const json_view& value) {
  member m{key, value};
  if (size_ < inline_.size()) {
    inline_[size_] = m;
  } else {
    more_.push_back(m);
  }
  ++size_;
}

const json_view* json_object::find_ci(std::string_view name) const {
  const member* exact = nullptr;
  const member* folded = nullptr;
  for (size_t i = 0; i < size_; ++i) {
    const auto& m = at(i);
    if (m.key == name) {
      exact = &m; // the last of a repeated name wins
    } else if (exact == nullptr && fold_equal(m.key, name) &&
               (folded == nullptr || m.key <= folded->key)) {
      folded = &m;
    }
  }
  if (exact != nullptr) {
    return &exact->value;
  }
  return folded != nullptr ? &folded->value : nullptr;
}

} // namespace uvm::gojson
