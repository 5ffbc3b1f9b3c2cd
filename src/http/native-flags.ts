// A native location's flags (native/engine/route.h TE_LF_*), in one list so that no two of them
// take the same bit (two branches once gave `etag off` and `server_tokens on` both bit 8).
export const LF = {
  /** access_log is on: the engine reports a LOG record. */
  LOG: 1,
  /** sendfile on. */
  SENDFILE: 2,
  /** `return` has a text (a body, or a redirect's Location). */
  HAS_TEXT: 4,
  /** etag off. */
  NOETAG: 8,
  /** if_modified_since off. */
  IMS_OFF: 16,
  /** if_modified_since before. */
  IMS_BEFORE: 32,
  /** server_tokens on: the engine names itself with the version. */
  TOKENS: 64,
} as const;
