// pkg(8) on the host or, with -j, inside a jail (the host's pkg attaches to the jail).
import { sh } from './sh';

const jailFlag = (jail?: string) => (jail ? sh`-j ${jail} ` : '');

/** Exit 0 when every package is installed. */
export const pkgAllInstalled = (pkgs: string[], jail?: string) => pkgs.map((p) => `pkg ${jailFlag(jail)}info -e ${sh`${p}`}`).join(' && ');

export const pkgInstall = (pkgs: string[], jail?: string) => `env ASSUME_ALWAYS_YES=yes pkg ${jailFlag(jail)}install -y ${sh`${pkgs}`}`;

/** On a host where pkg is only the bootstrapper. */
export const pkgBootstrap = () => 'env ASSUME_ALWAYS_YES=yes pkg bootstrap -y';
export const pkgActivated = () => 'pkg -N >/dev/null 2>&1';
