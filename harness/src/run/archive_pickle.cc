// A pickle of a torch archive (the rules are in archive_check.h).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "run/archive_parts.h"
#include "util/strings.h"

namespace repro::internal::archive {
namespace {

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
        std::set<std::string> named;
        const std::string& type = items[1]->text;
        const Kind want = starts_with(type, "List[")   ? Kind::kList
                          : starts_with(type, "Dict[") ? Kind::kDict
                                                       : Kind::kNone;
        if (!parse_type(type, &named) || want == Kind::kNone || items[0]->kind != want) {
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

}  // namespace

void check_pickle(std::string_view bytes, const std::string& record, const Place& at, Pickle which,
                  const std::map<std::string, std::size_t>& storages, std::set<std::string>* classes) {
  PickleRules rules;
  if (which == Pickle::kData) {
    rules.classes = rules.storages = true;
  } else if (which == Pickle::kConstants) {
    rules.root = Kind::kTuple;
  } else {
    rules.any_root = true;
  }
  PickleChecker(bytes, record, at, rules, storages, *classes).run();
}

}  // namespace repro::internal::archive
