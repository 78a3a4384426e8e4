//===- KilnTblgen.cpp - The kiln ops' identities for MLIR-free code -------===//
//
// The front end has no MLIR dependency, yet must name the operations it
// builds. This TableGen backend reads the dialect's ODS and writes
// KilnOpKinds.h.inc: one enumerator per kiln op, its mnemonic and the names
// of its attributes, so ODS stays the only list of the dialect's ops.
//
//===----------------------------------------------------------------------===//

#include "mlir/TableGen/Operator.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/TableGen/Main.h"
#include "llvm/TableGen/Record.h"
#include "llvm/TableGen/TableGenBackend.h"

using namespace llvm;

static cl::opt<std::string> dialectName("dialect",
                                        cl::desc("The dialect whose ops to list"),
                                        cl::init("kiln"));

/// The enumerator of an op: its C++ class name without the "Op" suffix.
static StringRef enumerator(const mlir::tblgen::Operator &op) {
  StringRef name = op.getCppClassName();
  name.consume_back("Op");
  return name;
}

static bool emitOpKinds(raw_ostream &os, const RecordKeeper &records) {
  emitSourceFileHeader("The kiln ops' identities, mnemonics and attributes",
                       os, records);
  std::vector<const Record *> defs;
  for (const Record *def : records.getAllDerivedDefinitions("Op"))
    if (mlir::tblgen::Operator(def).getDialectName() == dialectName)
      defs.push_back(def);
  llvm::sort(defs, [](const Record *a, const Record *b) {
    return mlir::tblgen::Operator(a).getOperationName() <
           mlir::tblgen::Operator(b).getOperationName();
  });
  std::vector<mlir::tblgen::Operator> ops(defs.begin(), defs.end());

  os << "enum class OpKind : unsigned {\n";
  for (const mlir::tblgen::Operator &op : ops)
    os << "  " << enumerator(op) << ", // " << op.getOperationName() << "\n";
  os << "};\n\n";
  os << "inline constexpr unsigned kNumOpKinds = " << ops.size() << ";\n\n";

  os << "/// The op's name without the dialect prefix: \"conv2d\".\n";
  os << "inline ::llvm::StringRef mnemonic(OpKind kind) {\n";
  os << "  static const char *const names[] = {\n";
  for (const mlir::tblgen::Operator &op : ops) {
    std::string name = op.getOperationName();
    os << "      \"" << StringRef(name).drop_front(dialectName.size() + 1)
       << "\",\n";
  }
  os << "  };\n  return names[static_cast<unsigned>(kind)];\n}\n\n";

  os << "/// The names of the op's attributes, as ODS declares them.\n";
  os << "inline ::llvm::ArrayRef<::llvm::StringLiteral> "
        "attributeNames(OpKind kind) {\n";
  os << "  switch (kind) {\n";
  for (const mlir::tblgen::Operator &op : ops) {
    std::vector<std::string> names;
    for (const auto &attr : op.getAttributes())
      if (!attr.attr.isDerivedAttr())
        names.push_back("\"" + attr.name.str() + "\"");
    os << "  case OpKind::" << enumerator(op) << ": {\n";
    if (names.empty()) {
      os << "    return {};\n  }\n";
      continue;
    }
    os << "    static constexpr ::llvm::StringLiteral names[] = {"
       << llvm::join(names, ", ") << "};\n";
    os << "    return names;\n  }\n";
  }
  os << "  }\n  return {};\n}\n";
  return false;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(argc, argv);
  return TableGenMain(argv[0], &emitOpKinds);
}
