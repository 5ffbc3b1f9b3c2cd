// Whether the native engine's addon was built here (make + a C compiler + Node's headers).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './server.js';

export const ENGINE_BUILT = fs.existsSync(path.join(ROOT, 'native', 'build', 'tresty_engine.node'))
  && process.env.TRESTY_NO_NATIVE_ENGINE !== '1';
