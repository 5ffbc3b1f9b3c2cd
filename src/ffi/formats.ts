// The four payload formats. A format belongs to the plugin, not to the call site.
import { Packr } from 'msgpackr';
import { TrestyError } from '../errors.js';

export type FormatName = 'raw' | 'string' | 'json' | 'msgpack';

export interface Format {
  readonly name: FormatName;
  encode(v: unknown): Uint8Array;
  decode(b: Uint8Array): unknown;
}

const utf8 = new TextDecoder('utf-8');
const packr = new Packr({ useRecords: false });

function bad(format: FormatName, what: string): TrestyError {
  return new TrestyError('TRESTY_ERR_FFI_ENCODE', `format ${format} cannot encode ${what}`);
}

const formats: Record<FormatName, Format> = {
  raw: {
    name: 'raw',
    encode(v) {
      if (v instanceof Uint8Array) return v;
      if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      if (v instanceof ArrayBuffer) return new Uint8Array(v);
      throw bad('raw', `a ${typeof v} (pass a Uint8Array or Buffer)`);
    },
    decode: (b) => b,
  },
  string: {
    name: 'string',
    encode(v) {
      if (typeof v !== 'string') throw bad('string', `a ${typeof v} (pass a string)`);
      return Buffer.from(v, 'utf8');
    },
    decode: (b) => utf8.decode(b),
  },
  json: {
    name: 'json',
    encode(v) {
      let s: string | undefined;
      try {
        s = JSON.stringify(v);
      } catch (e) {
        throw bad('json', `this value: ${(e as Error).message}`);
      }
      if (s === undefined) throw bad('json', `a ${typeof v}`);
      return Buffer.from(s, 'utf8');
    },
    decode(b) {
      try {
        return JSON.parse(utf8.decode(b)) as unknown;
      } catch (e) {
        throw new TrestyError('TRESTY_ERR_FFI_DECODE', `format json: the response is not JSON: ${(e as Error).message}`);
      }
    },
  },
  msgpack: {
    name: 'msgpack',
    encode(v) {
      try {
        return packr.pack(v);
      } catch (e) {
        throw bad('msgpack', `this value: ${(e as Error).message}`);
      }
    },
    decode(b) {
      try {
        return packr.unpack(b) as unknown;
      } catch (e) {
        throw new TrestyError('TRESTY_ERR_FFI_DECODE', `format msgpack: the response is not MessagePack: ${(e as Error).message}`);
      }
    },
  },
};

export function getFormat(name: string): Format {
  const f = (formats as Record<string, Format | undefined>)[name];
  if (!f) throw new TrestyError('TRESTY_ERR_API_ARGS', `unknown ffi format "${name}" (raw, string, json or msgpack)`);
  return f;
}
