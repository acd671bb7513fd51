/**
 * Type checking, completion and hover for cells, from the TypeScript language service.
 *
 * The notebook as TypeScript sees it: every executed cell is a virtual ES module
 * (`<cwd>/__otp_lab_cell_N__.mts`, never written to disk, so relative imports and node_modules resolve from the
 * notebook's directory) that exports everything it declares. The cell being checked imports, on one header line
 * above its own text, each name it uses from the cell that declared it last, or from a preloaded module (the
 * runtime, the widgets, the kernel's display API). So a later cell's `const x` simply shadows an earlier one:
 * "the new one wins", as at run time. Only the cells a cell actually references enter its program, and only the
 * new cell is checked, so the cost per cell stays flat as the notebook grows.
 *
 * Assigning to a variable declared by an earlier cell is fine at run time (cells share globals). An earlier
 * `let`/`var` therefore enters the header as `declare let x: typeof import(cell).x`, assignable with the type it was
 * declared with (`q = "s"` after `let q = 1` is a type error, as it would be in one file); other names are imports,
 * and assigning to one (TS2632) is explained (a `const`: redeclare it with `let`).
 */
import type * as TS from "typescript";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export interface CellDiagnostic {
  message: string;
  line: number;
  column: number;
  code: number;
}

export interface PreloadModule {
  /** Absolute path of the module's JavaScript file (its `.d.ts` sits beside it). */
  path: string;
  /** Value exports that the kernel actually put in scope. */
  values: string[];
}

export interface Dependencies {
  /**
   * Names the cell mentions without declaring them: a cell declaring one of them later changes its check. Null
   * when the result must not be reused at all.
   */
  uses: string[] | null;
  /** Names the cell declares (values and types). */
  declares: string[];
}

type DeclKind = "let" | "var" | "const" | "function" | "class" | "type" | "enum" | "namespace" | "import" | "preload";

interface Binding {
  /** Module specifier to import the name from. */
  from: string;
  kind: DeclKind;
  typeOnly: boolean;
}

interface CellShape {
  declared: Map<string, { kind: DeclKind; typeOnly: boolean }>;
  exported: Set<string>;
  referenced: Set<string>;
}

const DRAFT = "__otp_lab_draft__.mts";

export class CellLanguageService {
  private readonly files = new Map<string, { text: string; version: number }>();
  private readonly snapshots = new Map<string, TS.IScriptSnapshot | undefined>();
  private readonly bindings = new Map<string, Binding>();
  private readonly service: TS.LanguageService;
  private readonly options: TS.CompilerOptions;
  private readonly draftPath: string;
  private roots: string[];
  private cellCount = 0;
  private readonly resolutionCache: TS.ModuleResolutionCache;

  constructor(
    private readonly ts: typeof TS,
    private readonly cwd: string,
  ) {
    this.draftPath = path.join(cwd, DRAFT);
    this.roots = [this.draftPath];
    this.options = languageServiceOptions(ts);
    const host: TS.LanguageServiceHost = {
      getScriptFileNames: () => this.roots,
      getScriptVersion: (f) => String(this.files.get(f)?.version ?? 0),
      getScriptSnapshot: (f) => {
        const v = this.files.get(f);
        if (v) return ts.ScriptSnapshot.fromString(v.text);
        // Library and package files do not change while the kernel runs; reading them again for every new
        // program would cost more than type checking the cell.
        if (!this.snapshots.has(f)) {
          const text = ts.sys.readFile(f);
          this.snapshots.set(f, text === undefined ? undefined : ts.ScriptSnapshot.fromString(text));
        }
        return this.snapshots.get(f);
      },
      getCurrentDirectory: () => cwd,
      getCompilationSettings: () => this.options,
      getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
      fileExists: (f) => this.files.has(f) || this.cached("f", f, () => ts.sys.fileExists(f)),
      readFile: (f) => this.files.get(f)?.text ?? this.cached("r", f, () => ts.sys.readFile(f)),
      readDirectory: ts.sys.readDirectory,
      directoryExists: (d) => this.cached("d", d, () => ts.sys.directoryExists(d)),
      getDirectories: ts.sys.getDirectories,
      realpath: (p) => this.cached("p", p, () => ts.sys.realpath!(p)),
    };
    // One resolution cache for the kernel's lifetime: without it every new program (one per check) looks up
    // every file's package.json again.
    this.resolutionCache = ts.createModuleResolutionCache(cwd, (f) => f, this.options);
    const typeRefCache = ts.createTypeReferenceDirectiveResolutionCache(cwd, (f) => f, this.options, this.resolutionCache.getPackageJsonInfoCache());
    (host as { getModuleResolutionCache?: () => TS.ModuleResolutionCache }).getModuleResolutionCache = () => this.resolutionCache;
    host.resolveModuleNameLiterals = (literals, containingFile, redirected, options, containingSourceFile) =>
      literals.map((lit) =>
        ts.resolveModuleName(lit.text, containingFile, options, host as TS.ModuleResolutionHost, this.resolutionCache, redirected, ts.getModeForUsageLocation(containingSourceFile, lit, options)),
      );
    host.resolveTypeReferenceDirectiveReferences = (refs, containingFile, redirected, options, containingSourceFile) =>
      refs.map((ref) => {
        const name = typeof ref === "string" ? ref : ref.fileName.toLowerCase();
        const mode = typeof ref === "string" || !containingSourceFile ? undefined : ts.getModeForFileReference(ref, containingSourceFile.impliedNodeFormat);
        return ts.resolveTypeReferenceDirective(name, containingFile, options, host as TS.ModuleResolutionHost, redirected, typeRefCache, mode);
      });
    this.service = ts.createLanguageService(host, ts.createDocumentRegistry());
  }

  /**
   * File system answers for files that do not change while the kernel runs (packages, TypeScript's libraries,
   * the kernel itself). Every new program asks again for each file's nearest package.json; without this cache
   * those lookups cost more than checking the cell. Files of the notebook's own folder are always asked afresh.
   */
  private readonly fsCache = new Map<string, unknown>();
  private cached<T>(kind: string, p: string, get: () => T): T {
    if (!isStable(p, this.cwd)) return get();
    const key = kind + p;
    if (this.fsCache.has(key)) return this.fsCache.get(key) as T;
    const v = get();
    this.fsCache.set(key, v);
    return v;
  }

  /** Loads the libraries (the slow part, about a second) so that the first cell does not pay for it. */
  warmUp(): void {
    this.setDraft("export {};\n");
    this.service.getSemanticDiagnostics(this.draftPath);
  }

  /** Puts the preloaded modules' exports in scope (values as loaded, plus their type-only exports). */
  setPreload(modules: PreloadModule[]): void {
    const ts = this.ts;
    const probe = modules.map((m, i) => `import * as __m${i} from ${JSON.stringify(m.path)};`).join("\n");
    this.setDraft(probe + "\nexport {};\n");
    const program = this.service.getProgram()!;
    const checker = program.getTypeChecker();
    const sf = program.getSourceFile(this.draftPath)!;
    modules.forEach((m, i) => {
      const decl = sf.statements[i] as TS.ImportDeclaration | undefined;
      const values = new Set(m.values);
      const sym = decl ? checker.getSymbolAtLocation(decl.moduleSpecifier) : undefined;
      const exportsOf = sym ? checker.getExportsOfModule(sym) : [];
      for (const e of exportsOf) {
        const name = e.getName();
        if (this.bindings.has(name) || name === "default") continue;
        const target = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
        const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
        const isType = (target.flags & (ts.SymbolFlags.Type | ts.SymbolFlags.Namespace)) !== 0;
        if (isValue && values.has(name)) this.bindings.set(name, { from: m.path, kind: "preload", typeOnly: false });
        else if (isType && !isValue) this.bindings.set(name, { from: m.path, kind: "preload", typeOnly: true });
      }
      // Values the kernel loaded but for which no declaration was found still exist at run time.
      for (const v of values) {
        if (!this.bindings.has(v) && exportsOf.length === 0) this.bindings.set(v, { from: m.path, kind: "preload", typeOnly: false });
      }
    });
  }

  /**
   * Checks `code` as a cell and throws the result away: the checker's code paths are compiled by V8 before the
   * learner's first cell needs them (the first check costs ten times a later one).
   */
  warmCheck(code: string): void {
    this.setDraft(this.cellText(code, cellShape(this.ts, code), false));
    this.service.getSemanticDiagnostics(this.draftPath);
  }

  /** Semantic and syntactic errors of `code` as the next cell. */
  check(code: string): CellDiagnostic[] {
    const shape = this.shapeOf(code);
    // The diagnostics of a cell depend only on its text and on where the names it uses come from; a cell run
    // again unchanged (the common "run it once more") needs no new program. Cells importing local files are
    // always checked: those files may have changed.
    const key = hasLocalImport(code) ? null : this.cacheKey(code, shape);
    const cached = key === null ? undefined : this.checkCache.get(key);
    if (cached) return cached;
    const result = this.checkUncached(code, shape);
    if (key !== null) {
      if (this.checkCache.size >= 500) this.checkCache.delete(this.checkCache.keys().next().value as string);
      this.checkCache.set(key, result);
    }
    return result;
  }

  private readonly checkCache = new Map<string, CellDiagnostic[]>();

  /**
   * What `check(code)` depends on besides the text, as `cacheKey` sees it: the names the cell uses (whoever declares
   * them; none for a cell importing local files, which may change on disk), and the names it declares. The
   * executor keeps results by text with this, so that a cell run again with the same inputs is not sent here.
   */
  dependencies(code: string): Dependencies {
    const shape = this.shapeOf(code);
    const uses = hasLocalImport(code) ? null : [...shape.referenced].filter((n) => !shape.declared.has(n));
    return { uses, declares: [...shape.declared.keys()] };
  }

  /** Shapes by source, so that a cell run again is not parsed again to find its cache key. */
  private readonly shapes = new Map<string, CellShape>();
  private shapeOf(code: string): CellShape {
    let shape = this.shapes.get(code);
    if (!shape) {
      shape = cellShape(this.ts, code);
      if (this.shapes.size >= 500) this.shapes.delete(this.shapes.keys().next().value as string);
      this.shapes.set(code, shape);
    }
    return shape;
  }

  private cacheKey(code: string, shape: CellShape): string {
    let key = code + "\u0000";
    for (const name of shape.referenced) {
      if (shape.declared.has(name)) continue;
      const b = this.bindings.get(name);
      if (b) key += `${name}@${b.from}\u0000`;
    }
    return key;
  }

  private checkUncached(code: string, shape: CellShape): CellDiagnostic[] {
    this.forgetLocalResolutions(code);
    const { offset } = this.setDraft(this.cellText(code, shape, false));
    const diags = [
      ...this.service.getSyntacticDiagnostics(this.draftPath),
      ...this.service.getSemanticDiagnostics(this.draftPath),
    ];
    return this.mapDiagnostics(diags, code, offset, shape);
  }

  /**
   * A relative import may name a file created since the last check; cached "not found" answers would hide it.
   */
  private forgetLocalResolutions(code: string): void {
    if (hasLocalImport(code)) {
      this.resolutionCache.clear();
      this.fsCache.clear();
    }
  }

  /** Records `code` as executed: its declarations now shadow earlier ones. */
  commit(code: string): void {
    const shape = this.shapeOf(code);
    const file = path.join(this.cwd, `__otp_lab_cell_${++this.cellCount}__.mts`);
    this.files.set(file, { text: this.cellText(code, shape, false).text, version: 1 });
    for (const [name, d] of shape.declared) this.bindings.set(name, { from: file, kind: d.kind, typeOnly: d.typeOnly });
  }

  completions(code: string, cursor: number): { matches: string[]; start: number; end: number; kinds: string[] } {
    const shape = cellShape(this.ts, code);
    this.forgetLocalResolutions(code);
    const { offset } = this.setDraft(this.cellText(code, shape, true));
    const prefix = /[\p{L}\p{N}_$]*$/u.exec(code.slice(0, cursor))![0];
    let end = cursor;
    while (end < code.length && /[\p{L}\p{N}_$]/u.test(code[end]!)) end++;
    const info = this.service.getCompletionsAtPosition(this.draftPath, offset + cursor, {
      includeCompletionsForModuleExports: false,
      includeCompletionsWithInsertText: true,
    });
    if (!info) return { matches: [], start: cursor - prefix.length, end, kinds: [] };
    const lower = prefix.toLowerCase();
    const entries = info.entries
      .filter((e) => !e.name.startsWith("__otp_lab") && e.name.toLowerCase().startsWith(lower))
      .sort((a, b) => {
        // Exact-case prefix matches first, then TypeScript's own ranking.
        const ca = a.name.startsWith(prefix) ? 0 : 1;
        const cb = b.name.startsWith(prefix) ? 0 : 1;
        return ca - cb || a.sortText.localeCompare(b.sortText) || a.name.localeCompare(b.name);
      });
    const seen = new Set<string>();
    const unique = entries.filter((e) => (seen.has(e.name) ? false : (seen.add(e.name), true)));
    return { matches: unique.map((e) => e.name), kinds: unique.map((e) => e.kind), start: cursor - prefix.length, end };
  }

  /** Hover text for the identifier at or just before `cursor`. */
  quickInfo(code: string, cursor: number, detail: number): { found: boolean; text: string; markdown: string } {
    const shape = cellShape(this.ts, code);
    const { offset } = this.setDraft(this.cellText(code, shape, true));
    const at = (p: number) => (p >= 0 ? this.service.getQuickInfoAtPosition(this.draftPath, offset + p) : undefined);
    const info = at(cursor) ?? at(cursor - 1);
    // An unknown name has quick info "any" of no kind: that is "not found".
    if (!info || info.kind === "") return { found: false, text: "", markdown: "" };
    const ts = this.ts;
    // Names from earlier cells and the runtime reach the cell through the import header: hide that plumbing.
    const signature = ts
      .displayPartsToString(info.displayParts)
      .replace(/^\(alias\) /, "")
      .replace(/\nimport [\p{L}\p{N}_$]+$/u, "");
    const docs = ts.displayPartsToString(info.documentation);
    const tags = (info.tags ?? []).map((t) => `@${t.name}${t.text ? " " + ts.displayPartsToString(t.text) : ""}`);
    const sections = [signature, docs, ...(detail > 0 || tags.length < 6 ? tags : tags.slice(0, 5))].filter((s) => s.trim());
    const text = sections.join("\n\n");
    const markdown = ["```typescript\n" + signature + "\n```", docs, ...tags.map((t) => `*${t}*`)].filter((s) => s.trim()).join("\n\n");
    return { found: true, text, markdown };
  }

  private setDraft(draft: string | { text: string; offset: number }): { offset: number } {
    const { text, offset } = typeof draft === "string" ? { text: draft, offset: 0 } : draft;
    const prev = this.files.get(this.draftPath);
    this.files.set(this.draftPath, { text, version: (prev?.version ?? 0) + 1 });
    return { offset };
  }

  /**
   * The module text for a cell: one header line of imports, the cell, then its exports. `all` imports every name
   * in scope (for completion); otherwise only the names the cell mentions.
   */
  private cellText(code: string, shape: CellShape, all: boolean): { text: string; offset: number } {
    const byModule = new Map<string, { values: string[]; types: string[] }>();
    const names = all ? this.bindings.keys() : shape.referenced.values();
    // An earlier cell's `let`/`var` is assignable, with the type it was declared with: a local declared with the
    // type of the export, not an import (read-only, TS2632).
    let variables = "";
    for (const name of names) {
      if (shape.declared.has(name)) continue;
      const b = this.bindings.get(name);
      if (!b) continue;
      if ((b.kind === "let" || b.kind === "var") && !b.typeOnly) {
        variables += `declare let ${name}: typeof import(${JSON.stringify(b.from)}).${name}; `;
        continue;
      }
      let g = byModule.get(b.from);
      if (!g) byModule.set(b.from, (g = { values: [], types: [] }));
      (b.typeOnly ? g.types : g.values).push(name);
    }
    let header = variables;
    for (const [from, g] of byModule) {
      const spec = JSON.stringify(from);
      if (g.values.length) header += `import { ${g.values.join(", ")} } from ${spec}; `;
      if (g.types.length) header += `import type { ${g.types.join(", ")} } from ${spec}; `;
    }
    const values: string[] = [];
    const types: string[] = [];
    for (const [name, d] of shape.declared) {
      if (shape.exported.has(name)) continue;
      (d.typeOnly ? types : values).push(name);
    }
    let footer = "\nexport {};";
    if (values.length) footer += ` export { ${values.join(", ")} };`;
    if (types.length) footer += ` export type { ${types.join(", ")} };`;
    const text = `${header}\n${code}\n${footer}\n`;
    return { text, offset: header.length + 1 };
  }

  private mapDiagnostics(diags: readonly TS.Diagnostic[], code: string, offset: number, shape: CellShape): CellDiagnostic[] {
    const ts = this.ts;
    const sf = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
    const out: CellDiagnostic[] = [];
    for (const d of diags) {
      if (d.category !== ts.DiagnosticCategory.Error || d.start === undefined) continue;
      const start = d.start - offset;
      if (start < 0 || start > code.length) continue; // header or footer: not the learner's code
      let message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (d.code === 2632) {
        // "Cannot assign to 'x' because it is an import." — x is a global declared by an earlier cell.
        const name = /'([^']+)'/.exec(message)?.[1] ?? "";
        const kind = this.bindings.get(name)?.kind;
        if (kind === "let" || kind === "var") continue;
        message =
          kind === "preload"
            ? `Cannot assign to '${name}' because it is provided by the kernel; declare your own with 'let ${name} = ...' instead.`
            : `Cannot assign to '${name}' because an earlier cell declared it as a ${kind ?? "constant"}; redeclare it with 'let ${name} = ...' to make it assignable.`;
      } else if (d.code === 2322 && d.length !== undefined) {
        // "Type 'string' is not assignable to type 'number'." at `q` in `q = "s"`, q an earlier cell's `let`.
        const name = code.slice(start, start + d.length);
        const kind = shape.declared.has(name) ? undefined : this.bindings.get(name)?.kind;
        if ((kind === "let" || kind === "var") && ASSIGNMENT.test(code.slice(start + d.length))) {
          message += `\n'${name}' keeps the type an earlier cell declared it with; redeclare it with '${kind} ${name} = ...' to change its type.`;
        }
      }
      const lc = sf.getLineAndCharacterOfPosition(Math.min(start, code.length));
      out.push({ message, line: lc.line + 1, column: lc.character + 1, code: d.code });
    }
    return out;
  }
}

/** What follows the target of an assignment: `=` (not `==`, `=>`) or a compound assignment operator. */
const ASSIGNMENT = /^\s*(?:=(?![=>])|(?:\*\*|<<|>>>?|&&|\|\||\?\?|[-+*/%&|^])=)/;

function hasLocalImport(code: string): boolean {
  return /\bfrom\s*["']\.{1,2}\/|\bimport\s*\(?\s*["']\.{1,2}\/|\brequire\s*\(\s*["']\.{1,2}\//.test(code);
}

const KERNEL_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");

function isStable(p: string, cwd: string): boolean {
  if (p.includes("/node_modules/")) return true;
  if (p.startsWith(KERNEL_ROOT + "/dist/")) return true;
  // Ancestors of the notebook's folder: only their package.json lookups, which do not change either.
  if (!p.startsWith(cwd + "/") && p !== cwd && cwd.startsWith(path.dirname(p))) return true;
  return false;
}

export function languageServiceOptions(ts: typeof TS): TS.CompilerOptions {
  const typeRoots = findTypeRoots();
  return {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    // Node 20's JavaScript; without @types/node, the DOM library at least types `console` and timers.
    lib: typeRoots ? ["lib.es2023.d.ts"] : ["lib.es2023.d.ts", "lib.dom.d.ts"],
    types: typeRoots ? ["node"] : [],
    ...(typeRoots ? { typeRoots: [typeRoots] } : {}),
    strict: true,
    // Notebook code is exploratory: untyped parameters are allowed, everything else is checked.
    noImplicitAny: false,
    noEmit: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    useDefineForClassFields: true,
  };
}

/** The @types folder holding @types/node, looked up from the kernel's own installation. */
function findTypeRoots(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const pkg = req.resolve("@types/node/package.json");
    return path.dirname(path.dirname(pkg));
  } catch {
    let dir = path.dirname(new URL(import.meta.url).pathname);
    for (let i = 0; i < 6; i++) {
      const candidate = path.join(dir, "node_modules", "@types");
      if (existsSync(path.join(candidate, "node"))) return candidate;
      dir = path.dirname(dir);
    }
    return undefined;
  }
}

/** What a cell declares, exports and mentions, from its syntax alone. */
export function cellShape(ts: typeof TS, code: string): CellShape {
  const sf = ts.createSourceFile("cell.ts", code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const declared = new Map<string, { kind: DeclKind; typeOnly: boolean }>();
  const exported = new Set<string>();
  const referenced = new Set<string>();
  const add = (name: string, kind: DeclKind, typeOnly = false) => {
    const prev = declared.get(name);
    // A name declared as both a value and a type (class + interface merge, enum...) is a value.
    declared.set(name, { kind: prev && !prev.typeOnly ? prev.kind : kind, typeOnly: typeOnly && (prev?.typeOnly ?? true) });
  };
  const isExported = (n: TS.Node) =>
    ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const bindingNames = (b: TS.BindingName, out: string[] = []): string[] => {
    if (ts.isIdentifier(b)) out.push(b.text);
    else for (const el of b.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, out);
    return out;
  };
  for (const st of sf.statements) {
    const names: string[] = [];
    if (ts.isVariableStatement(st)) {
      const flags = st.declarationList.flags;
      const kind: DeclKind = flags & ts.NodeFlags.Const ? "const" : flags & ts.NodeFlags.Let ? "let" : "var";
      for (const d of st.declarationList.declarations) for (const n of bindingNames(d.name)) (add(n, kind), names.push(n));
    } else if (ts.isFunctionDeclaration(st) && st.name) {
      add(st.name.text, "function");
      names.push(st.name.text);
    } else if (ts.isClassDeclaration(st) && st.name) {
      add(st.name.text, "class");
      names.push(st.name.text);
    } else if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) {
      add(st.name.text, "type", true);
      names.push(st.name.text);
    } else if (ts.isEnumDeclaration(st)) {
      add(st.name.text, "enum");
      names.push(st.name.text);
    } else if (ts.isModuleDeclaration(st) && ts.isIdentifier(st.name)) {
      add(st.name.text, "namespace");
      names.push(st.name.text);
    } else if (ts.isImportDeclaration(st) && st.importClause) {
      const c = st.importClause;
      const typeOnly = c.isTypeOnly;
      if (c.name) add(c.name.text, "import", typeOnly);
      const nb = c.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) add(nb.name.text, "import", typeOnly);
      if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) add(el.name.text, "import", typeOnly || el.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(st)) {
      add(st.name.text, "import", st.isTypeOnly);
    } else if (ts.isExportDeclaration(st) && !st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const el of st.exportClause.elements) exported.add(el.name.text);
    }
    if (isExported(st)) for (const n of names) exported.add(n);
  }
  const visit = (node: TS.Node): void => {
    if (ts.isIdentifier(node)) referenced.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { declared, exported, referenced };
}
