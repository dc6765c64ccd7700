// The jail network: a cloned loopback (lo1) carrying the jail addresses, and pf NAT so
// jails reach the outside (pkg, hex) through the host's default interface.
import { sh } from './sh';

export const interfaceExists = (iface: string) => sh`ifconfig ${iface} >/dev/null 2>&1`;
export const interfaceCreate = (iface: string) => sh`ifconfig ${iface} create`;

/** Prints the interface of the default route ("vtnet0"). */
export const defaultInterface = () => `route -n get default | awk '/interface:/ { print $2 }'`;

export const PF_BEGIN = '# BEGIN alcaide (managed; do not edit between these lines)';
export const PF_END = '# END alcaide';

/** The NAT rule for the jail subnet, in a marked block. */
/** NAT for the jail subnets of every app on the host (one line each). */
export function renderPfBlock(extIf: string, subnets: string[]): string {
  return [PF_BEGIN, ...subnets.map((s) => `nat on ${extIf} from ${s} to any -> (${extIf})`), PF_END].join('\n');
}

// pf enforces rule order (options, normalization, queueing, translation, filtering): a NAT
// block must come before the first filter rule.
const FILTER_RULE = /^\s*(pass|block|match|anchor|antispoof)\b/;

/** pf.conf with the marked block replaced, or inserted before the first filter rule; `pass all` if the file was empty. */
export function withPfBlock(existing: string, block: string): string {
  const lines = existing.split('\n');
  const begin = lines.indexOf(PF_BEGIN);
  const end = lines.indexOf(PF_END);
  if (begin !== -1 && end > begin) {
    lines.splice(begin, end - begin + 1, ...block.split('\n'));
    return lines.join('\n');
  }
  if (!existing.trim()) return `${block}\npass all\n`;
  const at = lines.findIndex((l) => FILTER_RULE.test(l));
  if (at === -1) return `${existing.replace(/\n*$/, '\n')}${block}\n`;
  lines.splice(at, 0, ...block.split('\n'));
  return lines.join('\n');
}

export const pfCheck = (file: string) => sh`pfctl -nf ${file}`;
export const pfLoad = (file: string) => sh`pfctl -f ${file}`;
/** Exit 0 when pf is enabled. */
export const pfEnabled = () => `pfctl -s info 2>/dev/null | grep -q '^Status: Enabled'`;
export const pfEnable = () => 'pfctl -e';
