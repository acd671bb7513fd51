// The static site's JupyterLite app (`npm run build:site`): the same JupyterLab plugins as OTP Lab's JupyterLab
// (lab/package.json's "jupyterlab" lists), plus JupyterLite's (in-browser contents, settings, kernels: its
// "jupyterlite" list) and the otp-lab browser kernel (kernel.js). build-site.mjs generates site/build/plugins.js
// and style.js from those lists; this file starts the app as JupyterLite's own app does: the service manager
// comes from the plugins (JupyterLite's kernels and contents), not from a server.
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';
import { IServiceManager } from '@jupyterlab/services';
import { PluginRegistry } from '@lumino/coreutils';
import { otpLabKernelPlugin } from './kernel.js';

// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

async function main() {
  const [{ plugins, mimeExtensions }] = await Promise.all([import('./build/plugins.js'), import('./build/style.js')]);
  const disabled = new Set(JSON.parse(PageConfig.getOption('disabledExtensions') || '[]'));
  const active = [...plugins, otpLabKernelPlugin].filter(p => !disabled.has(p.id));
  const pluginRegistry = new PluginRegistry();
  pluginRegistry.registerPlugins(active);
  const serviceManager = await pluginRegistry.resolveRequiredService(IServiceManager);
  const lab = new JupyterLab({ pluginRegistry, mimeExtensions, serviceManager, availablePlugins: active });
  lab.name = 'OTP Lab';
  if (PageConfig.getOption('exposeAppInBrowser').toLowerCase() === 'true') {
    window.jupyterapp = lab;
  }
  await lab.start({ bubblingKeydown: true });
  await lab.restored;
}

window.addEventListener('load', () => {
  main().catch(err => {
    console.error('OTP Lab: the site failed to start', err);
    document.body.textContent =
      'OTP Lab failed to start: ' + err + '. Rebuild the site with `npm run build:site` and look at the browser ' +
      'console for the plugin that failed.';
  });
});
