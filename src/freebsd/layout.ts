// Where things live on the server, derived from config only (validated names and paths).

export type Slot = 'blue' | 'green';
export const SLOTS: readonly Slot[] = ['blue', 'green'];
export const otherSlot = (s: Slot): Slot => (s === 'blue' ? 'green' : 'blue');

/** build_next: the new build jail while a rebuild proves it. */
export type JailRole = Slot | 'build' | 'build_next' | 'db';

export interface LayoutInput {
  app: string;
  basePath: string;
  freebsdVersion: string;
  arch?: string;
}

export interface Layout {
  basePath: string;
  mediaDir: string;
  baseArchive: string;
  baseUrl: string;
  templateDir: string;
  jailName(role: JailRole): string;
  jailPath(role: JailRole): string;
  jailConf(role: JailRole): string;
}

export function layout({ app, basePath, freebsdVersion, arch = 'amd64' }: LayoutInput): Layout {
  const name = (role: string) => `${app}_${role}`;
  return {
    basePath,
    mediaDir: `${basePath}/media`,
    baseArchive: `${basePath}/media/${freebsdVersion}-${arch}-base.txz`,
    baseUrl: `https://download.freebsd.org/releases/${arch}/${freebsdVersion}/base.txz`,
    templateDir: `${basePath}/templates/${freebsdVersion}`,
    jailName: name,
    jailPath: (role) => `${basePath}/${name(role)}`,
    jailConf: (role) => `/etc/jail.conf.d/${name(role)}.conf`,
  };
}
