export * from './layout.js';
export { Ring } from './ring.js';
