// `node:url` in the browser kernel's worker: the two functions the kernel's shared modules call.
export function fileURLToPath(url) {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'file:') throw new TypeError(`The URL must be of scheme file: ${u.href}`);
  return decodeURIComponent(u.pathname);
}
export function pathToFileURL(path) {
  return new URL(`file://${encodeURI(path)}`);
}
export default { fileURLToPath, pathToFileURL };
