import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RenderError } from './crm-registration.ts';

/** The host the source projects and packages are written with; rendering replaces every use of it. */
export const PLACEHOLDER_HOST = 'referloop.example.com';

/** An https URL without query or fragment, its trailing slashes dropped. */
export function httpsUrl(value: string, what: string, vendor: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RenderError(`${what} ${JSON.stringify(value)} is not a URL.`);
  }
  if (url.protocol !== 'https:') throw new RenderError(`${what} ${value} must be an https:// URL: ${vendor} takes no other.`);
  if (url.search || url.hash) throw new RenderError(`${what} ${value} must have no query or fragment.`);
  return url.href.replace(/\/+$/, '');
}

/** Referloop's public address as the CRM's servers call it: https, not this machine, not the placeholder. */
export function publicBaseUrl(value: string, vendor: string): string {
  const url = httpsUrl(value, 'the base URL (PUBLIC_BASE_URL)', vendor);
  const host = new URL(url).hostname;
  if (['localhost', '127.0.0.1', '[::1]'].includes(host)) {
    throw new RenderError(
      `the base URL ${url} is this machine: ${vendor} calls it from its own servers, so give the public HTTPS address.`,
    );
  }
  if (host === PLACEHOLDER_HOST) throw new RenderError(`${url} is the placeholder: give Referloop's public address.`);
  return url;
}

/**
 * Copies the source project at `source` (a path from the repository root, found from the source
 * tree and from dist/) into the new or empty `outDir`, lets `edit` render it, and checks that no
 * placeholder is left. Whatever fails, nothing is left behind.
 */
export function renderFromSource(args: {
  source: string;
  /** A file the source folder has, to know it when found. */
  marker: string;
  outDir: string;
  skip?: (from: string) => boolean;
  edit: (outDir: string, files: string[]) => void;
}): { outDir: string; files: string[] } {
  const outDir = path.resolve(args.outDir);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new RenderError(`${outDir} is not empty: render into a new folder.`);
  const source = ['../', '../../']
    .map((up) => fileURLToPath(new URL(`${up}${args.source}`, import.meta.url)))
    .find((candidate) => existsSync(path.join(candidate, args.marker)));
  if (!source) throw new Error(`rendering needs ${args.source}`);

  cpSync(source, outDir, { recursive: true, filter: (from) => !args.skip?.(from) });
  try {
    args.edit(outDir, filesUnder(outDir));
    const files = filesUnder(outDir);
    const left = files.filter((file) => readFileSync(path.join(outDir, file), 'utf8').includes(PLACEHOLDER_HOST));
    if (left.length)
      throw new RenderError(
        `the placeholder ${PLACEHOLDER_HOST} is still in ${left.join(', ')}: the renderer does not know that use of it.`,
      );
    return { outDir, files };
  } catch (error) {
    rmSync(outDir, { recursive: true, force: true });
    throw error;
  }
}

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(root, full) : [path.relative(root, full)];
  });
}
