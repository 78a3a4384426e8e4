//===- AST.h - The syntax tree of a Kiln file -----------------------------===//
//
// A faithful record of what the user wrote, with a source location on every
// node. Meaning (names, shapes, parameters) is given to it by Sema.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_AST_H
#define KILN_FRONTEND_AST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Casting.h"
#include "llvm/Support/SMLoc.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
class SourceMgr;
} // namespace llvm

namespace kiln {

/// A name as written, with where it was written.
struct Identifier {
  std::string name;
  llvm::SMLoc loc;
};

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind { Number, String, Bool, Name, Member, List, Unary, Binary,
                    Call, Index };

  virtual ~Expr() = default;
  Kind getKind() const { return kind; }
  llvm::SMLoc getLoc() const { return loc; }

protected:
  Expr(Kind kind, llvm::SMLoc loc) : kind(kind), loc(loc) {}

private:
  Kind kind;
  llvm::SMLoc loc;
};

using ExprPtr = std::unique_ptr<Expr>;

/// `42`, `0x40`, `1e-3`: an integer keeps its exact value.
class NumberExpr : public Expr {
public:
  NumberExpr(llvm::SMLoc loc, bool isInteger, int64_t integer, double real,
             llvm::StringRef spelling)
      : Expr(Kind::Number, loc), integerLiteral(isInteger), integer(integer),
        real(real), spelling(spelling.str()) {}
  bool isInteger() const { return integerLiteral; }
  int64_t getInteger() const { return integer; }
  double getValue() const { return integerLiteral ? integer : real; }
  llvm::StringRef getSpelling() const { return spelling; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Number; }

private:
  bool integerLiteral;
  int64_t integer;
  double real;
  std::string spelling;
};

class StringExpr : public Expr {
public:
  StringExpr(llvm::SMLoc loc, std::string value)
      : Expr(Kind::String, loc), value(std::move(value)) {}
  llvm::StringRef getValue() const { return value; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::String; }

private:
  std::string value;
};

class BoolExpr : public Expr {
public:
  BoolExpr(llvm::SMLoc loc, bool value) : Expr(Kind::Bool, loc), value(value) {}
  bool getValue() const { return value; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Bool; }

private:
  bool value;
};

class NameExpr : public Expr {
public:
  NameExpr(llvm::SMLoc loc, std::string name)
      : Expr(Kind::Name, loc), name(std::move(name)) {}
  llvm::StringRef getName() const { return name; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Name; }

private:
  std::string name;
};

/// `base.member`: a step of a dotted layer path such as `encoder.layers`.
class MemberExpr : public Expr {
public:
  MemberExpr(llvm::SMLoc loc, ExprPtr base, Identifier member)
      : Expr(Kind::Member, loc), base(std::move(base)),
        member(std::move(member)) {}
  const Expr &getBase() const { return *base; }
  const Identifier &getMember() const { return member; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Member; }

private:
  ExprPtr base;
  Identifier member;
};

class ListExpr : public Expr {
public:
  ListExpr(llvm::SMLoc loc, std::vector<ExprPtr> elements)
      : Expr(Kind::List, loc), elements(std::move(elements)) {}
  const std::vector<ExprPtr> &getElements() const { return elements; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::List; }

private:
  std::vector<ExprPtr> elements;
};

/// `-x`.
class UnaryExpr : public Expr {
public:
  UnaryExpr(llvm::SMLoc loc, ExprPtr operand)
      : Expr(Kind::Unary, loc), operand(std::move(operand)) {}
  const Expr &getOperand() const { return *operand; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Unary; }

private:
  ExprPtr operand;
};

/// `a + b`, `a - b`, `a * b`, `a / b`, `a @ b` and the comparisons `a < b`,
/// `a > b`, `a <= b`, `a >= b`, `a == b`, `a != b`. Its location is where the
/// left operand starts; the operator's is kept for errors of the operation.
class BinaryExpr : public Expr {
public:
  BinaryExpr(llvm::SMLoc opLoc, llvm::StringRef op, ExprPtr lhs, ExprPtr rhs)
      : Expr(Kind::Binary, lhs->getLoc()), opLoc(opLoc), op(op),
        lhs(std::move(lhs)), rhs(std::move(rhs)) {}
  llvm::SMLoc getOpLoc() const { return opLoc; }
  /// The operator's spelling, in the source buffer.
  llvm::StringRef getOp() const { return op; }
  const Expr &getLHS() const { return *lhs; }
  const Expr &getRHS() const { return *rhs; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Binary; }

private:
  llvm::SMLoc opLoc;
  llvm::StringRef op;
  ExprPtr lhs, rhs;
};

/// An argument of a call, by position (no name) or by name.
struct Argument {
  std::optional<Identifier> name;
  ExprPtr value;
};

/// `callee(arguments)`; the location is that of the callee.
class CallExpr : public Expr {
public:
  CallExpr(llvm::SMLoc loc, ExprPtr callee, std::vector<Argument> arguments)
      : Expr(Kind::Call, loc), callee(std::move(callee)),
        arguments(std::move(arguments)) {}
  const Expr &getCallee() const { return *callee; }
  const std::vector<Argument> &getArguments() const { return arguments; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Call; }

private:
  ExprPtr callee;
  std::vector<Argument> arguments;
};

/// One position of `x[...]`: an index, or a slice `start:stop:step` whose
/// parts may be absent.
struct IndexItem {
  llvm::SMLoc loc;
  bool isSlice = false;
  ExprPtr start, stop, step;
};

class IndexExpr : public Expr {
public:
  IndexExpr(llvm::SMLoc loc, ExprPtr base, std::vector<IndexItem> items)
      : Expr(Kind::Index, loc), base(std::move(base)), items(std::move(items)) {}
  const Expr &getBase() const { return *base; }
  const std::vector<IndexItem> &getItems() const { return items; }
  static bool classof(const Expr *e) { return e->getKind() == Kind::Index; }

private:
  ExprPtr base;
  std::vector<IndexItem> items;
};

//===----------------------------------------------------------------------===//
// Statements and declarations
//===----------------------------------------------------------------------===//

/// `a = expr` or `a, b, c = expr`; or `return a, b`.
struct Statement {
  enum class Kind { Assign, Return };
  Kind kind;
  llvm::SMLoc loc;
  std::vector<Identifier> targets; // Assign only.
  std::vector<ExprPtr> values;     // One for Assign.
};

using Body = std::vector<Statement>;

/// `input image: f32[batch, 1, 28, 28]`.
struct InputDecl {
  Identifier name;
  Identifier elementType;
  std::vector<ExprPtr> shape;
};

/// `layer conv1 = conv2d(out: 32, kernel: 3)`; the path may be dotted.
struct LayerDecl {
  std::vector<Identifier> path;
  llvm::SMLoc loc;
  ExprPtr value;
  std::string getName() const;
};

/// `forward { ... }` in a model, `forward(x) { ... }` in a block.
struct ForwardDecl {
  llvm::SMLoc loc;
  std::vector<Identifier> params;
  Body body;
};

struct ConstDecl {
  Identifier name;
  ExprPtr value;
};

struct FnDecl {
  Identifier name;
  std::vector<Identifier> params;
  Body body;
};

struct BlockDecl {
  Identifier name;
  std::vector<Identifier> params;
  std::vector<LayerDecl> layers;
  std::optional<ForwardDecl> forward;
};

struct ModelDecl {
  Identifier name;
  std::vector<InputDecl> inputs;
  std::vector<LayerDecl> layers;
  std::optional<ForwardDecl> forward;
};

/// `name = expr` in the train section.
struct Setting {
  Identifier name;
  ExprPtr value;
};

struct TrainDecl {
  llvm::SMLoc loc;
  std::vector<Setting> settings;
};

/// A whole file.
struct Module {
  std::vector<ConstDecl> consts;
  std::vector<FnDecl> functions;
  std::vector<BlockDecl> blocks;
  std::vector<ModelDecl> models;
  std::vector<TrainDecl> trains;
};

/// Prints the tree, one node a line, for `kilnc -emit=ast`. Locations are
/// printed as line:column when `sourceMgr` is given.
void printModule(const Module &module, llvm::raw_ostream &os,
                 const llvm::SourceMgr *sourceMgr);

} // namespace kiln

#endif // KILN_FRONTEND_AST_H
