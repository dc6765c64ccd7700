// deploy.yml's aliases: names for alcaide command lines, split as a shell splits words and
// nothing more, checked when the config loads, expanded before the command line is parsed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { aliasWords, CLI_COMMANDS } from '../../src/config/aliases';
import { expandAlias } from '../../src/cli/aliases';
import { buildProgram } from '../../src/cli/main';
import { runCli, tempProject } from '../helpers/cli';

describe('an alias', () => {
  test("cannot take the name of one of alcaide's commands: the list is the CLI's", () => {
    assert.deepEqual([...CLI_COMMANDS].sort(), [...buildProgram().commands.map((c) => c.name()), 'help'].sort());
  });

  test('is split into words as a shell would, and only that', () => {
    assert.deepEqual(aliasWords(`run bin/my_app eval "MyApp.Release.migrate()"`), { words: ['run', 'bin/my_app', 'eval', 'MyApp.Release.migrate()'] });
    assert.deepEqual(aliasWords(`run bin/my_app eval 'IO.puts("$HOME")' \\$x $y`), { words: ['run', 'bin/my_app', 'eval', 'IO.puts("$HOME")', '$x', '$y'] });
    assert.deepEqual(aliasWords('-R web logs -f'), { words: ['-R', 'web', 'logs', '-f'] });
    for (const [line, why] of [
      ['logs | less', /without shell syntax \("\|"/],
      ['logs > out.txt', /without shell syntax \(">"/],
      ['run ls *.ex', /the glob \*\.ex/],
      ['logs # tail', /a comment/],
      ['', /such as "run bin\/my_app remote"/],
      ['-R web', /such as "run bin\/my_app remote"/],
      ['frobnicate --now', /"frobnicate" is none/],
    ] as const)
      assert.match((aliasWords(line) as { error: string }).error ?? 'accepted', why, line);
  });

  test('stands in for its name; the words after it follow; global options stay in front', () => {
    const aliases = { console: ['run', 'bin/my_app', 'remote'], web: ['-R', 'web', 'logs'] };
    const seen: string[][] = [];
    const of = (g: string[]) => (seen.push(g), aliases);
    const x = (...w: string[]) => expandAlias(['node', 'alcaide', ...w], of).slice(2);
    assert.deepEqual(x('console'), ['run', 'bin/my_app', 'remote']);
    assert.deepEqual(x('-d', 'staging', '-H', 'h1', 'web', '-f', '-n', '5'), ['-d', 'staging', '-H', 'h1', '-R', 'web', 'logs', '-f', '-n', '5']);
    assert.deepEqual(seen.at(-1), ['-d', 'staging', '-H', 'h1'], 'the aliases of that destination');
    assert.deepEqual(x('nothing', 'here'), ['nothing', 'here'], 'not an alias: as it was');
    const reads = seen.length;
    assert.deepEqual(x('deploy', '--detach'), ['deploy', '--detach']);
    assert.deepEqual(x('--help'), ['--help']);
    assert.equal(seen.length, reads, "alcaide's own commands never read deploy.yml's aliases");
  });
});

describe('aliases through the CLI', () => {
  const project = tempProject();
  after(project.cleanup);
  const dir = project.dir;
  const yml = (aliases: string) => writeFileSync(path.join(dir, 'deploy.yml'), `app: my_app\nserver:\n  host: 192.0.2.1\naliases:\n${aliases}`);

  test('`alcaide NAME` runs the command line it names, for the destination given', () => {
    yml('  show: config --json\n');
    writeFileSync(path.join(dir, 'deploy.staging.yml'), 'server:\n  host: 192.0.2.7\naliases:\n  show: config\n');
    const r = runCli(['show'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).server.host, '192.0.2.1');
    const s = runCli(['-d', 'staging', 'show'], { cwd: dir });
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^ {2}host: 192\.0\.2\.7$/m, "the destination's own alias: YAML");
    const u = runCli(['shwo'], { cwd: dir });
    assert.equal(u.code, 2, u.stderr);
    assert.match(u.stderr, /unknown command 'shwo'/);
  });

  test('a bad alias is exit 2 with its key path, whatever the command', () => {
    for (const [alias, why] of [
      ['  deploy: logs\n', /aliases\.deploy: expected a name that is not one of alcaide's own commands \("deploy" is\)/],
      ['  Console: logs\n', /aliases\.Console: expected an alias name of lowercase letters/],
      ['  pager: logs | less\n', /aliases\.pager: expected an alcaide command line without shell syntax/],
      ['  x: frobnicate\n', /aliases\.x: expected an alcaide command line starting with one of alcaide's commands \("frobnicate" is none/],
    ] as const) {
      yml(alias);
      const r = runCli(['config'], { cwd: dir });
      assert.equal(r.code, 2, `${alias}: ${r.stdout}`);
      assert.match(r.stderr, why);
    }
  });
});
