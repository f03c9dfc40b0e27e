// What a torch archive may hold before torch reads it (the rules are in archive_check.h).
#include "run/archive_check.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/serialize/input-archive.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "util/strings.h"

namespace repro::internal {
namespace {

constexpr std::size_t kMaxDepth = 100;        // nesting of pickled values and of types
constexpr std::size_t kMaxDims = 64;          // dimensions of a pickled tensor
constexpr std::size_t kMaxGlobalBytes = 256;  // each of a GLOBAL's two names

// The archive and the place in it that a refusal names.
struct Place {
  const std::string& path;
  const std::string& what;
  [[noreturn]] void refuse(const std::string& record, const std::string& problem) const {
    throw Error::input(path + ": " + what + " archive: " + record + ": " + problem);
  }
};

bool is_digits(std::string_view s, std::size_t max_size = 20) {
  return !s.empty() && s.size() <= max_size &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "__torch__.Module" and "__torch__.___torch_mangle_<digits>.Module": the classes torch names
// for an archive's modules.
bool is_archive_class(std::string_view name) {
  if (name == "__torch__.Module") return true;
  constexpr std::string_view prefix = "__torch__.___torch_mangle_", suffix = ".Module";
  return starts_with(name, prefix) && ends_with(name, suffix) && name.size() > prefix.size() + suffix.size() &&
         is_digits(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

// ---- class source ----------------------------------------------------------------------

struct Token {
  enum Kind { kName, kString, kPunct } kind;
  std::string text;  // kName: the identifier; kPunct: the character; kString: as written
};

bool is_name_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

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

// ---- pickles -----------------------------------------------------------------------------

enum class Kind {
  kInt,
  kFloat,
  kBool,
  kNone,
  kStr,
  kTuple,
  kList,
  kDict,
  kGlobal,
  kStorageType,
  kStorage,
  kTensor,
  kObject
};
enum class Callable { kClass, kRebuildTensor, kTypeTag, kBuildList, kOrderedDict };

struct Value;
using Ref = std::shared_ptr<Value>;

struct Value {
  Kind kind = Kind::kNone;
  int64_t number = 0;                    // kInt, kBool; kStorage: elements; kStorageType: bytes per element
  int64_t elem_bytes = 0;                // kStorage
  std::string text;                      // kStr; kGlobal of a class: its qualified name
  Callable callable = Callable::kClass;  // kGlobal
  std::vector<Ref> items;                // kTuple (lists and dicts are kept by count and depth only)
  std::size_t depth = 1;
  // Contained in another value or passed to a global: torch's writer never changes a value
  // after that, and refusing to is what keeps values from containing themselves.
  bool sealed = false;
};

Ref make(Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

// Which pickle of the archive is being read: what it may hold.
struct PickleRules {
  bool classes = false;   // objects of the archive's classes (data.pkl)
  bool storages = false;  // tensors from data/<key> records (data.pkl)
  Kind root = Kind::kObject;
  bool any_root = false;
};

class PickleChecker {
 public:
  PickleChecker(std::string_view bytes, const std::string& record, const Place& at, const PickleRules& rules,
                const std::map<std::string, std::size_t>& storages, std::set<std::string>& classes)
      : bytes_(bytes), record_(record), at_(at), rules_(rules), storages_(storages), classes_(classes) {}

  void run() {
    if (bytes_.size() < 2 || static_cast<uint8_t>(bytes_[0]) != 0x80 || static_cast<uint8_t>(bytes_[1]) != 2) {
      refuse("is not a protocol 2 pickle");
    }
    pos_ = 2;
    for (;;) {
      if (pos_ >= bytes_.size()) refuse("ends before STOP");
      op_pos_ = pos_;
      const uint8_t op = static_cast<uint8_t>(bytes_[pos_++]);
      if (op == '.') break;
      step(op);
    }
    if (pos_ != bytes_.size()) refuse("has bytes after STOP");
    if (stack_.size() != 1 || !marks_.empty()) refuse("does not end with one value");
    if (!rules_.any_root && stack_[0]->kind != rules_.root) refuse("does not hold the value torch's writer puts there");
  }

 private:
  [[noreturn]] void refuse(const std::string& problem) const {
    at_.refuse(record_, "byte " + std::to_string(op_pos_) + ": " + problem);
  }

  template <typename T>
  T read_le() {
    if (bytes_.size() - pos_ < sizeof(T)) refuse("ends inside an opcode");
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  std::string read_line() {
    const std::size_t end = bytes_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > kMaxGlobalBytes) refuse("GLOBAL without a name line");
    const std::string_view s = bytes_.substr(pos_, end - pos_);
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return is_name_char(c) || c == '.'; })) {
      refuse("GLOBAL name '" + printable(s) + "' is not a qualified name");
    }
    pos_ = end + 1;
    return std::string(s);
  }

  // The values above the innermost mark.
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void need(std::size_t n) const {
    if (stack_.size() - floor() < n) {
      refuse("takes " + std::to_string(n) + (n == 1 ? " value" : " values") + " the stack does not hold");
    }
  }
  std::size_t pop_mark() {
    if (marks_.empty()) refuse("takes a MARK that is not there");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    return mark;
  }
  Ref pop() {
    Ref v = stack_.back();
    stack_.pop_back();
    return v;
  }
  void push(Ref v) {
    if (v->depth > kMaxDepth) refuse("nests values deeper than " + std::to_string(kMaxDepth));
    stack_.push_back(std::move(v));
  }
  Ref make_int(int64_t n) {
    Ref v = make(Kind::kInt);
    v->number = n;
    return v;
  }

  Ref tuple_of(std::size_t from) {
    Ref t = make(Kind::kTuple);
    for (std::size_t i = from; i < stack_.size(); ++i) {
      stack_[i]->sealed = true;
      t->depth = std::max(t->depth, stack_[i]->depth + 1);
      t->items.push_back(stack_[i]);
    }
    stack_.resize(from);
    return t;
  }

  // Adds stack_[from...] to the list or dict `target` (elements, or key/value pairs).
  void add_items(const Ref& target, std::size_t from) {
    if (target->sealed) refuse("changes a container after it was used");
    if (target->kind == Kind::kDict) {
      if ((stack_.size() - from) % 2 != 0) refuse("sets a key without a value");
      for (std::size_t i = from; i < stack_.size(); i += 2) {
        const Kind k = stack_[i]->kind;
        if (k != Kind::kStr && k != Kind::kInt && k != Kind::kFloat && k != Kind::kBool && k != Kind::kTensor) {
          refuse("uses a key torch cannot hash");
        }
      }
    }
    for (std::size_t i = from; i < stack_.size(); ++i) {
      if (stack_[i] == target) refuse("puts a container into itself");
      stack_[i]->sealed = true;
      target->depth = std::max(target->depth, stack_[i]->depth + 1);
    }
    if (target->depth > kMaxDepth) refuse("nests values deeper than " + std::to_string(kMaxDepth));
    stack_.resize(from);
  }

  Ref global(const std::string& module, const std::string& name) {
    Ref g = make(Kind::kGlobal);
    if (module == "torch._utils" && name == "_rebuild_tensor_v2" && rules_.storages) {
      g->callable = Callable::kRebuildTensor;
    } else if (module == "torch.jit._pickle" && name == "restore_type_tag") {
      g->callable = Callable::kTypeTag;
    } else if (module == "torch.jit._pickle" &&
               (name == "build_intlist" || name == "build_doublelist" || name == "build_boollist" ||
                (name == "build_tensorlist" && rules_.storages))) {
      g->callable = Callable::kBuildList;
    } else if (module == "collections" && name == "OrderedDict" && rules_.storages) {
      g->callable = Callable::kOrderedDict;
    } else if (module == "torch" && ends_with(name, "Storage") && rules_.storages) {
      static const std::map<std::string, int64_t> kBytes = {
          {"FloatStorage", 4}, {"DoubleStorage", 8}, {"HalfStorage", 2},         {"BFloat16Storage", 2},
          {"LongStorage", 8},  {"IntStorage", 4},    {"ShortStorage", 2},        {"CharStorage", 1},
          {"ByteStorage", 1},  {"BoolStorage", 1},   {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16}};
      const auto it = kBytes.find(name);
      if (it == kBytes.end()) refuse("global torch." + name + " is not a storage type reprotorch reads");
      Ref s = make(Kind::kStorageType);
      s->number = it->second;
      return s;
    } else if (rules_.classes && is_archive_class(module + "." + name)) {
      g->callable = Callable::kClass;
      g->text = module + "." + name;
      classes_.insert(g->text);
    } else {
      refuse("global " + printable(module + "." + name) + " is not one torch writes here");
    }
    return g;
  }

  // What BUILD and REDUCE make of `fn` applied to `arg` (both sealed by now).
  Ref call(const Value& fn, const Ref& arg) {
    const auto& items = arg->items;
    switch (fn.callable) {
      case Callable::kClass: {
        if (arg->kind != Kind::kDict) refuse("builds an object from something other than a dict");
        Ref obj = make(Kind::kObject);
        obj->text = fn.text;
        obj->depth = arg->depth + 1;
        return obj;
      }
      case Callable::kOrderedDict:
        if (arg->kind != Kind::kTuple || !items.empty()) refuse("OrderedDict takes no arguments here");
        return make(Kind::kNone);
      case Callable::kBuildList:
        if (arg->kind != Kind::kTuple || items.empty() || items[0]->kind != Kind::kList) {
          refuse("a list builder takes a list");
        }
        return items[0];
      case Callable::kTypeTag: {
        if (arg->kind != Kind::kTuple || items.size() != 2 || items[1]->kind != Kind::kStr) {
          refuse("restore_type_tag takes a value and a type");
        }
        std::vector<Token> t;
        std::set<std::string> named;
        TypeGrammar grammar(t, named);
        const std::string& type = items[1]->text;
        const Kind want = starts_with(type, "List[")   ? Kind::kList
                          : starts_with(type, "Dict[") ? Kind::kDict
                                                       : Kind::kNone;
        if (!tokenize(type, t) || !grammar.parse_to_end(0) || want == Kind::kNone || items[0]->kind != want) {
          refuse("type tag '" + printable(type) + "' is not one torch writes for its value");
        }
        classes_.insert(named.begin(), named.end());
        return items[0];
      }
      case Callable::kRebuildTensor:
        return rebuild_tensor(*arg);
    }
    refuse("calls a global that cannot be called");
  }

  // _rebuild_tensor_v2(storage, offset, sizes, strides, requires_grad, hooks[, metadata]):
  // the tensor's elements must lie inside the storage.
  Ref rebuild_tensor(const Value& arg) {
    const auto& a = arg.items;
    auto int_tuple = [](const Ref& v) {
      return v->kind == Kind::kTuple && v->items.size() <= kMaxDims &&
             std::all_of(v->items.begin(), v->items.end(),
                         [](const Ref& e) { return e->kind == Kind::kInt && e->number >= 0; });
    };
    if (arg.kind != Kind::kTuple || (a.size() != 6 && a.size() != 7) || a[0]->kind != Kind::kStorage ||
        a[1]->kind != Kind::kInt || !int_tuple(a[2]) || !int_tuple(a[3]) || a[2]->items.size() != a[3]->items.size() ||
        a[4]->kind != Kind::kBool || a[5]->kind != Kind::kNone || (a.size() == 7 && a[6]->kind != Kind::kDict)) {
      refuse("_rebuild_tensor_v2 takes (storage, offset, sizes, strides, requires_grad, hooks)");
    }
    const int64_t elements = a[0]->number, offset = a[1]->number;
    if (offset > elements) refuse("a tensor starts past the end of its storage");
    int64_t last = offset;
    bool empty = false;
    for (std::size_t d = 0; d < a[2]->items.size(); ++d) {
      const int64_t size = a[2]->items[d]->number, stride = a[3]->items[d]->number;
      if (size == 0) empty = true;
      int64_t reach = 0;
      if (size > 0 &&
          (__builtin_mul_overflow(size - 1, stride, &reach) || __builtin_add_overflow(last, reach, &last))) {
        refuse("a tensor's sizes and strides overflow");
      }
    }
    if (!empty && last >= elements) refuse("a tensor reaches past the end of its storage");
    return make(Kind::kTensor);
  }

  // BINPERSID ('storage', <type>, '<key>', '<device>', elements): the record data/<key>.
  Ref storage(const Ref& id) {
    const auto& a = id->items;
    if (!rules_.storages) refuse("holds a storage, which torch's writer puts only in data.pkl");
    if (id->kind != Kind::kTuple || a.size() != 5 || a[0]->kind != Kind::kStr || a[0]->text != "storage" ||
        a[1]->kind != Kind::kStorageType || a[2]->kind != Kind::kStr || a[3]->kind != Kind::kStr ||
        a[4]->kind != Kind::kInt || a[4]->number < 0) {
      refuse("a persistent id is not ('storage', type, key, device, elements)");
    }
    const std::string& device = a[3]->text;
    if (device != "cpu" && device != "cuda" && !(starts_with(device, "cuda:") && is_digits(device.substr(5), 4))) {
      refuse("storage device '" + printable(device) + "' is not cpu or cuda");
    }
    Ref s = make(Kind::kStorage);
    s->number = a[4]->number;
    s->elem_bytes = a[1]->number;
    if (s->number > 0) {
      const auto it = is_digits(a[2]->text) ? storages_.find("data/" + a[2]->text) : storages_.end();
      if (it == storages_.end()) refuse("storage '" + printable(a[2]->text) + "' has no data/ record");
      int64_t bytes = 0;
      if (__builtin_mul_overflow(s->number, s->elem_bytes, &bytes) || static_cast<uint64_t>(bytes) != it->second) {
        refuse("storage '" + a[2]->text + "' of " + std::to_string(s->number) +
               " elements is not the size of its record (" + std::to_string(it->second) + " bytes)");
      }
    }
    return s;
  }

  void step(uint8_t op) {
    switch (op) {
      case '(':  // MARK
        marks_.push_back(stack_.size());
        break;
      case ')':  // EMPTY_TUPLE
        push(make(Kind::kTuple));
        break;
      case 't':  // TUPLE
        push(tuple_of(pop_mark()));
        break;
      case 0x85:  // TUPLE1
      case 0x86:  // TUPLE2
      case 0x87:  // TUPLE3
        need(op - 0x84u);
        push(tuple_of(stack_.size() - (op - 0x84u)));
        break;
      case ']':  // EMPTY_LIST
        push(make(Kind::kList));
        break;
      case '}':  // EMPTY_DICT
        push(make(Kind::kDict));
        break;
      case 'l':    // LIST
      case 'd': {  // DICT
        const std::size_t mark = pop_mark();
        Ref c = make(op == 'l' ? Kind::kList : Kind::kDict);
        add_items(c, mark);
        push(c);
        break;
      }
      case 'e':    // APPENDS
      case 'u': {  // SETITEMS
        const std::size_t mark = pop_mark();
        if (mark < floor() + 1) refuse("has no container below its MARK");
        const Ref target = stack_[mark - 1];
        if (target->kind != (op == 'e' ? Kind::kList : Kind::kDict))
          refuse("adds items to something else than a container");
        add_items(target, mark);
        break;
      }
      case 's': {  // SETITEM
        need(3);
        const Ref target = stack_[stack_.size() - 3];
        if (target->kind != Kind::kDict) refuse("SETITEM into something else than a dict");
        add_items(target, stack_.size() - 2);
        break;
      }
      case 'q':    // BINPUT
      case 'r': {  // LONG_BINPUT
        const std::size_t id = op == 'q' ? read_le<uint8_t>() : read_le<uint32_t>();
        need(1);
        if (id > memo_.size()) refuse("memo entry " + std::to_string(id) + " skips entries");
        if (id == memo_.size()) {
          memo_.push_back(stack_.back());
        } else {
          memo_[id] = stack_.back();
        }
        break;
      }
      case 'h':    // BINGET
      case 'j': {  // LONG_BINGET
        const std::size_t id = op == 'h' ? read_le<uint8_t>() : read_le<uint32_t>();
        if (id >= memo_.size()) refuse("memo entry " + std::to_string(id) + " was never put");
        push(memo_[id]);
        break;
      }
      case 'N':
        push(make(Kind::kNone));
        break;
      case 0x88:    // NEWTRUE
      case 0x89: {  // NEWFALSE
        Ref b = make(Kind::kBool);
        b->number = op == 0x88;
        push(b);
        break;
      }
      case 'K':
        push(make_int(read_le<uint8_t>()));
        break;
      case 'M':
        push(make_int(read_le<uint16_t>()));
        break;
      case 'J':
        push(make_int(read_le<int32_t>()));
        break;
      case 0x8a:  // LONG1
        if (read_le<uint8_t>() != 8) refuse("LONG1 of another length than 8");
        push(make_int(read_le<int64_t>()));
        break;
      case 'G':  // BINFLOAT
        (void)read_le<double>();
        push(make(Kind::kFloat));
        break;
      case 'X': {  // BINUNICODE
        const uint32_t size = read_le<uint32_t>();
        if (bytes_.size() - pos_ < size) refuse("a string runs past the end");
        Ref s = make(Kind::kStr);
        s->text.assign(bytes_.data() + pos_, size);
        pos_ += size;
        push(s);
        break;
      }
      case 'c': {  // GLOBAL
        const std::string module = read_line();
        const std::string name = read_line();
        push(global(module, name));
        break;
      }
      case 0x81:  // NEWOBJ: torch drops the (empty) arguments; BUILD then makes the object
        need(2);
        if (stack_.back()->kind != Kind::kTuple || !stack_.back()->items.empty() ||
            stack_[stack_.size() - 2]->kind != Kind::kGlobal ||
            stack_[stack_.size() - 2]->callable != Callable::kClass) {
          refuse("NEWOBJ of something else than an archive class");
        }
        stack_.pop_back();
        break;
      case 'b':    // BUILD
      case 'R': {  // REDUCE
        need(2);
        const Ref arg = pop();
        const Ref fn = pop();
        if (fn->kind != Kind::kGlobal) refuse("calls something that is not a global");
        arg->sealed = true;
        push(call(*fn, arg));
        break;
      }
      case 'Q': {  // BINPERSID
        need(1);
        const Ref id = pop();
        id->sealed = true;
        push(storage(id));
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        refuse(std::string("opcode ") + hex + " is not one torch's unpickler reads");
      }
    }
  }

  std::string_view bytes_;
  const std::string& record_;
  const Place& at_;
  const PickleRules rules_;
  const std::map<std::string, std::size_t>& storages_;
  std::set<std::string>& classes_;
  std::size_t pos_ = 0, op_pos_ = 0;
  std::vector<Ref> stack_;
  std::vector<std::size_t> marks_;
  std::vector<Ref> memo_;
};

// ---- the archive -------------------------------------------------------------------------

class StringAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit StringAdapter(const std::string& bytes) : bytes_(bytes) {}
  std::size_t size() const override { return bytes_.size(); }
  std::size_t read(uint64_t pos, void* buf, std::size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<std::size_t>(n, bytes_.size() - pos);
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

// The class a code record defines ("code/__torch__/___torch_mangle_3.py" →
// "__torch__.___torch_mangle_3.Module"); "" for a name that is none.
std::string class_of_code_record(const std::string& name) {
  if (name == "code/__torch__.py") return "__torch__.Module";
  constexpr std::string_view prefix = "code/__torch__/___torch_mangle_", suffix = ".py";
  if (!starts_with(name, prefix) || !ends_with(name, suffix)) return "";
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return is_digits(digits) ? "__torch__.___torch_mangle_" + digits + ".Module" : "";
}

void check_archive(const std::string& payload, const Place& at) {
  // torch::jit::load reads a payload with "PTMF" at offset 4 as a flatbuffer, whatever its end.
  if (payload.size() < 8 || payload.compare(0, 4, "PK\x03\x04") != 0 || payload.compare(4, 4, "PTMF") == 0) {
    at.refuse("the payload", "is not a zip archive");
  }
  std::map<std::string, std::string> records;   // all but the tensor data, which is only measured
  std::map<std::string, std::size_t> storages;  // data/<key> → bytes
  archive_context(at.path + ": " + at.what + " archive: not a zip archive torch reads", [&] {
    caffe2::serialize::PyTorchStreamReader reader(std::make_shared<StringAdapter>(payload));
    std::set<std::string> seen;
    for (const std::string& name : reader.getAllRecords()) {
      if (!seen.insert(name).second) at.refuse(printable(name), "is in the archive twice");
      const auto [data, size] = reader.getRecord(name);
      if (size > payload.size()) at.refuse(printable(name), "is compressed, which torch's writer never does");
      if (starts_with(name, "data/") && is_digits(std::string_view(name).substr(5))) {
        storages.emplace(name, size);
      } else {
        records.emplace(name, std::string(static_cast<const char*>(data.get()), size));
      }
    }
  });

  std::map<std::string, std::set<std::string>> class_types;  // class → classes its attributes name
  std::vector<std::string> pickles;
  for (const auto& [name, bytes] : records) {
    const std::string shown = printable(name);
    if (name == "version" || name == ".data/version" || name == ".format_version" || name == ".storage_alignment") {
      std::string_view v = bytes;
      if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
      if (!is_digits(v)) at.refuse(name, "is not a number");
    } else if (name == "byteorder") {
      if (bytes != "little" && bytes != "big") at.refuse(name, "is neither little nor big");
    } else if (name == ".data/serialization_id") {
      if (bytes.size() > 64 || !std::all_of(bytes.begin(), bytes.end(), is_name_char)) {
        at.refuse(name, "is not a serialization id");
      }
    } else if (name == "data.pkl" || name == "constants.pkl") {
      pickles.push_back(name);
    } else if (const std::string cls = class_of_code_record(name); !cls.empty()) {
      class_types.emplace(cls, check_class_source(bytes, name, at));
    } else if (ends_with(name, ".debug_pkl") &&
               !class_of_code_record(name.substr(0, name.size() - std::strlen(".debug_pkl"))).empty()) {
      pickles.push_back(name);
    } else {
      at.refuse(shown, "is not a record torch writes for an archive of values");
    }
  }
  if (records.count("data.pkl") == 0) at.refuse("data.pkl", "is missing");
  if (records.count("constants.pkl") == 0) at.refuse("constants.pkl", "is missing");

  std::set<std::string> named;  // classes the pickles name
  for (const std::string& name : pickles) {
    PickleRules rules;
    if (name == "data.pkl") {
      rules.classes = rules.storages = true;
    } else if (name == "constants.pkl") {
      rules.root = Kind::kTuple;
    } else {
      rules.any_root = true;
      const std::string code = name.substr(0, name.size() - std::strlen(".debug_pkl"));
      if (records.count(code) == 0) at.refuse(name, "has no " + code);
    }
    PickleChecker(records.at(name), name, at, rules, storages, named).run();
  }

  // Every class named is in the archive, and none contains itself (torch would recurse).
  for (const auto& [cls, types] : class_types) named.insert(types.begin(), types.end());
  for (const std::string& cls : named) {
    if (class_types.count(cls) == 0) at.refuse("code/", "class " + cls + " is named but not in the archive");
  }
  std::map<std::string, int> state;  // 1: being visited, 2: done
  std::function<void(const std::string&, std::size_t)> visit = [&](const std::string& cls, std::size_t depth) {
    int& s = state[cls];
    if (s == 2) return;
    if (s == 1 || depth > kMaxDepth) at.refuse("code/", "class " + cls + " contains itself");
    s = 1;
    for (const std::string& inner : class_types.at(cls)) visit(inner, depth + 1);
    state[cls] = 2;
  };
  for (const auto& entry : class_types) visit(entry.first, 0);
}

}  // namespace

void check_torch_archive(const std::string& payload, const std::string& path, const std::string& what) {
  check_archive(payload, Place{path, what});
}

void load_torch_archive(torch::serialize::InputArchive& archive, const std::string& payload, const std::string& path,
                        const std::string& what) {
  check_torch_archive(payload, path, what);
  archive_context(path + ": unreadable " + what, [&] { archive.load_from(payload.data(), payload.size()); });
}

}  // namespace repro::internal
