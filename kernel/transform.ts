/**
 * Turns a TypeScript cell into a script that keeps its declarations across cells.
 *
 * One `ts.transpileModule` call (the cheap, single-file path) with two custom transformers:
 *
 * - before (on TypeScript syntax): `import` declarations become `await __otp.import(...)` with destructuring, so
 *   that npm packages (ESM-only and CommonJS), Node built-ins and local `.ts` files all load through Node's own
 *   ESM loader, resolved from the notebook's directory; `import()` and `import.meta` are routed the same way;
 *   `export` is dropped (a cell has no importers).
 * - after (on the emitted JavaScript, types gone, enums lowered): top-level declarations become assignments to
 *   global `var`s, so a later cell may redeclare a `const`, `class` or `function` and the new one wins (the
 *   semantics of a REPL, not of a module); the cell body is wrapped in a generator function whose top-level
 *   `await`s become `yield`s, so the kernel resumes the cell step by step inside `guard()` and an interrupt can
 *   stop a busy loop even after an `await`; the last expression statement becomes the cell's result.
 *
 * Output shape:
 *
 *     var a, b, f, C;
 *     (function* (__otp, setTimeout, setInterval, setImmediate) {
 *       "use strict";
 *       f = function f() { ... };          // function declarations, hoisted
 *       a = 1; ({ b } = obj);              // let/const/var
 *       C = class C { ... };
 *       return __otp.result(a + b);        // last expression
 *     })
 *
 * A cell with a top-level `for await` is wrapped in an `async function` instead (mode "async"): `for await`
 * has no generator equivalent; such a cell can be interrupted only while it awaits or in its first step.
 *
 * Positions: all nodes keep their source ranges, so the emitted source map maps runtime stack frames back to
 * the cell's own lines and columns.
 */
import type * as TS from "typescript";

/** Names of the generator's parameters; cell code sees these instead of the globals. */
export const CELL_PARAMS = ["__otp", "setTimeout", "setInterval", "setImmediate"] as const;

export interface CellScript {
  /** JavaScript for `vm.Script`; evaluates to the cell function. */
  js: string;
  /** Source map (JSON text) from `js` back to the cell source. */
  map: string;
  mode: "generator" | "async";
  /** Names the cell declares at top level (values and types), in order. */
  declared: string[];
}

export interface CompileError {
  message: string;
  /** 1-based line and column in the cell. */
  line: number;
  column: number;
  code: number;
}

export type CompileResult = { ok: true; script: CellScript } | { ok: false; errors: CompileError[] };

export interface CompileOptions {
  /** Used in the source map and diagnostics. */
  fileName?: string;
  /** Compile a single expression for user_expressions: no declarations, result is the expression's value. */
  expression?: boolean;
}

export const COMPILER_OPTIONS = (ts: typeof TS): TS.CompilerOptions => ({
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  sourceMap: true,
  inlineSources: false,
  useDefineForClassFields: true,
  esModuleInterop: true,
  // Keep every import: a name imported here may be used only by later cells.
  verbatimModuleSyntax: false,
  isolatedModules: true,
  // Comments are not needed at run time, and a trailing comment could swallow the synthesized `return (...)`.
  removeComments: true,
  newLine: ts.NewLineKind.LineFeed,
  // Cells are parsed as modules: only there does `await (f)()` at the top level mean awaiting `f()`; in a script
  // TypeScript reads it as a call of a function named `await`.
  moduleDetection: ts.ModuleDetectionKind.Force,
});

export function compileCell(ts: typeof TS, source: string, options: CompileOptions = {}): CompileResult {
  const fileName = options.fileName ?? "cell.ts";
  const declared: string[] = [];
  let mode: "generator" | "async" = "generator";
  const out = ts.transpileModule(options.expression ? `(${source}\n)` : source, {
    compilerOptions: COMPILER_OPTIONS(ts),
    fileName,
    reportDiagnostics: true,
    transformers: {
      before: [(ctx) => (sf) => rewriteModuleSyntax(ts, ctx, sf)],
      after: [
        (ctx) => (sf) => {
          const r = wrapCell(ts, ctx, sf, declared);
          mode = r.mode;
          return r.file;
        },
      ],
    },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    return {
      ok: false,
      errors: errors.map((d) => {
        const pos = Math.min(d.start ?? 0, source.length);
        const lc = sf.getLineAndCharacterOfPosition(pos);
        return { message: ts.flattenDiagnosticMessageText(d.messageText, "\n"), line: lc.line + 1, column: lc.character + 1, code: d.code };
      }),
    };
  }
  const js = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n");
  return { ok: true, script: { js, map: out.sourceMapText ?? "", mode, declared } };
}

// ---------------------------------------------------------------------------------------------------------------
// before: module syntax

function rewriteModuleSyntax(ts: typeof TS, ctx: TS.TransformationContext, sf: TS.SourceFile): TS.SourceFile {
  const f = ctx.factory;
  const otp = (member: string) => f.createPropertyAccessExpression(f.createIdentifier("__otp"), member);
  const importCall = (spec: TS.Expression, attrs?: TS.ImportAttributes) => {
    const args: TS.Expression[] = [spec];
    if (attrs) {
      args.push(
        f.createObjectLiteralExpression([
          f.createPropertyAssignment(
            "with",
            f.createObjectLiteralExpression(
              attrs.elements.map((e) => f.createPropertyAssignment(ts.isIdentifier(e.name) ? e.name.text : e.name.text, e.value)),
            ),
          ),
        ]),
      );
    }
    return f.createAwaitExpression(f.createCallExpression(otp("import"), undefined, args));
  };
  const constStatement = (decls: TS.VariableDeclaration[], from: TS.Node) =>
    ts.setTextRange(f.createVariableStatement(undefined, f.createVariableDeclarationList(decls, ts.NodeFlags.Const)), from);

  // Deep visitor for `import(x)` and `import.meta` anywhere in the cell.
  const deep = (node: TS.Node): TS.Node => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const args = node.arguments.map((a) => ts.visitNode(a, deep) as TS.Expression);
      return ts.setTextRange(f.createCallExpression(otp("import"), undefined, args), node);
    }
    if (ts.isMetaProperty(node) && node.keywordToken === ts.SyntaxKind.ImportKeyword) {
      return ts.setTextRange(otp("meta"), node);
    }
    return ts.visitEachChild(node, deep, ctx);
  };

  const statements: TS.Statement[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      const spec = st.moduleSpecifier as TS.Expression;
      const attrs = st.attributes;
      if (clause?.isTypeOnly) continue;
      if (!clause) {
        statements.push(ts.setTextRange(f.createExpressionStatement(importCall(spec, attrs)), st));
        continue;
      }
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) {
        const decls = [f.createVariableDeclaration(bindings.name.text, undefined, undefined, importCall(spec, attrs))];
        if (clause.name) {
          decls.push(
            f.createVariableDeclaration(
              f.createObjectBindingPattern([f.createBindingElement(undefined, "default", clause.name.text)]),
              undefined,
              undefined,
              f.createIdentifier(bindings.name.text),
            ),
          );
        }
        statements.push(constStatement(decls, st));
        continue;
      }
      const elements: TS.BindingElement[] = [];
      if (clause.name) elements.push(f.createBindingElement(undefined, "default", clause.name.text));
      if (bindings && ts.isNamedImports(bindings)) {
        for (const el of bindings.elements) {
          if (el.isTypeOnly) continue;
          const imported = el.propertyName ? moduleExportNameText(ts, el.propertyName) : undefined;
          elements.push(
            f.createBindingElement(
              undefined,
              imported !== undefined && imported !== el.name.text ? f.createStringLiteral(imported) : undefined,
              el.name.text,
            ),
          );
        }
      }
      if (elements.length === 0) {
        statements.push(ts.setTextRange(f.createExpressionStatement(importCall(spec, attrs)), st));
        continue;
      }
      const named = f.createCallExpression(otp("named"), undefined, [importCall(spec, attrs)]);
      statements.push(constStatement([f.createVariableDeclaration(f.createObjectBindingPattern(elements), undefined, undefined, named)], st));
      continue;
    }
    if (ts.isImportEqualsDeclaration(st)) {
      if (st.isTypeOnly) continue;
      const ref = st.moduleReference;
      if (ts.isExternalModuleReference(ref)) {
        const call = f.createCallExpression(f.createIdentifier("require"), undefined, [ref.expression]);
        statements.push(constStatement([f.createVariableDeclaration(st.name.text, undefined, undefined, call)], st));
      } else {
        statements.push(ts.visitNode(st, deep) as TS.Statement);
      }
      continue;
    }
    if (ts.isExportDeclaration(st)) continue; // `export { a }`, `export * from "m"`: nothing to export to.
    if (ts.isExportAssignment(st)) {
      statements.push(ts.setTextRange(f.createExpressionStatement(ts.visitNode(st.expression, deep) as TS.Expression), st));
      continue;
    }
    statements.push(ts.visitNode(st, deep) as TS.Statement);
  }
  return f.updateSourceFile(sf, statements);
}

function moduleExportNameText(ts: typeof TS, name: TS.ModuleExportName): string {
  return ts.isIdentifier(name) ? name.text : name.text;
}

// ---------------------------------------------------------------------------------------------------------------
// after: declarations to globals, body into a generator

function wrapCell(
  ts: typeof TS,
  ctx: TS.TransformationContext,
  sf: TS.SourceFile,
  declared: string[],
): { file: TS.SourceFile; mode: "generator" | "async" } {
  const f = ctx.factory;
  const names = new Set<string>();
  const hoisted: TS.Statement[] = [];
  const body: TS.Statement[] = [];
  // Statements that were expression statements in the source (not declarations turned into assignments).
  const expressions = new WeakSet<TS.Statement>();
  const declare = (n: string) => {
    if (!names.has(n)) {
      names.add(n);
      declared.push(n);
    }
  };

  const stripModifiers = (mods: readonly TS.ModifierLike[] | undefined) =>
    mods?.filter((m) => m.kind !== ts.SyntaxKind.ExportKeyword && m.kind !== ts.SyntaxKind.DefaultKeyword && m.kind !== ts.SyntaxKind.DeclareKeyword);

  const mode = containsTopLevelForAwait(ts, sf) ? "async" : "generator";

  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      const flags = st.declarationList.flags;
      const isVar = !(flags & (ts.NodeFlags.Let | ts.NodeFlags.Const));
      for (const d of st.declarationList.declarations) {
        for (const n of bindingNames(ts, d.name)) declare(n);
        if (d.initializer) {
          const target = bindingToAssignmentTarget(ts, f, d.name);
          const assign = f.createAssignment(target, d.initializer);
          body.push(ts.setTextRange(f.createExpressionStatement(ts.isIdentifier(target) ? assign : f.createParenthesizedExpression(assign)), d));
        } else if (!isVar && ts.isIdentifier(d.name)) {
          // `let x;` in a new cell is a new variable: it starts undefined, whatever an earlier cell left.
          body.push(ts.setTextRange(f.createExpressionStatement(f.createAssignment(d.name, f.createVoidZero())), d));
        }
      }
      continue;
    }
    if (ts.isFunctionDeclaration(st)) {
      if (!st.body) continue;
      const fn = f.createFunctionExpression(
        stripModifiers(st.modifiers) as TS.Modifier[] | undefined,
        st.asteriskToken,
        st.name,
        undefined,
        st.parameters,
        undefined,
        st.body,
      );
      ts.setTextRange(fn, st);
      if (st.name) {
        declare(st.name.text);
        hoisted.push(ts.setTextRange(f.createExpressionStatement(f.createAssignment(f.createIdentifier(st.name.text), fn)), st));
      } else {
        body.push(ts.setTextRange(f.createExpressionStatement(fn), st));
      }
      continue;
    }
    if (ts.isClassDeclaration(st)) {
      const cls = f.createClassExpression(
        stripModifiers(st.modifiers),
        st.name,
        undefined,
        st.heritageClauses,
        st.members,
      );
      ts.setTextRange(cls, st);
      if (st.name) {
        declare(st.name.text);
        body.push(ts.setTextRange(f.createExpressionStatement(f.createAssignment(f.createIdentifier(st.name.text), cls)), st));
      } else {
        body.push(ts.setTextRange(f.createExpressionStatement(cls), st));
      }
      continue;
    }
    if (ts.isExportDeclaration(st)) continue;
    if (ts.isExportAssignment(st)) {
      const e = ts.setTextRange(f.createExpressionStatement(st.expression), st);
      expressions.add(e);
      body.push(e);
      continue;
    }
    if (ts.isExpressionStatement(st) && ts.isExpressionStatement(ts.getOriginalNode(st))) expressions.add(st);
    body.push(st);
  }

  // The last statement is the result when it was an expression statement in the source (not an enum's IIFE).
  const last = body[body.length - 1];
  if (last && ts.isExpressionStatement(last) && expressions.has(last)) {
    {
      const ret = f.createReturnStatement(
        f.createCallExpression(f.createPropertyAccessExpression(f.createIdentifier("__otp"), "result"), undefined, [last.expression]),
      );
      body[body.length - 1] = ts.setTextRange(ret, last);
    }
  }

  const inner = [...hoisted, ...body].map((s) => (mode === "generator" ? awaitToYield(ts, ctx, s) : s));
  const fn = f.createFunctionExpression(
    mode === "async" ? [f.createModifier(ts.SyntaxKind.AsyncKeyword)] : undefined,
    mode === "generator" ? f.createToken(ts.SyntaxKind.AsteriskToken) : undefined,
    undefined,
    undefined,
    // A cell that declares its own `setTimeout` (say) means the global one: the parameter steps aside.
    CELL_PARAMS.map((p) => f.createParameterDeclaration(undefined, undefined, names.has(p) && p !== "__otp" ? `${p}$shadowed` : p)),
    undefined,
    // Strict inside the cell function, not at the top of the script: a strict script evaluated by an indirect
    // `eval` (a browser kernel has no `vm.Script`) keeps its `var`s to itself, and the cell's declarations must
    // become globals that later cells see.
    f.createBlock([f.createExpressionStatement(f.createStringLiteral("use strict")), ...inner], true),
  );
  const out: TS.Statement[] = [];
  if (names.size > 0) {
    out.push(
      f.createVariableStatement(
        undefined,
        f.createVariableDeclarationList([...names].map((n) => f.createVariableDeclaration(n))),
      ),
    );
  }
  out.push(f.createExpressionStatement(f.createParenthesizedExpression(fn)));
  return { file: f.updateSourceFile(sf, out), mode };
}

function bindingNames(ts: typeof TS, name: TS.BindingName): string[] {
  if (ts.isIdentifier(name)) return [name.text];
  const out: string[] = [];
  for (const el of name.elements) {
    if (ts.isOmittedExpression(el)) continue;
    out.push(...bindingNames(ts, el.name));
  }
  return out;
}

/** `{ a, b: [c = 1], ...rest }` as a binding pattern → the same shape as an assignment pattern. */
function bindingToAssignmentTarget(ts: typeof TS, f: TS.NodeFactory, name: TS.BindingName): TS.Expression {
  if (ts.isIdentifier(name)) return f.createIdentifier(name.text);
  if (ts.isObjectBindingPattern(name)) {
    const props: TS.ObjectLiteralElementLike[] = name.elements.map((el) => {
      if (el.dotDotDotToken) return f.createSpreadAssignment(bindingToAssignmentTarget(ts, f, el.name));
      if (!el.propertyName && ts.isIdentifier(el.name)) {
        return f.createShorthandPropertyAssignment(el.name.text, el.initializer);
      }
      const target = bindingToAssignmentTarget(ts, f, el.name);
      const value = el.initializer ? f.createAssignment(target, el.initializer) : target;
      return f.createPropertyAssignment(el.propertyName ?? (el.name as TS.Identifier).text, value);
    });
    return f.createObjectLiteralExpression(props, false);
  }
  const items: TS.Expression[] = name.elements.map((el) => {
    if (ts.isOmittedExpression(el)) return f.createOmittedExpression();
    const target = bindingToAssignmentTarget(ts, f, el.name);
    if (el.dotDotDotToken) return f.createSpreadElement(target);
    return el.initializer ? f.createAssignment(target, el.initializer) : target;
  });
  return f.createArrayLiteralExpression(items, false);
}

function isFunctionBoundary(ts: typeof TS, node: TS.Node): boolean {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isClassStaticBlockDeclaration(node) ||
    ts.isPropertyDeclaration(node)
  );
}

function containsTopLevelForAwait(ts: typeof TS, sf: TS.SourceFile): boolean {
  let found = false;
  const visit = (node: TS.Node): void => {
    if (found) return;
    if (isFunctionBoundary(ts, node)) return;
    if (ts.isForOfStatement(node) && node.awaitModifier) {
      found = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  sf.statements.forEach(visit);
  return found;
}

/** Top-level `await x` → `(yield x)`; `await` inside nested functions is left alone. */
function awaitToYield(ts: typeof TS, ctx: TS.TransformationContext, st: TS.Statement): TS.Statement {
  const f = ctx.factory;
  const visit = (node: TS.Node): TS.Node => {
    if (isFunctionBoundary(ts, node)) {
      // Function declarations hoisted as `f = function f() {}` arrive here as assignments: only their bodies are
      // boundaries, so descend no further.
      return node;
    }
    if (ts.isAwaitExpression(node)) {
      const inner = ts.visitNode(node.expression, visit) as TS.Expression;
      return ts.setTextRange(f.createParenthesizedExpression(f.createYieldExpression(undefined, inner)), node);
    }
    return ts.visitEachChild(node, visit, ctx);
  };
  return ts.visitNode(st, visit) as TS.Statement;
}
