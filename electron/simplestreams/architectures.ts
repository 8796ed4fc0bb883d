/**
 * LXD's architecture names, as in LXD 5.0.2 shared/osarch/architectures.go:
 * simplestreams products name architectures the Debian way (amd64, arm64)
 * and LXD shows its own kernel names (x86_64, aarch64).
 */

/** Kernel name → the other names LXD accepts for it. */
const ALIASES: Record<string, readonly string[]> = {
  i686: ['i386', 'i586', '386', 'x86', 'generic_32'],
  x86_64: ['amd64', 'generic_64'],
  armv6l: ['armel', 'arm'],
  armv7l: ['armhf', 'armhfp', 'armv7a_hardfp', 'armv7', 'armv7a_vfpv3_hardfp'],
  armv8l: [],
  aarch64: ['arm64', 'arm64_generic'],
  ppc: ['powerpc'],
  ppc64: ['powerpc64', 'ppc64'],
  ppc64le: ['ppc64el'],
  s390x: [],
  mips: ['mipsel'],
  mips64: ['mips64el'],
  riscv32: [],
  riscv64: [],
};

/** 32-bit architectures a 64-bit host also runs (architectureSupportedPersonalities). */
const PERSONALITIES: Record<string, readonly string[]> = {
  x86_64: ['i686'],
  armv7l: ['armv6l'],
  armv8l: ['armv6l', 'armv7l'],
  aarch64: ['armv6l', 'armv7l', 'armv8l'],
  ppc64: ['ppc'],
  mips64: ['mips'],
};

const KERNEL_NAME = new Map<string, string>();
for (const [name, aliases] of Object.entries(ALIASES)) {
  KERNEL_NAME.set(name, name);
  for (const alias of aliases) if (!KERNEL_NAME.has(alias)) KERNEL_NAME.set(alias, name);
}

/** LXD's name for any accepted spelling (amd64 → x86_64); undefined when LXD does not know it. */
export function architectureName(name: string): string | undefined {
  return KERNEL_NAME.get(name);
}

/** The architectures a host runs besides its own, by LXD's name. */
export function architecturePersonalities(host: string): readonly string[] {
  const name = architectureName(host);
  return name === undefined ? [] : (PERSONALITIES[name] ?? []);
}

/** Every name LXD knows for an architecture, its own names first. */
export const KNOWN_ARCHITECTURES: readonly string[] = [
  ...Object.keys(ALIASES),
  ...Object.values(ALIASES).flat(),
];
