//===- ASTPrinter.cpp - The syntax tree as text, for kilnc -emit=ast ------===//
//
// One declaration, member or statement a line, indented by nesting, with its
// line:column. Binary and unary expressions are parenthesized so that the
// printed tree shows how the parser grouped them.
//
//===----------------------------------------------------------------------===//

#include "Frontend/AST.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace kiln;

std::string LayerDecl::getName() const {
  std::string name;
  for (const Identifier &part : path) {
    if (!name.empty())
      name += ".";
    name += part.name;
  }
  return name;
}

namespace {

class ASTPrinter {
public:
  ASTPrinter(llvm::raw_ostream &os, const llvm::SourceMgr *sourceMgr)
      : os(os), sourceMgr(sourceMgr) {}

  void print(const Module &module) {
    for (const ConstDecl &decl : module.consts) {
      line(0, decl.name.loc) << "const " << decl.name.name << " = ";
      print(*decl.value);
      os << "\n";
    }
    for (const FnDecl &decl : module.functions) {
      line(0, decl.name.loc) << "fn " << decl.name.name;
      printParams(decl.params);
      os << "\n";
      print(decl.body, 1);
    }
    for (const BlockDecl &decl : module.blocks) {
      line(0, decl.name.loc) << "block " << decl.name.name;
      printParams(decl.params);
      os << "\n";
      printMembers(decl.layers, decl.forward);
    }
    for (const ModelDecl &decl : module.models) {
      line(0, decl.name.loc) << "model " << decl.name.name << "\n";
      for (const InputDecl &input : decl.inputs) {
        line(1, input.name.loc) << "input " << input.name.name << ": "
                                << input.elementType.name << "[";
        printList(input.shape);
        os << "]\n";
      }
      printMembers(decl.layers, decl.forward);
    }
    for (const TrainDecl &decl : module.trains) {
      line(0, decl.loc) << "train\n";
      for (const Setting &setting : decl.settings) {
        line(1, setting.name.loc) << setting.name.name << " = ";
        print(*setting.value);
        os << "\n";
      }
    }
  }

private:
  /// Starts a line at `depth` with the location of the node.
  llvm::raw_ostream &line(unsigned depth, llvm::SMLoc loc) {
    os.indent(2 * depth);
    if (sourceMgr && loc.isValid()) {
      auto [lineNo, column] = sourceMgr->getLineAndColumn(loc);
      os << lineNo << ":" << column << " ";
    }
    return os;
  }

  void printParams(const std::vector<Identifier> &params) {
    os << "(";
    llvm::interleaveComma(params, os,
                          [&](const Identifier &p) { os << p.name; });
    os << ")";
  }

  void printMembers(const std::vector<LayerDecl> &layers,
                    const std::optional<ForwardDecl> &forward) {
    for (const LayerDecl &layer : layers) {
      line(1, layer.loc) << "layer " << layer.getName() << " = ";
      print(*layer.value);
      os << "\n";
    }
    if (!forward)
      return;
    line(1, forward->loc) << "forward";
    if (!forward->params.empty())
      printParams(forward->params);
    os << "\n";
    print(forward->body, 2);
  }

  void print(const Body &body, unsigned depth) {
    for (const Statement &statement : body) {
      line(depth, statement.loc);
      if (statement.kind == Statement::Kind::Return) {
        os << "return ";
      } else {
        llvm::interleaveComma(statement.targets, os,
                              [&](const Identifier &t) { os << t.name; });
        os << " = ";
      }
      printList(statement.values);
      os << "\n";
    }
  }

  void printList(const std::vector<ExprPtr> &exprs) {
    llvm::interleaveComma(exprs, os, [&](const ExprPtr &e) { print(*e); });
  }

  void print(const Expr &expr) {
    switch (expr.getKind()) {
    case Expr::Kind::Number:
      os << llvm::cast<NumberExpr>(expr).getSpelling();
      return;
    case Expr::Kind::String:
      os << '"';
      os.write_escaped(llvm::cast<StringExpr>(expr).getValue());
      os << '"';
      return;
    case Expr::Kind::Bool:
      os << (llvm::cast<BoolExpr>(expr).getValue() ? "true" : "false");
      return;
    case Expr::Kind::Name:
      os << llvm::cast<NameExpr>(expr).getName();
      return;
    case Expr::Kind::Member: {
      const auto &member = llvm::cast<MemberExpr>(expr);
      print(member.getBase());
      os << "." << member.getMember().name;
      return;
    }
    case Expr::Kind::List:
      os << "[";
      printList(llvm::cast<ListExpr>(expr).getElements());
      os << "]";
      return;
    case Expr::Kind::Unary:
      os << "(-";
      print(llvm::cast<UnaryExpr>(expr).getOperand());
      os << ")";
      return;
    case Expr::Kind::Binary: {
      const auto &binary = llvm::cast<BinaryExpr>(expr);
      os << "(";
      print(binary.getLHS());
      os << " " << binary.getOp() << " ";
      print(binary.getRHS());
      os << ")";
      return;
    }
    case Expr::Kind::Call: {
      const auto &call = llvm::cast<CallExpr>(expr);
      print(call.getCallee());
      os << "(";
      llvm::interleaveComma(call.getArguments(), os, [&](const Argument &a) {
        if (a.name)
          os << a.name->name << ": ";
        print(*a.value);
      });
      os << ")";
      return;
    }
    case Expr::Kind::Index: {
      const auto &index = llvm::cast<IndexExpr>(expr);
      print(index.getBase());
      os << "[";
      llvm::interleaveComma(index.getItems(), os, [&](const IndexItem &item) {
        if (item.start)
          print(*item.start);
        if (!item.isSlice)
          return;
        os << ":";
        if (item.stop)
          print(*item.stop);
        if (item.step) {
          os << ":";
          print(*item.step);
        }
      });
      os << "]";
      return;
    }
    }
  }

  llvm::raw_ostream &os;
  const llvm::SourceMgr *sourceMgr;
};

} // namespace

void kiln::printModule(const Module &module, llvm::raw_ostream &os,
                       const llvm::SourceMgr *sourceMgr) {
  ASTPrinter(os, sourceMgr).print(module);
}
