// The small set of result codes that steer the per-request loop (nginx's OK/DECLINED/DONE...).
// A step returns one of these or an HTTP status (>= 100) to finish the request with.

/** The step is done: go on to the next one. Also ngx.OK. */
export const OK = 0;
/** ngx.ERROR: 500 if the headers are not sent yet, else the response is cut. */
export const ERROR = -1;
/** ngx.AGAIN (kept for OpenResty compatibility; the loop never sees it). */
export const AGAIN = -2;
/** The response is complete (or being streamed by the step): go straight to the log phase. */
export const DONE = -4;
/** The step did nothing: go on. Also ngx.DECLINED. */
export const DECLINED = -5;
/** An internal redirect (ngx.exec or a `set_uri(..., true)` jump) was recorded on the request. */
export const EXEC = -100;

export type StepResult = number;
