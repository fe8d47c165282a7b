// JSON read in place: the text is checked once as a whole (view_json
// accepts and rejects exactly what read_json does), then a value is a view
// of its bytes, its members are found and its strings decoded only when
// asked, and finding them allocates nothing. For the paths that read a few
// members of every request (the simulated HCS, the stub guest), where
// building a tree of the whole request was most of their cost. A view
// gives the values read_json gives (tests compare the two); it refers to
// the text, which must outlive it.
#pragma once

#include <array>
#include <cstdint>
#include <forward_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uvm::gojson {

class json_view {
public:
  enum class kind : uint8_t {
    null,
    boolean,
    number_unsigned, // an integer >= 0 that fits 64 bits
    number_integer,  // a negative integer that fits 64 bits
    number_float,    // anything else, as in nlohmann
    string,
    object,
    array,
  };

  json_view() = default;

  kind type() const { return kind_; }
  bool is_null() const { return kind_ == kind::null; }
  bool is_boolean() const { return kind_ == kind::boolean; }
  bool is_string() const { return kind_ == kind::string; }
  bool is_object() const { return kind_ == kind::object; }
  bool is_array() const { return kind_ == kind::array; }
  bool is_number_unsigned() const { return kind_ == kind::number_unsigned; }
  // Unsigned or signed, as nlohmann's is_number_integer.
  bool is_number_integer() const {
    return kind_ == kind::number_unsigned || kind_ == kind::number_integer;
  }

  // The value's text as it stands in the document.
  std::string_view text() const { return {begin_, static_cast<size_t>(end_ - begin_)}; }

  // The value, each for its own kind (a view of another kind gives the
  // zero value).
  std::string get_string() const;
  // The string when it has no escapes (its text without the quotes), else
  // nullopt: a caller that only compares it needs no copy.
  std::optional<std::string_view> plain_string() const;
  bool get_bool() const { return kind_ == kind::boolean && *begin_ == 't'; }
  uint64_t get_uint() const;
  int64_t get_int() const;
  double get_double() const;

  // An object's members in the order of the text, repeated names
  // included: f(key, value); an escaped key is decoded into a buffer that
  // lives during the call.
  template <class F>
  void for_each_member(F&& f) const;
  // An array's elements in order: f(value).
  template <class F>
  void for_each_element(F&& f) const;

private:
  friend json_view view_at(const char* p, const char* end);

  json_view(const char* begin, const char* end, kind k) : begin_(begin), end_(end), kind_(k) {}

  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  kind kind_ = kind::null;
};

class json_object;

// The value `text` holds, or nullopt if read_json would reject it. When
// it is an object and `members` is given, its members are read into
// `members` in the same pass.
std::optional<json_view> view_json(std::string_view text, json_object* members = nullptr);

// The members of one object, scanned once, found by name as find_ci finds
// them in the tree read_json makes. An empty object when made from a view
// that is not an object.
class json_object {
public:
  json_object() = default;
  explicit json_object(const json_view& object);
  // Decoded names live in the object: it moves, it is not copied.
  json_object(json_object&&) = default;
  json_object& operator=(json_object&&) = default;
  json_object(const json_object&) = delete;
  json_object& operator=(const json_object&) = delete;

  // The member named exactly `name`, else the first, in byte order of the
  // names, that matches it ignoring ASCII case; of a repeated name, its
  // last value (the one the tree keeps). nullptr when there is none.
  const json_view* find_ci(std::string_view name) const;

private:
  friend std::optional<json_view> view_json(std::string_view text, json_object* members);

  struct member {
    std::string_view key;
    json_view value;
  };

  void add(std::string_view key, const json_view& value);
  // A member as the reader reports it: the key with its quotes.
  void add_quoted(std::string_view quoted_key, std::string_view value);
  const member& at(size_t i) const {
    return i < inline_.size() ? inline_[i] : more_[i - inline_.size()];
  }

  // Requests have a handful of members: those need no allocation.
  std::array<member, 8> inline_{};
  std::vector<member> more_;
  size_t size_ = 0;
  // Escaped names, decoded (nodes do not move).
  std::forward_list<std::string> decoded_;
};

// --- implementation ---

namespace detail {
const char* skip_space(const char* p, const char* end);
// Past the end of the (valid) value starting at p.
const char* value_end(const char* p, const char* end);
// Past the closing quote of the (valid) string starting at p; `escaped`
// tells whether it holds a backslash.
const char* string_end(const char* p, const char* end, bool& escaped);
std::string decode_string(std::string_view quoted);
} // namespace detail

json_view view_at(const char* p, const char* end);

template <class F>
void json_view::for_each_member(F&& f) const {
  if (kind_ != kind::object) {
    return;
  }
  const char* p = detail::skip_space(begin_ + 1, end_);
  std::string decoded;
  while (p != end_ && *p == '"') {
    bool escaped = false;
    const char* key_end = detail::string_end(p, end_, escaped);
    std::string_view key(p + 1, static_cast<size_t>(key_end - p - 2));
    if (escaped) {
      decoded = detail::decode_string({p, static_cast<size_t>(key_end - p)});
      key = decoded;
    }
    p = detail::skip_space(key_end, end_) + 1; // past ':'
    p = detail::skip_space(p, end_);
    const char* value_end = detail::value_end(p, end_);
    f(key, view_at(p, value_end));
    p = detail::skip_space(value_end, end_);
    if (p != end_ && *p == ',') {
      p = detail::skip_space(p + 1, end_);
    }
  }
}

template <class F>
void json_view::for_each_element(F&& f) const {
  if (kind_ != kind::array) {
    return;
  }
  const char* p = detail::skip_space(begin_ + 1, end_);
  while (p != end_ && *p != ']') {
    const char* value_end = detail::value_end(p, end_);
    f(view_at(p, value_end));
    p = detail::skip_space(value_end, end_);
    if (p != end_ && *p == ',') {
      p = detail::skip_space(p + 1, end_);
    }
  }
}

} // namespace uvm::gojson
