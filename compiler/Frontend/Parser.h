//===- Parser.h - Builds the syntax tree of a Kiln file -------------------===//

#ifndef KILN_FRONTEND_PARSER_H
#define KILN_FRONTEND_PARSER_H

#include "Frontend/AST.h"
#include "Frontend/Lexer.h"

namespace kiln {

/// A recursive-descent parser. It stops at the first syntax error, which it
/// reports through the diagnostic engine, so that no error is a consequence
/// of another.
class Parser {
public:
  Parser(llvm::StringRef buffer, DiagnosticEngine &diags)
      : lexer(buffer, diags), diags(diags), token(lexer.lex()) {}

  /// The module, or nothing after a syntax error.
  std::optional<Module> parseModule();

private:
  // Declarations.
  bool parseConst(Module &module);
  bool parseFn(Module &module);
  bool parseBlock(Module &module);
  bool parseModel(Module &module);
  bool parseTrain(Module &module);
  bool parseParams(std::vector<Identifier> &params);
  bool parseInput(std::vector<InputDecl> &inputs);
  bool parseLayer(std::vector<LayerDecl> &layers);
  bool parseForward(std::optional<ForwardDecl> &forward, bool takesParams);
  bool parseBody(Body &body);
  bool parseStatement(Body &body);

  // Expressions, by increasing precedence.
  ExprPtr parseExpr();
  ExprPtr parseComparison();
  ExprPtr parseAdditive();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePostfix();
  ExprPtr parsePrimary();
  ExprPtr parseNumber();
  ExprPtr parseString();
  ExprPtr parseList();
  bool parseArguments(std::vector<Argument> &arguments);
  bool parseIndexItems(std::vector<IndexItem> &items);

  // Tokens.
  void consume() {
    if (lookahead) {
      token = *lookahead;
      lookahead.reset();
    } else {
      token = lexer.lex();
    }
  }
  /// The token after the current one.
  const Token &peek() {
    if (!lookahead)
      lookahead = lexer.lex();
    return *lookahead;
  }
  bool consumeIf(Token::Kind kind) {
    if (token.isNot(kind))
      return false;
    consume();
    return true;
  }
  /// Consumes a token of `kind`, or reports what was expected instead.
  bool expect(Token::Kind kind, llvm::StringRef context);
  bool expectIdentifier(Identifier &identifier, llvm::StringRef context);
  /// Reports that `what` was expected where the current token is.
  bool fail(const llvm::Twine &what);
  bool fail(const llvm::Twine &what, const llvm::Twine &hint);

  Lexer lexer;
  DiagnosticEngine &diags;
  Token token;
  std::optional<Token> lookahead;
  /// How deeply the expression being parsed nests.
  unsigned nesting = 0;
};

} // namespace kiln

#endif // KILN_FRONTEND_PARSER_H
