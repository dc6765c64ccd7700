// The steps of a build jail rebuild, in order (workflows/rebuild.ts).
import { undo, type StepDef } from './stepTable';

export const REBUILD_STEPS = [
  { name: 'inspectBuildJail', title: 'inspect the build jail in service', activity: 'inspectBuildJail', retry: 'step' },
  {
    name: 'createNextBuildJail',
    title: 'new build jail from the base template',
    activity: 'createNextBuildJail',
    retry: 'slow',
    undo: undo('destroyNextBuildJail', () => 'remove the new build jail'),
  },
  { name: 'installBuildPackages', title: 'install and upgrade elixir, erlang, node, npm, git', activity: 'installBuildPackages', retry: 'slow' },
  { name: 'refreshHexRebar', title: 'refresh hex and rebar', activity: 'refreshHexRebar', retry: 'step' },
  { name: 'carryBuildCache', title: 'carry the build cache over (same OTP major only)', activity: 'carryBuildCache', retry: 'slow' },
  { name: 'testBuild', title: 'test build of the deployed commit', activity: 'testBuild', retry: 'slow' },
  {
    name: 'swapBuildJail',
    title: 'swap the new build jail in',
    activity: 'swapBuildJail',
    retry: 'step',
    undo: undo('restoreOldBuildJail', () => 'the old build jail back in service'),
  },
  { name: 'retireOldBuildJail', title: 'remove the old build jail', activity: 'retireOldBuildJail', retry: 'step' },
] as const satisfies readonly StepDef[];
