// The base template every jail is cloned from: base.txz of the configured release,
// fetched once, verified against the release MANIFEST, extracted once.
import type { Layout } from './layout';
import { removeTree } from './files';
import { sh } from './sh';

export const TEMPLATE_MARKER = '.alcaide-template';

/** Exit 0 when the template is fully extracted (the marker is written last). */
export const templateReady = (l: Layout) => sh`[ -f ${`${l.templateDir}/${TEMPLATE_MARKER}`} ]`;

/** Downloads base.txz and its MANIFEST, checks the sha256, keeps the archive. */
export function fetchBase(l: Layout): string {
  const manifestUrl = l.baseUrl.replace(/base\.txz$/, 'MANIFEST');
  const part = `${l.baseArchive}.part`;
  const manifest = `${l.baseArchive}.MANIFEST`;
  return [
    sh`mkdir -p ${l.mediaDir}`,
    sh`fetch -q -o ${manifest} ${manifestUrl}`,
    sh`fetch -q -o ${part} ${l.baseUrl}`,
    sh`want=$(awk '$1 == "base.txz" { print $2 }' ${manifest})`,
    sh`got=$(sha256 -q ${part})`,
    `if [ -z "$want" ] || [ "$want" != "$got" ]; then echo "base.txz checksum mismatch (MANIFEST: $want, file: $got)" >&2; rm -f ${sh`${part}`}; exit 1; fi`,
    sh`mv -f ${part} ${l.baseArchive}`,
  ].join(' && ');
}

export const baseFetched = (l: Layout) => sh`[ -f ${l.baseArchive} ]`;

/** Extracts into a temp dir, marks it complete, renames it into place. */
export function extractBase(l: Layout, release: string): string {
  const tmp = `${l.templateDir}.tmp`;
  return [
    removeTree(tmp),
    sh`mkdir -p ${tmp}`,
    sh`tar -xf ${l.baseArchive} -C ${tmp}`,
    sh`echo ${release} > ${`${tmp}/${TEMPLATE_MARKER}`}`,
    sh`mv ${tmp} ${l.templateDir}`,
  ].join(' && ');
}
