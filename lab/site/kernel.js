// The static site's kernel, on the page's side: a JupyterLite kernel named `otp-lab` (the lessons' kernelspec)
// whose work is done by a Web Worker running OTP Lab's kernel (kernel/browser/worker.ts, bundled with the app).
// This file turns Jupyter messages into worker requests and the worker's outputs back into Jupyter messages.
//
// Interrupt: JupyterLite's kernel client only cancels the queued cells, so the plugin wraps its `interrupt` to
// reach the kernel. When the page is cross-origin isolated (served with COOP/COEP headers: `otp-lab site serve`
// sends them), the kernel sets a flag in a SharedArrayBuffer and the worker stops the cell at its next step; if
// the cell is still running 2 s later (a loop that never awaits), or without SharedArrayBuffer at once, the
// worker is replaced by a new one and the cell ends with an error saying that the kernel's state was lost.
import { BaseKernel, IKernelClient, IKernelSpecs } from '@jupyterlite/services';
import { PageConfig } from '@jupyterlab/coreutils';

const KERNEL_NAME = 'otp-lab';
const GRACE_MS = 2000;

export class OtpLabKernel extends BaseKernel {
  constructor(options) {
    super(options);
    this._pending = new Map();
    this._parents = new Map();
    this._nextId = 1;
    this._running = null;
    this._lastParent = undefined;
    this._ready = this._start();
  }

  get ready() {
    return this._ready;
  }

  /** The banner and whether the worker can be interrupted without a restart. */
  get info() {
    return this._info;
  }

  _start() {
    this._sab = typeof SharedArrayBuffer !== 'undefined' && globalThis.crossOriginIsolated ? new SharedArrayBuffer(4) : null;
    this._flag = this._sab ? new Int32Array(this._sab) : null;
    this._worker = new Worker(new URL('../../dist/kernel/browser/worker.js', import.meta.url), { name: 'otp-lab-kernel' });
    this._worker.onmessage = e => this._onMessage(e.data);
    this._worker.onerror = e => console.error('OTP Lab kernel worker:', e.message ?? e);
    return this._request({ type: 'init', interrupt: this._sab ?? undefined, typesUrl: PageConfig.getOption('fullStaticUrl') + '/otp-lab-types.json' }).then(info => {
      this._info = info;
    });
  }

  dispose() {
    if (this.isDisposed) return;
    this._worker?.terminate();
    super.dispose();
  }

  _request(message) {
    const id = this._nextId++;
    this._parents.set(id, this.parentHeader);
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject, type: message.type });
      this._worker.postMessage({ ...message, id });
    });
  }

  _onMessage(msg) {
    if (msg.type === 'reply') {
      const p = this._pending.get(msg.id);
      this._pending.delete(msg.id);
      p?.resolve(msg.content);
      return;
    }
    if (msg.type !== 'output') return;
    const parent = this._parents.get(msg.parent) ?? this._lastParent;
    switch (msg.kind) {
      case 'stream':
        this.stream({ name: msg.name, text: msg.text }, parent);
        break;
      case 'display_data':
        this.displayData({ data: msg.data, metadata: msg.metadata, transient: msg.transient }, parent);
        break;
      case 'update_display_data':
        this.updateDisplayData({ data: msg.data, metadata: msg.metadata, transient: msg.transient }, parent);
        break;
      case 'clear_output':
        this.clearOutput({ wait: msg.wait }, parent);
        break;
      case 'execute_result':
        this.publishExecuteResult({ execution_count: this.executionCount, data: msg.data, metadata: msg.metadata }, parent);
        break;
      case 'error':
        this.publishExecuteError(msg.content, parent);
        break;
      case 'comm':
        this.handleComm(msg.msgType, msg.content, msg.metadata, msg.buffers ?? [], parent);
        break;
    }
  }

  async kernelInfoRequest() {
    await this.ready;
    return {
      implementation: 'otp-lab',
      implementation_version: '0.1.0',
      language_info: {
        name: 'typescript',
        version: '5.9',
        mimetype: 'text/typescript',
        file_extension: '.ts',
        codemirror_mode: { name: 'javascript', typescript: true },
      },
      protocol_version: '5.3',
      status: 'ok',
      banner: this._info?.banner ?? 'OTP Lab',
    };
  }

  async executeRequest(content) {
    this._lastParent = this.parentHeader;
    const run = this._request({ type: 'execute', code: content.code, silent: content.silent, storeHistory: content.store_history });
    this._running = run;
    try {
      return await run;
    } finally {
      if (this._running === run) this._running = null;
    }
  }

  /** Stops the running cell (see the top of this file). */
  interrupt() {
    if (!this._running) return;
    const running = this._running;
    if (this._flag) {
      Atomics.store(this._flag, 0, 1);
      setTimeout(() => {
        if (this._running === running) this._restartWorker('the cell did not stop at an await or a process step within 2 s');
      }, GRACE_MS);
    } else {
      this._restartWorker('this page is not cross-origin isolated (no SharedArrayBuffer), so a running cell cannot be stopped in place');
    }
  }

  _restartWorker(why) {
    this._worker.terminate();
    const content = {
      status: 'error',
      ename: 'KernelRestarted',
      evalue:
        `Interrupted by restarting the browser kernel: ${why}. Every name and process of earlier cells is gone: ` +
        'run the notebook again from the top. Serve the site with the COOP/COEP headers (`npx otp-lab site serve` does) ' +
        'so that an interrupt can stop a cell at its next await without a restart.',
      traceback: [],
    };
    for (const [id, p] of this._pending) {
      if (p.type === 'execute') {
        this.publishExecuteError(content, this._parents.get(id));
        p.resolve({ ...content, execution_count: this.executionCount });
      } else p.resolve({ status: 'error', ename: 'KernelRestarted', evalue: content.evalue, traceback: [] });
    }
    this._pending.clear();
    this._running = null;
    this._ready = this._start();
  }

  async completeRequest(content) {
    return this._request({ type: 'complete', code: content.code, cursor: content.cursor_pos });
  }

  async inspectRequest(content) {
    return this._request({ type: 'inspect', code: content.code, cursor: content.cursor_pos, detail: content.detail_level });
  }

  async isCompleteRequest(content) {
    return this._request({ type: 'is_complete', code: content.code });
  }

  async commInfoRequest(content) {
    return this._request({ type: 'comm_info', target: content.target_name });
  }

  inputReply() {
    // input() is not offered by the browser kernel: the worker cannot block on the page (see README).
  }

  async commOpen(msg) {
    await this._comm('comm_open', msg);
  }

  async commMsg(msg) {
    await this._comm('comm_msg', msg);
  }

  async commClose(msg) {
    await this._comm('comm_close', msg);
  }

  _comm(msgType, msg) {
    const buffers = (msg.buffers ?? []).map(b => (b instanceof ArrayBuffer ? new Uint8Array(b) : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b));
    return this._request({ type: 'comm', msgType, content: msg.content, metadata: msg.metadata ?? {}, buffers, header: msg.header });
  }
}

const kernels = new Map();

export const otpLabKernelPlugin = {
  id: 'otp-lab:browser-kernel',
  description: 'OTP Lab: the otp-lab kernel, in a Web Worker.',
  autoStart: true,
  requires: [IKernelSpecs, IKernelClient],
  activate: (app, kernelSpecs, kernelClient) => {
    kernelSpecs.register({
      spec: {
        name: KERNEL_NAME,
        display_name: 'TypeScript (OTP Lab)',
        language: 'typescript',
        argv: [],
        // build-site.mjs writes the kernel's logo beside the bundle.
        resources: { 'logo-svg': PageConfig.getOption('fullStaticUrl') + '/otp-lab-logo.svg' },
      },
      create: async options => {
        const kernel = new OtpLabKernel(options);
        kernels.set(kernel.id, kernel);
        kernel.disposed.connect(() => kernels.delete(kernel.id));
        return kernel;
      },
    });
    // JupyterLite's client cancels only the queued cells on interrupt; the kernel stops the running one.
    const interrupt = kernelClient.interrupt.bind(kernelClient);
    kernelClient.interrupt = async kernelId => {
      kernels.get(kernelId)?.interrupt();
      return interrupt(kernelId);
    };
  },
};
