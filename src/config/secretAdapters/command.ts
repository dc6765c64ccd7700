// A command of the operator's own, for a vault without an adapter here: it runs by /bin/sh -c on
// this machine and prints ONE JSON object of NAME: value on stdout (strings; numbers and booleans
// are stored as text). A JSON object, not a raw value per call: values come out byte for byte,
// trailing newlines included, from one run (e.g. `sops -d --output-type json secrets.json`).
// The command line is the operator's and holds no value: values only ever come on its stdout.
import { UserError } from '../../errors';
import { asText, isObject, runJson, usageError } from './common';
import type { SecretAdapter } from './types';

export const commandArgv = (command: string): string[] => ['/bin/sh', '-c', command];

export const commandAdapter: SecretAdapter = {
  name: 'command',
  title: 'the secrets command',
  cli: '/bin/sh',
  docs: 'docs/secrets.md',
  ref: 'a key of the JSON object the command prints',
  signedOut: /(?!)/,
  signIn: '',
  prepare(req) {
    if (!req.command?.trim()) throw usageError(this, 'name the command: --command CMD (or secrets_from.command in deploy.yml)');
    const argv = commandArgv(req.command);
    return (run) => {
      const out = runJson(this, run, { argv });
      if (!isObject(out)) throw new UserError('the secrets command printed JSON that is not an object of NAME: value');
      return Object.fromEntries(
        req.refs.map(({ key, ref }) => {
          const v = Object.hasOwn(out, ref) ? out[ref] : undefined;
          if (v === undefined) throw new UserError(`the secrets command printed no ${ref}`);
          if (typeof v === 'object') throw new UserError(`the secrets command printed ${ref} as ${v === null ? 'null' : 'a list or mapping'}, expected text`);
          return [key, asText(v)];
        }),
      );
    };
  },
};
