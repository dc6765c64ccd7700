// Caddy on the host: a main Caddyfile that imports one site file per app, so apps and the
// operator's own sites live side by side. Rendering is pure; activities write the files.

export const CADDY_DIR = '/usr/local/etc/caddy';
export const CADDYFILE = `${CADDY_DIR}/Caddyfile`;
export const SITES_DIR = `${CADDY_DIR}/sites`;
export const IMPORT_LINE = `import ${SITES_DIR}/*.caddy`;

export const siteFile = (app: string) => `${SITES_DIR}/${app}.caddy`;

/** The main Caddyfile when none exists yet. */
export function renderMainCaddyfile(): string {
  return `# Caddy on this host. Apps deployed by alcaide have their site in ${SITES_DIR}/.\n${IMPORT_LINE}\n`;
}

/** The main Caddyfile with the import line added if it is missing (the operator's content kept). */
export function withImportLine(existing: string): string {
  if (existing.split('\n').some((l) => l.trim() === IMPORT_LINE)) return existing;
  if (!existing.trim()) return renderMainCaddyfile();
  return `${existing.replace(/\n*$/, '\n')}\n# added by alcaide\n${IMPORT_LINE}\n`;
}

export interface SiteSpec {
  app: string;
  /** with a domain Caddy gets a certificate automatically; without, plain HTTP on :80 */
  domain?: string;
  /** the active slot's address, or none before the first deploy */
  upstream?: string;
}

export function siteAddress(domain?: string): string {
  return domain ?? ':80';
}

export function renderSite(s: SiteSpec): string {
  const body = s.upstream
    ? [`reverse_proxy ${s.upstream} {`, '\tlb_try_duration 5s', '\tlb_try_interval 100ms', '}']
    : [`respond "${s.app}: no release deployed yet" 503`];
  return `# Managed by alcaide for ${s.app}; rewritten on every deploy.\n${siteAddress(s.domain)} {\n${body.map((l) => `\t${l}`).join('\n')}\n}\n`;
}
