//===- Token.h - A token of Kiln source -----------------------------------===//

#ifndef KILN_FRONTEND_TOKEN_H
#define KILN_FRONTEND_TOKEN_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

namespace kiln {

class Token {
public:
  enum Kind {
#define TOKEN(name) name,
#include "Frontend/Token.def"
  };

  Token(Kind kind, llvm::StringRef spelling) : kind(kind), spelling(spelling) {}

  Kind getKind() const { return kind; }
  bool is(Kind k) const { return kind == k; }
  bool isNot(Kind k) const { return kind != k; }
  bool isKeyword() const;

  /// The source text of the token (for strings, with the quotes).
  llvm::StringRef getSpelling() const { return spelling; }
  llvm::SMLoc getLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data());
  }
  llvm::SMLoc getEndLoc() const {
    return llvm::SMLoc::getFromPointer(spelling.data() + spelling.size());
  }

  /// How the kind reads in a message: "'('", "an identifier", ...
  static llvm::StringRef describe(Kind kind);

private:
  Kind kind;
  llvm::StringRef spelling;
};

} // namespace kiln

#endif // KILN_FRONTEND_TOKEN_H
