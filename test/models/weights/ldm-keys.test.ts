import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffusersToLdm, fromLdmShape, isLdmBookkeeping, ldmEmaKey, ldmToDiffusers, toLdmShape } from '../../../src/runtime/models/weights/ldm-keys.js';
import { COMPONENTS, componentShapes, SD15, type ComponentName } from '../../../src/runtime/models/weights/sd15-layout.js';
import { TINY } from './fakes.js';

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

test('the SD1.5 tables have the real tensor and parameter counts', () => {
  const counts = Object.fromEntries(COMPONENTS.map((c) => {
    const t = componentShapes(c);
    return [c, [t.size, [...t.values()].reduce((n, s) => n + numel(s), 0)]];
  }));
  assert.deepEqual(counts, {
    unet: [686, 859_520_964],
    vae: [248, 83_653_863],
    text_encoder: [196, 123_060_480],
  });
});

test('shapes derived by rule match SD1.5 where the skip widths and GEGLU make them non-obvious', () => {
  const u = componentShapes('unet');
  assert.deepEqual(u.get('up_blocks.0.resnets.0.conv1.weight'), [1280, 2560, 3, 3]);
  assert.deepEqual(u.get('up_blocks.1.resnets.2.conv1.weight'), [1280, 1920, 3, 3]);
  assert.deepEqual(u.get('up_blocks.2.resnets.0.conv_shortcut.weight'), [640, 1920, 1, 1]);
  assert.deepEqual(u.get('up_blocks.3.resnets.0.conv1.weight'), [320, 960, 3, 3]);
  assert.deepEqual(u.get('up_blocks.3.resnets.2.conv1.weight'), [320, 640, 3, 3]);
  assert.deepEqual(u.get('down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight'), [2560, 320]);
  assert.deepEqual(u.get('down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight'), [320, 768]);
  assert.equal(u.get('down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.bias'), undefined);
  assert.deepEqual(u.get('time_embedding.linear_1.weight'), [1280, 320]);
  assert.equal(u.has('down_blocks.0.resnets.0.conv_shortcut.weight'), false);
  assert.equal(u.has('down_blocks.3.downsamplers.0.conv.weight'), false);
  assert.equal(u.has('up_blocks.3.upsamplers.0.conv.weight'), false);
  const v = componentShapes('vae');
  assert.deepEqual(v.get('encoder.mid_block.attentions.0.to_q.weight'), [512, 512]);
  assert.deepEqual(v.get('decoder.up_blocks.3.resnets.0.conv_shortcut.weight'), [128, 256, 1, 1]);
  assert.deepEqual(v.get('encoder.conv_out.weight'), [8, 512, 3, 3]);
  assert.deepEqual(v.get('quant_conv.weight'), [8, 8, 1, 1]);
});

for (const [label, layout] of [['SD1.5', SD15], ['tiny', TINY]] as const) {
  test(`${label}: every diffusers key maps to one LDM key and back, for the full key sets`, () => {
    const all = new Set<string>();
    let total = 0;
    for (const c of COMPONENTS) {
      total += componentShapes(c, layout).size;
      for (const name of componentShapes(c, layout).keys()) {
        const key = diffusersToLdm(c, name, layout);
        assert.ok(!all.has(key), `${name} -> ${key} is taken twice`);
        all.add(key);
        assert.deepEqual(ldmToDiffusers(key, layout), { component: c, name }, `${key} maps back`);
      }
    }
    assert.equal(all.size, total);
  });
}

test('known LDM keys of v1-5-pruned-emaonly map to the right diffusers names', () => {
  const pairs: [string, ComponentName, string][] = [
    ['model.diffusion_model.input_blocks.0.0.weight', 'unet', 'conv_in.weight'],
    ['model.diffusion_model.time_embed.0.weight', 'unet', 'time_embedding.linear_1.weight'],
    ['model.diffusion_model.time_embed.2.bias', 'unet', 'time_embedding.linear_2.bias'],
    ['model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight', 'unet', 'down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight'],
    ['model.diffusion_model.input_blocks.2.0.in_layers.2.weight', 'unet', 'down_blocks.0.resnets.1.conv1.weight'],
    ['model.diffusion_model.input_blocks.3.0.op.weight', 'unet', 'down_blocks.0.downsamplers.0.conv.weight'],
    ['model.diffusion_model.input_blocks.4.0.skip_connection.weight', 'unet', 'down_blocks.1.resnets.0.conv_shortcut.weight'],
    ['model.diffusion_model.input_blocks.9.0.op.bias', 'unet', 'down_blocks.2.downsamplers.0.conv.bias'],
    ['model.diffusion_model.input_blocks.11.0.emb_layers.1.weight', 'unet', 'down_blocks.3.resnets.1.time_emb_proj.weight'],
    ['model.diffusion_model.middle_block.0.in_layers.0.weight', 'unet', 'mid_block.resnets.0.norm1.weight'],
    ['model.diffusion_model.middle_block.1.proj_in.weight', 'unet', 'mid_block.attentions.0.proj_in.weight'],
    ['model.diffusion_model.middle_block.2.out_layers.3.weight', 'unet', 'mid_block.resnets.1.conv2.weight'],
    ['model.diffusion_model.output_blocks.0.0.out_layers.0.bias', 'unet', 'up_blocks.0.resnets.0.norm2.bias'],
    ['model.diffusion_model.output_blocks.2.1.conv.weight', 'unet', 'up_blocks.0.upsamplers.0.conv.weight'],
    ['model.diffusion_model.output_blocks.5.2.conv.weight', 'unet', 'up_blocks.1.upsamplers.0.conv.weight'],
    ['model.diffusion_model.output_blocks.8.2.conv.bias', 'unet', 'up_blocks.2.upsamplers.0.conv.bias'],
    ['model.diffusion_model.output_blocks.3.1.norm.weight', 'unet', 'up_blocks.1.attentions.0.norm.weight'],
    ['model.diffusion_model.output_blocks.11.1.transformer_blocks.0.ff.net.0.proj.weight', 'unet', 'up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight'],
    ['model.diffusion_model.output_blocks.11.0.skip_connection.bias', 'unet', 'up_blocks.3.resnets.2.conv_shortcut.bias'],
    ['model.diffusion_model.out.0.weight', 'unet', 'conv_norm_out.weight'],
    ['model.diffusion_model.out.2.weight', 'unet', 'conv_out.weight'],
    ['first_stage_model.encoder.down.0.block.0.norm1.weight', 'vae', 'encoder.down_blocks.0.resnets.0.norm1.weight'],
    ['first_stage_model.encoder.down.1.block.0.nin_shortcut.weight', 'vae', 'encoder.down_blocks.1.resnets.0.conv_shortcut.weight'],
    ['first_stage_model.encoder.down.2.downsample.conv.weight', 'vae', 'encoder.down_blocks.2.downsamplers.0.conv.weight'],
    ['first_stage_model.encoder.mid.attn_1.q.weight', 'vae', 'encoder.mid_block.attentions.0.to_q.weight'],
    ['first_stage_model.encoder.mid.attn_1.proj_out.bias', 'vae', 'encoder.mid_block.attentions.0.to_out.0.bias'],
    ['first_stage_model.decoder.mid.attn_1.norm.weight', 'vae', 'decoder.mid_block.attentions.0.group_norm.weight'],
    ['first_stage_model.encoder.mid.block_2.conv1.weight', 'vae', 'encoder.mid_block.resnets.1.conv1.weight'],
    ['first_stage_model.encoder.norm_out.weight', 'vae', 'encoder.conv_norm_out.weight'],
    ['first_stage_model.decoder.up.0.block.0.nin_shortcut.weight', 'vae', 'decoder.up_blocks.3.resnets.0.conv_shortcut.weight'],
    ['first_stage_model.decoder.up.3.upsample.conv.weight', 'vae', 'decoder.up_blocks.0.upsamplers.0.conv.weight'],
    ['first_stage_model.decoder.up.1.block.2.conv2.bias', 'vae', 'decoder.up_blocks.2.resnets.2.conv2.bias'],
    ['first_stage_model.quant_conv.weight', 'vae', 'quant_conv.weight'],
    ['first_stage_model.post_quant_conv.bias', 'vae', 'post_quant_conv.bias'],
    ['cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight', 'text_encoder', 'text_model.encoder.layers.0.self_attn.q_proj.weight'],
    ['cond_stage_model.transformer.text_model.embeddings.token_embedding.weight', 'text_encoder', 'text_model.embeddings.token_embedding.weight'],
    ['cond_stage_model.transformer.text_model.final_layer_norm.bias', 'text_encoder', 'text_model.final_layer_norm.bias'],
  ];
  for (const [key, component, name] of pairs) {
    assert.deepEqual(ldmToDiffusers(key), { component, name }, key);
    assert.equal(diffusersToLdm(component, name), key, name);
  }
});

test('old text encoder keys without text_model. map one way', () => {
  assert.deepEqual(ldmToDiffusers('cond_stage_model.transformer.embeddings.token_embedding.weight'),
    { component: 'text_encoder', name: 'text_model.embeddings.token_embedding.weight' });
  assert.deepEqual(ldmToDiffusers('cond_stage_model.transformer.encoder.layers.11.mlp.fc2.bias'),
    { component: 'text_encoder', name: 'text_model.encoder.layers.11.mlp.fc2.bias' });
  assert.deepEqual(ldmToDiffusers('cond_stage_model.transformer.final_layer_norm.weight'),
    { component: 'text_encoder', name: 'text_model.final_layer_norm.weight' });
});

test('keys outside the layout map to nothing, and diffusers names outside it are refused by name', () => {
  for (const key of [
    'alphas_cumprod', 'model_ema.decay', 'model_ema.diffusion_modelinput_blocks00weight',
    'model.diffusion_model.input_blocks.12.0.op.weight', // the last level has no downsampler
    'model.diffusion_model.input_blocks.10.1.norm.weight', // nor attention
    'model.diffusion_model.output_blocks.1.1.conv.weight', // upsamplers only after the last resnet of a level
    'model.diffusion_model.output_blocks.11.2.conv.weight', // and not at the top level
    'model.diffusion_model.output_blocks.12.0.in_layers.0.weight',
    'model.diffusion_model.middle_block.3.in_layers.0.weight',
    'model.diffusion_model.input_blocks.1.0.in_layers.1.weight',
    'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn3.to_q.weight',
    'first_stage_model.decoder.up.0.upsample.conv.weight',
    'first_stage_model.encoder.down.3.downsample.conv.weight',
    'first_stage_model.encoder.mid.attn_1.o.weight',
    'cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight',
  ]) assert.equal(ldmToDiffusers(key), undefined, key);
  assert.throws(() => diffusersToLdm('unet', 'down_blocks.3.attentions.0.norm.weight'), /no LDM key for unet parameter "down_blocks\.3\.attentions\.0\.norm\.weight"/);
  assert.throws(() => diffusersToLdm('unet', 'up_blocks.3.upsamplers.0.conv.weight'), /up_blocks\.3\.upsamplers/);
  assert.throws(() => diffusersToLdm('vae', 'encoder.mid_block.attentions.0.query.weight'), /query/);
  assert.throws(() => diffusersToLdm('text_encoder', 'embeddings.token_embedding.weight'), /text_encoder/);
});

test('VAE attention projections are 1x1 convs in LDM files and Linear in diffusers', () => {
  const n = 'encoder.mid_block.attentions.0.to_q.weight';
  assert.deepEqual(toLdmShape('vae', n, [512, 512]), [512, 512, 1, 1]);
  assert.deepEqual(fromLdmShape('vae', n, [512, 512, 1, 1]), [512, 512]);
  assert.deepEqual(fromLdmShape('vae', 'encoder.mid_block.attentions.0.to_q.bias', [512]), [512]);
  assert.deepEqual(toLdmShape('vae', 'quant_conv.weight', [8, 8, 1, 1]), [8, 8, 1, 1]);
  assert.deepEqual(fromLdmShape('unet', 'mid_block.attentions.0.proj_in.weight', [1280, 1280, 1, 1]), [1280, 1280, 1, 1]);
});

test('bookkeeping keys and EMA names', () => {
  assert.ok(isLdmBookkeeping('alphas_cumprod'));
  assert.ok(isLdmBookkeeping('model_ema.num_updates'));
  assert.ok(isLdmBookkeeping('cond_stage_model.transformer.text_model.embeddings.position_ids'));
  assert.ok(!isLdmBookkeeping('model.diffusion_model.out.0.weight'));
  assert.equal(ldmEmaKey('model.diffusion_model.input_blocks.1.1.proj_in.weight'), 'model_ema.diffusion_modelinput_blocks11proj_inweight');
});
