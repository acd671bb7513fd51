// `node:assert/strict` in the browser kernel's worker: every lesson imports it.
import assert from 'assert';

const strict = assert.strict;
export default strict;
export const { ok, equal, notEqual, deepEqual, notDeepEqual, strictEqual, notStrictEqual, deepStrictEqual, notDeepStrictEqual, throws, doesNotThrow, rejects, doesNotReject, fail, match, doesNotMatch, ifError, AssertionError } = strict;
