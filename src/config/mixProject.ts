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

const read = (dir: string, file: string) => {
  const p = path.join(dir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
};

/** The mix project in `dir`, or undefined when there is no mix.exs with `app: :name`. */
export function readMixProject(dir: string): MixProject | undefined {
  const mix = read(dir, 'mix.exs');
  const app = /\bapp:\s*:([a-z][a-z0-9_]*)/.exec(mix)?.[1];
  if (!app) return undefined;
  const releasesBlock = /^\s*releases:\s*\[([\s\S]*?)\n\s*\]/m.exec(mix)?.[1] ?? '';
  const releases = [...releasesBlock.matchAll(/^\s*([a-z][a-z0-9_]*):\s*\[/gm)].map((m) => m[1]!);
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
