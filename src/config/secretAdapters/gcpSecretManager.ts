// Google Cloud Secret Manager, through `gcloud secrets versions access`
// (https://cloud.google.com/sdk/gcloud/reference/secrets/versions/access). With --format=json it
// prints the version ({"name", "payload": {"data": BASE64, "dataCrc32c"}}): the value's bytes
// exactly, where the plain output is meant for a terminal. gcloud's own login (gcloud auth login)
// or its service account credentials sign it in.
import { UserError } from '../../errors';
import { isObject, runJson, usageError, utf8 } from './common';
import type { SecretAdapter } from './types';

const NAME_RE = /^[A-Za-z0-9_-]{1,255}$/;
const VERSION_RE = /^(latest|[1-9][0-9]*)$/;

export function gcloudAccessArgv(name: string, version: string, project?: string, account?: string): string[] {
  return [
    'gcloud',
    'secrets',
    'versions',
    'access',
    version,
    `--secret=${name}`,
    ...(project ? [`--project=${project}`] : []),
    ...(account ? [`--account=${account}`] : []),
    '--format=json',
  ];
}

export const gcpSecretManager: SecretAdapter = {
  name: 'gcp',
  title: 'Google Cloud Secret Manager',
  cli: 'gcloud',
  docs: 'https://cloud.google.com/sdk/docs/install',
  account: 'the gcloud account (an email) to use instead of the active one',
  from: "the PROJECT the secrets are in (else gcloud's configured project)",
  ref: 'NAME (its latest version) or NAME/VERSION',
  signedOut: /do not currently have an active account|gcloud auth login|Reauthentication failed|invalid_grant|credentials/i,
  signIn: 'sign in: gcloud auth login (or gcloud config set account ACCOUNT)',
  prepare(req) {
    const reads = req.refs.map(({ key, ref }) => {
      const [name = '', version = 'latest', ...rest] = ref.split('/');
      if (!NAME_RE.test(name) || !VERSION_RE.test(version) || rest.length) {
        throw usageError(this, `${key}=${ref}: expected a secret NAME (letters, digits, "_", "-") or NAME/VERSION (a number or latest)`);
      }
      return { key, ref, argv: gcloudAccessArgv(name, version, req.from, req.account) };
    });
    return (run) =>
      Object.fromEntries(
        reads.map(({ key, ref, argv }) => {
          const out = runJson(this, run, { argv });
          const data = isObject(out) && isObject(out.payload) ? out.payload.data : undefined;
          if (typeof data !== 'string') throw new UserError(`Google Cloud Secret Manager: ${ref}: \`${argv.join(' ')}\` printed no payload`);
          return [key, utf8(Buffer.from(data, 'base64'), `secret ${ref}`)];
        }),
      );
  },
};
