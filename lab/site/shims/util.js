// `node:util` in the browser kernel's worker: Node's own `util.inspect` (node-inspect-extracted is its source,
// extracted for the web), so values print in a cell's output exactly as in the Node kernel.
import { inspect, format, formatWithOptions } from 'node-inspect-extracted';

export { inspect, format, formatWithOptions };
// The kernel only asks whether a value is a Proxy, to leave it alone; a worker cannot tell, and a Proxy that is
// treated as an object is still printed by inspect.
export const types = { isProxy: () => false };
export default { inspect, format, formatWithOptions, types };
