// TorchScript class source and type strings of a torch archive (the rules are in archive_check.h).
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "run/archive_parts.h"
#include "util/strings.h"

namespace repro::internal::archive {
namespace {

struct Token {
  enum Kind { kName, kString, kPunct } kind;
  std::string text;  // kName: the identifier; kPunct: the character; kString: as written
};

// The tokens of one line of class source (or of a type string); false when a character is
// not one torch prints there.
bool tokenize(std::string_view line, std::vector<Token>& tokens) {
  tokens.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (c == ' ') {
      ++i;
    } else if (is_name_start(c)) {
      std::size_t j = i;
      while (j < line.size() && is_name_char(line[j])) ++j;
      tokens.push_back({Token::kName, std::string(line.substr(i, j - i))});
      i = j;
    } else if (c == '"') {
      // torch's printQuotedString: printable characters, \\ \' \" \a \b \f \n \r \t \v, and
      // three octal digits for the rest.
      std::size_t j = i + 1;
      for (;;) {
        if (j >= line.size()) return false;
        const char d = line[j];
        if (d == '"') break;
        if (d == '\\') {
          if (j + 1 >= line.size()) return false;
          const char e = line[j + 1];
          if (std::strchr("\\'\"abfnrtv", e) != nullptr) {
            j += 2;
          } else if (j + 3 < line.size() && std::all_of(line.begin() + j + 1, line.begin() + j + 4,
                                                        [](char o) { return o >= '0' && o <= '7'; })) {
            j += 4;
          } else {
            return false;
          }
        } else if (d < 0x20 || d > 0x7e) {
          return false;
        } else {
          ++j;
        }
      }
      tokens.push_back({Token::kString, std::string(line.substr(i, j + 1 - i))});
      i = j + 1;
    } else if (std::strchr("[](),:=.", c) != nullptr) {
      tokens.push_back({Token::kPunct, std::string(1, c)});
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

bool is_punct(const std::vector<Token>& t, std::size_t i, char c) {
  return i < t.size() && t[i].kind == Token::kPunct && t[i].text[0] == c;
}

// Types torch prints for attributes: builtins, generics of a fixed arity, classes of the
// archive (collected in `classes`). Parses t[i...]; false on anything else.
class TypeGrammar {
 public:
  TypeGrammar(const std::vector<Token>& t, std::set<std::string>& classes) : t_(t), classes_(classes) {}

  // A whole type from t[i] to the end.
  bool parse_to_end(std::size_t i) {
    i_ = i;
    return type(1, nullptr) && i_ == t_.size();
  }

 private:
  bool type(std::size_t depth, std::string* head) {
    if (depth > kMaxDepth || i_ >= t_.size() || t_[i_].kind != Token::kName) return false;
    std::string name = t_[i_++].text;
    while (is_punct(t_, i_, '.') && i_ + 1 < t_.size() && t_[i_ + 1].kind == Token::kName) {
      name += "." + t_[i_ + 1].text;
      i_ += 2;
    }
    if (head != nullptr) *head = name;
    static const std::set<std::string> kPlain = {"Tensor",  "int",      "float", "bool",  "str",
                                                 "complex", "NoneType", "Any",   "Device"};
    if (kPlain.count(name) != 0) return true;
    if (is_archive_class(name)) {
      classes_.insert(name);
      return true;
    }
    std::size_t min_args = 1, max_args = 1;
    if (name == "Dict") {
      min_args = max_args = 2;
    } else if (name == "Tuple") {
      max_args = kMaxDepth;
    } else if (name != "List" && name != "Optional") {
      return false;
    }
    if (!is_punct(t_, i_, '[')) return false;
    ++i_;
    std::size_t args = 0;
    for (;;) {
      std::string arg_head;
      if (!type(depth + 1, &arg_head)) return false;
      static const std::set<std::string> kKeys = {"str", "int", "float", "bool", "Tensor", "complex"};
      if (name == "Dict" && args == 0 && kKeys.count(arg_head) == 0) return false;
      ++args;
      if (is_punct(t_, i_, ']')) break;
      if (!is_punct(t_, i_, ',')) return false;
      ++i_;
    }
    ++i_;
    return args >= min_args && args <= max_args;
  }

  const std::vector<Token>& t_;
  std::set<std::string>& classes_;
  std::size_t i_ = 0;
};

// `[` string `,` ... `]`, from t[i] to the end (torch prints a comma after each name).
bool is_name_list(const std::vector<Token>& t, std::size_t i) {
  if (!is_punct(t, i, '[')) return false;
  ++i;
  while (i < t.size() && t[i].kind == Token::kString) {
    ++i;
    if (is_punct(t, i, ',')) ++i;
  }
  return is_punct(t, i, ']') && i + 1 == t.size();
}

bool is_keyword(const std::string& name) {
  static const std::set<std::string> kKeywords = {"and",         "as",
                                                  "assert",      "break",
                                                  "class",       "continue",
                                                  "def",         "del",
                                                  "elif",        "else",
                                                  "except",      "finally",
                                                  "for",         "from",
                                                  "global",      "if",
                                                  "import",      "in",
                                                  "is",          "lambda",
                                                  "nonlocal",    "not",
                                                  "or",          "pass",
                                                  "raise",       "return",
                                                  "try",         "while",
                                                  "with",        "yield",
                                                  "True",        "False",
                                                  "None",        "__parameters__",
                                                  "__buffers__", "__annotations__"};
  return kKeywords.count(name) != 0;
}

}  // namespace

// One class file: `class Module(Module):` and attribute lines. Returns the classes its types
// name.
std::set<std::string> check_class_source(std::string_view source, const std::string& record, const Place& at) {
  std::set<std::string> named;
  std::vector<Token> t;
  std::size_t line_no = 0, start = 0;
  bool ended = false;
  while (start < source.size()) {
    std::size_t end = source.find('\n', start);
    if (end == std::string_view::npos) end = source.size();
    const std::string_view line = source.substr(start, end - start);
    start = end + 1;
    ++line_no;
    const std::string where = record + " line " + std::to_string(line_no);
    auto bad = [&](const char* why) { at.refuse(where, "'" + printable(line) + "' " + why); };
    if (ended) bad("follows an empty line");
    if (line.empty()) {
      ended = true;
      continue;
    }
    if (line_no == 1) {
      if (line != "class Module(Module):") bad("is not the class line torch writes");
      continue;
    }
    if (line.size() < 3 || line.substr(0, 2) != "  " || line[2] == ' ') bad("is not indented as torch writes");
    if (!tokenize(line, t) || t.empty() || t[0].kind != Token::kName) bad("is not a line torch writes");
    TypeGrammar types(t, named);
    const std::string& head = t[0].text;
    bool ok = false;
    if (head == "__parameters__" || head == "__buffers__") {
      ok = is_punct(t, 1, '=') && is_name_list(t, 2);
    } else if (head == "__annotations__") {
      ok = (is_punct(t, 1, '=') && is_punct(t, 2, '[') && is_punct(t, 3, ']') && t.size() == 4) ||
           (is_punct(t, 1, '[') && t.size() > 5 && t[2].kind == Token::kString && is_punct(t, 3, ']') &&
            is_punct(t, 4, '=') && types.parse_to_end(5));
    } else {
      ok = !is_keyword(head) && is_punct(t, 1, ':') && types.parse_to_end(2);
    }
    if (!ok) bad("is not an attribute line torch writes");
  }
  if (line_no == 0) at.refuse(record, "is empty");
  return named;
}

bool parse_type(std::string_view type, std::set<std::string>* classes) {
  std::vector<Token> t;
  TypeGrammar grammar(t, *classes);
  return tokenize(type, t) && grammar.parse_to_end(0);
}

}  // namespace repro::internal::archive
