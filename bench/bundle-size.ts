import { build } from 'esbuild';

/** Bundles a function as the CDK does (esbuild, minified, ESM, Node 24) and returns its size. */
export async function bundleSize(entry: string): Promise<number> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    treeShaking: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    write: false,
    // As the CDK's NodejsFunction does for Node.js 18+: the runtime provides AWS SDK v3.
    external: ['@aws-sdk/*'],
    metafile: true,
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  });
  return result.outputFiles.reduce((total, file) => total + file.contents.length, 0);
}
