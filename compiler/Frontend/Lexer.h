//===- Lexer.h - Splits Kiln source into tokens ---------------------------===//

#ifndef KILN_FRONTEND_LEXER_H
#define KILN_FRONTEND_LEXER_H

#include "Frontend/Diagnostics.h"
#include "Frontend/Token.h"

namespace kiln {

class Lexer {
public:
  /// Lexes `buffer`, whose last character must be followed by a NUL (as
  /// llvm::MemoryBuffer guarantees).
  Lexer(llvm::StringRef buffer, DiagnosticEngine &diags)
      : buffer(buffer), current(buffer.begin()), diags(diags) {}

  /// The next token; after an error, a token of kind `error`.
  Token lex();

private:
  Token make(Token::Kind kind, const char *start) {
    return Token(kind, llvm::StringRef(start, current - start));
  }
  Token fail(const char *loc, const llvm::Twine &message);
  Token fail(const char *loc, const llvm::Twine &message,
             const llvm::Twine &hint);
  void skipSpaceAndComments();
  Token lexIdentifier(const char *start);
  Token lexNumber(const char *start);
  Token lexString(const char *start);

  llvm::StringRef buffer;
  const char *current;
  DiagnosticEngine &diags;
};

} // namespace kiln

#endif // KILN_FRONTEND_LEXER_H
