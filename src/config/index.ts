// Public entry of the configuration module (implementation lands with the parser).
export type * from './types.js';
