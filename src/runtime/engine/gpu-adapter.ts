// Which WebGPU adapter onnxruntime's bundled WebGPU provider (Dawn) would get, found without starting Dawn: on Linux
// Dawn runs on Vulkan, so an adapter is a Vulkan driver (an ICD manifest) with a device it drives. onnxruntime-node
// exposes no adapter query, and starting Dawn to ask would load a second copy of it into the process.
// Software drivers (Mesa's lavapipe, SwiftShader) are adapters too, far slower than the CPU provider: `auto` never
// picks them, an explicit `webgpu` may (that is how CI checks the WebGPU path without a GPU).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface GpuAdapter {
  name: string;
  vendor: string;
  backend: 'vulkan' | 'd3d12' | 'metal';
  /** A driver that runs on the CPU (lavapipe): correct, but slower than the CPU provider. */
  software: boolean;
}

/** Vulkan ICD library names: the vendor each drives, or that it is a software rasterizer. */
const ICDS: { match: RegExp; vendor: string; pci?: string; software?: boolean; name?: string }[] = [
  { match: /nvidia/i, vendor: 'NVIDIA', pci: '0x10de' },
  { match: /radeon|amdvlk|amdgpu/i, vendor: 'AMD', pci: '0x1002' },
  { match: /intel/i, vendor: 'Intel', pci: '0x8086' },
  { match: /lvp/i, vendor: 'Mesa', software: true, name: 'llvmpipe (lavapipe)' },
  { match: /swiftshader/i, vendor: 'Google', software: true, name: 'SwiftShader' },
];

const read = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The ICD manifests the Vulkan loader would read (its override variables first, as it does). */
function icdManifests(env: NodeJS.ProcessEnv, root: string): string[] {
  const override = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  if (override) return override.split(path.delimiter).filter(Boolean);
  const dataHome = env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local/share');
  const dirs = [...['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'].map((d) => path.join(root, d)), path.join(dataHome, 'vulkan/icd.d')];
  return dirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.json')).map((f) => path.join(d, f)) : []));
}

function icdLibraries(env: NodeJS.ProcessEnv, root: string): string[] {
  return icdManifests(env, root).flatMap((f) => {
    try {
      const lib = (JSON.parse(read(f) ?? '{}') as { ICD?: { library_path?: string } }).ICD?.library_path;
      return lib ? [path.basename(lib)] : [];
    } catch {
      return [];
    }
  });
}

/** Display-class PCI devices: [vendor id, device id, name]. NVIDIA's driver names its GPUs in /proc. */
function displayDevices(fsRoot: string): { vendor: string; device: string; name?: string }[] {
  const root = path.join(fsRoot, 'sys/bus/pci/devices');
  if (!fs.existsSync(root)) return [];
  const nvidiaNames = (() => {
    const dir = path.join(fsRoot, 'proc/driver/nvidia/gpus');
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).map((g) => /^Model:\s*(.+)$/m.exec(read(path.join(dir, g, 'information')) ?? '')?.[1]?.trim()).filter((x): x is string => !!x);
  })();
  let nvidia = 0;
  return fs.readdirSync(root).flatMap((d) => {
    const cls = read(path.join(root, d, 'class'))?.trim() ?? '';
    if (!cls.startsWith('0x03')) return [];
    const vendor = read(path.join(root, d, 'vendor'))?.trim() ?? '';
    const device = read(path.join(root, d, 'device'))?.trim() ?? '';
    return [{ vendor, device, name: vendor === '0x10de' ? nvidiaNames[nvidia++] : undefined }];
  });
}

/** Whether Vulkan's loader library is installed (Dawn needs it on Linux; onnxruntime-node does not ship it). */
function vulkanLoader(env: NodeJS.ProcessEnv, root: string): boolean {
  const system = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'].map((d) => path.join(root, d));
  const dirs = [...system, ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean)];
  return dirs.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}

/**
 * The WebGPU adapters this machine offers (`root`: where the file system is, for tests), hardware first (Dawn prefers them). Linux: Vulkan drivers with a device;
 * Windows and macOS: their one system backend, assumed present (D3D12 and Metal ship with the OS).
 */
export function webgpuAdapters(o: { env?: NodeJS.ProcessEnv; platform?: NodeJS.Platform; root?: string } = {}): GpuAdapter[] {
  const { env = process.env, platform = process.platform, root = '/' } = o;
  if (platform === 'win32') return [{ name: 'default adapter', vendor: 'unknown', backend: 'd3d12', software: false }];
  if (platform === 'darwin') return [{ name: 'default adapter', vendor: 'Apple', backend: 'metal', software: false }];
  if (platform !== 'linux' || !vulkanLoader(env, root)) return [];
  const libs = icdLibraries(env, root);
  const known = (lib: string) => ICDS.find((i) => i.match.test(lib));
  const hardware: GpuAdapter[] = [];
  for (const dev of displayDevices(root)) {
    const icd = ICDS.find((i) => i.pci === dev.vendor && libs.some((l) => i.match.test(l)));
    if (icd) hardware.push({ name: dev.name ?? `${icd.vendor} GPU ${dev.device}`, vendor: icd.vendor, backend: 'vulkan', software: false });
  }
  const software = libs.map(known).filter((i) => i?.software).map((i) => ({ name: i!.name!, vendor: i!.vendor, backend: 'vulkan' as const, software: true }));
  return [...hardware, ...software];
}

let cached: GpuAdapter[] | undefined;
/** webgpuAdapters(), looked up once per process. */
export function machineAdapters(): GpuAdapter[] {
  return (cached ??= webgpuAdapters());
}

export const describeAdapter = (a: GpuAdapter) => `${a.name} (${a.vendor}, ${a.backend}${a.software ? ', software' : ''})`;
