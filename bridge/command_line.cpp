#include "bridge/command_line.hpp"

#include <cstring>

namespace uvm::bridge {

result<std::vector<std::string>> split_command_line(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++i == line.size()) {
        return error{errc::bad_request, "command line ends with a backslash"};
      }
      word += line[i];
    } else if (c == '\'') {
      auto end = line.find('\'', i + 1);
      if (end == std::string::npos) {
        return error{errc::bad_request, "unterminated single quote in command line"};
      }
      word.append(line, i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i == line.size()) {
          return error{errc::bad_request, "unterminated double quote in command line"};
        }
        if (line[i] == '"') {
          break;
        }
        if (line[i] == '\\' && i + 1 < line.size() &&
            std::strchr("\"\\$`", line[i + 1]) != nullptr) {
          ++i;
        }
        word += line[i];
      }
    } else {
      word += c;
    }
  }
  if (in_word) {
    words.push_back(std::move(word));
  }
  return words;
}

} // namespace uvm::bridge
