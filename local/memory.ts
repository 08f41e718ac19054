import { readFile } from 'node:fs/promises';
import type { Runtime } from './runtime.ts';

/** Resident memory of this process and the runtime's child processes (Linux `/proc`), in MB. */
export async function memoryOf(
  runtime: Runtime,
): Promise<{ nodeMb: number; childrenMb: number; totalMb: number }> {
  const nodeMb = Math.round(process.memoryUsage().rss / 1_048_576);
  let childrenKb = 0;
  for (const pid of runtime.childPids) {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      childrenKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // Not Linux, or the process is gone: count what can be read.
    }
  }
  const childrenMb = Math.round(childrenKb / 1024);
  return { nodeMb, childrenMb, totalMb: nodeMb + childrenMb };
}
