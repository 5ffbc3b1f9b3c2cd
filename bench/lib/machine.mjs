// What the numbers were measured on: a result without its machine and load is not a result.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

function version(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return null;
  const m = re.exec(`${r.stdout}${r.stderr}`);
  return m ? m[1] : 'unknown';
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    wrk: version('wrk', ['-v'], /wrk (\S+)/),
    nginx: version('nginx', ['-v'], /nginx\/(\S+)/),
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

export function describeMachine(m) {
  const end = m.loadavgEnd ? `, ${m.loadavgEnd[0]} at the end` : '';
  return `${m.cores} cores (${m.cpu}), ${m.memGiB} GiB, ${m.os}, Node ${m.node}; 1-min load average ${m.loadavg[0]} at the start${end}`;
}
