#!/usr/bin/env node
// The `recurrent` command. npm runs bins with the machine's node, which may be older than the
// Node.js 24 the CLI is written for (it runs TypeScript directly): on an older node this
// launcher starts cli/recurrent.ts with the project's pinned Node.js instead.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MIN_MAJOR = 24;
const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.join(here, 'recurrent.ts');

if (Number(process.versions.node.split('.')[0]) >= MIN_MAJOR) {
  await import(pathToFileURL(entry).href);
} else {
  const node = pinnedNode();
  if (node === undefined) {
    console.error(
      `recurrent needs Node.js ${MIN_MAJOR} or newer (this is ${process.version}); npm install brings the project's own`,
    );
    process.exit(1);
  }
  const child = spawn(node, [entry, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal; the launcher waits for its exit code.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

/** The `node` dev dependency's binary, next to this package or wherever npm put it. */
function pinnedNode() {
  const candidates = [path.join(here, '..', 'node_modules', 'node', 'bin', 'node')];
  try {
    const nodePackage = createRequire(import.meta.url).resolve('node/package.json');
    candidates.push(path.join(path.dirname(nodePackage), 'bin', 'node'));
  } catch {
    // Not installed: only the first candidate is left to try.
  }
  return candidates.find((candidate) => existsSync(candidate));
}
