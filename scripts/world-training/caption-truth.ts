// Whether a caption is true of a scene, from the scene's ground truth: what contrastive training counts as a positive
// pair. An under-specified caption ("a star") is true of many images in a batch, not only of its own.
import { type ParsedPrompt, type Scene, parsePrompt } from '../../src/runtime/world/index.js';

const parsed = new Map<string, ParsedPrompt>();

/** Every attribute the caption names holds, and its identifier (if any) is `identity` (the subject's, or ''). */
export function captionHolds(text: string, scene: Scene, identity = ''): boolean {
  let p = parsed.get(text);
  if (!p) parsed.set(text, (p = parsePrompt(text)));
  if (p.identifiers.some((w) => w !== identity)) return false;
  return p.requirements.every((r) => {
    switch (r.attribute) {
      case 'class': return scene.objectClass === r.value;
      case 'body': return scene.body === r.value;
      default: return (scene as unknown as Record<string, unknown>)[r.attribute] === r.value;
    }
  });
}
