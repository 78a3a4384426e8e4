//===- Parser.cpp - Builds the syntax tree of a Kiln file -----------------===//

#include "Frontend/Parser.h"

#include "llvm/ADT/StringExtras.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

using namespace kiln;

namespace {
/// Deeper nesting than this is reported instead of overflowing the stack.
constexpr unsigned kMaxNesting = 200;

/// How the current token reads in "expected X, found Y".
std::string describeFound(const Token &token) {
  if (token.is(Token::eof))
    return "the end of the file";
  return ("'" + token.getSpelling() + "'").str();
}
} // namespace

bool Parser::fail(const llvm::Twine &what) {
  // The lexer has already reported an invalid token.
  if (token.isNot(Token::error))
    diags.error(token.getLoc(),
                "expected " + what + ", found " + describeFound(token));
  return false;
}

bool Parser::fail(const llvm::Twine &what, const llvm::Twine &hint) {
  if (token.isNot(Token::error))
    diags.error(token.getLoc(),
                "expected " + what + ", found " + describeFound(token), hint);
  return false;
}

bool Parser::expect(Token::Kind kind, llvm::StringRef context) {
  if (consumeIf(kind))
    return true;
  return fail(Token::describe(kind) + " " + context);
}

bool Parser::expectIdentifier(Identifier &identifier, llvm::StringRef context) {
  if (token.isNot(Token::identifier)) {
    if (token.isKeyword())
      return fail(llvm::Twine("a name ") + context,
                  "'" + token.getSpelling() +
                      "' is a reserved word; choose another name");
    return fail(llvm::Twine("a name ") + context);
  }
  identifier = {token.getSpelling().str(), token.getLoc()};
  consume();
  return true;
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

std::optional<Module> Parser::parseModule() {
  Module module;
  while (token.isNot(Token::eof)) {
    bool ok;
    switch (token.getKind()) {
    case Token::kw_const:
      ok = parseConst(module);
      break;
    case Token::kw_fn:
      ok = parseFn(module);
      break;
    case Token::kw_block:
      ok = parseBlock(module);
      break;
    case Token::kw_model:
      ok = parseModel(module);
      break;
    case Token::kw_train:
      ok = parseTrain(module);
      break;
    default:
      ok = fail("'model', 'train', 'block', 'fn' or 'const'",
                "a file is made of a model, its train section, and the "
                "blocks, functions and constants they use");
    }
    if (!ok)
      return std::nullopt;
  }
  return module;
}

bool Parser::parseConst(Module &module) {
  consume();
  ConstDecl decl;
  if (!expectIdentifier(decl.name, "after 'const'") ||
      !expect(Token::equal, "after the constant's name"))
    return false;
  decl.value = parseExpr();
  if (!decl.value)
    return false;
  module.consts.push_back(std::move(decl));
  return true;
}

bool Parser::parseParams(std::vector<Identifier> &params) {
  if (!expect(Token::l_paren, "before the parameters"))
    return false;
  if (consumeIf(Token::r_paren))
    return true;
  do {
    Identifier param;
    if (!expectIdentifier(param, "for a parameter"))
      return false;
    params.push_back(std::move(param));
  } while (consumeIf(Token::comma));
  return expect(Token::r_paren, "after the parameters");
}

bool Parser::parseFn(Module &module) {
  consume();
  FnDecl decl;
  if (!expectIdentifier(decl.name, "after 'fn'") || !parseParams(decl.params) ||
      !parseBody(decl.body))
    return false;
  module.functions.push_back(std::move(decl));
  return true;
}

bool Parser::parseBlock(Module &module) {
  consume();
  BlockDecl decl;
  if (!expectIdentifier(decl.name, "after 'block'") ||
      !parseParams(decl.params) ||
      !expect(Token::l_brace, "to begin the block"))
    return false;
  while (!consumeIf(Token::r_brace)) {
    bool ok;
    if (token.is(Token::kw_layer))
      ok = parseLayer(decl.layers);
    else if (token.is(Token::kw_forward))
      ok = parseForward(decl.forward, /*takesParams=*/true);
    else
      ok = fail("'layer', 'forward' or '}' in a block");
    if (!ok)
      return false;
  }
  module.blocks.push_back(std::move(decl));
  return true;
}

bool Parser::parseModel(Module &module) {
  consume();
  ModelDecl decl;
  if (!expectIdentifier(decl.name, "after 'model'") ||
      !expect(Token::l_brace, "to begin the model"))
    return false;
  while (!consumeIf(Token::r_brace)) {
    bool ok;
    if (token.is(Token::kw_input))
      ok = parseInput(decl.inputs);
    else if (token.is(Token::kw_layer))
      ok = parseLayer(decl.layers);
    else if (token.is(Token::kw_forward))
      ok = parseForward(decl.forward, /*takesParams=*/false);
    else
      ok = fail("'input', 'layer', 'forward' or '}' in the model");
    if (!ok)
      return false;
  }
  module.models.push_back(std::move(decl));
  return true;
}

bool Parser::parseTrain(Module &module) {
  TrainDecl decl;
  decl.loc = token.getLoc();
  consume();
  if (!expect(Token::l_brace, "to begin the train section"))
    return false;
  while (!consumeIf(Token::r_brace)) {
    Setting setting;
    if (!expectIdentifier(setting.name, "of a setting, or '}'") ||
        !expect(Token::equal, "after the setting's name"))
      return false;
    setting.value = parseExpr();
    if (!setting.value)
      return false;
    decl.settings.push_back(std::move(setting));
  }
  module.trains.push_back(std::move(decl));
  return true;
}

bool Parser::parseInput(std::vector<InputDecl> &inputs) {
  consume();
  InputDecl decl;
  if (!expectIdentifier(decl.name, "after 'input'") ||
      !expect(Token::colon, "after the input's name") ||
      !expectIdentifier(decl.elementType, "of an element type (f32 or i64)") ||
      !expect(Token::l_square, "before the input's shape"))
    return false;
  do {
    ExprPtr size = parseExpr();
    if (!size)
      return false;
    decl.shape.push_back(std::move(size));
  } while (consumeIf(Token::comma));
  if (!expect(Token::r_square, "after the input's shape"))
    return false;
  inputs.push_back(std::move(decl));
  return true;
}

bool Parser::parseLayer(std::vector<LayerDecl> &layers) {
  LayerDecl decl;
  decl.loc = token.getLoc();
  consume();
  do {
    Identifier part;
    if (!expectIdentifier(part, "for the layer"))
      return false;
    decl.path.push_back(std::move(part));
  } while (consumeIf(Token::period));
  if (!expect(Token::equal, "after the layer's name"))
    return false;
  decl.value = parseExpr();
  if (!decl.value)
    return false;
  layers.push_back(std::move(decl));
  return true;
}

bool Parser::parseForward(std::optional<ForwardDecl> &forward,
                          bool takesParams) {
  ForwardDecl decl;
  decl.loc = token.getLoc();
  consume();
  if (takesParams) {
    if (!parseParams(decl.params))
      return false;
  } else if (token.is(Token::l_paren)) {
    return fail("'{' after 'forward'",
                "the model's forward takes no parameters: it reads the "
                "inputs by name");
  }
  if (!parseBody(decl.body))
    return false;
  forward = std::move(decl);
  return true;
}

bool Parser::parseBody(Body &body) {
  if (!expect(Token::l_brace, "to begin the body"))
    return false;
  while (!consumeIf(Token::r_brace))
    if (!parseStatement(body))
      return false;
  return true;
}

bool Parser::parseStatement(Body &body) {
  Statement statement;
  statement.loc = token.getLoc();
  if (consumeIf(Token::kw_return)) {
    statement.kind = Statement::Kind::Return;
    do {
      ExprPtr value = parseExpr();
      if (!value)
        return false;
      statement.values.push_back(std::move(value));
    } while (consumeIf(Token::comma));
    body.push_back(std::move(statement));
    return true;
  }
  statement.kind = Statement::Kind::Assign;
  do {
    Identifier target;
    if (!expectIdentifier(target, "to assign to, 'return' or '}'"))
      return false;
    statement.targets.push_back(std::move(target));
  } while (consumeIf(Token::comma));
  if (token.is(Token::l_paren))
    return fail("'=' after the name",
                "a statement assigns a value: write `y = f(x)`");
  if (!expect(Token::equal, "after the names assigned to"))
    return false;
  ExprPtr value = parseExpr();
  if (!value)
    return false;
  statement.values.push_back(std::move(value));
  body.push_back(std::move(statement));
  return true;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

namespace {
/// Counts the nesting of the expression being parsed.
class NestingGuard {
public:
  explicit NestingGuard(unsigned &depth) : depth(depth) { ++depth; }
  ~NestingGuard() { --depth; }
  bool tooDeep() const { return depth > kMaxNesting; }

private:
  unsigned &depth;
};
} // namespace

ExprPtr Parser::parseExpr() {
  NestingGuard guard(nesting);
  if (guard.tooDeep()) {
    diags.error(token.getLoc(), "expression is nested too deeply",
                "split it into several statements");
    return nullptr;
  }
  return parseComparison();
}

static bool isComparison(const Token &token) {
  return token.is(Token::less) || token.is(Token::greater) ||
         token.is(Token::less_equal) || token.is(Token::greater_equal) ||
         token.is(Token::equal_equal) || token.is(Token::exclaim_equal);
}

ExprPtr Parser::parseComparison() {
  ExprPtr lhs = parseAdditive();
  if (!lhs || !isComparison(token))
    return lhs;
  llvm::StringRef op = token.getSpelling();
  llvm::SMLoc loc = token.getLoc();
  consume();
  ExprPtr rhs = parseAdditive();
  if (!rhs)
    return nullptr;
  // `a < b < c` would compare a's 0 or 1 with c, not what Python means.
  if (isComparison(token)) {
    diags.error(token.getLoc(), "comparisons do not chain",
                "compare two values at a time and multiply the results");
    return nullptr;
  }
  return std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
}

ExprPtr Parser::parseAdditive() {
  ExprPtr lhs = parseMultiplicative();
  while (lhs && (token.is(Token::plus) || token.is(Token::minus))) {
    llvm::StringRef op = token.getSpelling();
    llvm::SMLoc loc = token.getLoc();
    consume();
    ExprPtr rhs = parseMultiplicative();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseMultiplicative() {
  ExprPtr lhs = parseUnary();
  while (lhs && (token.is(Token::star) || token.is(Token::slash) ||
                 token.is(Token::at))) {
    llvm::StringRef op = token.getSpelling();
    llvm::SMLoc loc = token.getLoc();
    consume();
    ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = std::make_unique<BinaryExpr>(loc, op, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

ExprPtr Parser::parseUnary() {
  if (token.isNot(Token::minus))
    return parsePostfix();
  llvm::SMLoc loc = token.getLoc();
  consume();
  NestingGuard guard(nesting);
  if (guard.tooDeep()) {
    diags.error(loc, "expression is nested too deeply",
                "split it into several statements");
    return nullptr;
  }
  ExprPtr operand = parseUnary();
  if (!operand)
    return nullptr;
  return std::make_unique<UnaryExpr>(loc, std::move(operand));
}

ExprPtr Parser::parsePostfix() {
  ExprPtr expr = parsePrimary();
  while (expr) {
    llvm::SMLoc loc = token.getLoc();
    if (consumeIf(Token::l_paren)) {
      std::vector<Argument> arguments;
      if (!parseArguments(arguments))
        return nullptr;
      llvm::SMLoc calleeLoc = expr->getLoc();
      expr = std::make_unique<CallExpr>(calleeLoc, std::move(expr),
                                        std::move(arguments));
    } else if (consumeIf(Token::l_square)) {
      std::vector<IndexItem> items;
      if (!parseIndexItems(items))
        return nullptr;
      expr = std::make_unique<IndexExpr>(loc, std::move(expr), std::move(items));
    } else if (consumeIf(Token::period)) {
      Identifier member;
      if (!expectIdentifier(member, "after '.'"))
        return nullptr;
      llvm::SMLoc baseLoc = expr->getLoc();
      expr = std::make_unique<MemberExpr>(baseLoc, std::move(expr),
                                          std::move(member));
    } else {
      break;
    }
  }
  return expr;
}

bool Parser::parseArguments(std::vector<Argument> &arguments) {
  if (consumeIf(Token::r_paren))
    return true;
  do {
    Argument argument;
    // Reserved words may name arguments: `synthetic(train: 6400)`.
    if ((token.is(Token::identifier) || token.isKeyword()) &&
        peek().is(Token::colon)) {
      argument.name = Identifier{token.getSpelling().str(), token.getLoc()};
      consume();
      consume();
    }
    argument.value = parseExpr();
    if (!argument.value)
      return false;
    arguments.push_back(std::move(argument));
  } while (consumeIf(Token::comma));
  return expect(Token::r_paren, "after the arguments");
}

bool Parser::parseIndexItems(std::vector<IndexItem> &items) {
  do {
    IndexItem item;
    item.loc = token.getLoc();
    auto atPartEnd = [&] {
      return token.is(Token::colon) || token.is(Token::comma) ||
             token.is(Token::r_square);
    };
    if (!atPartEnd() && !(item.start = parseExpr()))
      return false;
    if (consumeIf(Token::colon)) {
      item.isSlice = true;
      if (!atPartEnd() && !(item.stop = parseExpr()))
        return false;
      if (consumeIf(Token::colon) && !atPartEnd() && !(item.step = parseExpr()))
        return false;
    } else if (!item.start) {
      return fail("an index or a slice");
    }
    items.push_back(std::move(item));
  } while (consumeIf(Token::comma));
  return expect(Token::r_square, "after the index");
}

ExprPtr Parser::parsePrimary() {
  llvm::SMLoc loc = token.getLoc();
  switch (token.getKind()) {
  case Token::integer:
  case Token::real:
    return parseNumber();
  case Token::string:
    return parseString();
  case Token::kw_true:
  case Token::kw_false: {
    bool value = token.is(Token::kw_true);
    consume();
    return std::make_unique<BoolExpr>(loc, value);
  }
  case Token::identifier: {
    std::string name = token.getSpelling().str();
    consume();
    return std::make_unique<NameExpr>(loc, std::move(name));
  }
  case Token::l_paren: {
    consume();
    ExprPtr inner = parseExpr();
    if (!inner || !expect(Token::r_paren, "to close the parenthesis"))
      return nullptr;
    return inner;
  }
  case Token::l_square:
    return parseList();
  default:
    fail("an expression");
    return nullptr;
  }
}

ExprPtr Parser::parseNumber() {
  llvm::SMLoc loc = token.getLoc();
  llvm::StringRef spelling = token.getSpelling();
  std::string digits;
  for (char c : spelling)
    if (c != '_')
      digits.push_back(c);
  bool isInteger = token.is(Token::integer);
  consume();
  if (isInteger) {
    uint64_t value;
    llvm::StringRef text(digits);
    unsigned radix = 10;
    if (text.starts_with_insensitive("0x")) {
      text = text.drop_front(2);
      radix = 16;
    }
    if (text.getAsInteger(radix, value) ||
        value > static_cast<uint64_t>(INT64_MAX)) {
      diags.error(loc, "integer " + spelling + " is too large",
                  "integers range up to 9223372036854775807");
      return nullptr;
    }
    return std::make_unique<NumberExpr>(loc, true, static_cast<int64_t>(value),
                                        0.0, spelling);
  }
  errno = 0;
  double value = std::strtod(digits.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(value)) {
    diags.error(loc, "number " + spelling + " is too large for a real number");
    return nullptr;
  }
  return std::make_unique<NumberExpr>(loc, false, 0, value, spelling);
}

ExprPtr Parser::parseString() {
  llvm::SMLoc loc = token.getLoc();
  llvm::StringRef quoted = token.getSpelling();
  consume();
  std::string value;
  llvm::StringRef body = quoted.drop_front().drop_back();
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 == body.size()) {
      value.push_back(c);
      continue;
    }
    char escaped = body[++i];
    value.push_back(escaped == 'n' ? '\n' : escaped == 't' ? '\t' : escaped);
  }
  return std::make_unique<StringExpr>(loc, std::move(value));
}

ExprPtr Parser::parseList() {
  llvm::SMLoc loc = token.getLoc();
  consume();
  std::vector<ExprPtr> elements;
  if (!consumeIf(Token::r_square)) {
    do {
      ExprPtr element = parseExpr();
      if (!element)
        return nullptr;
      elements.push_back(std::move(element));
    } while (consumeIf(Token::comma));
    if (!expect(Token::r_square, "to close the list"))
      return nullptr;
  }
  return std::make_unique<ListExpr>(loc, std::move(elements));
}
