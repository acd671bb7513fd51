// `node:assert` in the browser kernel's worker: the assert module of the browserify project (Node's API).
import assert from 'assert';

export default assert;
export const { ok, equal, notEqual, deepEqual, notDeepEqual, strictEqual, notStrictEqual, deepStrictEqual, notDeepStrictEqual, throws, doesNotThrow, rejects, doesNotReject, fail, match, doesNotMatch, ifError, AssertionError, strict } = assert;
