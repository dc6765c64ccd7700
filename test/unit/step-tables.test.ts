// The step tables are the one source of a step's identity: every consumer — the worker's
// activities, the CLI's progress (a retry shows on its step), resume points, `setup --dry-run`,
// the test fakes and the docs' step lists — must agree with them. The docs' tables are written
// from the step tables; after changing a table, rewrite them on purpose:
//   UPDATE_DOCS=1 node --test dist/test/unit/step-tables.test.js
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import '../helpers/plainOutput';
import { describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { createActivities } from '../../activities';
import { plan } from '../../src/cli/commands/setup';
import { runningStepOf, withAttempts } from '../../src/cli/follow';
import { FAILURES } from '../../src/failures';
import { resumePoint } from '../../src/temporal/resume';
import { DEPLOY_STEPS } from '../../workflows/deploySteps';
import { SETUP_STEPS } from '../../workflows/setupSteps';
import type { StepStatus, WorkflowStatus } from '../../workflows/status';
import { activitiesOf, type StepTable } from '../../workflows/stepTable';
import { STEP_TABLES } from '../../workflows/stepTables';
import { testDeps } from '../helpers/activityDeps';
import { fakes } from '../helpers/deployFakes';
import { REPO_ROOT } from '../helpers/paths';
import { rebuildFakes } from '../helpers/rebuildFakes';
import { TEST_TARGET } from '../helpers/target';

const TABLES = Object.entries(STEP_TABLES) as Array<[WorkflowStatus['kind'], { workflowType: string; steps: StepTable }]>;

/** A status of `kind` with `running` the one running step (or undo step), as the workflow reports it. */
function statusWith(kind: WorkflowStatus['kind'], running: string, asUndo = false): WorkflowStatus {
  const steps: StepStatus[] = STEP_TABLES[kind].steps.map((s) => ({
    name: s.name,
    title: s.title,
    state: !asUndo && s.name === running ? 'running' : 'pending',
  }));
  const compensations: StepStatus[] | undefined = asUndo ? [{ name: running, title: `undo ${running}`, state: 'running' }] : undefined;
  return { kind, app: 'my_app', host: 'h', state: asUndo ? 'compensating' : 'running', startedAt: 0, steps, compensations };
}

describe('step tables', () => {
  for (const [kind, { steps }] of TABLES) {
    test(`${kind}: names unique; every activity a function the worker registers, with a retry class`, () => {
      assert.equal(new Set(steps.map((s) => s.name)).size, steps.length);
      const registered = createActivities(testDeps()) as Record<string, unknown>;
      for (const a of activitiesOf(steps)) assert.equal(typeof registered[a], 'function', `${kind}: ${a} is not an activity`);
      for (const s of steps) if (s.activity) assert.ok(s.retry, `${kind}: ${s.name} has no retry class`);
    });

    test(`${kind}: a retry of any step's or undo's activity shows on that step (follow.ts maps every activity type)`, () => {
      for (const s of steps.filter((x) => x.activity))
        assert.equal(runningStepOf(statusWith(kind, s.name), s.activity)?.name, s.name, `${kind}: ${s.activity}`);
      for (const s of steps.filter((x) => x.undo))
        assert.equal(runningStepOf(statusWith(kind, s.undo!.activity, true), s.undo!.activity)?.name, s.undo!.activity, `${kind}: undo ${s.undo!.activity}`);
    });
  }

  test('a retrying stopSlot shows on "stop the old slot", a retrying bakeCheck on the bake: attempt and last failure', async () => {
    for (const [step, activity] of [
      ['stopOldSlot', 'stopSlot'],
      ['bake', 'bakeCheck'],
    ]) {
      const handle = {
        describe: async () => ({ raw: { pendingActivities: [{ activityType: { name: activity }, attempt: 3, lastFailure: { message: 'link dropped' } }] } }),
        client: { options: {} },
      } as unknown as WorkflowHandle;
      const status = await withAttempts(handle, statusWith('deploy', step!));
      const shown = status.steps.find((s) => s.name === step)!;
      assert.equal(shown.attempt, 3, `${activity} → ${step}`);
      assert.equal(shown.note, 'retrying: link dropped');
    }
  });

  test('resume: a failure of any deploy step resumes from that step; an undo from the step it reversed', () => {
    const TABLE: StepTable = DEPLOY_STEPS;
    let id = 0;
    const task = () => ({ eventId: ++id, workflowTaskCompletedEventAttributes: {} });
    const scheduled = (name: string) => ({ eventId: ++id, activityTaskScheduledEventAttributes: { activityType: { name } } });
    for (const s of TABLE.filter((x) => x.activity)) {
      id = 0;
      const events = [task(), scheduled(s.activity!)];
      events.push({ eventId: ++id, activityTaskFailedEventAttributes: { scheduledEventId: id - 1 } } as never);
      assert.equal(resumePoint(events as never).failedStep, s.name, s.activity);
    }
    for (const s of TABLE.filter((x) => x.undo)) {
      id = 0;
      const events = [
        task(),
        scheduled(s.activity!),
        task(),
        scheduled('recordDeploy'),
        { eventId: ++id, activityTaskFailedEventAttributes: { scheduledEventId: id - 1 } },
        scheduled(s.undo!.activity),
      ];
      assert.equal(resumePoint(events as never).step, s.name, `${s.undo!.activity} reverses ${s.name}`);
    }
  });

  test('resume: a failed hook resumes from that hook, told from the others by its activity id', () => {
    let id = 0;
    const task = () => ({ eventId: ++id, workflowTaskCompletedEventAttributes: {} });
    const hook = (name: string) => ({ eventId: ++id, activityTaskScheduledEventAttributes: { activityType: { name: 'runHook' }, activityId: `hook-${name}` } });
    const events = [
      task(),
      hook('pre-connect'),
      task(),
      { eventId: ++id, activityTaskScheduledEventAttributes: { activityType: { name: 'ensureBuildJail' } } },
      task(),
    ];
    const preBuild = hook('pre-build');
    events.push(preBuild, { eventId: ++id, activityTaskFailedEventAttributes: { scheduledEventId: preBuild.eventId } } as never);
    const point = resumePoint(events as never);
    assert.equal(point.failedStep, 'preBuildHook');
    assert.equal(point.step, 'preBuildHook');
    assert.equal(point.eventId, preBuild.eventId - 1, 'the workflow task before the failed hook, not before the first one');
  });

  test('the fakes have every activity of their table', () => {
    assert.deepEqual(
      activitiesOf(STEP_TABLES.deploy.steps).filter((a) => !(a in fakes({}).acts)),
      [],
    );
    assert.deepEqual(
      activitiesOf(STEP_TABLES.rebuild.steps).filter((a) => !(a in rebuildFakes().acts)),
      [],
    );
  });

  test('setup --dry-run plans every setup step, in order, each with what it looks at', () => {
    const lines = plan(TEST_TARGET);
    assert.equal(lines.length, SETUP_STEPS.length);
    SETUP_STEPS.forEach((s, i) => assert.match(lines[i]!, new RegExp(`^ ?${i + 1}\\. ${s.title.replace(/[+()]/g, '\\$&')}\\n {6}\\S`)));
  });

  test("the README's deploy steps are the deploy table's, in order", () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## How a deploy works'), readme.indexOf('The undo step of each change'));
    const listed = [...section.matchAll(/(?:^|[\s·])(\d+)\. ([^(·\n,]+)/gm)].map((m) => [Number(m[1]), m[2]!.trim()] as const);
    assert.deepEqual(
      listed.map(([n]) => n),
      DEPLOY_STEPS.map((_, i) => i + 1),
    );
    DEPLOY_STEPS.forEach((s, i) =>
      assert.ok(listed[i]![1].startsWith(s.title.replace(/ \(.*\)$/, '')), `README step ${i + 1}: "${listed[i]![1]}" is not "${s.title}"`),
    );
  });

  test('docs/architecture.md lists every step table and the failure catalogue as they are', () => {
    const file = path.join(REPO_ROOT, 'docs', 'architecture.md');
    const doc = readFileSync(file, 'utf8');
    const [begin, end] = [doc.indexOf(BEGIN), doc.indexOf(END)];
    assert.ok(begin >= 0 && end > begin, `docs/architecture.md has no ${BEGIN} … ${END} section`);
    const current = doc.slice(begin, end + END.length);
    const wanted = generated();
    if (process.env.UPDATE_DOCS === '1') writeFileSync(file, doc.replace(current, wanted));
    else assert.equal(current, wanted, 'rewrite it: UPDATE_DOCS=1 node --test dist/test/unit/step-tables.test.js');
  });
});

const BEGIN = '<!-- generated from the step tables and src/failures.ts by test/unit/step-tables.test.ts -->';
const END = '<!-- end of generated -->';

function generated(): string {
  const out = [BEGIN, ''];
  for (const [kind, { workflowType, steps }] of TABLES) {
    out.push(`**${kind}** (\`${workflowType}\`)`, '', '| # | step | title | activity | retry | undo | holds |', '| --- | --- | --- | --- | --- | --- | --- |');
    steps.forEach((s, i) =>
      out.push(`| ${i + 1} | ${s.name} | ${s.title} | ${s.activity ?? '(timer)'} | ${s.retry ?? ''} | ${s.undo?.activity ?? ''} | ${s.holds ? 'yes' : ''} |`),
    );
    out.push('');
  }
  out.push('**failures** (`src/failures.ts`)', '', '| type | retried | hint |', '| --- | --- | --- |');
  for (const [type, f] of Object.entries(FAILURES)) out.push(`| ${type} | ${f.retryable ? 'yes' : 'no'} | ${'hint' in f ? f.hint : ''} |`);
  out.push('', END);
  return out.join('\n');
}
