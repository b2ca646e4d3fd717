// A node's widgets_values read against its /object_info entry, with ComfyUI's frontend rules: positional over the
// widget inputs (a seed's control value and an upload button's value follow their input when present), or keyed by
// widget name. The conversion takes the values; the editor's loader also restores each seed's control. Browser-safe.
import { type InputSchema, UPLOAD_WIDGET_VALUE, hasControlAfterGenerate, hasImageUpload, isControlValue, widgetInputsOf } from './input-schema.js';
import type { ObjectInfoEntry } from './object-info.js';
import { isPlainObject } from './workflow-ui.js';

export interface StoredWidget {
  input: InputSchema;
  value: unknown;
  /** A seed's control after generate (positional values only): the stored one, else 'fixed', so that an older file,
   * or one written by hand, keeps its seed. */
  control?: string;
}

/** The widgets whose values `widgetsValues` holds, in widget order; widgets past its end are left out. */
export function storedWidgets(entry: ObjectInfoEntry, widgetsValues: unknown): StoredWidget[] {
  const inputs = widgetInputsOf(entry);
  if (isPlainObject(widgetsValues)) return inputs.filter((i) => Object.hasOwn(widgetsValues, i.name)).map((input) => ({ input, value: widgetsValues[input.name] }));
  if (!Array.isArray(widgetsValues)) return [];
  const wv = widgetsValues;
  const out: StoredWidget[] = [];
  let i = 0;
  for (const input of inputs) {
    if (i >= wv.length) break;
    const stored: StoredWidget = { input, value: wv[i++] };
    if (hasControlAfterGenerate(input)) stored.control = isControlValue(wv[i]) ? String(wv[i++]) : 'fixed';
    else if (hasImageUpload(input) && wv[i] === UPLOAD_WIDGET_VALUE) i++;
    out.push(stored);
  }
  return out;
}
