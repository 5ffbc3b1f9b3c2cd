// The tests' temp folder (test/helpers/temp-dir.ts): there while fn runs, gone after it returns,
// throws, resolves or rejects; an async fn's folder stays until the fn has settled.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempDir } from './helpers/temp-dir.js';

describe('test helper: withTempDir', () => {
  it('a sync fn: gets a fresh folder under the temp dir with the prefix, its value comes back, the folder goes', () => {
    let seen = '';
    const out = withTempDir('tresty-tmp-helper-', (dir) => {
      seen = dir;
      expect(path.dirname(dir)).toBe(os.tmpdir());
      expect(path.basename(dir)).toMatch(/^tresty-tmp-helper-/);
      fs.writeFileSync(path.join(dir, 'f'), 'x');
      return 42;
    });
    expect(out).toBe(42);
    expect(fs.existsSync(seen)).toBe(false);
  });

  it('a sync fn that throws: the error comes through, the folder goes', () => {
    let seen = '';
    expect(() => withTempDir('tresty-tmp-helper-', (dir) => {
      seen = dir;
      throw new Error('boom');
    })).toThrow('boom');
    expect(seen).not.toBe('');
    expect(fs.existsSync(seen)).toBe(false);
  });

  it('an async fn: the folder stays across its awaits and goes once it resolves', async () => {
    let seen = '';
    const out = await withTempDir('tresty-tmp-helper-', async (dir) => {
      seen = dir;
      await new Promise((r) => setTimeout(r, 20));
      expect(fs.existsSync(dir)).toBe(true);
      fs.writeFileSync(path.join(dir, 'f'), 'x');
      return 'done';
    });
    expect(out).toBe('done');
    expect(fs.existsSync(seen)).toBe(false);
  });

  it('an async fn that rejects: the rejection comes through, the folder goes', async () => {
    let seen = '';
    await expect(withTempDir('tresty-tmp-helper-', async (dir) => {
      seen = dir;
      await new Promise((r) => setTimeout(r, 20));
      throw new Error('late boom');
    })).rejects.toThrow('late boom');
    expect(seen).not.toBe('');
    expect(fs.existsSync(seen)).toBe(false);
  });
});
