// The worker registers exactly the activities the workflows call: no helper registered, none
// missing. What the workflows call: every activity their step tables schedule (the saga runner
// runs a step by its table row, workflows/saga.ts), and what the TypeScript checker reads from
// their source besides: every property of an object made by proxyActivities, and each name a
// computed access can take.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import ts from 'typescript';
import { createActivities } from '../../activities';
import { activitiesOf } from '../../workflows/stepTable';
import { STEP_TABLES } from '../../workflows/stepTables';
import { testDeps } from '../helpers/activityDeps';
import { REPO_ROOT } from '../helpers/paths';

/** Activity names the workflows in `files` call, or why one cannot be told. */
export function activitiesCalled(files: string[]): { names: Set<string>; unknown: string[] } {
  const config = ts.readConfigFile(path.join(REPO_ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO_ROOT);
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const names = new Set<string>();
  const unknown: string[] = [];
  const proxies = new Set<ts.Symbol>();
  const sources = files.map((f) => program.getSourceFile(f)!);
  const resolved = (s: ts.Symbol | undefined) => (s && s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const where = (n: ts.Node) =>
    `${path.relative(REPO_ROOT, n.getSourceFile().fileName)}:${n.getSourceFile().getLineAndCharacterOfPosition(n.getStart()).line + 1}`;

  // the objects proxyActivities makes (a destructured one names its activities itself)
  const findProxies = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && n.initializer && ts.isCallExpression(n.initializer) && n.initializer.expression.getText() === 'proxyActivities') {
      if (ts.isIdentifier(n.name)) proxies.add(checker.getSymbolAtLocation(n.name)!);
      else if (ts.isObjectBindingPattern(n.name)) for (const e of n.name.elements) names.add((e.propertyName ?? e.name).getText());
    }
    ts.forEachChild(n, findProxies);
  };
  const isProxy = (e: ts.Expression) => {
    const s = resolved(checker.getSymbolAtLocation(e));
    return s !== undefined && proxies.has(s);
  };
  const findCalls = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && isProxy(n.expression)) names.add(n.name.text);
    if (ts.isElementAccessExpression(n) && isProxy(n.expression)) {
      const t = checker.getTypeAtLocation(n.argumentExpression);
      const parts = t.isUnion() ? t.types : [t];
      if (parts.every((p) => p.isStringLiteral())) for (const p of parts) names.add((p as ts.StringLiteralType).value);
      else unknown.push(`${where(n)}: ${n.getText()} (${checker.typeToString(t)})`);
    }
    ts.forEachChild(n, findCalls);
  };
  for (const s of sources) findProxies(s);
  for (const s of sources) findCalls(s);
  return { names, unknown };
}

const WORKFLOWS = readdirSync(path.join(REPO_ROOT, 'workflows'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(REPO_ROOT, 'workflows', f));

/** Activity types recorded in the golden histories: names a worker must keep answering to. */
function recordedActivityTypes(): Set<string> {
  const dir = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
  const types = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(/"activityType":\s*\{\s*"name":\s*"(\w+)"/g)) types.add(m[1]!);
  }
  return types;
}

describe('registered activities', () => {
  const registered = Object.keys(createActivities(testDeps())).sort();
  const called = activitiesCalled(WORKFLOWS);
  const scheduled = Object.values(STEP_TABLES).flatMap((t) => activitiesOf(t.steps));
  const all = new Set([...scheduled, ...called.names]);

  test('the workflows call activities the checker can name', () => {
    assert.deepEqual(called.unknown, []);
    assert.ok(called.names.has('workerInfo'), `found ${called.names.size}: ${[...called.names].join(', ')}`);
    assert.ok(all.size > 40, `found ${all.size}: ${[...all].join(', ')}`);
  });

  test('the worker registers exactly the activities the workflows call: no helper, none missing', () => {
    assert.deepEqual(registered, [...all].sort());
  });

  test('every registered activity is a function', () => {
    const acts = createActivities(testDeps()) as Record<string, unknown>;
    assert.deepEqual(
      registered.filter((n) => typeof acts[n] !== 'function'),
      [],
    );
  });

  test('the activity types recorded in the golden histories are all still registered (histories name them)', () => {
    const recorded = [...recordedActivityTypes()];
    assert.ok(recorded.length > 10, `recorded types: ${recorded.join(', ')}`);
    assert.deepEqual(
      recorded.filter((n) => !registered.includes(n)),
      [],
    );
  });
});
