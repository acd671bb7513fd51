// The one rspack set-up of OTP Lab's front ends: the JupyterLab app (build.mjs, lab/build) and the static site's
// JupyterLite app with the browser kernel's worker (build-site.mjs, site/build). Both bundle the same packages from
// lab/node_modules; `alias` and `fallback` add what only the site needs (the worker's Node shims).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, 'package.json'));

export function appConfig({ entry, output, alias = {}, fallback = {}, minimize = false, rules = [], plugins = [] }) {
  const { rspack } = require('@rspack/core');
  const svgToDataUri = require('mini-svg-data-uri');
  return {
    context: HERE,
    entry,
    output: { path: output, filename: 'bundle.js', chunkFilename: '[name].[contenthash].js', publicPath: 'auto' },
    mode: 'production',
    devtool: false,
    bail: true,
    // Minifying 20 MB costs more build time than it saves for a server on the same machine as its browser.
    optimization: { minimize },
    performance: { hints: false },
    infrastructureLogging: { level: 'warn' },
    resolve: { alias, fallback: { path: require.resolve('path-browserify'), ...fallback } },
    // A dependency reads __dirname for Node only; in the browser "/" (the mock) is right, said here so that
    // the bundler does not warn on every build.
    node: { __dirname: 'mock', __filename: 'mock' },
    module: {
      rules: [
        ...rules,
        // Some ESM packages (@jupyter/web-components) import without file extensions, as older bundlers allowed.
        { test: /\.m?js$/, resolve: { fullySpecified: false } },
        { test: /\.raw\.css$/, type: 'asset/source' },
        { test: /(?<!\.raw)\.css$/, use: [require.resolve('style-loader'), require.resolve('css-loader')], type: 'javascript/auto' },
        { test: /\.html$/, type: 'asset/resource' },
        { test: /\.md$/, type: 'asset/source' },
        { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
        { test: /\.js\.map$/, type: 'asset/resource' },
        { test: /\.(woff2?|ttf)(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, type: 'asset/resource' },
        // Icons referenced from CSS become data URIs; icons imported by JavaScript are SVG text that
        // @jupyterlab/ui-components inlines into the DOM.
        {
          test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
          issuer: /\.css$/,
          type: 'asset/inline',
          generator: { dataUrl: { content: c => svgToDataUri(c.content ?? c.toString()), mimetype: 'image/svg+xml' } },
        },
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, type: 'asset/source' },
      ],
    },
    plugins: [
      ...plugins,
      // Some packages read process.cwd() or process.env (the path polyfill among them).
      new rspack.DefinePlugin({ process: { cwd: () => '/', env: {} }, 'process.env.NODE_ENV': JSON.stringify('production') }),
    ],
  };
}

export async function runRspack(config) {
  const { rspack } = require('@rspack/core');
  const stats = await new Promise((resolve, reject) =>
    rspack(config, (err, s) => (err ? reject(err) : resolve(s))),
  );
  if (stats.hasErrors()) {
    throw new Error(`rspack failed:\n${stats.toString({ all: false, errors: true, errorDetails: true })}`);
  }
  const warnings = stats.toJson({ all: false, warnings: true }).warnings ?? [];
  for (const w of warnings) console.warn(`otp-lab lab build: warning: ${w.message.replace(/\s+/g, ' ').trim()}`);
}
