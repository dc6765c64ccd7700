// LastPass, through its CLI `lpass` (lpass(1): https://lastpass.github.io/lastpass-cli/lpass.1.html):
// `lpass status` prints "Logged in as EMAIL." (exit 0) or "Not logged in." (exit 1); `lpass show
// --json NAME…` prints a JSON array of the entries ({"id", "name", "fullname", "username",
// "password", "note", …}), fullname being FOLDER/NAME. The value is the entry's password.
import { UserError } from '../../errors';
import { isObject, runJson, utf8 } from './common';
import type { SecretAdapter } from './types';

export const lpassStatusArgv = (): string[] => ['lpass', 'status', '--color=never'];
export const lpassShowArgv = (names: string[]): string[] => ['lpass', 'show', '--json', ...names];

/** The entry a REF names: [FOLDER/]NAME or an ID, under the --from folder. */
export const lpassName = (ref: string, from?: string): string => (from ? `${from.replace(/\/+$/, '')}/${ref}` : ref);

export const lastPass: SecretAdapter = {
  name: 'lastpass',
  title: 'LastPass',
  cli: 'lpass',
  docs: 'https://github.com/lastpass/lastpass-cli#installing',
  account: 'the email lpass must be logged in as (checked, not used to log in)',
  from: 'the FOLDER the entries are in',
  ref: "an entry's [FOLDER/]NAME or ID; the value is its password",
  signedOut: /not logged in|could not find decryption key|lpass login/i,
  signIn: 'lpass login EMAIL',
  prepare(req) {
    const wanted = req.refs.map((r) => ({ ...r, name: lpassName(r.ref, req.from) }));
    const names = [...new Set(wanted.map((w) => w.name))];
    return (run) => {
      // "Not logged in." comes on stdout, with exit 1
      const out = run({ argv: lpassStatusArgv() });
      const status = utf8(out.stdout, 'what `lpass status` printed').trim();
      if (out.status !== 0) throw new UserError(`LastPass: lpass is not logged in (\`lpass status\`: ${status || out.stderr.trim()})`, 1, this.signIn);
      if (req.account && status !== `Logged in as ${req.account}.`) {
        throw new UserError(`LastPass: lpass says "${status}", expected to be logged in as ${req.account}`, 1, `lpass logout, then lpass login ${req.account}`);
      }
      const entries = runJson(this, run, { argv: lpassShowArgv(names) });
      if (!Array.isArray(entries)) throw new UserError('LastPass: `lpass show --json` printed no list');
      return Object.fromEntries(
        wanted.map(({ key, name }) => {
          const found = entries.filter((e) => isObject(e) && (e.fullname === name || e.id === name));
          if (found.length !== 1) {
            throw new UserError(
              found.length ? `LastPass: ${found.length} entries are named ${name}` : `LastPass: no entry ${name}`,
              1,
              found.length ? 'name it by its ID' : undefined,
            );
          }
          const password = (found[0] as Record<string, unknown>).password;
          if (typeof password !== 'string') throw new UserError(`LastPass: entry ${name} has no password`);
          return [key, password];
        }),
      );
    };
  },
};
