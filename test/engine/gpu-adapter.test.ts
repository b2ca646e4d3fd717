// Finding WebGPU adapters from the Vulkan drivers and display devices a machine has (a fake file system here), and
// 'auto' never choosing a software one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { webgpuAdapters } from '../../src/runtime/engine/gpu-adapter.js';

function machine(o: { icds?: string[]; gpus?: { vendor: string; device: string; cls?: string }[]; nvidiaModel?: string; loader?: boolean }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ib-gpu-'));
  const put = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  if (o.loader !== false) put('usr/lib/x86_64-linux-gnu/libvulkan.so.1', '');
  for (const lib of o.icds ?? []) put(`usr/share/vulkan/icd.d/${lib}.json`, JSON.stringify({ ICD: { library_path: lib } }));
  (o.gpus ?? []).forEach((g, i) => {
    put(`sys/bus/pci/devices/0000:0${i}:00.0/class`, `${g.cls ?? '0x030200'}\n`);
    put(`sys/bus/pci/devices/0000:0${i}:00.0/vendor`, `${g.vendor}\n`);
    put(`sys/bus/pci/devices/0000:0${i}:00.0/device`, `${g.device}\n`);
  });
  if (o.nvidiaModel) put('proc/driver/nvidia/gpus/0000:00:00.0/information', `Model: \t\t ${o.nvidiaModel}\nIRQ: 1\n`);
  return root;
}
const adapters = (root: string) => webgpuAdapters({ root, env: { XDG_DATA_HOME: path.join(root, 'none') }, platform: 'linux' });

test('a GPU with its vendor\'s Vulkan driver is a hardware adapter, named as its driver names it', () => {
  const root = machine({ icds: ['libGLX_nvidia.so.0', 'libvulkan_lvp.so', 'libvulkan_radeon.so'], gpus: [{ vendor: '0x10de', device: '0x2330' }], nvidiaModel: 'NVIDIA H100 80GB HBM3' });
  assert.deepEqual(adapters(root), [
    { name: 'NVIDIA H100 80GB HBM3', vendor: 'NVIDIA', backend: 'vulkan', software: false },
    { name: 'llvmpipe (lavapipe)', vendor: 'Mesa', backend: 'vulkan', software: true },
  ]);
});

test('drivers without their device, devices without their driver, and non-display devices are no adapters', () => {
  // Mesa installs the Intel and AMD drivers everywhere; an NVIDIA GPU without its Vulkan driver (a container
  // without graphics capability) gives Dawn nothing.
  const root = machine({ icds: ['libvulkan_intel.so', 'libvulkan_radeon.so', 'libvulkan_lvp.so'], gpus: [{ vendor: '0x10de', device: '0x2330' }, { vendor: '0x8086', device: '0x1234', cls: '0x020000' }] });
  assert.deepEqual(adapters(root).map((a) => a.name), ['llvmpipe (lavapipe)']);
  const amd = machine({ icds: ['libvulkan_radeon.so'], gpus: [{ vendor: '0x1002', device: '0x73bf' }] });
  assert.deepEqual(adapters(amd), [{ name: 'AMD GPU 0x73bf', vendor: 'AMD', backend: 'vulkan', software: false }]);
});

test('without the Vulkan loader there is no adapter at all; Windows and macOS use their system backend', () => {
  assert.deepEqual(adapters(machine({ icds: ['libvulkan_lvp.so'], loader: false })), []);
  assert.equal(webgpuAdapters({ platform: 'win32' })[0].backend, 'd3d12');
  assert.equal(webgpuAdapters({ platform: 'darwin' })[0].backend, 'metal');
});

test('VK_DRIVER_FILES overrides the driver folders, as the Vulkan loader does', () => {
  const root = machine({ icds: ['libvulkan_lvp.so'], gpus: [{ vendor: '0x1002', device: '0x73bf' }] });
  const radeon = path.join(root, 'radeon.json');
  fs.writeFileSync(radeon, JSON.stringify({ ICD: { library_path: '/opt/libvulkan_radeon.so' } }));
  assert.deepEqual(webgpuAdapters({ root, platform: 'linux', env: { VK_DRIVER_FILES: radeon } }).map((a) => a.vendor), ['AMD']);
});
