import { uploadCommands } from '../../src/freebsd/files';

/** The upload's commands for GNU userland (this machine, its sshd); the FreeBSD ones run on the simulated host. */
export const linuxUpload = uploadCommands({
  sizeAndSha256: (p) => `if [ -f '${p}' ]; then printf '%s %s\\n' "$(stat -c %s '${p}')" "$(sha256sum '${p}' | cut -d' ' -f1)"; fi`,
  append: (p) => `mkdir -p "$(dirname '${p}')" && cat >> '${p}'`,
  install: (tmp, dest, mode) => `chmod ${mode} '${tmp}' && mv -f '${tmp}' '${dest}'`,
  remove: (p) => `rm -f '${p}'`,
  readFrom: (p, offset) => `tail -c +${offset + 1} '${p}'`,
});
