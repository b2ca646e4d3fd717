// The generated world InstructBooth's embedded model is trained and judged in: scenes, their renders and captions,
// subjects with reference images, prompt sets, and the oracle that reads attributes back from pixels.
export * from './attributes.js';
export { type Scene, type SceneJitter, NO_JITTER, scene } from './scene.js';
export { type Layout, layoutScene } from './layout.js';
export { renderSceneData, renderScenes } from './render.js';
export { accessoryColorsFor, sampleScene, sampleJitter } from './sample.js';
export {
  ACCESSORY_NOUNS,
  ACTIVITY_PHRASES,
  ACTIVITY_WORDINGS,
  COMPANION_PHRASES,
  COMPANION_WORDINGS,
  CONTEXT_PHRASES,
  CONTEXT_WORDINGS,
  POSITION_PHRASES,
  POSITION_WORDINGS,
  withAccessoryColor,
} from './wordings.js';
export { type CaptionOptions, type ParsedPrompt, type Requirement, caption, captionVariant, parsePrompt, promptWords, worldVocabulary } from './grammar.js';
export { SUBJECTS, type Subject, sampleSubjectScene, subjectById, subjectReferenceScenes, subjectReferences } from './subjects.js';
export { type EvalPrompt, type SubjectPrompts, allSubjectPrompts, BASE_EVAL_SEED, baseEvaluationCaptions, baseTrainingCaptions, baseTrainingExamples, promptSetOptions, subjectPrompts } from './prompts.js';
export { type Degradation, TYPICAL_DEGRADATION, degrade } from './degrade.js';
export { WorldOracle } from './oracle/oracle.js';
export { type AlignmentResult, alignment, CORE_ATTRIBUTES, matchesCore, satisfiedByRequirement } from './oracle/alignment.js';
export { type IdentityCheck, markingSignature, subjectIdentity } from './oracle/identity.js';
export { type SceneReading, describeReading, readScene, readScenes } from './oracle/read-scene.js';
