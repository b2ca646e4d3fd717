// Whether tests also run their graphs on onnxruntime's WebGPU provider: wherever an adapter exists, a software one
// included (CI installs Mesa's lavapipe for this). IB_TEST_WEBGPU=0 turns it off, =1 makes a missing adapter an error.
import { machineAdapters } from '../src/runtime/engine/gpu-adapter.js';

export function webgpuForTests(): boolean {
  const want = process.env.IB_TEST_WEBGPU;
  if (want === '0') return false;
  const found = machineAdapters().length > 0;
  if (want === '1' && !found) throw new Error('IB_TEST_WEBGPU=1 but no WebGPU adapter here (on Debian: libvulkan1 and mesa-vulkan-drivers from bookworm-backports)');
  return found;
}
