// What the resume benchmarks share: a deploy caught while a step runs, the moment they kill its worker.
import type { WorkflowHandle } from '@temporalio/client';
import { sleep, type Rig } from '../test/helpers/faultRig';

/** A new commit deployed detached; returns once `step` runs, with where the host's command log stood before it. */
export async function deployUntilRunning(rig: Rig, step: string): Promise<{ h: WorkflowHandle; logFrom: number }> {
  rig.commitVersion();
  const logFrom = rig.logLength();
  const h = await rig.deployDetached();
  for (;;) {
    const st = await rig.status(h);
    if (st?.steps.find((x) => x.name === step)?.state === 'running') return { h, logFrom };
    await sleep(15);
  }
}
