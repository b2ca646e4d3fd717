// Entry point: styles, the API client for the server that served this page, and the editor.
import '@comfyorg/litegraph/style.css';
import './style.css';
import { ApiClient } from './api.js';
import { Editor } from './app.js';

// The page may be served under a prefix; the API lives beside it.
const base = location.pathname.replace(/\/[^/]*$/, '');
const editor = new Editor(new ApiClient(base));
// A handle for debugging from the console and for the browser tests (like ComfyUI's window.app).
(window as unknown as { instructbooth: Editor }).instructbooth = editor;
editor
  .start()
  .then(() => document.body.classList.add('ready'))
  .catch((e) => {
    console.error(e);
    document.body.classList.add('ready', 'failed');
  });
