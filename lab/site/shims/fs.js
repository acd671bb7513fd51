// `node:fs` in the browser kernel's worker: the language service's one question (does @types/node exist?),
// answered from the worker's virtual file system (kernel/browser/worker.ts sets it, see typesFs).
export function existsSync(p) {
  return globalThis.__otpLabFiles?.has(String(p)) ?? false;
}
export default { existsSync };
