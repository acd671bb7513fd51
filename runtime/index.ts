/** Public surface of the OTP runtime. (Being written: the lead fills this in.) */
export type * from "./observe.js";
