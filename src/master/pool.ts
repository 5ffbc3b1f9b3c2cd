// One generation of workers, all started with the same conf. It starts them and waits for
// every one to be ready; while running it replaces a worker that dies (with back-off when it
// keeps dying at start); on reload or stop it retires them.
import { TrestyError, type ErrorCode } from '../errors.js';
import type { ErrorLog } from '../log/index.js';
import { isTrestyMessage, type MasterEvent, type WorkerStart, type WorkerToMaster } from './protocol.js';

/** A worker that dies within this long of its start counts as a failed start. */
const QUICK_MS = 2000;
/** Failed starts in a row before a slot is given up. */
const MAX_QUICK_FAILS = 5;
const FAST_STOP_KILL_MS = 3000;

type StartConf = Omit<WorkerStart, 'tresty' | 'slot' | 'count'>;

/** A worker process, however it was forked (spawn.ts): node:cluster or child_process.fork. */
export interface Worker {
  readonly process: { readonly pid?: number; kill(signal?: NodeJS.Signals): boolean };
  send(m: unknown): void;
  isConnected(): boolean;
  on(ev: 'message', cb: (m: unknown) => void): void;
  on(ev: 'error', cb: (e: Error) => void): void;
  on(ev: 'exit', cb: (code: number | null, signal: string | null) => void): void;
}

interface Slot {
  worker: Worker | null;
  startedAt: number;
  quickFails: number;
  gaveUp: boolean;
  respawnTimer: NodeJS.Timeout | null;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private state: 'starting' | 'running' | 'retiring' = 'starting';
  private readonly exited: Promise<void>;
  private resolveExited!: () => void;
  private startWaiter: { resolve(): void; reject(e: Error): void; pending: number } | null = null;
  /** Workers that left their slot after a fault and finish their requests (already replaced). */
  private readonly leaving = new Set<Worker>();
  /** The leaving worker each slot's next ready worker replaces (told `replaced` then). */
  private readonly replaces = new Map<number, Worker>();

  constructor(
    private readonly conf: StartConf,
    private readonly count: number,
    private readonly log: ErrorLog,
    private readonly report: (e: MasterEvent) => void,
    /** Forks one worker process. */
    private readonly fork: () => Worker,
  ) {
    this.slots = Array.from({ length: count }, () => ({ worker: null, startedAt: 0, quickFails: 0, gaveUp: false, respawnTimer: null }));
    this.exited = new Promise((r) => { this.resolveExited = r; });
  }

  /** The addresses the workers listen on, as the first ready worker reported them. */
  addresses: readonly string[] = [];

  pids(): number[] {
    return this.slots.flatMap((s) => (s.worker?.process.pid ? [s.worker.process.pid] : []));
  }

  /** Forks every worker; resolves when all are ready, rejects if one fails or dies first. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.startWaiter = { resolve, reject, pending: this.count };
      if (this.count === 0) resolve();
      for (let i = 0; i < this.count; i++) this.spawn(i);
    });
  }

  private spawn(slotIndex: number): void {
    const slot = this.slots[slotIndex]!;
    slot.respawnTimer = null;
    const worker = this.fork();
    slot.worker = worker;
    slot.startedAt = Date.now();
    const pid = worker.process.pid ?? 0;
    this.log.notice(`start worker process ${pid}`);
    this.report({ tresty: 'worker-spawn', pid, slot: slotIndex });
    let ready = false;
    worker.on('message', (m: unknown) => {
      if (!isTrestyMessage(m)) return;
      const msg = m as WorkerToMaster;
      if (msg.tresty === 'hello') {
        worker.send({ ...this.conf, tresty: 'start', slot: slotIndex, count: this.count } satisfies WorkerStart);
      } else if (msg.tresty === 'ready') {
        ready = true;
        if (this.addresses.length === 0) this.addresses = msg.addresses;
        const old = this.replaces.get(slotIndex);
        this.replaces.delete(slotIndex);
        if (old?.isConnected()) old.send({ tresty: 'replaced' });
        this.report({ tresty: 'worker-ready', pid, slot: slotIndex });
        if (this.state === 'starting' && this.startWaiter && --this.startWaiter.pending === 0) {
          this.state = 'running';
          this.startWaiter.resolve();
          this.startWaiter = null;
        }
      } else if (msg.tresty === 'closing') {
        if (worker.isConnected()) worker.send({ tresty: 'closed' });
      } else if (msg.tresty === 'fatal') {
        this.failStart(new TrestyError(msg.code as ErrorCode, msg.message));
      } else if (msg.tresty === 'failing') {
        this.replaceFailing(slotIndex, worker, ready);
      }
    });
    worker.on('error', (e) => this.log.error(`worker process ${pid}: ${e.message}`));
    worker.on('exit', (code, signal) => this.onExit(slotIndex, worker, ready, code, signal));
  }

  /**
   * A worker hit an exception no request owned and is finishing its requests before it exits:
   * its slot gets a new worker now, so that the listen queue is served during the switch.
   */
  private replaceFailing(slotIndex: number, worker: Worker, wasReady: boolean): void {
    const slot = this.slots[slotIndex]!;
    if (this.state !== 'running' || slot.worker !== worker) return; // the exit decides
    slot.worker = null;
    this.leaving.add(worker);
    this.replaces.set(slotIndex, worker);
    this.log.notice(`worker process ${worker.process.pid ?? 0} is leaving after a fault, starting its replacement`);
    this.respawn(slotIndex, !wasReady || Date.now() - slot.startedAt < QUICK_MS);
  }

  private failStart(e: Error): void {
    if (this.state !== 'starting' || !this.startWaiter) return;
    const w = this.startWaiter;
    this.startWaiter = null;
    w.reject(e);
  }

  private onExit(slotIndex: number, worker: Worker, wasReady: boolean, code: number | null, signal: string | null): void {
    const slot = this.slots[slotIndex]!;
    const pid = worker.process.pid ?? 0;
    if (slot.worker === worker) slot.worker = null;
    const how = signal ? `exited on signal ${signal}` : `exited with code ${code}`;
    if (this.leaving.delete(worker)) {
      this.log.alert(`worker process ${pid} ${how}`); // already replaced
    } else if (this.state === 'retiring') {
      this.log.notice(`worker process ${pid} ${how}`);
    } else if (this.state === 'starting') {
      this.log.alert(`worker process ${pid} ${how}`);
      this.failStart(new TrestyError('TRESTY_ERR_WORKER_START', `worker process ${pid} ${how} before it was ready`));
    } else {
      this.log.alert(`worker process ${pid} ${how}`);
      this.respawn(slotIndex, !wasReady || Date.now() - slot.startedAt < QUICK_MS);
    }
    // After the log line: a tool that sees the event may read the log at once.
    this.report({ tresty: 'worker-exit', pid, code, signal });
    this.checkExited();
  }

  private checkExited(): void {
    if (this.slots.every((s) => s.worker === null) && this.leaving.size === 0) this.resolveExited();
  }

  private respawn(slotIndex: number, quick: boolean): void {
    const slot = this.slots[slotIndex]!;
    slot.quickFails = quick ? slot.quickFails + 1 : 0;
    if (slot.quickFails >= MAX_QUICK_FAILS) {
      slot.gaveUp = true;
      this.log.alert(`worker process ${slotIndex} died ${slot.quickFails} times at start, not respawning it `
        + '(fix the cause, then reload with "tresty -s reload")');
      this.report({ tresty: 'worker-gave-up', slot: slotIndex, failures: slot.quickFails });
      return;
    }
    // No delay for a worker that ran fine; doubling delays for one that keeps dying at start.
    const delay = slot.quickFails === 0 ? 0 : Math.min(100 * 2 ** (slot.quickFails - 1), 5000);
    slot.respawnTimer = setTimeout(() => this.spawn(slotIndex), delay);
  }

  private cancelRespawns(): void {
    for (const s of this.slots) {
      if (s.respawnTimer) clearTimeout(s.respawnTimer);
      s.respawnTimer = null;
    }
  }

  /** Every worker of the pool: the slots' and the leaving ones. */
  private workers(): Worker[] {
    return [...this.slots.flatMap((s) => (s.worker ? [s.worker] : [])), ...this.leaving];
  }

  private send(m: { tresty: 'quit' | 'stop' | 'reopen' }): void {
    for (const w of this.workers()) {
      if (w.isConnected()) w.send(m);
    }
  }

  reopen(): void {
    this.send({ tresty: 'reopen' });
  }

  /** Graceful: each worker finishes its in-flight requests, then exits. */
  quit(): Promise<void> {
    this.state = 'retiring';
    this.cancelRespawns();
    this.send({ tresty: 'quit' });
    this.checkExited();
    return this.exited;
  }

  /** Fast: workers drop their connections and exit; killed if they have not within a few seconds. */
  stop(): Promise<void> {
    this.state = 'retiring';
    this.cancelRespawns();
    this.send({ tresty: 'stop' });
    for (const w of this.workers()) {
      if (!w.isConnected()) w.process.kill('SIGTERM');
    }
    this.checkExited();
    const timer = setTimeout(() => {
      for (const w of this.workers()) w.process.kill('SIGKILL');
    }, FAST_STOP_KILL_MS);
    return this.exited.finally(() => clearTimeout(timer));
  }
}
