// The browser side of OTP Lab's JupyterLab: a JupyterLab 4 shell made of the plugin packages listed in
// package.json's "jupyterlab" field. build.mjs turns that list into build/plugins.js (static imports, so the
// bundler sees every package) and build/style.js (each package's stylesheet); this file only starts the app.
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

// Chunks and assets load from the server's static URL, which is only known at run time (it carries the base
// URL), so the public path is set before anything else is imported lazily.
// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

async function main() {
  const [{ plugins, mimeExtensions }] = await Promise.all([import('./build/plugins.js'), import('./build/style.js')]);
  const lab = new JupyterLab({ mimeExtensions });
  lab.registerPlugins(plugins);
  // `--expose-app-in-browser` (server.py) sets this page option, as `jupyter lab --expose-app-in-browser`
  // does: UI tests drive the app through window.jupyterapp (its commands, shell and service manager).
  if (PageConfig.getOption('exposeAppInBrowser').toLowerCase() === 'true') {
    window.jupyterapp = lab;
  }
  await lab.start();
  await lab.restored;
}

window.addEventListener('load', () => {
  main().catch(err => {
    // A blank page says nothing; the console and the page say what failed and how to recover.
    console.error('OTP Lab: JupyterLab failed to start', err);
    document.body.textContent =
      'JupyterLab failed to start: ' + err + '. Rebuild the app with `npm start` (it rebuilds lab/build when ' +
      'its sources change) and look at the browser console for the plugin that failed.';
  });
});
