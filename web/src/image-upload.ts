// An image-upload combo's button: pick a file, POST it to /upload/image, and select it in the combo.
import type { LGraphCanvas, LGraphNode } from '@comfyorg/litegraph';
import type { ApiClient } from './api.js';
import { toast } from './toast.js';

type Widget = NonNullable<LGraphNode['widgets']>[number];

export function uploadInto(api: ApiClient, canvas: LGraphCanvas, combo: Widget): void {
  const input = document.createElement('input');
  input.type = 'file';
  input.accept = 'image/png,image/jpeg,image/webp';
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (!file) return;
    try {
      const ref = await api.uploadImage(file);
      const name = ref.subfolder ? `${ref.subfolder}/${ref.name}` : ref.name;
      const values = (combo.options as { values?: string[] }).values;
      if (Array.isArray(values) && !values.includes(name)) values.push(name);
      combo.value = name as never;
      canvas.setDirty(true, true);
      toast(`Uploaded ${name}`, 'success');
    } catch (e) {
      toast(`Upload failed: ${(e as Error).message}`, 'error');
    }
  });
  input.click();
}
