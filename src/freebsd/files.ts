// Files on the server. Content always travels on stdin, never in the command line (it may
// hold secrets); writes are atomic (temp file in the same directory + mv).
import { q, sh } from './sh';

// In a subshell whose traps remove the temp file on every exit (a failed step, the SSH link
// dropping, a signal): half-written content (an env file holds secrets) never stays behind.
export const writeFileAtomic = (path: string, mode = '0644') =>
  sh`(t= && trap 'rm -f "$t"' EXIT && trap 'exit 1' HUP INT TERM PIPE && umask 077 && mkdir -p "$(dirname ${path})" && t=$(mktemp ${`${path}.XXXXXX`}) && cat > "$t" && chmod ${mode} "$t" && mv -f "$t" ${path})`;

/**
 * `put PATH MODE [NOTE]`: stdin into PATH, atomically, unless PATH already holds exactly
 * that (then nothing on the host changes); reports NOTE as a change and sets `_wrote` when
 * it wrote. For `script()`; the temp file beside PATH is removed on every exit.
 */
const PUT = [
  `put() {`,
  `  _t="$1.alcaide.$$"; trap 'rm -f "$_t"' EXIT; trap 'exit 1' HUP INT TERM PIPE`,
  `  (umask 077 && mkdir -p "$(dirname "$1")" && cat > "$_t")`,
  `  if cmp -s "$_t" "$1"; then rm -f "$_t"; else chmod "$2" "$_t" && mv -f "$_t" "$1" && _wrote=1 && if [ -n "$3" ]; then changed "$3"; fi; fi`,
  `}`,
].join('\n');

/** The definition of `put`, once per script that writes files. */
export const putFunction = () => PUT;

/** Writes stdin to `path` unless it already holds it (content on stdin: it may be a secret). */
export const putStdin = (path: string, mode: string, note = '') => sh`put ${path} ${mode} ${note}`;

/** Writes `content` (not secret: it is part of the command) to `path` unless it already holds it. */
export function putText(path: string, mode: string, content: string, note = ''): string {
  if (!content.endsWith('\n')) throw new Error(`putText ${path}: content must end with a newline`);
  let end = 'ALCAIDE_EOF';
  while (content.split('\n').includes(end)) end += '_';
  return `${sh`put ${path} ${mode} ${note}`} <<'${end}'\n${content}${end}`;
}

/** Prints the file, or exits 3 when it does not exist. */
export const readFile = (path: string) => sh`if [ -f ${path} ]; then cat ${path}; else exit 3; fi`;

/** Exit 0 when the file exists with exactly this sha256. */
export const fileHasSha256 = (path: string, sha256: string) => sh`[ -f ${path} ] && [ "$(sha256 -q ${path})" = ${sha256} ]`;

/** "SIZE SHA256" of a file, or nothing when it does not exist (upload checks). */
export const sizeAndSha256 = (path: string) => sh`if [ -f ${path} ]; then printf '%s %s\\n' "$(stat -f %z ${path})" "$(sha256 -q ${path})"; fi`;

export const appendStdin = (path: string) => sh`mkdir -p "$(dirname ${path})" && cat >> ${path}`;
export const installFile = (tmp: string, dest: string, mode: string) => sh`chmod ${mode} ${tmp} && mv -f ${tmp} ${dest}`;
export const removeFile = (path: string) => sh`rm -f ${path}`;

/** The primitives the upload's two commands are made of (the same on any POSIX sh). */
export interface UploadPrimitives {
  sizeAndSha256(path: string): string;
  append(path: string): string;
  install(tmp: string, dest: string, mode: string): string;
  remove(path: string): string;
  /** the file's bytes from `offset` on, to stdout */
  readFrom(path: string, offset: number): string;
}

/**
 * The upload's check and append-verify-install commands from a host's primitives. Their shape is
 * src/ssh/upload.ts's UploadCommands, met structurally: builders import nothing from the SSH layer.
 */
export function uploadCommands(p: UploadPrimitives) {
  return {
    check: (dest: string, part: string) => `${p.sizeAndSha256(dest)}; echo --; ${p.sizeAndSha256(part)}`,
    appendVerifyInstall(part: string, dest: string, mode: string, expected: { size: number; sha: string }, fresh: boolean) {
      if (!/^[0-9a-f]{64}$/.test(expected.sha) || !Number.isSafeInteger(expected.size))
        throw new Error(`not a size and sha256: ${expected.size} ${expected.sha}`);
      return (
        `${fresh ? `${p.remove(part)} && ` : ''}${p.append(part)} && got=$(${p.sizeAndSha256(part)}) && ` +
        `if [ "$got" = ${q(`${expected.size} ${expected.sha}`)} ]; then ${p.install(part, dest, mode)}; fi && echo "$got"`
      );
    },
    readFrom: (path: string, offset: number) => {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new Error(`not an offset: ${offset}`);
      return p.readFrom(path, offset);
    },
  };
}

/** The upload commands for a FreeBSD host. */
export const freebsdUploadCommands = uploadCommands({
  sizeAndSha256,
  append: appendStdin,
  install: installFile,
  remove: removeFile,
  // tail(1): "-c +N" starts at the Nth byte, counting from 1
  readFrom: (path, offset) => sh`tail -c +${offset + 1} ${path}`,
});

export const fileExists = (path: string) => sh`test -f ${path}`;
export const pathExists = (path: string) => sh`test -e ${path}`;
export const dirsExist = (paths: string[]) => paths.map((p) => sh`test -d ${p}`).join(' && ');
export const makeDirs = (paths: string[]) => sh`mkdir -p ${paths}`;
export const moveFile = (from: string, to: string) => sh`mv -f ${from} ${to}`;
/** Copies `file` to `backup` once: the first original is the one kept. */
export const backupOnce = (file: string, backup: string) => sh`[ -f ${backup} ] || cp -p ${file} ${backup}`;
/**
 * The host's wall clock ("YYYY-MM-DD HH:MM:SS"), the file's size, its content up to that size,
 * then (follow) every byte appended after it: the reader knows where the dump ends without a marker.
 */
export const readLogWithClock = (path: string, follow: boolean) =>
  sh`date '+%Y-%m-%d %H:%M:%S' && size=$(stat -f %z ${path}) && echo "$size" && head -c "$size" ${path}` +
  (follow ? sh` && exec tail -c +$((size + 1)) -F ${path}` : '');
export const tailFile = (path: string, lines: number, follow = false) => (follow ? sh`tail -n ${lines} -F ${path}` : sh`tail -n ${lines} ${path}`);
/** Removes a tree extracted from base.txz (which holds schg files), if it exists. */
export const removeTree = (path: string) => sh`if [ -e ${path} ]; then chflags -R noschg ${path} && rm -rf ${path}; fi`;
