// What `alcaide init` reads from a mix project to write a deploy.yml that deploys it as
// generated (mix phx.new + mix phx.gen.release): the app, its releases, the Release module,
// whether it wants a PostgreSQL database and a SECRET_KEY_BASE.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface MixProject {
  app: string;
  /** names under `releases:` in mix.exs; empty: only the default release, named after the app */
  releases: string[];
  /** `Shop.Release` when lib/APP/release.ex defines migrate/0 (phx.gen.release) */
  releaseModule?: string;
  /** config/runtime.exs reads DATABASE_URL (an Ecto repo: phx.new's default) */
  database: boolean;
  /** config/runtime.exs requires SECRET_KEY_BASE (every phx.new app) */
  secretKeyBase: boolean;
  phoenix: boolean;
}

/** The keys of the keyword list after `releases:` in mix.exs (the release names), top level only. */
export function releaseNames(mix: string): string[] {
  // as the build decides (src/freebsd/build.ts): `releases:` at a line's start or after "," or "["
  const at = /(?:^|[,[])\s*releases:\s*\[/m.exec(mix);
  if (!at) return [];
  const names: string[] = [];
  let depth = 1;
  let expectKey = true;
  for (let i = at.index + at[0].length; i < mix.length && depth > 0; i++) {
    const c = mix[i]!;
    if (c === '[' || c === '{' || c === '(') depth++;
    else if (c === ']' || c === '}' || c === ')') depth--;
    else if (c === '#') i = mix.indexOf('\n', i) === -1 ? mix.length : mix.indexOf('\n', i);
    else if (depth === 1 && c === ',') expectKey = true;
    else if (depth === 1 && expectKey && /[a-z]/.test(c)) {
      const m = /^([a-z][a-z0-9_]*):\s/.exec(mix.slice(i));
      if (m) names.push(m[1]!);
      expectKey = false;
    }
  }
  return names;
}

const read = (dir: string, file: string) => {
  const p = path.join(dir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
};

/** The mix project in `dir`, or undefined when there is no mix.exs with `app: :name`. */
export function readMixProject(dir: string): MixProject | undefined {
  const mix = read(dir, 'mix.exs');
  const app = /\bapp:\s*:([a-z][a-z0-9_]*)/.exec(mix)?.[1];
  if (!app) return undefined;
  const releases = releaseNames(mix);
  const release = read(dir, `lib/${app}/release.ex`);
  const releaseModule = /\bdef migrate\b/.test(release) ? /defmodule\s+([A-Z][\w.]*)\s+do/.exec(release)?.[1] : undefined;
  const runtime = read(dir, 'config/runtime.exs');
  return {
    app,
    releases,
    releaseModule,
    database: /System\.get_env\("DATABASE_URL"\)/.test(runtime),
    secretKeyBase: /System\.get_env\("SECRET_KEY_BASE"\)/.test(runtime),
    phoenix: /:phoenix\b/.test(mix) || /Endpoint/.test(runtime),
  };
}
