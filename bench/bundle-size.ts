import { build, type Metafile } from 'esbuild';

/** A function's deployment bundle: `index.mjs` and its linked `index.mjs.map`. */
export interface FunctionBundle {
  code: Uint8Array;
  sourceMap: Uint8Array;
  metafile: Metafile;
}

/** Bundles a function as the CDK does (esbuild, minified, ESM, Node 24, SDK left out). */
export async function bundleFunction(entry: string): Promise<FunctionBundle> {
  // The esbuild arguments the CDK's NodejsFunction derives from cdk/function.ts's bundling.
  const result = await build({
    entryPoints: [entry],
    outfile: 'index.mjs',
    bundle: true,
    minify: true,
    treeShaking: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    mainFields: ['module', 'main'],
    sourcemap: true,
    sourcesContent: false,
    // As the CDK's NodejsFunction does for Node.js 18+: the runtime provides AWS SDK v3.
    external: ['@aws-sdk/*'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'));
  const sourceMap = result.outputFiles.find((file) => file.path.endsWith('.mjs.map'));
  if (!code || !sourceMap) throw new Error(`esbuild gave no index.mjs and map for ${entry}`);
  return { code: code.contents, sourceMap: sourceMap.contents, metafile: result.metafile };
}

/** Bundles a function as the CDK does and returns the size of its code, source map aside. */
export async function bundleSize(entry: string): Promise<number> {
  return (await bundleFunction(entry)).code.length;
}
