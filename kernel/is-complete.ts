/**
 * `is_complete_request`: should the console run the code now, or wait for more lines?
 *
 * complete   – balanced and parses;
 * incomplete – an open bracket, template literal or block comment, or a parse error only at the very end
 *              (`const x =`); `indent` is the next line's indentation;
 * invalid    – a closing bracket without its opener, or a parse error before the end.
 */
import type * as TS from "typescript";

export type IsCompleteReply = { status: "complete" } | { status: "incomplete"; indent: string } | { status: "invalid" };

export function isComplete(ts: typeof TS, code: string): IsCompleteReply {
  if (code.trim() === "") return { status: "complete" };
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, /*skipTrivia*/ false, ts.LanguageVariant.Standard, code);
  const stack: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  let unterminated: "string" | "template" | "comment" | null = null;
  let lastSignificant: TS.SyntaxKind | undefined;
  for (let tok = scanner.scan(); tok !== ts.SyntaxKind.EndOfFileToken; tok = scanner.scan()) {
    switch (tok) {
      case ts.SyntaxKind.OpenParenToken:
        stack.push("(");
        break;
      case ts.SyntaxKind.OpenBracketToken:
        stack.push("[");
        break;
      case ts.SyntaxKind.OpenBraceToken:
        stack.push("{");
        break;
      case ts.SyntaxKind.TemplateHead:
        if (scanner.isUnterminated()) unterminated = "template";
        stack.push("${");
        break;
      case ts.SyntaxKind.CloseParenToken:
      case ts.SyntaxKind.CloseBracketToken: {
        const want = pairs[scanner.getTokenText()]!;
        if (stack.pop() !== want) return { status: "invalid" };
        break;
      }
      case ts.SyntaxKind.CloseBraceToken: {
        const top = stack.pop();
        if (top === "${") {
          const t = scanner.reScanTemplateToken(false);
          if (scanner.isUnterminated()) unterminated = "template";
          if (t === ts.SyntaxKind.TemplateMiddle) stack.push("${");
        } else if (top !== "{") {
          return { status: "invalid" };
        }
        break;
      }
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
        if (scanner.isUnterminated()) unterminated = "template";
        break;
      case ts.SyntaxKind.StringLiteral:
        if (scanner.isUnterminated()) unterminated = "string";
        break;
      case ts.SyntaxKind.MultiLineCommentTrivia:
        if (scanner.isUnterminated()) unterminated = "comment";
        break;
      case ts.SyntaxKind.SlashToken:
      case ts.SyntaxKind.SlashEqualsToken: {
        // A `/` where an expression may start is a regular expression literal; rescanning keeps brackets inside
        // it from being counted.
        const prev = lastSignificant;
        if (prev === undefined || startsExpression(ts, prev)) scanner.reScanSlashToken();
        break;
      }
    }
    if (tok !== ts.SyntaxKind.WhitespaceTrivia && tok !== ts.SyntaxKind.NewLineTrivia && tok !== ts.SyntaxKind.SingleLineCommentTrivia && tok !== ts.SyntaxKind.MultiLineCommentTrivia) {
      lastSignificant = tok;
    }
  }
  const indent = nextIndent(code, stack.length > 0);
  if (unterminated === "template" || unterminated === "comment") return { status: "incomplete", indent };
  if (unterminated === "string") return { status: "invalid" };
  if (stack.length > 0) return { status: "incomplete", indent };

  const sf = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const errors = (sf as unknown as { parseDiagnostics: TS.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  if (errors.length === 0) return { status: "complete" };
  const end = code.trimEnd().length;
  if (errors.every((e) => e.start >= end)) return { status: "incomplete", indent };
  return { status: "invalid" };
}

function startsExpression(ts: typeof TS, prev: TS.SyntaxKind): boolean {
  // After these tokens a `/` cannot be division.
  return (
    prev === ts.SyntaxKind.OpenParenToken ||
    prev === ts.SyntaxKind.OpenBracketToken ||
    prev === ts.SyntaxKind.OpenBraceToken ||
    prev === ts.SyntaxKind.CommaToken ||
    prev === ts.SyntaxKind.SemicolonToken ||
    prev === ts.SyntaxKind.EqualsToken ||
    prev === ts.SyntaxKind.ColonToken ||
    prev === ts.SyntaxKind.ReturnKeyword ||
    (prev >= ts.SyntaxKind.FirstBinaryOperator && prev <= ts.SyntaxKind.LastBinaryOperator) ||
    prev === ts.SyntaxKind.ExclamationToken ||
    prev === ts.SyntaxKind.QuestionToken
  );
}

function nextIndent(code: string, opened: boolean): string {
  const lines = code.split("\n");
  let last = lines[lines.length - 1] ?? "";
  for (let i = lines.length - 1; i >= 0 && last.trim() === ""; i--) last = lines[i] ?? "";
  const base = /^[ \t]*/.exec(last)![0];
  return opened && /[({[]\s*$/.test(last) ? base + "  " : base;
}
