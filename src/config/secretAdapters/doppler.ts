// Doppler, through its CLI `doppler secrets get NAME… --json` (https://docs.doppler.com/docs/cli):
// it prints {"NAME": {"computed": VALUE, "note": …}}, the computed value being what the app would
// get (references resolved). The project and config come from --from PROJECT/CONFIG, else from
// the directory's `doppler setup` or a service token; a token (DOPPLER_TOKEN) stays in the
// environment, never --token.
import { UserError } from '../../errors';
import { isObject, runJson, usageError } from './common';
import type { SecretAdapter } from './types';

export function dopplerGetArgv(names: string[], project?: string, config?: string): string[] {
  return ['doppler', 'secrets', 'get', ...names, '--json', '--no-check-version', ...(project && config ? ['--project', project, '--config', config] : [])];
}

export const doppler: SecretAdapter = {
  name: 'doppler',
  title: 'Doppler',
  cli: 'doppler',
  docs: 'https://docs.doppler.com/docs/install-cli',
  from: "PROJECT/CONFIG (else the directory's `doppler setup`, or a service token's)",
  ref: 'the Doppler secret NAME',
  signedOut: /must provide a token|Invalid Auth token|Unable to authenticate|doppler login|Unauthorized/i,
  signIn: 'sign in: doppler login (or a service token in DOPPLER_TOKEN)',
  prepare(req) {
    let project: string | undefined;
    let config: string | undefined;
    if (req.from !== undefined) {
      [project, config] = req.from.split('/');
      if (!project || !config || req.from.split('/').length !== 2) throw usageError(this, `--from: expected PROJECT/CONFIG, got ${JSON.stringify(req.from)}`);
    }
    const names = [...new Set(req.refs.map((r) => r.ref))];
    const argv = dopplerGetArgv(names, project, config);
    return (run) => {
      const out = runJson(this, run, { argv });
      if (!isObject(out)) throw new UserError('Doppler: `doppler secrets get --json` printed no mapping of secrets');
      return Object.fromEntries(
        req.refs.map(({ key, ref }) => {
          const secret = Object.hasOwn(out, ref) ? out[ref] : undefined;
          if (!isObject(secret) || typeof secret.computed !== 'string') throw new UserError(`Doppler: no secret ${ref}${req.from ? ` in ${req.from}` : ''}`);
          return [key, secret.computed];
        }),
      );
    };
  },
};
