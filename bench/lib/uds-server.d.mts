// Types for uds-server.mjs.
export declare const UDS_ECHO_BIN: string;
export interface UdsEchoServer {
  socketPath: string;
  pid: number;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}
export declare function startUdsEcho(
  socketPath: string,
  opts?: { threads?: number; bin?: string; timeoutMs?: number },
): Promise<UdsEchoServer>;
