// Types for uds-client.mjs (plain JS so benchmarks run without a build step).
export interface Codec {
  encode(value: any): Uint8Array;
  decode(bytes: Uint8Array): any;
}
export declare const codecs: Record<'raw' | 'string' | 'json' | 'msgpack', Codec>;
export declare class FrameParser {
  constructor(onFrame: (payload: Buffer) => void);
  push(chunk: Buffer): void;
}
export declare class UdsClient {
  readonly inFlight: number;
  call(req: unknown): Promise<unknown>;
  close(): Promise<void>;
}
export declare function connectUds(
  socketPath: string,
  opts?: { codec?: keyof typeof codecs | Codec },
): Promise<UdsClient>;
