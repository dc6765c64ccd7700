// The release build, run in the build jail: deps/ and _build/ stay between builds (warm
// builds), assets are built when the project has the Phoenix alias, ERTS is required; all
// mix tasks run in one `mix do`.
import { sh } from './sh';
import { BUILD_HOME, releaseArtifact, sourceTarball } from './layout';

/** What the build jail runs a build with (pkg names). */
export const BUILD_PACKAGES = ['elixir', 'erlang', 'node22', 'npm-node22', 'git'];
/** exit status of the build script when the release cannot run here (no ERTS, no bin/NAME): its last stderr line says why */
export const RELEASE_UNUSABLE_EXIT = 65;

/**
 * Sets $release to the name `mix release` gets. A project without `releases:` in mix.exs
 * (phx.new, phx.gen.release) has only the default release, named after the app, and Mix
 * refuses to build it by name ("Unknown release :shop. The available releases are: []"):
 * it is built by `mix release` without a name.
 */
export const chooseRelease = (releaseName: string) => sh`if grep -Eq '(^|[,[])[[:space:]]*releases:' mix.exs; then release=${releaseName}; else release=''; fi`;

export function buildScript(app: string, releaseName: string, version: string): string {
  const work = `${BUILD_HOME}/build/${app}`;
  const out = `${BUILD_HOME}/releases/${version}`;
  const artifact = releaseArtifact(app, version);
  return [
    'set -e',
    'export MIX_ENV=prod LANG=C.UTF-8 HOME=/root',
    sh`if [ -f ${artifact} ]; then echo "cached"; exit 0; fi`,
    sh`mkdir -p ${work} ${`${BUILD_HOME}/artifacts`}`,
    sh`cd ${work}`,
    `find . -mindepth 1 -maxdepth 1 ! -name deps ! -name _build -exec rm -rf {} +`,
    sh`tar -xf ${sourceTarball(version)}`,
    'if [ -f mix.lock ]; then mix local.hex --force --if-missing; mix local.rebar --force --if-missing; fi',
    sh`rm -rf ${out}`,
    // One VM for every mix task (each `mix` start costs about a second); Phoenix's
    // `"assets.deploy": [...]` alias in mix.exs says whether there are assets to build.
    `if grep -Eq '"assets\\.deploy"[[:space:]]*:' mix.exs; then assets='+ assets.deploy'; else assets=''; fi`,
    chooseRelease(releaseName),
    sh`mix do deps.get --only prod + compile $assets + release $release --overwrite --path ${out}`,
    sh`if ! ls -d ${out}/erts-* >/dev/null 2>&1; then echo "the release does not include ERTS: set include_erts: true for the release in mix.exs" >&2; exit ${RELEASE_UNUSABLE_EXIT}; fi`,
    sh`if [ ! -x ${`${out}/bin/${releaseName}`} ]; then echo "the release has no bin/"${releaseName}": release.name in deploy.yml must name the mix release (the default release is named after the mix app)" >&2; exit ${RELEASE_UNUSABLE_EXIT}; fi`,
    sh`tar -czf ${`${artifact}.tmp`} -C ${out} .`,
    sh`mv ${`${artifact}.tmp`} ${artifact}`,
    sh`rm -rf ${out}`,
    'echo built',
  ].join('\n');
}
