// Public library entry: types users import in handler files.
export type * from './config/types.js';
export { ErrorCodes, TrestyError, type ErrorCode } from './errors.js';
export type * from './api/index.js';
export type { SharedDict, SharedDicts, ShdictValue, StoreResult, ZoneStats } from './shared/index.js';
