// Bitwarden Secrets Manager, through its CLI `bws` (https://bitwarden.com/help/secrets-manager-cli/):
// `bws secret get ID` prints the secret as JSON ({"id", "key", "value", "projectId", …}) and
// `bws secret list [PROJECT_ID]` a JSON array of them. The machine account's access token comes
// from BWS_ACCESS_TOKEN in the environment, never --access-token.
import { UserError } from '../../errors';
import { isObject, runJson, usageError } from './common';
import type { SecretAdapter } from './types';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const bwsGetArgv = (id: string): string[] => ['bws', 'secret', 'get', id, '--output', 'json'];
export const bwsListArgv = (project?: string): string[] => ['bws', 'secret', 'list', ...(project ? [project] : []), '--output', 'json'];

function valueOf(secret: unknown, what: string): string {
  if (!isObject(secret) || typeof secret.value !== 'string') throw new UserError(`Bitwarden Secrets Manager: ${what} has no value`);
  return secret.value;
}

export const bitwardenSecretsManager: SecretAdapter = {
  name: 'bitwarden-sm',
  title: 'Bitwarden Secrets Manager',
  cli: 'bws',
  docs: 'https://bitwarden.com/help/secrets-manager-cli/',
  from: 'the PROJECT_ID whose secrets are looked up by key',
  ref: "a secret's ID, or its key (looked up in the --from project, else among every secret the access token sees)",
  signedOut: /access token|invalid_client|unauthori[sz]ed|401/i,
  signIn: "set BWS_ACCESS_TOKEN in the environment to a machine account's access token",
  prepare(req) {
    if (req.from !== undefined && !UUID_RE.test(req.from)) throw usageError(this, `--from: expected a project ID (a UUID), got ${JSON.stringify(req.from)}`);
    const refs = req.refs;
    return (run) => {
      const values: Record<string, string> = {};
      const byKey = refs.some((r) => !UUID_RE.test(r.ref)) ? runJson(this, run, { argv: bwsListArgv(req.from) }) : [];
      if (!Array.isArray(byKey)) throw new UserError('Bitwarden Secrets Manager: `bws secret list` printed no list');
      for (const { key, ref } of refs) {
        if (UUID_RE.test(ref)) {
          values[key] = valueOf(runJson(this, run, { argv: bwsGetArgv(ref) }), `secret ${ref}`);
          continue;
        }
        const found = byKey.filter((s) => isObject(s) && s.key === ref);
        const where = req.from ? `project ${req.from}` : 'the secrets the access token sees';
        if (found.length !== 1) {
          throw new UserError(
            found.length
              ? `Bitwarden Secrets Manager: ${found.length} secrets are named ${ref} in ${where}`
              : `Bitwarden Secrets Manager: no secret named ${ref} in ${where}`,
            1,
            found.length ? `name it by its ID: ${key}=SECRET_ID` : undefined,
          );
        }
        values[key] = valueOf(found[0], `secret ${ref}`);
      }
      return values;
    };
  },
};
